/*
 * decision: everything one verification decided and why, in the order it
 * was considered. Formatting (text trace, JSON, log line) reads only this.
 */
#ifndef MXV_DECISION_H
#define MXV_DECISION_H

#include "dns.h"
#include "mxverify.h"
#include "presented.h"
#include "settings.h"
#include "strlist.h"

#include <stdbool.h>
#include <time.h>

typedef enum {
    MXV_SRC_DOMAIN,
    MXV_SRC_CONFIGURED,
    MXV_SRC_MX,
    MXV_SRC_PTR,
    MXV_SRC_ROUTE,
} mxv_source;

typedef enum { MXV_ALG_NONE, MXV_ALG_VERIFY, MXV_ALG_HOSTED } mxv_algorithm;

typedef struct {
    char *name;
    mxv_source source;
    mxv_dnssec_status dnssec;
    bool eligible; /* false: shown for the trace, never compared (note says why) */
    bool used;     /* compared against the presented identifiers */
    char *note;
} mxv_reference;

struct mxv_request {
    char *domain;
    mxv_strlist mx, route, reference;
    char ip[64]; /* "" when unknown */
};

struct mxv_decision {
    mxv_mode mode;
    mxv_algorithm algorithm;
    bool report_only;
    char *domain;
    char ip[64];
    char *host;        /* the MX host the program connected to, when known */
    char *destination; /* the config destination entry that applied, or NULL */

    mxv_presented presented;
    mxv_reference *refs;
    size_t nrefs;

    bool chain_checked;
    bool chain_ok;
    int chain_error; /* X509_V_ERR_* */
    char *chain_error_text;
    /* The verified chain's validity window (UTC), when chain_ok: what a
     * resumption of this session is checked against (session_verdict.h). */
    bool chain_window;
    time_t chain_not_before, chain_not_after;

    bool matched;
    size_t match_id, match_ref; /* indexes into presented.ids and refs */

    bool resumed; /* decided for a session offered for resumption */
    bool pass;
    bool abort;
    bool temporary;
    const char *reason; /* RFC 8460 result type of a failure, NULL on pass */
    mxv_strlist notes;  /* DNS events and explanations, in order */
    char *why;          /* for the log line, when its other fields do not tell why */
    char *dns_why;      /* the first DNS failure that left evidence missing */
    /* For the prefetch probe (prefetch.c): lookups from the caches only,
     * and whether one was not there (or the resolver was busy). */
    bool dns_cache_only;
    bool dns_missed;
};

mxv_algorithm mxv_mode_algorithm(mxv_mode mode);
const char *mxv_source_name(mxv_source source);
const char *mxv_algorithm_name(mxv_algorithm algorithm); /* NULL for none */
const char *mxv_dnssec_name(mxv_dnssec_status status);   /* NULL for none */

/* Fills domain, ip, mode, algorithm, report_only and destination from the
 * request and the settings in force for its domain (*effective, if given). */
void mxv_decision_begin(mxv_decision *d, mxv_policy *policy, const mxv_request *request,
                        mxv_effective *effective);
/* The identity part alone (d->mode, d->domain and d->ip already set), DNS
 * evidence through the policy's resolver. Used by mxv_decide() and by the
 * TLS callback after the chain was checked. */
void mxv_decide_identity(mxv_decision *d, mxv_policy *policy, const mxv_request *request);
/* Sets pass/abort/reason from the chain and identity results. */
void mxv_decision_conclude(mxv_decision *d);
mxv_decision *mxv_decision_new(void);
/* The words for a chain error (caller frees); `sent`: how many certificates
 * the server sent. An unknown issuer behind a lone leaf says that no
 * intermediate came (the commonest real-world chain fault). */
char *mxv_chain_error_text(int error, int sent);
void mxv_decision_note(mxv_decision *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records the first DNS failure (lookup and error) that left evidence
 * missing: the log line's why= when it decides a failure. */
void mxv_decision_dns_failed(mxv_decision *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
