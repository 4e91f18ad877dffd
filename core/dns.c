/* SPDX-License-Identifier: Apache-2.0 */
#include "dns.h"
#include "dns_cache.h"
#include "dns_shared.h"
#include "fork_hold.h"
#include "lazy_libs.h"
#include "names.h"
#include "text_copy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROOT_ANCHOR "/usr/share/dns/root.key"
/* The resolver path's verdict, kept in the shared answer file (scoped like
 * every answer in it) for the other processes, as a pseudo-answer under a
 * name no one can look up (RFC 6761 .invalid, a private-use type). */
#define PATH_NAME    "resolver-path.mxverify.invalid"
#define PATH_TYPE    65280
#define PATH_SECONDS 600
#define PATH_NONE    "carries no DNSSEC"

typedef struct pending {
    struct pending *next;
    struct mxv_dns *dns;
    char name[MXV_NAME_MAX + 2];
    int rrtype;
    int async_id;
    bool done;
    mxv_dns_cb cb;
    void *arg;
    struct ub_result *held; /* a bogus answer waiting for the path probe */
} pending;

/* Can this machine's resolver path carry DNSSEC? Asked once per context,
 * in parallel with the first lookups (see probe_path()). */
typedef enum { PATH_UNKNOWN, PATH_PROBING, PATH_DNSSEC, PATH_NO_DNSSEC } path_state;

struct mxv_dns {
    const mxv_unbound_api *u; /* libunbound, loaded with the context */
    struct ub_ctx *ub;        /* built at the first lookup no cache answers */
    char *unbound_conf;
    bool validate;
    char ub_error[256]; /* why the context could not be built (sticky) */
    pending *queue;
    mxv_dns_cache *cache;
    mxv_dns_shared *shared;  /* answers shared with other processes, or NULL */
    bool cache_only, missed; /* mxv_dns_cache_only() */
    bool started;            /* libunbound's thread started (first lookup sent) */
    bool may_downgrade;      /* dnssec = prefer everywhere: see probe_path() */
    bool anchored;           /* the context holds a DNSSEC trust anchor */
    bool probe_wanted;       /* validating against the root anchor, system resolver */
    path_state path;
    time_t path_none_until; /* another process's "no DNSSEC" verdict, until */
    time_t anchor_checked;  /* when the root anchor's presence was last looked at */
    bool anchor_present;
    char notice[400]; /* said once by the owner (mxv_dns_take_notice) */
};

mxv_dns *mxv_dns_new(const char *unbound_conf, bool validate, char *err, size_t errlen)
{
    mxv_dns *dns = calloc(1, sizeof(*dns));
    if (!dns || !(dns->cache = mxv_dns_cache_new()) ||
        (unbound_conf && !(dns->unbound_conf = strdup(unbound_conf)))) {
        snprintf(err, errlen, "out of memory");
        mxv_dns_free(dns);
        return NULL;
    }
    dns->validate = validate;
    return dns;
}

void mxv_dns_share(mxv_dns *dns, mxv_dns_shared *shared)
{
    mxv_dns_shared_close(dns->shared);
    dns->shared = shared;
}

/* Names libunbound answers itself by default (RFC 6761, RFC 6303 and
 * RFC 8375 zones: private and shared address space, the TEST-NETs, test.,
 * home.arpa.), which the system resolver may well know: internal mail
 * hosts on private addresses and lab names. With the system resolver
 * they are asked there ("transparent"), as insecure (no public chain of
 * trust can prove them). localhost, invalid. and onion. stay local. */
static void ask_system_resolver(const mxv_unbound_api *u, struct ub_ctx *ub)
{
    static const char *const zones[] = {
        "10.in-addr.arpa.",
        "16.172.in-addr.arpa.",
        "17.172.in-addr.arpa.",
        "18.172.in-addr.arpa.",
        "19.172.in-addr.arpa.",
        "20.172.in-addr.arpa.",
        "21.172.in-addr.arpa.",
        "22.172.in-addr.arpa.",
        "23.172.in-addr.arpa.",
        "24.172.in-addr.arpa.",
        "25.172.in-addr.arpa.",
        "26.172.in-addr.arpa.",
        "27.172.in-addr.arpa.",
        "28.172.in-addr.arpa.",
        "29.172.in-addr.arpa.",
        "30.172.in-addr.arpa.",
        "31.172.in-addr.arpa.",
        "168.192.in-addr.arpa.",
        "254.169.in-addr.arpa.",
        "2.0.192.in-addr.arpa.",
        "100.51.198.in-addr.arpa.",
        "113.0.203.in-addr.arpa.",
        "d.f.ip6.arpa.",
        "8.e.f.ip6.arpa.",
        "9.e.f.ip6.arpa.",
        "a.e.f.ip6.arpa.",
        "b.e.f.ip6.arpa.",
        "8.b.d.0.1.0.0.2.ip6.arpa.",
        "test.",
        "home.arpa.",
    };
    char zone[64];
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        snprintf(zone, sizeof(zone), "%s transparent", zones[i]);
        (void)u->ctx_set_option(ub, "local-zone:", zone);
        (void)u->ctx_set_option(ub, "domain-insecure:", zones[i]);
    }
    /* 100.64.0.0/10, shared address space (RFC 6598). */
    for (int octet = 64; octet <= 127; octet++) {
        snprintf(zone, sizeof(zone), "%d.100.in-addr.arpa. transparent", octet);
        (void)u->ctx_set_option(ub, "local-zone:", zone);
        snprintf(zone, sizeof(zone), "%d.100.in-addr.arpa.", octet);
        (void)u->ctx_set_option(ub, "domain-insecure:", zone);
    }
}

/* The libunbound context, built once: loading libunbound, seeding its
 * random generators and starting its thread cost more than a decision, so
 * a process whose lookups the caches answer never pays for them. */
/* One of libunbound's options, as a string ("" when unset); caller frees. */
static char *option(const mxv_unbound_api *u, struct ub_ctx *ub, const char *name)
{
    char *value = NULL;
    if (u->ctx_get_option(ub, name, &value) != 0 || !value) {
        free(value);
        return strdup("");
    }
    return value;
}

/* Does one of the files listed (one per line) have content? */
static bool some_file_not_empty(const char *list)
{
    char path[4096];
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, "\n");
        struct stat st;
        if (n && n < sizeof(path)) {
            memcpy(path, p, n);
            path[n] = '\0';
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
                return true;
        }
        p += n + (p[n] == '\n');
    }
    return false;
}

/* Does the context validate with a DNSSEC trust anchor (from unbound_conf,
 * or the root anchor added here)? Without one, or with the validator
 * module left out of module-config, nothing is ever secure. (An anchor
 * for an unrelated zone cannot be told from a private one.) */
static bool has_anchor(const mxv_unbound_api *u, struct ub_ctx *ub)
{
    char *modules = option(u, ub, "module-config");
    bool validates = !modules || !modules[0] || strstr(modules, "validator");
    free(modules);
    static const char *const files[] = {"trust-anchor-file", "auto-trust-anchor-file",
                                        "trusted-keys-file"};
    bool any = false;
    for (size_t i = 0; validates && !any && i < sizeof(files) / sizeof(files[0]); i++) {
        char *value = option(u, ub, files[i]);
        any = some_file_not_empty(value);
        free(value);
    }
    char *inline_anchor = validates && !any ? option(u, ub, "trust-anchor") : NULL;
    any = any || (inline_anchor && inline_anchor[0]);
    free(inline_anchor);
    return validates && any;
}

/* The context as the settings say, NULL with the reason in
 * dns->ub_error; called under the UNBOUND lock (fork_hold.h). */
static struct ub_ctx *build_ub(mxv_dns *dns, const mxv_unbound_api *u)
{
    char *err = dns->ub_error;
    size_t errlen = sizeof(dns->ub_error);
    struct ub_ctx *ub = u->ctx_create();
    if (!ub) {
        snprintf(err, errlen, "cannot create a libunbound context");
        return NULL;
    }
    /* Threads, not the default fork: a forked resolver process inside a
     * host program (the preload shim's case) would be a surprise. */
    int rc = u->ctx_async(ub, 1);
    if (rc == 0 && dns->unbound_conf) {
        rc = u->ctx_config(ub, dns->unbound_conf);
        if (rc != 0)
            snprintf(err, errlen, "unbound_conf %s: %s", dns->unbound_conf, u->strerror(rc));
    } else if (rc == 0) {
        /* Without resolv.conf libunbound recurses from the root itself. */
        (void)u->ctx_resolvconf(ub, NULL);
        (void)u->ctx_hosts(ub, NULL);
        ask_system_resolver(u, ub);
        /* No RFC 8145 key-tag query (a "_ta-" name) from each process that
         * builds a context: root-operator telemetry, a query more per
         * smtp process, nothing a decision needs. */
        (void)u->ctx_set_option(ub, "trust-anchor-signaling:", "no");
        if (dns->validate && access(ROOT_ANCHOR, R_OK) == 0) {
            rc = u->ctx_add_ta_file(ub, ROOT_ANCHOR);
            dns->probe_wanted = rc == 0 && dns->may_downgrade;
        }
    }
    if (rc != 0) {
        if (!err[0])
            snprintf(err, errlen, "libunbound set-up failed: %s", u->strerror(rc));
        u->ctx_delete(ub); /* under the lock already */
        return NULL;
    }
    dns->anchored = has_anchor(u, ub);
    return ub;
}

/* One context at a time in the process, and none halfway at a fork():
 * libunbound's configuration parser and log settings are global
 * (fork_hold.h). */
static bool ensure_ub(mxv_dns *dns)
{
    if (dns->ub || dns->ub_error[0])
        return dns->ub != NULL;
    mxv_fork_lock(MXV_FORK_LOCK_UNBOUND);
    const mxv_unbound_api *u = mxv_unbound(dns->ub_error, sizeof(dns->ub_error));
    struct ub_ctx *ub = u ? build_ub(dns, u) : NULL;
    mxv_fork_unlock(MXV_FORK_LOCK_UNBOUND);
    if (!ub)
        return false;
    dns->u = u;
    dns->ub = ub;
    return true;
}

bool mxv_dns_anchored(mxv_dns *dns)
{
    return ensure_ub(dns) && dns->anchored;
}

bool mxv_dns_ready(mxv_dns *dns, char *err, size_t errlen)
{
    if (ensure_ub(dns))
        return true;
    snprintf(err, errlen, "%s", dns->ub_error);
    return false;
}

void mxv_dns_free(mxv_dns *dns)
{
    if (!dns)
        return;
    for (pending *p = dns->queue, *next; p; p = next) {
        next = p->next;
        if (!p->done)
            dns->u->cancel(dns->ub, p->async_id);
        free(p);
    }
    if (dns->ub) {
        mxv_fork_lock(MXV_FORK_LOCK_UNBOUND);
        dns->u->ctx_delete(dns->ub);
        mxv_fork_unlock(MXV_FORK_LOCK_UNBOUND);
    }
    mxv_dns_cache_free(dns->cache);
    mxv_dns_shared_close(dns->shared);
    free(dns->unbound_conf);
    free(dns);
}

/* The canonical name of an answer reached through an alias, when it is
 * one (see mxv_dns_answer). */
static void note_alias(const struct ub_result *r, mxv_dns_answer *a)
{
    char canon[sizeof(a->canonical)], qname[sizeof(a->canonical)];
    if (!r->canonname || !r->qname || !mxv_text_copy(canon, sizeof(canon), r->canonname) ||
        !mxv_text_copy(qname, sizeof(qname), r->qname))
        return;
    for (char *n = canon; *n; n++)
        *n = (char)tolower((unsigned char)*n);
    size_t len = strlen(canon);
    if (len > 1 && canon[len - 1] == '.')
        canon[len - 1] = '\0';
    size_t qlen = strlen(qname);
    if (qlen > 1 && qname[qlen - 1] == '.')
        qname[qlen - 1] = '\0';
    if (strcasecmp(canon, qname) != 0)
        memcpy(a->canonical, canon, sizeof(canon));
}

static void translate(const mxv_dns *dns, int err, const struct ub_result *r, mxv_dns_answer *a)
{
    memset(a, 0, sizeof(*a));
    if (err != 0 || !r) {
        a->status = MXV_DNS_FAIL;
        snprintf(a->detail, sizeof(a->detail), "resolver error: %s", dns->u->strerror(err));
        return;
    }
    /* A path that carries no DNSSEC makes every answer "bogus" against
     * the root anchor; under prefer those answers are insecure. */
    bool bogus = r->bogus && dns->path != PATH_NO_DNSSEC;
    a->sec = !dns->validate ? MXV_SEC_NONE
             : bogus        ? MXV_SEC_BOGUS
             : r->secure    ? MXV_SEC_SECURE
                            : MXV_SEC_INSECURE;
    for (size_t i = 0; r->havedata && i < MXV_DNS_MAX_RECORDS && r->data[i]; i++) {
        a->rdata[i] = (const uint8_t *)r->data[i];
        a->rdlen[i] = (size_t)r->len[i];
        a->n = i + 1;
    }
    a->truncated = r->havedata && a->n == MXV_DNS_MAX_RECORDS && r->data[a->n];
    note_alias(r, a);
    if (bogus) {
        /* Bogus answers are discarded (policy.md 4): a validating
         * resolver would have said SERVFAIL, so this is temporary. */
        a->status = MXV_DNS_FAIL;
        snprintf(a->detail, sizeof(a->detail), "DNSSEC bogus%s%.120s", r->why_bogus ? ": " : "",
                 r->why_bogus ? r->why_bogus : "");
    } else if (r->rcode == 3 /* NXDOMAIN */) {
        a->status = MXV_DNS_NODATA;
        mxv_text_copy(a->detail, sizeof(a->detail), "NXDOMAIN");
    } else if (r->rcode != 0) {
        a->status = MXV_DNS_FAIL;
        snprintf(a->detail, sizeof(a->detail), "%s",
                 r->rcode == 2   ? "SERVFAIL"
                 : r->rcode == 5 ? "REFUSED"
                                 : "DNS error");
        a->n = 0;
    } else if (!r->havedata) {
        a->status = MXV_DNS_NODATA;
        mxv_text_copy(a->detail, sizeof(a->detail), "no record");
    } else {
        a->status = MXV_DNS_OK;
    }
}

static void deliver(pending *p, int err, struct ub_result *result);

static void on_result(void *arg, int err, struct ub_result *result)
{
    pending *p = arg;
    /* Bogus while the path is being probed: held until it is known
     * whether the path carries DNSSEC at all. */
    if (err == 0 && result && result->bogus && p->dns->path == PATH_PROBING) {
        p->held = result;
        return;
    }
    deliver(p, err, result);
}

/* The probe's answer: a root NS RRset that validates means the path
 * carries DNSSEC, and a bogus answer then is a real validation failure;
 * one that is bogus means signatures do not reach this machine (a
 * resolver or middlebox that strips them): under dnssec = prefer the
 * answers are taken as insecure, and that is said once. A probe that
 * fails tells nothing: asked again next time. */
static void on_probe(void *arg, int err, struct ub_result *result)
{
    pending *p = arg;
    mxv_dns *dns = p->dns;
    p->done = true;
    dns->path = err != 0 || !result || (!result->secure && !result->bogus) ? PATH_UNKNOWN
                : result->secure                                           ? PATH_DNSSEC
                                                                           : PATH_NO_DNSSEC;
    if (dns->shared && dns->path != PATH_UNKNOWN) {
        mxv_dns_answer verdict = {.status = MXV_DNS_NODATA};
        snprintf(verdict.detail, sizeof(verdict.detail), "%s",
                 dns->path == PATH_NO_DNSSEC ? PATH_NONE : "carries DNSSEC");
        mxv_dns_shared_put(dns->shared, PATH_NAME, PATH_TYPE, time(NULL), PATH_SECONDS, &verdict);
    }
    if (dns->path == PATH_NO_DNSSEC)
        snprintf(dns->notice, sizeof(dns->notice),
                 "this machine's resolver path carries no DNSSEC (the root's own records do not "
                 "validate: %.120s): with dnssec = prefer its answers are taken as insecure; "
                 "dnssec = require would refuse them",
                 result->why_bogus ? result->why_bogus : "signatures missing");
    if (result)
        dns->u->resolve_free(result);
    for (pending *q = dns->queue; q; q = q->next)
        if (q->held) {
            struct ub_result *held = q->held;
            q->held = NULL;
            deliver(q, 0, held);
        }
}

/* ub_resolve_async() under the UNBOUND lock: the first call finalises
 * the context (its log and configuration values are global). */
static int resolve_async(mxv_dns *dns, const char *name, pending *p, ub_callback_type cb)
{
    /* The first call starts libunbound's thread: with every signal
     * blocked, so that none of the program's handlers runs on it. */
    sigset_t all, was;
    bool first = !dns->started;
    if (first) {
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &was);
    }
    mxv_fork_lock(MXV_FORK_LOCK_UNBOUND);
    int rc = dns->u->resolve_async(dns->ub, name, p->rrtype, 1 /* IN */, p, cb, &p->async_id);
    mxv_fork_unlock(MXV_FORK_LOCK_UNBOUND);
    if (first)
        pthread_sigmask(SIG_SETMASK, &was, NULL);
    dns->started = rc == 0 || dns->started;
    return rc;
}

static void start_probe(mxv_dns *dns)
{
    pending *p = calloc(1, sizeof(*p));
    if (!p)
        return;
    *p = (pending){.next = dns->queue, .dns = dns, .rrtype = 2 /* NS */};
    mxv_text_copy(p->name, sizeof(p->name), ".");
    if (resolve_async(dns, ".", p, on_probe) != 0) {
        free(p);
        return;
    }
    dns->queue = p;
    dns->path = PATH_PROBING;
}

const char *mxv_dns_take_notice(mxv_dns *dns)
{
    static __thread char said[sizeof(dns->notice)];
    if (!dns || !dns->notice[0])
        return NULL;
    memcpy(said, dns->notice, sizeof(said));
    dns->notice[0] = '\0';
    return said;
}

bool mxv_dns_unvalidated(mxv_dns *dns)
{
    if (!dns->validate)
        return true;
    if (dns->unbound_conf || !dns->may_downgrade)
        return false;
    /* Looked at once a second, not at every decision (four times per
     * connection): an anchor installed meanwhile counts from the next
     * second on. */
    time_t now = time(NULL);
    if (dns->anchor_checked != now) {
        dns->anchor_present = access(ROOT_ANCHOR, R_OK) == 0;
        dns->anchor_checked = now;
    }
    if (!dns->anchor_present)
        return true; /* nothing to validate with: every answer is insecure */
    if (dns->path != PATH_UNKNOWN && dns->path != PATH_PROBING)
        return dns->path == PATH_NO_DNSSEC;
    /* Asked of the file once per verdict, not at every decision. */
    if (dns->path_none_until > now)
        return true;
    mxv_dns_shared_hit *hit = dns->shared ? malloc(sizeof(*hit)) : NULL;
    if (hit && mxv_dns_shared_get(dns->shared, PATH_NAME, PATH_TYPE, now, hit) &&
        strcmp(hit->answer.detail, PATH_NONE) == 0)
        dns->path_none_until = now + hit->ttl;
    free(hit);
    return dns->path_none_until > now;
}

void mxv_dns_allow_downgrade(mxv_dns *dns, bool allow)
{
    dns->may_downgrade = allow;
}

bool mxv_dns_downgrade_allowed(const mxv_dns *dns)
{
    return dns->may_downgrade;
}

static void deliver(pending *p, int err, struct ub_result *result)
{
    p->done = true;
    mxv_dns_answer answer;
    translate(p->dns, err, result, &answer);
    if (result && !answer.truncated && !answer.canonical[0]) {
        time_t now = time(NULL);
        mxv_dns_cache_put(p->dns->cache, p->name, p->rrtype, now, result->ttl, &answer);
        if (p->dns->shared)
            mxv_dns_shared_put(p->dns->shared, p->name, p->rrtype, now, result->ttl, &answer);
    }
    p->cb(p->arg, &answer);
    p->dns->u->resolve_free(result);
}

/* Tells a lookup's owner at once that it failed, and why. */
__attribute__((format(printf, 3, 4))) static void fail_now(mxv_dns_cb cb, void *arg,
                                                           const char *fmt, ...)
{
    mxv_dns_answer a = {.status = MXV_DNS_FAIL};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a.detail, sizeof(a.detail), fmt, ap);
    va_end(ap);
    cb(arg, &a);
}

bool mxv_dns_submit(mxv_dns *dns, const char *name, int rrtype, mxv_dns_cb cb, void *arg)
{
    mxv_dns_answer cached;
    time_t now = time(NULL);
    if (mxv_dns_cache_get(dns->cache, name, rrtype, now, &cached)) {
        cb(arg, &cached);
        return true;
    }
    mxv_dns_shared_hit *hit = dns->shared ? malloc(sizeof(*hit)) : NULL;
    if (hit && mxv_dns_shared_get(dns->shared, name, rrtype, now, hit)) {
        /* Kept here too, for the rest of this process's decisions, and
         * handed out from here: its rdata then live as long as any cached
         * answer's, not just until hit is freed. */
        mxv_dns_cache_put(dns->cache, name, rrtype, now, hit->ttl, &hit->answer);
        cb(arg, mxv_dns_cache_get(dns->cache, name, rrtype, now, &cached) ? &cached : &hit->answer);
        free(hit);
        return true;
    }
    free(hit);
    if (dns->cache_only) {
        dns->missed = true;
        fail_now(cb, arg, "not cached");
        return true;
    }
    if (!ensure_ub(dns)) {
        fail_now(cb, arg, "resolver unavailable: %.130s", dns->ub_error);
        return true;
    }
    if (dns->probe_wanted && dns->path == PATH_UNKNOWN)
        start_probe(dns);
    pending *p = calloc(1, sizeof(*p));
    if (!p)
        return false;
    *p = (pending){.next = dns->queue, .dns = dns, .rrtype = rrtype, .cb = cb, .arg = arg};
    mxv_text_copy(p->name, sizeof(p->name), name);
    dns->queue = p;
    int rc = resolve_async(dns, name, p, on_result);
    if (rc != 0) {
        p->done = true;
        fail_now(cb, arg, "resolver error: %s", dns->u->strerror(rc));
    }
    return true;
}

bool mxv_dns_cache_only(mxv_dns *dns, bool on)
{
    bool missed = dns->missed;
    dns->cache_only = on;
    dns->missed = false;
    return missed;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool any_pending(const mxv_dns *dns)
{
    for (const pending *p = dns->queue; p; p = p->next)
        if (!p->done)
            return true;
    return false;
}

void mxv_dns_run(mxv_dns *dns, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    while (any_pending(dns)) {
        long long left = deadline - now_ms();
        if (left <= 0)
            break;
        struct pollfd pfd = {.fd = dns->u->fd(dns->ub), .events = POLLIN};
        int n = poll(&pfd, 1, (int)left);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && dns->u->process(dns->ub) != 0)
            break;
    }
    /* A probe that did not finish tells nothing: the answers it held are
     * what they are (bogus), and the path is asked about again later. */
    if (dns->path == PATH_PROBING)
        dns->path = PATH_UNKNOWN;
    /* Whatever is left timed out: cancel it and say so to its owner. */
    for (pending *p = dns->queue; p; p = p->next) {
        if (p->done)
            continue;
        if (p->held) {
            struct ub_result *held = p->held;
            p->held = NULL;
            deliver(p, 0, held);
            continue;
        }
        dns->u->cancel(dns->ub, p->async_id);
        p->done = true;
        if (p->cb)
            fail_now(p->cb, p->arg, "timeout after %d ms", timeout_ms);
    }
    for (pending *p = dns->queue, *next; p; p = next) {
        next = p->next;
        free(p);
    }
    dns->queue = NULL;
}

bool mxv_dns_wire_name(const uint8_t *wire, size_t len, size_t *used, char *out, size_t outlen)
{
    size_t pos = 0, o = 0;
    for (;;) {
        if (pos >= len)
            return false;
        uint8_t l = wire[pos++];
        if (l == 0)
            break;
        /* libunbound hands out uncompressed rdata: a pointer is malformed. */
        if (l > 63 || pos + l > len)
            return false;
        if (o && o + 1 < outlen)
            out[o++] = '.';
        for (uint8_t i = 0; i < l; i++) {
            unsigned char c = wire[pos + i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-'))
                return false; /* not a host name: never a reference identifier */
            if (o + 1 >= outlen)
                return false;
            out[o++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
        }
        pos += l;
        if (o > MXV_NAME_MAX)
            return false;
    }
    if (outlen == 0)
        return false;
    out[o] = '\0';
    /* Same rule as for references: an all-numeric last label is not a
     * host name (the root, "", stays: it is the null MX). */
    const char *last = strrchr(out, '.');
    last = last ? last + 1 : out;
    if (*last && strspn(last, "0123456789") == strlen(last))
        return false;
    if (used)
        *used = pos;
    return true;
}

bool mxv_dns_parse_mx(const uint8_t *rdata, size_t len, unsigned *pref, char *out, size_t outlen)
{
    size_t used;
    if (len < 3)
        return false;
    *pref = (unsigned)rdata[0] << 8 | rdata[1];
    return mxv_dns_wire_name(rdata + 2, len - 2, &used, out, outlen) && used == len - 2;
}

bool mxv_dns_reverse_name(const char *ip, char *out, size_t outlen)
{
    unsigned char a[16];
    if (inet_pton(AF_INET, ip, a) == 1)
        return snprintf(out, outlen, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]) <
               (int)outlen;
    if (inet_pton(AF_INET6, ip, a) != 1 || outlen < 16 * 4 + sizeof("ip6.arpa"))
        return false;
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 15; i >= 0; i--) {
        out[o++] = hex[a[i] & 15];
        out[o++] = '.';
        out[o++] = hex[a[i] >> 4];
        out[o++] = '.';
    }
    strcpy(out + o, "ip6.arpa");
    return true;
}
