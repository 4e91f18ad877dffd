/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stdio output the guard does not read: wide-character output (converted
 * inside glibc, written by its internal write) and libc's own messages on
 * stderr (perror(), psignal(), psiginfo(), herror()). On a stream whose
 * descriptor is a guarded connection where clear text is restricted, such
 * a call ends the connection (one log line) instead of writing: what it
 * would send is never an SMTP greeting command, so the guard would refuse
 * it anyway. Everywhere else it is the real call.
 *
 * Not interposed, though glibc writes them the same way: err(), warn(),
 * error() and their variants. Their names are common enough that a
 * program's own library may export a function of that name with another
 * signature, which an interposer would take the place of (docs/decisions.md
 * lists them among what is out of reach).
 */
#include "shim.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <wchar.h>

#define REAL(name, type, fail)                                                                     \
    static __typeof__(type) real;                                                                  \
    if (!real && !(real = (type)shim_real(name))) {                                                \
        errno = ENOSYS;                                                                            \
        return fail;                                                                               \
    }

/* Does this call on fp end the connection instead? */
static bool refused(FILE *fp, const char *call)
{
    int fd = shim_stream_guarded(fp);
    if (fd < 0)
        return false;
    char why[160];
    snprintf(why, sizeof(why),
             "%s() onto an SMTP connection where TLS is required (output the guard cannot read)",
             call);
    if (shim_conn_refuse_opaque(fd, why) == 0)
        return false;
    fp->_flags |= _IO_ERR_SEEN;
    errno = ECONNABORTED;
    return true;
}

/* --- wide characters --- */

#define WCHAR_OUT(name)                                                                            \
    SHIM_EXPORT wint_t name(wchar_t wc, FILE *fp)                                                  \
    {                                                                                              \
        REAL(#name, wint_t (*)(wchar_t, FILE *), WEOF);                                            \
        return refused(fp, #name) ? WEOF : real(wc, fp);                                           \
    }
WCHAR_OUT(fputwc)
WCHAR_OUT(putwc)
WCHAR_OUT(fputwc_unlocked)
WCHAR_OUT(putwc_unlocked)

#define WSTDOUT_CHAR_OUT(name)                                                                     \
    SHIM_EXPORT wint_t name(wchar_t wc)                                                            \
    {                                                                                              \
        REAL(#name, wint_t (*)(wchar_t), WEOF);                                                    \
        return refused(stdout, #name) ? WEOF : real(wc);                                           \
    }
WSTDOUT_CHAR_OUT(putwchar)
WSTDOUT_CHAR_OUT(putwchar_unlocked)

#define WSTRING_OUT(name)                                                                          \
    SHIM_EXPORT int name(const wchar_t *s, FILE *fp)                                               \
    {                                                                                              \
        REAL(#name, int (*)(const wchar_t *, FILE *), -1);                                         \
        return refused(fp, #name) ? -1 : real(s, fp);                                              \
    }
WSTRING_OUT(fputws)
WSTRING_OUT(fputws_unlocked)

/* The inline putwc macros' way out. */
SHIM_EXPORT wint_t __woverflow(FILE *fp, wint_t wc)
{
    REAL("__woverflow", wint_t(*)(FILE *, wint_t), WEOF);
    return refused(fp, "putwc") ? WEOF : real(fp, wc);
}

SHIM_EXPORT int vfwprintf(FILE *fp, const wchar_t *fmt, va_list ap)
{
    REAL("vfwprintf", int (*)(FILE *, const wchar_t *, va_list), -1);
    return refused(fp, "fwprintf") ? -1 : real(fp, fmt, ap);
}

SHIM_EXPORT int vwprintf(const wchar_t *fmt, va_list ap)
{
    return vfwprintf(stdout, fmt, ap);
}

SHIM_EXPORT int __vfwprintf_chk(FILE *fp, int flag, const wchar_t *fmt, va_list ap)
{
    REAL("__vfwprintf_chk", int (*)(FILE *, int, const wchar_t *, va_list), -1);
    return refused(fp, "fwprintf") ? -1 : real(fp, flag, fmt, ap);
}

SHIM_EXPORT int __vwprintf_chk(int flag, const wchar_t *fmt, va_list ap)
{
    return __vfwprintf_chk(stdout, flag, fmt, ap);
}

SHIM_VARIADIC(fwprintf, vfwprintf(fp, fmt, ap), fmt, FILE *fp, const wchar_t *fmt)

SHIM_VARIADIC(wprintf, vfwprintf(stdout, fmt, ap), fmt, const wchar_t *fmt)

SHIM_VARIADIC(__fwprintf_chk, __vfwprintf_chk(fp, flag, fmt, ap), fmt, FILE *fp, int flag,
              const wchar_t *fmt)

SHIM_VARIADIC(__wprintf_chk, __vfwprintf_chk(stdout, flag, fmt, ap), fmt, int flag,
              const wchar_t *fmt)

/* --- libc's messages on stderr --- */

#define VOID_REAL(name, type)                                                                      \
    static __typeof__(type) real;                                                                  \
    if (!real && !(real = (type)shim_real(name)))                                                  \
        return;

SHIM_EXPORT void perror(const char *s)
{
    VOID_REAL("perror", void (*)(const char *));
    int saved = errno;
    if (!refused(stderr, "perror"))
        errno = saved, real(s);
}

SHIM_EXPORT void psignal(int sig, const char *s)
{
    VOID_REAL("psignal", void (*)(int, const char *));
    if (!refused(stderr, "psignal"))
        real(sig, s);
}

SHIM_EXPORT void psiginfo(const siginfo_t *info, const char *s)
{
    VOID_REAL("psiginfo", void (*)(const siginfo_t *, const char *));
    if (!refused(stderr, "psiginfo"))
        real(info, s);
}

SHIM_EXPORT void herror(const char *s)
{
    VOID_REAL("herror", void (*)(const char *));
    if (!refused(stderr, "herror"))
        real(s);
}
