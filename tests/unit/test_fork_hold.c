/* SPDX-License-Identifier: Apache-2.0 */
/* test_fork_hold: fork() waits until no other thread holds one of the
 * locks held across it (the child's copy never shows one halfway), and a
 * thread that forks while it holds one itself does not wait for itself. */
#include "fork_hold.h"
#include "unit_main.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static atomic_int inside, entered;

/* Holds the lock 200 ms, with `inside` set meanwhile: a child whose copy
 * of memory was made then would see it set. */
static void *holder(void *arg)
{
    mxv_fork_lock_id id = (mxv_fork_lock_id)(long)arg;
    mxv_fork_lock(id);
    atomic_store(&inside, 1);
    atomic_store(&entered, 1);
    struct timespec hold = {0, 200 * 1000 * 1000};
    nanosleep(&hold, NULL);
    atomic_store(&inside, 0);
    mxv_fork_unlock(id);
    return NULL;
}

/* The child's exit status: 0 when it ended normally with status 0. */
static int child_status(pid_t pid)
{
    int status = -1;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_fork_waits_for_each_lock(void)
{
    for (int id = 0; id < MXV_FORK_LOCKS; id++) {
        atomic_store(&entered, 0);
        pthread_t t;
        CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, holder, (void *)(long)id), 0);
        while (!atomic_load(&entered))
            sched_yield();
        pid_t pid = fork();
        if (pid == 0)
            _exit(atomic_load(&inside) ? 1 : 0);
        CU_ASSERT_NOT_EQUAL(pid, -1);
        if (pid > 0)
            CU_ASSERT_EQUAL(child_status(pid), 0);
        pthread_join(t, NULL);
    }
}

static void test_fork_by_the_holder(void)
{
    /* Bounded: a fork that waited for itself would hang here; the alarm
     * ends the program (a failure) instead. */
    alarm(30);
    for (int id = 0; id < MXV_FORK_LOCKS; id++) {
        mxv_fork_lock(id);
        pid_t pid = fork();
        if (pid == 0) {
            mxv_fork_unlock(id); /* the child's copy, held by its one thread */
            _exit(0);
        }
        mxv_fork_unlock(id);
        CU_ASSERT_NOT_EQUAL(pid, -1);
        if (pid > 0)
            CU_ASSERT_EQUAL(child_status(pid), 0);
    }
    alarm(0);
}

int main(void)
{
    static const unit_test tests[] = {
        {"fork() waits until no other thread holds a lock", test_fork_waits_for_each_lock},
        {"fork() by a thread holding a lock does not wait for itself", test_fork_by_the_holder},
        {NULL, NULL},
    };
    return unit_run("fork_hold", NULL, NULL, tests);
}
