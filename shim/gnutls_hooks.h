/* SPDX-License-Identifier: Apache-2.0 */
/* gnutls_hooks: what the shim's GnuTLS files share (hook_gnutls.c keeps
 * the sessions; gnutls_checks.c, gnutls_anchors.c). */
#ifndef MXV_SHIM_GNUTLS_HOOKS_H
#define MXV_SHIM_GNUTLS_HOOKS_H

#include "shim.h"

#include <gnutls/gnutls.h>

/* The real GnuTLS function `name`: by version (GNUTLS_3_4, the node every
 * function used here is in), else unversioned. */
void *shim_gnutls_real(const char *name);

/* Declares and resolves, once, real_FN: the real function FN. */
#define REAL(fn)                                                                                   \
    static __typeof__(fn) *real_##fn;                                                              \
    if (!real_##fn)                                                                                \
        real_##fn = (__typeof__(fn) *)shim_gnutls_real(#fn);

/* Does the policy's identity stand for the program's name check in this
 * session (it passed, in a verifying mode)? */
bool shim_gnutls_name_replaced(gnutls_session_t s);
/* Is `der` the leaf of the session this thread passed last, with the
 * policy's identity, while no other handshake has started since? */
bool shim_gnutls_passed_leaf(const unsigned char *der, size_t len);

#endif
