/* SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"
#include "settings.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every shared option is either a setting (applied to the policy, over
 * the config file and env), a fact about the connection (the request:
 * domain, MX, route, reference, IP), or --conf / --json. The settings'
 * options come from the settings table, under the same names everywhere. */
enum kind { KIND_SETTING, KIND_REQUEST, KIND_CONF, KIND_JSON };

typedef struct {
    const char *option;
    int has_arg;
    enum kind kind;
    const char *key; /* the config key or request key */
} shared_option;

#define MAX_SHARED 48
#define OPT_BASE   0x100 /* getopt values above any short option */

static shared_option table[MAX_SHARED];
static size_t noptions;

static void build_table(void)
{
    if (noptions)
        return;
    const mxv_setting *rows = mxv_setting_rows();
    for (size_t i = 0; i < mxv_setting_count() && noptions < MAX_SHARED - 3; i++)
        table[noptions++] = (shared_option){
            rows[i].option, (rows[i].flags & MXV_SETTING_FLAG) ? no_argument : required_argument,
            (rows[i].flags & MXV_SETTING_FACT) ? KIND_REQUEST : KIND_SETTING, rows[i].key};
    table[noptions++] = (shared_option){"ip", required_argument, KIND_REQUEST, "ip"};
    table[noptions++] = (shared_option){"conf", required_argument, KIND_CONF, NULL};
    table[noptions++] = (shared_option){"json", no_argument, KIND_JSON, NULL};
}

size_t cli_options(struct option *out, size_t room)
{
    build_table();
    size_t n = 0;
    for (; n < noptions && n < room; n++)
        out[n] = (struct option){table[n].option, table[n].has_arg, NULL, OPT_BASE + (int)n};
    return n;
}

bool cli_option_is(int opt, const char *name)
{
    return opt >= OPT_BASE && opt < OPT_BASE + (int)noptions &&
           strcmp(table[opt - OPT_BASE].option, name) == 0;
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mxverify: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

bool cli_color(void)
{
    const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");
    return isatty(1) && !(no_color && *no_color) && !(term && strcmp(term, "dumb") == 0);
}

/* Does `own` name the option --NAME ("--NAME" alone or before a blank)? */
static bool own_option(const char *const own[][2], const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; own && own[i][0]; i++)
        if (strncmp(own[i][0], "--", 2) == 0 && strncmp(own[i][0] + 2, name, len) == 0 &&
            (own[i][0][len + 2] == '\0' || own[i][0][len + 2] == ' '))
            return true;
    return false;
}

void cli_help(const char *synopsis, const char *const own[][2], bool facts)
{
    fputs(synopsis, stdout);
    if (own && own[0][0]) {
        fputs("\nOptions:\n", stdout);
        for (size_t i = 0; own[i][0]; i++)
            if (own[i][1])
                printf("  %-24s %s\n", own[i][0], own[i][1]);
    }
    fputs("\nSettings (also keys of the configuration file and MXVERIFY_* variables;\n"
          "see mxverify.conf(5)):\n",
          stdout);
    const mxv_setting *rows = mxv_setting_rows();
    for (size_t i = 0; i < mxv_setting_count(); i++) {
        if (own_option(own, rows[i].option))
            continue;
        char option[48];
        snprintf(option, sizeof(option), "--%s%s", rows[i].option,
                 (rows[i].flags & MXV_SETTING_FLAG) ? "" : " V");
        printf("  %-24s %s\n", option, rows[i].help);
    }
    printf("  %-24s %s\n", "--conf FILE",
           "the configuration file (default MXVERIFY_CONF, else /etc/mxverify.conf)");
    if (facts)
        printf("  %-24s %s\n  %-24s %s\n", "--ip IP", "the connected address (for PTR evidence)",
               "--json", "JSON output");
}

bool cli_take_option(cli_common *c, int opt, const char *arg, bool *error)
{
    if (opt < OPT_BASE || opt >= OPT_BASE + (int)noptions)
        return false;
    size_t i = (size_t)(opt - OPT_BASE);
    const char *value = table[i].has_arg == no_argument ? "1" : arg;
    char err[512];
    switch (table[i].kind) {
    case KIND_SETTING:
        if (c->nsettings == (int)(sizeof(c->settings) / sizeof(c->settings[0]))) {
            cli_error("too many options");
            *error = true;
        } else {
            c->settings[c->nsettings++] =
                (typeof(c->settings[0])){table[i].option, table[i].key, value};
        }
        break;
    case KIND_REQUEST:
        if (strcmp(table[i].key, "domain") == 0)
            c->has_domain = true;
        if (!mxv_request_set(c->request, table[i].key, value, err, sizeof(err))) {
            cli_error("--%s", err);
            *error = true;
        }
        break;
    case KIND_CONF:
        c->conf = value;
        break;
    case KIND_JSON:
        c->json = true;
        break;
    }
    return true;
}

mxv_policy *cli_load_policy(cli_common *c, const char *default_mode)
{
    char err[1024];
    mxv_policy *policy;
    if (c->conf) {
        policy = mxv_policy_new();
        if (policy && (!mxv_policy_load_file(policy, c->conf, err, sizeof(err)) ||
                       !mxv_policy_load_env(policy, err, sizeof(err)))) {
            mxv_policy_free(policy);
            policy = NULL;
        }
    } else {
        policy = mxv_policy_load_default(err, sizeof(err));
    }
    if (!policy) {
        cli_error("%s", err);
        return NULL;
    }
    for (int i = 0; i < c->nsettings; i++) {
        if (!mxv_policy_set(policy, c->settings[i].key, c->settings[i].value, err, sizeof(err))) {
            /* err is "key: why"; name the option the user typed instead. */
            const char *why = strchr(err, ':');
            cli_error("--%s%s", c->settings[i].option, why ? why : err);
            mxv_policy_free(policy);
            return NULL;
        }
    }
    /* A libunbound config or CA file that cannot be used is the user's
     * configuration error (exit 2), not a temporary DNS failure. */
    if (!mxv_policy_prepare(policy, err, sizeof(err))) {
        cli_error("%s", err);
        mxv_policy_free(policy);
        return NULL;
    }
    if (default_mode && !mxv_policy_set_default(policy, "mode", default_mode, err, sizeof(err))) {
        cli_error("%s", err);
        mxv_policy_free(policy);
        return NULL;
    }
    return policy;
}
