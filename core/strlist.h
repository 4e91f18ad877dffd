/* SPDX-License-Identifier: Apache-2.0 */
/* strlist: a growable list of owned C strings (MX hosts, routes, names). */
#ifndef MXV_STRLIST_H
#define MXV_STRLIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char **items;
    size_t n;
    size_t cap;
} mxv_strlist;

void mxv_strlist_clear(mxv_strlist *list);
bool mxv_strlist_add(mxv_strlist *list, const char *s);
bool mxv_strlist_copy(mxv_strlist *dst, const mxv_strlist *src);
bool mxv_strlist_contains(const mxv_strlist *list, const char *s);

#endif
