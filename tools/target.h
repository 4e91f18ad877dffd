/* SPDX-License-Identifier: Apache-2.0 */
/* target: what the live probes (check, audit) share: a server given as
 * HOST[:PORT], and the TLS context of a probe that decides for itself. */
#ifndef MXV_TARGET_H
#define MXV_TARGET_H

#include <openssl/ssl.h>
#include <stdbool.h>

typedef struct {
    char host[256];
    int port;
} target;

/* "host", "host:port", "[host]:port", "[v6]:port" into a target. */
bool target_parse(const char *text, int default_port, target *t);
bool target_is_ip(const char *s);
/* SSL_VERIFY_NONE: the probe decides on the chain it captured itself, so
 * OpenSSL must not end the handshake first. */
SSL_CTX *target_probe_ctx(void);

#endif
