/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decision: the life cycle of an mxv_decision (made, begun from the
 * settings in force, noted, concluded, freed) and its public accessors;
 * how it is reached is decide.c's (identity) and decide_offline.c's
 * (a chain on disk), how it is shown format.c's.
 */
#include "decision.h"
#include "ip_text.h"
#include "policy.h"
#include "slot_file.h"

#include <openssl/x509_vfy.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char *mxv_source_name(mxv_source s)
{
    static const char *const names[] = {"domain", "configured", "mx", "ptr", "route"};
    return names[s];
}

const char *mxv_algorithm_name(mxv_algorithm a)
{
    return a == MXV_ALG_VERIFY ? "verify" : a == MXV_ALG_HOSTED ? "hosted" : NULL;
}

const char *mxv_dnssec_name(mxv_dnssec_status s)
{
    static const char *const names[] = {NULL, "secure", "insecure", "bogus"};
    return names[s];
}

char *mxv_chain_error_text(int error, int sent)
{
    const char *text = X509_verify_cert_error_string(error);
    bool lone = sent == 1 && (error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
                              error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT);
    char *out = NULL;
    if (!lone)
        return strdup(text);
    if (asprintf(&out,
                 "%s (the server sent no intermediate certificate: one is missing, or the "
                 "issuer is a CA not trusted here)",
                 text) < 0)
        return NULL;
    return out;
}

void mxv_decision_add_ref(mxv_decision *d, const char *name, mxv_source source,
                          mxv_dnssec_status sec, bool eligible, const char *note)
{
    mxv_reference *refs = realloc(d->refs, (d->nrefs + 1) * sizeof(*refs));
    if (!refs)
        return;
    d->refs = refs;
    refs[d->nrefs++] = (mxv_reference){
        .name = strdup(name),
        .source = source,
        .dnssec = sec,
        .eligible = eligible && name,
        .note = note ? strdup(note) : NULL,
    };
}

mxv_decision *mxv_decision_new(void)
{
    return calloc(1, sizeof(mxv_decision));
}

void mxv_decision_begin(mxv_decision *d, mxv_policy *policy, const mxv_request *req,
                        mxv_effective *effective)
{
    mxv_effective e;
    mxv_policy_effective(policy, req ? req->domain : NULL, &e);
    mxv_decision_begin_as(d, req, &e);
    if (effective)
        *effective = e;
}

void mxv_decision_begin_as(mxv_decision *d, const mxv_request *req, const mxv_effective *effective)
{
    const mxv_effective e = *effective;
    const char *domain = req && req->domain ? req->domain : e.domain;
    d->domain = domain ? strdup(domain) : NULL;
    if (req)
        memcpy(d->ip, req->ip, sizeof(d->ip));
    d->mode = e.mode;
    d->algorithm = mxv_mode_algorithm(e.mode);
    d->report_only = e.report_only;
    d->dane = e.dane;
    d->mta_sts = e.mta_sts;
    d->destination = e.destination ? strdup(e.destination) : NULL;
}

/* fd's two ends, zero-filled where one cannot be read: [0] this end,
 * [1] the peer. true when both were read. */
static bool socket_ends(int fd, struct sockaddr_storage ends[2])
{
    socklen_t len[2] = {sizeof(ends[0]), sizeof(ends[1])};
    memset(ends, 0, 2 * sizeof(ends[0]));
    if (fd < 0)
        return false;
    bool here = getsockname(fd, (struct sockaddr *)&ends[0], &len[0]) == 0;
    if (!here)
        memset(&ends[0], 0, sizeof(ends[0]));
    bool there = getpeername(fd, (struct sockaddr *)&ends[1], &len[1]) == 0;
    if (!there)
        memset(&ends[1], 0, sizeof(ends[1]));
    return here && there;
}

static void session_id_of(const struct sockaddr_storage ends[2], bool known, char *out,
                          size_t outlen)
{
    static atomic_ulong serial;
    static _Atomic time_t started;
    time_t zero = 0;
    atomic_compare_exchange_strong(&started, &zero, time(NULL));
    if (known) {
        /* "PID-STARTED-" formatted once per process and thread (a child
         * after fork() has another PID), the hash in hex here: this runs
         * at every delivery, and snprintf cost ten times as much. */
        static _Thread_local pid_t prefix_pid;
        static _Thread_local char prefix[48];
        static _Thread_local size_t prefix_len;
        pid_t pid = getpid();
        if (pid != prefix_pid) {
            int n = snprintf(prefix, sizeof(prefix), "%ld-%lld-", (long)pid, (long long)started);
            prefix_len = n > 0 && (size_t)n < sizeof(prefix) ? (size_t)n : 0;
            prefix_pid = prefix_len ? pid : 0;
        }
        uint64_t h = mxv_fnv(MXV_FNV_BASIS, ends, 2 * sizeof(ends[0]));
        if (prefix_len && prefix_len + 17 <= outlen) {
            memcpy(out, prefix, prefix_len);
            for (int i = 0; i < 16; i++)
                out[prefix_len + (size_t)i] = "0123456789abcdef"[(h >> (60 - 4 * i)) & 0xf];
            out[prefix_len + 16] = '\0';
            return;
        }
        snprintf(out, outlen, "%ld-%lld-%016llx", (long)pid, (long long)started,
                 (unsigned long long)h);
        return;
    }
    snprintf(out, outlen, "%ld-%lld-n%lu", (long)getpid(), (long long)started,
             (unsigned long)atomic_fetch_add(&serial, 1) + 1);
}

void mxv_sockaddr_text(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
    out[0] = '\0';
    if (ss->ss_family == AF_INET) {
        mxv_inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, out, outlen);
    } else if (ss->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) /* ::ffff:a.b.c.d is an IPv4 peer */
            mxv_inet_ntop(AF_INET, &a->s6_addr[12], out, outlen);
        else
            inet_ntop(AF_INET6, a, out, (socklen_t)outlen);
    }
}

void mxv_decision_connection(mxv_decision *d, int fd)
{
    struct sockaddr_storage ends[2];
    bool known = socket_ends(fd, ends);
    if (!d->ip[0])
        mxv_sockaddr_text(&ends[1], d->ip, sizeof(d->ip));
    mxv_sockaddr_text(&ends[0], d->local_ip, sizeof(d->local_ip));
    session_id_of(ends, known, d->session, sizeof(d->session));
}

void mxv_decision_dns_failed(mxv_decision *d, const char *fmt, ...)
{
    if (d->dns_why)
        return; /* the first one tells */
    char text[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    d->dns_why = strdup(text);
}

void mxv_decision_note(mxv_decision *d, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    mxv_strlist_add(&d->notes, line);
}

const char *mxv_chain_reason(int err)
{
    switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return "certificate-expired";
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
        return "certificate-not-trusted";
    default:
        return "validation-failure";
    }
}

void mxv_decision_conclude(mxv_decision *d)
{
    if (d->dane_outcome == MXV_DANE_DECIDED || d->dane_outcome == MXV_DANE_FAILURE ||
        d->sts_outcome == MXV_STS_ENFORCED)
        return;
    if (!mxv_mode_verifies(d->mode)) {
        /* none, preferred, required: the certificate is not checked. */
        d->pass = true;
        d->abort = false;
        d->temporary = false;
        d->reason = NULL;
        return;
    }
    d->pass = d->chain_ok && d->matched;
    if (!d->chain_ok)
        d->temporary = false; /* a bad chain is final whatever DNS said */
    if (d->pass) {
        d->temporary = false;
        d->reason = NULL;
    } else if (!d->chain_ok) {
        d->reason = mxv_chain_reason(d->chain_error);
    } else {
        d->reason =
            d->temporary || d->nrefs == 0 ? "validation-failure" : "certificate-host-mismatch";
    }
    d->abort = !d->pass && !d->report_only && d->mode != MXV_MODE_PREFERRED_VERIFY;
}

void mxv_decision_free(mxv_decision *d)
{
    if (!d)
        return;
    mxv_presented_clear(&d->presented);
    for (size_t i = 0; i < d->nrefs; i++) {
        free(d->refs[i].name);
        free(d->refs[i].note);
    }
    free(d->refs);
    free(d->domain);
    free(d->host);
    free(d->destination);
    free(d->chain_error_text);
    free(d->why);
    free(d->dns_why);
    free(d->dane_base);
    free(d->tlsa_rrset);
    free(d->sts_pattern);
    free(d->sts_string);
    free(d->dane_why);
    mxv_strlist_clear(&d->tlsa_each);
    mxv_strlist_clear(&d->notes);
    free(d);
}

int mxv_decision_passed(const mxv_decision *d)
{
    return d && d->pass;
}

int mxv_decision_aborts(const mxv_decision *d)
{
    return !d || d->abort;
}

int mxv_decision_temporary(const mxv_decision *d)
{
    return d && d->temporary;
}

mxv_mode mxv_decision_mode(const mxv_decision *d)
{
    return d ? d->mode : MXV_MODE_NONE;
}

const char *mxv_decision_reason(const mxv_decision *d)
{
    return d ? d->reason : "validation-failure";
}

const char *mxv_decision_chain_error(const mxv_decision *d)
{
    if (!d)
        return "no decision";
    if (d->chain_ok)
        return NULL;
    return d->chain_error_text ? d->chain_error_text : "not checked";
}

int mxv_decision_match(const mxv_decision *d, const char **presented, const char **presented_type,
                       const char **reference, const char **source)
{
    if (!d || !d->matched)
        return 0;
    const mxv_presented_id *id = &d->presented.ids[d->match_id];
    const mxv_reference *r = &d->refs[d->match_ref];
    if (presented)
        *presented = id->name;
    if (presented_type)
        *presented_type = mxv_id_type_name(id->type);
    if (reference)
        *reference = r->name;
    if (source)
        *source = mxv_source_name(r->source);
    return 1;
}
