/* SPDX-License-Identifier: Apache-2.0 */
/* tlsrpt_report: RFC 8460 reports built, written, and where each goes (tlsrpt.h). */
#include "cli.h"
#include "lookup_txt.h"
#include "tlsrpt.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* --- Reports --------------------------------------------------------- */

/* "a; b; c" -> ["a", "b", "c"]; the "mx:" lines' patterns into mx. */
static json_t *split_policy(const char *s, json_t *mx_out)
{
    json_t *out = json_array();
    while (out && s && *s) {
        const char *end = strstr(s, "; ");
        size_t len = end ? (size_t)(end - s) : strlen(s);
        json_array_append_new(out, json_stringn_nocheck(s, len));
        if (mx_out && len > 3 && strncmp(s, "mx:", 3) == 0) {
            const char *v = s + 3;
            while (v < s + len && (*v == ' ' || *v == '\t'))
                v++;
            if (v < s + len)
                json_array_append_new(mx_out, json_stringn_nocheck(v, (size_t)(s + len - v)));
        }
        s = end ? end + 2 : s + len;
    }
    return out;
}

bool tlsrpt_add_to_policy(policy_acc *p, const record *r)
{
    if (r->mx && p->type == P_TLSA && !json_object_get(p->mx, r->mx))
        json_object_set_new_nocheck(p->mx, r->mx, json_true());
    if (r->pattern && p->type == P_STS && !json_object_get(p->pattern, r->pattern))
        json_object_set_new_nocheck(p->pattern, r->pattern, json_true());
    if (!r->result) {
        p->ok++;
        return true;
    }
    p->failed++;
    char key[1200];
    snprintf(key, sizeof(key), "%s\x1f%s\x1f%s\x1f%.512s", r->result,
             r->local_ip ? r->local_ip : "", r->ip ? r->ip : "", r->mx ? r->mx : "");
    json_t *at = json_object_get(p->index, key);
    if (at) {
        detail *d = &p->details[json_integer_value(at)];
        d->count++;
        if (d->why != r->why) /* interned: equal text, equal pointer */
            d->why_mixed = true;
        return true;
    }
    if (p->ndetails == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 8;
        detail *grown = realloc(p->details, cap * sizeof(*grown));
        if (!grown)
            return false;
        p->details = grown;
        p->cap = cap;
    }
    json_object_set_new_nocheck(p->index, key, json_integer((json_int_t)p->ndetails));
    p->details[p->ndetails++] = (detail){r->result, r->local_ip, r->ip, r->mx, r->why, false, 1};
    return true;
}

static json_t *set_to_array(json_t *set)
{
    json_t *out = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(set, key, v)
    {
        (void)v;
        json_array_append_new(out, json_string_nocheck(key));
    }
    return out;
}

json_t *tlsrpt_policy_json(policy_acc *p, const char *domain)
{
    json_t *policy = json_object(), *mx = json_array();
    json_object_set_new_nocheck(policy, "policy-type", json_string_nocheck(ptype_name[p->type]));
    /* Omitted when the log has none (no-policy-found has none). */
    if (p->type != P_NONE && p->pstring)
        json_object_set_new_nocheck(policy, "policy-string",
                                    split_policy(p->pstring, p->type == P_STS ? mx : NULL));
    json_object_set_new_nocheck(policy, "policy-domain", json_string_nocheck(domain));
    if (p->type == P_TLSA) {
        json_decref(mx);
        mx = set_to_array(p->mx);
    } else if (p->type == P_STS && json_array_size(mx) == 0) {
        json_decref(mx);
        mx = set_to_array(p->pattern);
    }
    if (json_array_size(mx))
        json_object_set_new_nocheck(policy, "mx-host", mx);
    else
        json_decref(mx);

    json_t *out = json_object(), *details = json_array();
    json_object_set_new_nocheck(out, "policy", policy);
    json_object_set_new_nocheck(out, "summary",
                                json_pack("{s:I,s:I}", "total-successful-session-count",
                                          (json_int_t)p->ok, "total-failure-session-count",
                                          (json_int_t)p->failed));
    for (size_t i = 0; i < p->ndetails; i++) {
        const detail *d = &p->details[i];
        json_t *o = json_object();
        json_object_set_new_nocheck(o, "result-type", json_string_nocheck(d->result));
        if (d->sending)
            json_object_set_new_nocheck(o, "sending-mta-ip", json_string_nocheck(d->sending));
        if (d->receiving)
            json_object_set_new_nocheck(o, "receiving-ip", json_string_nocheck(d->receiving));
        if (d->mx)
            json_object_set_new_nocheck(o, "receiving-mx-hostname", json_string_nocheck(d->mx));
        json_object_set_new_nocheck(o, "failed-session-count", json_integer(d->count));
        if (d->why && !d->why_mixed)
            json_object_set_new_nocheck(o, "failure-reason-code", json_string_nocheck(d->why));
        json_array_append_new(details, o);
    }
    json_object_set_new_nocheck(out, "failure-details", details);
    return out;
}

void tlsrpt_policy_free(policy_acc *p)
{
    json_decref(p->mx);
    json_decref(p->pattern);
    json_decref(p->index);
    free(p->details);
}

/* A random (version 4) UUID. */
bool tlsrpt_new_uuid(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof(b)) != 1)
        return false;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return true;
}

static int dump_to_gz(const char *buffer, size_t size, void *data)
{
    return size == 0 || gzwrite((gzFile)data, buffer, (unsigned)size) == (int)size ? 0 : -1;
}

/* Writes the report gzipped, through a hidden temporary name renamed
 * into place: a mail job picking up *.json.gz never sees half a file. */
bool tlsrpt_write_report(const char *dir, const char *name, json_t *report)
{
    char *path = NULL, *tmp = NULL;
    bool ok = false;
    if (asprintf(&path, "%s/%s", dir, name) < 0 || asprintf(&tmp, "%s/.%s.tmp", dir, name) < 0) {
        free(path);
        cli_error("tlsrpt: out of memory");
        return false;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    gzFile gz = fd >= 0 ? gzdopen(fd, "wb9") : NULL;
    if (!gz) {
        cli_error("tlsrpt: %s: %s", tmp, strerror(errno ? errno : ENOMEM));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        goto out;
    }
    bool written =
        json_dump_callback(report, dump_to_gz, gz, JSON_COMPACT) == 0 && gzwrite(gz, "\n", 1) == 1;
    int closed = gzclose(gz); /* closes fd */
    if (!written || closed != Z_OK) {
        cli_error("tlsrpt: %s: cannot write the report", tmp);
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, path) != 0) {
        cli_error("tlsrpt: %s: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    ok = true;
out:
    free(path);
    free(tmp);
    return ok;
}

/* --- Where a report goes: the TLSRPT record (RFC 8460 section 3) ----- */

/* "v=TLSRPTv1" then the end, blanks or ';'. */
static bool is_tlsrpt(const char *rec)
{
    if (strncmp(rec, "v=TLSRPTv1", 10) != 0)
        return false;
    const char *p = rec + 10;
    while (*p == ' ' || *p == '\t')
        p++;
    return !*p || *p == ';';
}

/* The rua URIs of one TLSRPTv1 record, ", "-joined into out; false with
 * why when the record is malformed or names no mailto: or https: URI. */
static bool rua_of(const char *rec, char *out, size_t outlen, char *why, size_t whylen)
{
    for (const char *c = rec; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) {
            snprintf(why, whylen, "the record has a control or non-ASCII byte");
            return false;
        }
    out[0] = '\0';
    const char *p = rec + 10;
    bool found = false;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len > 4 && strncmp(p, "rua=", 4) == 0) {
            if (found) {
                snprintf(why, whylen, "the record has two rua fields");
                return false;
            }
            found = true;
            const char *u = p + 4, *stop = p + len;
            while (u < stop) {
                while (u < stop && (*u == ' ' || *u == '\t' || *u == ','))
                    u++;
                const char *ue = u;
                while (ue < stop && *ue != ',' && *ue != ' ' && *ue != '\t')
                    ue++;
                size_t ulen = (size_t)(ue - u);
                if ((ulen > 7 && strncmp(u, "mailto:", 7) == 0) ||
                    (ulen > 8 && strncmp(u, "https://", 8) == 0)) {
                    size_t used = strlen(out);
                    snprintf(out + used, outlen - used, "%s%.*s", used ? ", " : "", (int)ulen, u);
                }
                u = ue;
            }
        } else if (len && !memchr(p, '=', len)) {
            snprintf(why, whylen, "a field without '='");
            return false;
        }
        p = end ? end : p + len + strlen(p + len);
    }
    if (!out[0]) {
        snprintf(why, whylen, found ? "no mailto: or https: URI in rua" : "no rua field");
        return false;
    }
    return true;
}

/* "send to URI, URI" or why not, for `domain`. */
void tlsrpt_destination(mxv_policy *policy, const char *domain, char *out, size_t outlen)
{
    char name[300], err[300], **recs = NULL, why[128], rua[1024];
    size_t n = 0, count = 0;
    const char *only = NULL;
    snprintf(name, sizeof(name), "_smtp._tls.%s", domain);
    int rc = mxv_lookup_txt(policy, name, &recs, &n, err, sizeof(err));
    for (size_t i = 0; rc > 0 && i < n; i++)
        if (is_tlsrpt(recs[i])) {
            count++;
            only = recs[i];
        }
    if (rc < 0)
        snprintf(out, outlen, "not sent: the lookup of %s failed (%s); try again later", name, err);
    else if (count == 0)
        snprintf(out, outlen, "not sent: %s publishes no TLSRPT record (%s)", domain,
                 rc == 0 ? err : "no TXT record begins with v=TLSRPTv1");
    else if (count > 1)
        snprintf(out, outlen, "not sent: %s has %zu TLSRPTv1 records, which RFC 8460 reads as none",
                 name, count);
    else if (!rua_of(only, rua, sizeof(rua), why, sizeof(why)))
        snprintf(out, outlen, "not sent: the TLSRPT record at %s is unusable: %s", name, why);
    else
        snprintf(out, outlen, "send to %s", rua);
    mxv_free_list(recs);
}
