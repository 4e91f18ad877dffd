/* SPDX-License-Identifier: Apache-2.0 */
/* `mxverify explain`: decide offline for a certificate chain on disk and
 * show why (interfaces.md). Exit 0 verified, 1 not, 2 usage, 3 DNS failure. */
#include "cli.h"
#include "decision.h"
#include "policy.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
    "usage: mxverify explain --cert CHAIN.pem --domain D [--mode M] [--mx H]... [--ip IP]\n"
    "                        [--route R]... [--reference N]... [--ca-file F] [--ca-path D]\n"
    "                        [--unbound-conf F] [--dnssec off|prefer|require]\n"
    "                        [--dns-timeout SECONDS] [--report-only] [--conf F] [--json]\n"
    "                        [--dane off|on|require] [--tlsa \"USAGE SELECTOR MTYPE HEX\"]...\n"
    "                        [--mta-sts off|on|report] [--sts-policy FILE]\n";

#define CHAIN_FILE_MAX (1 << 20)

/* The bytes of the file given to --`option` (NUL-terminated), or NULL
 * after saying why (a directory, a device, over `max` bytes, unreadable). */
static unsigned char *slurp(const char *option, const char *path, long max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        cli_error("--%s %s: %s", option, path, strerror(errno));
        if (f)
            fclose(f);
        return NULL;
    }
    unsigned char *data = NULL;
    if (S_ISDIR(st.st_mode))
        cli_error("--%s %s: is a directory", option, path);
    else if (!S_ISREG(st.st_mode))
        cli_error("--%s %s: not a regular file", option, path);
    else if (st.st_size > max)
        cli_error("--%s %s: larger than it can be (%ld bytes at most)", option, path, max);
    else if ((data = malloc((size_t)st.st_size + 1))) {
        *len = fread(data, 1, (size_t)st.st_size, f);
        data[*len] = '\0';
    }
    fclose(f);
    return data;
}

static bool is_ca(X509 *cert)
{
    return X509_check_ca(cert) != 0;
}

/* Leaf first, then the intermediates the server would send, each PEM
 * block read and checked: a damaged or truncated block, a DER file, or a
 * chain whose first certificate is a CA while a later one is not is an
 * error that names the file and the block, never a chain quietly cut. */
static bool read_chain(const char *path, X509 **leaf, STACK_OF(X509) * *rest)
{
    size_t len = 0;
    unsigned char *data = slurp("cert", path, CHAIN_FILE_MAX, &len);
    if (!data)
        return false;
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    *rest = sk_X509_new_null();
    bool ok = bio && *rest;
    int block = 0;
    for (; ok; block++) {
        char *name = NULL, *header = NULL;
        unsigned char *der = NULL;
        long derlen = 0;
        ERR_clear_error();
        if (!PEM_read_bio(bio, &name, &header, &der, &derlen)) {
            unsigned long e = ERR_peek_last_error();
            if (ERR_GET_LIB(e) != ERR_LIB_PEM || ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
                cli_error("--cert %s: PEM block %d is damaged or truncated (%s)", path, block + 1,
                          ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "unreadable");
                ok = false;
            }
            break;
        }
        bool certificate = strcmp(name, PEM_STRING_X509) == 0 ||
                           strcmp(name, PEM_STRING_X509_OLD) == 0 ||
                           strcmp(name, PEM_STRING_X509_TRUSTED) == 0;
        const unsigned char *p = der;
        X509 *cert = !certificate                                 ? NULL
                     : strcmp(name, PEM_STRING_X509_TRUSTED) == 0 ? d2i_X509_AUX(NULL, &p, derlen)
                                                                  : d2i_X509(NULL, &p, derlen);
        if (certificate && (!cert || p != der + derlen)) {
            cli_error("--cert %s: PEM block %d (%s) is not a valid certificate", path, block + 1,
                      name);
            ok = false;
        } else if (cert && !*leaf) {
            *leaf = cert;
            cert = NULL;
        } else if (cert && !sk_X509_push(*rest, cert)) {
            ok = false;
        } else {
            cert = NULL; /* not a certificate block (a key): not part of the chain */
        }
        X509_free(cert);
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(der);
    }
    ERR_clear_error();
    if (ok && !*leaf) {
        const unsigned char *p = data;
        X509 *der = d2i_X509(NULL, &p, (long)len);
        cli_error("--cert %s: no PEM certificate found%s", path,
                  der ? " (the file is DER: convert it with openssl x509 -inform DER -in FILE "
                        "-out FILE.pem)"
                      : "");
        X509_free(der);
        ok = false;
    }
    /* The leaf comes first: a CA before a certificate that is not one is
     * a chain in the wrong order. */
    for (int i = 0; ok && is_ca(*leaf) && i < sk_X509_num(*rest); i++) {
        if (!is_ca(sk_X509_value(*rest, i))) {
            cli_error("--cert %s: certificate 1 is a CA and certificate %d is not: the server's "
                      "own certificate (the leaf) must come first",
                      path, i + 2);
            ok = false;
        }
    }
    BIO_free(bio);
    free(data);
    if (!ok) {
        X509_free(*leaf);
        *leaf = NULL;
        sk_X509_pop_free(*rest, X509_free);
        *rest = NULL;
    }
    return ok;
}

/* --tlsa: one record of the RRset at the first --mx, taken as secure. */
static bool take_tlsa(mxv_request *request, const char *text)
{
    char err[300];
    if (mxv_request_set(request, "tlsa", text, err, sizeof(err)))
        return true;
    cli_error("--%s", err);
    return false;
}

/* --sts-policy: the recipient domain's MTA-STS policy, as served. */
static bool take_sts_policy(mxv_request *request, const char *path)
{
    size_t len = 0;
    char err[300];
    char *body = (char *)slurp("sts-policy", path, 65536, &len);
    bool ok = body && strlen(body) == len &&
              mxv_request_set(request, "sts_policy", body, err, sizeof(err));
    if (body && strlen(body) != len)
        cli_error("--sts-policy %s: sts-policy-invalid: a NUL byte in the policy", path);
    else if (body && !ok)
        cli_error("--sts-policy %s: %s", path, err);
    free(body);
    return ok;
}

/* --tlsa records stand for the RRset of the first --mx, for DANE: without
 * either, they would be silently ignored. */
static bool tlsa_usable_here(mxv_policy *policy, const cli_common *c)
{
    mxv_effective e;
    mxv_policy_effective(policy, c->request->domain, &e);
    if (e.dane == MXV_DANE_OFF) {
        cli_error("explain: --tlsa needs --dane on (or require): DANE is off");
        return false;
    }
    if (!c->request->mx.n && !e.mx->n) {
        cli_error("explain: --tlsa needs --mx: the records are the TLSA RRset of that host");
        return false;
    }
    return true;
}

/* --sts-policy is the policy of the recipient domain, for MTA-STS, about
 * the MX host connected to: without either, it would be silently ignored. */
static bool sts_policy_usable_here(mxv_policy *policy, const cli_common *c)
{
    mxv_effective e;
    mxv_policy_effective(policy, c->request->domain, &e);
    if (e.mta_sts == MXV_STS_OFF) {
        cli_error("explain: --sts-policy needs --mta-sts on (or report): MTA-STS is off");
        return false;
    }
    if (!c->request->mx.n && !e.mx->n) {
        cli_error("explain: --sts-policy needs --mx: the MX host the policy is checked against");
        return false;
    }
    return true;
}

int cmd_explain(int argc, char **argv)
{
    struct option options[32];
    size_t n = cli_options(options, 28);
    options[n++] = (struct option){"cert", required_argument, NULL, 'c'};
    options[n++] = (struct option){"tlsa", required_argument, NULL, 't'};
    options[n++] = (struct option){"sts-policy", required_argument, NULL, 's'};
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
        else if (opt == 't')
            error = !take_tlsa(c.request, optarg);
        else if (opt == 's')
            error = !take_sts_policy(c.request, optarg);
        else if (opt == 'h') {
            static const char *const own[][2] = {
                {"--cert CHAIN.pem", "the leaf first, then the intermediates the server sends"},
                {"--tlsa \"U S M HEX\"", "a TLSA record of the first --mx, taken as DNSSEC-secure "
                                         "(repeatable; needs --dane)"},
                {"--sts-policy FILE", "the recipient domain's MTA-STS policy, as served "
                                      "(needs --mta-sts and --mx)"},
                {NULL, NULL}};
            cli_help(usage, own, true);
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
    mxv_policy *policy = error ? NULL : cli_load_policy(&c, "required-verify-hosted");
    if (policy && !c.has_domain && !mxv_policy_domain(policy)) {
        cli_error("explain: --domain is required (the recipient domain or address; or "
                  "MXVERIFY_DOMAIN, or domain in the configuration)");
        mxv_policy_free(policy);
        policy = NULL;
        error = true;
    }
    if (policy && ((c.request->ntlsa && !tlsa_usable_here(policy, &c)) ||
                   (c.request->sts_given && !sts_policy_usable_here(policy, &c)))) {
        mxv_policy_free(policy);
        policy = NULL;
        error = true;
    }
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
