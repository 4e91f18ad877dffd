/* SPDX-License-Identifier: Apache-2.0 */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(mxv_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *data = realloc(b->data, cap);
    if (!data) {
        b->failed = true;
        return false;
    }
    b->data = data;
    b->cap = cap;
    return true;
}

void mxv_buf_append(mxv_buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void mxv_buf_puts(mxv_buf *b, const char *s)
{
    mxv_buf_append(b, s, strlen(s));
}

void mxv_buf_printf(mxv_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void mxv_buf_printable(mxv_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            mxv_buf_append(b, (const char *)&c, 1);
        else
            mxv_buf_printf(b, "\\x%02x", c);
    }
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
    size_t len = s[0] >= 0xc2 && s[0] <= 0xdf   ? 2
                 : s[0] >= 0xe0 && s[0] <= 0xef ? 3
                 : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
                                                : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
        return 0;
    return len;
}

void mxv_buf_json_string(mxv_buf *b, const char *s, size_t n)
{
    mxv_buf_append(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        size_t seq;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            mxv_buf_append(b, esc, 2);
        } else if (c >= 0x20 && c < 0x7f) {
            mxv_buf_append(b, (const char *)&c, 1);
        } else if (c >= 0x80 && (seq = utf8_sequence((const unsigned char *)s + i, n - i))) {
            mxv_buf_append(b, s + i, seq); /* valid UTF-8: the text as it is */
            i += seq - 1;
        } else {
            /* Names from certificates are not trusted to be UTF-8: control
             * bytes and bytes that are not valid UTF-8 are escaped, so the
             * output stays valid JSON. */
            mxv_buf_printf(b, "\\u%04x", c);
        }
    }
    mxv_buf_append(b, "\"", 1);
}

char *mxv_buf_finish(mxv_buf *b)
{
    if (b->failed || !reserve(b, 0)) {
        free(b->data);
        b->data = NULL;
        return NULL;
    }
    char *out = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return out;
}
