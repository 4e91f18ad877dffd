/* SPDX-License-Identifier: Apache-2.0 */
/* test_prefetch: background lookups start a thread only when the caches
 * cannot answer: a process whose destinations another process already
 * looked up (dns_cache) starts none. Each case runs in a child process, so
 * that its threads are its own to count. */
#include "dns_shared.h"
#include "prefetch.h"
#include "settings.h"
#include "thread_count.h"
#include "unit_main.h"
#include "world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *world, cache[64];
static mxv_policy *policy;

/* Waits (30 s at most: valgrind is slow) until the shared file holds every
 * answer the prefetch of (example.com, 192.0.2.1) looks up: the MX, the
 * PTR, and the address of the PTR name (the forward confirmation, asked
 * last). */
static bool shared_has_all(void)
{
    static const struct {
        const char *name;
        int rrtype;
    } wanted[] = {{"example.com", 15}, {"1.2.0.192.in-addr.arpa", 12}, {"mx0a.emailhosted.not", 1}};
    char err[256];
    /* The policy's size (the default): another would re-size the file. */
    mxv_dns_shared *s =
        mxv_dns_shared_open(cache, MXV_DNS_CACHE_SIZE_DEFAULT,
                            mxv_dns_shared_scope(world, true, true), err, sizeof(err));
    size_t found = 0;
    for (int i = 0; s && i < 3000 && found < 3; i++) {
        mxv_dns_shared_hit hit;
        found = 0;
        for (size_t k = 0; k < 3; k++)
            found += mxv_dns_shared_get(s, wanted[k].name, wanted[k].rrtype, time(NULL), &hit);
        if (found < 3)
            usleep(10000);
    }
    mxv_dns_shared_close(s);
    return found == 3;
}

/* Runs fn in a child; its exit status is the test's verdict. */
static void in_child(int (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(fn());
    int status = -1;
    CU_ASSERT_EQUAL_FATAL(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fprintf(stderr, "\nchild failed: status %d\n", status);
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static int first_process(void)
{
    int before = thread_count();
    mxv_prefetch(policy, "example.com", "192.0.2.1", NULL, 25);
    if (!shared_has_all())
        return 1; /* the worker never looked up */
    return thread_count() > before ? 0 : 2;
}

static int next_process(void)
{
    int before = thread_count();
    mxv_prefetch(policy, "example.com", "192.0.2.1", NULL, 25);
    if (thread_count() != before)
        return 3; /* a thread for answers already at hand */
    /* A destination nobody looked up still gets its background lookups. */
    mxv_prefetch(policy, "v6.example", "2001:db8::25", NULL, 25);
    return thread_count() > before ? 0 : 4;
}

static void test_thread_only_for_missing_answers(void)
{
    in_child(first_process);
    in_child(next_process);
}

static int setup(void)
{
    char err[256];
    snprintf(cache, sizeof(cache), "/tmp/mxv-prefetch-%d.cache", (int)getpid());
    unlink(cache);
    world = world_write(world_conf);
    policy = mxv_policy_new();
    return !world || !policy ||
           !mxv_policy_set(policy, "mode", "required-verify-hosted", err, sizeof(err)) ||
           !mxv_policy_set(policy, "unbound_conf", world, err, sizeof(err)) ||
           !mxv_policy_set(policy, "dns_cache", cache, err, sizeof(err));
}

static int teardown(void)
{
    mxv_policy_free(policy);
    unlink(cache);
    if (world)
        unlink(world);
    free(world);
    return 0;
}

int main(void)
{
    static const unit_test tests[] = {
        {"a thread only for answers no cache holds", test_thread_only_for_missing_answers},
        {NULL, NULL},
    };
    return unit_run("prefetch", setup, teardown, tests);
}
