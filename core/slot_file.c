/* SPDX-License-Identifier: Apache-2.0 */
#include "slot_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The header after the magic line: the geometry, checksummed. */
#define HDR_CHECK 256 /* u64: FNV-1a of the two fields below */
#define HDR_SLOT  264 /* u64: slot size */
#define HDR_SLOTS 272 /* u64: number of slots */
#define HDR_END   280
#define MAX_BYTES ((uint64_t)1 << 40) /* a sane bound for any file of slots */

struct mxv_slot_file {
    int fd; /* -1 once the descriptor is no longer ours */
    dev_t dev;
    ino_t ino;
    const mxv_slot_kind *kind;
    size_t slots; /* the geometry in force; 0: the file cannot be used now */
    off_t seen;   /* the file's size when its header was last read */
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

static off_t file_bytes(size_t slot_size, size_t slots)
{
    return (off_t)MXV_SLOT_FILE_HEADER + (off_t)slot_size * (off_t)slots;
}

static uint64_t header_check(const uint8_t *h)
{
    return mxv_fnv(MXV_FNV_BASIS, h + HDR_SLOT, HDR_END - HDR_SLOT);
}

/* The number of slots a header (len bytes of it) records for `kind`; 0
 * when it records none (damaged, another kind, a file older than the
 * geometry field). */
static size_t recorded_slots(const uint8_t *h, size_t len, const mxv_slot_kind *kind)
{
    size_t mlen = strlen(kind->magic);
    if (len < HDR_END || memcmp(h, kind->magic, mlen) != 0 ||
        mxv_slot_get(h + HDR_CHECK, 8) != header_check(h) ||
        mxv_slot_get(h + HDR_SLOT, 8) != kind->slot_size)
        return 0;
    uint64_t slots = mxv_slot_get(h + HDR_SLOTS, 8);
    return slots <= MAX_BYTES / kind->slot_size ? (size_t)slots : 0;
}

/* Writes the header for `slots`, then gives the file its size: in that
 * order, so that a process that sees the new size finds the new header
 * (a slot beyond the old size reads as zeros: empty). `fresh`: every slot
 * dropped first (a file of the former format, whose slots mean nothing
 * now). */
static const char *lay_out(int fd, const mxv_slot_kind *kind, size_t slots, bool fresh)
{
    uint8_t header[MXV_SLOT_FILE_HEADER] = {0};
    memcpy(header, kind->magic, strlen(kind->magic));
    mxv_slot_put(header + HDR_SLOT, kind->slot_size, 8);
    mxv_slot_put(header + HDR_SLOTS, slots, 8);
    mxv_slot_put(header + HDR_CHECK, header_check(header), 8);
    ssize_t n = pwrite(fd, header, sizeof(header), 0);
    if (n != (ssize_t)sizeof(header))
        return n < 0 ? strerror(errno) : "short write";
    if ((fresh && ftruncate(fd, MXV_SLOT_FILE_HEADER) != 0) ||
        ftruncate(fd, file_bytes(kind->slot_size, slots)) != 0)
        return strerror(errno);
    return NULL;
}

/* The host program may close descriptors it did not open (daemons do,
 * after start-up) and get the same number for a socket of its own: never
 * read or write through a descriptor that no longer names the file. */
static bool still_ours(mxv_slot_file *f, struct stat *st)
{
    if (f->fd >= 0 && fstat(f->fd, st) == 0 && st->st_dev == f->dev && st->st_ino == f->ino)
        return true;
    f->fd = -1; /* not closed: the number is someone else's now */
    return false;
}

/* Still ours, and in which geometry? A change of size is another
 * process's re-size: the geometry is read again from the header (the new
 * size is set after the new header is written), and the file is not used
 * while the two disagree. */
static bool usable(mxv_slot_file *f)
{
    struct stat st;
    if (!still_ours(f, &st))
        return false;
    if (st.st_size != f->seen) {
        uint8_t header[HDR_END];
        size_t slots = pread(f->fd, header, sizeof(header), 0) == (ssize_t)sizeof(header)
                           ? recorded_slots(header, sizeof(header), f->kind)
                           : 0;
        f->slots = st.st_size >= file_bytes(f->kind->slot_size, slots) ? slots : 0;
        f->seen = st.st_size;
    }
    return f->slots > 0;
}

/* Why the open file cannot be used ("" when it is not of the caller's
 * kind), or NULL; lays it out when new, of the former format, or of
 * another geometry. An empty file is new only when this process created
 * it (`created`) or when it has the mode we create (0600: its creator
 * stopped before writing the header); any other empty file is the
 * user's, not ours. */
static const char *check_file(int fd, const struct stat *st, const mxv_slot_kind *kind,
                              size_t slots, bool created)
{
    if (!S_ISREG(st->st_mode))
        return "not a regular file";
    if (st->st_uid != geteuid())
        return "owned by another user";
    if (st->st_mode & 022)
        return "writable by users other than its owner";
    if (st->st_nlink != 1)
        return "has other names (hard links)";
    if (st->st_size == 0)
        return created || (st->st_mode & 07777) == 0600 ? lay_out(fd, kind, slots, false) : "";
    uint8_t header[MXV_SLOT_FILE_HEADER];
    ssize_t n = pread(fd, header, sizeof(header), 0);
    size_t len = n > 0 ? (size_t)n : 0, mlen = strlen(kind->magic);
    size_t flen = kind->former ? strlen(kind->former) : 0;
    if (len >= mlen && memcmp(header, kind->magic, mlen) == 0) {
        if (recorded_slots(header, len, kind) == slots &&
            st->st_size == file_bytes(kind->slot_size, slots))
            return NULL;
        return lay_out(fd, kind, slots, false); /* re-sized: a setting changed */
    }
    if (flen && len >= flen && memcmp(header, kind->former, flen) == 0)
        return lay_out(fd, kind, slots, true); /* ours, of the former format */
    return "";
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

mxv_slot_file *mxv_slot_file_open(const char *configured, const mxv_slot_kind *kind, size_t slots,
                                  char *err, size_t errlen)
{
    char path[4096];
    if (!expand_user(configured, path, sizeof(path))) {
        snprintf(err, errlen, "%.200s: too long a path", configured);
        return NULL;
    }
    if (slots == 0 || slots > MAX_BYTES / kind->slot_size) {
        snprintf(err, errlen, "%s: no room for a slot, or too many", path);
        return NULL;
    }
    /* Not even opened when it is something else: opening a device can do
     * things (a mistyped path naming /dev/watchdog, say). */
    struct stat pre;
    if (lstat(path, &pre) == 0 && !S_ISREG(pre.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        return NULL;
    }
    /* Created here, or an existing file (never created through a link:
     * O_EXCL fails on one, and O_NOFOLLOW then refuses it). */
    const int flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
    int fd = open(path, flags | O_CREAT | O_EXCL, 0600);
    bool created = fd >= 0;
    if (fd < 0 && errno == EEXIST)
        fd = open(path, flags);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    const char *why =
        fstat(fd, &st) != 0 ? strerror(errno) : check_file(fd, &st, kind, slots, created);
    mxv_slot_file *f = why ? NULL : malloc(sizeof(*f));
    if (why && !*why) {
        snprintf(err, errlen, "%s: not an mxverify %s file", path, kind->what);
        close(fd);
        return NULL;
    }
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, why ? why : "out of memory");
        close(fd);
        return NULL;
    }
    /* The geometry is read from the header at the first use (seen: no
     * size yet), as after any re-size: another process may have laid the
     * file out again since. */
    *f = (mxv_slot_file){.fd = fd, .dev = st.st_dev, .ino = st.st_ino, .kind = kind, .seen = -1};
    return f;
}

void mxv_slot_file_close(mxv_slot_file *f)
{
    struct stat st;
    if (!f)
        return;
    if (still_ours(f, &st))
        close(f->fd);
    free(f);
}

size_t mxv_slot_file_slots(mxv_slot_file *f)
{
    return usable(f) ? f->slots : 0;
}

static off_t offset_of(const mxv_slot_file *f, size_t index)
{
    return file_bytes(f->kind->slot_size, index);
}

bool mxv_slot_file_read(mxv_slot_file *f, size_t index, size_t count, uint8_t *raw)
{
    if (!usable(f) || count > f->slots || index > f->slots - count)
        return false;
    size_t len = count * f->kind->slot_size;
    return pread(f->fd, raw, len, offset_of(f, index)) == (ssize_t)len;
}

bool mxv_slot_file_read_set(mxv_slot_file *f, uint64_t hash, size_t count, uint8_t *raw,
                            size_t *first)
{
    if (!usable(f) || count == 0 || f->slots / count == 0)
        return false;
    *first = (size_t)(hash % (f->slots / count)) * count;
    size_t len = count * f->kind->slot_size;
    return pread(f->fd, raw, len, offset_of(f, *first)) == (ssize_t)len;
}

void mxv_slot_file_write(mxv_slot_file *f, size_t index, const uint8_t *raw)
{
    /* Never beyond the geometry, and so never beyond the file's end: a
     * process whose geometry is stale does not grow a file another
     * process made smaller. */
    if (!usable(f) || index >= f->slots)
        return;
    /* One write: a reader sees the old slot, the new one, or a mix that
     * fails the checksum, never wrong data. */
    (void)!pwrite(f->fd, raw, f->kind->slot_size, offset_of(f, index));
}
