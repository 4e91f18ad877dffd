/* SPDX-License-Identifier: Apache-2.0 */
#include "prefetch.h"
#include "decision.h"
#include "policy.h"
#include "program_dns.h"
#include "sts_lookup.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUEUE_MAX 32
/* A destination prefetched this recently is not prefetched again: at a
 * steady rate of deliveries its answers are in the cache already, and
 * waking the worker for each connection cost more than the lookups saved.
 * Shorter than any TTL worth caching, so an expired answer is rare, and
 * then only the decision's own lookup is slower. */
#define RECENT_SECONDS 10
#define RECENT_SLOTS   64

typedef struct {
    mxv_policy *policy;
    char domain[256];
    char ip[64];
    char host[256];
    unsigned port;
} job;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static job queue[QUEUE_MAX];
static size_t head, count;
static bool worker_running;
static struct {
    unsigned long hash;
    time_t when;
} recent[RECENT_SLOTS];

static unsigned long hash_of(const job *j)
{
    unsigned long h = 5381;
    const char *parts[] = {j->domain, j->ip, j->host};
    for (size_t i = 0; i < 3; i++) {
        for (const char *p = parts[i]; *p; p++)
            h = h * 33 + (unsigned char)*p;
        h = h * 33 + '/';
    }
    h = h * 33 + j->port;
    return h | 1; /* 0 marks an empty slot */
}

/* Called with the lock held: true when this job was queued lately (a
 * hash collision only costs a skipped prefetch); else records it. */
static bool seen_lately(const job *j)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    unsigned long h = hash_of(j);
    size_t slot = h % RECENT_SLOTS;
    if (recent[slot].hash == h && ts.tv_sec - recent[slot].when < RECENT_SECONDS)
        return true;
    recent[slot].hash = h;
    recent[slot].when = ts.tv_sec;
    return false;
}

/* Lookups that ride in the identity's DNS round, so that one round trip
 * answers them all: DANE's (for the connected host) and the domain's
 * MTA-STS record (its answer lands in the DNS cache for sts_ready()). */
typedef struct {
    mxv_dane_primer *dane;
    char sts_txt[MXV_NAME_MAX + 16];
} primers;

static void cached_only(void *arg, const mxv_dns_answer *a)
{
    (void)arg, (void)a; /* the DNS cache keeps it */
}

static void submit_primers(mxv_dns *dns, void *arg)
{
    primers *p = arg;
    if (p->dane)
        mxv_dane_prime(dns, p->dane);
    if (p->sts_txt[0])
        mxv_dns_submit(dns, p->sts_txt, 16 /* TXT */, cached_only, NULL);
}

/* MTA-STS's part: the domain's policy record, and the policy itself when
 * it is not cached or its record changed. The probe (cache_only) fetches
 * nothing: false sends the job to the worker, which fetches (the only
 * place a refresh is fetched: never on the delivery path). */
static bool sts_ready(mxv_decision *d, mxv_policy *policy, bool cache_only)
{
    mxv_sts_found *found = d->domain ? malloc(sizeof(*found)) : NULL;
    if (!found)
        return true; /* no domain: nothing to look up */
    mxv_effective e;
    mxv_policy_effective(policy, d->domain, &e);
    mxv_sts_lookup(d, policy, cache_only ? MXV_STS_NO_FETCH : MXV_STS_FETCH_REFRESH,
                   e.dns_timeout_ms, found);
    bool ready = found->state != MXV_STS_UNFETCHED && !found->refresh_due;
    free(found);
    return ready;
}

/* Has the program itself given the domain's MX RRset, where it stands
 * for mxverify's own lookup (program_dns.h)? Then the PTR evidence is not
 * fetched ahead: the decision asks it only if the MX hosts do not match,
 * and a certificate that matches one costs no lookup, no thread. */
static bool mx_from_program(mxv_policy *policy, const char *domain)
{
    mxv_effective e;
    mxv_policy_effective(policy, domain, &e);
    return mxv_program_mx_evidence(policy, &e, domain, false, NULL, NULL);
}

/* A domain whose MX RRset the program's answer gives: the PTR evidence is
 * not fetched ahead then (see run()), DANE is off wherever that evidence
 * stands, and with MTA-STS off no lookup is left to fetch ahead. No
 * decision is run for it: at a thousand destinations, that cache-only run
 * at each connection was the prefetch's whole cost. */
static bool nothing_ahead(mxv_policy *policy, const char *domain)
{
    mxv_effective e;
    mxv_policy_effective(policy, domain, &e);
    return e.mta_sts == MXV_STS_OFF &&
           mxv_program_mx_evidence(policy, &e, domain, false, NULL, NULL);
}

/* Deciding for a certificate with no names reaches every DNS step of the
 * algorithm, so it makes exactly the lookups the real decision will (the
 * PTR's only when the decision may need them first).
 * cache_only: only ask the caches; true when they answered everything. */
static bool run(const job *j, bool cache_only)
{
    bool answered = false;
    char err[64];
    mxv_request *r = mxv_request_new();
    mxv_decision *d = mxv_decision_new();
    bool ptr_ahead = j->ip[0] && !(j->domain[0] && mx_from_program(j->policy, j->domain));
    if (r && d && (!j->domain[0] || mxv_request_set(r, "domain", j->domain, err, sizeof(err))) &&
        (!ptr_ahead || mxv_request_set(r, "ip", j->ip, err, sizeof(err)))) {
        mxv_decision_begin(d, j->policy, r, NULL);
        d->dns_cache_only = cache_only;
        /* DANE's lookups ride in the identity's round (one round trip for
         * both), then DANE decides from the cache, or asks what is left
         * (no certificate: its verdict is not kept). */
        primers p = {.dane = j->host[0] && d->dane != MXV_DANE_OFF
                                 ? mxv_dane_primer_new(j->host, j->port, d->domain)
                                 : NULL};
        if (d->mta_sts != MXV_STS_OFF && d->domain)
            snprintf(p.sts_txt, sizeof(p.sts_txt), "_mta-sts.%s", d->domain);
        d->also_submit = p.dane || p.sts_txt[0] ? submit_primers : NULL;
        d->also_arg = &p;
        if (d->algorithm != MXV_ALG_NONE)
            mxv_decide_identity(d, j->policy, r);
        d->also_submit = NULL; /* the primers' round is over */
        mxv_dane_primer_free(p.dane);
        if (j->host[0])
            mxv_decide_dane(d, j->policy, r, j->host, j->port, NULL, NULL);
        if (d->mta_sts != MXV_STS_OFF && !sts_ready(d, j->policy, cache_only))
            d->dns_missed = true;
        answered = !d->dns_missed;
    }
    mxv_decision_free(d);
    mxv_request_free(r);
    return answered;
}

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (count == 0)
            pthread_cond_wait(&wake, &lock);
        job j = queue[head];
        head = (head + 1) % QUEUE_MAX;
        count--;
        pthread_mutex_unlock(&lock);
        run(&j, false);
        pthread_mutex_lock(&lock);
    }
    return NULL;
}

void mxv_prefetch(mxv_policy *policy, const char *domain, const char *ip, const char *host,
                  unsigned port)
{
    if (!policy || (!domain && !ip && !host))
        return;
    if (domain && nothing_ahead(policy, domain))
        return;
    job probe = {.policy = policy, .port = port};
    if (domain)
        strncpy(probe.domain, domain, sizeof(probe.domain) - 1);
    if (ip)
        strncpy(probe.ip, ip, sizeof(probe.ip) - 1);
    if (host)
        strncpy(probe.host, host, sizeof(probe.host) - 1);
    pthread_mutex_lock(&lock);
    bool seen = seen_lately(&probe);
    pthread_mutex_unlock(&lock);
    if (seen)
        return;
    /* Answers another process already got (dns_cache) or this one did:
     * nothing to fetch, and no thread to start for it. */
    if (run(&probe, true))
        return;
    pthread_mutex_lock(&lock);
    if (!worker_running) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        /* No signal of the program's is handled on the worker (nor on
         * libunbound's thread, which it may start): a handler meant for
         * the program's threads could fork() there while the worker
         * holds a lock a fork() waits for (fork_hold.h). */
        sigset_t all, was;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &was);
        worker_running = pthread_create(&t, &attr, worker, NULL) == 0;
        pthread_sigmask(SIG_SETMASK, &was, NULL);
        pthread_attr_destroy(&attr);
    }
    if (worker_running && count < QUEUE_MAX) {
        queue[(head + count++) % QUEUE_MAX] = probe;
        pthread_cond_signal(&wake);
    }
    pthread_mutex_unlock(&lock);
}

void mxv_prefetch_forget_after_fork(void)
{
    pthread_mutex_t fresh_lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t fresh_cond = PTHREAD_COND_INITIALIZER;
    memcpy(&lock, &fresh_lock, sizeof(lock));
    memcpy(&wake, &fresh_cond, sizeof(wake));
    head = count = 0;
    worker_running = false;
    memset(recent, 0, sizeof(recent)); /* the child's cache may differ: look again */
}
