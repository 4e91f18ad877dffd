/* SPDX-License-Identifier: Apache-2.0 */
/*
 * engine: libmxverify, loaded into the program only when needed (the
 * program creates an SSL_CTX, asks DNS for an MX, or connects to a port
 * mxverify might care about while it has libssl or the port is listed in
 * MXVERIFY_PORTS / is 25). From the directory the shim was loaded from,
 * else the system's library path.
 *
 * When it is needed and cannot be loaded (not installed, a chroot the
 * program entered first, a version mismatch), what the settings might
 * enforce is enforced without it: in-scope connections fail closed
 * (conns.c), and this is said once.
 */
#include "shim.h"
#include "stderr_line.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#define DEFAULT_CONF "/etc/mxverify.conf"

__thread int shim_busy __attribute__((tls_model("initial-exec")));
bool shim_no_settings;

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(const mxv_hook_api *) api;
static atomic_bool tried;
static atomic_bool have_libssl;

/* libmxverify beside the shim (the build tree), one directory up (an
 * install: ${libdir}/mxverify/ holds the shim), else by the default
 * search path. */
static void *open_engine(void)
{
    Dl_info info;
    if (dladdr((void *)open_engine, &info) && info.dli_fname) {
        char path[4096];
        const char *slash = strrchr(info.dli_fname, '/');
        static const char *const where[] = {"", "../"};
        for (size_t i = 0; slash && i < 2; i++) {
            if ((size_t)(slash - info.dli_fname) + 24 >= sizeof(path))
                break;
            snprintf(path, sizeof(path), "%.*s/%slibmxverify.so.0", (int)(slash - info.dli_fname),
                     info.dli_fname, where[i]);
            void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
            if (h)
                return h;
        }
    }
    return dlopen("libmxverify.so.0", RTLD_NOW | RTLD_LOCAL);
}

void shim_say(const char *fmt, ...)
{
    char raw[700], msg[700], line[720];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    /* Control characters escaped: a value with a newline forges nothing. */
    size_t k = 0;
    for (const char *p = raw; *p && k + 5 < sizeof(msg); p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f)
            k += (size_t)snprintf(msg + k, sizeof(msg) - k, "\\x%02x", c);
        else
            msg[k++] = (char)c;
    }
    msg[k] = '\0';
    int n = snprintf(line, sizeof(line), "mxverify: %s\n", msg);
    if (n > 0)
        mxv_stderr_line(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
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
        char err[512] = "";
        void *h = open_engine();
        const mxv_hook_api *(*entry)(const mxv_hook_host *, char *, size_t) =
            h ? (const mxv_hook_api *(*)(const mxv_hook_host *, char *, size_t))dlsym(
                    h, MXV_PRELOAD_ENGINE_NAME)
              : NULL;
        const char *consequence = shim_settings_may_enforce()
                                      ? "in-scope connections fail closed"
                                      : "TLS is not verified (the settings do not enforce)";
        if (!entry) {
            /* No entry point of this version: an engine of another one
             * (installed after this process started), or none at all. */
            shim_say("cannot load libmxverify (%s; restart the program after an upgrade): %s",
                     dlerror(), consequence);
        } else if (!(a = entry(&shim_host, err, sizeof(err)))) {
            shim_say("cannot start: %s: %s", err, consequence);
        } else if (a->version != MXV_HOOK_API_VERSION) {
            shim_say("libmxverify and the preload shim are of different versions: %s", consequence);
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

bool shim_engine_failed(void)
{
    return atomic_load_explicit(&tried, memory_order_acquire) &&
           !atomic_load_explicit(&api, memory_order_acquire);
}

static bool conf_present(void)
{
    const char *conf = secure_getenv("MXVERIFY_CONF");
    struct stat st;
    return (conf && *conf) || stat(DEFAULT_CONF, &st) == 0;
}

/* MXVERIFY_PORTS read without the engine: a list of ports, digits and
 * commas only; anything else lists every port (the engine would refuse
 * it as a configuration error, and failing closed must not miss the port
 * meant). */
static bool env_lists_port(const char *v, unsigned port)
{
    if (strspn(v, "0123456789, ") != strlen(v))
        return true;
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

/* Might the settings put `port` in scope? MXVERIFY_PORTS overrides the
 * file; a config file's `ports` only the engine can read, so with a file
 * every port might be; without either, 25. */
static bool port_maybe_listed(unsigned port)
{
    const char *v = secure_getenv("MXVERIFY_PORTS");
    if (v && *v)
        return env_lists_port(v, port);
    return port == 25 || conf_present();
}

bool shim_failclosed_port(unsigned port)
{
    return port_maybe_listed(port);
}

/* Settings come from MXVERIFY_* variables (not for set-user-ID programs,
 * as secure_getenv) and the config file; checked once, the first time a
 * descriptor needs it. */
bool shim_settings_present(void)
{
    static atomic_int known; /* 0 not yet, 1 none, 2 present */
    int k = atomic_load_explicit(&known, memory_order_relaxed);
    if (k)
        return k == 2;
    extern char **environ;
    int saved = errno;
    bool present = conf_present();
    for (char **e = environ; !present && !getauxval(AT_SECURE) && e && *e; e++) {
        const char *eq = strchr(*e, '=');
        present = strncmp(*e, "MXVERIFY_", 9) == 0 && eq && eq[1] != '\0';
    }
    atomic_store_explicit(&known, present ? 2 : 1, memory_order_relaxed);
    shim_no_settings = !present;
    errno = saved;
    return present;
}

bool shim_settings_may_enforce(void)
{
    const char *mode = secure_getenv("MXVERIFY_MODE");
    if (mode && *mode) {
        static const char *const lax[] = {"none", "preferred", "preferred-verify", "1", "2", "4"};
        const char *report = secure_getenv("MXVERIFY_REPORT_ONLY");
        if (report && strcmp(report, "1") == 0)
            return false;
        for (size_t i = 0; i < sizeof(lax) / sizeof(lax[0]); i++)
            if (strcmp(mode, lax[i]) == 0)
                return conf_present(); /* a destination in the file may enforce */
        return true;                   /* required*, or a value only the engine could judge */
    }
    return conf_present();
}

bool shim_program_has_libssl(void)
{
    if (!atomic_load_explicit(&have_libssl, memory_order_relaxed)) {
        void *h = dlopen("libssl.so.3", RTLD_LAZY | RTLD_NOLOAD);
        if (!h)
            return false;
        dlclose(h);
        atomic_store(&have_libssl, true);
    }
    return true;
}

bool shim_engine_wanted(unsigned port)
{
    if (atomic_load_explicit(&tried, memory_order_relaxed))
        return true;
    return port_maybe_listed(port) || shim_program_has_libssl();
}
