/* SPDX-License-Identifier: Apache-2.0 */
/*
 * recent_failures: the servers whose certificate this process refused
 * lately, by address. When a program then retries the same server in clear
 * (Postfix does, at level "may") and mxverify ends that connection, the log
 * line can say so, instead of a bare starttls-not-supported that an
 * administrator would read as "the server offers no STARTTLS".
 */
#ifndef MXV_RECENT_FAILURES_H
#define MXV_RECENT_FAILURES_H

#include <stdbool.h>
#include <time.h>

/* Remembers that TLS to ip failed for reason (a static string). */
void mxv_recent_failure_add(const char *ip, const char *reason);
/* The latest failure for ip no older than max_age seconds: its reason and
 * age. False when there is none. */
bool mxv_recent_failure_find(const char *ip, time_t max_age, const char **reason, time_t *age);
/* In a forked child: the lock may have been held by a thread that is gone. */
void mxv_recent_failures_after_fork(void);

#endif
