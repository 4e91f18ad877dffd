/* SPDX-License-Identifier: Apache-2.0 */
/* buf: an append-only string builder for traces, JSON and log lines. */
#ifndef MXV_BUF_H
#define MXV_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    bool failed; /* an allocation failed: the content is incomplete */
} mxv_buf;

void mxv_buf_append(mxv_buf *b, const char *s, size_t n);
void mxv_buf_puts(mxv_buf *b, const char *s);
void mxv_buf_printf(mxv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends bytes made printable: non-printable and non-ASCII bytes as \xHH. */
void mxv_buf_printable(mxv_buf *b, const char *s, size_t n);
/* Appends a JSON string literal (quotes included): valid UTF-8 as it is,
 * control bytes and bytes that are not valid UTF-8 as \u00HH. */
void mxv_buf_json_string(mxv_buf *b, const char *s, size_t n);
/* Returns the string (caller frees) or NULL if an allocation failed. */
char *mxv_buf_finish(mxv_buf *b);

#endif
