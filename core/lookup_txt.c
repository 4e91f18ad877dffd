/* SPDX-License-Identifier: Apache-2.0 */
/* lookup_txt: TXT records through the policy's resolver (lookup_txt.h). */
#include "lookup_txt.h"
#include "names.h"
#include "policy.h"
#include "strlist.h"
#include "text_copy.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    mxv_strlist out;
    int status; /* 1 data, 0 no data, -1 failure */
    char detail[160];
    const char *qname;
} txt_collect;

/* One record's character-strings (<length><bytes>...) joined; false when
 * a length runs past the RDATA. */
static bool join_strings(const uint8_t *rdata, size_t len, char *out, size_t outlen)
{
    size_t used = 0;
    for (size_t i = 0; i < len;) {
        size_t part = rdata[i++];
        if (part > len - i || used + part >= outlen)
            return false;
        for (size_t k = 0; k < part; k++)
            out[used++] = rdata[i + k] ? (char)rdata[i + k] : '\x7f';
        i += part;
    }
    out[used] = '\0';
    return true;
}

static void on_txt(void *arg, const mxv_dns_answer *a)
{
    txt_collect *c = arg;
    mxv_text_copy(c->detail, sizeof(c->detail), a->detail);
    if (a->status == MXV_DNS_FAIL) {
        c->status = -1;
        return;
    }
    /* A TXT RDATA is at most 65535 bytes, less its length bytes of text. */
    char *text = a->status == MXV_DNS_OK && a->n ? malloc(65536) : NULL;
    if (a->status == MXV_DNS_OK && a->n && !text) {
        mxv_text_copy(c->detail, sizeof(c->detail), "out of memory");
        c->status = -1;
        return;
    }
    for (size_t i = 0; text && i < a->n; i++)
        if (join_strings(a->rdata[i], a->rdlen[i], text, 65536))
            mxv_strlist_add(&c->out, text);
    free(text);
    if (a->status == MXV_DNS_OK && a->truncated) {
        /* More records than the answer keeps: not a definite answer. */
        mxv_text_copy(c->detail, sizeof(c->detail), "more TXT records than can be read");
        c->status = -1;
        return;
    }
    c->status = c->out.n ? 1 : 0;
}

/* A name worth asking: 1 to 253 octets of printable ASCII (underscores
 * and all), no empty label. */
static bool plausible_name(const char *name, char *out, size_t outlen)
{
    size_t len = strlen(name);
    if (len && name[len - 1] == '.')
        len--;
    if (len == 0 || len > MXV_NAME_MAX || len >= outlen || name[0] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch <= ' ' || ch >= 0x7f || ch == '\\' || (ch == '.' && name[i + 1] == '.'))
            return false;
        out[i] = (char)tolower(ch);
    }
    out[len] = '\0';
    return true;
}

static void submit_txt(mxv_dns *dns, void *arg)
{
    txt_collect *c = arg;
    mxv_dns_submit(dns, c->qname, MXV_RR_TXT_TYPE, on_txt, c);
}

int mxv_lookup_txt(mxv_policy *p, const char *name, char ***records, size_t *n, char *err,
                   size_t errlen)
{
    char qname[MXV_NAME_MAX + 1];
    *records = NULL;
    *n = 0;
    if (!name || !plausible_name(name, qname, sizeof(qname))) {
        snprintf(err, errlen, "%s: not a DNS name", name ? name : "(null)");
        return -1;
    }
    txt_collect c = {.status = -1, .qname = qname};
    mxv_text_copy(c.detail, sizeof(c.detail), "no answer");
    if (!mxv_policy_dns_round(p, submit_txt, &c, err, errlen))
        return -1;
    if (c.status != 1) {
        snprintf(err, errlen, "%s: %s", qname, c.detail[0] ? c.detail : "no record");
        mxv_strlist_clear(&c.out);
        return c.status;
    }
    char **out = calloc(c.out.n + 1, sizeof(*out));
    for (size_t i = 0; out && i < c.out.n; i++)
        if (!(out[i] = strdup(c.out.items[i]))) {
            mxv_free_list(out);
            out = NULL;
        }
    size_t count = c.out.n;
    mxv_strlist_clear(&c.out);
    if (!out) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *records = out;
    *n = count;
    return 1;
}
