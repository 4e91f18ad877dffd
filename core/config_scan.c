/*
 * config_scan: where each key of a config file is written, and what
 * OpenSSL's NCONF parser, which reads the values, does not say: a key
 * given twice in a section (NCONF keeps the last one in silence, and the
 * last may be the weaker), and an .include that names nothing (NCONF
 * skips it in silence). The files are read again line by line, with
 * NCONF's line syntax (sections, comments, continuation lines, .include
 * and .pragma includedir); values are never read here.
 */
#include "config_scan.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_LINE  8192
#define MAX_DEPTH 8

typedef struct {
    mxv_config_scan *out;
    const char *only; /* report a key given twice only in this section (NULL: any) */
    bool strict;      /* an .include of nothing is an error */
    char section[128];
    char includedir[1024];
    char *err;
    size_t errlen;
} scanner;

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* The line without its comment (# not escaped). */
static void cut_comment(char *s)
{
    for (char *p = s; *p; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == '#') {
            *p = '\0';
            return;
        }
    }
}

static bool add_key(scanner *sc, const char *file, long line, const char *section, const char *key)
{
    mxv_config_scan *out = sc->out;
    for (size_t i = 0; (!sc->only || strcmp(sc->only, section) == 0) && i < out->n; i++)
        if (strcmp(out->keys[i].section, section) == 0 && strcmp(out->keys[i].key, key) == 0) {
            snprintf(sc->err, sc->errlen,
                     "%s:%ld: key '%s' given twice in [%s] (also at %s:%ld; the last one would "
                     "silently win)",
                     file, line, key, section, out->keys[i].file, out->keys[i].line);
            return false;
        }
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 32;
        mxv_config_key *k = realloc(out->keys, cap * sizeof(*k));
        if (!k) {
            snprintf(sc->err, sc->errlen, "%s: out of memory", file);
            return false;
        }
        out->keys = k;
        out->cap = cap;
    }
    mxv_config_key *k = &out->keys[out->n++];
    snprintf(k->file, sizeof(k->file), "%s", file);
    snprintf(k->section, sizeof(k->section), "%s", section);
    snprintf(k->key, sizeof(k->key), "%s", key);
    k->line = line;
    return true;
}

static bool scan_file(scanner *sc, const char *path, int depth);

/* .include PATH: a file, or every *.cnf and *.conf file of a directory. */
static bool scan_include(scanner *sc, const char *file, long line, const char *target, int depth)
{
    char path[2048];
    if (strchr(target, '$')) /* a variable only NCONF can expand: its business */
        return true;
    const char *env = getenv("OPENSSL_CONF_INCLUDE");
    const char *dir = env && *env ? env : sc->includedir[0] ? sc->includedir : NULL;
    if (dir && target[0] != '/')
        snprintf(path, sizeof(path), "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", target);
    else
        snprintf(path, sizeof(path), "%s", target);
    struct stat st;
    if (stat(path, &st) != 0) {
        if (!sc->strict)
            return true;
        snprintf(sc->err, sc->errlen, "%s:%ld: .include %s: %s (OpenSSL would skip it in silence)",
                 file, line, path, strerror(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode))
        return scan_file(sc, path, depth + 1);
    DIR *d = opendir(path);
    if (!d) {
        snprintf(sc->err, sc->errlen, "%s:%ld: .include %s: %s", file, line, path, strerror(errno));
        return false;
    }
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if ((n > 4 && strcmp(e->d_name + n - 4, ".cnf") == 0) ||
            (n > 5 && strcmp(e->d_name + n - 5, ".conf") == 0)) {
            char sub[4096];
            snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
            ok = scan_file(sc, sub, depth + 1);
        }
    }
    closedir(d);
    return ok;
}

/* One logical line (continuations joined) of file at line `no`. */
static bool scan_line(scanner *sc, const char *file, long no, char *s, int depth)
{
    cut_comment(s);
    s = trim(s);
    if (!*s)
        return true;
    if (*s == '[') {
        char *end = strchr(s, ']');
        if (end)
            *end = '\0';
        snprintf(sc->section, sizeof(sc->section), "%s", trim(s + 1));
        return true;
    }
    char *eq = strchr(s, '=');
    if (strncmp(s, ".include", 8) == 0 && (s[8] == '=' || isspace((unsigned char)s[8])))
        return scan_include(sc, file, no,
                            trim(s[8] == '='   ? s + 9
                                 : eq && !s[8] ? eq + 1
                                               : s + 8),
                            depth);
    if (strncmp(s, ".pragma", 7) == 0 && (s[7] == '=' || isspace((unsigned char)s[7]))) {
        char *p = trim(s + 7);
        if (*p == '=')
            p = trim(p + 1);
        if (strncmp(p, "includedir", 10) == 0 && (p = strchr(p, ':')))
            snprintf(sc->includedir, sizeof(sc->includedir), "%s", trim(p + 1));
        return true;
    }
    if (!eq)
        return true; /* NCONF reports it */
    *eq = '\0';
    char *key = trim(s), *sep = strstr(key, "::");
    if (sep) { /* section::key */
        *sep = '\0';
        return add_key(sc, file, no, trim(key), trim(sep + 2));
    }
    return add_key(sc, file, no, sc->section, key);
}

static bool scan_file(scanner *sc, const char *path, int depth)
{
    if (depth > MAX_DEPTH) {
        snprintf(sc->err, sc->errlen, "%s: .include nested more than %d deep", path, MAX_DEPTH);
        return false;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(sc->err, sc->errlen, "%s: %s", path, strerror(errno));
        return false;
    }
    char *logical = malloc(MAX_LINE), line[MAX_LINE];
    bool ok = logical != NULL;
    long no = 0, first = 0;
    size_t used = 0;
    while (ok && fgets(line, sizeof(line), f)) {
        no++;
        size_t n = strcspn(line, "\r\n");
        line[n] = '\0';
        if (used == 0)
            first = no;
        /* A line ending in an unescaped backslash goes on (NCONF). */
        size_t bs = 0;
        while (bs < n && line[n - 1 - bs] == '\\')
            bs++;
        bool more = bs % 2 == 1;
        size_t take = more ? n - 1 : n;
        if (used + take + 1 < MAX_LINE) {
            memcpy(logical + used, line, take);
            used += take;
        }
        logical[used] = '\0';
        if (more)
            continue;
        ok = scan_line(sc, path, first, logical, depth);
        used = 0;
    }
    if (ok && used)
        ok = scan_line(sc, path, first, logical, depth);
    free(logical);
    fclose(f);
    return ok;
}

bool mxv_config_scan_file(const char *path, const char *only, mxv_config_scan *out, char *err,
                          size_t errlen)
{
    memset(out, 0, sizeof(*out));
    scanner sc = {.out = out,
                  .only = only,
                  .strict = only == NULL,
                  .section = "default",
                  .err = err,
                  .errlen = errlen};
    if (scan_file(&sc, path, 0))
        return true;
    mxv_config_scan_free(out);
    return false;
}

const mxv_config_key *mxv_config_scan_find(const mxv_config_scan *s, const char *section,
                                           const char *key)
{
    for (size_t i = 0; s && i < s->n; i++)
        if (strcmp(s->keys[i].section, section) == 0 && strcmp(s->keys[i].key, key) == 0)
            return &s->keys[i];
    return NULL;
}

void mxv_config_scan_free(mxv_config_scan *s)
{
    free(s->keys);
    memset(s, 0, sizeof(*s));
}
