/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SSL_CTX_new(), SSL_CTX_new_ex(): the first sign that the program does
 * TLS with the system's OpenSSL. The engine is loaded before the first
 * SSL_CTX exists, so its ex_data callback hooks every one of them.
 * SSL_CTX_set_cert_verify_callback(): the program's own callback is kept
 * and run inside mxverify's, instead of replacing it.
 *
 * OpenSSL types are opaque here: the shim does not link libssl.
 */
#include "shim.h"

#include <stddef.h>

SHIM_EXPORT void *SSL_CTX_new(const void *method)
{
    static void *(*real)(const void *);
    if (!real && !(real = shim_real("SSL_CTX_new")))
        return NULL;
    if (!shim_busy)
        shim_engine(true);
    return real(method);
}

SHIM_EXPORT void *SSL_CTX_new_ex(void *libctx, const char *propq, const void *method)
{
    static void *(*real)(void *, const char *, const void *);
    if (!real && !(real = shim_real("SSL_CTX_new_ex")))
        return NULL;
    if (!shim_busy)
        shim_engine(true);
    return real(libctx, propq, method);
}

SHIM_EXPORT void SSL_CTX_set_cert_verify_callback(void *ctx, mxv_cert_verify_fn cb, void *arg)
{
    static void (*real)(void *, mxv_cert_verify_fn, void *);
    if (!real && !(real = shim_real("SSL_CTX_set_cert_verify_callback")))
        return;
    const mxv_hook_api *api = shim_engine(false);
    if (!shim_busy && api && api->set_program_cert_verify(ctx, cb, arg))
        return;
    real(ctx, cb, arg);
}
