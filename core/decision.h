/* SPDX-License-Identifier: Apache-2.0 */
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
#include "sts_policy.h"
#include "tlsa.h"

#include <stdbool.h>
#include <sys/socket.h>
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
    /* TLSA records given (explain --tlsa): a secure RRset at the first MX */
    mxv_tlsa *tlsa;
    size_t ntlsa;
    char *host;           /* the MX host connected to (DANE's TLSA base), or NULL */
    bool mx_from_program; /* `mx` holds the name the program gave OpenSSL
                             (the hook), not one its caller set */
    unsigned port;        /* the port connected to, 0: 25 */
    bool each_tlsa;       /* audit: every TLSA record checked alone (d->tlsa_each) */
    /* An MTA-STS policy given (explain --sts-policy): the domain's policy,
     * no lookup made; NULL: looked up when mta_sts is on. */
    struct mxv_sts_cached *sts_given;
};

/* A copy of r with every value of its own; NULL when out of memory. */
mxv_request *mxv_request_dup(const mxv_request *r);

/* What MTA-STS (policy.md section 7, item 2) made of the connection. */
typedef enum {
    MXV_STS_NOT_ASKED, /* mta_sts = off, DANE applied, or not reached */
    MXV_STS_NO_POLICY, /* none in force (or mode none): the ESA decides */
    MXV_STS_ENFORCED,  /* an enforce policy decides (policy=sts); TLS mandatory */
    MXV_STS_EVALUATED, /* testing, or mta_sts = report: sts_result logged, the ESA decides */
} mxv_sts_outcome;

/* What DANE (policy.md section 7, item 1) found for the connected host. */
typedef enum {
    MXV_DANE_NOT_ASKED, /* dane = off, or not reached */
    MXV_DANE_NO_DANE,   /* no secure TLSA RRset: the next policy decides */
    MXV_DANE_DECIDED,   /* usable records: DANE decided (policy=dane) */
    MXV_DANE_ENCRYPT,   /* only unusable records: TLS mandatory, the ESA decides */
    MXV_DANE_FAILURE,   /* the evidence could not be had, or dane = require without DANE */
} mxv_dane_outcome;

struct mxv_decision {
    mxv_mode mode;
    mxv_algorithm algorithm;
    bool report_only;
    char *domain;
    char ip[64];
    char local_ip[64]; /* the sending address, "" when unknown (RFC 8460 sending-mta-ip) */
    char session[48];  /* the connection's id in decision logs, "" outside a program */
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

    /* DANE: the setting in force, what it found, the TLSA base domain, and
     * the record that matched (when DANE decided and one did). */
    mxv_dane_mode dane;
    mxv_dane_outcome dane_outcome;
    char *dane_base;
    bool tlsa_matched;
    uint8_t tlsa_usage, tlsa_selector, tlsa_mtype;
    int tlsa_depth;       /* the certificate it matched, 0 the leaf */
    char *tlsa_rrset;     /* the records considered, "U S M HEX; ..." (policy_string) */
    char *dane_why;       /* why there is no DANE (NO_DANE), or NULL */
    bool dane_unanchored; /* FAILURE because the resolver has no trust anchor */
    /* request->each_tlsa: one line per record, "+ RECORD: ..." when it
     * authenticates the chain alone, "- ..." when not, and why */
    mxv_strlist tlsa_each;

    /* MTA-STS: the setting in force, the outcome, and the domain's policy
     * when one was found (sts_mode, sts_id, sts_string then valid). */
    mxv_sts_setting mta_sts;
    mxv_sts_outcome sts_outcome;
    bool sts_policy;
    mxv_sts_mode sts_mode;
    char sts_id[MXV_STS_ID_MAX + 1];
    char *sts_pattern;      /* the mx pattern the host matched, or NULL */
    const char *sts_result; /* RFC 8460 result of the evaluation, or of a failed
                               fetch; NULL when it passed (or was not made) */
    char *sts_string;       /* the policy's lines joined by "; " (policy_string) */

    bool resumed;    /* decided for a session offered for resumption */
    const char *tls; /* the TLS library of the handshake ("openssl", "gnutls"), "none"
                        (a connection refused in clear), or NULL (offline) */
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
    /* Lookups to submit in the identity's DNS round too (the prefetch puts
     * DANE's there, so both share one round trip), or NULL. */
    void (*also_submit)(mxv_dns *dns, void *arg);
    void *also_arg;
};

mxv_algorithm mxv_mode_algorithm(mxv_mode mode);
const char *mxv_source_name(mxv_source source);
const char *mxv_algorithm_name(mxv_algorithm algorithm); /* NULL for none */
const char *mxv_dnssec_name(mxv_dnssec_status status);   /* NULL for none */

/* Fills domain, ip, mode, algorithm, report_only and destination from the
 * request and the settings in force for its domain (*effective, if given). */
void mxv_decision_begin(mxv_decision *d, mxv_policy *policy, const mxv_request *request,
                        mxv_effective *effective);
/* The same with the settings `effective` (those of a domain the request
 * could not take). */
void mxv_decision_begin_as(mxv_decision *d, const mxv_request *request,
                           const mxv_effective *effective);
/* The identity part alone (d->mode, d->domain and d->ip already set), DNS
 * evidence through the policy's resolver. Used by mxv_decide() and by the
 * TLS callback after the chain was checked. */
void mxv_decide_identity(mxv_decision *d, mxv_policy *policy, const mxv_request *request);
/* One round of lookups for d on the policy's resolver, under its lock:
 * `submit` puts its lookups (d->also_submit adds its own), they run until
 * answered or timeout_ms, then `after` (may be NULL) reads them, still
 * under the lock. In cache-only mode (the prefetch's probe) only the
 * caches answer and a busy resolver is not waited for (d->dns_missed
 * says so). NULL, or why no lookup was made ("resolver busy", "DNS
 * unavailable", the details in d's notes). */
const char *mxv_decision_dns_round(mxv_decision *d, mxv_policy *policy, int timeout_ms,
                                   void (*submit)(mxv_dns *dns, void *arg),
                                   void (*after)(mxv_dns *dns, void *arg), void *arg);
/* Sets pass/abort/reason from the chain and identity results (nothing
 * when DANE decided: mxv_decide_dane() did). */
void mxv_decision_conclude(mxv_decision *d);
/* DANE's part (decide_dane.c), before the ESA's: when d->dane is on, the
 * evidence for the connected MX host (`host`, else the one MX the request
 * or the settings name) at
 * `port` (the records the request gives, else DNS), and, when it decides,
 * the chain (`leaf`, `sent`: the certificates the server sent, may be
 * NULL) checked against it and the whole outcome set. true: DANE decided
 * (the ESA algorithm is not consulted); false: the ESA's turn
 * (d->dane_outcome says whether TLS is mandatory all the same). */
bool mxv_decide_dane(mxv_decision *d, mxv_policy *policy, const mxv_request *request,
                     const char *host, unsigned port, X509 *leaf, STACK_OF(X509) * sent);
/* DANE's lookups for `host` at `port` (and `domain`'s MX), submitted on a
 * resolver whose round someone else runs (d->also_submit): the prefetch
 * puts them in the identity's round, so the answers are cached for the
 * decision. Free the primer once that round has run. */
typedef struct mxv_dane_primer mxv_dane_primer;
mxv_dane_primer *mxv_dane_primer_new(const char *host, unsigned port, const char *domain);
void mxv_dane_prime(mxv_dns *dns, void *primer);
void mxv_dane_primer_free(mxv_dane_primer *primer);
/* Is TLS mandatory for this host whatever the mode says (a secure TLSA
 * RRset, usable or not, or DANE evidence that failed)? */
bool mxv_dane_requires_tls(const mxv_decision *d);
/* MTA-STS's part (decide_sts.c), when DANE found no DANE for the host:
 * the domain's policy (request->sts_given, else looked up: cache, DNS,
 * fetch) evaluated for the MX host `host` and, when have_cert, the chain
 * (d->chain_ok) and presented identifiers already in d. true: an enforced
 * policy decided (pass/abort/reason set; the ESA algorithm is not
 * consulted); false: the ESA's turn (d->sts_result holds a testing or
 * report-only evaluation). */
bool mxv_decide_sts(mxv_decision *d, mxv_policy *policy, const mxv_request *request,
                    const char *host, bool have_cert);
/* Are policies the destination publishes asked for (DANE or MTA-STS on)? */
bool mxv_decision_published(const mxv_decision *d);
/* Is TLS mandatory because an enforced MTA-STS policy applies? */
bool mxv_sts_requires_tls(const mxv_decision *d);
/* The RFC 8460 result type of a chain error (certificate-expired,
 * certificate-not-trusted, validation-failure). */
const char *mxv_chain_reason(int x509_error);
/* The decision's connection fields from fd's two ends, each read from
 * the kernel once (getsockname, getpeername): d->ip when it is still
 * empty, d->local_ip, and d->session, the session id of the TCP
 * connection: decision log lines with the same id are one session in a
 * TLS report (RFC 8460), so every line about one connection (its
 * handshake's decision, a refusal of clear text after it) carries the
 * same id, and a new connection (a retry, a resumption) a new one. From
 * the process and the connection's addresses and ports; fd -1 or not a
 * connected socket: a new id. */
void mxv_decision_connection(mxv_decision *d, int fd);
/* An address as text: IPv4 dotted, an IPv4-mapped IPv6 address as IPv4,
 * other IPv6 as RFC 5952 text; "" for anything else. */
void mxv_sockaddr_text(const struct sockaddr_storage *ss, char *out, size_t outlen);
/* One more reference identifier (copied) in the decision's trace. */
void mxv_decision_add_ref(mxv_decision *d, const char *name, mxv_source source,
                          mxv_dnssec_status sec, bool eligible, const char *note);
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
