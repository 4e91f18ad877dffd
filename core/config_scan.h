/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_scan: where each key of a config file (openssl.cnf syntax) is
 * written, read again from the files, and what OpenSSL's NCONF does not
 * report: a key given twice in a section, an .include naming nothing.
 */
#ifndef MXV_CONFIG_SCAN_H
#define MXV_CONFIG_SCAN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *file;
    long line;
    char *section, *key;
    char *value; /* as written: comment cut, blanks trimmed */
} mxv_config_key;

typedef struct {
    mxv_config_key *keys;
    size_t n, cap;
} mxv_config_scan;

/* Every key of path and the files it includes, with file and line. false,
 * with err naming file and line: a key given twice in a section, an
 * .include of something that does not exist, a file that cannot be read.
 * `only` (a file mxverify does not own, openssl.cnf: the sections it
 * reads, NULL-terminated): a key given twice counts only in those
 * sections, and a missing include is OpenSSL's business. *out is empty
 * after a false return; mxv_config_scan_free() frees it either way. */
bool mxv_config_scan_file(const char *path, const char *const *only, mxv_config_scan *out,
                          char *err, size_t errlen);
/* Is `section` one of `sections` (NULL-terminated; NULL: every section)? */
bool mxv_config_scan_in(const char *const *sections, const char *section);
/* Where `key` of [section] ("default": before any header) is written
 * last, or NULL. */
const mxv_config_key *mxv_config_scan_find(const mxv_config_scan *s, const char *section,
                                           const char *key);
/* Did this reader see `key` of [section] last with the value NCONF read
 * (`value`)? false, with err: NCONF reads what this reader does not see
 * (unusual syntax, escapes, variables, a later line hidden from it), so a
 * key given twice could go unseen: fail closed. */
bool mxv_config_scan_agrees(const mxv_config_scan *s, const char *path, const char *section,
                            const char *key, const char *value, char *err, size_t errlen);
void mxv_config_scan_free(mxv_config_scan *s);

#endif
