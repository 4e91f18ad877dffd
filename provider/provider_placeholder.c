/*
 * Placeholder for the OpenSSL provider module mxverify.so (see the provider
 * issue). Deliberately no OSSL_provider_init: activating it fails.
 */
int mxv_provider_placeholder(void);
int mxv_provider_placeholder(void)
{
    return 0;
}
