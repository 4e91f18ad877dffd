/* SPDX-License-Identifier: Apache-2.0 */
/* tlsrpt_logs: JSON decision logs read into one record per session (tlsrpt.h). */
#include "cli.h"
#include "tlsrpt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The result types of RFC 8460 section 4.3 (IANA's STARTTLS Validation
 * Result Types registry). */
static const char *const result_types[] = {
    "starttls-not-supported", "certificate-host-mismatch",
    "certificate-expired",    "certificate-not-trusted",
    "validation-failure",     "tlsa-invalid",
    "dnssec-invalid",         "dane-required",
    "sts-policy-fetch-error", "sts-policy-invalid",
    "sts-webpki-invalid",
};

const char *const ptype_name[] = {"tlsa", "sts", "no-policy-found"};

/* --- Days: civil dates <-> days since 1970-01-01 (proleptic Gregorian) --- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

void tlsrpt_day_text(int64_t day, char out[32])
{
    int y;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    snprintf(out, 32, "%04d-%02u-%02u", y, m, d);
}

/* `n` decimal digits at s, as a number; false if any is not a digit. */
static bool digits(const char *s, int n, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

/* "YYYY-MM-DD" at s, a real date: its day number. */
bool tlsrpt_parse_date(const char *s, int64_t *day)
{
    unsigned y, m, d;
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap)
        return false;
    *day = days_from_civil(y, m, d);
    return true;
}

/* RFC 3339 date-time ("2026-11-30T10:00:00Z", fractions and offsets
 * allowed): the UTC day it falls on. */
static bool parse_time(const char *s, int64_t *day)
{
    unsigned hh, mm, ss;
    int64_t date;
    if (!tlsrpt_parse_date(s, &date) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !digits(s + 11, 2, &hh) || s[13] != ':' || !digits(s + 14, 2, &mm) || s[16] != ':' ||
        !digits(s + 17, 2, &ss) || hh > 23 || mm > 59 || ss > 60)
        return false;
    const char *p = s + 19;
    if (*p == '.') {
        if (p[1] < '0' || p[1] > '9')
            return false;
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    }
    int64_t secs = date * 86400 + hh * 3600 + mm * 60 + ss;
    if ((*p == 'Z' || *p == 'z') && !p[1]) {
        /* UTC */
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        unsigned oh, om;
        if (!digits(p + 1, 2, &oh) || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return false;
        int64_t offset = oh * 3600 + om * 60;
        secs += *p == '+' ? -offset : offset;
    } else {
        return false;
    }
    *day = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    /* A report's date-range is RFC 3339: days from 1970-01-01 to
     * 9999-12-31 (a time zone offset may move a stamp out of it). */
    return *day >= 0 && *day <= 2932896;
}

/* --- Records --------------------------------------------------------- */

static const char *intern(logs *l, const char *s)
{
    if (!s)
        return NULL;
    json_t *v = json_object_get(l->pool, s);
    if (!v) {
        v = json_string_nocheck(s);
        if (!v || json_object_set_new_nocheck(l->pool, s, v) != 0)
            return NULL;
    }
    return json_string_value(v);
}

/* Another line of a session already counted (a refused clear-text retry
 * on the connection whose handshake was refused, say): the session failed
 * if any line did, with the first failure's result (the cause, not its
 * consequences), and counts under the policy a line named. */
static void merge_session(record *kept, const record *more)
{
    record merged = *kept;
    if (!kept->result && more->result) {
        merged = *more;
        merged.day = kept->day;
    }
    if (merged.type == P_NONE && more->type != P_NONE) {
        merged.type = more->type;
        merged.pstring = more->pstring;
        merged.pattern = more->pattern;
    } else if (merged.type == P_NONE && kept->type != P_NONE) {
        merged.type = kept->type;
        merged.pstring = kept->pstring;
        merged.pattern = kept->pattern;
    }
    if (!merged.local_ip)
        merged.local_ip = kept->local_ip ? kept->local_ip : more->local_ip;
    if (!merged.mx)
        merged.mx = kept->mx ? kept->mx : more->mx;
    *kept = merged;
}

/* A string member, or NULL (absent, null, not a string, empty). */
static const char *member(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : NULL;
}

static const char *known_result(const char *s)
{
    for (size_t i = 0; s && i < sizeof(result_types) / sizeof(result_types[0]); i++)
        if (strcmp(s, result_types[i]) == 0)
            return result_types[i];
    return NULL;
}

/* The policy domain: lower case, no trailing dot, letters, digits, '-',
 * '_' and dots between labels only (it becomes part of a file name). */
static bool policy_domain(const char *in, char *out, size_t outlen)
{
    size_t len = strlen(in);
    if (len && in[len - 1] == '.')
        len--;
    if (len == 0 || len > 253 || len >= outlen || in[0] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = in[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
              (ch == '.' && in[i + 1] != '.')))
            return false;
        out[i] = ch;
    }
    out[len] = '\0';
    return true;
}

static bool add_record(logs *l, json_t *o)
{
    l->lines++;
    if (!json_is_object(o)) {
        l->not_json++;
        return true;
    }
    if (json_object_get(o, "message")) {
        l->messages++;
        return true;
    }
    int64_t day;
    const char *stamp = member(o, "time");
    if (!stamp || !parse_time(stamp, &day)) {
        l->no_time++;
        return true;
    }
    const char *verdict = member(o, "verdict");
    if (!verdict) {
        l->no_verdict++;
        return true;
    }
    const char *dom = member(o, "domain");
    char domain[256];
    if (!dom) {
        l->no_domain++;
        return true;
    }
    if (!policy_domain(dom, domain, sizeof(domain))) {
        l->bad_domain++;
        return true;
    }
    bool pass = strcmp(verdict, "pass") == 0;
    const char *policy = member(o, "policy");
    json_t *sts = json_object_get(o, "sts");
    const char *mode = json_is_object(sts) ? member(sts, "mode") : NULL;
    bool sts_applies = mode && (strcmp(mode, "enforce") == 0 || strcmp(mode, "testing") == 0);
    /* A policy announced but not fetched (sts-policy-fetch-error,
     * sts-policy-invalid, sts-webpki-invalid) is a failure of the
     * domain's sts policy: the report is how the domain learns of it. */
    const char *fetch_error = json_is_object(sts) && !mode ? member(sts, "result") : NULL;
    if (fetch_error && strncmp(fetch_error, "sts-", 4) != 0)
        fetch_error = NULL;
    sts_applies = sts_applies || fetch_error;
    const char *reason = known_result(member(o, "reason"));
    if (!reason)
        reason = "validation-failure"; /* failed for a reason RFC 8460 has no word for */
    record r = {.day = day};
    if (policy && strcmp(policy, "dane") == 0) {
        r.type = P_TLSA;
        r.result = pass ? NULL : reason;
    } else if ((policy && strcmp(policy, "sts") == 0) || sts_applies) {
        /* A failed MTA-STS evaluation fails the sts policy whatever the
         * mode, even when the decision passed under the ESA setting; a
         * policy only evaluated (testing, report) is judged by its own
         * result alone: a refusal by the sender's ESA setting is not the
         * domain's policy failing. */
        const char *sts_result = json_is_object(sts) ? member(sts, "result") : NULL;
        if (!sts_result)
            sts_result = member(o, "sts_result");
        bool enforced = policy && strcmp(policy, "sts") == 0;
        r.type = P_STS;
        r.result = sts_result          ? (known_result(sts_result) ? known_result(sts_result)
                                                                   : "validation-failure")
                   : pass || !enforced ? NULL
                                       : reason;
        r.pattern = intern(l, json_is_object(sts) ? member(sts, "pattern") : NULL);
    } else {
        r.type = P_NONE;
        r.result = pass ? NULL : reason;
    }
    r.domain = intern(l, domain);
    if (r.type != P_NONE)
        r.pstring = intern(l, member(o, "policy_string"));
    r.ip = intern(l, member(o, "ip"));
    r.local_ip = intern(l, member(o, "local_ip"));
    r.mx = intern(l, member(o, "mx"));
    if (r.result)
        r.why = intern(l, member(o, "why"));
    if (!r.domain)
        return false;

    /* One session, one count: its lines merged (merge_session). */
    json_t *session = json_object_get(o, "session");
    char sid[64];
    const char *sname = member(o, "session"); /* "" is no session id */
    if (!sname && json_is_integer(session)) {
        snprintf(sid, sizeof(sid), "%" JSON_INTEGER_FORMAT, json_integer_value(session));
        sname = sid;
    }
    char *key = NULL;
    if (sname && asprintf(&key, "%s\x1f%s", domain, sname) < 0)
        return false;
    json_t *seen = key ? json_object_get(l->sessions, key) : NULL;
    if (seen) {
        merge_session(&l->recs[json_integer_value(seen)], &r);
        l->merged++;
        free(key);
        return true;
    }
    if (l->nrecs == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 1024;
        record *grown = realloc(l->recs, cap * sizeof(*grown));
        if (!grown) {
            free(key);
            return false;
        }
        l->recs = grown;
        l->cap = cap;
    }
    if (key && json_object_set_new_nocheck(l->sessions, key, json_integer((json_int_t)l->nrecs))) {
        free(key);
        return false;
    }
    free(key);
    l->recs[l->nrecs++] = r;
    return true;
}

/* Reads one log; false after saying why (unreadable, out of memory). */
bool tlsrpt_read_log(logs *l, const char *path, FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    bool ok = true;
    errno = 0;
    while (ok && (len = getline(&line, &cap, f)) >= 0) {
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        json_error_t jerr;
        json_t *o = json_loadb(line, (size_t)len, 0, &jerr);
        if (!o) {
            l->lines++;
            l->not_json++;
            continue;
        }
        ok = add_record(l, o);
        json_decref(o);
        if (!ok)
            cli_error("tlsrpt: out of memory");
    }
    if (ok && ferror(f)) {
        cli_error("tlsrpt: --log %s: %s", path, strerror(errno ? errno : EIO));
        ok = false;
    }
    free(line);
    return ok;
}
