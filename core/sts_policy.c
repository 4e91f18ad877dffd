/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sts_policy: MTA-STS TXT records, policy bodies and mx patterns
 * (sts_policy.h, RFC 8461 sections 3.1, 3.2 and 4.1).
 *
 * Everything is read with explicit lengths: DNS and HTTPS hand us bytes,
 * not strings. Where the RFC's ABNF is strict we are too (a policy that
 * does not read is "no policy", which the caller reports), with these
 * choices where it is silent or where real servers differ:
 *  - TXT: a record is an STSv1 record when it begins with "v=STSv1"
 *    followed by ';', a blank or its end ("v=STSv10" is another version,
 *    ignored). A repeated id is malformed. RDATA whose character-strings
 *    overrun it makes the whole answer malformed, STSv1 or not: we cannot
 *    tell what it was meant to say. Empty RDATA is an empty text, ignored.
 *  - Body: version, mode and max_age are each required exactly once (the
 *    ABNF's "required once"); max_age is 1 to 10 digits. Empty lines are
 *    tolerated only at the very end (editors and web servers add them);
 *    anywhere else they are not in the ABNF and the body is refused.
 *    Control characters other than TAB (and CR before LF) are refused;
 *    the value of an unknown key is otherwise not looked at.
 *  - Matching compares ASCII only, never through the locale.
 */
#include "sts_policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 3, 4))) static void say(char *why, size_t whylen, const char *fmt,
                                                      ...)
{
    if (!why || whylen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool same_ascii(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

static bool equals(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* sts-ext-name and sts-policy-ext-name: (ALPHA / DIGIT) then up to 31 of
 * ALPHA / DIGIT / "_" / "-" / ".". The known keys are of this form too. */
static bool ext_name(const char *s, size_t n)
{
    if (n == 0 || n > 32 || !is_alnum(s[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
            return false;
    return true;
}

/* ---- TXT records (section 3.1) ---- */

/* The character-strings of one RDATA concatenated into a new buffer (its
 * length in *tlen), or NULL when one overruns the RDATA or on no memory. */
static char *txt_text(const uint8_t *rdata, size_t len, size_t *tlen, bool *overrun)
{
    char *text = malloc(len + 1);
    *tlen = 0;
    *overrun = false;
    if (!text)
        return NULL;
    for (size_t pos = 0; pos < len;) {
        size_t n = rdata[pos++];
        if (n > len - pos) {
            *overrun = true;
            free(text);
            return NULL;
        }
        memcpy(text + *tlen, rdata + pos, n);
        *tlen += n;
        pos += n;
    }
    return text;
}

static bool is_stsv1(const char *t, size_t n)
{
    return n >= 7 && memcmp(t, "v=STSv1", 7) == 0 && (n == 7 || t[7] == ';' || is_wsp(t[7]));
}

/* sts-ext-value: 1*(%x21-3A / %x3C / %x3E-7E). */
static bool ext_value(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e || c == ';' || c == '=')
            return false;
    }
    return true;
}

/* The fields of an STSv1 record: "v=STSv1" then sts-sep-separated fields,
 * one trailing sts-sep allowed (sts-sep is *WSP ";" *WSP). */
static bool txt_fields(const char *t, size_t n, char *id_out, char *why, size_t whylen)
{
    bool have_id = false;
    for (size_t pos = 0, field = 0;; field++) {
        const char *semi = memchr(t + pos, ';', n - pos);
        size_t end = semi ? (size_t)(semi - t) : n;
        size_t fend = end;
        while (fend > pos && is_wsp(t[fend - 1]))
            fend--;
        const char *f = t + pos;
        size_t flen = fend - pos;
        if (flen == 0 && !semi && field > 0)
            break; /* after the one trailing separator */
        if (flen == 0) {
            say(why, whylen, "field %zu of the STSv1 record is empty", field + 1);
            return false;
        }
        const char *eq = memchr(f, '=', flen);
        if (!eq) {
            say(why, whylen, "field %zu of the STSv1 record has no '='", field + 1);
            return false;
        }
        size_t klen = (size_t)(eq - f);
        const char *v = eq + 1;
        size_t vlen = flen - klen - 1;
        if (field == 0) {
            if (!equals(f, flen, "v=STSv1")) {
                say(why, whylen, "the STSv1 record does not begin with \"v=STSv1\" as a field");
                return false;
            }
        } else if (equals(f, klen, "id")) {
            if (have_id) {
                say(why, whylen, "the STSv1 record has more than one id");
                return false;
            }
            bool ok = vlen >= 1 && vlen <= MXV_STS_ID_MAX;
            for (size_t i = 0; ok && i < vlen; i++)
                ok = is_alnum(v[i]);
            if (!ok) {
                say(why, whylen, "the STSv1 record's id is not 1 to %d letters and digits",
                    MXV_STS_ID_MAX);
                return false;
            }
            memcpy(id_out, v, vlen);
            id_out[vlen] = '\0';
            have_id = true;
        } else if (equals(f, klen, "v") || !ext_name(f, klen) || !ext_value(v, vlen)) {
            say(why, whylen, "field %zu of the STSv1 record is malformed", field + 1);
            return false;
        }
        if (!semi)
            break;
        pos = end + 1;
        while (pos < n && is_wsp(t[pos]))
            pos++;
    }
    if (!have_id) {
        say(why, whylen, "the STSv1 record has no id");
        return false;
    }
    return true;
}

int mxv_sts_txt_id(const uint8_t *const *records, const size_t *lens, size_t n, char *id_out,
                   char *why, size_t whylen)
{
    if (n && (!records || !lens || !id_out)) {
        say(why, whylen, "no records given");
        return -1;
    }
    size_t found = 0;
    char *one = NULL; /* the text of the first STSv1 record */
    size_t onelen = 0;
    for (size_t i = 0; i < n; i++) {
        size_t tlen = 0;
        bool overrun = false;
        char *text =
            records[i] || lens[i] == 0 ? txt_text(records[i], lens[i], &tlen, &overrun) : NULL;
        if (!text) {
            if (records[i] && !overrun)
                say(why, whylen, "out of memory");
            else
                say(why, whylen, "TXT record %zu: %s", i + 1,
                    overrun ? "a character-string overruns the RDATA" : "no RDATA");
            free(one);
            return -1;
        }
        if (is_stsv1(text, tlen) && found++ == 0) {
            one = text;
            onelen = tlen;
        } else {
            free(text);
        }
    }
    int ret = found == 0 ? 0 : -1;
    if (found > 1)
        say(why, whylen, "%zu STSv1 TXT records (exactly one is allowed)", found);
    else if (found == 1 && txt_fields(one, onelen, id_out, why, whylen))
        ret = 1;
    free(one);
    return ret;
}

/* ---- Policy bodies (section 3.2) ---- */

/* A host name: LDH labels of 1 to 63 octets (letter or digit at both
 * ends), dot-separated, at most MXV_STS_NAME_MAX in all. */
static bool host_name(const char *s, size_t n)
{
    if (n == 0 || n > MXV_STS_NAME_MAX)
        return false;
    size_t label = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (label == 0 || label > 63 || s[i - 1] == '-')
                return false;
            label = 0;
        } else if (is_alnum(s[i]) || (s[i] == '-' && label > 0)) {
            label++;
        } else {
            return false;
        }
    }
    return true;
}

/* sts-policy-mx-value: ["*."] Domain, a trailing dot tolerated; stored in
 * lower case without it. */
static bool mx_pattern(const char *v, size_t n, char *out)
{
    if (n > 0 && v[n - 1] == '.')
        n--;
    size_t skip = n >= 2 && v[0] == '*' && v[1] == '.' ? 2 : 0;
    if (n > MXV_STS_NAME_MAX || !host_name(v + skip, n - skip))
        return false;
    for (size_t i = 0; i < n; i++)
        out[i] = lower(v[i]);
    out[n] = '\0';
    return true;
}

/* sts-policy-max-age-value: 1*10(DIGIT), and at most a year. */
static bool max_age(const char *v, size_t n, uint32_t *out)
{
    if (n == 0 || n > 10)
        return false;
    uint64_t age = 0; /* ten digits fit */
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        age = age * 10 + (uint64_t)(v[i] - '0');
    }
    if (age > MXV_STS_MAX_AGE_LIMIT)
        return false;
    *out = (uint32_t)age;
    return true;
}

/* Only line terminators (LF or CRLF) from here to the end? */
static bool only_empty_lines(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(s[i] == '\n' || (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')))
            return false;
    return true;
}

typedef struct {
    bool version, mode, max_age;
} seen_keys;

/* One line without its terminator. */
static bool policy_line(const char *line, size_t n, mxv_sts_policy *out, seen_keys *seen, char *why,
                        size_t whylen)
{
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f) {
            say(why, whylen, "a control character (0x%02x)", (unsigned char)line[i]);
            return false;
        }
    const char *colon = memchr(line, ':', n);
    if (!colon) {
        say(why, whylen, "a line without ':'");
        return false;
    }
    size_t klen = (size_t)(colon - line);
    size_t vpos = klen + 1, vend = n;
    while (vpos < n && is_wsp(line[vpos]))
        vpos++;
    while (vend > vpos && is_wsp(line[vend - 1]))
        vend--;
    const char *v = line + vpos;
    size_t vlen = vend - vpos;
    if (!ext_name(line, klen)) {
        say(why, whylen, "a malformed key");
        return false;
    }
    bool *once = equals(line, klen, "version")   ? &seen->version
                 : equals(line, klen, "mode")    ? &seen->mode
                 : equals(line, klen, "max_age") ? &seen->max_age
                                                 : NULL;
    if (once && *once) {
        say(why, whylen, "%.*s given twice", (int)klen, line);
        return false;
    }
    if (once)
        *once = true;
    if (equals(line, klen, "version")) {
        if (!equals(v, vlen, "STSv1")) {
            say(why, whylen, "version is not STSv1");
            return false;
        }
    } else if (equals(line, klen, "mode")) {
        if (equals(v, vlen, "enforce"))
            out->mode = MXV_STS_MODE_ENFORCE;
        else if (equals(v, vlen, "testing"))
            out->mode = MXV_STS_MODE_TESTING;
        else if (equals(v, vlen, "none"))
            out->mode = MXV_STS_MODE_NONE;
        else {
            say(why, whylen, "mode is not enforce, testing or none");
            return false;
        }
    } else if (equals(line, klen, "max_age")) {
        if (!max_age(v, vlen, &out->max_age)) {
            say(why, whylen, "max_age is not a number of seconds up to %u", MXV_STS_MAX_AGE_LIMIT);
            return false;
        }
    } else if (equals(line, klen, "mx")) {
        /* More patterns than are kept: the policy stands (dropping it
         * would be "no policy"), checked against the first ones only, so
         * a host among the others is refused, never let through. */
        char spare[MXV_STS_NAME_MAX + 1];
        char *into = out->nmx < MXV_STS_MX_MAX ? out->mx[out->nmx] : spare;
        if (!mx_pattern(v, vlen, into)) {
            /* The value is not echoed: it is the server's, any bytes. */
            say(why, whylen, "an mx that is not a host name or \"*.\" and a host name");
            return false;
        }
        if (into == spare)
            out->truncated = true;
        else
            out->nmx++;
    }
    /* Any other key: an extension, ignored (section 3.2). */
    return true;
}

bool mxv_sts_policy_parse(const char *body, size_t len, mxv_sts_policy *out, char *why,
                          size_t whylen)
{
    if (!out || (!body && len)) {
        say(why, whylen, "no policy");
        return false;
    }
    memset(out, 0, sizeof(*out));
    if (len && memchr(body, '\0', len)) {
        say(why, whylen, "a NUL byte in the policy");
        return false;
    }
    seen_keys seen = {false, false, false};
    size_t lineno = 0;
    for (size_t pos = 0; pos < len;) {
        lineno++;
        const char *nl = memchr(body + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - body) : len;
        size_t next = nl ? end + 1 : len;
        if (nl && end > pos && body[end - 1] == '\r')
            end--;
        if (end == pos) {
            if (only_empty_lines(body + pos, len - pos))
                break;
            say(why, whylen, "line %zu: an empty line inside the policy", lineno);
            return false;
        }
        char line_why[160] = "";
        if (!policy_line(body + pos, end - pos, out, &seen, line_why, sizeof(line_why))) {
            say(why, whylen, "line %zu: %s", lineno, line_why);
            return false;
        }
        pos = next;
    }
    const char *missing = NULL;
    if (!seen.version)
        missing = "version";
    else if (!seen.mode)
        missing = "mode";
    else if (!seen.max_age)
        missing = "max_age";
    else if (out->mode != MXV_STS_MODE_NONE && out->nmx == 0)
        missing = "mx"; /* only mode none may list no MX host */
    if (missing) {
        say(why, whylen, "no %s in the policy", missing);
        return false;
    }
    return true;
}

/* ---- Matching (section 4.1) ---- */

bool mxv_sts_mx_match(const mxv_sts_policy *policy, const char *host, size_t *which)
{
    if (!policy || !host)
        return false;
    size_t n = strnlen(host, MXV_STS_NAME_MAX + 2);
    if (n > 0 && host[n - 1] == '.')
        n--;
    if (n == 0 || n > MXV_STS_NAME_MAX)
        return false;
    const char *dot = memchr(host, '.', n); /* ends the host's first label */
    size_t count = policy->nmx < MXV_STS_MX_MAX ? policy->nmx : MXV_STS_MX_MAX;
    for (size_t i = 0; i < count; i++) {
        const char *p = policy->mx[i];
        size_t plen = strnlen(p, MXV_STS_NAME_MAX + 1);
        bool match;
        if (plen >= 2 && p[0] == '*' && p[1] == '.')
            /* "*.rest" stands for one non-empty label, then ".rest". */
            match = dot && dot > host && (size_t)(host + n - dot) == plen - 1 &&
                    same_ascii(dot, p + 1, plen - 1);
        else
            match = plen == n && same_ascii(host, p, n);
        if (match) {
            if (which)
                *which = i;
            return true;
        }
    }
    return false;
}

const char *mxv_sts_mode_name(mxv_sts_mode mode)
{
    switch (mode) {
    case MXV_STS_MODE_ENFORCE:
        return "enforce";
    case MXV_STS_MODE_TESTING:
        return "testing";
    case MXV_STS_MODE_NONE:
        return "none";
    }
    return "unknown";
}
