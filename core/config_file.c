/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_file: mxverify.conf in openssl.cnf syntax, parsed by OpenSSL's own
 * NCONF. Global keys live in the unnamed (default) section; `destinations`
 * names a section mapping "domain" / ".domain" to a section of per-
 * destination keys. See mxverify.conf(5).
 *
 * NCONF does not keep line numbers of values, and keeps the last of a key
 * given twice: config_scan.c reads the files again for where each key is
 * written (messages name file and line, in included files too) and for
 * what NCONF does not report (a key given twice, an .include of nothing).
 */
#include "config_scan.h"
#include "names.h"
#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The value of `key` in a section's own list (NCONF_get_string would look
 * in [default] too), or NULL. */
static const char *own_value(STACK_OF(CONF_VALUE) * values, const char *key)
{
    for (int i = 0; i < sk_CONF_VALUE_num(values); i++)
        if (strcmp(sk_CONF_VALUE_value(values, i)->name, key) == 0)
            return sk_CONF_VALUE_value(values, i)->value;
    return NULL;
}

/* The two readings of the file, NCONF's and config_scan's, compared
 * section by section (every section, or `only`): each key the scanner saw
 * last is NCONF's, with the same value, and NCONF has no key the scanner
 * did not see. Where they differ (an include one of them skips, a line
 * one reads otherwise), a key given twice could be hidden: fail closed. */
static int readings_agree(const mxv_config_scan *scan, CONF *conf, const char *path,
                          const char *const *only, char *err, size_t errlen)
{
    for (size_t i = 0; i < scan->n; i++) {
        const mxv_config_key *k = &scan->keys[i];
        if (!mxv_config_scan_in(only, k->section) ||
            mxv_config_scan_find(scan, k->section, k->key) != k)
            continue;
        const char *value = own_value(NCONF_get_section(conf, k->section), k->key);
        ERR_clear_error(); /* a missing section leaves an error queued */
        if (!value) {
            snprintf(err, errlen,
                     "%s:%ld: key '%s' of [%s]: OpenSSL does not read it there (an include it "
                     "skips, or a line it reads otherwise): write it plainly",
                     k->file, k->line, k->key, k->section);
            return 0;
        }
        if (!mxv_config_scan_agrees(scan, path, k->section, k->key, value, err, errlen))
            return 0;
    }
    STACK_OF(OPENSSL_CSTRING) *names = NCONF_get_section_names(conf);
    int ok = 1;
    for (int i = 0; ok && i < sk_OPENSSL_CSTRING_num(names); i++) {
        const char *section = sk_OPENSSL_CSTRING_value(names, i);
        if (!mxv_config_scan_in(only, section))
            continue;
        STACK_OF(CONF_VALUE) *values = NCONF_get_section(conf, section);
        for (int j = 0; ok && j < sk_CONF_VALUE_num(values); j++) {
            const CONF_VALUE *cv = sk_CONF_VALUE_value(values, j);
            ok = mxv_config_scan_agrees(scan, path, section, cv->name, cv->value, err, errlen);
        }
    }
    sk_OPENSSL_CSTRING_free(names);
    ERR_clear_error();
    return ok;
}

static int fail_at(const mxv_config_scan *scan, const char *path, const char *section,
                   const char *key, char *err, size_t errlen, const char *why)
{
    const mxv_config_key *at = mxv_config_scan_find(scan, section, key);
    if (at)
        snprintf(err, errlen, "%s:%ld: key '%s': %s", at->file, at->line, key, why);
    else
        snprintf(err, errlen, "%s: [%s] key '%s': %s", path, section, key, why);
    return 0;
}

static int apply_section(const mxv_config_scan *scan, const char *path, CONF *conf,
                         const char *section, mxv_settings *s, unsigned allowed, char *err,
                         size_t errlen)
{
    STACK_OF(CONF_VALUE) *values = NCONF_get_section(conf, section);
    for (int i = 0; i < sk_CONF_VALUE_num(values); i++) {
        const CONF_VALUE *cv = sk_CONF_VALUE_value(values, i);
        if (strcmp(section, "default") == 0 && strcmp(cv->name, "destinations") == 0)
            continue;
        unsigned bit = mxv_setting_bit(cv->name);
        char why[512];
        if (!bit)
            return fail_at(scan, path, section, cv->name, err, errlen, "unknown key");
        if (!(bit & allowed))
            return fail_at(scan, path, section, cv->name, err, errlen,
                           "not allowed in a destination section (machine-wide key)");
        if (s->set & bit)
            return fail_at(scan, path, section, cv->name, err, errlen, "given twice");
        if (!mxv_settings_apply(s, cv->name, cv->value, why, sizeof(why)))
            return fail_at(scan, path, section, cv->name, err, errlen, why);
    }
    return 1;
}

static bool mark_used(const char *name, const char **used, size_t *nused, size_t cap)
{
    for (size_t i = 0; i < *nused; i++)
        if (strcmp(used[i], name) == 0)
            return true;
    if (*nused == cap)
        return false;
    used[(*nused)++] = name;
    return true;
}

static int apply_destinations(mxv_policy *p, const mxv_config_scan *scan, const char *path,
                              CONF *conf, const char **used, size_t *nused, size_t cap, char *err,
                              size_t errlen)
{
    const char *table = NCONF_get_string(conf, "default", "destinations");
    ERR_clear_error(); /* a missing key leaves an error queued */
    if (!table)
        return 1;
    STACK_OF(CONF_VALUE) *rows = NCONF_get_section(conf, table);
    if (!rows)
        return fail_at(scan, path, "default", "destinations", err, errlen,
                       "names no section of this file");
    mark_used(table, used, nused, cap);
    for (int i = 0; i < sk_CONF_VALUE_num(rows); i++) {
        const CONF_VALUE *row = sk_CONF_VALUE_value(rows, i);
        char why[512];
        if (!NCONF_get_section(conf, row->value))
            return fail_at(scan, path, table, row->name, err, errlen,
                           "value must name a section of per-destination keys");
        mxv_settings *s = mxv_policy_add_destination(p, row->name, why, sizeof(why));
        if (!s)
            return fail_at(scan, path, table, row->name, err, errlen, why);
        if (!mark_used(row->value, used, nused, cap)) {
            snprintf(err, errlen, "%s: too many sections", path);
            return 0;
        }
        if (!apply_section(scan, path, conf, row->value, s, mxv_destination_bits(), err, errlen))
            return 0;
    }
    return 1;
}

/* A section nothing refers to is most likely a destination written the
 * wrong way; ignoring it would silently weaken checking. */
static int check_unused_sections(const char *path, CONF *conf, const char **used, size_t nused,
                                 char *err, size_t errlen)
{
    STACK_OF(OPENSSL_CSTRING) *names = NCONF_get_section_names(conf);
    int ok = 1;
    for (int i = 0; ok && i < sk_OPENSSL_CSTRING_num(names); i++) {
        const char *name = sk_OPENSSL_CSTRING_value(names, i);
        bool known = strcmp(name, "default") == 0;
        for (size_t j = 0; !known && j < nused; j++)
            known = strcmp(used[j], name) == 0;
        if (!known) {
            snprintf(err, errlen,
                     "%s: section [%s] is not used (per-destination sections are listed in the "
                     "section named by 'destinations')",
                     path, name);
            ok = 0;
        }
    }
    sk_OPENSSL_CSTRING_free(names);
    return ok;
}

/* A configuration is a regular file: a directory, a device, /dev/zero or
 * a FIFO would read as an empty file (or never end), silently meaning
 * "no settings". Opened without blocking, checked on what was opened. */
static bool regular_file(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    close(fd);
    if (S_ISREG(st.st_mode))
        return true;
    snprintf(err, errlen, "%s: not a regular file (%s)", path,
             S_ISDIR(st.st_mode)                          ? "a directory"
             : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
             : S_ISFIFO(st.st_mode)                       ? "a FIFO"
                                                          : "not a file");
    return false;
}

/* A syntax error NCONF found at `line`: its words, and a hint for the
 * commonest cause of "missing equal sign", a name that is not ASCII. */
static void syntax_error(const char *path, long line, char *err, size_t errlen)
{
    unsigned long e = ERR_peek_last_error();
    char reason[256];
    ERR_error_string_n(e, reason, sizeof(reason));
    const char *r = ERR_reason_error_string(e);
    ERR_clear_error();
    bool non_ascii = false;
    FILE *f = line > 0 ? fopen(path, "r") : NULL;
    char text[4096];
    for (long no = 1; f && fgets(text, sizeof(text), f); no++)
        if (no == line) {
            for (const unsigned char *p = (const unsigned char *)text; *p; p++)
                non_ascii |= *p >= 0x80;
            break;
        }
    if (f)
        fclose(f);
    snprintf(err, errlen, "%s:%ld: syntax error (%s)%s", path, line, r ? r : reason,
             non_ascii ? ": names must be ASCII (an internationalised domain as its A-label, "
                         "xn--...)"
                       : "");
}

int mxv_policy_load_file(mxv_policy *p, const char *path, char *err, size_t errlen)
{
    if (!regular_file(path, err, errlen))
        return 0;
    CONF *conf = NCONF_new_ex(NULL, NULL);
    long eline = 0;
    if (!conf || NCONF_load(conf, path, &eline) <= 0) {
        syntax_error(path, eline, err, errlen);
        NCONF_free(conf);
        return 0;
    }
    mxv_config_scan scan;
    if (!mxv_config_scan_file(path, NULL, &scan, err, errlen)) {
        NCONF_free(conf);
        return 0;
    }
    const char *used[256];
    size_t nused = 0;
    int ok = readings_agree(&scan, conf, path, NULL, err, errlen) &&
             apply_section(&scan, path, conf, "default", &p->global, ~0u, err, errlen) &&
             apply_destinations(p, &scan, path, conf, used, &nused, 256, err, errlen) &&
             check_unused_sections(path, conf, used, nused, err, errlen);
    mxv_config_scan_free(&scan);
    NCONF_free(conf);
    return ok;
}

/* Keys OpenSSL itself reads from a provider's section (crypto/provider_conf.c). */
/* A name after its first dot, as OpenSSL reads provider names and their
 * sections' own keys (crypto/provider_conf.c, skip_dot). */
static const char *after_dot(const char *name)
{
    const char *dot = strchr(name, '.');
    return dot ? dot + 1 : name;
}

static bool openssl_provider_key(const char *key)
{
    static const char *const own[] = {"module", "activate", "identity", "soft_load"};
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
        if (strcmp(after_dot(key), own[i]) == 0)
            return true;
    return false;
}

/* Every key of a provider's section is a setting, `conf`, or OpenSSL's;
 * and no value names a section: OpenSSL 3.0 would pass that section's
 * keys instead (crypto/provider_conf.c), and the key would be lost. */
static int provider_keys_known(const mxv_config_scan *scan, const CONF *conf, const char *path,
                               STACK_OF(CONF_VALUE) * values, const char *section, char *err,
                               size_t errlen)
{
    for (int i = 0; i < sk_CONF_VALUE_num(values); i++) {
        const CONF_VALUE *cv = sk_CONF_VALUE_value(values, i);
        bool own = openssl_provider_key(cv->name);
        if (!mxv_setting_find(cv->name) && strcmp(cv->name, "conf") != 0 && !own)
            return fail_at(scan, path, section, cv->name, err, errlen, "unknown key");
        bool names_section = !own && NCONF_get_section(conf, cv->value) != NULL;
        ERR_clear_error();
        if (names_section) {
            char why[256];
            snprintf(why, sizeof(why),
                     "its value names the section [%.64s], whose keys OpenSSL passes instead: "
                     "rename that section",
                     cv->value);
            return fail_at(scan, path, section, cv->name, err, errlen, why);
        }
    }
    return 1;
}

/* What the provider received (n keys, a value NULL when not received)
 * must be what the section says: else it was configured from another
 * section, or file. 1 or -1 (err says which key differs). */
static int received_as_written(STACK_OF(CONF_VALUE) * values_here, const char *where,
                               const char *const *keys, char *const *values, size_t n, char *err,
                               size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        const char *here = own_value(values_here, keys[i]);
        if ((here == NULL) != (values[i] == NULL) || (here && strcmp(here, values[i]) != 0)) {
            snprintf(err, errlen,
                     "%s is not the configuration the provider was started from (they differ "
                     "on '%s')",
                     where, keys[i]);
            return -1;
        }
    }
    return 1;
}

/* Does an entry of the section openssl_conf names run OpenSSL's
 * "providers" module? conf_mod.c's module_find() compares the name up to
 * its last dot with the start of each module's name: every name that
 * could so mean "providers" is taken as it. */
static bool providers_module(const char *name)
{
    const char *dot = strrchr(name, '.');
    return strncmp("providers", name, dot ? (size_t)(dot - name) : strlen(name)) == 0;
}

/* The sections that configure providers, and the one that configures
 * `provider`, as provider_conf.c finds them: in every providers list, an
 * entry whose name (after its first dot) or whose section's `identity` is
 * the provider's name. Several such sections are an error: OpenSSL uses
 * the first that activates, a reader may think otherwise. `read` gets the
 * sections looked at (NULL-terminated, at most max - 1). 1, 0 (several),
 * -1 (none); err says why. */
static int find_provider_section(const CONF *conf, const char *provider, const char **section,
                                 const char **read, size_t max, char *err, size_t errlen)
{
    CONF *c = (CONF *)conf;
    size_t nread = 0;
    const char *init = NCONF_get_string(c, NULL, "openssl_conf");
    STACK_OF(CONF_VALUE) *modules = init ? NCONF_get_section(c, init) : NULL;
    *section = NULL;
    read[nread++] = "default"; /* where openssl_conf is */
    if (modules && nread + 1 < max)
        read[nread++] = init;
    int rc = 1;
    for (int i = 0; rc == 1 && i < sk_CONF_VALUE_num(modules); i++) {
        const CONF_VALUE *m = sk_CONF_VALUE_value(modules, i);
        STACK_OF(CONF_VALUE) *list =
            providers_module(m->name) ? NCONF_get_section(c, m->value) : NULL;
        if (list && nread + 1 < max)
            read[nread++] = m->value;
        for (int j = 0; rc == 1 && j < sk_CONF_VALUE_num(list); j++) {
            const CONF_VALUE *e = sk_CONF_VALUE_value(list, j);
            STACK_OF(CONF_VALUE) *own = NCONF_get_section(c, e->value);
            const char *name = after_dot(e->name);
            for (int k = 0; k < sk_CONF_VALUE_num(own); k++)
                if (strcmp(after_dot(sk_CONF_VALUE_value(own, k)->name), "identity") == 0)
                    name = sk_CONF_VALUE_value(own, k)->value;
            if (!own || strcmp(name, provider) != 0)
                continue;
            if (*section && strcmp(*section, e->value) != 0) {
                snprintf(err, errlen,
                         "provider '%s' is configured by two sections, [%s] and [%s] (OpenSSL "
                         "uses the first that activates): keep one",
                         provider, *section, e->value);
                rc = 0;
            }
            *section = e->value;
        }
    }
    ERR_clear_error(); /* a missing key or section leaves an error queued */
    if (rc == 1 && !*section) {
        snprintf(err, errlen, "no section for provider '%s' found", provider);
        rc = -1;
    }
    if (rc == 1 && nread + 1 < max)
        read[nread++] = *section;
    read[nread] = NULL;
    return rc;
}

const char *mxv_config_provider_section(const void *cnf, const char *provider)
{
    const char *section, *read[64];
    char err[256];
    return find_provider_section(cnf, provider, &section, read, 64, err, sizeof(err)) == 1 ? section
                                                                                           : NULL;
}

int mxv_config_check_provider_section(const char *path, const char *provider,
                                      const char *const *keys, char *const *values, size_t n,
                                      char *err, size_t errlen)
{
    CONF *conf = NCONF_new_ex(NULL, NULL);
    long eline = 0;
    if (!conf || !path || !provider || NCONF_load(conf, path, &eline) <= 0) {
        ERR_clear_error();
        NCONF_free(conf);
        snprintf(err, errlen, "%s: cannot be read to check the provider's section",
                 path ? path : "(no configuration file)");
        return -1;
    }
    const char *section, *read[64];
    char why[512];
    int rc = find_provider_section(conf, provider, &section, read, 64, why, sizeof(why));
    STACK_OF(CONF_VALUE) *values_here = rc == 1 ? NCONF_get_section(conf, section) : NULL;
    ERR_clear_error();
    if (rc != 1)
        snprintf(err, errlen, "%s: %s", path, why);
    /* Mistakes first (they are named with their line), then whether this
     * is the file the provider was started from. Keys given twice are
     * looked for in the sections that lead to the provider's, and in it. */
    mxv_config_scan scan = {0};
    if (rc == 1 && (!mxv_config_scan_file(path, read, &scan, err, errlen) ||
                    !readings_agree(&scan, conf, path, read, err, errlen)))
        rc = 0;
    if (rc == 1)
        rc = provider_keys_known(&scan, conf, path, values_here, section, err, errlen);
    if (rc == 1)
        rc = received_as_written(values_here, path, keys, values, n, err, errlen);
    mxv_config_scan_free(&scan);
    NCONF_free(conf);
    return rc;
}

int mxv_config_check_provider_conf(const void *cnf, const char *provider, const char *const *keys,
                                   char *const *values, size_t n, char *err, size_t errlen)
{
    const CONF *conf = cnf;
    const char *section, *read[64];
    char why[512];
    int found = find_provider_section(conf, provider, &section, read, 64, why, sizeof(why));
    STACK_OF(CONF_VALUE) *values_here = found == 1 ? NCONF_get_section(conf, section) : NULL;
    ERR_clear_error();
    if (found != 1) {
        snprintf(err, errlen, "the configuration OpenSSL loaded: %s", why);
        return found;
    }
    const char *where = "the configuration OpenSSL loaded";
    int rc = provider_keys_known(NULL, conf, where, values_here, section, err, errlen);
    return rc == 1 ? received_as_written(values_here, where, keys, values, n, err, errlen) : rc;
}
