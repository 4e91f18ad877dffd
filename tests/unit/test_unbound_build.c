/* SPDX-License-Identifier: Apache-2.0 */
/* test_unbound_build: libunbound reads a configuration file with one
 * process-wide parser and no lock of its own. Contexts built on two
 * threads at once, and a child forked while another thread builds one
 * (what Exim does: its transport process is forked right after the
 * router's MX lookup started mxverify's prefetch thread), must each get a
 * whole, working context: the last name of a long file answered.
 *
 * Run without an argument: the two threads; with "fork": the children.
 * The fork case cannot run under AddressSanitizer (GCC 12's): its
 * allocator is not fork-safe, so a child forked while another thread
 * allocates waits for ever on the allocator's lock (seen here); it
 * reports skipped there (exit 77), and runs in the plain and valgrind
 * builds. */
#include "dns.h"
#include "unit_main.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND   0
#define VALGRIND_COUNT_ERRORS 0
#endif

/* A file long enough that reading it takes milliseconds (20,000 names:
 * about 10 ms here), so that the other thread or the fork lands in it;
 * a tenth under valgrind, fifty times slower. */
#define BUILDS       8
#define CHILD_WAIT_S 60

static char dir[64], conf[128];
static int names;

static int set_up(void)
{
    snprintf(dir, sizeof(dir), "/tmp/mxv-unbound-fork-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(conf, sizeof(conf), "%s/world.conf", dir);
    FILE *f = fopen(conf, "w");
    if (!f)
        return 1;
    names = RUNNING_ON_VALGRIND ? 2000 : 20000;
    fputs("server:\n", f);
    for (int i = 0; i < names; i++)
        fprintf(f, "    local-data: \"h%d.example.net. 300 IN A 192.0.2.%d\"\n", i, i % 250 + 1);
    return fclose(f) == 0 ? 0 : 1;
}

static int tear_down(void)
{
    unlink(conf);
    rmdir(dir);
    return 0;
}

static void got(void *arg, const mxv_dns_answer *a)
{
    *(mxv_dns_status *)arg = a->status;
}

/* Builds a context from the file and asks it for the file's last name:
 * true when the whole file was read into it. */
static bool build_and_ask(void)
{
    char err[256], last[64];
    mxv_dns *dns = mxv_dns_new(conf, false, err, sizeof(err));
    if (!dns)
        return false;
    bool ready = mxv_dns_ready(dns, err, sizeof(err));
    mxv_dns_status status = MXV_DNS_FAIL;
    if (ready) {
        snprintf(last, sizeof(last), "h%d.example.net", names - 1);
        mxv_dns_submit(dns, last, 1, got, &status);
        mxv_dns_run(dns, 30000);
    } else {
        fprintf(stderr, "context not built: %s\n", err);
    }
    mxv_dns_free(dns);
    return ready && status == MXV_DNS_OK;
}

static atomic_int built_ok, building_done, in_build;

static void *builder(void *arg)
{
    (void)arg;
    for (int i = 0; i < BUILDS; i++) {
        atomic_store(&in_build, 1);
        if (build_and_ask())
            atomic_fetch_add(&built_ok, 1);
        atomic_store(&in_build, 0);
    }
    atomic_store(&building_done, 1);
    return NULL;
}

static void test_two_threads_build_at_once(void)
{
    atomic_store(&built_ok, 0);
    pthread_t t;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, builder, NULL), 0);
    int here = 0;
    for (int i = 0; i < BUILDS; i++)
        here += build_and_ask();
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL(here, BUILDS);
    CU_ASSERT_EQUAL(atomic_load(&built_ok), BUILDS);
}

/* In the child: says how it went on the pipe and ends with SIGKILL, not
 * exit(): the memory of the parent's other thread is the child's to leave
 * (as mxverify leaves it), which valgrind's leak check would report. */
_Noreturn static void child(int report)
{
    char fate = build_and_ask() ? '0' : '1';
    if (RUNNING_ON_VALGRIND && VALGRIND_COUNT_ERRORS > 0)
        fate = '2'; /* memory errors, which SIGKILL would keep from valgrind's exit code */
    if (write(report, &fate, 1) != 1)
        _exit(3);
    raise(SIGKILL);
    _exit(4);
}

/* The child's fate: '0' when it built and asked, '1' when it could not,
 * '2' when valgrind saw memory errors in it, otherwise how it ended (a signal of its own: 128 + the
 * signal). A child still running after CHILD_WAIT_S (stuck on a lock the parent's other thread held
 * at the fork) is killed and counts as a failure. */
static int reap(pid_t pid, int report)
{
    int status;
    for (int i = 0; i < CHILD_WAIT_S * 100; i++) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        char fate = 0;
        if (r == pid && read(report, &fate, 1) == 1)
            return fate - '0';
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (r < 0)
            return -1;
        struct timespec ten_ms = {0, 10 * 1000 * 1000};
        nanosleep(&ten_ms, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -2;
}

static void test_fork_while_another_thread_builds(void)
{
    atomic_store(&built_ok, 0);
    atomic_store(&building_done, 0);
    pthread_t t;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, builder, NULL), 0);
    int children = 0, failed = 0, overlapped = 0;
    /* Forks spread over the builder's work (bounded: 64 at most, and none
     * after a child that had to be killed). */
    while (!atomic_load(&building_done) && children < 64) {
        struct timespec pause = {0, (3 + children % 5) * 1000 * 1000};
        nanosleep(&pause, NULL);
        int report[2];
        if (pipe(report) != 0)
            break;
        /* A fork asked for while the builder builds: the case at stake. */
        overlapped += atomic_load(&in_build);
        pid_t pid = fork();
        if (pid == 0)
            child(report[1]);
        close(report[1]);
        int fate = pid < 0 ? -1 : reap(pid, report[0]);
        close(report[0]);
        children++;
        if (fate != 0) {
            failed++;
            fprintf(stderr, "child %d: %s %d\n", children, fate > 128 ? "signal" : "status",
                    fate > 128 ? fate - 128 : fate);
        }
        if (fate < 0)
            break;
    }
    pthread_join(t, NULL);
    CU_ASSERT_TRUE(overlapped > 0);
    CU_ASSERT_EQUAL(failed, 0);
    CU_ASSERT_EQUAL(atomic_load(&built_ok), BUILDS);
}

#if defined(__SANITIZE_ADDRESS__)
#define ALLOCATOR_FORK_SAFE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ALLOCATOR_FORK_SAFE 0
#endif
#endif
#ifndef ALLOCATOR_FORK_SAFE
#define ALLOCATOR_FORK_SAFE 1
#endif

int main(int argc, char **argv)
{
    static const unit_test threads[] = {
        {"two threads build contexts at once", test_two_threads_build_at_once},
        {NULL, NULL},
    };
    static const unit_test children[] = {
        {"a child forked while another thread builds gets a whole context",
         test_fork_while_another_thread_builds},
        {NULL, NULL},
    };
    if (argc < 2)
        return unit_run("unbound_build", set_up, tear_down, threads);
    if (strcmp(argv[1], "fork") != 0) {
        fprintf(stderr, "usage: test_unbound_build [fork]\n");
        return 2;
    }
    if (!ALLOCATOR_FORK_SAFE) {
        puts("skipped: AddressSanitizer's allocator is not fork-safe (a child forked while "
             "another thread allocates waits for ever)");
        return 77;
    }
    return unit_run("unbound_build_fork", set_up, tear_down, children);
}
