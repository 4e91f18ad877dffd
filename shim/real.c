/* SPDX-License-Identifier: Apache-2.0 */
/* real: the functions the shim stands in front of. */
#include "gnutls_hooks.h"
#include "shim.h"

#include <dlfcn.h>
#include <string.h>

void *shim_real(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (f || strncmp(name, "SSL", 3) != 0)
        return f;
    /* A libssl loaded with RTLD_LOCAL (Python's _ssl module) is not in the
     * global search order, but it is loaded: the program is calling it. */
    void *h = dlopen("libssl.so.3", RTLD_LAZY | RTLD_NOLOAD);
    if (!h)
        return NULL;
    f = dlvsym(h, name, "OPENSSL_3.0.0");
    dlclose(h);
    return f;
}

void *shim_gnutls_real(const char *name)
{
    void *f = dlvsym(RTLD_NEXT, name, "GNUTLS_3_4");
    return f ? f : dlsym(RTLD_NEXT, name);
}
