/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_hook_domains: the hook judges a connection by the settings of the
 * recipient domain the program named (mxv_ssl_set()), wherever it judges:
 * in its certificate callback and in its checkpoint at the server's
 * signature; and the library's own check, which runs inside the hook's
 * under the preload shim, changes nothing the hook recorded.
 *
 * The settings here are lax globally (mode none) and strict for one
 * domain: the opposite of test_hook_verify's, so that a check that reads
 * the global settings instead of the domain's lets a handshake through.
 * Real TLS 1.3 over loopback TCP, the hooks installed as the provider
 * installs them. Found by review (both failed before their fix).
 */
#include "hook.h"
#include "hook_state.h"
#include "hook_harness.h"
#include "mxverify.h"
#include "ssl_verify.h"
#include "testcert.h"
#include "unit_main.h"

#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static tc_pair ca, leaf, rsa_leaf;
static int listener = -1;
static unsigned short port;
static char world[] = "/tmp/mxv-hook-domains-XXXXXX";
static char conf[] = "/tmp/mxv-hook-domains-conf-XXXXXX";

static int setup(void)
{
    signal(SIGPIPE, SIG_IGN); /* a server writing to a client that gave up */
    ca = tc_make_ca("hook domains CA", NULL);
    /* A name no reference identifier of these tests matches. */
    const tc_name names[] = {{"DNS", "unrelated.example.org", 0}, {NULL, NULL, 0}};
    leaf = tc_make_leaf(&(tc_leaf_spec){.names = names}, &ca);
    rsa_leaf = tc_make_leaf(&(tc_leaf_spec){.names = names, .rsa = true}, &ca);
    if ((listener = hh_listen(&port)) < 0 ||
        !hh_write_temp(world, "server:\n    local-zone: \".\" static\n"))
        return 1;
    char text[512];
    snprintf(text, sizeof(text),
             "mode = none\nlog = stderr\nports = %u\nunbound_conf = %s\n"
             "destinations = dest\n[dest]\nstrict.example = strict\nlax.example = lax\n"
             "[strict]\nmode = required-verify-hosted\n[lax]\nmode = none\n",
             port, world);
    mxv_policy *policy = mxv_policy_new();
    char err[256];
    if (!hh_write_temp(conf, text) || !policy ||
        !mxv_policy_load_file(policy, conf, err, sizeof(err)) ||
        !mxv_hook_install(policy, NULL, err, sizeof(err))) {
        fprintf(stderr, "setup: %s\n", err);
        return 1;
    }
    return 0;
}

static int teardown(void)
{
    close(listener);
    unlink(world);
    unlink(conf);
    tc_free(&ca);
    tc_free(&leaf);
    tc_free(&rsa_leaf);
    return 0;
}

/* The library's callback as the shim runs it: inside the hook's
 * (mxv_hook_set_program_verify(), as for any program's own callback). */
static int library_inside_hook(void *x, void *arg)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    mxv_verify_ctx v = {.policy = arg, .fd = -1};
    return mxv_ssl_verify(x, ssl, &v);
}

typedef enum {
    HOOK_ALONE,       /* mxverify's callback */
    PROGRAM_REPLACED, /* mxv_ssl_ctx_enable(): the program's policy replaces it (provider) */
    LIBRARY_INSIDE    /* the program's policy runs inside mxverify's (shim) */
} checker;

/* A handshake of a program whose own checks are off (SSL_VERIFY_NONE),
 * naming `domain` with mxv_ssl_set(), its own policy at program_mode:
 * true when it completed. */
static bool handshake(checker how, const char *domain, const char *program_mode, char *said,
                      size_t saidlen)
{
    SSL_CTX *sctx = hh_server_of(&leaf);
    pthread_t server = hh_serve_in_thread(listener, sctx);
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    CU_ASSERT_FATAL(cctx != NULL);
    SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
    char err[256];
    mxv_policy *own = mxv_policy_new();
    CU_ASSERT_FATAL(own && mxv_policy_set(own, "mode", program_mode, err, sizeof(err)));
    CU_ASSERT_FATAL(mxv_policy_set(own, "log", "none", err, sizeof(err)));
    if (how == PROGRAM_REPLACED)
        CU_ASSERT_FATAL(mxv_ssl_ctx_enable(cctx, own, err, sizeof(err)));
    if (how == LIBRARY_INSIDE)
        CU_ASSERT_FATAL(mxv_hook_set_program_verify(cctx, library_inside_hook, own));
    hh_capture c = hh_capture_stderr();
    bool ok = hh_client_handshake(cctx, port, domain);
    hh_served(server);
    hh_captured(c, said, saidlen);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    mxv_policy_free(own);
    return ok;
}

static void test_checkpoint_reads_callers_domain(void)
{
    char said[4096];
    /* Control: mxverify's callback judges by strict.example's settings. */
    CU_ASSERT_FALSE(handshake(HOOK_ALONE, "strict.example", "none", said, sizeof(said)));
    CU_ASSERT_PTR_NOT_NULL(strstr(said, "action=abort"));
    /* The program took the check away with a policy of its own: the
     * checkpoint finds no decision of mxverify's, and strict.example's
     * settings want one (before: it read the global mode none, and the
     * handshake completed). */
    CU_ASSERT_FALSE(handshake(PROGRAM_REPLACED, "strict.example", "none", said, sizeof(said)));
    CU_ASSERT_PTR_NOT_NULL(strstr(said, "never shown to mxverify"));
}

static void test_library_inside_hook_keeps_its_record(void)
{
    char said[4096];
    /* Control: mxverify's callback, lax.example: nothing to decide. */
    CU_ASSERT_TRUE(handshake(HOOK_ALONE, "lax.example", "none", said, sizeof(said)));
    CU_ASSERT_PTR_NULL(strstr(said, "verdict="));
    /* The library's check inside mxverify's: the same (before: it wrote
     * over the hook's "verifies nothing", and the hook failed the
     * handshake with "no decision could be made"). */
    CU_ASSERT_TRUE(handshake(LIBRARY_INSIDE, "lax.example", "none", said, sizeof(said)));
    CU_ASSERT_PTR_NULL(strstr(said, "verdict="));
}

static unsigned int client_psk(SSL *ssl, const char *hint, char *identity,
                               unsigned int max_identity, unsigned char *psk, unsigned int max_psk)
{
    (void)ssl, (void)hint;
    if (max_identity < 8 || max_psk < 16)
        return 0;
    strcpy(identity, "client");
    memset(psk, 0x5a, 16);
    return 16;
}

static unsigned int server_psk(SSL *ssl, const char *identity, unsigned char *psk,
                               unsigned int max_psk)
{
    (void)ssl, (void)identity;
    if (max_psk < 16)
        return 0;
    memset(psk, 0x5a, 16);
    return 16;
}

static int accept_anything(void *x, void *arg)
{
    (void)x, (void)arg;
    return 1;
}

static void test_rsa_psk_has_no_signature(void)
{
    /* TLS 1.2 RSA-PSK: the server sends its certificate and signs
     * nothing, so without the shim nothing after the certificate can
     * find that mxverify's callback was taken away (here by the
     * program's own). Refused at the server's choice, as static RSA is
     * (before: only static RSA was, and the handshake completed). */
    SSL_CTX *sctx = hh_server_of(&rsa_leaf);
    SSL_CTX_set_psk_server_callback(sctx, server_psk);
    CU_ASSERT_FATAL(SSL_CTX_set_cipher_list(sctx, "RSA-PSK-AES128-GCM-SHA256") == 1);
    pthread_t server = hh_serve_in_thread(listener, sctx);
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    CU_ASSERT_FATAL(cctx != NULL);
    SSL_CTX_set_max_proto_version(cctx, TLS1_2_VERSION);
    CU_ASSERT_FATAL(SSL_CTX_set_cipher_list(cctx, "RSA-PSK-AES128-GCM-SHA256") == 1);
    SSL_CTX_set_psk_client_callback(cctx, client_psk);
    SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_cert_verify_callback(cctx, (int (*)(X509_STORE_CTX *, void *))accept_anything,
                                     NULL);
    char said[4096];
    hh_capture c = hh_capture_stderr();
    bool ok = hh_client_handshake(cctx, port, "strict.example");
    hh_served(server);
    hh_captured(c, said, sizeof(said));
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_PTR_NOT_NULL(strstr(said, "has no server signature"));
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
}

int main(void)
{
    static const unit_test tests[] = {
        {"the checkpoint reads the settings of the caller's domain",
         test_checkpoint_reads_callers_domain},
        {"the library's check inside the hook's leaves the hook's record",
         test_library_inside_hook_keeps_its_record},
        {"TLS 1.2 RSA-PSK is refused without the shim, as static RSA is",
         test_rsa_psk_has_no_signature},
        {NULL, NULL},
    };
    return unit_run("hook_domains", setup, teardown, tests);
}
