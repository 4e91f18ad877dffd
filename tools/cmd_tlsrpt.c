/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `mxverify tlsrpt`: RFC 8460 aggregate TLS reports from JSON decision
 * logs (log_format = json). One report per policy domain and UTC day,
 * gzipped JSON (application/tlsrpt+gzip) named as RFC 8460 section 5.3.1
 * names attachments, and one line per report saying where it should go:
 * the rua of the domain's _smtp._tls TXT record (section 3), or why not.
 *
 * Input, one JSON object a line (other lines are skipped and counted):
 * time (RFC 3339, its UTC date is the record's day), verdict ("pass";
 * anything else failed), reason (an RFC 8460 result type or null),
 * domain, ip, local_ip, mx, policy (dane | sts | esa), policy_string
 * (records or policy lines joined by "; "), sts (null or {mode, pattern,
 * id, result}), sts_result, session, why. Lines of one session (and
 * domain) count once, merged: failed if any failed (the first failure's
 * result). Reading: tlsrpt_logs.c; reports: tlsrpt_report.c.
 *
 * Exit status: 0 reports written, 1 no decision in range, 2 usage (an
 * option, an unreadable log, an output directory that cannot be written).
 */
#include "cli.h"
#include "lookup_txt.h"
#include "settings.h"
#include "tlsrpt.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: mxverify tlsrpt --log FILE... [--day YYYY-MM-DD|today] --org NAME --contact ADDR\n"
    "                       [--out DIR] [--unbound-conf F] [--dns-timeout S] [--conf F]\n";

#define MAX_LOGS 256

/* --- The command ----------------------------------------------------- */

static int by_day_domain(const void *a, const void *b)
{
    const record *x = *(record *const *)a, *y = *(record *const *)b;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    int c = strcmp(x->domain, y->domain);
    return c ? c : (x < y ? -1 : x > y);
}

/* ORG as a file name part: [A-Za-z0-9._-], anything else '_'. */
static void file_part(const char *in, char *out, size_t outlen)
{
    size_t i = 0;
    for (; in[i] && i + 1 < outlen && i < 64; i++) {
        char ch = in[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_';
        out[i] = ok && !(i == 0 && ch == '.') ? ch : '_';
    }
    out[i] = '\0';
}

/* Writes one report for recs[0..n) (one domain, one day); false on error. */
static bool one_report(record **recs, size_t n, const char *org, const char *contact,
                       const char *dir, mxv_policy *policy, json_t *dest_cache)
{
    const record *first = recs[0];
    policy_acc *pols = NULL;
    size_t npols = 0, cap = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        const record *r = recs[i];
        size_t k = 0;
        while (k < npols && !(pols[k].type == r->type && pols[k].pstring == r->pstring))
            k++;
        if (k == npols && npols == cap) {
            cap = cap ? 2 * cap : 4;
            policy_acc *grown = realloc(pols, cap * sizeof(*grown));
            if (!grown) {
                cli_error("tlsrpt: out of memory");
                ok = false;
                break;
            }
            pols = grown;
        }
        if (k == npols)
            pols[npols++] = (policy_acc){.type = r->type,
                                         .pstring = r->pstring,
                                         .mx = json_object(),
                                         .pattern = json_object(),
                                         .index = json_object()};
        ok = tlsrpt_add_to_policy(&pols[k], r);
    }
    json_t *policies = json_array();
    for (size_t k = 0; k < npols; k++) {
        json_array_append_new(policies, tlsrpt_policy_json(&pols[k], first->domain));
        tlsrpt_policy_free(&pols[k]);
    }
    free(pols);
    char day[32], start[48], end[48], uuid[37], orgpart[80], name[512];
    tlsrpt_day_text(first->day, day);
    snprintf(start, sizeof(start), "%sT00:00:00Z", day);
    snprintf(end, sizeof(end), "%sT23:59:59Z", day);
    if (ok && !tlsrpt_new_uuid(uuid)) {
        cli_error("tlsrpt: no random bytes for a report-id");
        ok = false;
    }
    if (!ok) {
        json_decref(policies);
        return false;
    }
    json_t *report = json_pack("{s:s,s:{s:s,s:s},s:s,s:s,s:o}", "organization-name", org,
                               "date-range", "start-datetime", start, "end-datetime", end,
                               "contact-info", contact, "report-id", uuid, "policies", policies);
    file_part(org, orgpart, sizeof(orgpart));
    int64_t begin = first->day * 86400;
    snprintf(name, sizeof(name), "%s!%s!%lld!%lld!%s.json.gz", orgpart, first->domain,
             (long long)begin, (long long)(begin + 86399), uuid);
    ok = report && tlsrpt_write_report(dir, name, report);
    json_decref(report);
    if (!ok)
        return false;
    json_t *cached = json_object_get(dest_cache, first->domain);
    if (!cached) {
        char where[1400];
        tlsrpt_destination(policy, first->domain, where, sizeof(where));
        cached = json_string_nocheck(where);
        json_object_set_new_nocheck(dest_cache, first->domain, cached);
    }
    printf("%s %s %s/%s: %s\n", first->domain, day, dir, name, json_string_value(cached));
    fflush(stdout);
    return true;
}

static void note_skipped(const logs *l)
{
    size_t skipped =
        l->not_json + l->messages + l->no_time + l->no_verdict + l->no_domain + l->bad_domain;
    if (!skipped)
        return;
    char note[512];
    size_t used = 0;
    struct {
        size_t n;
        const char *what;
    } parts[] = {{l->not_json, "not a JSON object"},
                 {l->messages, "a log message"},
                 {l->no_time, "without a valid time"},
                 {l->no_verdict, "without a verdict"},
                 {l->no_domain, "without a domain"},
                 {l->bad_domain, "with a domain that is not a DNS name"}};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        if (parts[i].n && used < sizeof(note))
            used += (size_t)snprintf(note + used, sizeof(note) - used, "%s%zu %s", used ? ", " : "",
                                     parts[i].n, parts[i].what);
    cli_error("tlsrpt: note: %zu of %zu log lines skipped: %s", skipped, l->lines, note);
}

int cmd_tlsrpt(int argc, char **argv)
{
    enum { OPT_LOG = 0x300, OPT_DAY, OPT_ORG, OPT_CONTACT, OPT_OUT };
    struct option shared[48], options[56];
    size_t nshared = cli_options(shared, 48), n = 0;
    /* The settings, less those that are facts about one connection and
     * `log` (here: the decision logs to read). */
    for (size_t i = 0; i < nshared; i++) {
        const mxv_setting *row = NULL;
        for (size_t k = 0; k < mxv_setting_count(); k++)
            if (strcmp(mxv_setting_rows()[k].option, shared[i].name) == 0)
                row = &mxv_setting_rows()[k];
        if ((row && (row->flags & MXV_SETTING_FACT)) || strcmp(shared[i].name, "log") == 0 ||
            strcmp(shared[i].name, "ip") == 0 || strcmp(shared[i].name, "json") == 0)
            continue;
        options[n++] = shared[i];
    }
    options[n++] = (struct option){"log", required_argument, NULL, OPT_LOG};
    options[n++] = (struct option){"day", required_argument, NULL, OPT_DAY};
    options[n++] = (struct option){"org", required_argument, NULL, OPT_ORG};
    options[n++] = (struct option){"contact", required_argument, NULL, OPT_CONTACT};
    options[n++] = (struct option){"out", required_argument, NULL, OPT_OUT};
    options[n++] = (struct option){"help", no_argument, NULL, 'h'};
    options[n] = (struct option){NULL, 0, NULL, 0};

    cli_common c = {.request = mxv_request_new()};
    const char *paths[MAX_LOGS], *org = NULL, *contact = NULL, *dir = ".";
    size_t npaths = 0;
    bool error = false, have_day = false, after_log = false;
    int64_t day = 0;
    int opt;
    optind = 1;
    /* "-": arguments that are not options come back in order (1), so that
     * --log takes the files that follow it. */
    while (!error && (opt = getopt_long(argc, argv, "-h", options, NULL)) != -1) {
        bool was_log = after_log;
        after_log = false;
        switch (opt) {
        case 'h': {
            static const char *const own[][2] = {
                {"--log FILE...", "JSON decision logs (log_format = json); repeatable"},
                {"--day D", "only the UTC day D (YYYY-MM-DD or today); default every day"},
                {"--org NAME", "the reporting organization (organization-name)"},
                {"--contact ADDR", "contact-info: whom to ask about the reports"},
                {"--out DIR", "where the .json.gz reports go (default .)"},
                {"--domain", NULL},
                {"--mx", NULL},
                {"--route", NULL},
                {"--reference", NULL},
                {NULL, NULL}};
            cli_help(usage, own, false);
            mxv_request_free(c.request);
            return EXIT_VERIFIED;
        }
        case 1: /* a file after --log FILE */
            if (!was_log) {
                cli_error("tlsrpt: unexpected argument '%s'", optarg);
                error = true;
                break;
            }
            __attribute__((fallthrough));
        case OPT_LOG:
            if (npaths == MAX_LOGS) {
                cli_error("tlsrpt: more than %d logs", MAX_LOGS);
                error = true;
            } else {
                paths[npaths++] = optarg;
                after_log = true;
            }
            break;
        case OPT_DAY:
            if (strcmp(optarg, "today") == 0) {
                day = (int64_t)(time(NULL) / 86400);
            } else if (strlen(optarg) != 10 || !tlsrpt_parse_date(optarg, &day)) {
                cli_error("--day: \"%s\" is not a date (YYYY-MM-DD) or today", optarg);
                error = true;
            }
            have_day = true;
            break;
        case OPT_ORG:
            org = optarg;
            break;
        case OPT_CONTACT:
            contact = optarg;
            break;
        case OPT_OUT:
            dir = optarg;
            break;
        default:
            if (!cli_take_option(&c, opt, optarg, &error))
                error = true;
        }
    }
    if (!error && optind < argc) { /* after "--" */
        cli_error("tlsrpt: unexpected argument '%s'", argv[optind]);
        error = true;
    }
    if (!error && !npaths) {
        cli_error("tlsrpt: --log FILE is required");
        error = true;
    } else if (!error && (!org || !*org)) {
        cli_error("tlsrpt: --org NAME is required");
        error = true;
    } else if (!error && (!contact || !*contact)) {
        cli_error("tlsrpt: --contact ADDR is required");
        error = true;
    }
    struct stat st;
    if (!error && stat(dir, &st) != 0) {
        cli_error("tlsrpt: --out %s: %s", dir, strerror(errno));
        error = true;
    } else if (!error && (!S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) != 0)) {
        cli_error("tlsrpt: --out %s: not a directory this user can write to", dir);
        error = true;
    }
    /* Every log opened before any is read: a typo is exit 2, at once. */
    FILE *files[MAX_LOGS] = {0};
    for (size_t i = 0; !error && i < npaths; i++) {
        files[i] = strcmp(paths[i], "-") == 0 ? stdin : fopen(paths[i], "r");
        if (!files[i] || fstat(fileno(files[i]), &st) != 0) {
            cli_error("tlsrpt: --log %s: %s", paths[i], strerror(errno));
            error = true;
        } else if (S_ISDIR(st.st_mode)) {
            cli_error("tlsrpt: --log %s: is a directory", paths[i]);
            error = true;
        }
    }
    mxv_policy *policy = error ? NULL : cli_load_policy(&c, NULL);
    mxv_request_free(c.request);
    logs l = {.pool = json_object(), .sessions = json_object()};
    int status = EXIT_USAGE;
    if (!policy) {
        if (error)
            fputs(usage, stderr);
        goto out;
    }
    for (size_t i = 0; i < npaths; i++)
        if (!tlsrpt_read_log(&l, paths[i], files[i]))
            goto out;
    note_skipped(&l);

    record **sel = calloc(l.nrecs + 1, sizeof(*sel));
    size_t nsel = 0;
    for (size_t i = 0; sel && i < l.nrecs; i++)
        if (!have_day || l.recs[i].day == day)
            sel[nsel++] = &l.recs[i];
    if (!sel) {
        cli_error("tlsrpt: out of memory");
        goto out;
    }
    if (nsel == 0) {
        char text[32];
        tlsrpt_day_text(day, text);
        if (have_day)
            cli_error("tlsrpt: no decision on %s in the logs", text);
        else
            cli_error("tlsrpt: no decision in the logs");
        free(sel);
        status = EXIT_NOT_VERIFIED;
        goto out;
    }
    qsort(sel, nsel, sizeof(*sel), by_day_domain);
    json_t *dest_cache = json_object();
    status = EXIT_VERIFIED;
    for (size_t i = 0; i < nsel;) {
        size_t k = i + 1;
        while (k < nsel && sel[k]->day == sel[i]->day && sel[k]->domain == sel[i]->domain)
            k++;
        if (!one_report(sel + i, k - i, org, contact, dir, policy, dest_cache)) {
            status = EXIT_USAGE;
            break;
        }
        i = k;
    }
    json_decref(dest_cache);
    free(sel);
out:
    for (size_t i = 0; i < npaths; i++)
        if (files[i] && files[i] != stdin)
            fclose(files[i]);
    free(l.recs);
    json_decref(l.sessions);
    json_decref(l.pool);
    mxv_policy_free(policy);
    return status;
}
