/* SPDX-License-Identifier: Apache-2.0 */
/* test_dns_shared: the answer file shared by the processes of one user
 * (dns_cache): what it keeps and returns, what it refuses to trust or to
 * write into, and a real libunbound lookup answered in another process. */
#include "dns.h"
#include "dns_shared.h"
#include "unit_main.h"

#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SCOPE 0x1234
static char dir[64];

static void path_in_dir(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
    unlink(out);
}

/* "mx01.example.net" preference 10, wire format. */
static const uint8_t mx1[] = {0,   10,  4,   'm', 'x', '0', '1', 7,   'e', 'x',
                              'a', 'm', 'p', 'l', 'e', 3,   'n', 'e', 't', 0};
static const uint8_t a1[] = {192, 0, 2, 1};

static mxv_dns_answer answer_of(mxv_dns_status status, mxv_dnssec_status sec)
{
    mxv_dns_answer a = {.status = status, .sec = sec};
    if (status == MXV_DNS_OK) {
        a.n = 2;
        a.rdata[0] = mx1;
        a.rdlen[0] = sizeof(mx1);
        a.rdata[1] = a1;
        a.rdlen[1] = sizeof(a1);
    } else {
        snprintf(a.detail, sizeof(a.detail), "NXDOMAIN");
    }
    return a;
}

static mxv_dns_shared *open_new(const char *name, uint64_t scope)
{
    char path[128], err[256] = "";
    path_in_dir(path, sizeof(path), name);
    mxv_dns_shared *s = mxv_dns_shared_open(path, scope, err, sizeof(err));
    if (!s)
        fprintf(stderr, "\nopen %s: %s\n", path, err);
    return s;
}

static void test_round_trip(void)
{
    mxv_dns_shared *s = open_new("round", SCOPE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    mxv_dns_answer a = answer_of(MXV_DNS_OK, MXV_SEC_SECURE);
    mxv_dns_shared_put(s, "example.net", 15, 1000, 300, &a);
    mxv_dns_shared_hit hit;
    CU_ASSERT_TRUE_FATAL(mxv_dns_shared_get(s, "Example.NET", 15, 1010, &hit));
    CU_ASSERT_EQUAL(hit.answer.status, MXV_DNS_OK);
    CU_ASSERT_EQUAL(hit.answer.sec, MXV_SEC_SECURE);
    CU_ASSERT_EQUAL(hit.answer.n, 2);
    CU_ASSERT_EQUAL(hit.answer.rdlen[0], sizeof(mx1));
    CU_ASSERT_EQUAL(memcmp(hit.answer.rdata[0], mx1, sizeof(mx1)), 0);
    CU_ASSERT_EQUAL(memcmp(hit.answer.rdata[1], a1, sizeof(a1)), 0);
    CU_ASSERT_EQUAL(hit.ttl, 290);
    /* Other type, other name: misses. */
    CU_ASSERT_FALSE(mxv_dns_shared_get(s, "example.net", 1, 1010, &hit));
    CU_ASSERT_FALSE(mxv_dns_shared_get(s, "example.ne", 15, 1010, &hit));
    mxv_dns_shared_close(s);
}

static void test_expiry_and_cap(void)
{
    mxv_dns_shared *s = open_new("expiry", SCOPE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    mxv_dns_answer a = answer_of(MXV_DNS_OK, MXV_SEC_INSECURE);
    mxv_dns_shared_hit hit;
    mxv_dns_shared_put(s, "short.example", 1, 1000, 5, &a);
    CU_ASSERT_TRUE(mxv_dns_shared_get(s, "short.example", 1, 1004, &hit));
    CU_ASSERT_FALSE(mxv_dns_shared_get(s, "short.example", 1, 1005, &hit));
    /* A week-long TTL is kept an hour, as in the process's own cache. */
    mxv_dns_shared_put(s, "long.example", 1, 1000, 7 * 86400, &a);
    CU_ASSERT_TRUE(mxv_dns_shared_get(s, "long.example", 1, 4599, &hit));
    CU_ASSERT_FALSE(mxv_dns_shared_get(s, "long.example", 1, 4600, &hit));
    /* An entry that claims to outlive the cap (a clock set back) is not used. */
    CU_ASSERT_FALSE(mxv_dns_shared_get(s, "long.example", 1, 0, &hit));
    mxv_dns_shared_close(s);
}

static void test_what_is_kept(void)
{
    mxv_dns_shared *s = open_new("kept", SCOPE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    mxv_dns_shared_hit hit;
    mxv_dns_answer nodata = answer_of(MXV_DNS_NODATA, MXV_SEC_SECURE);
    mxv_dns_shared_put(s, "gone.example", 12, 1000, 60, &nodata);
    CU_ASSERT_TRUE_FATAL(mxv_dns_shared_get(s, "gone.example", 12, 1001, &hit));
    CU_ASSERT_EQUAL(hit.answer.status, MXV_DNS_NODATA);
    CU_ASSERT_EQUAL(hit.answer.n, 0);
    CU_ASSERT_STRING_EQUAL(hit.answer.detail, "NXDOMAIN");
    /* Failures and bogus answers are never shared. */
    mxv_dns_answer fail = {.status = MXV_DNS_FAIL};
    mxv_dns_shared_put(s, "fail.example", 1, 1000, 60, &fail);
    CU_ASSERT_FALSE(mxv_dns_shared_get(s, "fail.example", 1, 1001, &hit));
    mxv_dns_answer bogus = answer_of(MXV_DNS_OK, MXV_SEC_BOGUS);
    mxv_dns_shared_put(s, "bogus.example", 1, 1000, 60, &bogus);
    CU_ASSERT_FALSE(mxv_dns_shared_get(s, "bogus.example", 1, 1001, &hit));
    /* Nor an RRset too big for a slot: the process keeps it to itself. */
    static uint8_t big[300];
    mxv_dns_answer huge = {.status = MXV_DNS_OK, .n = 3};
    for (int i = 0; i < 3; i++) {
        huge.rdata[i] = big;
        huge.rdlen[i] = sizeof(big);
    }
    mxv_dns_shared_put(s, "huge.example", 16, 1000, 60, &huge);
    CU_ASSERT_FALSE(mxv_dns_shared_get(s, "huge.example", 16, 1001, &hit));
    mxv_dns_shared_close(s);
}

static void test_scopes_do_not_mix(void)
{
    char path[128], err[256];
    mxv_dns_shared *s = open_new("scopes", SCOPE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    snprintf(path, sizeof(path), "%s/scopes", dir);
    mxv_dns_shared *other = mxv_dns_shared_open(path, SCOPE + 1, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(other);
    mxv_dns_answer a = answer_of(MXV_DNS_OK, MXV_SEC_SECURE);
    mxv_dns_shared_put(s, "example.net", 15, 1000, 300, &a);
    mxv_dns_shared_hit hit;
    CU_ASSERT_FALSE(mxv_dns_shared_get(other, "example.net", 15, 1001, &hit));
    CU_ASSERT_TRUE(mxv_dns_shared_get(s, "example.net", 15, 1001, &hit));
    mxv_dns_shared_close(other);
    mxv_dns_shared_close(s);
    /* The scope names the configuration: validation, whether a stripping
     * path may downgrade answers (DANE refuses that), and the file. */
    CU_ASSERT_NOT_EQUAL(mxv_dns_shared_scope(NULL, true, true),
                        mxv_dns_shared_scope(NULL, true, false));
    CU_ASSERT_NOT_EQUAL(mxv_dns_shared_scope(NULL, true, true),
                        mxv_dns_shared_scope(NULL, false, true));
    CU_ASSERT_NOT_EQUAL(mxv_dns_shared_scope(path, true, true),
                        mxv_dns_shared_scope(NULL, true, true));
    CU_ASSERT_EQUAL(mxv_dns_shared_scope(path, true, true), mxv_dns_shared_scope(path, true, true));
}

/* Every single-byte change to a stored slot makes it a miss, never a
 * different answer (a torn concurrent write looks the same). */
static void test_damaged_slot_is_a_miss(void)
{
    mxv_dns_shared *s = open_new("damaged", SCOPE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    mxv_dns_answer a = answer_of(MXV_DNS_OK, MXV_SEC_SECURE);
    mxv_dns_shared_put(s, "example.net", 15, 1000, 300, &a);
    mxv_dns_shared_close(s);
    char path[128];
    snprintf(path, sizeof(path), "%s/damaged", dir);
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    static uint8_t file[1024 * 2049];
    size_t len = fread(file, 1, sizeof(file), f);
    fclose(f);
    CU_ASSERT_EQUAL_FATAL(len, sizeof(file));
    uint8_t *slot = NULL;
    for (size_t off = 1024; off < len && !slot; off += 1024)
        if (memcmp(file + off + 64, "example.net", 11) == 0)
            slot = file + off;
    CU_ASSERT_PTR_NOT_NULL_FATAL(slot);
    mxv_dns_shared_hit hit;
    CU_ASSERT_TRUE(mxv_dns_shared_decode(slot, 1024, SCOPE, "example.net", 15, 1001, &hit));
    CU_ASSERT_FALSE(mxv_dns_shared_decode(slot, 1023, SCOPE, "example.net", 15, 1001, &hit));
    size_t wrong = 0;
    for (size_t i = 0; i < 1024; i++) {
        slot[i] ^= 0x20;
        wrong += mxv_dns_shared_decode(slot, 1024, SCOPE, "example.net", 15, 1001, &hit);
        slot[i] ^= 0x20;
    }
    CU_ASSERT_EQUAL(wrong, 0);
}

static void expect_refused(const char *path, const char *why)
{
    char err[256] = "";
    mxv_dns_shared *s = mxv_dns_shared_open(path, SCOPE, err, sizeof(err));
    CU_ASSERT_PTR_NULL(s);
    if (!strstr(err, why))
        fprintf(stderr, "\n%s: \"%s\", expected \"%s\"\n", path, err, why);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, why));
    mxv_dns_shared_close(s);
}

static void test_untrusted_files_refused(void)
{
    char path[128], target[128];
    /* Writable by others: anyone could plant answers. */
    path_in_dir(path, sizeof(path), "open-to-all");
    close(open(path, O_CREAT | O_WRONLY, 0600));
    chmod(path, 0666);
    expect_refused(path, "writable by users other than its owner");
    /* A symbolic link is not followed. */
    path_in_dir(target, sizeof(target), "target");
    path_in_dir(path, sizeof(path), "link");
    mxv_dns_shared_close(open_new("target", SCOPE));
    CU_ASSERT_EQUAL(symlink(target, path), 0);
    expect_refused(path, "not a regular file");
    /* Nor a directory, nor a FIFO (never even opened). */
    expect_refused(dir, "not a regular file");
    path_in_dir(path, sizeof(path), "fifo");
    CU_ASSERT_EQUAL(mkfifo(path, 0600), 0);
    expect_refused(path, "not a regular file");
    /* Owned by another user (testable as root only). */
    struct passwd *nobody = getpwnam("nobody");
    path_in_dir(path, sizeof(path), "theirs");
    close(open(path, O_CREAT | O_WRONLY, 0600));
    if (geteuid() == 0 && nobody && chown(path, nobody->pw_uid, nobody->pw_gid) == 0)
        expect_refused(path, "owned by another user");
}

static void test_foreign_file_left_untouched(void)
{
    char path[128];
    path_in_dir(path, sizeof(path), "notes.txt");
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("a file that happens to be named in dns_cache\n", f);
    fclose(f);
    chmod(path, 0600);
    expect_refused(path, "not an mxverify DNS cache file");
    struct stat st;
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_size, 45);
}

/* A daemon that closes every descriptor after start-up and opens one of
 * its own under the same number: the cache neither writes into it nor
 * reads answers from it. */
static void test_descriptor_taken_over(void)
{
    int expected = dup(0); /* the number the cache's open() will get */
    close(expected);
    mxv_dns_shared *s = open_new("taken-over", SCOPE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    mxv_dns_answer a = answer_of(MXV_DNS_OK, MXV_SEC_SECURE);
    mxv_dns_shared_put(s, "example.net", 15, 1000, 300, &a);
    char path[128];
    path_in_dir(path, sizeof(path), "the-daemons-own");
    CU_ASSERT_EQUAL_FATAL(close(expected), 0);
    int fd = open(path, O_CREAT | O_RDWR, 0600);
    CU_ASSERT_EQUAL_FATAL(fd, expected);
    mxv_dns_shared_put(s, "example.org", 15, 1000, 300, &a);
    mxv_dns_shared_hit hit;
    CU_ASSERT_FALSE(mxv_dns_shared_get(s, "example.net", 15, 1001, &hit));
    mxv_dns_shared_close(s); /* must not close the daemon's descriptor */
    struct stat st;
    CU_ASSERT_EQUAL(fstat(fd, &st), 0);
    CU_ASSERT_EQUAL(st.st_size, 0);
    close(fd);
}

/* A real lookup through libunbound (local data) in a child process; the
 * parent then gets the answer from the file without building a resolver:
 * its configuration is broken, so any lookup of its own would fail. */
static void got(void *arg, const mxv_dns_answer *a)
{
    *(mxv_dns_answer *)arg = *a;
}

static void test_file_per_user(void)
{
    /* "%u": one setting, a file per user (the effective user ID). */
    char path[160], expanded[160], err[256] = "";
    snprintf(path, sizeof(path), "%s/per-user.%%u.cache", dir);
    snprintf(expanded, sizeof(expanded), "%s/per-user.%lu.cache", dir, (unsigned long)geteuid());
    unlink(expanded);
    mxv_dns_shared *s = mxv_dns_shared_open(path, 1, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL(s);
    CU_ASSERT_EQUAL(access(expanded, F_OK), 0);
    mxv_dns_shared_close(s);
    unlink(expanded);
}

static void test_answer_from_another_process(void)
{
    char conf[128], cache[128], err[256];
    path_in_dir(conf, sizeof(conf), "world.conf");
    path_in_dir(cache, sizeof(cache), "answers");
    FILE *f = fopen(conf, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("server:\n  local-data: \"mx01.example.net. 300 IN A 192.0.2.1\"\n", f);
    fclose(f);
    uint64_t scope = mxv_dns_shared_scope(conf, false, true);
    pid_t pid = fork();
    if (pid == 0) {
        mxv_dns *dns = mxv_dns_new(conf, false, err, sizeof(err));
        mxv_dns_shared *s = dns ? mxv_dns_shared_open(cache, scope, err, sizeof(err)) : NULL;
        if (!s)
            _exit(2);
        mxv_dns_share(dns, s);
        mxv_dns_answer a = {.status = MXV_DNS_FAIL};
        mxv_dns_submit(dns, "mx01.example.net", 1, got, &a);
        mxv_dns_run(dns, 30000);
        mxv_dns_free(dns);
        _exit(a.status == MXV_DNS_OK ? 0 : 1);
    }
    int status = -1;
    CU_ASSERT_EQUAL_FATAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT_TRUE_FATAL(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    mxv_dns *dns = mxv_dns_new(conf, false, err, sizeof(err));
    mxv_dns_shared *s = mxv_dns_shared_open(cache, scope, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(dns);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    mxv_dns_share(dns, s);
    mxv_dns_answer a = {.status = MXV_DNS_FAIL};
    mxv_dns_submit(dns, "mx01.example.net", 1, got, &a);
    mxv_dns_run(dns, 30000);
    CU_ASSERT_EQUAL(a.status, MXV_DNS_OK);
    CU_ASSERT_EQUAL(a.n, 1);
    CU_ASSERT_TRUE(a.n == 1 && a.rdlen[0] == 4 && memcmp(a.rdata[0], a1, 4) == 0);
    /* Answered from the file: the (now broken) configuration was never read. */
    f = fopen(conf, "a");
    fputs("this line is not unbound syntax\n", f);
    fclose(f);
    mxv_dns_submit(dns, "mx01.example.net", 1, got, &a);
    CU_ASSERT_EQUAL(a.status, MXV_DNS_OK);
    /* A name nobody looked up needs the resolver, which now fails: closed. */
    mxv_dns_submit(dns, "mx02.example.net", 1, got, &a);
    mxv_dns_run(dns, 30000);
    CU_ASSERT_EQUAL(a.status, MXV_DNS_FAIL);
    CU_ASSERT_PTR_NOT_NULL(strstr(a.detail, "resolver unavailable"));
    mxv_dns_free(dns);
}

static int make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/mxv-shared.XXXXXX");
    return mkdtemp(dir) ? 0 : 1;
}

static int remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}

int main(void)
{
    static const unit_test tests[] = {
        {"an answer comes back whole, for its name and type only", test_round_trip},
        {"answers expire with their TTL, an hour at most", test_expiry_and_cap},
        {"NODATA is kept; failures, bogus and oversized answers are not", test_what_is_kept},
        {"answers of one DNS configuration are not seen by another", test_scopes_do_not_mix},
        {"a damaged or torn slot is a miss, never another answer", test_damaged_slot_is_a_miss},
        {"files others could write, links and directories are refused",
         test_untrusted_files_refused},
        {"a file that is not a cache is refused and left untouched",
         test_foreign_file_left_untouched},
        {"a descriptor the host program took over is never used", test_descriptor_taken_over},
        {"%u in the path: a file per user", test_file_per_user},
        {"a lookup made in one process answers another without a resolver",
         test_answer_from_another_process},
        {NULL, NULL},
    };
    return unit_run("dns_shared", make_dir, remove_dir, tests);
}
