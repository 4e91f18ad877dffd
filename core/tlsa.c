/* SPDX-License-Identifier: Apache-2.0 */
/* tlsa: TLSA records read and classified (tlsa.h). */
#include "tlsa.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool mxv_tlsa_from_rdata(const unsigned char *rdata, size_t len, mxv_tlsa *out, char *why,
                         size_t whylen)
{
    if (!rdata || len < 4) {
        snprintf(why, whylen, "a TLSA record of %zu octets (at least 4 are needed)", len);
        return false;
    }
    if (len - 3 > MXV_TLSA_DATA_MAX) {
        snprintf(why, whylen, "a TLSA record with %zu octets of data (at most %d are taken)",
                 len - 3, MXV_TLSA_DATA_MAX);
        return false;
    }
    out->usage = rdata[0];
    out->selector = rdata[1];
    out->mtype = rdata[2];
    out->len = len - 3;
    memcpy(out->data, rdata + 3, out->len);
    return true;
}

/* One of the first three fields: a number 0-255 or one of `names` (the
 * acronym of value i at names[i], NULL-terminated), any case. */
static bool field(const char *token, const char *const *names, uint8_t *value)
{
    for (size_t i = 0; names[i]; i++)
        if (strcasecmp(token, names[i]) == 0) {
            *value = (uint8_t)i;
            return true;
        }
    char *end;
    unsigned long n = strtoul(token, &end, 10);
    if (!*token || *end || token[0] == '-' || token[0] == '+' || n > 255)
        return false;
    *value = (uint8_t)n;
    return true;
}

static const char *const usages[] = {"PKIX-TA", "PKIX-EE", "DANE-TA", "DANE-EE", NULL};
static const char *const selectors[] = {"Cert", "SPKI", NULL};
static const char *const mtypes[] = {"Full", "SHA2-256", "SHA2-512", NULL};

bool mxv_tlsa_from_text(const char *text, mxv_tlsa *out, char *why, size_t whylen)
{
    static const char *const *const tables[3] = {usages, selectors, mtypes};
    static const char *const what[3] = {"usage", "selector", "matching type"};
    uint8_t values[3];
    const char *p = text ? text : "";
    for (int i = 0; i < 3; i++) {
        p += strspn(p, " \t");
        size_t n = strcspn(p, " \t");
        char token[32];
        if (n == 0 || n >= sizeof(token)) {
            snprintf(why, whylen, "TLSA \"%.64s\": no %s (\"USAGE SELECTOR MTYPE HEX\")",
                     text ? text : "", what[i]);
            return false;
        }
        memcpy(token, p, n);
        token[n] = '\0';
        if (!field(token, tables[i], &values[i])) {
            char names[64] = "";
            for (size_t k = 0; tables[i][k]; k++)
                snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                         k ? ", " : "", tables[i][k]);
            snprintf(why, whylen, "TLSA %s \"%s\": not a number from 0 to 255 nor one of %s",
                     what[i], token, names);
            return false;
        }
        p += n;
    }
    /* The data: hexadecimal digits, blanks between groups allowed. */
    char *hex = malloc(strlen(p) + 1);
    if (!hex) {
        snprintf(why, whylen, "out of memory");
        return false;
    }
    size_t h = 0;
    for (; *p; p++)
        if (*p != ' ' && *p != '\t')
            hex[h++] = *p;
    hex[h] = '\0';
    size_t len = 0;
    bool ok = h > 0 && h % 2 == 0 && h / 2 <= MXV_TLSA_DATA_MAX &&
              OPENSSL_hexstr2buf_ex(out->data, sizeof(out->data), &len, hex, '\0') == 1;
    ERR_clear_error();
    free(hex);
    if (!ok) {
        snprintf(why, whylen,
                 h == 0 ? "TLSA: no association data after the matching type"
                 : h / 2 > MXV_TLSA_DATA_MAX
                     ? "TLSA: more association data than is taken (4096 octets)"
                     : "TLSA: the association data is not hexadecimal (an even number of digits)");
        return false;
    }
    out->usage = values[0];
    out->selector = values[1];
    out->mtype = values[2];
    out->len = len;
    return true;
}

const char *mxv_tlsa_unusable(const mxv_tlsa *t)
{
    if (t->usage == MXV_TLSA_PKIX_TA || t->usage == MXV_TLSA_PKIX_EE)
        return "PKIX-TA(0) and PKIX-EE(1) are not used for SMTP (RFC 7672 section 3.1.3)";
    if (t->usage != MXV_TLSA_DANE_TA && t->usage != MXV_TLSA_DANE_EE)
        return "an unknown certificate usage";
    if (t->selector != MXV_TLSA_CERT && t->selector != MXV_TLSA_SPKI)
        return "an unknown selector";
    if (t->mtype == MXV_TLSA_FULL)
        return t->len ? NULL : "no association data";
    if (t->mtype == MXV_TLSA_SHA2_256)
        return t->len == 32 ? NULL : "a SHA2-256 digest that is not 32 octets";
    if (t->mtype == MXV_TLSA_SHA2_512)
        return t->len == 64 ? NULL : "a SHA2-512 digest that is not 64 octets";
    return "an unknown matching type";
}

const char *mxv_tlsa_usage_name(uint8_t usage, char buf[16])
{
    static const char *const named[] = {"PKIX-TA(0)", "PKIX-EE(1)", "DANE-TA(2)", "DANE-EE(3)"};
    if (usage < 4)
        return named[usage];
    snprintf(buf, 16, "usage %u", (unsigned)usage);
    return buf;
}

char *mxv_tlsa_format(const mxv_tlsa *t, char *buf, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    if (!len)
        return buf;
    int n = snprintf(buf, len, "%u %u %u ", (unsigned)t->usage, (unsigned)t->selector,
                     (unsigned)t->mtype);
    if (n < 0 || (size_t)n >= len)
        return buf; /* cut by snprintf */
    size_t at = (size_t)n, i = 0;
    for (; i < t->len && at + 2 < len; i++) {
        buf[at++] = digits[t->data[i] >> 4];
        buf[at++] = digits[t->data[i] & 15];
    }
    buf[at] = '\0';
    if (i < t->len && at >= 3) /* cut: say so */
        memcpy(buf + at - 3, "...", 3);
    return buf;
}
