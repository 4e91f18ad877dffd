/* SPDX-License-Identifier: Apache-2.0 */
#include "sts_lookup.h"
#include "policy.h"
#include "sts_fetch.h"
#include "text_copy.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RR_A      1
#define RR_TXT    16
#define RR_AAAA   28
#define ADDRS_MAX 8

/* What one round of lookups found. */
typedef struct {
    char name[MXV_NAME_MAX + 16];
    /* the TXT record: 1 an id, 0 none, -1 malformed, -2 the lookup failed */
    int txt;
    char id[MXV_STS_ID_MAX + 1];
    char text[256];
    char why[400];
    /* the policy host's addresses */
    char addr[ADDRS_MAX][INET6_ADDRSTRLEN];
    size_t naddr;
    char addr_why[160];
} found_dns;

/* A TXT record's character-strings joined, when it is the STSv1 record
 * (mxv_sts_txt_id read them already: lengths are known to fit). */
static void record_text(const uint8_t *rdata, size_t len, char *out, size_t outlen)
{
    size_t k = 0;
    for (size_t i = 0; i < len && i + 1 + rdata[i] <= len; i += 1 + rdata[i])
        for (size_t j = 0; j < rdata[i] && k + 1 < outlen; j++)
            out[k++] = (char)rdata[i + 1 + j];
    out[k] = '\0';
    if (strncmp(out, "v=STSv1", 7) != 0)
        out[0] = '\0';
}

static void on_txt(void *arg, const mxv_dns_answer *a)
{
    found_dns *f = arg;
    if (a->status == MXV_DNS_FAIL || (a->status == MXV_DNS_OK && a->truncated)) {
        f->txt = -2;
        snprintf(f->why, sizeof(f->why), "TXT %.260s: %.120s", f->name,
                 a->truncated ? "too many records" : a->detail);
        return;
    }
    if (a->status == MXV_DNS_NODATA) {
        f->txt = 0;
        return;
    }
    f->txt = mxv_sts_txt_id(a->rdata, a->rdlen, a->n, f->id, f->why, sizeof(f->why));
    for (size_t i = 0; i < a->n && f->txt == 1 && !f->text[0]; i++)
        record_text(a->rdata[i], a->rdlen[i], f->text, sizeof(f->text));
}

static void on_address(void *arg, const mxv_dns_answer *a, int family)
{
    found_dns *f = arg;
    if (a->status != MXV_DNS_OK) {
        if (a->status == MXV_DNS_FAIL)
            mxv_text_copy(f->addr_why, sizeof(f->addr_why), a->detail);
        return;
    }
    for (size_t i = 0; i < a->n && f->naddr < ADDRS_MAX; i++)
        if (a->rdlen[i] == (family == AF_INET ? 4u : 16u))
            inet_ntop(family, a->rdata[i], f->addr[f->naddr++], INET6_ADDRSTRLEN);
}

static void on_a(void *arg, const mxv_dns_answer *a)
{
    on_address(arg, a, AF_INET);
}

static void on_aaaa(void *arg, const mxv_dns_answer *a)
{
    on_address(arg, a, AF_INET6);
}

static void submit_txt(mxv_dns *dns, void *arg)
{
    found_dns *f = arg;
    f->txt = -2;
    snprintf(f->why, sizeof(f->why), "TXT %s: no answer", f->name);
    mxv_dns_submit(dns, f->name, RR_TXT, on_txt, f);
}

static void submit_addresses(mxv_dns *dns, void *arg)
{
    found_dns *f = arg;
    mxv_dns_submit(dns, f->name, RR_A, on_a, f);
    mxv_dns_submit(dns, f->name, RR_AAAA, on_aaaa, f);
}

/* A fetch under way when the program exits: the exit handlers OpenSSL
 * registered free what libcurl is using in the worker thread. Ours,
 * registered after OpenSSL's (OpenSSL is initialised before any fetch),
 * runs before them and waits for the fetch to end (it is bounded by its
 * deadline). */
static pthread_mutex_t fetching_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fetching_done = PTHREAD_COND_INITIALIZER;
static int fetching;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

static void wait_for_fetches(void)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30; /* past any fetch's deadline: a wedged one is not waited for */
    pthread_mutex_lock(&fetching_lock);
    while (fetching > 0 && pthread_cond_timedwait(&fetching_done, &fetching_lock, &until) == 0)
        ;
    pthread_mutex_unlock(&fetching_lock);
}

/* A child forked while another thread fetched has no such fetch. */
static void forked(void)
{
    pthread_mutex_t fresh_lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t fresh_cond = PTHREAD_COND_INITIALIZER;
    memcpy(&fetching_lock, &fresh_lock, sizeof(fetching_lock));
    memcpy(&fetching_done, &fresh_cond, sizeof(fetching_done));
    fetching = 0;
}

static void watch_exit(void)
{
    atexit(wait_for_fetches);
    pthread_atfork(NULL, NULL, forked);
}

static void fetch_begins(void)
{
    pthread_once(&exit_once, watch_exit);
    pthread_mutex_lock(&fetching_lock);
    fetching++;
    pthread_mutex_unlock(&fetching_lock);
}

static void fetch_ends(void)
{
    pthread_mutex_lock(&fetching_lock);
    fetching--;
    pthread_cond_broadcast(&fetching_done);
    pthread_mutex_unlock(&fetching_lock);
}

/* Fetches d->domain's policy now (one fetch at a time in the process:
 * a second caller waits, then finds the first one's policy cached). */
static void fetch(mxv_decision *d, mxv_policy *policy, const char *id, int timeout_ms,
                  mxv_sts_found *out)
{
    found_dns f = {0};
    snprintf(f.name, sizeof(f.name), "mta-sts.%s", d->domain);
    void (*also)(mxv_dns *, void *) = d->also_submit;
    d->also_submit = NULL; /* the caller's lookups went in the first round */
    mxv_decision_dns_round(d, policy, timeout_ms, submit_addresses, NULL, &f);
    d->also_submit = also;
    const char *why = NULL;
    pthread_mutex_lock(&policy->lock);
    X509_STORE *store = mxv_policy_store(policy, &why);
    pthread_mutex_unlock(&policy->lock);
    const char *addrs[ADDRS_MAX];
    for (size_t i = 0; i < f.naddr; i++)
        addrs[i] = f.addr[i];
    if (!store) {
        out->error = "sts-policy-fetch-error";
        snprintf(out->why, sizeof(out->why), "no trust store for the policy host: %s", why);
        return;
    }
    if (f.naddr == 0 && f.addr_why[0]) {
        out->error = "sts-policy-fetch-error";
        snprintf(out->why, sizeof(out->why), "addresses of %.260s: %.150s", f.name, f.addr_why);
        return;
    }
    /* Straight into out (a policy is 16 KB: not on the caller's stack,
     * which may be a small one of the host program's threads). */
    mxv_sts_cached *e = &out->entry;
    memset(e, 0, sizeof(*e));
    fetch_begins();
    out->error = mxv_sts_fetch(d->domain, addrs, f.naddr, store, timeout_ms, &e->policy, out->why,
                               sizeof(out->why));
    fetch_ends();
    if (out->error)
        return;
    time_t now = time(NULL);
    mxv_text_copy(e->domain, sizeof(e->domain), d->domain);
    mxv_text_copy(e->id, sizeof(e->id), id);
    e->fetched = (int64_t)now;
    e->expires = (int64_t)now + e->policy.max_age;
    pthread_mutex_lock(&policy->lock);
    mxv_sts_cache *cache = mxv_policy_sts_cache(policy);
    pthread_mutex_unlock(&policy->lock);
    if (cache && e->policy.max_age > 0)
        mxv_sts_cache_put(cache, e);
    out->fetched = true;
    out->state = MXV_STS_FOUND;
}

/* RFC 8461 section 5.1: a policy is refreshed before it runs out, from
 * half its life on. */
static int64_t refresh_time(const mxv_sts_cached *e)
{
    return e->fetched + (e->expires - e->fetched) / 2;
}

static bool cached(mxv_policy *policy, const char *domain, mxv_sts_cached *out)
{
    pthread_mutex_lock(&policy->lock);
    mxv_sts_cache *cache = mxv_policy_sts_cache(policy);
    pthread_mutex_unlock(&policy->lock);
    return cache && mxv_sts_cache_get(cache, domain, time(NULL), out);
}

void mxv_sts_lookup(mxv_decision *d, mxv_policy *policy, mxv_sts_reach reach, int timeout_ms,
                    mxv_sts_found *out)
{
    memset(out, 0, sizeof(*out));
    out->state = MXV_STS_ABSENT;
    if (!d->domain) {
        mxv_text_copy(out->why, sizeof(out->why), "recipient domain unknown");
        return;
    }
    found_dns f = {0};
    snprintf(f.name, sizeof(f.name), "_mta-sts.%s", d->domain);
    if (mxv_decision_dns_round(d, policy, timeout_ms, submit_txt, NULL, &f) && !d->dns_cache_only)
        snprintf(f.why, sizeof(f.why), "TXT %s: DNS unavailable", f.name);
    if (f.txt == 1) {
        mxv_text_copy(out->txt_id, sizeof(out->txt_id), f.id);
        mxv_text_copy(out->txt, sizeof(out->txt), f.text);
    }
    out->dns_failed = f.txt == -2;
    bool have = cached(policy, d->domain, &out->entry);
    bool changed = have && f.txt == 1 && strcmp(f.id, out->entry.id) != 0;
    /* Refreshed by whoever may fetch (never a delivery). */
    bool aging = have && (int64_t)time(NULL) >= refresh_time(&out->entry);
    out->refresh_due = changed || (aging && f.txt == 1);
    if (have && !(out->refresh_due && reach == MXV_STS_FETCH_REFRESH)) {
        out->state = MXV_STS_FOUND;
        if (changed)
            mxv_decision_note(d,
                              "MTA-STS: the record's id is %s, the cached policy's %s: the "
                              "cached policy applies until it is fetched again",
                              f.id, out->entry.id);
        return;
    }
    if (f.txt != 1) {
        mxv_text_copy(out->why, sizeof(out->why), f.txt == 0 ? "no MTA-STS record" : f.why);
        if (f.txt == -2 && have)
            out->state = MXV_STS_FOUND;
        return;
    }
    if (reach == MXV_STS_NO_FETCH || d->dns_cache_only) {
        snprintf(out->why, sizeof(out->why), "policy announced (id %s), not fetched yet", f.id);
        out->state = have ? MXV_STS_FOUND : MXV_STS_UNFETCHED;
        out->error = have ? NULL : "sts-policy-fetch-error";
        return;
    }
    pthread_mutex_lock(&policy->sts_fetch_lock);
    /* Someone fetched it while this one waited for the lock? */
    if (cached(policy, d->domain, &out->entry) && strcmp(out->entry.id, f.id) == 0 &&
        (int64_t)time(NULL) < refresh_time(&out->entry)) {
        pthread_mutex_unlock(&policy->sts_fetch_lock);
        out->state = MXV_STS_FOUND;
        return;
    }
    fetch(d, policy, f.id, timeout_ms, out);
    pthread_mutex_unlock(&policy->sts_fetch_lock);
    if (out->state == MXV_STS_FOUND)
        mxv_decision_note(d, "MTA-STS: policy of %s fetched (id %s)", d->domain, f.id);
    else if (have && cached(policy, d->domain, &out->entry)) {
        /* a refresh failed: the cached policy stays (nothing removes it) */
        mxv_decision_note(d, "MTA-STS: refresh failed (%s); the cached policy applies", out->why);
        out->state = MXV_STS_FOUND;
    } else {
        out->state = MXV_STS_UNFETCHED;
    }
}

bool mxv_sts_query(mxv_policy *policy, const char *domain, mxv_sts_found *out, char *err,
                   size_t errlen)
{
    mxv_request *req = mxv_request_new();
    mxv_decision *d = mxv_decision_new();
    bool ok = req && d && mxv_request_set(req, "domain", domain, err, errlen);
    if (ok) {
        mxv_effective e;
        mxv_decision_begin(d, policy, req, &e);
        mxv_sts_lookup(d, policy, MXV_STS_FETCH_REFRESH, e.dns_timeout_ms, out);
    } else if (!req || !d) {
        snprintf(err, errlen, "out of memory");
    }
    mxv_decision_free(d);
    mxv_request_free(req);
    return ok;
}
