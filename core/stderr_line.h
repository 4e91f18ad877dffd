/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stderr_line: one line of mxverify's own on the process's standard
 * error, when that is somewhere to say it. Shared by the engine and the
 * preload shim (no OpenSSL here).
 */
#ifndef MXV_STDERR_LINE_H
#define MXV_STDERR_LINE_H

#include <stdbool.h>
#include <stddef.h>

/* Writes len bytes to descriptor 2 in one call. false (nothing written)
 * when descriptor 2 is a TCP socket: a program that made standard error
 * a network connection, perhaps the very SMTP connection being judged,
 * must not have mxverify's lines sent to the peer (the caller logs to
 * syslog instead). On a local socket (the systemd journal) a peer gone
 * away is not SIGPIPE. */
bool mxv_stderr_line(const char *text, size_t len);

#endif
