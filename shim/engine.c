/*
 * engine: libmxverify, loaded into the program only when needed (the
 * program creates an SSL_CTX, asks DNS for an MX, or connects to a port
 * mxverify might care about while it has libssl or the port is listed in
 * MXVERIFY_PORTS / is 25). From the directory the shim was loaded from,
 * else the system's library path.
 */
#include "shim.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

__thread int shim_busy __attribute__((tls_model("initial-exec")));

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(const mxv_hook_api *) api;
static atomic_bool tried;
static atomic_bool have_libssl;

static void *open_engine(void)
{
    Dl_info info;
    if (dladdr((void *)open_engine, &info) && info.dli_fname) {
        char path[4096];
        const char *slash = strrchr(info.dli_fname, '/');
        if (slash && (size_t)(slash - info.dli_fname) + 20 < sizeof(path)) {
            snprintf(path, sizeof(path), "%.*s/libmxverify.so.0", (int)(slash - info.dli_fname),
                     info.dli_fname);
            void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
            if (h)
                return h;
        }
    }
    return dlopen("libmxverify.so.0", RTLD_NOW | RTLD_LOCAL);
}

static void say(const char *msg)
{
    char line[600];
    int n = snprintf(line, sizeof(line), "mxverify: %s\n", msg);
    if (n > 0) {
        ssize_t w = write(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
        (void)w;
    }
    syslog(LOG_MAIL | LOG_ERR, "mxverify: %s", msg);
}

const mxv_hook_api *shim_engine(bool load)
{
    const mxv_hook_api *a = atomic_load_explicit(&api, memory_order_acquire);
    if (a || !load || atomic_load_explicit(&tried, memory_order_acquire))
        return a;
    shim_busy++;
    pthread_mutex_lock(&load_lock);
    if (!atomic_load(&tried)) {
        char err[512] = "", msg[600];
        void *h = open_engine();
        const mxv_hook_api *(*entry)(const mxv_hook_host *, char *, size_t) =
            h ? (const mxv_hook_api *(*)(const mxv_hook_host *, char *, size_t))dlsym(
                    h, "mxv_preload_engine")
              : NULL;
        if (!entry) {
            snprintf(msg, sizeof(msg), "cannot load libmxverify (%s): TLS is not verified",
                     dlerror());
            say(msg);
        } else if (!(a = entry(&shim_host, err, sizeof(err)))) {
            snprintf(msg, sizeof(msg), "cannot start: %s", err);
            say(msg);
        } else if (a->version != MXV_HOOK_API_VERSION) {
            say("libmxverify and the preload shim are of different versions");
            a = NULL;
        }
        atomic_store_explicit(&api, a, memory_order_release);
        atomic_store(&tried, true);
    }
    a = atomic_load(&api);
    pthread_mutex_unlock(&load_lock);
    shim_busy--;
    return a;
}

/* MXVERIFY_PORTS read without the engine: digits and commas only. */
static bool env_lists_port(unsigned port)
{
    const char *v = secure_getenv("MXVERIFY_PORTS");
    if (!v || !*v)
        return port == 25;
    unsigned cur = 0;
    bool digits = false;
    for (;; v++) {
        if (*v >= '0' && *v <= '9') {
            cur = cur * 10 + (unsigned)(*v - '0');
            digits = cur < 65536;
        } else {
            if (digits && cur == port)
                return true;
            cur = 0;
            digits = false;
            if (!*v)
                return false;
        }
    }
}

bool shim_engine_wanted(unsigned port)
{
    if (atomic_load_explicit(&tried, memory_order_relaxed))
        return true;
    if (env_lists_port(port))
        return true;
    if (!atomic_load_explicit(&have_libssl, memory_order_relaxed)) {
        void *h = dlopen("libssl.so.3", RTLD_LAZY | RTLD_NOLOAD);
        if (!h)
            return false;
        dlclose(h);
        atomic_store(&have_libssl, true);
    }
    return true;
}
