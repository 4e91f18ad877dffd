/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz: presented identifiers from an untrusted DER certificate, then the
 * matcher against fixed references (the worked example's and an IDN).
 * Seeds: corpus/presented/, written by make_seeds.c.
 */
#include "names.h"
#include "postfix_match.h"
#include "presented.h"

#include <openssl/x509.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const refs[] = {"example.com", "mail.example.com", "mx0a.emailhosted.not",
                                       "mx01.subd.emailhosted.not", "xn--bcher-kva.example"};
    const unsigned char *p = data;
    X509 *cert = d2i_X509(NULL, &p, (long)size);
    if (!cert)
        return 0;
    mxv_presented ids;
    if (mxv_presented_from_cert(cert, &ids)) {
        size_t n_dns = 0;
        for (size_t i = 0; i < ids.n; i++) {
            const mxv_presented_id *id = &ids.ids[i];
            /* A NUL-terminated copy of exactly len bytes, validity as computed. */
            if (id->name[id->len] != '\0' || id->valid != mxv_presented_valid(id->name, id->len))
                abort();
            if (id->type != MXV_ID_DNS && id->type != MXV_ID_CN)
                abort();
            n_dns += id->type == MXV_ID_DNS;
            for (size_t r = 0; r < sizeof(refs) / sizeof(refs[0]); r++) {
                bool m = mxv_name_matches(id->name, id->len, refs[r]);
                /* A match implies the name passed the rules of policy.md 1. */
                if (m && !id->valid)
                    abort();
            }
            /* A valid name without wildcard matches its own normal form. */
            char ref[MXV_NAME_MAX + 1];
            if (id->valid && !memchr(id->name, '*', id->len) &&
                (!mxv_reference_normalize(id->name, ref, sizeof(ref), NULL) ||
                 !mxv_name_matches(id->name, id->len, ref)))
                abort();
        }
        if (n_dns != ids.n_dns)
            abort();
        mxv_presented_clear(&ids);
    }
    /* Postfix's matching (audit): what level verify accepts for a name,
     * level secure accepts for the same name as next hop. */
    for (size_t r = 0; r < sizeof(refs) / sizeof(refs[0]); r++)
        if (postfix_verify_matches(cert, refs[r]) && !postfix_secure_matches(cert, refs[r]))
            abort();
    X509_free(cert);
    return 0;
}
