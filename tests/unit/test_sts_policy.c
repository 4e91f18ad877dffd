/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MTA-STS (core/sts_policy.h): policy bodies, one row each, with whether
 * they read and why not (RFC 8461 section 3.2); mx patterns matched
 * against host names (section 4.1); TXT records as DNS carries them, in
 * character-strings (section 3.1).
 */
#include "sts_policy.h"
#include "unit_main.h"

#include <stdio.h>
#include <string.h>

/* A body with its length: some hold NUL bytes. */
#define B(s) s, sizeof(s) - 1
/* The RFC's example policy (section 3.2), lines ended by `t`. */
#define RFC_EXAMPLE(t)                                                                             \
    "version: STSv1" t "mode: enforce" t "mx: mail.example.com" t "mx: *.example.net" t            \
    "mx: backupmx.example.com" t "max_age: 604800"
/* A label of 63 octets, the most there may be. */
#define D63  "a23456789012345678901234567890123456789012345678901234567890123"
#define HEAD "version: STSv1\nmode: enforce\nmax_age: 86400\n"

/* The rest of a row whose body does not read. */
#define REFUSED(why) why, MXV_STS_MODE_ENFORCE, 0, 0

typedef struct {
    const char *name;
    const char *body;
    size_t len;
    const char *why; /* NULL: reads; else a substring of why it does not */
    mxv_sts_mode mode;
    uint32_t max_age;
    size_t nmx;
} body_row;

static const body_row body_rows[] = {
    {"the RFC's example, LF", B(RFC_EXAMPLE("\n") "\n"), NULL, MXV_STS_MODE_ENFORCE, 604800, 3},
    {"the RFC's example, CRLF", B(RFC_EXAMPLE("\r\n") "\r\n"), NULL, MXV_STS_MODE_ENFORCE, 604800,
     3},
    {"no terminator on the last line", B(RFC_EXAMPLE("\n")), NULL, MXV_STS_MODE_ENFORCE, 604800, 3},
    {"CRLF and LF mixed", B(RFC_EXAMPLE("\r\n") "\n"), NULL, MXV_STS_MODE_ENFORCE, 604800, 3},
    {"keys in another order, blanks around values",
     B("max_age:86400 \nmx:\t mx1.example.org\t\nmode:  testing\r\nversion: STSv1  "), NULL,
     MXV_STS_MODE_TESTING, 86400, 1},
    {"unknown keys ignored", B(HEAD "mx: a.example.org\nfuture-key: some value: with colons\n"),
     NULL, MXV_STS_MODE_ENFORCE, 86400, 1},
    {"trailing empty lines tolerated", B(HEAD "mx: a.example.org\n\n\r\n"), NULL,
     MXV_STS_MODE_ENFORCE, 86400, 1},
    {"mode none needs no mx", B("version: STSv1\nmode: none\nmax_age: 0\n"), NULL,
     MXV_STS_MODE_NONE, 0, 0},
    {"max_age at the limit", B("version: STSv1\nmode: none\nmax_age: 31557600\n"), NULL,
     MXV_STS_MODE_NONE, 31557600, 0},
    {"max_age with leading zeros, ten digits", B("version: STSv1\nmode: none\nmax_age: 0000086400"),
     NULL, MXV_STS_MODE_NONE, 86400, 0},
    {"max_age over the limit", B("version: STSv1\nmode: none\nmax_age: 31557601\n"),
     REFUSED("max_age")},
    {"max_age overflowing 32 bits", B("version: STSv1\nmode: none\nmax_age: 4294967296\n"),
     REFUSED("max_age")},
    {"max_age overflowing 64 bits",
     B("version: STSv1\nmode: none\nmax_age: 18446744073709551617\n"), REFUSED("max_age")},
    {"max_age with a plus", B("version: STSv1\nmode: none\nmax_age: +86400\n"), REFUSED("max_age")},
    {"max_age negative", B("version: STSv1\nmode: none\nmax_age: -1\n"), REFUSED("max_age")},
    {"max_age empty", B("version: STSv1\nmode: none\nmax_age:\n"), REFUSED("max_age")},
    {"max_age not decimal", B("version: STSv1\nmode: none\nmax_age: 0x10\n"), REFUSED("max_age")},
    {"max_age with a blank inside", B("version: STSv1\nmode: none\nmax_age: 86 400\n"),
     REFUSED("max_age")},
    {"max_age missing", B("version: STSv1\nmode: none\n"), REFUSED("no max_age")},
    {"version missing", B("mode: enforce\nmx: a.example.org\nmax_age: 1\n"), REFUSED("no version")},
    {"version in another case", B("version: stsv1\nmode: none\nmax_age: 1\n"), REFUSED("version")},
    {"key in another case is unknown", B("Version: STSv1\nmode: none\nmax_age: 1\n"),
     REFUSED("no version")},
    {"version STSv2", B("version: STSv2\nmode: none\nmax_age: 1\n"), REFUSED("version")},
    {"version twice", B("version: STSv1\n" HEAD "mx: a.example.org\n"),
     REFUSED("version given twice")},
    {"mode twice", B(HEAD "mode: enforce\nmx: a.example.org\n"), REFUSED("mode given twice")},
    {"max_age twice", B(HEAD "max_age: 86400\nmx: a.example.org\n"),
     REFUSED("max_age given twice")},
    {"mode missing", B("version: STSv1\nmax_age: 1\nmx: a.example.org\n"), REFUSED("no mode")},
    {"a bad mode", B("version: STSv1\nmode: enforcing\nmax_age: 1\nmx: a.example.org\n"),
     REFUSED("mode")},
    {"mode in another case", B("version: STSv1\nmode: Enforce\nmax_age: 1\nmx: a.example.org\n"),
     REFUSED("mode")},
    {"enforce without mx", B(HEAD), REFUSED("no mx")},
    {"testing without mx", B("version: STSv1\nmode: testing\nmax_age: 1\n"), REFUSED("no mx")},
    {"a line without ':'", B(HEAD "mx a.example.org\n"), REFUSED("line 4: a line without ':'")},
    {"an empty line inside", B("version: STSv1\n\nmode: none\nmax_age: 1\n"),
     REFUSED("line 2: an empty")},
    {"a blank line at the end is not empty", B("version: STSv1\nmode: none\nmax_age: 1\n \n"),
     REFUSED("line 4")},
    {"a NUL byte", B("version: STSv1\nmode: none\nmax_age: 1\n\0"), REFUSED("NUL")},
    {"a NUL byte in a value", B("version: STSv1\nmode: none\0\nmax_age: 1\n"), REFUSED("NUL")},
    {"a lone CR", B("version: STSv1\rmode: none\nmax_age: 1\n"), REFUSED("control character")},
    {"a blank before the colon", B("version : STSv1\nmode: none\nmax_age: 1\n"),
     REFUSED("malformed key")},
    {"a leading blank", B(" version: STSv1\nmode: none\nmax_age: 1\n"), REFUSED("malformed key")},
    {"nothing", B(""), REFUSED("no version")},
    {"mx with a trailing dot", B(HEAD "mx: Mail.Example.COM.\n"), NULL, MXV_STS_MODE_ENFORCE, 86400,
     1},
    {"mx a single label", B(HEAD "mx: localhost\n"), NULL, MXV_STS_MODE_ENFORCE, 86400, 1},
    {"mx with an underscore", B(HEAD "mx: mail_1.example.org\n"), REFUSED("mx")},
    {"mx with a label ending in '-'", B(HEAD "mx: mail-.example.org\n"), REFUSED("mx")},
    {"mx with a label starting with '-'", B(HEAD "mx: -mail.example.org\n"), REFUSED("mx")},
    {"mx with an empty label", B(HEAD "mx: mail..example.org\n"), REFUSED("mx")},
    {"mx a lone dot", B(HEAD "mx: .\n"), REFUSED("mx")},
    {"mx empty", B(HEAD "mx:\n"), REFUSED("mx")},
    {"mx a lone '*.'", B(HEAD "mx: *.\n"), REFUSED("mx")},
    {"mx a lone '*'", B(HEAD "mx: *\n"), REFUSED("mx")},
    {"mx '*' not leftmost", B(HEAD "mx: mail.*.example.org\n"), REFUSED("mx")},
    {"mx '*' part of a label", B(HEAD "mx: *mail.example.org\n"), REFUSED("mx")},
    {"mx two names", B(HEAD "mx: a.example.org b.example.org\n"), REFUSED("mx")},
    {"mx with UTF-8", B(HEAD "mx: m\xc3\xa4il.example.org\n"), REFUSED("mx")},
    {"mx label of 63", B(HEAD "mx: " D63 ".org\n"), NULL, MXV_STS_MODE_ENFORCE, 86400, 1},
    {"mx label of 64", B(HEAD "mx: " D63 "4.org\n"), REFUSED("mx")},
};

static void test_bodies(void)
{
    for (size_t i = 0; i < sizeof(body_rows) / sizeof(body_rows[0]); i++) {
        const body_row *r = &body_rows[i];
        static mxv_sts_policy p;
        char why[256] = "";
        bool reads = mxv_sts_policy_parse(r->body, r->len, &p, why, sizeof(why));
        bool ok = reads == (r->why == NULL);
        if (ok && !reads)
            ok = strstr(why, r->why) != NULL;
        if (ok && reads)
            ok = p.mode == r->mode && p.max_age == r->max_age && p.nmx == r->nmx;
        if (!ok)
            fprintf(stderr, "\nrow \"%s\": reads %d, why \"%s\"\n", r->name, reads, why);
        CU_ASSERT_TRUE(ok);
    }
}

static void test_patterns_stored(void)
{
    static mxv_sts_policy p;
    char why[256];
    CU_ASSERT_TRUE_FATAL(mxv_sts_policy_parse(B(RFC_EXAMPLE("\r\n") "\r\n"), &p, why, sizeof(why)));
    CU_ASSERT_STRING_EQUAL(p.mx[0], "mail.example.com");
    CU_ASSERT_STRING_EQUAL(p.mx[1], "*.example.net");
    CU_ASSERT_STRING_EQUAL(p.mx[2], "backupmx.example.com");
    /* Lower case, trailing dot gone. */
    CU_ASSERT_TRUE_FATAL(
        mxv_sts_policy_parse(B(HEAD "mx: *.MX.Example.NET.\n"), &p, why, sizeof(why)));
    CU_ASSERT_STRING_EQUAL(p.mx[0], "*.mx.example.net");
}

/* A body of HEAD and `n` mx lines. */
static size_t many_mx(char *body, size_t cap, size_t n)
{
    size_t len = (size_t)snprintf(body, cap, HEAD);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(body + len, cap - len, "mx: mx%zu.example.org\n", i);
    return len;
}

static void test_limits(void)
{
    static mxv_sts_policy p;
    static char body[8192];
    char why[256];
    size_t len = many_mx(body, sizeof(body), MXV_STS_MX_MAX);
    CU_ASSERT_TRUE(mxv_sts_policy_parse(body, len, &p, why, sizeof(why)));
    CU_ASSERT_EQUAL(p.nmx, MXV_STS_MX_MAX);
    CU_ASSERT_FALSE(p.truncated);
    /* More than are kept: the policy stands, checked against the first
     * ones only (a host among the others is refused, never let through). */
    len = many_mx(body, sizeof(body), MXV_STS_MX_MAX + 1);
    CU_ASSERT_TRUE(mxv_sts_policy_parse(body, len, &p, why, sizeof(why)));
    CU_ASSERT_EQUAL(p.nmx, MXV_STS_MX_MAX);
    CU_ASSERT_TRUE(p.truncated);
    CU_ASSERT_TRUE(mxv_sts_mx_match(&p, "mx0.example.org", NULL));
    CU_ASSERT_FALSE(mxv_sts_mx_match(&p, "mx64.example.org", NULL));

    /* A name of 253 octets (four labels of 63, a dot and the last one);
     * 254 is one too many; with "*." only 253 in all. */
    char name[300] = "";
    for (int i = 0; i < 4; i++)
        snprintf(name + strlen(name), sizeof(name) - strlen(name), "%s.", D63);
    strcat(name, "a"); /* 4 * 64 + 1 = 257: too long */
    len = (size_t)snprintf(body, sizeof(body), HEAD "mx: %s\n", name + 4);
    CU_ASSERT_TRUE(mxv_sts_policy_parse(body, len, &p, why, sizeof(why)));
    CU_ASSERT_EQUAL(strlen(p.mx[0]), 253);
    len = (size_t)snprintf(body, sizeof(body), HEAD "mx: %s\n", name + 3);
    CU_ASSERT_FALSE(mxv_sts_policy_parse(body, len, &p, why, sizeof(why)));
    len = (size_t)snprintf(body, sizeof(body), HEAD "mx: *.%s\n", name + 6);
    CU_ASSERT_TRUE(mxv_sts_policy_parse(body, len, &p, why, sizeof(why)));
    CU_ASSERT_EQUAL(strlen(p.mx[0]), 253);
    len = (size_t)snprintf(body, sizeof(body), HEAD "mx: *.%s\n", name + 5);
    CU_ASSERT_FALSE(mxv_sts_policy_parse(body, len, &p, why, sizeof(why)));
    /* Never read past len: the same body cut before its mx line. */
    len = (size_t)snprintf(body, sizeof(body), HEAD "mx: a.example.org\n");
    CU_ASSERT_FALSE(mxv_sts_policy_parse(body, strlen(HEAD), &p, why, sizeof(why)));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "no mx"));
    CU_ASSERT_FALSE(mxv_sts_policy_parse(NULL, 5, &p, why, sizeof(why)));
    CU_ASSERT_FALSE(mxv_sts_policy_parse(NULL, 0, &p, NULL, 0));
}

static void test_match(void)
{
    static mxv_sts_policy p;
    char why[256];
    CU_ASSERT_TRUE_FATAL(mxv_sts_policy_parse(B(RFC_EXAMPLE("\n")), &p, why, sizeof(why)));
    size_t which = 99;
    CU_ASSERT_TRUE(mxv_sts_mx_match(&p, "mail.example.com", &which));
    CU_ASSERT_EQUAL(which, 0);
    CU_ASSERT_TRUE(mxv_sts_mx_match(&p, "MAIL.Example.Com.", &which));
    CU_ASSERT_TRUE(mxv_sts_mx_match(&p, "backupmx.example.com", &which));
    CU_ASSERT_EQUAL(which, 2);
    /* The wildcard: exactly one more label, not empty. */
    CU_ASSERT_TRUE(mxv_sts_mx_match(&p, "a.example.net", &which));
    CU_ASSERT_EQUAL(which, 1);
    CU_ASSERT_TRUE(mxv_sts_mx_match(&p, "MX-1.EXAMPLE.NET.", NULL));
    CU_ASSERT_FALSE(mxv_sts_mx_match(&p, "example.net", NULL));
    CU_ASSERT_FALSE(mxv_sts_mx_match(&p, "a.b.example.net", NULL));
    CU_ASSERT_FALSE(mxv_sts_mx_match(&p, ".example.net", NULL));
    CU_ASSERT_FALSE(mxv_sts_mx_match(&p, "aexample.net", NULL));
    CU_ASSERT_FALSE(mxv_sts_mx_match(&p, "a.example.net.evil", NULL));
    /* Exact names are exact. */
    CU_ASSERT_FALSE(mxv_sts_mx_match(&p, "x.mail.example.com", NULL));
    CU_ASSERT_FALSE(mxv_sts_mx_match(&p, "mail.example.co", NULL));
    CU_ASSERT_FALSE(mxv_sts_mx_match(&p, "mail.example.com..", NULL));
    CU_ASSERT_FALSE(mxv_sts_mx_match(&p, "", NULL));
    CU_ASSERT_FALSE(mxv_sts_mx_match(&p, ".", NULL));
    CU_ASSERT_FALSE(mxv_sts_mx_match(&p, NULL, NULL));
    CU_ASSERT_FALSE(mxv_sts_mx_match(NULL, "mail.example.com", NULL));
    /* A pattern with a trailing dot matches the name without one. */
    CU_ASSERT_TRUE_FATAL(
        mxv_sts_policy_parse(B(HEAD "mx: *.Mx.Example.Org.\n"), &p, why, sizeof(why)));
    CU_ASSERT_TRUE(mxv_sts_mx_match(&p, "a.mx.example.org", NULL));
    CU_ASSERT_TRUE(mxv_sts_mx_match(&p, "A.MX.EXAMPLE.ORG.", NULL));
    CU_ASSERT_FALSE(mxv_sts_mx_match(&p, "mx.example.org", NULL));
}

static void test_mode_names(void)
{
    CU_ASSERT_STRING_EQUAL(mxv_sts_mode_name(MXV_STS_MODE_ENFORCE), "enforce");
    CU_ASSERT_STRING_EQUAL(mxv_sts_mode_name(MXV_STS_MODE_TESTING), "testing");
    CU_ASSERT_STRING_EQUAL(mxv_sts_mode_name(MXV_STS_MODE_NONE), "none");
}

/* ---- TXT records ---- */

/* RDATA from character-strings, NULL-terminated. */
static size_t rdata(uint8_t *out, const char *const *strings)
{
    size_t len = 0;
    for (; *strings; strings++) {
        size_t n = strlen(*strings);
        out[len++] = (uint8_t)n;
        memcpy(out + len, *strings, n);
        len += n;
    }
    return len;
}

typedef struct {
    const char *name;
    const char *strings[3][4]; /* up to three records of up to three strings */
    int result;
    const char *want; /* the id (result 1), or a substring of why (-1) */
} txt_row;

static const txt_row txt_rows[] = {
    {"the RFC's example", {{"v=STSv1; id=20160831085700Z;"}}, 1, "20160831085700Z"},
    {"no trailing separator", {{"v=STSv1; id=abc"}}, 1, "abc"},
    {"blanks around separators", {{"v=STSv1 ;\tid=abc ; "}}, 1, "abc"},
    {"no blanks", {{"v=STSv1;id=abc;"}}, 1, "abc"},
    {"split into character-strings", {{"v=STS", "v1; id=2016", "0831Z;"}}, 1, "20160831Z"},
    {"split inside a field name", {{"v=STSv1; i", "d=x1"}}, 1, "x1"},
    {"unknown fields ignored", {{"v=STSv1; ext-1.a=some:value; id=abc; x=1"}}, 1, "abc"},
    {"id of 32",
     {{"v=STSv1; id=0123456789abcdef0123456789ABCDEF"}},
     1,
     "0123456789abcdef0123456789ABCDEF"},
    {"other TXT records ignored",
     {{"v=spf1 -all"}, {"v=STSv1; id=abc;"}, {"google-site-verification=x"}},
     1,
     "abc"},
    {"no STSv1 record", {{"v=spf1 -all"}, {"something else"}}, 0, NULL},
    {"v=STSv10 is another version", {{"v=STSv10; id=abc"}}, 0, NULL},
    {"v=stsv1 in another case is not STSv1", {{"v=stsv1; id=abc"}}, 0, NULL},
    {"a leading blank is not STSv1", {{" v=STSv1; id=abc"}}, 0, NULL},
    {"two STSv1 records", {{"v=STSv1; id=abc"}, {"v=STSv1; id=def"}}, -1, "2 STSv1"},
    {"two STSv1 records, one malformed", {{"v=STSv1; id=abc"}, {"v=STSv1"}}, -1, "2 STSv1"},
    {"no id", {{"v=STSv1;"}}, -1, "no id"},
    {"nothing but the version", {{"v=STSv1"}}, -1, "no id"},
    {"an empty id", {{"v=STSv1; id="}}, -1, "id is not"},
    {"an id of 33", {{"v=STSv1; id=0123456789abcdef0123456789abcdefX"}}, -1, "id is not"},
    {"an id with a dash", {{"v=STSv1; id=2016-08-31"}}, -1, "id is not"},
    {"an id with a blank", {{"v=STSv1; id=abc def"}}, -1, "id is not"},
    {"an id with a dot", {{"v=STSv1; id=abc.def"}}, -1, "id is not"},
    {"two ids", {{"v=STSv1; id=abc; id=def"}}, -1, "more than one id"},
    {"a field without '='", {{"v=STSv1; id=abc; bogus"}}, -1, "field 3 of the STSv1 record has no"},
    {"an empty field", {{"v=STSv1;; id=abc"}}, -1, "field 2 of the STSv1 record is empty"},
    {"two trailing separators", {{"v=STSv1; id=abc;;"}}, -1, "empty"},
    {"the version not alone in its field", {{"v=STSv1 id=abc"}}, -1, "begin"},
    {"a blank around '='", {{"v=STSv1; id = abc"}}, -1, "malformed"},
    {"v repeated", {{"v=STSv1; v=STSv1; id=abc"}}, -1, "malformed"},
    {"an extension with an empty value", {{"v=STSv1; id=abc; x="}}, -1, "malformed"},
};

static void test_txt(void)
{
    for (size_t i = 0; i < sizeof(txt_rows) / sizeof(txt_rows[0]); i++) {
        const txt_row *r = &txt_rows[i];
        uint8_t bufs[3][600];
        const uint8_t *recs[3];
        size_t lens[3], n = 0;
        for (; n < 3 && r->strings[n][0]; n++) {
            lens[n] = rdata(bufs[n], r->strings[n]);
            recs[n] = bufs[n];
        }
        char id[MXV_STS_ID_MAX + 1] = "", why[256] = "";
        int got = mxv_sts_txt_id(recs, lens, n, id, why, sizeof(why));
        bool ok = got == r->result;
        if (ok && got == 1)
            ok = strcmp(id, r->want) == 0;
        if (ok && got == -1)
            ok = strstr(why, r->want) != NULL;
        if (!ok)
            fprintf(stderr, "\nrow \"%s\": %d, id \"%s\", why \"%s\"\n", r->name, got, id, why);
        CU_ASSERT_TRUE(ok);
    }
}

static void test_txt_rdata(void)
{
    char id[MXV_STS_ID_MAX + 1], why[256];
    /* Character-strings that overrun the RDATA: the length says 20, 15
     * follow; or a second string cut short. */
    static const uint8_t cut[] = "\x14v=STSv1; id=abc";
    const uint8_t *recs[2] = {cut};
    size_t lens[2] = {sizeof(cut) - 1};
    CU_ASSERT_EQUAL(mxv_sts_txt_id(recs, lens, 1, id, why, sizeof(why)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "TXT record 1: a character-string overruns"));
    static const uint8_t cut2[] = "\x07v=STSv1\x09; id=abc";
    recs[0] = cut2;
    lens[0] = sizeof(cut2) - 1;
    CU_ASSERT_EQUAL(mxv_sts_txt_id(recs, lens, 1, id, why, sizeof(why)), -1);
    /* A length octet at the very end, nothing after it. */
    static const uint8_t last[] = "\x0fv=STSv1; id=abc\x05";
    recs[0] = last;
    lens[0] = sizeof(last) - 1;
    CU_ASSERT_EQUAL(mxv_sts_txt_id(recs, lens, 1, id, why, sizeof(why)), -1);
    /* Read to lens[0] only: the same record, its length cut before "c". */
    static const uint8_t whole[] = "\x0fv=STSv1; id=abc";
    recs[0] = whole;
    lens[0] = sizeof(whole) - 1;
    CU_ASSERT_EQUAL(mxv_sts_txt_id(recs, lens, 1, id, why, sizeof(why)), 1);
    CU_ASSERT_STRING_EQUAL(id, "abc");
    lens[0]--;
    CU_ASSERT_EQUAL(mxv_sts_txt_id(recs, lens, 1, id, why, sizeof(why)), -1);
    /* An overrun in another record spoils the answer too. */
    recs[1] = cut;
    lens[0] = sizeof(whole) - 1;
    lens[1] = sizeof(cut) - 1;
    CU_ASSERT_EQUAL(mxv_sts_txt_id(recs, lens, 2, id, why, sizeof(why)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "TXT record 2"));
    /* A NUL byte inside the id. */
    static const uint8_t nul[] = "\x0fv=STSv1; id=a\0c";
    recs[0] = nul;
    lens[0] = sizeof(nul) - 1;
    CU_ASSERT_EQUAL(mxv_sts_txt_id(recs, lens, 1, id, why, sizeof(why)), -1);
    /* Empty RDATA, no records at all. */
    lens[0] = 0;
    CU_ASSERT_EQUAL(mxv_sts_txt_id(recs, lens, 1, id, why, sizeof(why)), 0);
    CU_ASSERT_EQUAL(mxv_sts_txt_id(NULL, NULL, 0, id, why, sizeof(why)), 0);
    CU_ASSERT_EQUAL(mxv_sts_txt_id(NULL, NULL, 1, id, NULL, 0), -1);
    recs[0] = NULL;
    lens[0] = 3;
    CU_ASSERT_EQUAL(mxv_sts_txt_id(recs, lens, 1, id, why, sizeof(why)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "no RDATA"));
}

int main(void)
{
    static const unit_test tests[] = {
        {"policy bodies", test_bodies},  {"patterns as stored", test_patterns_stored},
        {"limits", test_limits},         {"mx matching", test_match},
        {"mode names", test_mode_names}, {"TXT records", test_txt},
        {"TXT RDATA", test_txt_rdata},   {NULL, NULL}};
    return unit_run("sts_policy", NULL, NULL, tests);
}
