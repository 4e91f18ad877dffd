/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sts_policy: MTA-STS (RFC 8461) as text: the TXT record that announces a
 * policy (`_mta-sts.DOMAIN`, section 3.1), the policy body served over
 * HTTPS (section 3.2), and the match of an MX host name against the
 * policy's `mx` patterns (section 4.1). No I/O: fetching is sts_fetch's,
 * keeping policies sts_cache's.
 *
 * Everything here reads untrusted input (DNS answers, HTTPS bodies): a
 * record or body that is not exactly what the RFC describes is refused
 * with a reason, never half-read.
 */
#ifndef MXV_STS_POLICY_H
#define MXV_STS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The command shows policies as the engine reads them: exported privately. */
#if defined(MXV_BUILDING)
#define MXV_STS_API __attribute__((visibility("default")))
#else
#define MXV_STS_API
#endif

/* RFC 8461 section 3.2: max_age is at most 31557600 seconds (a year). */
#define MXV_STS_MAX_AGE_LIMIT 31557600u
/* RFC 8461 section 3.1: id is 1 to 32 alphanumeric characters. */
#define MXV_STS_ID_MAX 32
/* Patterns kept from one policy (RFC 8461 sets no limit; real policies
 * list a handful). A policy with more is kept with its first ones and
 * `truncated` set: an MX host among the others is refused, never let
 * through. */
#define MXV_STS_MX_MAX 64
/* A pattern is a host name, possibly with a leading "*.": at most 253. */
#define MXV_STS_NAME_MAX 253

typedef enum {
    MXV_STS_MODE_ENFORCE,
    MXV_STS_MODE_TESTING,
    MXV_STS_MODE_NONE,
} mxv_sts_mode;

typedef struct {
    mxv_sts_mode mode;
    uint32_t max_age; /* seconds, <= MXV_STS_MAX_AGE_LIMIT */
    size_t nmx;
    char mx[MXV_STS_MX_MAX][MXV_STS_NAME_MAX + 1]; /* lower case, no trailing dot */
    bool truncated;                                /* the policy had more mx patterns than these */
} mxv_sts_policy;

/* The `id` of an STSv1 TXT record (RFC 8461 section 3.1).
 * `records`: the TXT RRset at _mta-sts.DOMAIN, each record's RDATA as DNS
 * carries it (one or more <length><bytes> character-strings, which are
 * concatenated). Records that do not begin with "v=STSv1" are ignored, as
 * the RFC says. Returns:
 *   1  exactly one STSv1 record, valid; its id (NUL-terminated) in id_out
 *      (at least MXV_STS_ID_MAX + 1 bytes);
 *   0  no STSv1 record;
 *  -1  more than one STSv1 record, or the one record is malformed (no id,
 *      id not 1-32 [A-Za-z0-9], a field without '=', RDATA whose
 *      character-strings overrun it); `why` says which.
 * RFC 8461 treats -1 like 0 (no policy is announced); the caller decides. */
MXV_STS_API int mxv_sts_txt_id(const uint8_t *const *records, const size_t *lens, size_t n,
                               char *id_out, char *why, size_t whylen);

/* Parses a policy body (RFC 8461 section 3.2): lines "key: value" ended by
 * CRLF or LF (the last line may lack it), blanks around the value allowed,
 * keys in any order (case-sensitive, as RFC 8461 writes them): `version:
 * STSv1` required, `mode` one of enforce/testing/none, at least one `mx`
 * unless mode is none, `max_age` a decimal number <= 31557600; unknown
 * keys ignored; a repeated version/mode/max_age, a line without ':', a
 * NUL byte or a pattern that is not a valid host name (optionally "*."
 * then a host name) is invalid. false with `why` (for the log line, the
 * result type is sts-policy-invalid). */
MXV_STS_API bool mxv_sts_policy_parse(const char *body, size_t len, mxv_sts_policy *out, char *why,
                                      size_t whylen);

/* Does `host` (an MX host name, any case, trailing dot allowed) match one
 * of the policy's patterns (RFC 8461 section 4.1)? Exact match, ASCII
 * case-insensitive; a pattern "*.example.net" covers exactly one more
 * label on the left (a.example.net, never example.net or a.b.example.net).
 * The index of the pattern that matched in *which (may be NULL). */
MXV_STS_API bool mxv_sts_mx_match(const mxv_sts_policy *policy, const char *host, size_t *which);

/* "enforce", "testing", "none". */
MXV_STS_API const char *mxv_sts_mode_name(mxv_sts_mode mode);

#endif
