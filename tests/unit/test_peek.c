/* SPDX-License-Identifier: Apache-2.0 */
/* peek (shim/peek.c): the guard's reads of a program's buffers. Bytes in
 * the main heap, between where it started and the current break, are
 * copied directly; anything else (another mapping, a range that runs past
 * the break, memory before the heap) is read with process_vm_readv(), so
 * that an unreadable buffer is a short read, never a crash. The program's
 * own process_vm_readv() below counts the calls peek.c makes. */
#include "conn.h"
#include "unit_main.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int vm_reads;

ssize_t process_vm_readv(pid_t pid, const struct iovec *local, unsigned long liovcnt,
                         const struct iovec *remote, unsigned long riovcnt, unsigned long flags)
{
    vm_reads++;
    return syscall(SYS_process_vm_readv, pid, local, liovcnt, remote, riovcnt, flags);
}

/* A page of the main heap, grown now: whatever the allocator (ASan's and
 * valgrind's do not use the break), this memory lies between the break
 * the shim saw and the current one. */
static uint8_t *heap_page(void)
{
    void *p = sbrk(4096);
    CU_ASSERT_FATAL(p != (void *)-1);
    memset(p, 'h', 4096);
    return p;
}

static void fill(uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i * 7 + 1);
}

static void test_heap_read_directly(void)
{
    uint8_t *heap = heap_page(), out[300];
    fill(heap + 100, sizeof(out));
    struct iovec one = {.iov_base = heap + 100, .iov_len = sizeof(out)};
    vm_reads = 0;
    CU_ASSERT_EQUAL(shim_peek(&one, 1, 0, out, sizeof(out)), (ssize_t)sizeof(out));
    CU_ASSERT_EQUAL(memcmp(out, heap + 100, sizeof(out)), 0);
    CU_ASSERT_EQUAL(vm_reads, 0);
    /* at an offset, across two heap pieces */
    struct iovec two[2] = {{.iov_base = heap, .iov_len = 10},
                           {.iov_base = heap + 100, .iov_len = 50}};
    CU_ASSERT_EQUAL(shim_peek(two, 2, 5, out, 20), 20);
    CU_ASSERT_EQUAL(memcmp(out, heap + 5, 5), 0);
    CU_ASSERT_EQUAL(memcmp(out + 5, heap + 100, 15), 0);
    CU_ASSERT_EQUAL(vm_reads, 0);
}

static void test_elsewhere_asks_the_kernel(void)
{
    uint8_t *map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CU_ASSERT_FATAL(map != MAP_FAILED);
    fill(map, 8192);
    uint8_t out[64];
    struct iovec one = {.iov_base = map + 4090, .iov_len = sizeof(out)};
    vm_reads = 0;
    CU_ASSERT_EQUAL(shim_peek(&one, 1, 0, out, sizeof(out)), (ssize_t)sizeof(out));
    CU_ASSERT_EQUAL(memcmp(out, map + 4090, sizeof(out)), 0);
    CU_ASSERT_EQUAL(vm_reads, 1);
    /* a heap piece with one elsewhere: one read by the kernel, both kept */
    uint8_t *heap = heap_page();
    struct iovec mixed[2] = {{.iov_base = heap, .iov_len = 8}, {.iov_base = map, .iov_len = 8}};
    vm_reads = 0;
    CU_ASSERT_EQUAL(shim_peek(mixed, 2, 0, out, 16), 16);
    CU_ASSERT_EQUAL(memcmp(out, heap, 8), 0);
    CU_ASSERT_EQUAL(memcmp(out + 8, map, 8), 0);
    CU_ASSERT_EQUAL(vm_reads, 1);
    /* the second page gone: what is left of the first, then nothing */
    CU_ASSERT_EQUAL(munmap(map + 4096, 4096), 0);
    CU_ASSERT_EQUAL(shim_peek(&one, 1, 0, out, sizeof(out)), 6);
    struct iovec gone = {.iov_base = map + 4096, .iov_len = 10};
    CU_ASSERT_EQUAL(shim_peek(&gone, 1, 0, out, 10), -1);
    munmap(map, 4096);
}

static void test_past_the_break_asks_the_kernel(void)
{
    uint8_t *heap = heap_page(), out[64];
    uint8_t *brk = sbrk(0);
    CU_ASSERT_PTR_EQUAL_FATAL(brk, heap + 4096);
    /* starts in the heap, ends past the break: not the heap's */
    struct iovec across = {.iov_base = brk - 8, .iov_len = 16};
    vm_reads = 0;
    ssize_t got = shim_peek(&across, 1, 0, out, 16);
    CU_ASSERT_EQUAL(vm_reads, 1);
    CU_ASSERT(got >= 8); /* the break's page may go on; past it, nothing */
    CU_ASSERT_EQUAL(memcmp(out, brk - 8, 8), 0);
    /* before the heap (this program's data) */
    static uint8_t data[32] = {1, 2, 3};
    struct iovec before = {.iov_base = data, .iov_len = sizeof(data)};
    vm_reads = 0;
    CU_ASSERT_EQUAL(shim_peek(&before, 1, 0, out, sizeof(data)), (ssize_t)sizeof(data));
    CU_ASSERT_EQUAL(memcmp(out, data, sizeof(data)), 0);
    CU_ASSERT_EQUAL(vm_reads, 1);
}

int main(void)
{
    /* Under a seccomp filter (a container's, systemd's), or without /proc,
     * peek.c reads every buffer directly by design: nothing here holds. */
    if (shim_syscalls_filtered()) {
        fprintf(stderr, "test_peek: skipped, under a seccomp filter (or no /proc)\n");
        return 77;
    }
    static const unit_test tests[] = {
        {"heap bytes are copied without a system call", test_heap_read_directly},
        {"another mapping is read by the kernel", test_elsewhere_asks_the_kernel},
        {"past the break or before the heap: read by the kernel",
         test_past_the_break_asks_the_kernel},
        {NULL, NULL},
    };
    return unit_run("peek", NULL, NULL, tests);
}
