/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tlsrpt: `mxverify tlsrpt`'s parts (RFC 8460 aggregate reports):
 * tlsrpt_logs.c reads JSON decision logs into one record per session;
 * tlsrpt_report.c builds and writes the reports and finds where each
 * goes; cmd_tlsrpt.c is the command.
 */
#ifndef MXV_TLSRPT_H
#define MXV_TLSRPT_H

#include "mxverify.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum ptype { P_TLSA, P_STS, P_NONE };
extern const char *const ptype_name[];

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

/* Days since 1970-01-01 as YYYY-MM-DD (out: 32 bytes). */
void tlsrpt_day_text(int64_t day, char out[32]);
/* YYYY-MM-DD: its day number; false when not such a date. */
bool tlsrpt_parse_date(const char *s, int64_t *day);
/* Every line of f (named path) into l; false when out of memory. */
bool tlsrpt_read_log(logs *l, const char *path, FILE *f);

/* One session into its policy's counts and failure details. */
bool tlsrpt_add_to_policy(policy_acc *p, const record *r);
/* The report's "policies" entry of p (RFC 8460 section 4.4). */
json_t *tlsrpt_policy_json(policy_acc *p, const char *domain);
void tlsrpt_policy_free(policy_acc *p);
/* A random (version 4) UUID, the report-id. */
bool tlsrpt_new_uuid(char out[37]);
/* report as gzipped JSON, dir/name, written under a hidden name and renamed. */
bool tlsrpt_write_report(const char *dir, const char *name, json_t *report);
/* Where domain's reports go: its _smtp._tls rua, or why not (a sentence). */
void tlsrpt_destination(mxv_policy *policy, const char *domain, char *out, size_t outlen);

#endif
