/* SPDX-License-Identifier: Apache-2.0 */
/* test_hook_ssl_dup: SSL_dup() of an SSL that has not started copies its
 * ex_data. The copy of one that carries mxverify's per-SSL state starts
 * with none of its own; each SSL then frees only its own (before, both
 * freed the same state: a double free in the host program, which
 * valgrind, ASan or glibc report). */
#include "hook.h"
#include "hook_state.h"
#include "unit_main.h"

#include <openssl/ssl.h>

static void test_dup_of_an_ssl_with_state(void)
{
    char err[256];
    CU_ASSERT_EQUAL_FATAL(mxv_hook_install(NULL, NULL, err, sizeof(err)), 1);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
    SSL *ssl = SSL_new(ctx);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ssl);
    mxv_hook_ssl *state = mxv_hook_ssl_get(ssl, true);
    CU_ASSERT_PTR_NOT_NULL_FATAL(state);
    SSL *copy = SSL_dup(ssl); /* not started: a copy, not a reference */
    CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
    CU_ASSERT_PTR_NOT_EQUAL(copy, ssl);
    CU_ASSERT_PTR_NULL(mxv_hook_ssl_get(copy, false));
    CU_ASSERT_PTR_EQUAL(mxv_hook_ssl_get(ssl, false), state);
    SSL_free(copy);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
}

int main(void)
{
    static const unit_test tests[] = {
        {"a copy made by SSL_dup() has mxverify state of its own", test_dup_of_an_ssl_with_state},
        {NULL, NULL},
    };
    return unit_run("hook_ssl_dup", NULL, NULL, tests);
}
