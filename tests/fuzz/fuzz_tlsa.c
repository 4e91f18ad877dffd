/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz: TLSA records (core/tlsa.h), as RDATA from DNS answers and as the
 * presentation form `explain --tlsa` takes. Whatever reads must classify
 * and format without fault, and the formatted record must read back as
 * the same record.
 */
#include "tlsa.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const mxv_tlsa *t)
{
    static char text[2 * MXV_TLSA_DATA_MAX + 32];
    static mxv_tlsa again;
    char why[256];
    char buf[16];
    (void)mxv_tlsa_unusable(t);
    (void)mxv_tlsa_usage_name(t->usage, buf);
    char small[24];
    (void)mxv_tlsa_format(t, small, sizeof(small));
    mxv_tlsa_format(t, text, sizeof(text));
    if (t->len == 0)
        return; /* no data: the text form has none to read */
    if (!mxv_tlsa_from_text(text, &again, why, sizeof(why)) || again.usage != t->usage ||
        again.selector != t->selector || again.mtype != t->mtype || again.len != t->len ||
        memcmp(again.data, t->data, t->len) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mxv_tlsa t;
    char why[256];
    if (mxv_tlsa_from_rdata(data, size, &t, why, sizeof(why)))
        round_trip(&t);
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (mxv_tlsa_from_text(text, &t, why, sizeof(why)))
        round_trip(&t);
    free(text);
    return 0;
}
