/* Fuzz: a config file in openssl.cnf syntax, through NCONF and the
 * settings validation. */
#include "mxverify.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof(path), "/tmp/mxv-fuzz-config-%ld", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    mxv_policy *p = mxv_policy_new();
    char err[1024];
    mxv_policy_load_file(p, path, err, sizeof(err));
    mxv_policy_free(p);
    unlink(path);
    return 0;
}
