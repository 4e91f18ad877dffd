/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stdio on a guarded connection (fdopen() of an SMTP socket, or a socket
 * made a program's standard output with dup2(): shell scripts do both).
 * glibc writes a stream's buffer through an internal write that no
 * interposer sees, so the bytes are judged where they enter the stream:
 * each output function below, on a stream whose descriptor is a guarded
 * connection where clear text is restricted, judges what the stream
 * already holds and what the call adds, then makes the call and flushes,
 * so that nothing judged stays behind and nothing unjudged goes out. A
 * stream that writes to such a connection keeps nothing back from the
 * first time the shim sees it (fdopen(), a connection on 0-2, its first
 * write): line-buffered with its write area closed, so that glibc's inline
 * putc macros reach __overflow() for every byte and no flush the shim
 * cannot see (exit(), fflush(NULL), a seek) finds anything to send, while
 * reading stays buffered. What a non-blocking socket did not take stays
 * in the stream, judged again with the next bytes. A refused stream's
 * buffer is emptied: nothing refused waits there either. On every other
 * stream each function costs a table read.
 *
 * Wide-character output and libc's own messages to stderr are in
 * hook_stdio_opaque.c. Out of reach, and said so in docs/decisions.md:
 * bytes put into a stream's buffer before its descriptor became a
 * connection and flushed only by exit().
 */
#include "shim.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REAL(name, type, fail)                                                                     \
    static __typeof__(type) real;                                                                  \
    if (!real && !(real = (type)shim_real(name))) {                                                \
        errno = ENOSYS;                                                                            \
        return fail;                                                                               \
    }

typedef size_t (*fwrite_fn)(const void *, size_t, size_t, FILE *);
typedef int (*fflush_fn)(FILE *);

/* glibc's libio.h flags, part of the FILE ABI since 2.1. */
#define STREAM_UNBUFFERED 0x0002
#define STREAM_NO_WRITES  0x0008
#define STREAM_LINE_BUF   0x0200

/* The descriptor of a stream on a guarded connection, or -1. */
int shim_stream_guarded(FILE *fp)
{
    if (!fp || shim_busy)
        return -1;
    int fd = fp->_fileno; /* struct _IO_FILE is glibc's public ABI */
    return fd >= 0 && shim_guarded_strictly(fd) ? fd : -1;
}

static size_t pending(const FILE *fp)
{
    return fp->_IO_write_ptr > fp->_IO_write_base ? (size_t)(fp->_IO_write_ptr - fp->_IO_write_base)
                                                  : 0;
}

static fwrite_fn real_fwrite(void)
{
    static fwrite_fn f;
    if (!f)
        f = (fwrite_fn)shim_real("fwrite");
    return f;
}

static fflush_fn real_fflush(void)
{
    static fflush_fn f;
    if (!f)
        f = (fflush_fn)shim_real("fflush");
    return f;
}

typedef struct {
    FILE *fp;
    const void *data;
    size_t len, held;
    size_t put; /* of data, what the stream took */
} emission;

/* What the guard agreed to: the call's bytes into the stream, then out.
 * Returns how many of the judged octets (what the stream held, then the
 * call's) left, or -1 when none did: a socket that takes only part (non-
 * blocking) leaves the rest in the stream, judged again with the next. */
static ssize_t emit_now(void *arg, const void *copy, size_t copylen)
{
    (void)copy, (void)copylen; /* judged in place */
    emission *e = arg;
    fwrite_fn w = real_fwrite();
    fflush_fn f = real_fflush();
    if (!w || !f) {
        errno = ENOSYS;
        return -1;
    }
    shim_busy++;
    e->put = e->len ? w(e->data, 1, e->len, e->fp) : 0;
    int flushed = f(e->fp);
    shim_busy--;
    size_t left = pending(e->fp), offered = e->held + e->put;
    size_t sent = left < offered ? offered - left : 0;
    return sent == 0 && (flushed != 0 || e->put < e->len) ? -1 : (ssize_t)sent;
}

/* A stream that writes to a guarded connection keeps nothing back from
 * the guard: line-buffered, with its write area closed, every byte put
 * by glibc's inline putc macros reaches __overflow() (interposed), and
 * every output function here flushes, so no flush the shim cannot see
 * (exit(), fflush(NULL), a seek) finds anything. Reading stays buffered.
 * (setvbuf(_IOLBF) keeps the buffer and any input not yet read.) */
static void keep_nothing_back(FILE *fp)
{
    static int (*real_setvbuf)(FILE *, char *, int, size_t);
    if ((fp->_flags & STREAM_NO_WRITES) || pending(fp))
        return;
    if (!(fp->_flags & (STREAM_UNBUFFERED | STREAM_LINE_BUF))) {
        if (!real_setvbuf)
            real_setvbuf = (int (*)(FILE *, char *, int, size_t))shim_real("setvbuf");
        if (!real_setvbuf)
            return;
        shim_busy++;
        real_setvbuf(fp, NULL, _IOLBF, 0);
        shim_busy--;
    }
    fp->_IO_write_end = fp->_IO_write_ptr; /* as glibc's overflow does for such streams */
}

/* len bytes onto the guarded stream fp (descriptor fd): judged with what
 * the stream already held, then written and flushed. Returns how many of
 * them the stream took (fewer on a socket that took only part), or -1
 * with the stream's error flag set and errno said. */
static ssize_t emit(FILE *fp, int fd, const void *data, size_t len)
{
    flockfile(fp);
    emission e = {.fp = fp, .data = data, .len = len, .held = pending(fp)};
    struct iovec iov[2] = {{.iov_base = fp->_IO_write_base, .iov_len = e.held},
                           {.iov_base = (void *)data, .iov_len = len}};
    ssize_t r = shim_conn_emit(fd, iov, 2, emit_now, &e);
    if (r >= 0) {
        keep_nothing_back(fp);
    } else {
        int saved = errno;
        if (saved == ECONNABORTED)
            __fpurge(fp); /* refused bytes never leave, at exit() either */
        fp->_flags |= _IO_ERR_SEEN;
        errno = saved;
    }
    funlockfile(fp);
    return r < 0 ? -1 : (ssize_t)e.put;
}

/* emit() of all of it: 0, or EOF. */
static int emit_all(FILE *fp, int fd, const void *data, size_t len)
{
    return emit(fp, fd, data, len) == (ssize_t)len ? 0 : EOF;
}

void shim_stdio_std_attached(int fd)
{
    FILE *fp = fd == 0 ? stdin : fd == 1 ? stdout : stderr;
    if (fp && fp->_fileno == fd && shim_stream_guarded(fp) == fd)
        emit(fp, fd, "", 0); /* what it buffered before goes now, judged */
}

/* --- unformatted output --- */

static size_t write_items(const char *name, const void *p, size_t size, size_t n, FILE *fp)
{
    static fwrite_fn real_w, real_wu, real_io;
    fwrite_fn *slot = name[0] == '_' ? &real_io : name[6] ? &real_wu : &real_w;
    if (!*slot && !(*slot = (fwrite_fn)shim_real(name)))
        return 0;
    int fd = shim_stream_guarded(fp);
    if (fd < 0)
        return (*slot)(p, size, n, fp);
    if (size && n > (size_t)-1 / size)
        return 0;
    ssize_t took = emit(fp, fd, p, size * n);
    return took <= 0 || size == 0 ? 0 : (size_t)took / size; /* whole items, as fwrite */
}

SHIM_EXPORT size_t fwrite(const void *p, size_t size, size_t n, FILE *fp)
{
    return write_items("fwrite", p, size, n, fp);
}

SHIM_EXPORT size_t fwrite_unlocked(const void *p, size_t size, size_t n, FILE *fp)
{
    return write_items("fwrite_unlocked", p, size, n, fp);
}

SHIM_EXPORT size_t _IO_fwrite(const void *p, size_t size, size_t n, FILE *fp)
{
    return write_items("_IO_fwrite", p, size, n, fp);
}

#define STRING_OUT(name)                                                                           \
    SHIM_EXPORT int name(const char *s, FILE *fp)                                                  \
    {                                                                                              \
        REAL(#name, int (*)(const char *, FILE *), EOF);                                           \
        int fd = shim_stream_guarded(fp);                                                          \
        return fd < 0 ? real(s, fp) : emit_all(fp, fd, s, strlen(s)) == 0 ? 1 : EOF;               \
    }
STRING_OUT(fputs)
STRING_OUT(fputs_unlocked)
STRING_OUT(_IO_fputs)

#define CHAR_OUT(name)                                                                             \
    SHIM_EXPORT int name(int ch, FILE *fp)                                                         \
    {                                                                                              \
        REAL(#name, int (*)(int, FILE *), EOF);                                                    \
        int fd = shim_stream_guarded(fp);                                                          \
        unsigned char b = (unsigned char)ch;                                                       \
        return fd < 0 ? real(ch, fp) : emit_all(fp, fd, &b, 1) == 0 ? b : EOF;                     \
    }
CHAR_OUT(fputc)
CHAR_OUT(fputc_unlocked)
CHAR_OUT(putc)
CHAR_OUT(putc_unlocked)
CHAR_OUT(_IO_putc)

#define STDOUT_CHAR_OUT(name)                                                                      \
    SHIM_EXPORT int name(int ch)                                                                   \
    {                                                                                              \
        REAL(#name, int (*)(int), EOF);                                                            \
        int fd = shim_stream_guarded(stdout);                                                      \
        unsigned char b = (unsigned char)ch;                                                       \
        return fd < 0 ? real(ch) : emit_all(stdout, fd, &b, 1) == 0 ? b : EOF;                     \
    }
STDOUT_CHAR_OUT(putchar)
STDOUT_CHAR_OUT(putchar_unlocked)

static int put_line(const char *name, const char *s)
{
    static int (*real_puts)(const char *), (*real_io_puts)(const char *);
    int (**slot)(const char *) = name[0] == '_' ? &real_io_puts : &real_puts;
    if (!*slot && !(*slot = (int (*)(const char *))shim_real(name))) {
        errno = ENOSYS;
        return EOF;
    }
    int fd = shim_stream_guarded(stdout);
    if (fd < 0)
        return (*slot)(s);
    size_t len = strlen(s);
    char *line = malloc(len + 1);
    if (!line)
        return EOF;
    memcpy(line, s, len);
    line[len] = '\n';
    int r = emit_all(stdout, fd, line, len + 1);
    free(line);
    /* As glibc: the count written, at most INT_MAX. */
    return r != 0 ? EOF : len + 1 > INT_MAX ? INT_MAX : (int)(len + 1);
}

SHIM_EXPORT int puts(const char *s)
{
    return put_line("puts", s);
}

SHIM_EXPORT int _IO_puts(const char *s)
{
    return put_line("_IO_puts", s);
}

/* putw(): the int's bytes as they are in memory; 0 or EOF. */
SHIM_EXPORT int putw(int w, FILE *fp)
{
    REAL("putw", int (*)(int, FILE *), EOF);
    int fd = shim_stream_guarded(fp);
    return fd < 0 ? real(w, fp) : emit_all(fp, fd, &w, sizeof(w));
}

/* The inline putc macros call __overflow when the buffer is full (or, on
 * an unbuffered stream, for each character). */
SHIM_EXPORT int __overflow(FILE *fp, int ch)
{
    REAL("__overflow", int (*)(FILE *, int), EOF);
    int fd = shim_stream_guarded(fp);
    if (fd < 0 || ch == EOF)
        return real(fp, ch);
    unsigned char b = (unsigned char)ch;
    return emit_all(fp, fd, &b, 1) == 0 ? b : EOF;
}

#define FLUSH(name)                                                                                \
    SHIM_EXPORT int name(FILE *fp)                                                                 \
    {                                                                                              \
        REAL(#name, int (*)(FILE *), EOF);                                                         \
        int fd = shim_stream_guarded(fp);                                                          \
        return fd < 0 ? real(fp) : emit_all(fp, fd, "", 0) == 0 && !pending(fp) ? 0 : EOF;         \
    }
FLUSH(fflush)
FLUSH(fflush_unlocked)
FLUSH(_IO_fflush)

/* --- streams opened and closed --- */

/* fp's descriptor is about to be closed by glibc itself, without close():
 * what the stream holds is judged and sent, and the number forgotten. */
static void stream_closing(FILE *fp)
{
    int fd = fp ? fp->_fileno : -1;
    int guarded = shim_stream_guarded(fp);
    if (guarded >= 0)
        emit(fp, guarded, "", 0);
    if (fd >= 0)
        shim_conn_closed(fd);
}

/* fclose() flushes and closes the descriptor. */
static int close_stream(const char *name, int (**real)(FILE *), FILE *fp)
{
    if (!*real && !(*real = (int (*)(FILE *))shim_real(name))) {
        errno = ENOSYS;
        return EOF;
    }
    stream_closing(fp);
    return (*real)(fp);
}

SHIM_EXPORT int fclose(FILE *fp)
{
    static int (*real)(FILE *);
    return close_stream("fclose", &real, fp);
}

SHIM_EXPORT int _IO_fclose(FILE *fp)
{
    static int (*real)(FILE *);
    return close_stream("_IO_fclose", &real, fp);
}

/* A stream on a guarded connection keeps nothing back, from the start. */
static FILE *opened(FILE *fp)
{
    int fd = fp ? fp->_fileno : -1;
    if (fd >= 0 && shim_stream_guarded(fp) == fd) {
        flockfile(fp);
        keep_nothing_back(fp);
        funlockfile(fp);
    }
    return fp;
}

SHIM_EXPORT FILE *fdopen(int fd, const char *mode)
{
    REAL("fdopen", FILE * (*)(int, const char *), NULL);
    return opened(real(fd, mode));
}

SHIM_EXPORT FILE *_IO_fdopen(int fd, const char *mode)
{
    REAL("_IO_fdopen", FILE * (*)(int, const char *), NULL);
    return opened(real(fd, mode));
}

/* freopen() closes the stream's descriptor without close(), and opens a
 * file (a path never names a TCP connection) usually at the same number. */
static FILE *reopen(const char *name, FILE *(**real)(const char *, const char *, FILE *),
                    const char *path, const char *mode, FILE *fp)
{
    if (!*real && !(*real = (FILE * (*)(const char *, const char *, FILE *)) shim_real(name))) {
        errno = ENOSYS;
        return NULL;
    }
    stream_closing(fp);
    return (*real)(path, mode, fp);
}

SHIM_EXPORT FILE *freopen(const char *path, const char *mode, FILE *fp)
{
    static FILE *(*real)(const char *, const char *, FILE *);
    return reopen("freopen", &real, path, mode, fp);
}

SHIM_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *fp)
{
    static FILE *(*real)(const char *, const char *, FILE *);
    return reopen("freopen64", &real, path, mode, fp);
}

/* --- formatted output: formatted here, then as above --- */

static int emit_format(FILE *fp, int fd, const char *fmt, va_list ap)
{
    char *text = NULL;
    int n = vasprintf(&text, fmt, ap);
    if (n < 0)
        return -1;
    int r = emit_all(fp, fd, text, (size_t)n);
    free(text);
    return r == 0 ? n : -1;
}

SHIM_EXPORT int vfprintf(FILE *fp, const char *fmt, va_list ap)
{
    REAL("vfprintf", int (*)(FILE *, const char *, va_list), -1);
    int fd = shim_stream_guarded(fp);
    return fd < 0 ? real(fp, fmt, ap) : emit_format(fp, fd, fmt, ap);
}

SHIM_EXPORT int __vfprintf_chk(FILE *fp, int flag, const char *fmt, va_list ap)
{
    REAL("__vfprintf_chk", int (*)(FILE *, int, const char *, va_list), -1);
    int fd = shim_stream_guarded(fp);
    return fd < 0 ? real(fp, flag, fmt, ap) : emit_format(fp, fd, fmt, ap);
}

SHIM_EXPORT int _IO_vfprintf(FILE *fp, const char *fmt, va_list ap)
{
    REAL("_IO_vfprintf", int (*)(FILE *, const char *, va_list), -1);
    int fd = shim_stream_guarded(fp);
    return fd < 0 ? real(fp, fmt, ap) : emit_format(fp, fd, fmt, ap);
}

SHIM_EXPORT int vprintf(const char *fmt, va_list ap)
{
    return vfprintf(stdout, fmt, ap);
}

SHIM_EXPORT int __vprintf_chk(int flag, const char *fmt, va_list ap)
{
    return __vfprintf_chk(stdout, flag, fmt, ap);
}

SHIM_VARIADIC(fprintf, vfprintf(fp, fmt, ap), fmt, FILE *fp, const char *fmt)

SHIM_VARIADIC(__fprintf_chk, __vfprintf_chk(fp, flag, fmt, ap), fmt, FILE *fp, int flag,
              const char *fmt)

SHIM_VARIADIC(_IO_fprintf, vfprintf(fp, fmt, ap), fmt, FILE *fp, const char *fmt)

SHIM_VARIADIC(_IO_printf, vfprintf(stdout, fmt, ap), fmt, const char *fmt)

SHIM_VARIADIC(printf, vfprintf(stdout, fmt, ap), fmt, const char *fmt)

SHIM_VARIADIC(__printf_chk, __vfprintf_chk(stdout, flag, fmt, ap), fmt, int flag, const char *fmt)

/* dprintf() writes to a descriptor through glibc's internal write. */
static int dprint(int fd, const char *fmt, va_list ap)
{
    char *text = NULL;
    int n = vasprintf(&text, fmt, ap);
    if (n < 0)
        return -1;
    size_t done = 0;
    while (done < (size_t)n) {
        ssize_t w = write(fd, text + done, (size_t)n - done); /* the guarded write */
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            free(text);
            return -1;
        }
        done += (size_t)w;
    }
    free(text);
    return n;
}

SHIM_EXPORT int vdprintf(int fd, const char *fmt, va_list ap)
{
    REAL("vdprintf", int (*)(int, const char *, va_list), -1);
    return shim_busy || !shim_guarded(fd) ? real(fd, fmt, ap) : dprint(fd, fmt, ap);
}

SHIM_EXPORT int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
    REAL("__vdprintf_chk", int (*)(int, int, const char *, va_list), -1);
    return shim_busy || !shim_guarded(fd) ? real(fd, flag, fmt, ap) : dprint(fd, fmt, ap);
}

SHIM_VARIADIC(dprintf, vdprintf(fd, fmt, ap), fmt, int fd, const char *fmt)

SHIM_VARIADIC(__dprintf_chk, __vdprintf_chk(fd, flag, fmt, ap), fmt, int fd, int flag,
              const char *fmt)
