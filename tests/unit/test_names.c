/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `~=` relation of policy.md section 1, one row per rule, and the
 * normalisation of reference identifiers.
 */
#include "names.h"
#include "unit_main.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *presented; /* raw bytes */
    size_t len;            /* 0: strlen(presented) */
    const char *reference; /* already normalised */
    bool match;
    const char *why; /* the rule checked */
} match_case;

static const match_case cases[] = {
    /* Equality as DNS names. */
    {.presented = "mail.example.com",
     .reference = "mail.example.com",
     .match = true,
     .why = "equal names match"},
    {.presented = "MAIL.Example.COM",
     .reference = "mail.example.com",
     .match = true,
     .why = "ASCII case-insensitive"},
    {.presented = "mail.example.com.",
     .reference = "mail.example.com",
     .match = true,
     .why = "one trailing dot ignored on the presented side"},
    {.presented = "mail.example.com",
     .reference = "mail.example.com.",
     .match = true,
     .why = "one trailing dot ignored on the reference side"},
    {.presented = "mail.example.com..",
     .reference = "mail.example.com",
     .match = false,
     .why = "only ONE trailing dot is ignored: two leave an empty label"},
    {.presented = "mail.example.com",
     .reference = "example.com",
     .match = false,
     .why = "different names"},
    {.presented = "example.com",
     .reference = "mail.example.com",
     .match = false,
     .why = "a parent does not match its child"},
    {.presented = "mail.example.co",
     .reference = "mail.example.com",
     .match = false,
     .why = "prefix of the reference is not equal"},
    /* Wildcards: the whole left-most label, exactly one label. */
    {.presented = "*.emailhosted.not",
     .reference = "mx0a.emailhosted.not",
     .match = true,
     .why = "wildcard covers one left-most label"},
    {.presented = "*.EmailHosted.not",
     .reference = "mx0a.emailhosted.not",
     .match = true,
     .why = "wildcard base compared case-insensitively"},
    {.presented = "*.emailhosted.not.",
     .reference = "mx0a.emailhosted.not",
     .match = true,
     .why = "trailing dot ignored on a wildcard too"},
    {.presented = "*.emailhosted.not",
     .reference = "mx01.subd.emailhosted.not",
     .match = false,
     .why = "wildcard covers one label only (the policy.md 5 MX names)"},
    {.presented = "*.emailhosted.not",
     .reference = "emailhosted.not",
     .match = false,
     .why = "LABEL must be non-empty: the bare base is not covered"},
    {.presented = "*.emailhosted.not",
     .reference = ".emailhosted.not",
     .match = false,
     .why = "empty left label in the reference"},
    {.presented = "*.com",
     .reference = "example.com",
     .match = false,
     .why = "REST needs at least two labels"},
    {.presented = "*.", .reference = "com", .match = false, .why = "wildcard of the root"},
    {.presented = "*", .reference = "com", .match = false, .why = "a lone '*' matches nothing"},
    {.presented = "f*.example.com",
     .reference = "foo.example.com",
     .match = false,
     .why = "partial wildcard (prefix) is refused"},
    {.presented = "*x.example.com",
     .reference = "fox.example.com",
     .match = false,
     .why = "partial wildcard (suffix) is refused"},
    {.presented = "f*o.example.com",
     .reference = "foo.example.com",
     .match = false,
     .why = "partial wildcard (inside) is refused"},
    {.presented = "a.*.example.com",
     .reference = "a.b.example.com",
     .match = false,
     .why = "'*' not in the left-most label"},
    {.presented = "*.*.example.com",
     .reference = "a.b.example.com",
     .match = false,
     .why = "two wildcards"},
    {.presented = "**.example.com",
     .reference = "ab.example.com",
     .match = false,
     .why = "'**' is not a whole-label wildcard"},
    {.presented = "*.example.com",
     .reference = "xn--bcher-kva.example.com",
     .match = true,
     .why = "a whole-label wildcard covers an A-label (RFC 6125 6.4.3 forbids only partial)"},
    /* Malformed presented identifiers never match. */
    {.presented = "good.example.com\0.evil.com",
     .len = 26,
     .reference = "good.example.com",
     .match = false,
     .why = "NUL byte: the certificate name is not good.example.com"},
    {.presented = "good.example.com\0.evil.com",
     .len = 26,
     .reference = "evil.com",
     .match = false,
     .why = "NUL byte: nor the part after it"},
    {.presented = "bad name.example.com",
     .reference = "bad name.example.com",
     .match = false,
     .why = "space is outside letters/digits/hyphen/dot"},
    {.presented = "under_score.example.com",
     .reference = "under_score.example.com",
     .match = false,
     .why = "underscore is outside LDH"},
    {.presented = "b\xc3\xbc"
                  "cher.example",
     .reference = "b\xc3\xbc"
                  "cher.example",
     .match = false,
     .why = "UTF-8 (U-label) presented names never match"},
    {.presented = "user@example.com",
     .reference = "example.com",
     .match = false,
     .why = "'@' is outside LDH"},
    {.presented = "a..example.com",
     .reference = "a..example.com",
     .match = false,
     .why = "empty label"},
    {.presented = ".example.com",
     .reference = "example.com",
     .match = false,
     .why = "leading empty label"},
    {.presented = "", .reference = "example.com", .match = false, .why = "empty name"},
    {.presented = ".", .reference = "example.com", .match = false, .why = "root only"},
};

static void test_match_table(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const match_case *c = &cases[i];
        size_t len = c->len ? c->len : strlen(c->presented);
        bool got = mxv_name_matches(c->presented, len, c->reference);
        if (got != c->match)
            fprintf(stderr, "row %zu (%s): expected %d\n", i, c->why, c->match);
        CU_ASSERT_EQUAL(got, c->match);
    }
}

/* Builds "LABEL.LABEL...." of exactly `len` octets from 63-octet labels. */
static void long_name(char *out, size_t len)
{
    memset(out, 'a', len);
    for (size_t i = 63; i < len; i += 64)
        out[i] = '.';
    out[len] = '\0';
}

/* Names up to 253 octets take part; longer ones never match. */
static void test_length_limit(void)
{
    char name[300];
    long_name(name, 253);
    CU_ASSERT_TRUE(mxv_presented_valid(name, 253));
    CU_ASSERT_TRUE(mxv_name_matches(name, 253, name));
    long_name(name, 254);
    CU_ASSERT_FALSE(mxv_presented_valid(name, 254));
    CU_ASSERT_FALSE(mxv_name_matches(name, 254, name));
    /* A trailing dot does not count towards the limit. */
    long_name(name, 253);
    strcat(name, ".");
    CU_ASSERT_TRUE(mxv_presented_valid(name, 254));
}

/* An all-numeric last label is an address on both sides: never a
 * presented host name (fuzzing found "2." valid here but refused as a
 * reference). */
static void test_numeric_last_label(void)
{
    CU_ASSERT_FALSE(mxv_presented_valid("2.", 2));
    CU_ASSERT_FALSE(mxv_presented_valid("192.0.2.1", 9));
    CU_ASSERT_FALSE(mxv_presented_valid("mx.example.123", 14));
    CU_ASSERT_TRUE(mxv_presented_valid("mx.example.2com", 15));
    CU_ASSERT_TRUE(mxv_presented_valid("1.2.example", 11));
}

typedef struct {
    const char *in;
    const char *out; /* NULL: rejected */
    const char *why;
} norm_case;

static const norm_case norms[] = {
    {"Example.COM", "example.com", "lower case"},
    {"example.com.", "example.com", "one trailing dot removed"},
    {"b\xc3\xbc"
     "cher.example",
     "xn--bcher-kva.example", "U-label to A-label (IDNA2008)"},
    {"B\xc3\x9c"
     "CHER.example",
     "xn--bcher-kva.example", "IDN case folding"},
    {"xn--bcher-kva.example", "xn--bcher-kva.example", "an A-label stays as it is"},
    {"", NULL, "empty"},
    {".", NULL, "root only"},
    {"exa mple.com", NULL, "space"},
    {"a..b.com", NULL, "empty label"},
    {"*.example.com", NULL, "a reference is never a wildcard"},
    {"example.com..", NULL, "two trailing dots"},
    {"192.0.2.1", NULL, "an address is not a host name"},
    {"192.0.2.1.", NULL, "nor with a trailing dot"},
    {"mx.123", NULL, "an all-numeric last label"},
    {"123.example", "123.example", "digits elsewhere are fine"},
};

static void test_normalize(void)
{
    for (size_t i = 0; i < sizeof(norms) / sizeof(norms[0]); i++) {
        char out[MXV_NAME_MAX + 1];
        const char *why = NULL;
        bool ok = mxv_reference_normalize(norms[i].in, out, sizeof(out), &why);
        if (ok != (norms[i].out != NULL))
            fprintf(stderr, "norm row %zu (%s): ok=%d\n", i, norms[i].why, ok);
        CU_ASSERT_EQUAL(ok, norms[i].out != NULL);
        if (ok && norms[i].out)
            CU_ASSERT_STRING_EQUAL(out, norms[i].out);
        if (!ok)
            CU_ASSERT_PTR_NOT_NULL(why); /* every rejection says why */
    }
    char name[300];
    long_name(name, 254);
    char out[MXV_NAME_MAX + 1];
    CU_ASSERT_FALSE(mxv_reference_normalize(name, out, sizeof(out), NULL));
}

static void test_ip_literal(void)
{
    CU_ASSERT_TRUE(mxv_is_ip_literal("192.0.2.1"));
    CU_ASSERT_TRUE(mxv_is_ip_literal("2001:db8::1"));
    CU_ASSERT_FALSE(mxv_is_ip_literal("192.0.2"));
    CU_ASSERT_FALSE(mxv_is_ip_literal("mx.example.com"));
}

int main(void)
{
    static const unit_test tests[] = {
        {"match table", test_match_table},
        {"253-octet limit", test_length_limit},
        {"all-numeric last label", test_numeric_last_label},
        {"reference normalisation", test_normalize},
        {"IP literals", test_ip_literal},
        {NULL, NULL},
    };
    return unit_run("names", NULL, NULL, tests);
}
