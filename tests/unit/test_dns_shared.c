/* SPDX-License-Identifier: Apache-2.0 */
/* test_dns_shared: the answer file shared by the processes of one user
 * (dns_cache): what it keeps and returns, what it refuses to trust or to
 * write into, how it fills (sets of slots, least recently used out, the
 * size set), and a real libunbound lookup answered in another process. */
#include "dns.h"
#include "dns_shared.h"
#include "numbered.h"
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
#define SMALL ((uint64_t)1 << 20) /* the smallest dns_cache_size */
#define MAGIC "mxverify shared DNS answers, format 2\n"
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
    mxv_dns_shared *s = mxv_dns_shared_open(path, SMALL, scope, err, sizeof(err));
    if (!s)
        fprintf(stderr, "\nopen %s: %s\n", path, err);
    return s;
}

static mxv_dns_shared *open_sized(const char *path, uint64_t size)
{
    char err[256] = "";
    mxv_dns_shared *s = mxv_dns_shared_open(path, size, SCOPE, err, sizeof(err));
    if (!s)
        fprintf(stderr, "\nopen %s: %s\n", path, err);
    return s;
}

static void put_numbered(mxv_dns_shared *s, int i, time_t now, int ttl)
{
    char name[64];
    uint8_t rdata[4];
    mxv_dns_answer a;
    numbered(i, MXV_SEC_INSECURE, name, sizeof(name), rdata, &a);
    mxv_dns_shared_put(s, name, 1, now, ttl, &a);
}

/* 1: the answer of name i; 0: a miss; -1: anything else (never). */
static int get_numbered(mxv_dns_shared *s, int i, time_t now)
{
    char name[64];
    uint8_t rdata[4];
    mxv_dns_answer a;
    mxv_dns_shared_hit hit;
    numbered(i, MXV_SEC_INSECURE, name, sizeof(name), rdata, &a);
    if (!mxv_dns_shared_get(s, name, 1, now, &hit))
        return 0;
    return hit.answer.status == MXV_DNS_OK && hit.answer.n == 1 && hit.answer.rdlen[0] == 4 &&
                   memcmp(hit.answer.rdata[0], rdata, 4) == 0
               ? 1
               : -1;
}

static off_t size_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* What the file takes on disk (it is sparse). */
static off_t disk_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (off_t)st.st_blocks * 512 : -1;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    off_t size = size_of(path);
    uint8_t *buf = f && size > 0 ? malloc((size_t)size) : NULL;
    *len = buf ? fread(buf, 1, (size_t)size, f) : 0;
    if (f)
        fclose(f);
    return buf;
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
    mxv_dns_shared *other = mxv_dns_shared_open(path, SMALL, SCOPE + 1, err, sizeof(err));
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
    size_t len;
    uint8_t *file = slurp(path, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(file);
    CU_ASSERT_EQUAL_FATAL(len, SMALL);
    /* The name is the first thing after a slot's 42 bytes of fields. */
    uint8_t *slot = NULL;
    for (size_t off = 4096; off < len && !slot; off += MXV_DNS_SHARED_SLOT)
        if (memcmp(file + off + 42, "example.net", 11) == 0)
            slot = file + off;
    CU_ASSERT_PTR_NOT_NULL_FATAL(slot);
    mxv_dns_shared_hit hit;
    CU_ASSERT_TRUE(
        mxv_dns_shared_decode(slot, MXV_DNS_SHARED_SLOT, SCOPE, "example.net", 15, 1001, &hit));
    CU_ASSERT_FALSE(
        mxv_dns_shared_decode(slot, MXV_DNS_SHARED_SLOT - 1, SCOPE, "example.net", 15, 1001, &hit));
    size_t wrong = 0;
    for (size_t i = 0; i < MXV_DNS_SHARED_SLOT; i++) {
        slot[i] ^= 0x20;
        wrong +=
            mxv_dns_shared_decode(slot, MXV_DNS_SHARED_SLOT, SCOPE, "example.net", 15, 1001, &hit);
        slot[i] ^= 0x20;
    }
    CU_ASSERT_EQUAL(wrong, 0);
    free(file);
}

static void expect_refused(const char *path, const char *why)
{
    char err[256] = "";
    mxv_dns_shared *s = mxv_dns_shared_open(path, SMALL, SCOPE, err, sizeof(err));
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

/* A file that is not a DNS cache, written as `head` then `zeros` zero
 * bytes: refused, and the same afterwards. */
static void expect_foreign(const char *name, const char *head, size_t zeros)
{
    char path[128];
    path_in_dir(path, sizeof(path), name);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(head, f);
    for (size_t i = 0; i < zeros; i++)
        fputc(0, f);
    fclose(f);
    chmod(path, 0600);
    size_t before_len, after_len;
    uint8_t *before = slurp(path, &before_len);
    expect_refused(path, "not an mxverify DNS cache file");
    uint8_t *after = slurp(path, &after_len);
    CU_ASSERT_EQUAL(after_len, strlen(head) + zeros);
    CU_ASSERT_TRUE(before && after && after_len == before_len &&
                   memcmp(before, after, after_len) == 0);
    free(before);
    free(after);
}

static void test_foreign_file_left_untouched(void)
{
    expect_foreign("notes.txt", "a file that happens to be named in dns_cache\n", 0);
    /* The MTA-STS cache (dns_cache set to sts_cache's file), and a later
     * format of this one: not ours either. */
    expect_foreign("sts.cache", "mxverify shared MTA-STS policies, format 1\n", 8192);
    expect_foreign("future.cache", "mxverify shared DNS answers, format 3\n", 8192);
}

/* An empty file is laid out only when this process created it or when it
 * has the mode we create (0600): not a file of the user's that happens to
 * be empty, nor one with other names (a hard link). */
static void test_empty_files(void)
{
    char path[128], alias[128];
    path_in_dir(path, sizeof(path), "empty-0644");
    close(open(path, O_CREAT | O_WRONLY, 0644));
    CU_ASSERT_EQUAL(chmod(path, 0644), 0);
    expect_refused(path, "not an mxverify DNS cache file");
    CU_ASSERT_EQUAL(size_of(path), 0);
    path_in_dir(path, sizeof(path), "empty-named");
    path_in_dir(alias, sizeof(alias), "empty-alias");
    close(open(path, O_CREAT | O_WRONLY, 0600));
    CU_ASSERT_EQUAL(chmod(path, 0600), 0);
    CU_ASSERT_EQUAL_FATAL(link(path, alias), 0);
    expect_refused(alias, "has other names (hard links)");
    expect_refused(path, "has other names (hard links)");
    CU_ASSERT_EQUAL(size_of(path), 0);
    /* A fresh path is created; an empty 0600 file (its creator stopped
     * before the header) is laid out. */
    mxv_dns_shared *s = open_new("fresh", SCOPE);
    CU_ASSERT_PTR_NOT_NULL(s);
    mxv_dns_shared_close(s);
    snprintf(path, sizeof(path), "%s/fresh", dir);
    off_t laid_out = size_of(path);
    CU_ASSERT_TRUE(laid_out > 0);
    path_in_dir(path, sizeof(path), "empty-0600");
    close(open(path, O_CREAT | O_WRONLY, 0600));
    CU_ASSERT_EQUAL(chmod(path, 0600), 0);
    s = open_sized(path, SMALL);
    CU_ASSERT_PTR_NOT_NULL(s);
    mxv_dns_shared_close(s);
    CU_ASSERT_EQUAL(size_of(path), laid_out);
}

/* A file of the former format (a header slot and 2,048 slots of 1 KB) is
 * ours: laid out again in place, its old slots dropped. */
static void test_former_format_upgraded(void)
{
    char path[128];
    path_in_dir(path, sizeof(path), "format1");
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("mxverify shared DNS answers, format 1\n", f);
    for (long i = (long)strlen("mxverify shared DNS answers, format 1\n"); i < 2049 * 1024; i++)
        fputc(i < 1024 ? 0 : 0x5a, f);
    fclose(f);
    chmod(path, 0600);
    struct stat before;
    CU_ASSERT_EQUAL(stat(path, &before), 0);
    mxv_dns_shared *s = open_sized(path, SMALL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    struct stat after;
    CU_ASSERT_EQUAL(stat(path, &after), 0);
    CU_ASSERT_EQUAL(after.st_ino, before.st_ino); /* in place */
    CU_ASSERT_EQUAL(after.st_size, (off_t)SMALL);
    size_t len;
    uint8_t *file = slurp(path, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(file);
    CU_ASSERT_EQUAL(memcmp(file, MAGIC, strlen(MAGIC)), 0);
    size_t old = 0;
    for (size_t i = 4096; i < len; i++)
        old += file[i] != 0;
    CU_ASSERT_EQUAL(old, 0);
    free(file);
    mxv_dns_answer a = answer_of(MXV_DNS_OK, MXV_SEC_SECURE);
    mxv_dns_shared_put(s, "example.net", 15, 1000, 300, &a);
    mxv_dns_shared_hit hit;
    CU_ASSERT_TRUE(mxv_dns_shared_get(s, "example.net", 15, 1001, &hit));
    mxv_dns_shared_close(s);
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
    mxv_dns_shared *s = mxv_dns_shared_open(path, SMALL, 1, err, sizeof(err));
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
        mxv_dns_shared *s = dns ? mxv_dns_shared_open(cache, SMALL, scope, err, sizeof(err)) : NULL;
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
    mxv_dns_shared *s = mxv_dns_shared_open(cache, SMALL, scope, err, sizeof(err));
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

/* A busy relay's day: 40,000 destinations in the default 64 MB are
 * nearly all there to be read back (sets fill unevenly: a few overflow). */
static void test_many_answers_kept(void)
{
    char path[128];
    path_in_dir(path, sizeof(path), "many");
    mxv_dns_shared *s = open_sized(path, (uint64_t)64 << 20);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    enum { N = 40000 };
    for (int i = 0; i < N; i++)
        put_numbered(s, i, 1000, 3600);
    int found = 0, wrong = 0;
    for (int i = 0; i < N; i++) {
        int got = get_numbered(s, i, 1500);
        found += got == 1;
        wrong += got < 0;
    }
    CU_ASSERT_EQUAL(wrong, 0);
    CU_ASSERT_TRUE(found >= N * 99 / 100);
    if (found < N * 99 / 100)
        fprintf(stderr, "\n%d of %d answers found\n", found, N);
    mxv_dns_shared_close(s);
    unlink(path);
}

/* A name in use survives a flood of names looked up once, in the
 * smallest file (255 sets): 100,000 of them, over a quarter of an hour,
 * while the hot name is read now and then. The flood replaces itself,
 * oldest first. */
static void test_hot_name_survives_flood(void)
{
    char path[128];
    path_in_dir(path, sizeof(path), "flood");
    mxv_dns_shared *s = open_sized(path, SMALL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    enum { COLD = 100000, HOT = COLD };
    put_numbered(s, HOT, 1000, 3600);
    int lost = 0, wrong = 0;
    for (int i = 0; i < COLD; i++) {
        time_t now = 1000 + i / 100;
        put_numbered(s, i, now, 3600);
        if (i % 500 == 0) {
            int got = get_numbered(s, HOT, now);
            lost += got == 0;
            wrong += got < 0;
        }
    }
    CU_ASSERT_EQUAL(lost, 0);
    CU_ASSERT_EQUAL(wrong, 0);
    int recent = 0;
    for (int i = COLD - 1000; i < COLD; i++) {
        int got = get_numbered(s, i, 2000);
        recent += got == 1;
        wrong += got < 0;
    }
    CU_ASSERT_EQUAL(wrong, 0);
    CU_ASSERT_TRUE(recent >= 900);
    mxv_dns_shared_close(s);
}

/* Hits hardly ever write: the use stamp is rewritten on the first hit (a
 * new answer has not proved itself yet) and then at most once in five
 * minutes. */
static void test_hits_rarely_write(void)
{
    char path[128];
    path_in_dir(path, sizeof(path), "stamps");
    mxv_dns_shared *s = open_sized(path, SMALL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    put_numbered(s, 7, 1000, 3600);
    size_t len[5];
    uint8_t *file[5];
    file[0] = slurp(path, &len[0]);
    CU_ASSERT_EQUAL(get_numbered(s, 7, 1001), 1); /* first hit: written */
    file[1] = slurp(path, &len[1]);
    CU_ASSERT_EQUAL(get_numbered(s, 7, 1002), 1);
    CU_ASSERT_EQUAL(get_numbered(s, 7, 1300), 1);
    file[2] = slurp(path, &len[2]);
    CU_ASSERT_EQUAL(get_numbered(s, 7, 1301), 1); /* five minutes on: written */
    file[3] = slurp(path, &len[3]);
    CU_ASSERT_EQUAL(get_numbered(s, 8, 1301), 0); /* a miss writes nothing */
    file[4] = slurp(path, &len[4]);
    for (int i = 0; i < 5; i++)
        CU_ASSERT_TRUE_FATAL(file[i] && len[i] == SMALL);
    CU_ASSERT_NOT_EQUAL(memcmp(file[0], file[1], SMALL), 0);
    CU_ASSERT_EQUAL(memcmp(file[1], file[2], SMALL), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(file[2], file[3], SMALL), 0);
    CU_ASSERT_EQUAL(memcmp(file[3], file[4], SMALL), 0);
    for (int i = 0; i < 5; i++)
        free(file[i]);
    mxv_dns_shared_close(s);
}

/* dns_cache_size: the file has that size (whole 4 KB sets after the
 * header), sparse; a process with another size re-sizes it, and a process
 * that opened it before gets each name's own answer or a miss, never
 * another's, and follows the new layout. */
static void test_size_setting(void)
{
    char path[128], err[256] = "";
    path_in_dir(path, sizeof(path), "sized");
    mxv_dns_shared *old = open_sized(path, SMALL + 1000); /* whole sets: 1 MB */
    CU_ASSERT_PTR_NOT_NULL_FATAL(old);
    CU_ASSERT_EQUAL(size_of(path), (off_t)SMALL);
    enum { N = 300 };
    for (int i = 0; i < N; i++)
        put_numbered(old, i, 1000, 3600);
    int found = 0, wrong = 0;
    for (int i = 0; i < N; i++) {
        int got = get_numbered(old, i, 1001);
        found += got == 1;
        wrong += got < 0;
    }
    CU_ASSERT_EQUAL(found, N);

    mxv_dns_shared *bigger = open_sized(path, 4 * SMALL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bigger);
    CU_ASSERT_EQUAL(size_of(path), (off_t)(4 * SMALL));
    CU_ASSERT_TRUE(disk_of(path) < (off_t)SMALL); /* only what was written */
    /* The answers stored in the old layout: found where they happen to
     * sit in the new one, else missed. */
    for (int i = 0; i < N; i++)
        wrong += get_numbered(bigger, i, 1002) < 0;
    for (int i = N; i < 2 * N; i++)
        put_numbered(bigger, i, 1002, 3600);
    found = 0;
    for (int i = 0; i < 2 * N; i++) {
        int got = get_numbered(old, i, 1003);
        found += got == 1 && i >= N;
        wrong += got < 0;
    }
    CU_ASSERT_EQUAL(wrong, 0);
    CU_ASSERT_EQUAL(found, N); /* the old process follows the new layout */
    /* The same size again changes nothing; a smaller one shrinks it. */
    mxv_dns_shared *same = open_sized(path, 4 * SMALL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(same);
    found = 0;
    for (int i = N; i < 2 * N; i++)
        found += get_numbered(same, i, 1004) == 1;
    CU_ASSERT_EQUAL(found, N);
    mxv_dns_shared *smaller = open_sized(path, 2 * SMALL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(smaller);
    CU_ASSERT_EQUAL(size_of(path), (off_t)(2 * SMALL));
    /* Writes through the old layouts never grow the file again. */
    for (int i = 0; i < 4 * N; i++) {
        put_numbered(same, i, 1005, 3600);
        put_numbered(old, i, 1005, 3600);
        wrong += get_numbered(bigger, i, 1005) < 0;
    }
    CU_ASSERT_EQUAL(size_of(path), (off_t)(2 * SMALL));
    CU_ASSERT_EQUAL(wrong, 0);
    /* A size that holds no set of answers is refused; the file stays. */
    CU_ASSERT_PTR_NULL(mxv_dns_shared_open(path, 4096, SCOPE, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "hold no set"));
    CU_ASSERT_EQUAL(size_of(path), (off_t)(2 * SMALL));
    mxv_dns_shared_close(old);
    mxv_dns_shared_close(bigger);
    mxv_dns_shared_close(same);
    mxv_dns_shared_close(smaller);
}

/* Raw sets: a set decodes only to the answer of the name asked, and a new
 * answer takes its name's slot, else a free one, else the least recently
 * used (a stamp from the future counts as now). */
static void test_set_rules(void)
{
    static uint8_t set[MXV_DNS_SHARED_SLOT * MXV_DNS_SHARED_WAYS];
    memset(set, 0, sizeof(set));
    mxv_dns_shared_hit hit;
    CU_ASSERT_EQUAL(mxv_dns_shared_find(set, sizeof(set), SCOPE, "a.example", 1, 1000, &hit), -1);
    CU_ASSERT_EQUAL(mxv_dns_shared_victim(set, sizeof(set), SCOPE, "a.example", 1, 1000), 0);
    /* Fill the set through a file of one set, then read it raw. */
    char path[128];
    path_in_dir(path, sizeof(path), "one-set");
    mxv_dns_shared *s = open_sized(path, 4096 + sizeof(set));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    for (int i = 0; i < MXV_DNS_SHARED_WAYS; i++)
        put_numbered(s, i, 1000 + i, 3600);
    CU_ASSERT_EQUAL(get_numbered(s, 0, 1700), 1); /* 0 used: 1 is the oldest now */
    mxv_dns_shared_close(s);
    int fd = open(path, O_RDONLY);
    CU_ASSERT_EQUAL_FATAL(pread(fd, set, sizeof(set), 4096), (ssize_t)sizeof(set));
    close(fd);
    int ways[MXV_DNS_SHARED_WAYS];
    for (int i = 0; i < MXV_DNS_SHARED_WAYS; i++) {
        char name[64];
        snprintf(name, sizeof(name), "host%d.example", i);
        ways[i] = mxv_dns_shared_find(set, sizeof(set), SCOPE, name, 1, 1700, &hit);
        CU_ASSERT_TRUE(ways[i] >= 0 && hit.answer.n == 1 && hit.answer.rdata[0][3] == i);
        CU_ASSERT_EQUAL(mxv_dns_shared_victim(set, sizeof(set), SCOPE, name, 1, 1700),
                        (size_t)ways[i]);
        CU_ASSERT_EQUAL(mxv_dns_shared_find(set, sizeof(set), SCOPE + 1, name, 1, 1700, &hit), -1);
    }
    CU_ASSERT_EQUAL(mxv_dns_shared_victim(set, sizeof(set), SCOPE, "new.example", 1, 1700),
                    (size_t)ways[1]);
    /* Expired: every slot is free, the first one goes. */
    CU_ASSERT_EQUAL(mxv_dns_shared_victim(set, sizeof(set), SCOPE, "new.example", 1, 5000), 0);
    /* A damaged slot is free. */
    set[ways[5] * MXV_DNS_SHARED_SLOT + 100] ^= 1;
    CU_ASSERT_EQUAL(mxv_dns_shared_victim(set, sizeof(set), SCOPE, "new.example", 1, 1700),
                    (size_t)ways[5]);
    /* A short buffer: no slot beyond it is read. */
    CU_ASSERT_EQUAL(
        mxv_dns_shared_find(set, MXV_DNS_SHARED_SLOT - 1, SCOPE, "host0.example", 1, 1700, &hit),
        -1);
    CU_ASSERT_EQUAL(mxv_dns_shared_victim(set, 0, SCOPE, "new.example", 1, 1700), 0);
}

/* A name found again within five minutes (its stamp not rewritten since)
 * outranks one stored just now: a second new name takes the first one's
 * slot, not a found name's. */
static void test_found_outranks_new(void)
{
    char path[128];
    path_in_dir(path, sizeof(path), "found-new");
    mxv_dns_shared *s = open_sized(path, 4096 + MXV_DNS_SHARED_SLOT * MXV_DNS_SHARED_WAYS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    for (int i = 0; i < MXV_DNS_SHARED_WAYS; i++)
        put_numbered(s, i, 1000 + i, 3600);
    for (int i = 0; i < MXV_DNS_SHARED_WAYS; i++)
        CU_ASSERT_EQUAL(get_numbered(s, i, 1010), 1); /* stamped 1010 */
    for (int i = 0; i < MXV_DNS_SHARED_WAYS; i++)
        CU_ASSERT_EQUAL(get_numbered(s, i, 1309), 1); /* 299 s on: not rewritten */
    put_numbered(s, 100, 1309, 3600);                 /* the set is full: a found name goes */
    put_numbered(s, 101, 1309, 3600);                 /* and then the new one, not another */
    int found = 0;
    for (int i = 0; i < MXV_DNS_SHARED_WAYS; i++)
        found += get_numbered(s, i, 1309) == 1;
    CU_ASSERT_EQUAL(found, MXV_DNS_SHARED_WAYS - 1);
    CU_ASSERT_EQUAL(get_numbered(s, 101, 1309), 1);
    CU_ASSERT_EQUAL(get_numbered(s, 100, 1309), 0);
    mxv_dns_shared_close(s);
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
        {"an empty file is laid out only if ours: created here, or of mode 0600", test_empty_files},
        {"a file of the former format is laid out again in place", test_former_format_upgraded},
        {"40,000 answers in 64 MB are read back", test_many_answers_kept},
        {"a name in use survives a flood of names used once", test_hot_name_survives_flood},
        {"hits rewrite a slot's use stamp at most once in five minutes", test_hits_rarely_write},
        {"a name found in the last five minutes outranks one stored just now",
         test_found_outranks_new},
        {"the file has the size set; another size re-sizes it, safely for readers",
         test_size_setting},
        {"a set: each name's own answer; its slot, a free one, else the least used",
         test_set_rules},
        {"a descriptor the host program took over is never used", test_descriptor_taken_over},
        {"%u in the path: a file per user", test_file_per_user},
        {"a lookup made in one process answers another without a resolver",
         test_answer_from_another_process},
        {NULL, NULL},
    };
    return unit_run("dns_shared", make_dir, remove_dir, tests);
}
