/*
 * Placeholder for libmxverify-preload.so (see the preload shim issue).
 * It interposes nothing: a program started with it behaves exactly as
 * without it, which is also what the finished shim does with no settings.
 */
int mxv_preload_placeholder(void);
int mxv_preload_placeholder(void)
{
    return 0;
}
