/* SPDX-License-Identifier: Apache-2.0 */
/* gnutls_anchors: a GnuTLS program's own trust anchors (gnutls_anchors.c). */
#ifndef MXV_SHIM_GNUTLS_ANCHORS_H
#define MXV_SHIM_GNUTLS_ANCHORS_H

#include "shim.h"

/* Hands the anchors the program loaded since the last call to the engine. */
void shim_gnutls_anchors_flush(const mxv_hook_api *api);

#endif
