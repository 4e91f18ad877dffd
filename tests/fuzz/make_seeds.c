/* SPDX-License-Identifier: Apache-2.0 */
/*
 * make_seeds DIR: writes the DER certificates of the presented-identifier
 * seed corpus (tests/fuzz/corpus/presented/) into DIR. Run once when a seed
 * shape is added; the files are committed, so keys and dates need not be
 * reproducible. Each shape is one the matcher has a rule about.
 */
#include "testcert.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
    const char *file;
    tc_name names[6];
    bool cn_bmpstring;
} seed;

static const seed seeds[] = {
    /* The worked example of policy.md section 5. */
    {.file = "emailhosted.der",
     .names = {{"CN", "*.emailhosted.not", 0},
               {"DNS", "*.emailhosted.not", 0},
               {"DNS", "emailhosted.not", 0}}},
    {.file = "example-com.der",
     .names = {{"CN", "mail.example.com", 0},
               {"DNS", "example.com", 0},
               {"DNS", "mail.example.com", 0}}},
    /* A DNS-ID hides the CN (RFC 6125 6.4.4). */
    {.file = "cn-wildcard.der",
     .names = {{"CN", "*.emailhosted.not", 0}, {"DNS", "unrelated.invalid", 0}}},
    {.file = "san-only.der",
     .names = {{"CN", "Hosting Operator", 0}, {"DNS", "*.emailhosted.not", 0}}},
    /* No SAN at all: the CN is the identifier. */
    {.file = "cn-only.der", .names = {{"CN", "mx0a.emailhosted.not", 0}}},
    /* Only non-DNS SAN types: never compared, and they do not hide the CN. */
    {.file = "other-san-types.der",
     .names = {{"CN", "example.com", 0},
               {"IP", "192.0.2.1", 0},
               {"email", "postmaster@example.com", 0},
               {"URI", "https://example.com/", 0}}},
    /* A NUL inside a DNS-ID and a CN: "good.com\0.evil.com". */
    {.file = "nul-san.der", .names = {{"DNS", "example.com\0.evil.invalid", 25}}},
    {.file = "nul-cn.der", .names = {{"CN", "example.com\0.evil.invalid", 25}}},
    /* Wildcards the matcher refuses, an IDN A-label, a trailing dot. */
    {.file = "bad-wildcards.der",
     .names = {{"DNS", "f*.example.com", 0},
               {"DNS", "*.com", 0},
               {"DNS", "a.*.example.com", 0},
               {"DNS", "**.example.com", 0},
               {"DNS", "*.", 0}}},
    {.file = "idn-trailing-dot.der",
     .names = {{"DNS", "xn--bcher-kva.example", 0}, {"DNS", "mx01.subd.emailhosted.not.", 0}}},
    /* A CN in BMPString (UTF-16), converted to UTF-8 by OpenSSL. */
    {.file = "cn-bmpstring.der",
     .names = {{"CN", "mx0a.emailhosted.not", 0}},
     .cn_bmpstring = true},
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    tc_pair ca = tc_make_ca("fuzz seed CA", NULL);
    int failed = 0;
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        tc_leaf_spec spec = {.names = seeds[i].names, .cn_bmpstring = seeds[i].cn_bmpstring};
        tc_pair leaf = tc_make_leaf(&spec, &ca);
        unsigned char *der = NULL;
        int len = leaf.cert ? i2d_X509(leaf.cert, &der) : -1;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", argv[1], seeds[i].file);
        FILE *f = len > 0 ? fopen(path, "wb") : NULL;
        bool ok = f && fwrite(der, 1, (size_t)len, f) == (size_t)len;
        if (f && fclose(f) != 0)
            ok = false;
        if (!ok) {
            perror(path);
            failed = 1;
        }
        OPENSSL_free(der);
        tc_free(&leaf);
    }
    tc_free(&ca);
    return failed;
}
