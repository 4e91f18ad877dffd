/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fork_hold: locks the thread that calls fork() takes first, so that no
 * other thread of the process is halfway through what they guard when
 * the child's copy of memory is made (POSIX fork(): the child has one
 * thread, and a lock another thread held stays held in it for ever).
 * Parent and child release them after the fork.
 */
#ifndef MXV_FORK_HOLD_H
#define MXV_FORK_HOLD_H

#include <pthread.h>

/* A lock to hold across fork(), in static storage with its lock. */
typedef struct mxv_fork_held {
    pthread_mutex_t *lock;
    struct mxv_fork_held *next;
} mxv_fork_held;

/* Registers held->lock to be taken before every later fork(); once per
 * lock (pthread_once). The lock must be a leaf: never held while another
 * registered lock is taken. */
void mxv_fork_hold(mxv_fork_held *held);

#endif
