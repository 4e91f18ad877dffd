/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The enforcement boundary of one SMTP connection (core/guard.h): one row
 * per rule, each a sequence of what the program sends and what the engine
 * decides, with the verdict each chunk must get and why.
 */
#include "guard.h"
#include "unit_main.h"

#include <stdio.h>
#include <string.h>

/* Bytes with their length: TLS records hold NULs. */
#define B(s) s, sizeof(s) - 1
/* A ClientHello record: handshake type 1, length 38, version 3.3, a random
 * of 0xa5 octets, four more octets. */
#define RANDOM_A5                                                                                  \
    "\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5" \
    "\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5"
#define HELLO     "\x16\x03\x01\x00\x2a\x01\x00\x00\x26\x03\x03" RANDOM_A5 "\x00\x00\x00\x00"
#define CCS       "\x14\x03\x03\x00\x01\x01"
#define ALERT     "\x15\x03\x03\x00\x02\x02\x28"
#define HANDSHAKE "\x16\x03\x03\x00\x04\xaa\xbb\xcc\xdd"
#define APPDATA   "\x17\x03\x03\x00\x05\x01\x02\x03\x04\x05"

typedef enum { END, SEND, PASS, FAIL, PASS_OTHER, FAIL_OTHER, KTLS } op_kind;

typedef struct {
    op_kind op;
    const char *bytes;
    size_t len;
    bool allowed;
    const char *why_has; /* a refusal's reason contains this */
} step;

typedef struct {
    const char *name; /* the rule */
    mxv_guard_level level;
    step steps[8];
} guard_case;

#define OK(s)                                                                                      \
    {                                                                                              \
        SEND, B(s), true, NULL                                                                     \
    }
#define NO(s, why)                                                                                 \
    {                                                                                              \
        SEND, B(s), false, why                                                                     \
    }
#define NOT_GREET   "only EHLO, HELO, STARTTLS, QUIT, RSET and NOOP may precede it"
#define AFTER_TLS   "failed or ended, and only QUIT may follow"
#define NO_DECISION "before the handshake had a pass decision"

static const guard_case cases[] = {
    /* Nothing is refused where the setting does not make TLS mandatory. */
    {"watch: mail in clear is not the guard's business",
     MXV_GUARD_WATCH,
     {OK("EHLO a\r\n"), OK("MAIL FROM:<s@a>\r\nDATA\r\n"), OK(HELLO), OK(APPDATA)}},
    /* TLS mandatory: the greeting exchange, then TLS. */
    {"required: greeting exchange and TLS",
     MXV_GUARD_TLS,
     {OK("EHLO client.test\r\n"), OK("STARTTLS\r\n"), OK(HELLO), OK(CCS HANDSHAKE), OK(APPDATA)}},
    {"required: RSET, NOOP with and without text, QUIT",
     MXV_GUARD_TLS,
     {OK("RSET\r\nNOOP\r\nNOOP hello\r\nQUIT\r\n")}},
    {"required: verbs in any case, bare LF ends a line",
     MXV_GUARD_TLS,
     {OK("helo client.test\nStartTLS\n")}},
    {"required: MAIL FROM in clear",
     MXV_GUARD_TLS,
     {OK("EHLO a\r\n"), NO("MAIL FROM:<s@a>\r\n", NOT_GREET)}},
    {"required: a leading space does not hide MAIL FROM",
     MXV_GUARD_TLS,
     {NO(" MAIL FROM:<s@a>\r\n", NOT_GREET)}},
    {"required: MAIL<TAB>FROM", MXV_GUARD_TLS, {NO("MAIL\tFROM:<s@a>\r\n", NOT_GREET)}},
    {"required: MAIL with two spaces", MXV_GUARD_TLS, {NO("MAIL  FROM:<s@a>\r\n", NOT_GREET)}},
    {"required: MAIL FROM split across writes is refused at its first octet",
     MXV_GUARD_TLS,
     {NO("M", NOT_GREET)}},
    {"required: EHLO split across writes is fine",
     MXV_GUARD_TLS,
     {OK("EH"), OK("LO cli"), OK("ent.test\r"), OK("\n"), OK("STARTTLS\r\n")}},
    {"required: DATA without MAIL FROM", MXV_GUARD_TLS, {NO("DATA\r\n", NOT_GREET)}},
    {"required: BDAT without MAIL FROM", MXV_GUARD_TLS, {NO("BDAT 10 LAST\r\n", NOT_GREET)}},
    {"required: RCPT TO", MXV_GUARD_TLS, {NO("RCPT TO:<u@b>\r\n", NOT_GREET)}},
    {"required: AUTH in clear (credentials are not greeting)",
     MXV_GUARD_TLS,
     {NO("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", NOT_GREET)}},
    {"required: a pipelined MAIL after EHLO in one write refuses the whole write",
     MXV_GUARD_TLS,
     {NO("EHLO a\r\nMAIL FROM:<s@a>\r\n", NOT_GREET)}},
    {"required: a word that only starts like a verb",
     MXV_GUARD_TLS,
     {NO("EHLOX\r\n", NOT_GREET), NO("QUITE\r\n", NOT_GREET)}},
    {"required: QUIT, STARTTLS and RSET take no argument (RFC 5321, RFC 3207)",
     MXV_GUARD_TLS,
     {NO("QUIT now\r\n", NOT_GREET), NO("STARTTLS \r\n", NOT_GREET), NO("RSET x\r\n", NOT_GREET)}},
    {"required: an incomplete verb ending the line", MXV_GUARD_TLS, {NO("EHL\r\n", "incomplete")}},
    {"required: an empty line", MXV_GUARD_TLS, {NO("\r\n", NOT_GREET)}},
    {"required: a bare CR, where some servers end the line",
     MXV_GUARD_TLS,
     {NO("EHLO a\rMAIL FROM:<s@a>\r\n", "CR not followed by LF")}},
    {"required: a NUL octet", MXV_GUARD_TLS, {NO("EHLO a\0b\r\n", "NUL")}},
    {"required: a command line over 512 octets",
     MXV_GUARD_TLS,
     {NO("EHLO "
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "\r\n",
         "over 512")}},
    /* After a handshake that did not complete, nothing but QUIT in clear. */
    {"required: the server sent an alert or garbage after the ClientHello: MAIL in clear",
     MXV_GUARD_TLS,
     {OK("EHLO a\r\nSTARTTLS\r\n"), OK(HELLO), NO("MAIL FROM:<s@a>\r\n", AFTER_TLS)}},
    {"required: after a failed handshake, the program's alert and QUIT may go",
     MXV_GUARD_TLS,
     {OK("STARTTLS\r\n"), OK(HELLO), OK(ALERT), OK("QUIT\r\n"), NO("RSET\r\n", AFTER_TLS)}},
    {"required: a second ClientHello in clear after TLS failed",
     MXV_GUARD_TLS,
     {OK(HELLO), OK("QUIT\r\n"), NO(HELLO, "after the handshake failed or ended")}},
    {"required: TLS application data before any ClientHello",
     MXV_GUARD_TLS,
     {OK("STARTTLS\r\n"), NO(APPDATA, "before any ClientHello")}},
    {"required: an alert before any ClientHello is only TLS state",
     MXV_GUARD_TLS,
     {OK("STARTTLS\r\n"), OK(ALERT), OK("QUIT\r\n")}},
    {"required: outside TLS an alert record is two octets, not a carrier for lines",
     MXV_GUARD_TLS,
     {OK("EHLO a\r\n"), NO("\x15\x03\x03\x00\x14\r\nMAIL FROM:<s@a>\r\n", "longer than an alert")}},
    {"required: inside a handshake an alert may be longer (encrypted)",
     MXV_GUARD_TLS,
     {OK(HELLO), OK("\x15\x03\x03\x00\x1a"
                    "abcdefghijklmnopqrstuvwxyz")}},
    {"required: TLS from the first octet (implicit TLS, port 465)", MXV_GUARD_TLS, {OK(HELLO)}},
    {"required: a ClientHello after EHLO without STARTTLS is read by the server as lines",
     MXV_GUARD_TLS,
     {OK("EHLO a\r\n"), NO(HELLO, "does not follow STARTTLS")}},
    {"required: a ClientHello after STARTTLS and another command",
     MXV_GUARD_TLS,
     {OK("STARTTLS\r\nNOOP\r\n"), NO(HELLO, "does not follow STARTTLS")}},
    {"required: STARTTLS split across writes, then the ClientHello",
     MXV_GUARD_TLS,
     {OK("EHLO a\r\nSTART"), OK("TLS\r"), OK("\n"), OK(HELLO)}},
    {"required: a malformed record header is not TLS",
     MXV_GUARD_TLS,
     {OK("STARTTLS\r\n"), NO("\x16\x02\x01\x00\x05\x01\x00\x00\x01\x00", "malformed")}},
    {"required: a record over 2^14+2048 octets is not TLS",
     MXV_GUARD_TLS,
     {OK("STARTTLS\r\n"), NO("\x16\x03\x01\x48\x01\x01", "malformed")}},
    {"required: a handshake must start with a ClientHello",
     MXV_GUARD_TLS,
     {OK("STARTTLS\r\n"), NO("\x16\x03\x01\x00\x05\x02\x00\x00\x01\x00", "ClientHello")}},
    {"required: mxverify refused the handshake: its records stop, the alert goes",
     MXV_GUARD_TLS,
     {OK(HELLO),
      {FAIL, NULL, 0, true, NULL},
      NO(HANDSHAKE, "refused this handshake"),
      OK(ALERT),
      OK("QUIT\r\n"),
      NO("MAIL FROM:<s@a>\r\n", AFTER_TLS)}},
    /* Verification required: TLS data only after a pass decision. */
    {"verified: a handshake that completes without a decision sends nothing",
     MXV_GUARD_VERIFIED,
     {OK("STARTTLS\r\n"), OK(HELLO), OK(CCS HANDSHAKE), NO(APPDATA, NO_DECISION)}},
    {"verified: after a pass decision, data goes",
     MXV_GUARD_VERIFIED,
     {OK(HELLO), OK(HANDSHAKE), {PASS, NULL, 0, true, NULL}, OK(APPDATA), OK(APPDATA APPDATA)}},
    {"verified: another connection's pass decision counts for nothing",
     MXV_GUARD_VERIFIED,
     {OK(HELLO), {PASS_OTHER, NULL, 0, true, NULL}, NO(APPDATA, NO_DECISION)}},
    {"verified: a decision made before the ClientHello left (a resumption) counts",
     MXV_GUARD_VERIFIED,
     {{PASS, NULL, 0, true, NULL}, OK("STARTTLS\r\n"), OK(HELLO), OK(APPDATA)}},
    {"verified: clear text after a verified session ended",
     MXV_GUARD_VERIFIED,
     {OK(HELLO),
      {PASS, NULL, 0, true, NULL},
      OK(APPDATA ALERT),
      NO("MAIL FROM:<a@b>\r\n", AFTER_TLS)}},
    {"verified: kernel TLS after a pass: the kernel encrypts what is written",
     MXV_GUARD_VERIFIED,
     {OK(HELLO),
      {PASS, NULL, 0, true, NULL},
      {KTLS, NULL, 0, true, NULL},
      OK("MAIL FROM:<s@a>\r\n")}},
    {"verified: kernel TLS without a pass changes nothing",
     MXV_GUARD_VERIFIED,
     {OK(HELLO), {KTLS, NULL, 0, true, NULL}, NO("MAIL FROM:<s@a>\r\n", AFTER_TLS)}},
    {"verified: the ClientHello may arrive one octet at a time",
     MXV_GUARD_VERIFIED,
     {OK("\x16"),
      OK("\x03\x01\x00"),
      OK("\x2a\x01"),
      OK("\x00\x00\x26\x03\x03" RANDOM_A5),
      OK("\x00\x00\x00\x00"),
      {PASS, NULL, 0, true, NULL},
      OK(APPDATA)}},
};

static const uint8_t random_a5[32] = {
    0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
    0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5};

static void test_table(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mxv_guard g;
        mxv_guard_init(&g, cases[i].level);
        uint8_t other[32] = {1};
        for (const step *s = cases[i].steps; s->op != END; s++) {
            char msg[400];
            switch (s->op) {
            case PASS:
            case FAIL:
                mxv_guard_decided(&g, random_a5, s->op == PASS);
                continue;
            case PASS_OTHER:
            case FAIL_OTHER:
                mxv_guard_decided(&g, other, s->op == PASS_OTHER);
                continue;
            case KTLS:
                mxv_guard_kernel_tls(&g);
                continue;
            default:
                break;
            }
            mxv_guard_refusal r = {0}, ra = {0};
            bool ok = mxv_guard_check(&g, s->bytes, s->len, &r);
            /* In one pass: the same verdict and reason, the same state. */
            mxv_guard advanced = g;
            CU_ASSERT_EQUAL(mxv_guard_advance(&advanced, s->bytes, s->len, &ra), ok);
            CU_ASSERT_PTR_EQUAL(ra.why, r.why);
            snprintf(msg, sizeof(msg), "%s: step %zu %s (%s)", cases[i].name,
                     (size_t)(s - cases[i].steps), s->allowed ? "refused" : "allowed",
                     r.why ? r.why : "-");
            CU_assertImplementation(ok == s->allowed, __LINE__, msg, __FILE__, "", CU_FALSE);
            if (!ok && s->why_has && (!r.why || !strstr(r.why, s->why_has))) {
                snprintf(msg, sizeof(msg), "%s: reason \"%s\" lacks \"%s\"", cases[i].name,
                         r.why ? r.why : "", s->why_has);
                CU_FAIL(msg);
            }
            if (!ok)
                break; /* the connection ends at a refusal */
            mxv_guard_commit(&g, s->bytes, s->len);
            CU_ASSERT_EQUAL(memcmp(&advanced, &g, sizeof(g)), 0);
        }
    }
}

static void test_check_changes_nothing(void)
{
    mxv_guard g;
    mxv_guard_init(&g, MXV_GUARD_TLS);
    mxv_guard_refusal r;
    CU_ASSERT_FALSE(mxv_guard_check(&g, B("MAIL FROM:<a@b>\r\n"), &r));
    CU_ASSERT_TRUE(mxv_guard_check(&g, B("EHLO a\r\n"), &r));
    CU_ASSERT_TRUE(mxv_guard_check(&g, B(HELLO), &r));
    uint8_t random[32];
    CU_ASSERT_FALSE(mxv_guard_hello_random(&g, random)); /* nothing committed */
}

/* A short write commits what left; the program sends the rest again. */
static void test_short_write(void)
{
    mxv_guard g;
    mxv_guard_init(&g, MXV_GUARD_VERIFIED);
    static const char hello[] = HELLO;
    CU_ASSERT_TRUE(mxv_guard_check(&g, hello, sizeof(hello) - 1, NULL));
    mxv_guard_commit(&g, hello, 7);
    CU_ASSERT_TRUE(mxv_guard_check(&g, hello + 7, sizeof(hello) - 8, NULL));
    mxv_guard_commit(&g, hello + 7, sizeof(hello) - 8);
    uint8_t random[32];
    CU_ASSERT_TRUE(mxv_guard_hello_random(&g, random));
    CU_ASSERT_EQUAL(memcmp(random, random_a5, 32), 0);
    mxv_guard_decided(&g, random, true);
    CU_ASSERT_TRUE(mxv_guard_passed(&g));
    CU_ASSERT_TRUE(mxv_guard_check(&g, B(APPDATA), NULL));
}

static void test_watch_finishes_after_hello(void)
{
    mxv_guard g;
    mxv_guard_init(&g, MXV_GUARD_WATCH);
    mxv_guard_commit(&g, B("EHLO a\r\nSTARTTLS\r\n"));
    CU_ASSERT_FALSE(mxv_guard_finished(&g));
    mxv_guard_commit(&g, B(HELLO));
    CU_ASSERT_TRUE(mxv_guard_finished(&g));
    uint8_t random[32];
    CU_ASSERT_TRUE(mxv_guard_hello_random(&g, random));
    CU_ASSERT_EQUAL(memcmp(random, random_a5, 32), 0);
}

static void test_refusal_names_the_line(void)
{
    mxv_guard g;
    mxv_guard_init(&g, MXV_GUARD_TLS);
    mxv_guard_refusal r;
    mxv_guard_commit(&g, B("EHLO a\r\n"));
    CU_ASSERT_FALSE(mxv_guard_check(&g, B("NOOP\r\nMAIL FROM:<s@a>\r\n"), &r));
    CU_ASSERT_STRING_EQUAL(r.head, "MAIL FROM:<s@a>");
    mxv_guard_commit(&g, B("EHLO a"));
    CU_ASSERT_FALSE(mxv_guard_check(&g, B("\rX"), &r));
    CU_ASSERT_STRING_EQUAL(r.head, "EHLO a");
    mxv_guard_commit(&g, B("\r\n"));
    CU_ASSERT_FALSE(mxv_guard_check(&g, B("RCPT\tTO:<x>\r\n"), &r));
    CU_ASSERT_STRING_EQUAL(r.head, "RCPT?TO:<x>");
}

int main(void)
{
    static const unit_test tests[] = {
        {"each rule of the boundary, as a sequence of writes", test_table},
        {"judging a chunk changes nothing", test_check_changes_nothing},
        {"a short write commits what left, nothing twice", test_short_write},
        {"the watch level is done once the ClientHello is past", test_watch_finishes_after_hello},
        {"a refusal shows the start of the refused line", test_refusal_names_the_line},
        {NULL, NULL},
    };
    return unit_run("guard", NULL, NULL, tests);
}
