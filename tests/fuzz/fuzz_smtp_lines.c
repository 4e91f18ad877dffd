/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz: SMTP replies from an untrusted server, through the probe's real
 * reader (bounded lines and line counts) over a socketpair, plus the
 * line, greeting and EHLO-keyword parsers. */
#include "smtp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    int code;
    bool last;
    smtp_parse_line((const char *)data, size, &code, &last);
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char host[256];
    smtp_greeting_host(text, host, sizeof(host));
    smtp_ehlo_has(text, "STARTTLS");
    free(text);

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return 0;
    ssize_t w = write(sv[1], data, size);
    (void)w;
    shutdown(sv[1], SHUT_WR);
    smtp_session s = {0};
    s.fd = sv[0];
    s.timeout_ms = 50;
    if (smtp_hello(&s) && (s.starttls != smtp_ehlo_has(s.reply, "STARTTLS")))
        abort();
    close(sv[0]);
    close(sv[1]);
    return 0;
}
