/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_scan: where each key of a config file is written, and what
 * OpenSSL's NCONF parser, which reads the values, does not say: a key
 * given twice in a section (NCONF keeps the last one in silence, and the
 * last may be the weaker), and an .include that names nothing (NCONF
 * skips it in silence).
 *
 * The files are read again the way crypto/conf/conf_def.c reads them, in
 * the same order: chunks of at most 510 octets, line ends and a UTF-8
 * byte-order mark stripped as there, a line going on after a backslash
 * that is not itself escaped, NCONF's blanks (space, tab, CR, LF),
 * comments outside quotes, sections, `section::key`, .include (a file is
 * read at once; a directory's files one after the other, a file one of
 * them includes read before the directory's next file and the rest of the
 * including file after the directory, a directory included while another
 * is being read skipped) and .pragma includedir.
 *
 * A second reader can still disagree with the first; where it could, it
 * fails closed instead: a NUL byte, an escape or variable in a section or
 * key name or an include path, a line it cannot read, and finally the
 * caller compares both readers' sections key by key and value by value,
 * both ways (config_file.c, with mxv_config_scan_agrees): a key hidden
 * from either reader shows there.
 */
#include "config_scan.h"
#include "text_copy.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/auxv.h>
#include <sys/stat.h>

#define MAX_DEPTH 16  /* files open at once: the top one and nested includes */
#define CHUNK     511 /* NCONF's BIO_gets(in, p, CONFBUFSIZE - 1): 510 octets and a NUL */

/* One file being read: its text, whole. */
typedef struct {
    char *path;
    char *text;
    size_t len, pos;
    long line; /* lines read so far */
} source;

typedef struct {
    mxv_config_scan *out;
    const char *const *only; /* report a key given twice only in these sections (NULL: any) */
    bool strict;             /* an .include NCONF would skip is an error */
    char *section;
    char includedir[1024]; /* .pragma includedir, or "" */
    bool has_includedir;
    source open[MAX_DEPTH]; /* open[depth] is read; those below wait */
    int depth;
    DIR *dir;      /* the directory whose files are being read, or NULL */
    char *dirpath; /* its path */
    bool first_chunk;
    char *err;
    size_t errlen;
} scanner;

static bool nconf_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* NCONF's quotes (CONF_type_default: the backquote is one too). */
static bool nconf_quote(char c)
{
    return c == '"' || c == '\'' || c == '`';
}

static char *trim(char *s)
{
    while (nconf_blank(*s))
        s++;
    size_t n = strlen(s);
    while (n && nconf_blank(s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* The line without its comment: a # outside quotes and not escaped (in
 * quotes too a backslash escapes the next octet; an unclosed quote runs
 * to the end of the line). */
static void cut_comment(char *s)
{
    for (char *p = s; *p; p++) {
        if (*p == '\\') {
            if (!p[1])
                return;
            p++;
        } else if (nconf_quote(*p)) {
            char q = *p;
            for (p++; *p && *p != q; p++)
                if (*p == '\\' && !*++p)
                    return;
            if (!*p)
                return;
        } else if (*p == '#') {
            *p = '\0';
            return;
        }
    }
}

/* Escapes, quotes or variables: what only NCONF's str_copy() can read. */
static bool needs_nconf(const char *s)
{
    return strpbrk(s, "\\\"'`$") != NULL;
}

static bool fail(scanner *sc, const char *file, long line, const char *what, const char *name)
{
    snprintf(sc->err, sc->errlen,
             "%s:%ld: %s \"%.80s\": escapes, quotes or variables there are beyond what "
             "mxverify checks for keys given twice",
             file, line, what, name);
    return false;
}

static bool out_of_memory(scanner *sc, const char *file)
{
    snprintf(sc->err, sc->errlen, "%s: out of memory", file);
    return false;
}

static bool add_key(scanner *sc, const char *file, long line, const char *section, const char *key,
                    const char *value)
{
    mxv_config_scan *out = sc->out;
    for (size_t i = 0; mxv_config_scan_in(sc->only, section) && i < out->n; i++)
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
        if (!k)
            return out_of_memory(sc, file);
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
        return out_of_memory(sc, file);
    }
    out->n++;
    return true;
}

/* Reads `path` whole into *src. 1: read; 0: it cannot be opened (NCONF
 * skips such an include); -1: another error (a NUL byte is one: NCONF
 * would end the file, or the line, there). err says why. */
static int load_source(scanner *sc, const char *path, source *src)
{
    *src = (source){0};
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(sc->err, sc->errlen, "%s: %s", path, strerror(errno));
        return 0;
    }
    /* A set-user-ID program runs with privileges its caller lacks: every
     * file its settings come from (the top one and each one included)
     * must be one its caller could not have written. */
    struct stat st;
    if (getauxval(AT_SECURE) &&
        (fstat(fileno(f), &st) != 0 || st.st_uid != 0 || (st.st_mode & 022))) {
        snprintf(sc->err, sc->errlen,
                 "%s: not used by a set-user-ID program unless owned by root and writable by "
                 "no one else",
                 path);
        fclose(f);
        return -1;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    bool ok = true;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *grown = realloc(text, cap = (cap ? cap * 2 : 8192));
            if (!grown) {
                ok = out_of_memory(sc, path);
                break;
            }
            text = grown;
        }
        size_t n = fread(text + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ok && ferror(f)) {
        snprintf(sc->err, sc->errlen, "%s: %s", path, strerror(errno));
        ok = false;
    }
    fclose(f);
    const char *nul = ok ? memchr(text, '\0', len) : NULL;
    if (nul) {
        long line = 1;
        for (const char *c = text; c < nul; c++)
            line += *c == '\n';
        snprintf(sc->err, sc->errlen, "%s:%ld: a NUL byte (not a text file)", path, line);
        ok = false;
    }
    if (ok && !(src->path = strdup(path)))
        ok = out_of_memory(sc, path);
    if (!ok) {
        free(text);
        return -1;
    }
    text[len] = '\0';
    src->text = text;
    src->len = len;
    return 1;
}

static void free_source(source *src)
{
    free(src->path);
    free(src->text);
    *src = (source){0};
}

/* The next chunk as BIO_gets() gives it: through the next line end, at
 * most CHUNK - 1 octets; "" at the end of the file. */
static size_t next_chunk(source *src, char chunk[CHUNK])
{
    size_t n = 0;
    while (src->pos < src->len && n < CHUNK - 1) {
        char c = src->text[src->pos++];
        chunk[n++] = c;
        if (c == '\n')
            break;
    }
    chunk[n] = '\0';
    return n;
}

static bool conf_file_name(const char *name)
{
    size_t n = strlen(name);
    return (n > 4 && strcasecmp(name + n - 4, ".cnf") == 0) ||
           (n > 5 && strcasecmp(name + n - 5, ".conf") == 0);
}

/* The directory's next *.cnf or *.conf file into *src; false when there
 * is none more (the directory is then done) or it cannot be read. */
static bool next_dir_file(scanner *sc, source *src, bool *ok)
{
    struct dirent *e;
    while ((e = readdir(sc->dir))) {
        if (!conf_file_name(e->d_name))
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", sc->dirpath, e->d_name);
        int loaded = load_source(sc, path, src);
        if (loaded == 1)
            return true;
        if (loaded < 0 || sc->strict) { /* NCONF skips a file it cannot open */
            *ok = false;
            break;
        }
    }
    closedir(sc->dir);
    sc->dir = NULL;
    free(sc->dirpath);
    sc->dirpath = NULL;
    return false;
}

/* An .include NCONF skips: an error in a file mxverify owns. */
static bool skipped(scanner *sc, const char *file, long line, const char *path, const char *why)
{
    if (!sc->strict)
        return true;
    snprintf(sc->err, sc->errlen, "%s:%ld: .include %s: %s (OpenSSL would skip it in silence)",
             file, line, path, why);
    return false;
}

/* .include PATH: a file, read next; or a directory, whose files are read
 * next, one after the other. */
static bool scan_include(scanner *sc, const char *file, long line, char *target)
{
    size_t len = strlen(target);
    if (len >= 2 && nconf_quote(target[0]) && target[len - 1] == target[0]) {
        target[len - 1] = '\0';
        target++;
    }
    if (needs_nconf(target))
        return fail(sc, file, line, ".include", target);
    if (getauxval(AT_SECURE) && target[0] != '/') {
        snprintf(sc->err, sc->errlen,
                 "%s:%ld: .include %s: a set-user-ID program takes absolute paths only (a "
                 "relative one depends on its caller)",
                 file, line, target);
        return false;
    }
    /* As NCONF: OPENSSL_CONF_INCLUDE (even empty), else the pragma's. */
    char path[2048];
    const char *env = secure_getenv("OPENSSL_CONF_INCLUDE");
    const char *dir = env ? env : sc->has_includedir ? sc->includedir : NULL;
    if (dir && target[0] != '/')
        snprintf(path, sizeof(path), "%s%s%s", dir, *dir && dir[strlen(dir) - 1] == '/' ? "" : "/",
                 target);
    else
        mxv_text_copy(path, sizeof(path), target);
    struct stat st;
    if (stat(path, &st) != 0)
        return skipped(sc, file, line, path, strerror(errno));
    if (sc->depth + 1 >= MAX_DEPTH) {
        snprintf(sc->err, sc->errlen, "%s:%ld: .include nested more than %d deep", file, line,
                 MAX_DEPTH - 1);
        return false;
    }
    source *next = &sc->open[sc->depth + 1];
    bool ok = true;
    if (S_ISDIR(st.st_mode)) {
        if (sc->dir)
            return skipped(sc, file, line, path,
                           "a directory included while the files of another are read");
        if (!(sc->dir = opendir(path)) || !(sc->dirpath = strdup(path))) {
            snprintf(sc->err, sc->errlen, "%s:%ld: .include %s: %s", file, line, path,
                     sc->dir ? "out of memory" : strerror(errno));
            return false;
        }
        if (!next_dir_file(sc, next, &ok))
            return ok;
    } else {
        int loaded = load_source(sc, path, next);
        if (loaded < 0)
            return false;
        if (loaded == 0) {
            char why[512];
            mxv_text_copy(why, sizeof(why), sc->err);
            return skipped(sc, file, line, path, why);
        }
    }
    sc->depth++;
    return true;
}

/* A directive's argument: after its name (whatever letters follow
 * ".include"), blanks, an optional '=', blanks. */
static char *directive_argument(char *s)
{
    while (*s && *s != '=' && !nconf_blank(*s))
        s++;
    s = trim(s);
    return *s == '=' ? trim(s + 1) : s;
}

/* One logical line (continuations joined) of file, from line `no`. */
static bool scan_line(scanner *sc, const char *file, long no, char *s)
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
        if (!copy)
            return out_of_memory(sc, file);
        free(sc->section);
        sc->section = copy;
        return true;
    }
    /* The name: up to blanks or '='; `section::name` names another section. */
    char *name = s, *section = sc->section, *sep = strstr(s, "::");
    size_t name_end = strcspn(s, " \t\r\n=");
    if (sep && (size_t)(sep - s) < name_end) {
        *sep = '\0';
        section = s;
        name = sep + 2;
    }
    if (strncmp(name, ".include", 8) == 0)
        return scan_include(sc, file, no, directive_argument(name));
    if (strncmp(name, ".pragma", 7) == 0) {
        char *p = directive_argument(name), *colon = strchr(p, ':');
        if (colon) {
            *colon = '\0';
            if (strcmp(trim(p), "includedir") == 0) {
                mxv_text_copy(sc->includedir, sizeof(sc->includedir), trim(colon + 1));
                sc->has_includedir = true;
            }
        }
        return true;
    }
    char *eq = strchr(name, '=');
    if (!eq) { /* NCONF refuses such a line: reading it otherwise, fail */
        snprintf(sc->err, sc->errlen, "%s:%ld: a line mxverify cannot read as OpenSSL does", file,
                 no);
        return false;
    }
    *eq = '\0';
    name = trim(name);
    if (needs_nconf(name) || needs_nconf(section))
        return fail(sc, file, no, "key", name);
    return add_key(sc, file, no, section, name, trim(eq + 1));
}

/* NCONF's reading loop (def_load_bio), over every file in its order. */
static bool scan_all(scanner *sc)
{
    char chunk[CHUNK], *logical = NULL;
    size_t used = 0;
    long first = 0;
    bool again = false, ok = true;
    while (ok) {
        source *cur = &sc->open[sc->depth];
        size_t i = next_chunk(cur, chunk), ii;
        if (sc->first_chunk) {
            sc->first_chunk = false;
            if (i >= 3 && memcmp(chunk, "\xef\xbb\xbf", 3) == 0)
                memmove(chunk, chunk + 3, (i -= 3) + 1);
        }
        if (i == 0 && !again) { /* this file is done */
            source next;
            if (sc->dir && next_dir_file(sc, &next, &ok)) {
                free_source(cur);
                *cur = next;
                continue;
            }
            if (!ok || sc->depth == 0)
                break;
            free_source(cur);
            sc->depth--;
            continue;
        }
        again = false;
        for (ii = i; i > 0 && (chunk[i - 1] == '\r' || chunk[i - 1] == '\n');)
            i--;
        if (used == 0)
            first = cur->line + 1;
        if (ii && i == ii)
            again = true; /* a long line: its next chunk follows */
        else
            cur->line++;
        char *grown = realloc(logical, used + i + 1);
        if (!grown) {
            ok = out_of_memory(sc, cur->path);
            break;
        }
        logical = grown;
        memcpy(logical + used, chunk, i);
        used += i;
        logical[used] = '\0';
        if (!again && used >= 1 && logical[used - 1] == '\\' &&
            (used == 1 || logical[used - 2] != '\\')) {
            logical[--used] = '\0';
            again = true;
        }
        if (again)
            continue;
        used = 0;
        ok = scan_line(sc, cur->path, first, logical);
    }
    free(logical);
    return ok;
}

bool mxv_config_scan_in(const char *const *sections, const char *section)
{
    for (size_t i = 0; sections && sections[i]; i++)
        if (strcmp(sections[i], section) == 0)
            return true;
    return !sections;
}

bool mxv_config_scan_file(const char *path, const char *const *only, mxv_config_scan *out,
                          char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    scanner sc = {.out = out,
                  .only = only,
                  .strict = only == NULL,
                  .section = strdup("default"),
                  .first_chunk = true,
                  .err = err,
                  .errlen = errlen};
    bool ok = sc.section ? load_source(&sc, path, &sc.open[0]) == 1 && scan_all(&sc)
                         : out_of_memory(&sc, path);
    for (int i = 0; i <= sc.depth; i++)
        free_source(&sc.open[i]);
    if (sc.dir)
        closedir(sc.dir);
    free(sc.dirpath);
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
    if (len >= 2 && nconf_quote(seen[0]) && seen[len - 1] == seen[0] &&
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
