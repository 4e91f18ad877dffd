/* `mxverify explain`: decide offline for a certificate chain on disk and
 * show why (interfaces.md). Exit 0 verified, 1 not, 2 usage, 3 DNS failure. */
#include "cli.h"

#include <errno.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: mxverify explain --cert CHAIN.pem --domain D [--mode M] [--mx H]... [--ip IP]\n"
    "                        [--route R]... [--reference N]... [--ca-file F] [--ca-path D]\n"
    "                        [--unbound-conf F] [--dnssec off|prefer|require]\n"
    "                        [--dns-timeout SECONDS] [--report-only] [--conf F] [--json]\n";

/* Leaf first, then the intermediates the server would send. */
static bool read_chain(const char *path, X509 **leaf, STACK_OF(X509) * *rest)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_error("--cert %s: %s", path, strerror(errno));
        return false;
    }
    *rest = sk_X509_new_null();
    X509 *cert;
    while ((cert = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        if (!*leaf)
            *leaf = cert;
        else
            sk_X509_push(*rest, cert);
    }
    fclose(f);
    if (!*leaf) {
        cli_error("--cert %s: no PEM certificate found", path);
        sk_X509_free(*rest);
        *rest = NULL;
        return false;
    }
    return true;
}

int cmd_explain(int argc, char **argv)
{
    struct option options[32];
    size_t n = cli_options(options, 29);
    options[n++] = (struct option){"cert", required_argument, NULL, 'c'};
    options[n++] = (struct option){"help", no_argument, NULL, 'h'};
    options[n] = (struct option){NULL, 0, NULL, 0};

    cli_common c = {.request = mxv_request_new()};
    const char *cert_path = NULL;
    bool error = false;
    int opt;
    optind = 1;
    while (!error && (opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
        if (opt == 'c')
            cert_path = optarg;
        else if (opt == 'h') {
            fputs(usage, stdout);
            mxv_request_free(c.request);
            return EXIT_VERIFIED;
        } else if (!cli_take_option(&c, opt, optarg, &error))
            error = true;
    }
    if (!error && optind < argc) {
        cli_error("explain: unexpected argument '%s'", argv[optind]);
        error = true;
    }
    if (!error && !cert_path) {
        cli_error("explain: --cert is required");
        error = true;
    }
    if (!error && !c.has_domain && !secure_getenv("MXVERIFY_DOMAIN")) {
        cli_error("explain: --domain is required (the recipient domain or address)");
        error = true;
    }
    mxv_policy *policy = error ? NULL : cli_load_policy(&c, "required-verify-hosted");
    X509 *leaf = NULL;
    STACK_OF(X509) *chain = NULL;
    int status = EXIT_USAGE;
    if (policy && read_chain(cert_path, &leaf, &chain)) {
        mxv_decision *d = mxv_decide(policy, c.request, leaf, chain);
        char *out = d ? mxv_decision_format(d, c.json ? MXV_FORMAT_JSON : MXV_FORMAT_TEXT) : NULL;
        if (!out) {
            cli_error("out of memory");
        } else {
            fputs(out, stdout);
            if (c.json)
                fputc('\n', stdout);
            status = mxv_decision_passed(d)      ? EXIT_VERIFIED
                     : mxv_decision_temporary(d) ? EXIT_TEMPORARY
                                                 : EXIT_NOT_VERIFIED;
        }
        mxv_free(out);
        mxv_decision_free(d);
    } else if (error) {
        fputs(usage, stderr);
    }
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    mxv_policy_free(policy);
    mxv_request_free(c.request);
    return status;
}
