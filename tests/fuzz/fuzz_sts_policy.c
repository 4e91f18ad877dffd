/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz: MTA-STS (core/sts_policy.h). The input is read three ways:
 *  - as a policy body; a body that reads must hold what the header
 *    promises, and written out again it must read back the same;
 *  - split at NUL bytes into TXT records, once as raw RDATA and once
 *    wrapped into character-strings of up to 255 octets;
 *  - line by line as MX host names, matched against the policy read (or
 *    a fixed one when the body does not read).
 */
#include "sts_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RECORDS 16

static void check_policy(const mxv_sts_policy *p)
{
    if (p->max_age > MXV_STS_MAX_AGE_LIMIT || p->nmx > MXV_STS_MX_MAX ||
        (p->mode != MXV_STS_MODE_NONE && p->nmx == 0) || !mxv_sts_mode_name(p->mode))
        abort();
    for (size_t i = 0; i < p->nmx; i++) {
        size_t n = strnlen(p->mx[i], MXV_STS_NAME_MAX + 1);
        if (n == 0 || n > MXV_STS_NAME_MAX || p->mx[i][n - 1] == '.')
            abort();
        for (size_t j = 0; j < n; j++)
            if (p->mx[i][j] >= 'A' && p->mx[i][j] <= 'Z')
                abort();
        /* A pattern matches itself, or with its "*" spelt as one label. */
        char host[MXV_STS_NAME_MAX + 2];
        size_t which;
        if (p->mx[i][0] == '*')
            snprintf(host, sizeof(host), "x%s", p->mx[i] + 1);
        else
            snprintf(host, sizeof(host), "%s.", p->mx[i]);
        if (!mxv_sts_mx_match(p, host, &which) || which > i)
            abort();
    }
}

/* The policy written as a body reads back as the same policy. */
static void round_trip(const mxv_sts_policy *p)
{
    static char body[MXV_STS_MX_MAX * (MXV_STS_NAME_MAX + 8) + 128];
    static mxv_sts_policy again;
    char why[256];
    size_t len = (size_t)snprintf(body, sizeof(body), "version: STSv1\r\nmode: %s\r\nmax_age: %u\n",
                                  mxv_sts_mode_name(p->mode), (unsigned)p->max_age);
    for (size_t i = 0; i < p->nmx; i++)
        len += (size_t)snprintf(body + len, sizeof(body) - len, "mx:\t%s \n", p->mx[i]);
    if (!mxv_sts_policy_parse(body, len, &again, why, sizeof(why)) || again.mode != p->mode ||
        again.max_age != p->max_age || again.nmx != p->nmx ||
        memcmp(again.mx, p->mx, sizeof(p->mx[0]) * p->nmx) != 0)
        abort();
}

static void txt(const uint8_t *data, size_t size)
{
    const uint8_t *records[MAX_RECORDS];
    size_t lens[MAX_RECORDS];
    uint8_t *wrapped[MAX_RECORDS];
    size_t wlens[MAX_RECORDS];
    size_t n = 0;
    for (size_t pos = 0; n < MAX_RECORDS && pos <= size; n++) {
        const uint8_t *nul = memchr(data + pos, 0, size - pos);
        size_t end = nul ? (size_t)(nul - data) : size;
        records[n] = data + pos;
        lens[n] = end - pos;
        /* The same bytes as character-strings of at most 255 octets. */
        wrapped[n] = malloc(lens[n] + lens[n] / 255 + 1);
        if (!wrapped[n])
            abort();
        size_t w = 0;
        for (size_t k = 0; k < lens[n]; k += 255) {
            size_t chunk = lens[n] - k < 255 ? lens[n] - k : 255;
            wrapped[n][w++] = (uint8_t)chunk;
            memcpy(wrapped[n] + w, records[n] + k, chunk);
            w += chunk;
        }
        wlens[n] = w;
        pos = end + 1;
    }
    char id[MXV_STS_ID_MAX + 1];
    char why[256];
    for (int round = 0; round < 2; round++) {
        const uint8_t *const *recs = round ? (const uint8_t *const *)wrapped : records;
        int r = mxv_sts_txt_id(recs, round ? wlens : lens, n, id, why, sizeof(why));
        if (r < -1 || r > 1)
            abort();
        if (r == 1) {
            size_t idlen = strnlen(id, sizeof(id));
            if (idlen == 0 || idlen > MXV_STS_ID_MAX)
                abort();
        }
    }
    for (size_t i = 0; i < n; i++)
        free(wrapped[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mxv_sts_policy policy;
    char why[256];
    if (mxv_sts_policy_parse((const char *)data, size, &policy, why, sizeof(why))) {
        check_policy(&policy);
        round_trip(&policy);
    } else {
        static const char fixed[] = "version: STSv1\nmode: enforce\nmax_age: 86400\n"
                                    "mx: mail.example.com\nmx: *.example.net\n";
        if (!mxv_sts_policy_parse(fixed, sizeof(fixed) - 1, &policy, why, sizeof(why)))
            abort();
    }
    txt(data, size);
    /* Each line a host name, as a C string (cut at a NUL). */
    char host[512];
    for (size_t pos = 0; pos < size;) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t end = nl ? (size_t)(nl - data) : size;
        size_t n = end - pos < sizeof(host) - 1 ? end - pos : sizeof(host) - 1;
        memcpy(host, data + pos, n);
        host[n] = '\0';
        size_t which = SIZE_MAX;
        if (mxv_sts_mx_match(&policy, host, &which) && which >= policy.nmx)
            abort();
        pos = end + 1;
    }
    return 0;
}
