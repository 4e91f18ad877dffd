/*
 * config_scan: where each key of a config file is written, and what
 * OpenSSL's NCONF parser, which reads the values, does not say: a key
 * given twice in a section (NCONF keeps the last one in silence, and the
 * last may be the weaker), and an .include that names nothing (NCONF
 * skips it in silence). The files are read again line by line with NCONF's
 * line rules (crypto/conf/conf_def.c: a line goes on after a backslash
 * that is not itself escaped; comments outside quotes; sections; .include
 * and .pragma includedir, whatever follows the directive's name).
 *
 * A second reader can disagree with the first; where it could, it fails
 * closed instead: a NUL byte, an escape or variable in a section or key
 * name or an include path, and finally every value NCONF read must be the
 * one this reader saw last for that key (mxv_config_scan_agrees): a later
 * value hidden from this reader would show there.
 */
#include "config_scan.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MAX_DEPTH 16 /* nested .include levels */

typedef struct {
    mxv_config_scan *out;
    const char *only; /* report a key given twice only in this section (NULL: any) */
    bool strict;      /* an .include of nothing is an error */
    char *section;
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

/* The line without its comment: a # outside quotes and not escaped. */
static void cut_comment(char *s)
{
    for (char *p = s; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
        } else if (*p == '"' || *p == '\'') {
            char *close = strchr(p + 1, *p);
            if (!close)
                return;
            p = close;
        } else if (*p == '#') {
            *p = '\0';
            return;
        }
    }
}

/* Escapes, quotes or variables: what only NCONF's str_copy() can read. */
static bool needs_nconf(const char *s)
{
    return strpbrk(s, "\\\"'$") != NULL;
}

static bool fail(scanner *sc, const char *file, long line, const char *what, const char *name)
{
    snprintf(sc->err, sc->errlen,
             "%s:%ld: %s \"%.80s\": escapes, quotes or variables there are beyond what "
             "mxverify checks for keys given twice",
             file, line, what, name);
    return false;
}

static bool add_key(scanner *sc, const char *file, long line, const char *section, const char *key,
                    const char *value)
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
    mxv_config_key *k = &out->keys[out->n];
    *k = (mxv_config_key){.file = strdup(file),
                          .line = line,
                          .section = strdup(section),
                          .key = strdup(key),
                          .value = strdup(value)};
    if (!k->file || !k->section || !k->key || !k->value) {
        free(k->file), free(k->section), free(k->key), free(k->value);
        snprintf(sc->err, sc->errlen, "%s: out of memory", file);
        return false;
    }
    out->n++;
    return true;
}

static bool scan_file(scanner *sc, const char *path, int depth);

static bool conf_file_name(const char *name)
{
    size_t n = strlen(name);
    return (n > 4 && strcasecmp(name + n - 4, ".cnf") == 0) ||
           (n > 5 && strcasecmp(name + n - 5, ".conf") == 0);
}

/* .include PATH: a file, or every *.cnf and *.conf file of a directory. */
static bool scan_include(scanner *sc, const char *file, long line, char *target, int depth)
{
    size_t len = strlen(target);
    if (len >= 2 && (target[0] == '"' || target[0] == '\'') && target[len - 1] == target[0]) {
        target[len - 1] = '\0';
        target++;
    }
    if (needs_nconf(target))
        return fail(sc, file, line, ".include", target);
    char path[2048];
    const char *env = getenv("OPENSSL_CONF_INCLUDE");
    const char *dir = env ? env : sc->includedir[0] ? sc->includedir : NULL;
    if (dir && *dir && target[0] != '/')
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
        if (conf_file_name(e->d_name)) {
            char sub[4096];
            snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
            ok = scan_file(sc, sub, depth + 1);
        }
    }
    closedir(d);
    return ok;
}

/* A directive's argument: after its name (whatever letters follow
 * ".include"), blanks, an optional '=', blanks. */
static char *directive_argument(char *s)
{
    while (*s && *s != '=' && *s != ' ' && *s != '\t')
        s++;
    s = trim(s);
    return *s == '=' ? trim(s + 1) : s;
}

/* One logical line (continuations joined) of file, from line `no`. */
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
        char *name = trim(s + 1);
        if (needs_nconf(name))
            return fail(sc, file, no, "section", name);
        char *copy = strdup(name);
        if (!copy) {
            snprintf(sc->err, sc->errlen, "%s: out of memory", file);
            return false;
        }
        free(sc->section);
        sc->section = copy;
        return true;
    }
    /* The name: up to blanks or '='; `section::name` names another section. */
    char *name = s, *section = sc->section, *sep = strstr(s, "::");
    size_t name_end = strcspn(s, " \t=");
    if (sep && (size_t)(sep - s) < name_end) {
        *sep = '\0';
        section = s;
        name = sep + 2;
    }
    if (strncmp(name, ".include", 8) == 0)
        return scan_include(sc, file, no, directive_argument(name), depth);
    if (strncmp(name, ".pragma", 7) == 0) {
        char *p = directive_argument(name);
        if (strncmp(p, "includedir", 10) == 0 && (p = strchr(p, ':')))
            snprintf(sc->includedir, sizeof(sc->includedir), "%s", trim(p + 1));
        return true;
    }
    char *eq = strchr(name, '=');
    if (!eq)
        return true; /* NCONF reports it */
    *eq = '\0';
    name = trim(name);
    if (needs_nconf(name) || needs_nconf(section))
        return fail(sc, file, no, "key", name);
    return add_key(sc, file, no, section, name, trim(eq + 1));
}

/* A physical line, whole however long, without its line end; NULL at end. */
static char *read_line(FILE *f, char **buf, size_t *cap, bool *nul)
{
    ssize_t n = getline(buf, cap, f);
    if (n < 0)
        return NULL;
    *nul = strlen(*buf) != (size_t)n;
    while (n > 0 && ((*buf)[n - 1] == '\n' || (*buf)[n - 1] == '\r'))
        (*buf)[--n] = '\0';
    return *buf;
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
    char *line = NULL, *logical = NULL;
    size_t cap = 0, used = 0;
    long no = 0, first = 0;
    bool ok = true, nul;
    while (ok && read_line(f, &line, &cap, &nul)) {
        no++;
        if (nul) {
            snprintf(sc->err, sc->errlen, "%s:%ld: a NUL byte (not a text file)", path, no);
            ok = false;
            break;
        }
        size_t n = strlen(line);
        if (used == 0)
            first = no;
        /* NCONF: a final backslash not preceded by another goes on. */
        bool more = n >= 1 && line[n - 1] == '\\' && (n == 1 || line[n - 2] != '\\');
        char *grown = realloc(logical, used + n + 1);
        if (!grown) {
            snprintf(sc->err, sc->errlen, "%s: out of memory", path);
            ok = false;
            break;
        }
        logical = grown;
        memcpy(logical + used, line, more ? n - 1 : n);
        used += more ? n - 1 : n;
        logical[used] = '\0';
        if (more)
            continue;
        ok = scan_line(sc, path, first, logical, depth);
        used = 0;
    }
    if (ok && used)
        ok = scan_line(sc, path, first, logical, depth);
    free(line);
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
                  .section = strdup("default"),
                  .err = err,
                  .errlen = errlen};
    bool ok = sc.section && scan_file(&sc, path, 0);
    if (!sc.section)
        snprintf(err, errlen, "%s: out of memory", path);
    free(sc.section);
    if (!ok)
        mxv_config_scan_free(out);
    return ok;
}

const mxv_config_key *mxv_config_scan_find(const mxv_config_scan *s, const char *section,
                                           const char *key)
{
    const mxv_config_key *last = NULL;
    for (size_t i = 0; s && i < s->n; i++)
        if (strcmp(s->keys[i].section, section) == 0 && strcmp(s->keys[i].key, key) == 0)
            last = &s->keys[i];
    return last;
}

bool mxv_config_scan_agrees(const mxv_config_scan *s, const char *path, const char *section,
                            const char *key, const char *value, char *err, size_t errlen)
{
    const mxv_config_key *k = mxv_config_scan_find(s, section, key);
    if (!k) {
        snprintf(err, errlen,
                 "%s: [%s] key '%s': OpenSSL reads it where mxverify's check for keys given twice "
                 "does not (unusual syntax): write it plainly",
                 path, section, key);
        return false;
    }
    /* A value in quotes as a whole is the value inside them. */
    const char *seen = k->value;
    size_t len = strlen(seen);
    char unquoted[4096];
    if (len >= 2 && (seen[0] == '"' || seen[0] == '\'') && seen[len - 1] == seen[0] &&
        len - 2 < sizeof(unquoted) && !memchr(seen + 1, seen[0], len - 2)) {
        snprintf(unquoted, sizeof(unquoted), "%.*s", (int)(len - 2), seen + 1);
        seen = unquoted;
    }
    if (strcmp(seen, value) == 0)
        return true;
    snprintf(err, errlen,
             "%s:%ld: key '%s': OpenSSL reads the value \"%.80s\" where \"%.80s\" is written "
             "(escapes, variables, or a later line mxverify's check did not see): write it "
             "plainly",
             k->file, k->line, key, value, k->value);
    return false;
}

void mxv_config_scan_free(mxv_config_scan *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->keys[i].file);
        free(s->keys[i].section);
        free(s->keys[i].key);
        free(s->keys[i].value);
    }
    free(s->keys);
    memset(s, 0, sizeof(*s));
}
