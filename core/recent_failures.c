/* SPDX-License-Identifier: Apache-2.0 */
/*
 * recent_failures: a small ring, newest entry overwriting the oldest. A
 * process that refuses more servers than this within the window only loses
 * the explanation for the oldest, never a decision.
 */
#include "recent_failures.h"

#include <pthread.h>
#include <string.h>

enum { SLOTS = 32 };

static struct {
    char ip[64];
    const char *reason;
    time_t when;
} ring[SLOTS];
static size_t next_slot;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static time_t now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

void mxv_recent_failure_add(const char *ip, const char *reason)
{
    if (!ip || !*ip || strlen(ip) >= sizeof(ring[0].ip))
        return;
    pthread_mutex_lock(&lock);
    strcpy(ring[next_slot].ip, ip);
    ring[next_slot].reason = reason ? reason : "validation-failure";
    ring[next_slot].when = now();
    next_slot = (next_slot + 1) % SLOTS;
    pthread_mutex_unlock(&lock);
}

bool mxv_recent_failure_find(const char *ip, time_t max_age, const char **reason, time_t *age)
{
    if (!ip || !*ip)
        return false;
    bool found = false;
    time_t t = now();
    pthread_mutex_lock(&lock);
    for (size_t k = 1; k <= SLOTS && !found; k++) { /* newest first */
        size_t i = (next_slot + SLOTS - k) % SLOTS;
        if (ring[i].reason && strcmp(ring[i].ip, ip) == 0 && t - ring[i].when <= max_age) {
            *reason = ring[i].reason;
            *age = t - ring[i].when;
            found = true;
        }
    }
    pthread_mutex_unlock(&lock);
    return found;
}

void mxv_recent_failures_after_fork(void)
{
    pthread_mutex_init(&lock, NULL);
}
