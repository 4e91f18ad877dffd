/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slot_file: a file of fixed-size, checksummed slots that the processes of
 * one user share (the `dns_cache` and `sts_cache` settings), with the
 * safety rules both need.
 *
 * Slots are read and written with single pread()/pwrite() calls (no mmap:
 * a truncated file must not be a SIGBUS in the host program). Each slot
 * carries a checksum of the rest, so a slot read while another process
 * rewrites it, or damaged in any way, fails the check and is a miss,
 * never data. The file is used only when it is a regular file owned by
 * the process's effective user, writable by no one else, and with no
 * other name (a hard link): what it holds is evidence, and only that user
 * may write it. A file that does not start with the caller's magic line
 * (or an earlier format's, which is then re-initialised) is never written
 * to, nor is an empty one unless this process created it or its mode is
 * exactly 0600 (ours, its creator stopped before the header): a mistyped
 * path must not damage whatever it names.
 *
 * The file's first MXV_SLOT_FILE_HEADER bytes are its header: the magic
 * line, then its geometry (slot size and number of slots, checksummed).
 * The number of slots is the caller's to choose, and may differ between
 * processes (a setting changed): the process that opens the file with
 * another number rewrites the header and re-sizes the file, and the
 * others notice the change of size at their next use and follow the
 * header. Whatever geometry a process uses, a slot is only ever taken
 * for what its own fields say, so a stale geometry costs misses, never
 * wrong data. The file is sparse: slots never written take no disk.
 */
#ifndef MXV_SLOT_FILE_H
#define MXV_SLOT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mxv_slot_file mxv_slot_file;

/* Bytes before the first slot: a page, so that slots and sets of slots
 * whose size divides a page never straddle pages. */
#define MXV_SLOT_FILE_HEADER 4096

/* What kind of file: static data, which must outlive the files opened. */
typedef struct {
    const char *magic;  /* the first line of the file, with its "\n" (< 256 bytes) */
    const char *former; /* an earlier format's magic line (its files are ours, and
                           re-initialised), or NULL */
    size_t slot_size;   /* bytes; at most MXV_SLOT_FILE_HEADER */
    const char *what;   /* the kind in errors: "not an mxverify DNS cache file" */
} mxv_slot_kind;

/* FNV-1a, 64 bits: the slot checksum, and the hash that places keys. */
#define MXV_FNV_BASIS 14695981039346656037u
uint64_t mxv_fnv(uint64_t h, const void *data, size_t len);
/* The same over a name, ASCII letters folded to lower case: a DNS name
 * places the same whatever its case. */
uint64_t mxv_fnv_name(uint64_t h, const char *name);

/* Opens `path` ("%u" in it: the effective user ID, so that one setting
 * gives each user a file of its own) for `slots` slots (at least one),
 * creating it (mode 0600) if absent, laying it out if empty and of mode
 * 0600, re-initialising it if it is of the kind's former format, and
 * re-sizing it if its header says another number of slots. NULL with a
 * reason in err when it cannot be used safely (see above). */
mxv_slot_file *mxv_slot_file_open(const char *path, const mxv_slot_kind *kind, size_t slots,
                                  char *err, size_t errlen);
void mxv_slot_file_close(mxv_slot_file *f);
/* The number of slots in the file's current geometry; 0 when it cannot be
 * used now (the descriptor is no longer the file, a re-size under way). */
size_t mxv_slot_file_slots(mxv_slot_file *f);
/* Reads `count` consecutive slots from slot `index` (0-based, after the
 * header) into raw (count * slot_size bytes); false when they cannot be
 * read (not in the current geometry, the descriptor is no longer the
 * file, a short read). */
bool mxv_slot_file_read(mxv_slot_file *f, size_t index, size_t count, uint8_t *raw);
/* Reads, in one pread(), the set of `count` consecutive slots that `hash`
 * places in the current geometry (sets of `count` slots from slot 0) into
 * raw; *first is then the index of its first slot. False as
 * mxv_slot_file_read(), or when the file holds no whole set. */
bool mxv_slot_file_read_set(mxv_slot_file *f, uint64_t hash, size_t count, uint8_t *raw,
                            size_t *first);
/* Writes one sealed slot in one pwrite(), never beyond the current
 * geometry; a failure only costs the other processes a lookup of their
 * own, so it is not reported. */
void mxv_slot_file_write(mxv_slot_file *f, size_t index, const uint8_t *raw);

/* The first 8 bytes of a slot are the checksum of the rest. */
void mxv_slot_seal(uint8_t *raw, size_t slot_size);
bool mxv_slot_intact(const uint8_t *raw, size_t slot_size);

/* Little-endian fields at fixed offsets: the decoders stay free of padding. */
uint64_t mxv_slot_get(const uint8_t *p, size_t bytes);
void mxv_slot_put(uint8_t *p, uint64_t v, size_t bytes);

#endif
