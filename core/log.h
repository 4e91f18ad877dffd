/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log: one line per decision to the configured sink (stderr, the syslog
 * mail facility, a file, or nowhere), as text or JSON. Never stdout: it
 * belongs to the host program.
 */
#ifndef MXV_LOG_H
#define MXV_LOG_H

#include "decision.h"
#include "settings.h"

void mxv_log_decision(const mxv_effective *e, const mxv_decision *d);
void mxv_log_message(const mxv_effective *e, int priority, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* syslog(priority, "mxverify: %s", text), under the SYSLOG lock
 * (fork_hold.h): a fork() never copies glibc's syslog lock held by one of
 * mxverify's threads. No openlog(): the program's identity and options
 * stay. */
void mxv_log_syslog(int priority, const char *text);

/* line with its control characters escaped (\xHH); caller frees. */
char *mxv_log_printable(const char *line);

#endif
