/* SPDX-License-Identifier: Apache-2.0 */
/* cli: what every mxverify subcommand shares: exit codes, the settings
 * options (same names as the config keys), and loading the policy. */
#ifndef MXV_CLI_H
#define MXV_CLI_H

#include "mxverify.h"

#include <getopt.h>
#include <stdbool.h>

enum {
    EXIT_VERIFIED = 0,
    EXIT_NOT_VERIFIED = 1,
    EXIT_USAGE = 2,
    EXIT_TEMPORARY = 3,
};

/* Options that are settings: --mode, --domain, ... map to config keys. */
typedef struct {
    const char *conf;
    struct {
        const char *option, *key, *value;
    } settings[64];
    int nsettings;
    mxv_request *request;
    bool json;
    bool has_domain;
} cli_common;

/* Writes the shared long options into `out`; returns how many. */
size_t cli_options(struct option *out, size_t room);
/* Is `opt` (a value from cli_options) the shared option `name`? */
bool cli_option_is(int opt, const char *name);
/* Handles one shared option; false if `opt` is not one of them. */
bool cli_take_option(cli_common *c, int opt, const char *arg, bool *error);
/* Config (--conf, else MXVERIFY_CONF or /etc/mxverify.conf), env, options. */
mxv_policy *cli_load_policy(cli_common *c, const char *default_mode);
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Colour on standard output: a terminal, and neither NO_COLOR set
 * (no-color.org) nor TERM=dumb. */
bool cli_color(void);
/* A subcommand's --help on stdout: its synopsis, its own options (pairs
 * of "--option ARG" and what it does, ending with {NULL, NULL}), then the
 * settings every subcommand takes, described by the settings table, and
 * --conf; `facts`: also --ip and --json (explain, check, audit). A setting
 * named in `own` is not listed with the settings: with a description it is
 * the subcommand's own option of that name, with NULL one it does not take. */
void cli_help(const char *synopsis, const char *const own[][2], bool facts);

int cmd_explain(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_sts(int argc, char **argv);
int cmd_tlsrpt(int argc, char **argv);

#endif
