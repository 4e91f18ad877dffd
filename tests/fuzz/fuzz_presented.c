/* Fuzz: presented identifiers from an untrusted DER certificate, then the
 * matcher against fixed references. */
#include "names.h"
#include "presented.h"

#include <openssl/x509.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const refs[] = {"example.com", "mx0a.emailhosted.not",
                                       "mx01.subd.emailhosted.not", "xn--bcher-kva.example"};
    const unsigned char *p = data;
    X509 *cert = d2i_X509(NULL, &p, (long)size);
    if (!cert)
        return 0;
    mxv_presented ids;
    if (mxv_presented_from_cert(cert, &ids)) {
        for (size_t i = 0; i < ids.n; i++) {
            for (size_t r = 0; r < sizeof(refs) / sizeof(refs[0]); r++) {
                bool m = mxv_name_matches(ids.ids[i].name, ids.ids[i].len, refs[r]);
                /* A match implies the name passed the rules of policy.md 1. */
                if (m && !ids.ids[i].valid)
                    abort();
            }
        }
        mxv_presented_clear(&ids);
    }
    X509_free(cert);
    return 0;
}
