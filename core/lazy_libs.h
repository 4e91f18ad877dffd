/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lazy_libs: libunbound, libidn2 and libcurl, loaded at their first use instead of
 * with libmxverify. Every OpenSSL program on a machine with the provider
 * enabled loads libmxverify, and most never deliver mail: mapping
 * libunbound (with libevent, nettle, gmp) and libidn2 (with libunistring)
 * into each of them cost about 1.5 ms of start-up on the test machine.
 * DNS is needed at the first SMTP handshake; libidn2 only for a
 * non-ASCII name; libcurl only to fetch an MTA-STS policy.
 */
#ifndef MXV_LAZY_LIBS_H
#define MXV_LAZY_LIBS_H

#include <curl/curl.h>
#include <stddef.h>
#include <unbound.h>

/* The libunbound functions the engine calls, typed from unbound.h. */
typedef struct {
    __typeof__(ub_ctx_create) *ctx_create;
    __typeof__(ub_ctx_delete) *ctx_delete;
    __typeof__(ub_ctx_async) *ctx_async;
    __typeof__(ub_ctx_config) *ctx_config;
    __typeof__(ub_ctx_resolvconf) *ctx_resolvconf;
    __typeof__(ub_ctx_hosts) *ctx_hosts;
    __typeof__(ub_ctx_add_ta_file) *ctx_add_ta_file;
    __typeof__(ub_ctx_set_option) *ctx_set_option;
    __typeof__(ub_ctx_get_option) *ctx_get_option;
    __typeof__(ub_resolve_async) *resolve_async;
    __typeof__(ub_cancel) *cancel;
    __typeof__(ub_resolve_free) *resolve_free;
    __typeof__(ub_fd) *fd;
    __typeof__(ub_process) *process;
    __typeof__(ub_strerror) *strerror;
} mxv_unbound_api;

/* Loads libunbound once per process; NULL with a reason in err when it
 * cannot be loaded. */
const mxv_unbound_api *mxv_unbound(char *err, size_t errlen);

/* The libcurl functions MTA-STS's policy fetch calls (sts_fetch.c): only
 * processes that fetch a policy load libcurl (and its own libraries). */
typedef struct {
    __typeof__(curl_global_init) *global_init;
    __typeof__(curl_easy_init) *easy_init;
    __typeof__(curl_easy_setopt) *easy_setopt;
    __typeof__(curl_easy_perform) *easy_perform;
    __typeof__(curl_easy_getinfo) *easy_getinfo;
    __typeof__(curl_easy_cleanup) *easy_cleanup;
    __typeof__(curl_easy_strerror) *easy_strerror;
    __typeof__(curl_slist_append) *slist_append;
    __typeof__(curl_slist_free_all) *slist_free_all;
} mxv_curl_api;

/* Loads libcurl once per process; NULL with a reason in err. */
const mxv_curl_api *mxv_curl(char *err, size_t errlen);

/* idn2_to_ascii_8z() from libidn2, loaded at the first call; a failure to
 * load is reported as an invalid name (IDN2_... codes are not invented). */
int mxv_idn2_to_ascii_8z(const char *input, char **output, int flags);

#endif
