/* mxverify: the command. One file per subcommand; this one dispatches. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const char usage[] = "usage: mxverify COMMAND [OPTIONS]\n"
                            "\n"
                            "  explain   decide offline for a certificate chain and show why\n"
                            "  version   print the version\n"
                            "\n"
                            "Planned, not in this version: run, check, audit.\n"
                            "See mxverify(1); 'mxverify explain --help' for its options.\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "explain") == 0)
        return cmd_explain(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("mxverify %s\n", mxv_version());
        return EXIT_VERIFIED;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage, stdout);
        return EXIT_VERIFIED;
    }
    if (strcmp(cmd, "run") == 0 || strcmp(cmd, "check") == 0 || strcmp(cmd, "audit") == 0) {
        cli_error("'%s' is not available in this version yet", cmd);
        return EXIT_USAGE;
    }
    cli_error("unknown command '%s'", cmd);
    fputs(usage, stderr);
    return EXIT_USAGE;
}
