/* SPDX-License-Identifier: Apache-2.0 */
#include "strlist.h"

#include <stdlib.h>
#include <string.h>

void mxv_strlist_clear(mxv_strlist *list)
{
    for (size_t i = 0; i < list->n; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->n = list->cap = 0;
}

bool mxv_strlist_add(mxv_strlist *list, const char *s)
{
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 4;
        char **items = realloc(list->items, cap * sizeof(*items));
        if (!items)
            return false;
        list->items = items;
        list->cap = cap;
    }
    char *copy = strdup(s);
    if (!copy)
        return false;
    list->items[list->n++] = copy;
    return true;
}

bool mxv_strlist_copy(mxv_strlist *dst, const mxv_strlist *src)
{
    for (size_t i = 0; i < src->n; i++)
        if (!mxv_strlist_add(dst, src->items[i]))
            return false;
    return true;
}

bool mxv_strlist_contains(const mxv_strlist *list, const char *s)
{
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->items[i], s) == 0)
            return true;
    return false;
}
