/* SPDX-License-Identifier: Apache-2.0 */
/* test_settings_table: the one settings table is consistent, and the
 * manual pages list every setting it has (key, variable, option; so a setting never exists that
 * the documentation does not name). */
#include "settings.h"
#include "unit_main.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *relative)
{
    const char *src = getenv("MXV_TEST_SRCDIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", src ? src : ".", relative);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[1 << 17];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

static void test_table_consistent(void)
{
    const mxv_setting *rows = mxv_setting_rows();
    size_t n = mxv_setting_count();
    CU_ASSERT(n > 0);
    unsigned bits = 0;
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_PTR_EQUAL(mxv_setting_find(rows[i].key), &rows[i]);
        CU_ASSERT_EQUAL(strncmp(rows[i].env, "MXVERIFY_", 9), 0);
        CU_ASSERT_EQUAL(bits & rows[i].bit, 0); /* one bit per setting */
        bits |= rows[i].bit;
        CU_ASSERT_PTR_NOT_NULL(rows[i].help);
        for (size_t j = 0; j < i; j++) {
            CU_ASSERT_STRING_NOT_EQUAL(rows[i].env, rows[j].env);
            CU_ASSERT_STRING_NOT_EQUAL(rows[i].option, rows[j].option);
        }
        /* The option is the key with hyphens. */
        char option[64];
        snprintf(option, sizeof(option), "%s", rows[i].key);
        for (char *p = option; *p; p++)
            if (*p == '_')
                *p = '-';
        CU_ASSERT_STRING_EQUAL(rows[i].option, option);
    }
    CU_ASSERT_PTR_NULL(mxv_setting_find("mdoe"));
}

static void test_manuals_list_every_setting(void)
{
    char *conf5 = slurp("man/mxverify.conf.5"), *run1 = slurp("man/mxverify.1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(conf5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(run1);
    const char *env1 = strstr(run1, ".SH ENVIRONMENT");
    CU_ASSERT_PTR_NOT_NULL_FATAL(env1);
    const char *opts1 = strstr(run1, ".SH OPTIONS");
    CU_ASSERT_PTR_NOT_NULL_FATAL(opts1);
    const mxv_setting *rows = mxv_setting_rows();
    for (size_t i = 0; i < mxv_setting_count(); i++) {
        char key[80], msg[160];
        snprintf(key, sizeof(key), ".BR %s ", rows[i].key);
        bool keyed = strstr(conf5, key) != NULL;
        snprintf(key, sizeof(key), "\", \" %s ", rows[i].key); /* second of a pair */
        keyed = keyed || strstr(conf5, key) != NULL;
        snprintf(msg, sizeof(msg), "mxverify.conf(5) lacks the key %s", rows[i].key);
        CU_assertImplementation(keyed, __LINE__, msg, __FILE__, "", CU_FALSE);
        snprintf(msg, sizeof(msg), "mxverify.conf(5) lacks %s", rows[i].env);
        CU_assertImplementation(strstr(conf5, rows[i].env) != NULL, __LINE__, msg, __FILE__, "",
                                CU_FALSE);
        /* The option as roff writes it: every hyphen escaped. */
        char option[96] = "\\-\\-";
        size_t k = strlen(option);
        for (const char *p = rows[i].option; *p && k + 3 < sizeof(option); p++) {
            if (*p == '-')
                option[k++] = '\\';
            option[k++] = *p;
        }
        option[k] = '\0';
        const char *found = strstr(opts1, option);
        snprintf(msg, sizeof(msg), "mxverify(1) OPTIONS lacks --%s", rows[i].option);
        CU_assertImplementation(found && found < env1, __LINE__, msg, __FILE__, "", CU_FALSE);
        snprintf(msg, sizeof(msg), "mxverify(1) ENVIRONMENT lacks %s", rows[i].env);
        CU_assertImplementation(strstr(env1, rows[i].env) != NULL, __LINE__, msg, __FILE__, "",
                                CU_FALSE);
    }
    free(conf5);
    free(run1);
}

/* docs/interfaces.md, the contract in the repository: every setting's key,
 * variable and option in its table. */
static void test_interfaces_lists_every_setting(void)
{
    char *doc = slurp("docs/interfaces.md");
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    const mxv_setting *rows = mxv_setting_rows();
    for (size_t i = 0; i < mxv_setting_count(); i++) {
        char row[200], msg[300];
        snprintf(row, sizeof(row), "| `%s` | `%s` | `--%s` |", rows[i].key, rows[i].env,
                 rows[i].option);
        snprintf(msg, sizeof(msg), "docs/interfaces.md lacks the row of %s (%s)", rows[i].key, row);
        CU_assertImplementation(strstr(doc, row) != NULL, __LINE__, msg, __FILE__, "", CU_FALSE);
    }
    free(doc);
}

int main(void)
{
    static const unit_test tests[] = {
        {"the settings table is consistent", test_table_consistent},
        {"the manual pages list every setting", test_manuals_list_every_setting},
        {"docs/interfaces.md lists every setting", test_interfaces_lists_every_setting},
        {NULL, NULL},
    };
    return unit_run("settings_table", NULL, NULL, tests);
}
