#include "log.h"
#include "buf.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static void emit(const mxv_effective *e, int priority, const char *line)
{
    switch (e->log) {
    case MXV_LOG_NONE:
        return;
    case MXV_LOG_SYSLOG:
        /* No openlog(): the host program's identity and options stay. */
        syslog(LOG_MAIL | priority, "mxverify: %s", line);
        return;
    case MXV_LOG_STDERR:
    case MXV_LOG_FILE: {
        mxv_buf b = {0};
        mxv_buf_printf(&b, "%s%s\n", e->log_json ? "" : "mxverify: ", line);
        char *text = mxv_buf_finish(&b);
        if (!text)
            return;
        int fd = 2;
        if (e->log == MXV_LOG_FILE)
            fd = open(e->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd >= 0) {
            /* One write() per line: lines from threads stay whole. */
            ssize_t n = write(fd, text, strlen(text));
            (void)n;
            if (fd != 2)
                close(fd);
        }
        free(text);
        return;
    }
    }
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
