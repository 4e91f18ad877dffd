/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GnuTLS programs (Exim as Debian builds it, msmtp): the policy decides
 * inside the handshake, as for OpenSSL programs.
 *
 * Client sessions are tracked from gnutls_init() to gnutls_deinit(), with
 * the name the program gave GnuTLS (gnutls_session_set_verify_cert's, else
 * SNI) and the program's own verify functions (session-level, which
 * gnutls_session_set_verify_cert() installs too, and credentials-level).
 * Before the first gnutls_handshake() on a session whose socket is an
 * in-scope connection, mxverify's session verify function takes their
 * place; GnuTLS calls it with the server's certificates. It decides (the
 * engine, from the DER chain), then runs the program's own function: a
 * refusal by either fails the handshake, so a certificate the policy
 * refuses fails even where the program treats verification as optional
 * (Exim's tls_try_verify_hosts), and the program's own rejection stands.
 * A resumption (no certificate message) is decided when the handshake
 * completes, from the certificates the session kept.
 *
 * Where the policy's identity replaces the program's host-name check (the
 * verifying modes, as for OpenSSL programs), the checks a program makes
 * report the policy's verdict on the name (gnutls_checks.c).
 *
 * The shim links no GnuTLS: the real functions are found by version
 * (GNUTLS_3_4, the node all of these are in), only in programs that call
 * them.
 */
#include "conn.h"
#include "gnutls_anchors.h"
#include "gnutls_hooks.h"
#include "gnutls_resume.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* --- what is known of each client session --- */

typedef struct session {
    struct session *next;
    gnutls_session_t s;
    char verify_name[256], sni[256];
    gnutls_certificate_verify_function *program_fn; /* session-level, the program's */
    gnutls_handshake_hook_func program_hook;        /* the program's handshake hook */
    unsigned program_hook_type;
    int program_hook_when;
    bool ours;        /* mxverify's function is installed */
    bool handshaking; /* a handshake started and not finished (non-blocking: several calls) */
    bool decided;     /* in the current handshake */
    mxv_chain_verdict verdict;
    unsigned char decided_random[MXV_HELLO_RANDOM_LEN]; /* the handshake decided */
    bool replace_name;
    shim_chain chain;       /* the certificates of the last pass decision */
    shim_chain resume;      /* those of the session being resumed */
    unsigned char *pending; /* session data the program set, handed over at the handshake */
    size_t pending_size;
} session;

typedef struct cred_fn {
    struct cred_fn *next;
    gnutls_certificate_credentials_t cred;
    gnutls_certificate_verify_function *fn;
} cred_fn;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static session *sessions;
static cred_fn *cred_fns;

/* The session whose handshake this thread passed last with the policy's
 * identity standing for the program's name check, until the thread starts
 * another handshake (of any session) or the session ends: only that
 * session's leaf is reported as matching a name. */
static __thread gnutls_session_t passed_session;

/* Called with the lock held. */
static session *find_locked(gnutls_session_t s)
{
    session *p = sessions;
    while (p && p->s != s)
        p = p->next;
    return p;
}

static int our_verify(gnutls_session_t s);
static int our_hook(gnutls_session_t s, unsigned int htype, unsigned when, unsigned int incoming,
                    const gnutls_datum_t *msg);

SHIM_EXPORT int gnutls_init(gnutls_session_t *s, unsigned int flags)
{
    REAL(gnutls_init);
    if (!real_gnutls_init)
        return GNUTLS_E_INTERNAL_ERROR;
    int r = real_gnutls_init(s, flags);
    if (r != GNUTLS_E_SUCCESS || !(flags & GNUTLS_CLIENT) || shim_busy || !shim_settings_present())
        return r;
    session *n = calloc(1, sizeof(*n));
    if (!n)
        return r; /* untracked: its handshake is never decided, the guard refuses its data */
    n->s = *s;
    pthread_mutex_lock(&lock);
    n->next = sessions;
    sessions = n;
    pthread_mutex_unlock(&lock);
    return r;
}

SHIM_EXPORT void gnutls_deinit(gnutls_session_t s)
{
    REAL(gnutls_deinit);
    if (passed_session == s)
        passed_session = NULL;
    pthread_mutex_lock(&lock);
    session **p = &sessions;
    while (*p && (*p)->s != s)
        p = &(*p)->next;
    session *gone = *p;
    if (gone)
        *p = gone->next;
    pthread_mutex_unlock(&lock);
    if (gone) {
        shim_chain_free(&gone->chain);
        shim_chain_free(&gone->resume);
        free(gone->pending);
    }
    free(gone);
    if (real_gnutls_deinit)
        real_gnutls_deinit(s);
}

static void copy_name(char *dst, size_t room, const void *name, size_t len)
{
    if (!name || len >= room || memchr(name, '\0', len))
        return; /* longer than any DNS name, or with a NUL inside: not a name */
    memcpy(dst, name, len);
    dst[len] = '\0';
}

SHIM_EXPORT int gnutls_server_name_set(gnutls_session_t s, gnutls_server_name_type_t type,
                                       const void *name, size_t len)
{
    REAL(gnutls_server_name_set);
    if (!real_gnutls_server_name_set)
        return GNUTLS_E_INTERNAL_ERROR;
    int r = real_gnutls_server_name_set(s, type, name, len);
    pthread_mutex_lock(&lock);
    session *st = find_locked(s);
    if (st && r == GNUTLS_E_SUCCESS && type == GNUTLS_NAME_DNS)
        copy_name(st->sni, sizeof(st->sni), name, len);
    pthread_mutex_unlock(&lock);
    return r;
}

SHIM_EXPORT void gnutls_session_set_verify_function(gnutls_session_t s,
                                                    gnutls_certificate_verify_function *fn)
{
    REAL(gnutls_session_set_verify_function);
    if (!real_gnutls_session_set_verify_function)
        return;
    pthread_mutex_lock(&lock);
    session *st = find_locked(s);
    bool keep_ours = st && st->ours && fn != our_verify;
    if (st && fn != our_verify)
        st->program_fn = fn; /* run by ours, after the policy's decision */
    pthread_mutex_unlock(&lock);
    if (!keep_ours)
        real_gnutls_session_set_verify_function(s, fn);
}

/* gnutls_session_set_verify_cert() installs GnuTLS's own verify function
 * through gnutls_session_set_verify_function() (seen above): only the
 * name is noted here. */
SHIM_EXPORT void gnutls_session_set_verify_cert(gnutls_session_t s, const char *hostname,
                                                unsigned flags)
{
    REAL(gnutls_session_set_verify_cert);
    pthread_mutex_lock(&lock);
    session *st = find_locked(s);
    if (st && hostname)
        copy_name(st->verify_name, sizeof(st->verify_name), hostname, strlen(hostname));
    pthread_mutex_unlock(&lock);
    if (real_gnutls_session_set_verify_cert)
        real_gnutls_session_set_verify_cert(s, hostname, flags);
}

SHIM_EXPORT void gnutls_session_set_verify_cert2(gnutls_session_t s, gnutls_typed_vdata_st *data,
                                                 unsigned elements, unsigned flags)
{
    REAL(gnutls_session_set_verify_cert2);
    pthread_mutex_lock(&lock);
    session *st = find_locked(s);
    for (unsigned i = 0; st && data && i < elements; i++)
        if (data[i].type == GNUTLS_DT_DNS_HOSTNAME && data[i].data)
            copy_name(st->verify_name, sizeof(st->verify_name), data[i].data,
                      data[i].size ? data[i].size : strlen((const char *)data[i].data));
    pthread_mutex_unlock(&lock);
    if (real_gnutls_session_set_verify_cert2)
        real_gnutls_session_set_verify_cert2(s, data, elements, flags);
}

SHIM_EXPORT void gnutls_certificate_set_verify_function(gnutls_certificate_credentials_t cred,
                                                        gnutls_certificate_verify_function *fn)
{
    REAL(gnutls_certificate_set_verify_function);
    cred_fn *n = calloc(1, sizeof(*n));
    pthread_mutex_lock(&lock);
    cred_fn *p = cred_fns;
    while (p && p->cred != cred)
        p = p->next;
    if (p) {
        p->fn = fn;
    } else if (n) {
        *n = (cred_fn){.next = cred_fns, .cred = cred, .fn = fn};
        cred_fns = n;
        n = NULL;
    }
    pthread_mutex_unlock(&lock);
    free(n);
    if (real_gnutls_certificate_set_verify_function)
        real_gnutls_certificate_set_verify_function(cred, fn);
}

/* The verify function the program set on the session's credentials. */
static gnutls_certificate_verify_function *credentials_fn(gnutls_session_t s)
{
    REAL(gnutls_credentials_get);
    void *cred = NULL;
    if (!real_gnutls_credentials_get ||
        real_gnutls_credentials_get(s, GNUTLS_CRD_CERTIFICATE, &cred) < 0 || !cred)
        return NULL;
    gnutls_certificate_verify_function *fn = NULL;
    pthread_mutex_lock(&lock);
    for (cred_fn *p = cred_fns; p && !fn; p = p->next)
        if (p->cred == cred)
            fn = p->fn;
    pthread_mutex_unlock(&lock);
    return fn;
}

/* The socket under the session, when it is an in-scope connection; -1
 * when it is another socket; -2 when the program moves the bytes itself
 * (its own push and pull functions over something that is not a socket:
 * which socket carried them is known once its ClientHello has left). */
static int in_scope_fd(gnutls_session_t s)
{
    REAL(gnutls_transport_get_int2);
    int recv_fd = -1, send_fd = -1;
    if (!real_gnutls_transport_get_int2)
        return -1;
    real_gnutls_transport_get_int2(s, &recv_fd, &send_fd);
    if (shim_conn_of(shim_fd_entry(send_fd)))
        return send_fd;
    struct stat st;
    return send_fd >= 0 && fstat(send_fd, &st) == 0 && S_ISSOCK(st.st_mode) ? -1 : -2;
}

/* The in-scope socket of a session in its handshake: its transport's, or
 * the one that carried its ClientHello (a transport of the program's
 * own, as OpenSSL programs' own BIOs are tied); -1: out of scope. */
static int handshake_fd(gnutls_session_t s)
{
    REAL(gnutls_session_get_random);
    int fd = in_scope_fd(s);
    if (fd != -2)
        return fd;
    gnutls_datum_t client = {0}, server = {0};
    if (!real_gnutls_session_get_random)
        return -1;
    real_gnutls_session_get_random(s, &client, &server);
    return client.size == MXV_HELLO_RANDOM_LEN ? shim_host.fd_of_hello(client.data) : -1;
}

/* The engine's decision for this handshake (notes it on the session). */
static mxv_chain_verdict decide(gnutls_session_t s, int fd, bool resumed)
{
    shim_host.tls_started(fd, "gnutls"); /* a transport of the program's own: known now */
    REAL(gnutls_certificate_get_peers);
    REAL(gnutls_session_get_random);
    const mxv_hook_api *api = shim_engine(false);
    if (!api || !real_gnutls_certificate_get_peers || !real_gnutls_session_get_random)
        return MXV_CHAIN_FAIL; /* in scope, and nothing can decide: closed */
    unsigned n = 0;
    const gnutls_datum_t *peers = real_gnutls_certificate_get_peers(s, &n);
    gnutls_datum_t client = {0}, server = {0};
    real_gnutls_session_get_random(s, &client, &server);
    const unsigned char *der[SHIM_CHAIN_MAX];
    size_t len[SHIM_CHAIN_MAX];
    n = peers ? (n < SHIM_CHAIN_MAX ? n : SHIM_CHAIN_MAX) : 0;
    for (unsigned i = 0; i < n; i++)
        der[i] = peers[i].data, len[i] = peers[i].size;
    char name[256] = "";
    shim_chain kept = {0}; /* a resumption's: the session's own are not given back yet */
    pthread_mutex_lock(&lock);
    session *st = find_locked(s);
    if (st)
        memcpy(name, st->verify_name[0] ? st->verify_name : st->sni, sizeof(name));
    if (st && n == 0 && st->resume.n)
        shim_chain_copy(&kept, (const unsigned char *const *)st->resume.der, st->resume.len,
                        st->resume.n);
    pthread_mutex_unlock(&lock);
    for (size_t i = 0; n == 0 && i < kept.n; i++)
        der[i] = kept.der[i], len[i] = kept.len[i];
    if (n == 0)
        n = (unsigned)kept.n;
    mxv_hook_chain chain = {
        .fd = fd,
        .random = client.size == MXV_HELLO_RANDOM_LEN ? client.data : NULL,
        .library = "gnutls",
        .server_name = name[0] ? name : NULL,
        .der = der,
        .der_len = len,
        .n = n,
        .resumed = resumed,
    };
    bool replace = false;
    shim_busy++;
    shim_gnutls_anchors_flush(api);
    mxv_chain_verdict v = api->decide_chain(&chain, &replace);
    shim_busy--;
    pthread_mutex_lock(&lock);
    st = find_locked(s);
    if (st) {
        st->decided = true;
        if (client.size == MXV_HELLO_RANDOM_LEN)
            memcpy(st->decided_random, client.data, MXV_HELLO_RANDOM_LEN);
        st->verdict = v;
        st->replace_name = replace && v == MXV_CHAIN_PASS;
        if (v == MXV_CHAIN_PASS)
            shim_chain_copy(&st->chain, der, len, n);
    }
    pthread_mutex_unlock(&lock);
    passed_session = replace && v == MXV_CHAIN_PASS && n ? s : NULL;
    shim_chain_free(&kept);
    return v;
}

/* GnuTLS's verify callback for in-scope sessions: the policy, then the
 * program's own function (the session's, else its credentials'). */
static int our_verify(gnutls_session_t s)
{
    int fd = handshake_fd(s);
    if (fd >= 0 && decide(s, fd, false) == MXV_CHAIN_FAIL)
        return -1; /* GNUTLS_E_CERTIFICATE_ERROR: the handshake fails */
    pthread_mutex_lock(&lock);
    session *st = find_locked(s);
    gnutls_certificate_verify_function *fn = st ? st->program_fn : NULL;
    pthread_mutex_unlock(&lock);
    if (!fn)
        fn = credentials_fn(s);
    return fn ? fn(s) : 0;
}

/* Session data the program sets on a session is handed to GnuTLS at the
 * handshake, when whether the connection is in scope is known. */
/* What gnutls_session_set_data() would say of `data` (it is handed over
 * later): tried on a session of its own. */
static int session_data_check(const void *data, size_t size)
{
    REAL(gnutls_init);
    REAL(gnutls_deinit);
    REAL(gnutls_session_set_data);
    gnutls_session_t scratch;
    if (!real_gnutls_init || !real_gnutls_deinit ||
        real_gnutls_init(&scratch, GNUTLS_CLIENT) != GNUTLS_E_SUCCESS)
        return GNUTLS_E_INTERNAL_ERROR;
    int r = real_gnutls_session_set_data(scratch, data, size);
    real_gnutls_deinit(scratch);
    return r;
}

SHIM_EXPORT int gnutls_session_set_data(gnutls_session_t s, const void *data, size_t size)
{
    REAL(gnutls_session_set_data);
    if (!real_gnutls_session_set_data)
        return GNUTLS_E_INTERNAL_ERROR;
    pthread_mutex_lock(&lock);
    bool tracked = find_locked(s) != NULL;
    pthread_mutex_unlock(&lock);
    int checked = tracked ? session_data_check(data, size) : GNUTLS_E_SUCCESS;
    if (checked != GNUTLS_E_SUCCESS)
        return checked; /* as GnuTLS answers it, and nothing is kept */
    unsigned char *copy = data && size ? malloc(size) : NULL;
    pthread_mutex_lock(&lock);
    session *st = copy ? find_locked(s) : NULL;
    if (st) {
        memcpy(copy, data, size);
        free(st->pending);
        st->pending = copy;
        st->pending_size = size;
        copy = NULL;
    }
    pthread_mutex_unlock(&lock);
    if (!st) {
        free(copy);
        return real_gnutls_session_set_data(s, data, size);
    }
    return GNUTLS_E_SUCCESS;
}

/* A session saved after a pass decision: its certificates are kept for
 * its resumption. */
static void saved(gnutls_session_t s, const void *data, size_t size)
{
    shim_chain chain = {0};
    pthread_mutex_lock(&lock);
    session *st = find_locked(s);
    if (st && st->verdict == MXV_CHAIN_PASS && st->chain.n)
        shim_chain_copy(&chain, (const unsigned char *const *)st->chain.der, st->chain.len,
                        st->chain.n);
    pthread_mutex_unlock(&lock);
    if (chain.n && data && size)
        shim_resume_remember(data, size, &chain);
    shim_chain_free(&chain);
}

SHIM_EXPORT int gnutls_session_get_data2(gnutls_session_t s, gnutls_datum_t *data)
{
    REAL(gnutls_session_get_data2);
    if (!real_gnutls_session_get_data2)
        return GNUTLS_E_INTERNAL_ERROR;
    int r = real_gnutls_session_get_data2(s, data);
    if (r == GNUTLS_E_SUCCESS && data)
        saved(s, data->data, data->size);
    return r;
}

SHIM_EXPORT int gnutls_session_get_data(gnutls_session_t s, void *data, size_t *size)
{
    REAL(gnutls_session_get_data);
    if (!real_gnutls_session_get_data)
        return GNUTLS_E_INTERNAL_ERROR;
    int r = real_gnutls_session_get_data(s, data, size);
    if (r == GNUTLS_E_SUCCESS && data && size)
        saved(s, data, *size);
    return r;
}

/* Hands the session data the program set to GnuTLS, unless the session
 * is in scope and its certificates are not known (saved by another
 * process): then the handshake is a full one, decided as any other. */
static void apply_pending(gnutls_session_t s, bool in_scope)
{
    REAL(gnutls_session_set_data);
    pthread_mutex_lock(&lock);
    session *st = find_locked(s);
    unsigned char *data = st ? st->pending : NULL;
    size_t size = st ? st->pending_size : 0;
    if (st)
        st->pending = NULL;
    shim_chain known = {0};
    bool resume = data && (!in_scope || shim_resume_find(data, size, &known));
    if (st && resume) {
        shim_chain_free(&st->resume);
        st->resume = known;
    } else {
        shim_chain_free(&known);
    }
    pthread_mutex_unlock(&lock);
    if (resume && real_gnutls_session_set_data)
        real_gnutls_session_set_data(s, data, size);
    free(data);
}

SHIM_EXPORT int gnutls_handshake(gnutls_session_t s)
{
    REAL(gnutls_handshake);
    REAL(gnutls_session_set_verify_function);
    REAL(gnutls_session_is_resumed);
    if (!real_gnutls_handshake)
        return GNUTLS_E_INTERNAL_ERROR;
    if (!shim_busy && passed_session != s)
        passed_session = NULL; /* another handshake: the last one's pass no longer speaks */
    /* -2: the program's own transport, maybe in scope (known at the hello) */
    int fd = shim_busy ? -1 : in_scope_fd(s);
    apply_pending(s, fd != -1);
    if (fd >= 0)
        shim_host.tls_started(fd, "gnutls");
    /* GnuTLS finishing a handshake it returned early (False Start) calls
     * gnutls_handshake() again: the same handshake, already decided. */
    REAL(gnutls_session_get_random);
    gnutls_datum_t client = {0}, server = {0};
    if (fd != -1 && real_gnutls_session_get_random)
        real_gnutls_session_get_random(s, &client, &server);
    pthread_mutex_lock(&lock);
    session *st = fd != -1 ? find_locked(s) : NULL;
    bool install = st && !st->ours;
    bool same = st && st->decided && client.size == MXV_HELLO_RANDOM_LEN &&
                memcmp(client.data, st->decided_random, MXV_HELLO_RANDOM_LEN) == 0;
    if (st && !st->handshaking && !same) { /* a new handshake, not the next call of one */
        st->ours = true;
        st->handshaking = true;
        st->decided = false;
    }
    pthread_mutex_unlock(&lock);
    if (!st)
        return real_gnutls_handshake(s);
    REAL(gnutls_handshake_set_hook_function);
    if (install && real_gnutls_session_set_verify_function)
        real_gnutls_session_set_verify_function(s, our_verify);
    if (install && real_gnutls_handshake_set_hook_function)
        real_gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_ANY, GNUTLS_HOOK_BOTH,
                                                our_hook);
    int r = real_gnutls_handshake(s);
    if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
        return r; /* the same handshake goes on at the next call */
    pthread_mutex_lock(&lock);
    st = find_locked(s);
    bool decided = st && st->decided;
    if (st)
        st->handshaking = false;
    pthread_mutex_unlock(&lock);
    if (r != GNUTLS_E_SUCCESS)
        return r;
    /* No certificate came (a resumption): decided from the session's. */
    bool resumed = real_gnutls_session_is_resumed && real_gnutls_session_is_resumed(s);
    if (fd == -2)
        fd = handshake_fd(s);
    if (!decided && fd >= 0 && decide(s, fd, resumed) == MXV_CHAIN_FAIL)
        return GNUTLS_E_CERTIFICATE_ERROR;
    return r;
}

/* A resumption carries no certificate, so the verify function is not
 * called: decided just before this client's Finished leaves (in TLS 1.3
 * it is encrypted, as application data is, and the guard lets nothing
 * encrypted pass before a decision). The program's own hook, if any,
 * runs after. */
static int our_hook(gnutls_session_t s, unsigned int htype, unsigned when, unsigned int incoming,
                    const gnutls_datum_t *msg)
{
    REAL(gnutls_session_is_resumed);
    pthread_mutex_lock(&lock);
    session *st = find_locked(s);
    bool decided = !st || st->decided;
    gnutls_handshake_hook_func fn = st ? st->program_hook : NULL;
    unsigned fn_type = st ? st->program_hook_type : 0;
    int fn_when = st ? st->program_hook_when : 0;
    pthread_mutex_unlock(&lock);
    if (htype == GNUTLS_HANDSHAKE_FINISHED && when == GNUTLS_HOOK_PRE && !incoming && !decided) {
        int fd = handshake_fd(s);
        bool resumed = real_gnutls_session_is_resumed && real_gnutls_session_is_resumed(s);
        if (fd >= 0 && decide(s, fd, resumed) == MXV_CHAIN_FAIL)
            return GNUTLS_E_CERTIFICATE_ERROR;
    }
    if (fn && (fn_type == GNUTLS_HANDSHAKE_ANY || fn_type == htype) &&
        (fn_when == GNUTLS_HOOK_BOTH || (unsigned)fn_when == when))
        return fn(s, htype, when, incoming, msg);
    return 0;
}

SHIM_EXPORT void gnutls_handshake_set_hook_function(gnutls_session_t s, unsigned int htype,
                                                    int when, gnutls_handshake_hook_func fn)
{
    REAL(gnutls_handshake_set_hook_function);
    if (!real_gnutls_handshake_set_hook_function)
        return;
    pthread_mutex_lock(&lock);
    session *st = find_locked(s);
    bool keep_ours = st && st->ours && fn != our_hook;
    if (st && fn != our_hook) {
        st->program_hook = fn;
        st->program_hook_type = htype;
        st->program_hook_when = when;
    }
    pthread_mutex_unlock(&lock);
    if (!keep_ours)
        real_gnutls_handshake_set_hook_function(s, htype, when, fn);
}

/* --- for the program's own checks (gnutls_checks.c) --- */

bool shim_gnutls_name_replaced(gnutls_session_t s)
{
    pthread_mutex_lock(&lock);
    session *st = find_locked(s);
    bool replace = st && st->replace_name;
    pthread_mutex_unlock(&lock);
    return replace;
}

bool shim_gnutls_passed_leaf(const unsigned char *der, size_t len)
{
    if (!passed_session)
        return false;
    pthread_mutex_lock(&lock);
    session *st = find_locked(passed_session);
    bool same = st && st->replace_name && st->chain.n && len == st->chain.len[0] &&
                memcmp(der, st->chain.der[0], len) == 0;
    pthread_mutex_unlock(&lock);
    return same;
}
