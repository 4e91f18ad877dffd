/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `mxverify sts DOMAIN`: the domain's MTA-STS policy (RFC 8461) as the
 * engine finds it: from the cache (the sts_cache file, when set), else
 * fetched; fetched again when the TXT record's id changed. Run by a timer
 * with sts_cache set, it keeps the policies of the domains mail goes to
 * fresh, so deliveries never wait for a fetch.
 *
 * Exit status (interfaces.md): 0 a valid policy (mode none included), 1 no
 * policy or an invalid one, 2 usage, 3 temporary (DNS or fetch failure).
 */
#include "buf.h"
#include "cli.h"
#include "sts_lookup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] = "usage: mxverify sts DOMAIN [--json] [settings options]\n";

static void utc(int64_t when, char out[32])
{
    time_t t = (time_t)when;
    struct tm tm;
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
}

static void json_text(mxv_buf *b, const char *key, const char *value, bool comma)
{
    mxv_buf_printf(b, "%s\"%s\":", comma ? "," : "", key);
    if (value && *value)
        mxv_buf_json_string(b, value, strlen(value));
    else
        mxv_buf_puts(b, "null");
}

static void print_json(const char *domain, const mxv_sts_found *f)
{
    mxv_buf b = {0};
    mxv_buf_puts(&b, "{");
    json_text(&b, "domain", domain, false);
    json_text(&b, "txt", f->txt, true);
    json_text(&b, "id", f->state == MXV_STS_FOUND ? f->entry.id : f->txt_id, true);
    if (f->state == MXV_STS_FOUND) {
        const mxv_sts_policy *p = &f->entry.policy;
        char expires[32];
        utc(f->entry.expires, expires);
        mxv_buf_printf(&b, ",\"policy\":{\"version\":\"STSv1\",\"mode\":\"%s\",\"mx\":[",
                       mxv_sts_mode_name(p->mode));
        for (size_t i = 0; i < p->nmx; i++) {
            mxv_buf_puts(&b, i ? "," : "");
            mxv_buf_json_string(&b, p->mx[i], strlen(p->mx[i]));
        }
        mxv_buf_printf(&b, "],\"max_age\":%u},\"expires\":\"%s\",\"source\":\"%s\"",
                       (unsigned)p->max_age, expires, f->fetched ? "fetch" : "cache");
    } else {
        mxv_buf_puts(&b, ",\"policy\":null");
        json_text(&b, "error", f->error, true);
        json_text(&b, "why", f->why, true);
    }
    mxv_buf_puts(&b, "}\n");
    char *text = mxv_buf_finish(&b);
    if (text)
        fputs(text, stdout);
    free(text);
}

static void print_text(const char *domain, const mxv_sts_found *f)
{
    printf("Domain:   %s\n", domain);
    printf("Record:   %s\n", f->txt[0] ? f->txt : "(none)");
    if (f->state != MXV_STS_FOUND)
        return;
    const mxv_sts_policy *p = &f->entry.policy;
    char expires[32];
    utc(f->entry.expires, expires);
    printf("Policy:   id %s, mode %s, max_age %u\n", f->entry.id, mxv_sts_mode_name(p->mode),
           (unsigned)p->max_age);
    for (size_t i = 0; i < p->nmx; i++)
        printf("MX:       %s\n", p->mx[i]);
    printf("Expires:  %s\n", expires);
    printf("Source:   %s\n", f->fetched
                                 ? "fetched now from https://mta-sts.DOMAIN/.well-known/mta-sts.txt"
                                 : "cache (fetched before, still within max_age)");
    if (f->txt_id[0] && strcmp(f->txt_id, f->entry.id) != 0)
        printf("Note:     the record's id is %s: a refresh failed, the kept policy applies\n",
               f->txt_id);
}

/* The exit status, and on stderr why there is no policy. */
static int outcome(const char *domain, const mxv_sts_found *f)
{
    if (f->state == MXV_STS_FOUND)
        return EXIT_VERIFIED;
    if (f->state == MXV_STS_ABSENT && !f->dns_failed) {
        cli_error("%s: no MTA-STS policy: %s", domain, f->why[0] ? f->why : "none announced");
        return EXIT_NOT_VERIFIED;
    }
    cli_error("%s: %s%s%s", domain, f->error ? f->error : "DNS failure", f->why[0] ? ": " : "",
              f->why);
    return f->error && strcmp(f->error, "sts-policy-invalid") == 0 ? EXIT_NOT_VERIFIED
                                                                   : EXIT_TEMPORARY;
}

int cmd_sts(int argc, char **argv)
{
    struct option options[32];
    size_t n = cli_options(options, 28);
    options[n++] = (struct option){"help", no_argument, NULL, 'h'};
    options[n] = (struct option){NULL, 0, NULL, 0};
    cli_common c = {.request = mxv_request_new()};
    bool error = false;
    int opt;
    optind = 1;
    while (!error && (opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (opt == 'h') {
            static const char *const own[][2] = {{NULL, NULL}};
            cli_help(usage, own, true);
            mxv_request_free(c.request);
            return EXIT_VERIFIED;
        }
        if (!cli_take_option(&c, opt, optarg, &error))
            error = true;
    }
    const char *domain = !error && optind + 1 == argc ? argv[optind] : NULL;
    if (!error && !domain)
        cli_error("sts: one DOMAIN expected");
    mxv_policy *policy = domain ? cli_load_policy(&c, "none") : NULL;
    int status = EXIT_USAGE;
    mxv_sts_found *f = policy ? calloc(1, sizeof(*f)) : NULL;
    char err[256];
    if (f && mxv_sts_query(policy, domain, f, err, sizeof(err))) {
        if (c.json)
            print_json(domain, f);
        else
            print_text(domain, f);
        status = outcome(domain, f);
    } else if (policy) {
        cli_error("sts: %s", f ? err : "out of memory");
    } else {
        fputs(usage, stderr);
    }
    free(f);
    mxv_policy_free(policy);
    mxv_request_free(c.request);
    return status;
}
