/* SPDX-License-Identifier: Apache-2.0 */
#include "sts_fetch.h"
#include "fork_hold.h"
#include "lazy_libs.h"
#include "names.h"

#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    char *data;
    size_t len;
    bool too_big;
} body;

/* libcurl's handles are made and ended under the LIBS lock: both take
 * libcurl's global lock, which a child forked meanwhile would find held
 * for ever (fork_hold.h). */
static CURL *easy_init(const mxv_curl_api *c)
{
    mxv_fork_lock(MXV_FORK_LOCK_LIBS);
    CURL *curl = c->easy_init();
    mxv_fork_unlock(MXV_FORK_LOCK_LIBS);
    return curl;
}

static void easy_cleanup(const mxv_curl_api *c, CURL *curl)
{
    mxv_fork_lock(MXV_FORK_LOCK_LIBS);
    c->easy_cleanup(curl);
    mxv_fork_unlock(MXV_FORK_LOCK_LIBS);
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
    body *b = arg;
    size_t n = size * nmemb;
    if (n > MXV_STS_BODY_MAX - b->len) {
        b->too_big = true;
        return 0; /* libcurl stops with CURLE_WRITE_ERROR */
    }
    char *grown = realloc(b->data, b->len + n + 1);
    if (!grown)
        return 0;
    memcpy(grown + b->len, ptr, n);
    b->data = grown;
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* The policy host's certificate is checked against mxverify's anchors
 * (the system's plus ca_file/ca_path), the same store as MX chains. */
static CURLcode use_store(CURL *curl, void *ssl_ctx, void *store)
{
    (void)curl;
    SSL_CTX_set1_cert_store(ssl_ctx, store);
    return CURLE_OK;
}

/* "mta-sts.DOMAIN:443:ADDR,ADDR": the addresses libcurl connects to. */
static struct curl_slist *resolve_list(const mxv_curl_api *c, const char *host,
                                       const char *const *addrs, size_t naddrs)
{
    char entry[4096];
    int k = snprintf(entry, sizeof(entry), "%s:443:", host);
    for (size_t i = 0; i < naddrs && k > 0 && (size_t)k < sizeof(entry); i++)
        k += snprintf(entry + k, sizeof(entry) - (size_t)k,
                      strchr(addrs[i], ':') ? "%s[%s]" : "%s%s", i ? "," : "", addrs[i]);
    if (k <= 0 || (size_t)k >= sizeof(entry))
        return NULL;
    return c->slist_append(NULL, entry);
}

static bool media_type_is_text_plain(const char *type)
{
    if (!type)
        return false;
    size_t n = strcspn(type, "; \t");
    return n == 10 && strncasecmp(type, "text/plain", 10) == 0;
}

/* What went wrong, as an RFC 8460 result type with why. */
static const char *transfer_failed(const mxv_curl_api *c, CURLcode rc, const body *b,
                                   const char *url, const char *errbuf, char *why, size_t whylen)
{
    const char *detail = *errbuf ? errbuf : c->easy_strerror(rc);
    if (rc == CURLE_PEER_FAILED_VERIFICATION) {
        snprintf(why, whylen, "%s: certificate not valid for the policy host: %s", url, detail);
        return "sts-webpki-invalid";
    }
    if (b->too_big)
        snprintf(why, whylen, "%s: body over %d bytes", url, MXV_STS_BODY_MAX);
    else if (rc == CURLE_OPERATION_TIMEDOUT)
        snprintf(why, whylen, "%s: timed out: %s", url, detail);
    else
        snprintf(why, whylen, "%s: %s", url, detail);
    return "sts-policy-fetch-error";
}

const char *mxv_sts_fetch(const char *domain, const char *const *addrs, size_t naddrs,
                          X509_STORE *store, int timeout_ms, mxv_sts_policy *out, char *why,
                          size_t whylen)
{
    char host[MXV_NAME_MAX + 16], url[MXV_NAME_MAX + 64], errbuf[CURL_ERROR_SIZE] = "";
    snprintf(host, sizeof(host), "mta-sts.%s", domain);
    snprintf(url, sizeof(url), "https://%s/.well-known/mta-sts.txt", host);
    if (naddrs == 0) {
        snprintf(why, whylen, "%s: no address for %s", url, host);
        return "sts-policy-fetch-error";
    }
    char err[256];
    const mxv_curl_api *c = mxv_curl(err, sizeof(err));
    if (!c) {
        snprintf(why, whylen, "%s: %s", url, err);
        return "sts-policy-fetch-error";
    }
    CURL *curl = easy_init(c);
    struct curl_slist *resolve = curl ? resolve_list(c, host, addrs, naddrs) : NULL;
    if (!resolve) {
        easy_cleanup(c, curl);
        snprintf(why, whylen, "%s: out of memory", url);
        return "sts-policy-fetch-error";
    }
    body b = {0};
    c->easy_setopt(curl, CURLOPT_URL, url);
    c->easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
    c->easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    c->easy_setopt(curl, CURLOPT_RESOLVE, resolve);
    c->easy_setopt(curl, CURLOPT_PROXY, "");    /* none, whatever https_proxy says */
    c->easy_setopt(curl, CURLOPT_NOSIGNAL, 1L); /* never a signal in the host program */
    c->easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    c->easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    c->easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    c->easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, use_store);
    c->easy_setopt(curl, CURLOPT_SSL_CTX_DATA, store);
    c->easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MXV_STS_BODY_MAX);
    c->easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    c->easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    c->easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    c->easy_setopt(curl, CURLOPT_USERAGENT, "mxverify MTA-STS");
    CURLcode rc = c->easy_perform(curl);
    long status = 0;
    char *type = NULL;
    c->easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    c->easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
    const char *result = NULL;
    if (rc == CURLE_FILESIZE_EXCEEDED) /* a Content-Length over the limit */
        b.too_big = true;
    if (rc != CURLE_OK)
        result = transfer_failed(c, rc, &b, url, errbuf, why, whylen);
    else if (status != 200) {
        snprintf(why, whylen, "%s: HTTP status %ld (only 200 counts, redirects are not followed)",
                 url, status);
        result = "sts-policy-fetch-error";
    } else if (!media_type_is_text_plain(type)) {
        snprintf(why, whylen, "%s: media type %s, not text/plain", url, type ? type : "(none)");
        result = "sts-policy-fetch-error";
    } else {
        char perr[200];
        if (!mxv_sts_policy_parse(b.data ? b.data : "", b.len, out, perr, sizeof(perr))) {
            snprintf(why, whylen, "%s: not a valid policy: %s", url, perr);
            result = "sts-policy-invalid";
        }
    }
    easy_cleanup(c, curl);
    c->slist_free_all(resolve);
    free(b.data);
    return result;
}
