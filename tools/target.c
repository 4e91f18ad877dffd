/* SPDX-License-Identifier: Apache-2.0 */
#include "target.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "host", "host:port", "[host]:port", "[v6]:port" into a target. */
bool target_parse(const char *text, int default_port, target *t)
{
    char buf[300];
    snprintf(buf, sizeof(buf), "%s", text);
    char *host = buf, *port = NULL;
    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (!close)
            return false;
        *close = '\0';
        host = buf + 1;
        if (close[1] == ':')
            port = close + 2;
        else if (close[1])
            return false;
    } else if (strchr(buf, ':') == strrchr(buf, ':') && strchr(buf, ':')) {
        port = strchr(buf, ':');
        *port++ = '\0';
    }
    t->port = default_port;
    if (port) {
        char *end;
        long p = strtol(port, &end, 10);
        if (!*port || *end || p < 1 || p > 65535)
            return false;
        t->port = (int)p;
    }
    if (!*host || strlen(host) >= sizeof(t->host))
        return false;
    memcpy(t->host, host, strlen(host) + 1);
    return true;
}

SSL_CTX *target_probe_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    /* The probe decides itself on the chain it captured: OpenSSL must not
     * stop the handshake first, or there would be nothing to show. */
    if (ctx)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    return ctx;
}

bool target_is_ip(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}
