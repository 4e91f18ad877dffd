/* SPDX-License-Identifier: Apache-2.0 */
#include "slot_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct mxv_slot_file {
    int fd; /* -1 once the descriptor is no longer ours */
    dev_t dev;
    ino_t ino;
    size_t slot_size, slots;
};

uint64_t mxv_fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211u;
    return h;
}

uint64_t mxv_fnv_name(uint64_t h, const char *name)
{
    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        h = mxv_fnv(h, &c, 1);
    }
    return h;
}

uint64_t mxv_slot_get(const uint8_t *p, size_t bytes)
{
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void mxv_slot_put(uint8_t *p, uint64_t v, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void mxv_slot_seal(uint8_t *raw, size_t slot_size)
{
    mxv_slot_put(raw, mxv_fnv(MXV_FNV_BASIS, raw + 8, slot_size - 8), 8);
}

bool mxv_slot_intact(const uint8_t *raw, size_t slot_size)
{
    return slot_size > 8 && mxv_slot_get(raw, 8) == mxv_fnv(MXV_FNV_BASIS, raw + 8, slot_size - 8);
}

/* The host program may close descriptors it did not open (daemons do,
 * after start-up) and get the same number for a socket of its own: never
 * read or write through a descriptor that no longer names the file. */
static bool still_ours(mxv_slot_file *f)
{
    struct stat st;
    if (f->fd >= 0 && fstat(f->fd, &st) == 0 && st.st_dev == f->dev && st.st_ino == f->ino)
        return true;
    f->fd = -1; /* not closed: the number is someone else's now */
    return false;
}

/* Why the open file cannot be used ("" when it is not of the caller's
 * kind), or NULL; creates the layout when new. */
static const char *check_file(int fd, const struct stat *st, const char *magic, size_t slot_size,
                              size_t slots)
{
    size_t mlen = strlen(magic);
    if (!S_ISREG(st->st_mode))
        return "not a regular file";
    if (st->st_uid != geteuid())
        return "owned by another user";
    if (st->st_mode & 022)
        return "writable by users other than its owner";
    if (st->st_size == 0) {
        /* New: the header first (in one write, so a process that sees a
         * non-empty file sees it), then room for every slot. */
        uint8_t *header = calloc(1, slot_size);
        const char *why = header ? NULL : "out of memory";
        if (header) {
            memcpy(header, magic, mlen);
            if (pwrite(fd, header, slot_size, 0) != (ssize_t)slot_size ||
                ftruncate(fd, (off_t)slot_size * (off_t)(1 + slots)) != 0)
                why = strerror(errno);
        }
        free(header);
        return why;
    }
    char *seen = malloc(mlen);
    bool same = seen && pread(fd, seen, mlen, 0) == (ssize_t)mlen && memcmp(seen, magic, mlen) == 0;
    free(seen);
    return same ? NULL : "";
}

/* `configured` with each "%u" replaced by the effective user ID: processes
 * of several users (Exim's root and Debian-exim) each get a file of their
 * own from one setting, since each file is used only by its owner. */
static bool expand_user(const char *configured, char *out, size_t len)
{
    size_t k = 0;
    for (const char *p = configured; *p; p++) {
        int n = p[0] == '%' && p[1] == 'u'
                    ? snprintf(out + k, len - k, "%lu", (unsigned long)geteuid())
                    : snprintf(out + k, len - k, "%c", *p);
        if (n < 0 || (size_t)n >= len - k)
            return false;
        k += (size_t)n;
        p += p[0] == '%' && p[1] == 'u';
    }
    return true;
}

mxv_slot_file *mxv_slot_file_open(const char *configured, const char *magic, size_t slot_size,
                                  size_t slots, const char *what, char *err, size_t errlen)
{
    char path[4096];
    if (!expand_user(configured, path, sizeof(path))) {
        snprintf(err, errlen, "%.200s: too long a path", configured);
        return NULL;
    }
    /* Not even opened when it is something else: opening a device can do
     * things (a mistyped path naming /dev/watchdog, say). */
    struct stat pre;
    if (lstat(path, &pre) == 0 && !S_ISREG(pre.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        return NULL;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    const char *why =
        fstat(fd, &st) != 0 ? strerror(errno) : check_file(fd, &st, magic, slot_size, slots);
    mxv_slot_file *f = why ? NULL : malloc(sizeof(*f));
    if (why && !*why) {
        snprintf(err, errlen, "%s: not an mxverify %s file", path, what);
        close(fd);
        return NULL;
    }
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, why ? why : "out of memory");
        close(fd);
        return NULL;
    }
    *f = (mxv_slot_file){
        .fd = fd, .dev = st.st_dev, .ino = st.st_ino, .slot_size = slot_size, .slots = slots};
    return f;
}

void mxv_slot_file_close(mxv_slot_file *f)
{
    if (!f)
        return;
    if (still_ours(f))
        close(f->fd);
    free(f);
}

size_t mxv_slot_file_slots(const mxv_slot_file *f)
{
    return f->slots;
}

bool mxv_slot_file_read(mxv_slot_file *f, size_t index, size_t count, uint8_t *raw)
{
    if (index + count > f->slots || !still_ours(f))
        return false;
    size_t len = count * f->slot_size;
    return pread(f->fd, raw, len, (off_t)f->slot_size * (off_t)(1 + index)) == (ssize_t)len;
}

void mxv_slot_file_write(mxv_slot_file *f, size_t index, const uint8_t *raw)
{
    if (index >= f->slots || !still_ours(f))
        return;
    /* One write: a reader sees the old slot, the new one, or a mix that
     * fails the checksum, never wrong data. */
    (void)!pwrite(f->fd, raw, f->slot_size, (off_t)f->slot_size * (off_t)(1 + index));
}
