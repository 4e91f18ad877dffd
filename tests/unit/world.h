/* SPDX-License-Identifier: Apache-2.0 */
/* world: a self-contained DNS world for unit tests, written to a temp
 * file as a libunbound config (local data only, nothing leaves the
 * machine): the worked example of policy.md section 5, plus IPv6. */
#ifndef MXV_TEST_WORLD_H
#define MXV_TEST_WORLD_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char world_conf[] =
    "server:\n"
    "    local-zone: \".\" static\n"
    "    local-zone: \"2.0.192.in-addr.arpa.\" nodefault\n"
    "    local-zone: \"8.b.d.0.1.0.0.2.ip6.arpa.\" nodefault\n"
    "    local-data: \"example.com. 300 IN MX 10 mx01.subd.emailhosted.not.\"\n"
    "    local-data: \"example.com. 300 IN MX 20 mx02.subd.emailhosted.not.\"\n"
    "    local-data: \"mx01.subd.emailhosted.not. 300 IN A 192.0.2.1\"\n"
    "    local-data: \"mx02.subd.emailhosted.not. 300 IN A 192.0.2.2\"\n"
    "    local-data-ptr: \"192.0.2.1 300 mx0a.emailhosted.not.\"\n"
    "    local-data-ptr: \"192.0.2.2 300 mx0b.emailhosted.not.\"\n"
    "    local-data: \"mx0a.emailhosted.not. 300 IN A 192.0.2.1\"\n"
    "    local-data: \"mx0b.emailhosted.not. 300 IN A 192.0.2.2\"\n"
    "    local-data-ptr: \"192.0.2.3 300 mx0a.emailhosted.not.\"\n"
    "    local-data: \"v6.example. 300 IN MX 10 mx6.emailhosted.not.\"\n"
    "    local-data: \"mx6.emailhosted.not. 300 IN AAAA 2001:db8::25\"\n"
    "    local-data-ptr: \"2001:db8::25 300 mx6.emailhosted.not.\"\n"
    "    local-data: \"nullmx.example. 300 IN MX 0 .\"\n";

/* A libunbound config whose only server never answers (nothing listens on
 * that loopback port), for DNS failures. */
static const char dead_conf[] = "server:\n"
                                "    do-not-query-localhost: no\n"
                                "forward-zone:\n"
                                "    name: \".\"\n"
                                "    forward-addr: 127.0.0.1@9\n";

static inline char *world_write(const char *text)
{
    char *path = strdup("/tmp/mxv-unit-world-XXXXXX");
    int fd = path ? mkstemp(path) : -1;
    if (fd < 0) {
        free(path);
        return NULL;
    }
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

#endif
