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
 * the process's effective user and writable by no one else: what it holds
 * is evidence, and only that user may write it. A file that does not
 * start with the caller's magic line is never written to (a mistyped path
 * must not damage whatever it names).
 */
#ifndef MXV_SLOT_FILE_H
#define MXV_SLOT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mxv_slot_file mxv_slot_file;

/* FNV-1a, 64 bits: the slot checksum, and the hash that places keys. */
#define MXV_FNV_BASIS 14695981039346656037u
uint64_t mxv_fnv(uint64_t h, const void *data, size_t len);
/* The same over a name, ASCII letters folded to lower case: a DNS name
 * places the same whatever its case. */
uint64_t mxv_fnv_name(uint64_t h, const char *name);

/* Opens `path` ("%u" in it: the effective user ID, so that one setting
 * gives each user a file of its own), creating it (mode 0600) if absent
 * as a header slot (the
 * `magic` line) then `slots` empty slots of `slot_size` bytes (a sparse
 * file: unused slots take no disk). `what` names the file's kind in
 * errors ("not an mxverify DNS cache file"). NULL with a reason in err when it cannot be used
 * safely. */
mxv_slot_file *mxv_slot_file_open(const char *path, const char *magic, size_t slot_size,
                                  size_t slots, const char *what, char *err, size_t errlen);
void mxv_slot_file_close(mxv_slot_file *f);
size_t mxv_slot_file_slots(const mxv_slot_file *f);
/* Reads `count` consecutive slots from slot `index` (0-based, after the
 * header) into raw (count * slot_size bytes); false when they cannot be
 * read (the descriptor is no longer the file, a short read). */
bool mxv_slot_file_read(mxv_slot_file *f, size_t index, size_t count, uint8_t *raw);
/* Writes one sealed slot in one pwrite(); a failure only costs the other
 * processes a lookup of their own, so it is not reported. */
void mxv_slot_file_write(mxv_slot_file *f, size_t index, const uint8_t *raw);

/* The first 8 bytes of a slot are the checksum of the rest. */
void mxv_slot_seal(uint8_t *raw, size_t slot_size);
bool mxv_slot_intact(const uint8_t *raw, size_t slot_size);

/* Little-endian fields at fixed offsets: the decoders stay free of padding. */
uint64_t mxv_slot_get(const uint8_t *p, size_t bytes);
void mxv_slot_put(uint8_t *p, uint64_t v, size_t bytes);

#endif
