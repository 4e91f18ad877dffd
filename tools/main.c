/* SPDX-License-Identifier: Apache-2.0 */
/* mxverify: the command. One file per subcommand; this one dispatches. */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: mxverify COMMAND [OPTIONS]\n"
    "\n"
    "  explain   decide offline for a certificate chain and show why\n"
    "  check     probe the MX servers of a domain live and decide as a sender would\n"
    "  audit     check a server's own TLS setup the way strict senders see it\n"
    "  run       run an unmodified program with the policy (LD_PRELOAD shim)\n"
    "  sts       show (fetch, or read from the cache) a domain's MTA-STS policy\n"
    "  tlsrpt    write RFC 8460 TLS reports from JSON decision logs\n"
    "  version   print the version\n"
    "\n"
    "See mxverify(1); 'mxverify COMMAND --help' for a command's options.\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    /* A server that hangs up mid-write is an error to report, not a
     * reason to die (OpenSSL writes to sockets with plain write()). */
    signal(SIGPIPE, SIG_IGN);
    const char *cmd = argv[1];
    if (strcmp(cmd, "explain") == 0)
        return cmd_explain(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "audit") == 0)
        return cmd_audit(argc - 1, argv + 1);
    if (strcmp(cmd, "sts") == 0)
        return cmd_sts(argc - 1, argv + 1);
    if (strcmp(cmd, "tlsrpt") == 0)
        return cmd_tlsrpt(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("mxverify %s\n", mxv_version());
        return EXIT_VERIFIED;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage, stdout);
        return EXIT_VERIFIED;
    }
    cli_error("unknown command '%s'", cmd);
    fputs(usage, stderr);
    return EXIT_USAGE;
}
