/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lazy_libs: dlopen() by soname (the one the build linked against, see
 * CMakeLists.txt), RTLD_LOCAL so that the program's own copy of either
 * library, if any, is not disturbed; never closed.
 */
#include "lazy_libs.h"
#include "fork_hold.h"
#include "text_copy.h"

#include <dlfcn.h>
#include <idn2.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#ifndef MXV_LIBUNBOUND_SONAME
#define MXV_LIBUNBOUND_SONAME "libunbound.so.8"
#endif
#ifndef MXV_LIBIDN2_SONAME
#define MXV_LIBIDN2_SONAME "libidn2.so.0"
#endif
#ifndef MXV_LIBCURL_SONAME
#define MXV_LIBCURL_SONAME "libcurl.so.4"
#endif

static pthread_once_t unbound_once = PTHREAD_ONCE_INIT;
static mxv_unbound_api unbound_api;
static bool unbound_ok;
static char unbound_error[256];

/* A library loaded (dlopen() and its own initialisation) under the LIBS
 * lock, so that no fork() copies a process halfway through it
 * (fork_hold.h). */
static void load_once(pthread_once_t *once, void (*load)(void))
{
    mxv_fork_lock(MXV_FORK_LOCK_LIBS);
    pthread_once(once, load);
    mxv_fork_unlock(MXV_FORK_LOCK_LIBS);
}

/* The library by soname, or NULL with the reason in error. */
static void *open_lib(const char *soname, char *error, size_t len)
{
    void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *why = dlerror();
        snprintf(error, len, "cannot load %s: %s", soname, why ? why : "unknown error");
    }
    return lib;
}

static void *symbol(void *lib, const char *name, bool *ok, const char *soname, char *error,
                    size_t len)
{
    void *p = dlsym(lib, name);
    if (!p && *ok) {
        snprintf(error, len, "%s: no %s", soname, name);
        *ok = false;
    }
    return p;
}

static void load_unbound(void)
{
    void *lib = open_lib(MXV_LIBUNBOUND_SONAME, unbound_error, sizeof(unbound_error));
    if (!lib)
        return;
    bool ok = true;
    mxv_unbound_api *a = &unbound_api;
#define LOAD(field, name)                                                                          \
    a->field = (__typeof__(a->field))symbol(lib, name, &ok, MXV_LIBUNBOUND_SONAME, unbound_error,  \
                                            sizeof(unbound_error))
    LOAD(ctx_create, "ub_ctx_create");
    LOAD(ctx_delete, "ub_ctx_delete");
    LOAD(ctx_async, "ub_ctx_async");
    LOAD(ctx_config, "ub_ctx_config");
    LOAD(ctx_resolvconf, "ub_ctx_resolvconf");
    LOAD(ctx_hosts, "ub_ctx_hosts");
    LOAD(ctx_add_ta_file, "ub_ctx_add_ta_file");
    LOAD(ctx_set_option, "ub_ctx_set_option");
    LOAD(ctx_get_option, "ub_ctx_get_option");
    LOAD(resolve_async, "ub_resolve_async");
    LOAD(cancel, "ub_cancel");
    LOAD(resolve_free, "ub_resolve_free");
    LOAD(fd, "ub_fd");
    LOAD(process, "ub_process");
    LOAD(strerror, "ub_strerror");
#undef LOAD
    unbound_ok = ok;
}

const mxv_unbound_api *mxv_unbound(char *err, size_t errlen)
{
    load_once(&unbound_once, load_unbound);
    if (unbound_ok)
        return &unbound_api;
    if (err && errlen)
        snprintf(err, errlen, "%s", unbound_error);
    return NULL;
}

static pthread_once_t idn2_once = PTHREAD_ONCE_INIT;
static __typeof__(idn2_to_ascii_8z) *to_ascii;

static void load_idn2(void)
{
    void *lib = dlopen(MXV_LIBIDN2_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (lib)
        to_ascii = (__typeof__(to_ascii))dlsym(lib, "idn2_to_ascii_8z");
}

int mxv_idn2_to_ascii_8z(const char *input, char **output, int flags)
{
    load_once(&idn2_once, load_idn2);
    if (!to_ascii) {
        *output = NULL;
        return IDN2_MALLOC; /* any code but IDN2_OK: the name is refused */
    }
    return to_ascii(input, output, flags);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static mxv_curl_api curl_api;
static bool curl_ok;
static char curl_error[256];

static void load_curl(void)
{
    void *lib = open_lib(MXV_LIBCURL_SONAME, curl_error, sizeof(curl_error));
    if (!lib)
        return;
    bool ok = true;
    mxv_curl_api *a = &curl_api;
#define LOAD(field, name)                                                                          \
    a->field = (__typeof__(a->field))symbol(lib, name, &ok, MXV_LIBCURL_SONAME, curl_error,        \
                                            sizeof(curl_error))
    LOAD(global_init, "curl_global_init");
    LOAD(easy_init, "curl_easy_init");
    LOAD(easy_setopt, "curl_easy_setopt");
    LOAD(easy_perform, "curl_easy_perform");
    LOAD(easy_getinfo, "curl_easy_getinfo");
    LOAD(easy_cleanup, "curl_easy_cleanup");
    LOAD(easy_strerror, "curl_easy_strerror");
    LOAD(slist_append, "curl_slist_append");
    LOAD(slist_free_all, "curl_slist_free_all");
#undef LOAD
    /* Once per process, before any handle: libcurl's own initialisation
     * (no signal handlers are installed by it). */
    if (ok && a->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        mxv_text_copy(curl_error, sizeof(curl_error), "curl_global_init failed");
        ok = false;
    }
    curl_ok = ok;
}

const mxv_curl_api *mxv_curl(char *err, size_t errlen)
{
    load_once(&curl_once, load_curl);
    if (curl_ok)
        return &curl_api;
    if (err && errlen)
        snprintf(err, errlen, "%s", curl_error);
    return NULL;
}
