/*
 * config_file: mxverify.conf in openssl.cnf syntax, parsed by OpenSSL's own
 * NCONF. Global keys live in the unnamed (default) section; `destinations`
 * names a section mapping "domain" / ".domain" to a section of per-
 * destination keys. See mxverify.conf(5).
 *
 * NCONF does not keep line numbers of values, so errors about a value find
 * the line again by scanning the file for "key =" in that section: a
 * locator for messages only, never a second parser. Values that came from
 * an .include'd file are reported without a line.
 */
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

#define MAX_LINE 4096

static const char *skip_blank(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* The line of `key =` inside [section] ("default": before any header). */
static long find_line(const char *path, const char *section, const char *key)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[MAX_LINE], current[256] = "default";
    long no = 0, found = 0;
    size_t klen = strlen(key);
    while (!found && fgets(line, sizeof(line), f)) {
        no++;
        const char *s = skip_blank(line);
        if (*s == '[') {
            s = skip_blank(s + 1);
            size_t n = strcspn(s, " \t]");
            snprintf(current, sizeof(current), "%.*s", (int)n, s);
        } else if (strcmp(current, section) == 0 && strncmp(s, key, klen) == 0 &&
                   *skip_blank(s + klen) == '=') {
            found = no;
        }
    }
    fclose(f);
    return found;
}

static int fail_at(const char *path, const char *section, const char *key, char *err, size_t errlen,
                   const char *why)
{
    long line = find_line(path, section, key);
    if (line)
        snprintf(err, errlen, "%s:%ld: key '%s': %s", path, line, key, why);
    else
        snprintf(err, errlen, "%s: [%s] key '%s': %s", path, section, key, why);
    return 0;
}

static int apply_section(const char *path, CONF *conf, const char *section, mxv_settings *s,
                         unsigned allowed, char *err, size_t errlen)
{
    STACK_OF(CONF_VALUE) *values = NCONF_get_section(conf, section);
    for (int i = 0; i < sk_CONF_VALUE_num(values); i++) {
        const CONF_VALUE *cv = sk_CONF_VALUE_value(values, i);
        if (strcmp(section, "default") == 0 && strcmp(cv->name, "destinations") == 0)
            continue;
        unsigned bit = mxv_setting_bit(cv->name);
        char why[512];
        if (!bit)
            return fail_at(path, section, cv->name, err, errlen, "unknown key");
        if (!(bit & allowed))
            return fail_at(path, section, cv->name, err, errlen,
                           "not allowed in a destination section (machine-wide key)");
        if (s->set & bit)
            return fail_at(path, section, cv->name, err, errlen, "given twice");
        if (!mxv_settings_apply(s, cv->name, cv->value, why, sizeof(why)))
            return fail_at(path, section, cv->name, err, errlen, why);
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

static int apply_destinations(mxv_policy *p, const char *path, CONF *conf, const char **used,
                              size_t *nused, size_t cap, char *err, size_t errlen)
{
    const char *table = NCONF_get_string(conf, "default", "destinations");
    ERR_clear_error(); /* a missing key leaves an error queued */
    if (!table)
        return 1;
    STACK_OF(CONF_VALUE) *rows = NCONF_get_section(conf, table);
    if (!rows)
        return fail_at(path, "default", "destinations", err, errlen,
                       "names no section of this file");
    mark_used(table, used, nused, cap);
    for (int i = 0; i < sk_CONF_VALUE_num(rows); i++) {
        const CONF_VALUE *row = sk_CONF_VALUE_value(rows, i);
        char why[512];
        if (!NCONF_get_section(conf, row->value))
            return fail_at(path, table, row->name, err, errlen,
                           "value must name a section of per-destination keys");
        mxv_settings *s = mxv_policy_add_destination(p, row->name, why, sizeof(why));
        if (!s)
            return fail_at(path, table, row->name, err, errlen, why);
        if (!mark_used(row->value, used, nused, cap)) {
            snprintf(err, errlen, "%s: too many sections", path);
            return 0;
        }
        if (!apply_section(path, conf, row->value, s, mxv_destination_bits(), err, errlen))
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

int mxv_policy_load_file(mxv_policy *p, const char *path, char *err, size_t errlen)
{
    if (!regular_file(path, err, errlen))
        return 0;
    CONF *conf = NCONF_new_ex(NULL, NULL);
    long eline = 0;
    if (!conf || NCONF_load(conf, path, &eline) <= 0) {
        unsigned long e = ERR_peek_last_error();
        char reason[256];
        ERR_error_string_n(e, reason, sizeof(reason));
        const char *r = ERR_reason_error_string(e);
        snprintf(err, errlen, "%s:%ld: syntax error (%s)", path, eline, r ? r : reason);
        ERR_clear_error();
        NCONF_free(conf);
        return 0;
    }
    const char *used[256];
    size_t nused = 0;
    int ok = apply_section(path, conf, "default", &p->global, ~0u, err, errlen) &&
             apply_destinations(p, path, conf, used, &nused, 256, err, errlen) &&
             check_unused_sections(path, conf, used, nused, err, errlen);
    NCONF_free(conf);
    return ok;
}

/* Keys OpenSSL itself reads from a provider's section (crypto/provider_conf.c). */
static bool openssl_provider_key(const char *key)
{
    static const char *const own[] = {"module", "activate", "identity", "soft_load"};
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
        if (strcmp(key, own[i]) == 0)
            return true;
    return false;
}

int mxv_config_check_provider_section(const char *path, const char *provider, char *err,
                                      size_t errlen)
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
    /* openssl_conf = INIT; [INIT] providers = PROVS; [PROVS] NAME = SECTION */
    const char *init = NCONF_get_string(conf, NULL, "openssl_conf");
    const char *provs = init ? NCONF_get_string(conf, init, "providers") : NULL;
    const char *section = provs ? NCONF_get_string(conf, provs, provider) : NULL;
    ERR_clear_error(); /* a missing key leaves an error queued */
    STACK_OF(CONF_VALUE) *values = section ? NCONF_get_section(conf, section) : NULL;
    int rc = 1;
    if (!values) {
        snprintf(err, errlen, "%s: no section for provider '%s' found", path, provider);
        rc = -1;
    }
    for (int i = 0; rc == 1 && i < sk_CONF_VALUE_num(values); i++) {
        const CONF_VALUE *cv = sk_CONF_VALUE_value(values, i);
        if (!mxv_setting_find(cv->name) && strcmp(cv->name, "conf") != 0 &&
            !openssl_provider_key(cv->name))
            rc = fail_at(path, section, cv->name, err, errlen, "unknown key");
    }
    NCONF_free(conf);
    return rc;
}
