/* SPDX-License-Identifier: Apache-2.0 */
/* received: what the provider read from its configuration section when it
 * started, kept for the configuration module (conf_module.c), which
 * checks that section in the configuration OpenSSL loaded. */
#ifndef MXV_PROVIDER_RECEIVED_H
#define MXV_PROVIDER_RECEIVED_H

#include <stddef.h>

/* The keys asked for and the values received (NULL: not in the section);
 * returns how many (0 before the provider started). Owned by the
 * provider, valid until the process ends. */
size_t mxv_provider_received(const char *const **keys, char *const **values);

#endif
