/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `mxverify tlsrpt`: RFC 8460 aggregate TLS reports from JSON decision
 * logs (log_format = json). One report per policy domain and UTC day,
 * gzipped JSON (application/tlsrpt+gzip) named as RFC 8460 section 5.3.1
 * names attachments, and one line per report saying where it should go:
 * the rua of the domain's _smtp._tls TXT record (section 3), or why not.
 *
 * Input, one JSON object a line (other lines are skipped and counted):
 * time (RFC 3339, its UTC date is the record's day), verdict ("pass";
 * anything else failed), reason (an RFC 8460 result type or null),
 * domain, ip, local_ip, mx, policy (dane | sts | esa), policy_string
 * (records or policy lines joined by "; "), sts (null or {mode, pattern,
 * id, result}), sts_result, session, why. Lines of one session (and
 * domain) count once: the last one read wins.
 *
 * Exit status: 0 reports written, 1 no decision in range, 2 usage (an
 * option, an unreadable log, an output directory that cannot be written).
 */
#include "cli.h"
#include "lookup_txt.h"
#include "settings.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static const char usage[] =
    "usage: mxverify tlsrpt --log FILE... [--day YYYY-MM-DD|today] --org NAME --contact ADDR\n"
    "                       [--out DIR] [--unbound-conf F] [--dns-timeout S] [--conf F]\n";

#define MAX_LOGS 256

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

static void day_text(int64_t day, char out[32])
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
static bool parse_date(const char *s, int64_t *day)
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
    if (!parse_date(s, &date) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
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

enum ptype { P_TLSA, P_STS, P_NONE };
static const char *const ptype_name[] = {"tlsa", "sts", "no-policy-found"};

/* One session's outcome. Strings are interned (owned by the pool). */
typedef struct {
    int64_t day;
    const char *domain;
    enum ptype type;
    const char *pstring; /* policy_string as logged, or NULL */
    const char *result;  /* NULL: the session succeeded under its policy */
    const char *ip, *local_ip, *mx, *pattern, *why;
} record;

typedef struct {
    json_t *pool;     /* interned strings: text -> json string */
    json_t *sessions; /* "domain\x1fsession" -> index in recs */
    record *recs;
    size_t nrecs, cap;
    /* The stderr note. */
    size_t lines, not_json, messages, no_time, no_verdict, no_domain, bad_domain, merged;
} logs;

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
static bool read_log(logs *l, const char *path, FILE *f)
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

/* --- Reports --------------------------------------------------------- */

typedef struct {
    const char *result, *sending, *receiving, *mx, *why;
    bool why_mixed;
    json_int_t count;
} detail;

typedef struct {
    enum ptype type;
    const char *pstring;
    json_int_t ok, failed;
    json_t *mx;      /* MX host names seen, as an ordered set (tlsa) */
    json_t *pattern; /* sts.pattern values seen (sts, when the lines have no mx:) */
    json_t *index;   /* detail key -> index in details */
    detail *details;
    size_t ndetails, cap;
} policy_acc;

/* "a; b; c" -> ["a", "b", "c"]; the "mx:" lines' patterns into mx. */
static json_t *split_policy(const char *s, json_t *mx_out)
{
    json_t *out = json_array();
    while (out && s && *s) {
        const char *end = strstr(s, "; ");
        size_t len = end ? (size_t)(end - s) : strlen(s);
        json_array_append_new(out, json_stringn_nocheck(s, len));
        if (mx_out && len > 3 && strncmp(s, "mx:", 3) == 0) {
            const char *v = s + 3;
            while (v < s + len && (*v == ' ' || *v == '\t'))
                v++;
            if (v < s + len)
                json_array_append_new(mx_out, json_stringn_nocheck(v, (size_t)(s + len - v)));
        }
        s = end ? end + 2 : s + len;
    }
    return out;
}

static bool add_to_policy(policy_acc *p, const record *r)
{
    if (r->mx && p->type == P_TLSA && !json_object_get(p->mx, r->mx))
        json_object_set_new_nocheck(p->mx, r->mx, json_true());
    if (r->pattern && p->type == P_STS && !json_object_get(p->pattern, r->pattern))
        json_object_set_new_nocheck(p->pattern, r->pattern, json_true());
    if (!r->result) {
        p->ok++;
        return true;
    }
    p->failed++;
    char key[1200];
    snprintf(key, sizeof(key), "%s\x1f%s\x1f%s\x1f%.512s", r->result,
             r->local_ip ? r->local_ip : "", r->ip ? r->ip : "", r->mx ? r->mx : "");
    json_t *at = json_object_get(p->index, key);
    if (at) {
        detail *d = &p->details[json_integer_value(at)];
        d->count++;
        if (d->why != r->why) /* interned: equal text, equal pointer */
            d->why_mixed = true;
        return true;
    }
    if (p->ndetails == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 8;
        detail *grown = realloc(p->details, cap * sizeof(*grown));
        if (!grown)
            return false;
        p->details = grown;
        p->cap = cap;
    }
    json_object_set_new_nocheck(p->index, key, json_integer((json_int_t)p->ndetails));
    p->details[p->ndetails++] = (detail){r->result, r->local_ip, r->ip, r->mx, r->why, false, 1};
    return true;
}

static json_t *set_to_array(json_t *set)
{
    json_t *out = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(set, key, v)
    {
        (void)v;
        json_array_append_new(out, json_string_nocheck(key));
    }
    return out;
}

static json_t *policy_json(policy_acc *p, const char *domain)
{
    json_t *policy = json_object(), *mx = json_array();
    json_object_set_new_nocheck(policy, "policy-type", json_string_nocheck(ptype_name[p->type]));
    /* Omitted when the log has none (no-policy-found has none). */
    if (p->type != P_NONE && p->pstring)
        json_object_set_new_nocheck(policy, "policy-string",
                                    split_policy(p->pstring, p->type == P_STS ? mx : NULL));
    json_object_set_new_nocheck(policy, "policy-domain", json_string_nocheck(domain));
    if (p->type == P_TLSA) {
        json_decref(mx);
        mx = set_to_array(p->mx);
    } else if (p->type == P_STS && json_array_size(mx) == 0) {
        json_decref(mx);
        mx = set_to_array(p->pattern);
    }
    if (json_array_size(mx))
        json_object_set_new_nocheck(policy, "mx-host", mx);
    else
        json_decref(mx);

    json_t *out = json_object(), *details = json_array();
    json_object_set_new_nocheck(out, "policy", policy);
    json_object_set_new_nocheck(out, "summary",
                                json_pack("{s:I,s:I}", "total-successful-session-count",
                                          (json_int_t)p->ok, "total-failure-session-count",
                                          (json_int_t)p->failed));
    for (size_t i = 0; i < p->ndetails; i++) {
        const detail *d = &p->details[i];
        json_t *o = json_object();
        json_object_set_new_nocheck(o, "result-type", json_string_nocheck(d->result));
        if (d->sending)
            json_object_set_new_nocheck(o, "sending-mta-ip", json_string_nocheck(d->sending));
        if (d->receiving)
            json_object_set_new_nocheck(o, "receiving-ip", json_string_nocheck(d->receiving));
        if (d->mx)
            json_object_set_new_nocheck(o, "receiving-mx-hostname", json_string_nocheck(d->mx));
        json_object_set_new_nocheck(o, "failed-session-count", json_integer(d->count));
        if (d->why && !d->why_mixed)
            json_object_set_new_nocheck(o, "failure-reason-code", json_string_nocheck(d->why));
        json_array_append_new(details, o);
    }
    json_object_set_new_nocheck(out, "failure-details", details);
    return out;
}

static void policy_free(policy_acc *p)
{
    json_decref(p->mx);
    json_decref(p->pattern);
    json_decref(p->index);
    free(p->details);
}

/* A random (version 4) UUID. */
static bool new_uuid(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof(b)) != 1)
        return false;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return true;
}

static int dump_to_gz(const char *buffer, size_t size, void *data)
{
    return size == 0 || gzwrite((gzFile)data, buffer, (unsigned)size) == (int)size ? 0 : -1;
}

/* Writes the report gzipped, through a hidden temporary name renamed
 * into place: a mail job picking up *.json.gz never sees half a file. */
static bool write_report(const char *dir, const char *name, json_t *report)
{
    char *path = NULL, *tmp = NULL;
    bool ok = false;
    if (asprintf(&path, "%s/%s", dir, name) < 0 || asprintf(&tmp, "%s/.%s.tmp", dir, name) < 0) {
        free(path);
        cli_error("tlsrpt: out of memory");
        return false;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    gzFile gz = fd >= 0 ? gzdopen(fd, "wb9") : NULL;
    if (!gz) {
        cli_error("tlsrpt: %s: %s", tmp, strerror(errno ? errno : ENOMEM));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        goto out;
    }
    bool written =
        json_dump_callback(report, dump_to_gz, gz, JSON_COMPACT) == 0 && gzwrite(gz, "\n", 1) == 1;
    int closed = gzclose(gz); /* closes fd */
    if (!written || closed != Z_OK) {
        cli_error("tlsrpt: %s: cannot write the report", tmp);
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, path) != 0) {
        cli_error("tlsrpt: %s: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    ok = true;
out:
    free(path);
    free(tmp);
    return ok;
}

/* --- Where a report goes: the TLSRPT record (RFC 8460 section 3) ----- */

/* "v=TLSRPTv1" then the end, blanks or ';'. */
static bool is_tlsrpt(const char *rec)
{
    if (strncmp(rec, "v=TLSRPTv1", 10) != 0)
        return false;
    const char *p = rec + 10;
    while (*p == ' ' || *p == '\t')
        p++;
    return !*p || *p == ';';
}

/* The rua URIs of one TLSRPTv1 record, ", "-joined into out; false with
 * why when the record is malformed or names no mailto: or https: URI. */
static bool rua_of(const char *rec, char *out, size_t outlen, char *why, size_t whylen)
{
    for (const char *c = rec; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) {
            snprintf(why, whylen, "the record has a control or non-ASCII byte");
            return false;
        }
    out[0] = '\0';
    const char *p = rec + 10;
    bool found = false;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len > 4 && strncmp(p, "rua=", 4) == 0) {
            if (found) {
                snprintf(why, whylen, "the record has two rua fields");
                return false;
            }
            found = true;
            const char *u = p + 4, *stop = p + len;
            while (u < stop) {
                while (u < stop && (*u == ' ' || *u == '\t' || *u == ','))
                    u++;
                const char *ue = u;
                while (ue < stop && *ue != ',' && *ue != ' ' && *ue != '\t')
                    ue++;
                size_t ulen = (size_t)(ue - u);
                if ((ulen > 7 && strncmp(u, "mailto:", 7) == 0) ||
                    (ulen > 8 && strncmp(u, "https://", 8) == 0)) {
                    size_t used = strlen(out);
                    snprintf(out + used, outlen - used, "%s%.*s", used ? ", " : "", (int)ulen, u);
                }
                u = ue;
            }
        } else if (len && !memchr(p, '=', len)) {
            snprintf(why, whylen, "a field without '='");
            return false;
        }
        p = end ? end : p + len + strlen(p + len);
    }
    if (!out[0]) {
        snprintf(why, whylen, found ? "no mailto: or https: URI in rua" : "no rua field");
        return false;
    }
    return true;
}

/* "send to URI, URI" or why not, for `domain`. */
static void destination(mxv_policy *policy, const char *domain, char *out, size_t outlen)
{
    char name[300], err[300], **recs = NULL, why[128], rua[1024];
    size_t n = 0, count = 0;
    const char *only = NULL;
    snprintf(name, sizeof(name), "_smtp._tls.%s", domain);
    int rc = mxv_lookup_txt(policy, name, &recs, &n, err, sizeof(err));
    for (size_t i = 0; rc > 0 && i < n; i++)
        if (is_tlsrpt(recs[i])) {
            count++;
            only = recs[i];
        }
    if (rc < 0)
        snprintf(out, outlen, "not sent: the lookup of %s failed (%s); try again later", name, err);
    else if (count == 0)
        snprintf(out, outlen, "not sent: %s publishes no TLSRPT record (%s)", domain,
                 rc == 0 ? err : "no TXT record begins with v=TLSRPTv1");
    else if (count > 1)
        snprintf(out, outlen, "not sent: %s has %zu TLSRPTv1 records, which RFC 8460 reads as none",
                 name, count);
    else if (!rua_of(only, rua, sizeof(rua), why, sizeof(why)))
        snprintf(out, outlen, "not sent: the TLSRPT record at %s is unusable: %s", name, why);
    else
        snprintf(out, outlen, "send to %s", rua);
    mxv_free_list(recs);
}

/* --- The command ----------------------------------------------------- */

static int by_day_domain(const void *a, const void *b)
{
    const record *x = *(record *const *)a, *y = *(record *const *)b;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    int c = strcmp(x->domain, y->domain);
    return c ? c : (x < y ? -1 : x > y);
}

/* ORG as a file name part: [A-Za-z0-9._-], anything else '_'. */
static void file_part(const char *in, char *out, size_t outlen)
{
    size_t i = 0;
    for (; in[i] && i + 1 < outlen && i < 64; i++) {
        char ch = in[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_';
        out[i] = ok && !(i == 0 && ch == '.') ? ch : '_';
    }
    out[i] = '\0';
}

/* Writes one report for recs[0..n) (one domain, one day); false on error. */
static bool one_report(record **recs, size_t n, const char *org, const char *contact,
                       const char *dir, mxv_policy *policy, json_t *dest_cache)
{
    const record *first = recs[0];
    policy_acc *pols = NULL;
    size_t npols = 0, cap = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        const record *r = recs[i];
        size_t k = 0;
        while (k < npols && !(pols[k].type == r->type && pols[k].pstring == r->pstring))
            k++;
        if (k == npols && npols == cap) {
            cap = cap ? 2 * cap : 4;
            policy_acc *grown = realloc(pols, cap * sizeof(*grown));
            if (!grown) {
                cli_error("tlsrpt: out of memory");
                ok = false;
                break;
            }
            pols = grown;
        }
        if (k == npols)
            pols[npols++] = (policy_acc){.type = r->type,
                                         .pstring = r->pstring,
                                         .mx = json_object(),
                                         .pattern = json_object(),
                                         .index = json_object()};
        ok = add_to_policy(&pols[k], r);
    }
    json_t *policies = json_array();
    for (size_t k = 0; k < npols; k++) {
        json_array_append_new(policies, policy_json(&pols[k], first->domain));
        policy_free(&pols[k]);
    }
    free(pols);
    char day[32], start[48], end[48], uuid[37], orgpart[80], name[512];
    day_text(first->day, day);
    snprintf(start, sizeof(start), "%sT00:00:00Z", day);
    snprintf(end, sizeof(end), "%sT23:59:59Z", day);
    if (ok && !new_uuid(uuid)) {
        cli_error("tlsrpt: no random bytes for a report-id");
        ok = false;
    }
    if (!ok) {
        json_decref(policies);
        return false;
    }
    json_t *report = json_pack("{s:s,s:{s:s,s:s},s:s,s:s,s:o}", "organization-name", org,
                               "date-range", "start-datetime", start, "end-datetime", end,
                               "contact-info", contact, "report-id", uuid, "policies", policies);
    file_part(org, orgpart, sizeof(orgpart));
    int64_t begin = first->day * 86400;
    snprintf(name, sizeof(name), "%s!%s!%lld!%lld!%s.json.gz", orgpart, first->domain,
             (long long)begin, (long long)(begin + 86399), uuid);
    ok = report && write_report(dir, name, report);
    json_decref(report);
    if (!ok)
        return false;
    json_t *cached = json_object_get(dest_cache, first->domain);
    if (!cached) {
        char where[1400];
        destination(policy, first->domain, where, sizeof(where));
        cached = json_string_nocheck(where);
        json_object_set_new_nocheck(dest_cache, first->domain, cached);
    }
    printf("%s %s %s/%s: %s\n", first->domain, day, dir, name, json_string_value(cached));
    fflush(stdout);
    return true;
}

static void note_skipped(const logs *l)
{
    size_t skipped =
        l->not_json + l->messages + l->no_time + l->no_verdict + l->no_domain + l->bad_domain;
    if (!skipped)
        return;
    char note[512];
    size_t used = 0;
    struct {
        size_t n;
        const char *what;
    } parts[] = {{l->not_json, "not a JSON object"},
                 {l->messages, "a log message"},
                 {l->no_time, "without a valid time"},
                 {l->no_verdict, "without a verdict"},
                 {l->no_domain, "without a domain"},
                 {l->bad_domain, "with a domain that is not a DNS name"}};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        if (parts[i].n && used < sizeof(note))
            used += (size_t)snprintf(note + used, sizeof(note) - used, "%s%zu %s", used ? ", " : "",
                                     parts[i].n, parts[i].what);
    cli_error("tlsrpt: note: %zu of %zu log lines skipped: %s", skipped, l->lines, note);
}

int cmd_tlsrpt(int argc, char **argv)
{
    enum { OPT_LOG = 0x300, OPT_DAY, OPT_ORG, OPT_CONTACT, OPT_OUT };
    struct option shared[48], options[56];
    size_t nshared = cli_options(shared, 48), n = 0;
    /* The settings, less those that are facts about one connection and
     * `log` (here: the decision logs to read). */
    for (size_t i = 0; i < nshared; i++) {
        const mxv_setting *row = NULL;
        for (size_t k = 0; k < mxv_setting_count(); k++)
            if (strcmp(mxv_setting_rows()[k].option, shared[i].name) == 0)
                row = &mxv_setting_rows()[k];
        if ((row && (row->flags & MXV_SETTING_FACT)) || strcmp(shared[i].name, "log") == 0 ||
            strcmp(shared[i].name, "ip") == 0 || strcmp(shared[i].name, "json") == 0)
            continue;
        options[n++] = shared[i];
    }
    options[n++] = (struct option){"log", required_argument, NULL, OPT_LOG};
    options[n++] = (struct option){"day", required_argument, NULL, OPT_DAY};
    options[n++] = (struct option){"org", required_argument, NULL, OPT_ORG};
    options[n++] = (struct option){"contact", required_argument, NULL, OPT_CONTACT};
    options[n++] = (struct option){"out", required_argument, NULL, OPT_OUT};
    options[n++] = (struct option){"help", no_argument, NULL, 'h'};
    options[n] = (struct option){NULL, 0, NULL, 0};

    cli_common c = {.request = mxv_request_new()};
    const char *paths[MAX_LOGS], *org = NULL, *contact = NULL, *dir = ".";
    size_t npaths = 0;
    bool error = false, have_day = false, after_log = false;
    int64_t day = 0;
    int opt;
    optind = 1;
    /* "-": arguments that are not options come back in order (1), so that
     * --log takes the files that follow it. */
    while (!error && (opt = getopt_long(argc, argv, "-h", options, NULL)) != -1) {
        bool was_log = after_log;
        after_log = false;
        switch (opt) {
        case 'h': {
            static const char *const own[][2] = {
                {"--log FILE...", "JSON decision logs (log_format = json); repeatable"},
                {"--day D", "only the UTC day D (YYYY-MM-DD or today); default every day"},
                {"--org NAME", "the reporting organization (organization-name)"},
                {"--contact ADDR", "contact-info: whom to ask about the reports"},
                {"--out DIR", "where the .json.gz reports go (default .)"},
                {"--domain", NULL},
                {"--mx", NULL},
                {"--route", NULL},
                {"--reference", NULL},
                {NULL, NULL}};
            cli_help(usage, own, false);
            mxv_request_free(c.request);
            return EXIT_VERIFIED;
        }
        case 1: /* a file after --log FILE */
            if (!was_log) {
                cli_error("tlsrpt: unexpected argument '%s'", optarg);
                error = true;
                break;
            }
            __attribute__((fallthrough));
        case OPT_LOG:
            if (npaths == MAX_LOGS) {
                cli_error("tlsrpt: more than %d logs", MAX_LOGS);
                error = true;
            } else {
                paths[npaths++] = optarg;
                after_log = true;
            }
            break;
        case OPT_DAY:
            if (strcmp(optarg, "today") == 0) {
                day = (int64_t)(time(NULL) / 86400);
            } else if (strlen(optarg) != 10 || !parse_date(optarg, &day)) {
                cli_error("--day: \"%s\" is not a date (YYYY-MM-DD) or today", optarg);
                error = true;
            }
            have_day = true;
            break;
        case OPT_ORG:
            org = optarg;
            break;
        case OPT_CONTACT:
            contact = optarg;
            break;
        case OPT_OUT:
            dir = optarg;
            break;
        default:
            if (!cli_take_option(&c, opt, optarg, &error))
                error = true;
        }
    }
    if (!error && optind < argc) { /* after "--" */
        cli_error("tlsrpt: unexpected argument '%s'", argv[optind]);
        error = true;
    }
    if (!error && !npaths) {
        cli_error("tlsrpt: --log FILE is required");
        error = true;
    } else if (!error && (!org || !*org)) {
        cli_error("tlsrpt: --org NAME is required");
        error = true;
    } else if (!error && (!contact || !*contact)) {
        cli_error("tlsrpt: --contact ADDR is required");
        error = true;
    }
    struct stat st;
    if (!error && stat(dir, &st) != 0) {
        cli_error("tlsrpt: --out %s: %s", dir, strerror(errno));
        error = true;
    } else if (!error && (!S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) != 0)) {
        cli_error("tlsrpt: --out %s: not a directory this user can write to", dir);
        error = true;
    }
    /* Every log opened before any is read: a typo is exit 2, at once. */
    FILE *files[MAX_LOGS] = {0};
    for (size_t i = 0; !error && i < npaths; i++) {
        files[i] = strcmp(paths[i], "-") == 0 ? stdin : fopen(paths[i], "r");
        if (!files[i] || fstat(fileno(files[i]), &st) != 0) {
            cli_error("tlsrpt: --log %s: %s", paths[i], strerror(errno));
            error = true;
        } else if (S_ISDIR(st.st_mode)) {
            cli_error("tlsrpt: --log %s: is a directory", paths[i]);
            error = true;
        }
    }
    mxv_policy *policy = error ? NULL : cli_load_policy(&c, NULL);
    mxv_request_free(c.request);
    logs l = {.pool = json_object(), .sessions = json_object()};
    int status = EXIT_USAGE;
    if (!policy) {
        if (error)
            fputs(usage, stderr);
        goto out;
    }
    for (size_t i = 0; i < npaths; i++)
        if (!read_log(&l, paths[i], files[i]))
            goto out;
    note_skipped(&l);

    record **sel = calloc(l.nrecs + 1, sizeof(*sel));
    size_t nsel = 0;
    for (size_t i = 0; sel && i < l.nrecs; i++)
        if (!have_day || l.recs[i].day == day)
            sel[nsel++] = &l.recs[i];
    if (!sel) {
        cli_error("tlsrpt: out of memory");
        goto out;
    }
    if (nsel == 0) {
        char text[32];
        day_text(day, text);
        if (have_day)
            cli_error("tlsrpt: no decision on %s in the logs", text);
        else
            cli_error("tlsrpt: no decision in the logs");
        free(sel);
        status = EXIT_NOT_VERIFIED;
        goto out;
    }
    qsort(sel, nsel, sizeof(*sel), by_day_domain);
    json_t *dest_cache = json_object();
    status = EXIT_VERIFIED;
    for (size_t i = 0; i < nsel;) {
        size_t k = i + 1;
        while (k < nsel && sel[k]->day == sel[i]->day && sel[k]->domain == sel[i]->domain)
            k++;
        if (!one_report(sel + i, k - i, org, contact, dir, policy, dest_cache)) {
            status = EXIT_USAGE;
            break;
        }
        i = k;
    }
    json_decref(dest_cache);
    free(sel);
out:
    for (size_t i = 0; i < npaths; i++)
        if (files[i] && files[i] != stdin)
            fclose(files[i]);
    free(l.recs);
    json_decref(l.sessions);
    json_decref(l.pool);
    mxv_policy_free(policy);
    return status;
}
