/* SPDX-License-Identifier: Apache-2.0 */
/*
 * text_copy: a string into a fixed buffer, cut to fit.
 *
 * What snprintf(dst, size, "%s", src) does, without the format machinery
 * (about 600 instructions a call in glibc, against a few dozen), for the
 * names and details copied on every delivery.
 */
#ifndef MXV_TEXT_COPY_H
#define MXV_TEXT_COPY_H

#include <stdbool.h>
#include <stddef.h>

/* Copies `src` into `dst` (`size` octets), cut at size - 1 octets and
 * NUL-terminated (size 0: nothing written, false). true when all of it
 * fitted. The two must not overlap. */
bool mxv_text_copy(char *dst, size_t size, const char *src);

#endif
