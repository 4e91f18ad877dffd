/* SPDX-License-Identifier: Apache-2.0 */
#include "names.h"
#include "lazy_libs.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_ldh(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

/* One trailing dot is ignored on either side (the root label is implied). */
static size_t without_trailing_dot(const char *s, size_t len)
{
    return (len > 0 && s[len - 1] == '.') ? len - 1 : len;
}

bool mxv_presented_valid(const char *name, size_t len)
{
    len = without_trailing_dot(name, len);
    if (len == 0 || len > MXV_NAME_MAX)
        return false;
    size_t label = 0;
    bool digits_only = true; /* so far in the current label */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '.') {
            if (label == 0)
                return false; /* empty label: "a..b" or ".a" */
            label = 0;
            digits_only = true;
            continue;
        }
        digits_only &= c >= '0' && c <= '9';
        /* NUL and every byte outside LDH and '*' reject the whole name:
         * a CA may have been tricked into "good.com\0.evil.com". */
        if (!is_ldh(c) && c != '*')
            return false;
        label++;
    }
    /* An all-numeric last label is an address, never a host name: the same
     * rule as for reference identifiers (found by fuzzing: "2."). */
    return label > 0 && !digits_only;
}

static bool equal_nocase(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && strncasecmp(a, b, alen) == 0;
}

bool mxv_name_matches(const char *presented, size_t len, const char *reference)
{
    if (!presented || !reference || !mxv_presented_valid(presented, len))
        return false;
    len = without_trailing_dot(presented, len);
    size_t rlen = without_trailing_dot(reference, strlen(reference));
    if (rlen == 0)
        return false;

    if (len >= 2 && presented[0] == '*' && presented[1] == '.') {
        const char *base = presented + 2;
        size_t blen = len - 2;
        /* RFC 6125 6.4.3: only a whole left-most label may be '*'; any
         * other '*' ("a.*.example.com", "**.example.com") matches nothing. */
        if (memchr(base, '*', blen))
            return false;
        /* The base needs two labels at least: "*.com" would cover a TLD. */
        if (!memchr(base, '.', blen))
            return false;
        /* The wildcard stands for exactly one non-empty label. */
        const char *dot = memchr(reference, '.', rlen);
        if (!dot || dot == reference)
            return false;
        size_t rest = rlen - (size_t)(dot + 1 - reference);
        return equal_nocase(base, blen, dot + 1, rest);
    }
    /* Partial wildcards ("f*.example.com", "*x.example.com") are not
     * honoured (RFC 6125 6.4.3 allows refusing them; policy.md does). */
    if (memchr(presented, '*', len))
        return false;
    return equal_nocase(presented, len, reference, rlen);
}

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

bool mxv_reference_normalize(const char *in, char *out, size_t outlen, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = NULL;
    if (!in || !*in) {
        *why = "empty name";
        return false;
    }
    char *alabel = NULL;
    const char *src = in;
    if (!is_ascii(in)) {
        int rc = mxv_idn2_to_ascii_8z(in, &alabel, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
        if (rc != IDN2_OK) {
            *why = "not a valid internationalised domain name";
            return false;
        }
        src = alabel;
    }
    size_t len = without_trailing_dot(src, strlen(src));
    bool ok = len > 0 && len <= MXV_NAME_MAX && len < outlen;
    /* A label over 63 octets cannot exist in DNS (RFC 1035 2.3.4): such a
     * reference is an input error, never a lookup that fails. */
    size_t label = 0;
    bool long_label = false;
    for (size_t i = 0; ok && i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '.') {
            ok = label > 0;
            label = 0;
        } else if (is_ldh(c)) {
            out[i] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
            long_label |= ++label > 63;
            continue;
        } else {
            ok = false;
        }
        out[i] = (char)c;
    }
    ok = ok && label > 0;
    if (ok && long_label) {
        ok = false;
        *why = "a label longer than 63 octets (RFC 1035)";
    }
    /* An all-numeric last label is an address ("192.0.2.1." included),
     * never a host name (RFC 3696 2): treating it as one would turn a route
     * to an address into a route to a "name". */
    bool numeric_tld = ok;
    for (size_t i = len; numeric_tld && i > 0 && src[i - 1] != '.'; i--)
        numeric_tld = src[i - 1] >= '0' && src[i - 1] <= '9';
    if (numeric_tld) {
        ok = false;
        *why = "an address, not a host name";
    }
    if (ok)
        out[len] = '\0';
    else if (!*why)
        *why = len > MXV_NAME_MAX ? "name longer than 253 octets"
                                  : "not a host name (letters, digits, hyphens and dots)";
    free(alabel);
    return ok;
}

bool mxv_host_name_ok(const char *name, const char **why)
{
    for (const char *label = name; *label;) {
        size_t n = strcspn(label, ".");
        if (label[0] == '-' || label[n - 1] == '-') {
            *why = "a label that starts or ends with a hyphen (RFC 1123 2.1)";
            return false;
        }
        if (n >= 4 && strncasecmp(label, "xn--", 4) == 0 && n == 4) {
            *why = "an empty A-label (xn--)";
            return false;
        }
        label += n + (label[n] == '.');
    }
    return true;
}

bool mxv_is_ip_literal(const char *s)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1;
}
