/* SPDX-License-Identifier: Apache-2.0 */
#include "testcert.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

static EVP_PKEY *new_key(void)
{
    return EVP_EC_gen("P-256");
}

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext) {
        X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
    }
}

static X509 *new_cert(EVP_PKEY *key, long nb_days, long na_days)
{
    static long serial = 1000;
    X509 *cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
    X509_gmtime_adj(X509_getm_notBefore(cert), nb_days * 86400L);
    X509_gmtime_adj(X509_getm_notAfter(cert), na_days * 86400L);
    X509_set_pubkey(cert, key);
    return cert;
}

tc_pair tc_make_ca(const char *cn, const tc_pair *issuer)
{
    tc_pair p = {.key = new_key()};
    p.cert = new_cert(p.key, -1, 3650);
    X509_NAME *name = X509_get_subject_name(p.cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509 *icert = issuer ? issuer->cert : p.cert;
    X509_set_issuer_name(p.cert, X509_get_subject_name(icert));
    add_ext(p.cert, icert, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(p.cert, icert, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(p.cert, icert, NID_subject_key_identifier, "hash");
    if (issuer)
        add_ext(p.cert, icert, NID_authority_key_identifier, "keyid:always");
    X509_sign(p.cert, issuer ? issuer->key : p.key, EVP_sha256());
    return p;
}

static void add_san(GENERAL_NAMES *sans, const tc_name *n)
{
    size_t len = n->len ? n->len : strlen(n->value);
    GENERAL_NAME *gn = GENERAL_NAME_new();
    if (strcmp(n->type, "IP") == 0) {
        ASN1_OCTET_STRING *ip = a2i_IPADDRESS(n->value);
        GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
    } else {
        int type = strcmp(n->type, "DNS") == 0     ? GEN_DNS
                   : strcmp(n->type, "email") == 0 ? GEN_EMAIL
                                                   : GEN_URI;
        ASN1_IA5STRING *s = ASN1_IA5STRING_new();
        ASN1_STRING_set(s, n->value, (int)len);
        GENERAL_NAME_set0_value(gn, type, s);
    }
    sk_GENERAL_NAME_push(sans, gn);
}

tc_pair tc_make_leaf(const tc_leaf_spec *spec, const tc_pair *issuer)
{
    tc_pair p = {.key = spec->rsa ? EVP_RSA_gen(2048) : new_key()};
    p.cert = new_cert(p.key, spec->not_before_days ? spec->not_before_days : -1,
                      spec->not_after_days ? spec->not_after_days : 365);
    X509_NAME *subject = X509_get_subject_name(p.cert);
    GENERAL_NAMES *sans = sk_GENERAL_NAME_new_null();
    for (const tc_name *n = spec->names; n && n->type; n++) {
        if (strcmp(n->type, "CN") == 0) {
            size_t len = n->len ? n->len : strlen(n->value);
            if (spec->cn_bmpstring) {
                ASN1_STRING *bmp = ASN1_STRING_type_new(V_ASN1_BMPSTRING);
                unsigned char buf[512];
                size_t o = 0;
                for (size_t i = 0; i < len && o + 2 <= sizeof(buf); i++) {
                    buf[o++] = 0;
                    buf[o++] = (unsigned char)n->value[i];
                }
                ASN1_STRING_set(bmp, buf, (int)o);
                X509_NAME_ENTRY *e = X509_NAME_ENTRY_create_by_NID(
                    NULL, NID_commonName, V_ASN1_BMPSTRING, ASN1_STRING_get0_data(bmp), (int)o);
                X509_NAME_add_entry(subject, e, -1, 0);
                X509_NAME_ENTRY_free(e);
                ASN1_STRING_free(bmp);
            } else {
                /* Raw bytes: a NUL inside a CN must survive as it would in
                 * a hostile certificate. */
                X509_NAME_ENTRY *e =
                    X509_NAME_ENTRY_create_by_NID(NULL, NID_commonName, V_ASN1_UTF8STRING,
                                                  (const unsigned char *)n->value, (int)len);
                X509_NAME_add_entry(subject, e, -1, 0);
                X509_NAME_ENTRY_free(e);
            }
        } else {
            add_san(sans, n);
        }
    }
    if (sk_GENERAL_NAME_num(sans) > 0)
        X509_add1_ext_i2d(p.cert, NID_subject_alt_name, sans, 0, X509V3_ADD_DEFAULT);
    GENERAL_NAMES_free(sans);
    const tc_pair *signer = (spec->self_signed || !issuer) ? &p : issuer;
    X509_set_issuer_name(p.cert, X509_get_subject_name(signer->cert));
    add_ext(p.cert, signer->cert, NID_basic_constraints, "CA:FALSE");
    add_ext(p.cert, signer->cert, NID_ext_key_usage, "serverAuth");
    X509_sign(p.cert, signer->key, EVP_sha256());
    return p;
}

void tc_free(tc_pair *p)
{
    X509_free(p->cert);
    EVP_PKEY_free(p->key);
    p->cert = NULL;
    p->key = NULL;
}

bool tc_write_pem(const char *path, X509 *const *certs, size_t n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++)
        ok = PEM_write_X509(f, certs[i]) == 1;
    return fclose(f) == 0 && ok;
}

bool tc_write_key(const char *path, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    bool ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
    return fclose(f) == 0 && ok;
}
