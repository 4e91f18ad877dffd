/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz: a config file in openssl.cnf syntax, through NCONF, the settings
 * validation and the destination table, on a fresh policy each time. The
 * input is handed over as /proc/self/fd/N of a memfd (a temporary file
 * where memfd_create is missing), since mxv_policy_load_file() takes a path
 * and re-reads the file to locate errors.
 */
#include "mxverify.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[128];
    static int memfd = -2;
    if (memfd == -2) {
        memfd = memfd_create("mxv-fuzz-config", 0);
        if (memfd >= 0)
            snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
        else
            snprintf(path, sizeof(path), "/tmp/mxv-fuzz-config-%ld", (long)getpid());
    }
    if (memfd >= 0) {
        if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
            return 0;
    } else {
        FILE *f = fopen(path, "wb");
        if (!f)
            return 0;
        size_t n = fwrite(data, 1, size, f);
        if (fclose(f) != 0 || n != size)
            return 0;
    }

    mxv_policy *p = mxv_policy_new();
    char err[1024];
    err[0] = '\0';
    if (mxv_policy_load_file(p, path, err, sizeof(err))) {
        /* Destination lookup over whatever table was loaded. */
        static const char *const domains[] = {"example.com", "partner.example", "a.hosted.example",
                                              "com", NULL};
        for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
            mxv_mode m = mxv_policy_mode(p, domains[i]);
            if (m < MXV_MODE_NONE || m > MXV_MODE_REQUIRED_VERIFY_HOSTED)
                abort();
        }
    } else if (!err[0] || !memchr(err, '\0', sizeof(err))) {
        abort(); /* a failure always says why */
    }
    mxv_policy_free(p);
    if (memfd < 0)
        unlink(path);
    return 0;
}
