/* SPDX-License-Identifier: Apache-2.0 */
/*
 * postfix_match: the names are taken as Postfix takes them: a name with a
 * NUL or a character outside printable ASCII is never matched.
 */
#include "postfix_match.h"

#include <openssl/x509v3.h>
#include <string.h>
#include <strings.h>

typedef struct {
    const char *domain;
    bool subdomain; /* "dot-" patterns: any proper subdomain of domain */
} pattern;

static bool printable(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return false;
    return len > 0;
}

static bool matches(const char *name, const pattern *p)
{
    size_t namelen = strlen(name), domlen = strlen(p->domain);
    if (p->subdomain)
        return namelen > domlen + 1 && name[namelen - domlen - 1] == '.' &&
               strcasecmp(name + namelen - domlen, p->domain) == 0;
    if (strcasecmp(name, p->domain) == 0)
        return true;
    /* "*.rest" matches when ".rest" ends the domain's parent: one or more
     * labels (wildcards match multiple labels by default). */
    const char *parent = strchr(p->domain, '.');
    if (name[0] != '*' || name[1] != '.' || name[2] == '\0' || !parent)
        return false;
    size_t restlen = namelen - 1, parentlen = strlen(parent);
    return restlen <= parentlen && strcasecmp(parent + parentlen - restlen, name + 1) == 0;
}

static bool any_pattern(const unsigned char *data, size_t len, const pattern *ps, size_t n)
{
    char name[256];
    if (!printable(data, len) || len >= sizeof(name))
        return false;
    memcpy(name, data, len);
    name[len] = '\0';
    for (size_t i = 0; i < n; i++)
        if (matches(name, &ps[i]))
            return true;
    return false;
}

static bool cert_matches(X509 *leaf, const pattern *ps, size_t n)
{
    if (!leaf)
        return false;
    bool had_dns = false, matched = false;
    GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens) && !matched; i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
        if (gn->type != GEN_DNS)
            continue;
        had_dns = true;
        const ASN1_IA5STRING *s = gn->d.dNSName;
        matched = any_pattern(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s), ps, n);
    }
    GENERAL_NAMES_free(gens);
    if (had_dns)
        return matched;
    /* No DNS-ID: the (first) CommonName. */
    X509_NAME *subject = X509_get_subject_name(leaf);
    int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (at < 0)
        return false;
    const ASN1_STRING *cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
    return any_pattern(ASN1_STRING_get0_data(cn), (size_t)ASN1_STRING_length(cn), ps, n);
}

bool postfix_verify_matches(X509 *leaf, const char *host)
{
    const pattern ps[] = {{host, false}};
    return host && *host && cert_matches(leaf, ps, 1);
}

bool postfix_secure_matches(X509 *leaf, const char *nexthop)
{
    const pattern ps[] = {{nexthop, false}, {nexthop, true}};
    return nexthop && *nexthop && cert_matches(leaf, ps, 2);
}
