/* SPDX-License-Identifier: Apache-2.0 */
#include "presented.h"
#include "names.h"

#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

static bool add_id(mxv_presented *p, const unsigned char *data, size_t len, mxv_id_type type)
{
    mxv_presented_id *ids = realloc(p->ids, (p->n + 1) * sizeof(*ids));
    if (!ids)
        return false;
    p->ids = ids;
    char *copy = malloc(len + 1);
    if (!copy)
        return false;
    if (len)
        memcpy(copy, data, len);
    copy[len] = '\0';
    ids[p->n++] = (mxv_presented_id){
        .name = copy, .len = len, .type = type, .valid = mxv_presented_valid(copy, len)};
    if (type == MXV_ID_DNS)
        p->n_dns++;
    return true;
}

static bool collect_dns_ids(X509 *leaf, mxv_presented *p)
{
    GENERAL_NAMES *sans = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    bool ok = true;
    for (int i = 0; ok && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
        if (gn->type != GEN_DNS)
            continue; /* IP, email, URI: never compared (policy.md 1) */
        const ASN1_IA5STRING *s = gn->d.dNSName;
        ok = add_id(p, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s), MXV_ID_DNS);
    }
    GENERAL_NAMES_free(sans);
    return ok;
}

static bool collect_cn_ids(X509 *leaf, mxv_presented *p)
{
    const X509_NAME *subject = X509_get_subject_name(leaf);
    for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;) {
        ASN1_STRING *value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
        unsigned char *utf8 = NULL;
        int len = ASN1_STRING_to_UTF8(&utf8, value);
        if (len < 0) {
            /* Undecodable string type: keep it visible, never matching. */
            static const unsigned char bad[] = "\x01undecodable";
            if (!add_id(p, bad, sizeof(bad) - 1, MXV_ID_CN))
                return false;
            continue;
        }
        bool ok = add_id(p, utf8, (size_t)len, MXV_ID_CN);
        OPENSSL_free(utf8);
        if (!ok)
            return false;
    }
    return true;
}

bool mxv_presented_from_cert(X509 *leaf, mxv_presented *out)
{
    memset(out, 0, sizeof(*out));
    if (!leaf)
        return true;
    if (collect_dns_ids(leaf, out) && collect_cn_ids(leaf, out))
        return true;
    mxv_presented_clear(out);
    return false;
}

void mxv_presented_clear(mxv_presented *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->ids[i].name);
    free(p->ids);
    memset(p, 0, sizeof(*p));
}

const char *mxv_id_type_name(mxv_id_type type)
{
    return type == MXV_ID_DNS ? "dns" : "cn";
}
