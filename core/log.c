/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"
#include "buf.h"
#include "fork_hold.h"
#include "stderr_line.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* Control characters never reach a log as such: a value that came from a
 * variable or a peer (a newline, an escape sequence) cannot forge a line.
 * JSON lines arrive escaped already. */
char *mxv_log_printable(const char *line)
{
    mxv_buf b = {0};
    for (const char *p = line; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f)
            mxv_buf_printf(&b, "\\x%02x", c);
        else
            mxv_buf_append(&b, p, 1);
    }
    return mxv_buf_finish(&b);
}

/* A log file that cannot be written: said once on stderr and in the mail
 * log; its lines go to the mail log meanwhile, so that none is lost. */
static void file_failed(const char *path, int error)
{
    static atomic_bool said;
    if (atomic_exchange(&said, true))
        return;
    char msg[600];
    int n = snprintf(msg, sizeof(msg),
                     "mxverify: cannot write the log file %s (%s): decisions go to syslog "
                     "(mail) instead\n",
                     path, strerror(error));
    if (n <= 0)
        return;
    size_t len = (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
    mxv_stderr_line(msg, len);
    msg[len - 1] = '\0'; /* the newline (or the last byte of a cut line) */
    mxv_log_syslog(LOG_MAIL | LOG_ERR, msg + strlen("mxverify: "));
}

/* One write() per line: lines from threads and processes stay whole.
 * File lines carry the time (UTC) and the process, as syslog's do. */
static bool write_line(const mxv_effective *e, const char *line)
{
    mxv_buf b = {0};
    int fd = 2;
    if (e->log == MXV_LOG_FILE) {
        /* O_NOFOLLOW: a link put in the log's place is not followed. */
        fd = open(e->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fd < 0) {
            file_failed(e->log_path, errno);
            return false;
        }
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        if (!e->log_json)
            mxv_buf_printf(&b, "%s mxverify[%ld]: ", stamp, (long)getpid());
    } else if (!e->log_json) {
        mxv_buf_puts(&b, "mxverify: ");
    }
    mxv_buf_printf(&b, "%s\n", line);
    char *text = mxv_buf_finish(&b);
    bool said = true;
    if (text && fd == 2) {
        said = mxv_stderr_line(text, strlen(text));
    } else if (text) {
        ssize_t n = write(fd, text, strlen(text));
        (void)n;
    }
    free(text);
    if (fd != 2)
        close(fd);
    return said;
}

void mxv_log_syslog(int priority, const char *text)
{
    mxv_fork_lock(MXV_FORK_LOCK_SYSLOG);
    syslog(priority, "mxverify: %s", text);
    mxv_fork_unlock(MXV_FORK_LOCK_SYSLOG);
}

/* One line to the mail log; false when no syslog daemon listens here (no
 * /dev/log: glibc would drop the line in silence), said once. */
static bool to_syslog(int priority, const char *line)
{
    static atomic_int listening = -1;
    int known = atomic_load(&listening);
    if (known < 0) {
        struct stat st;
        known = stat("/dev/log", &st) == 0 && S_ISSOCK(st.st_mode);
        atomic_store(&listening, known);
        if (!known) {
            static const char msg[] = "mxverify: no syslog daemon here (/dev/log): decisions go "
                                      "to stderr instead\n";
            mxv_stderr_line(msg, sizeof(msg) - 1);
        }
    }
    if (known)
        mxv_log_syslog(LOG_MAIL | priority, line);
    return known;
}

static void emit(const mxv_effective *e, int priority, const char *raw)
{
    if (e->log == MXV_LOG_NONE)
        return;
    char *line = mxv_log_printable(raw);
    if (!line)
        return;
    if ((e->log == MXV_LOG_SYSLOG || !write_line(e, line)) && !to_syslog(priority, line)) {
        /* No syslog daemon to take it: stderr rather than nowhere. */
        char *text = NULL;
        if (asprintf(&text, "mxverify: %s\n", line) >= 0)
            mxv_stderr_line(text, strlen(text));
        free(text);
    }
    free(line);
}

void mxv_log_decision(const mxv_effective *e, const mxv_decision *d)
{
    if (e->log == MXV_LOG_NONE)
        return; /* not even formatted */
    char *line = mxv_decision_format(d, e->log_json ? MXV_FORMAT_LOG_JSON : MXV_FORMAT_LOG);
    if (!line)
        return;
    emit(e, d->pass ? LOG_INFO : LOG_WARNING, line);
    free(line);
}

void mxv_log_message(const mxv_effective *e, int priority, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!e->log_json) {
        emit(e, priority, msg);
        return;
    }
    mxv_buf b = {0};
    mxv_buf_puts(&b, "{\"message\":");
    mxv_buf_json_string(&b, msg, strlen(msg));
    mxv_buf_puts(&b, "}");
    char *line = mxv_buf_finish(&b);
    if (line)
        emit(e, priority, line);
    free(line);
}
