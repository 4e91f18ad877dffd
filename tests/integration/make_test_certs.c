/* SPDX-License-Identifier: Apache-2.0 */
/*
 * make_test_certs DIR: the certificates the integration tests present,
 * built with tests/support/testcert: a CA, an intermediate, and leaves of
 * every shape policy.md talks about (chain failures included).
 *
 * Written into DIR (every leaf NAME.pem has its private key in NAME.key,
 * for loopback TLS servers):
 *   ca.pem, ca.key            the trusted root ("mxverify test CA")
 *   intermediate.pem, .key    an intermediate CA issued by the root
 *   ca+intermediate.pem       root and intermediate: a trust store that
 *                             already holds the intermediate
 *   emailhosted               policy.md 5 worked example: CN=*.emailhosted.not,
 *                             SAN DNS:*.emailhosted.not, DNS:emailhosted.not
 *   san-only                  SAN DNS:*.emailhosted.not, CN "Hosting Operator"
 *   cn-wildcard               CN *.emailhosted.not, SAN DNS:unrelated.invalid
 *   example, domain-match     SAN DNS:example.com, CN mail.example.com
 *   mx6, mx01                 SAN DNS:mx6.emailhosted.not / mx01.subd.emailhosted.not
 *   expired, not-yet-valid, self-signed, unknown-ca (issued by "some unknown
 *                             CA", never written out): chain failures, names
 *                             as example
 *   via-intermediate          leaf issued by the intermediate, chain file
 *                             leaf + intermediate
 *   via-intermediate-missing  the same leaf, intermediate not sent
 *   emailhosted-via-intermediate  names as emailhosted, issued by the
 *                             intermediate, chain file leaf + intermediate
 *                             (what nearly every real server sends)
 */
#include "testcert.h"

#include <stdio.h>

#define END                                                                                        \
    {                                                                                              \
        NULL, NULL, 0                                                                              \
    }

static int write_leaf(const char *dir, const char *name, const tc_pair *leaf, const tc_pair *extra)
{
    char path[4096];
    X509 *certs[2] = {leaf->cert, extra ? extra->cert : NULL};
    snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
    if (!tc_write_pem(path, certs, extra ? 2 : 1))
        return 1;
    snprintf(path, sizeof(path), "%s/%s.key", dir, name);
    return tc_write_key(path, leaf->key) ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_test_certs DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    tc_pair ca = tc_make_ca("mxverify test CA", NULL);
    tc_pair other = tc_make_ca("some unknown CA", NULL);
    tc_pair inter = tc_make_ca("mxverify test intermediate", &ca);
    const tc_name emailhosted[] = {{"CN", "*.emailhosted.not", 0},
                                   {"DNS", "*.emailhosted.not", 0},
                                   {"DNS", "emailhosted.not", 0},
                                   END};
    const tc_name san_only[] = {
        {"CN", "Hosting Operator", 0}, {"DNS", "*.emailhosted.not", 0}, END};
    const tc_name cn_wildcard[] = {
        {"CN", "*.emailhosted.not", 0}, {"DNS", "unrelated.invalid", 0}, END};
    const tc_name example[] = {{"CN", "mail.example.com", 0}, {"DNS", "example.com", 0}, END};
    const tc_name mx6[] = {{"DNS", "mx6.emailhosted.not", 0}, END};
    const tc_name mx01[] = {{"DNS", "mx01.subd.emailhosted.not", 0}, END};

    char path[4096];
    snprintf(path, sizeof(path), "%s/ca.pem", dir);
    int rc = tc_write_pem(path, &ca.cert, 1) ? 0 : 1;
    snprintf(path, sizeof(path), "%s/ca.key", dir);
    rc |= tc_write_key(path, ca.key) ? 0 : 1;
    snprintf(path, sizeof(path), "%s/intermediate.pem", dir);
    rc |= tc_write_pem(path, &inter.cert, 1) ? 0 : 1;
    snprintf(path, sizeof(path), "%s/intermediate.key", dir);
    rc |= tc_write_key(path, inter.key) ? 0 : 1;
    X509 *store[2] = {ca.cert, inter.cert};
    snprintf(path, sizeof(path), "%s/ca+intermediate.pem", dir);
    rc |= tc_write_pem(path, store, 2) ? 0 : 1;
    struct {
        const char *name;
        tc_leaf_spec spec;
        const tc_pair *issuer;
        const tc_pair *send; /* an intermediate sent along */
    } leaves[] = {
        {"emailhosted", {.names = emailhosted}, &ca, NULL},
        {"san-only", {.names = san_only}, &ca, NULL},
        {"cn-wildcard", {.names = cn_wildcard}, &ca, NULL},
        {"example", {.names = example}, &ca, NULL},
        {"domain-match", {.names = example}, &ca, NULL},
        {"mx6", {.names = mx6}, &ca, NULL},
        {"mx01", {.names = mx01}, &ca, NULL},
        {"expired", {.names = example, .not_before_days = -60, .not_after_days = -1}, &ca, NULL},
        {"not-yet-valid",
         {.names = example, .not_before_days = 10, .not_after_days = 30},
         &ca,
         NULL},
        {"self-signed", {.names = example, .self_signed = true}, NULL, NULL},
        {"unknown-ca", {.names = example}, &other, NULL},
        {"via-intermediate", {.names = example}, &inter, &inter},
        {"emailhosted-via-intermediate", {.names = emailhosted}, &inter, &inter},
    };
    for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
        tc_pair leaf = tc_make_leaf(&leaves[i].spec, leaves[i].issuer);
        rc |= write_leaf(dir, leaves[i].name, &leaf, leaves[i].send);
        if (leaves[i].send) { /* the same leaf, its intermediate not sent */
            char name[128];
            snprintf(name, sizeof(name), "%s-missing", leaves[i].name);
            rc |= write_leaf(dir, name, &leaf, NULL);
        }
        tc_free(&leaf);
    }
    tc_free(&ca);
    tc_free(&other);
    tc_free(&inter);
    if (rc)
        fprintf(stderr, "make_test_certs: cannot write into %s\n", dir);
    return rc;
}
