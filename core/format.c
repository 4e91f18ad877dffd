/* SPDX-License-Identifier: Apache-2.0 */
/*
 * format: a decision as the text trace of `explain`, as the JSON object of
 * interfaces.md, or as one log line. Certificate names are untrusted bytes:
 * every one goes through mxv_buf_printable or mxv_buf_json_string.
 */
#include "buf.h"
#include "decision.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *verdict_word(const mxv_decision *d)
{
    return d->pass ? "pass" : "fail";
}

static const char *action_word(const mxv_decision *d)
{
    return d->abort ? "abort" : "proceed";
}

/* policy= (interfaces.md): DANE when it decided, else an enforced
 * MTA-STS policy, else the ESA setting. */
static const char *policy_word(const mxv_decision *d)
{
    if (d->dane_outcome == MXV_DANE_DECIDED || d->dane_outcome == MXV_DANE_FAILURE)
        return "dane";
    return d->sts_outcome == MXV_STS_ENFORCED ? "sts" : "esa";
}

static bool sts_applied(const mxv_decision *d)
{
    return d->sts_outcome == MXV_STS_ENFORCED;
}

/* sts= (interfaces.md): "MODE:PATTERN" ("enforce:*.example.net"), the
 * mode alone when no pattern matched, "-" when no policy (NULL: MTA-STS
 * was not asked). */
static const char *sts_words(const mxv_decision *d, char *buf, size_t len)
{
    if (d->sts_outcome == MXV_STS_NOT_ASKED)
        return NULL;
    if (!d->sts_policy)
        return "-";
    snprintf(buf, len, "%s%s%s", mxv_sts_mode_name(d->sts_mode), d->sts_pattern ? ":" : "",
             d->sts_pattern ? d->sts_pattern : "");
    return buf;
}

/* The policy string of the policy that applied (RFC 8460 policy-string):
 * DANE's TLSA records, else the MTA-STS policy's lines. */
static const char *policy_string(const mxv_decision *d)
{
    if (d->tlsa_rrset && *d->tlsa_rrset)
        return d->tlsa_rrset;
    return d->sts_policy ? d->sts_string : NULL;
}

static bool dane_applied(const mxv_decision *d)
{
    return policy_word(d)[0] == 'd';
}

/* tlsa=: "3 1 1", or NULL when no record matched. */
static const char *tlsa_words(const mxv_decision *d, char buf[16])
{
    if (!d->tlsa_matched)
        return NULL;
    snprintf(buf, 16, "%u %u %u", d->tlsa_usage, d->tlsa_selector, d->tlsa_mtype);
    return buf;
}

static bool id_considered(const mxv_decision *d, const mxv_presented_id *id)
{
    if (d->algorithm != MXV_ALG_HOSTED)
        return true;
    return d->presented.n_dns ? id->type == MXV_ID_DNS : id->type == MXV_ID_CN;
}

static void text_presented(mxv_buf *b, const mxv_decision *d)
{
    mxv_buf_puts(b, "Presented identifiers (leaf certificate):\n");
    if (d->presented.n == 0)
        mxv_buf_puts(b, "  (none: no subjectAltName dNSName and no subject CN)\n");
    for (size_t i = 0; i < d->presented.n; i++) {
        const mxv_presented_id *id = &d->presented.ids[i];
        mxv_buf_printf(b, "  %-4s ", mxv_id_type_name(id->type));
        mxv_buf_printable(b, id->name, id->len);
        if (!id->valid)
            mxv_buf_puts(b, "   (not a DNS name: never matches)");
        else if (!id_considered(d, id))
            mxv_buf_puts(b, "   (ignored: the certificate has DNS-IDs, RFC 6125 6.4.4)");
        if (d->matched && d->match_id == i)
            mxv_buf_puts(b, "   <= match");
        mxv_buf_puts(b, "\n");
    }
}

static const char *ref_outcome(const mxv_decision *d, size_t i)
{
    const mxv_reference *r = &d->refs[i];
    if (d->matched && d->match_ref == i)
        return "MATCH";
    if (!r->eligible)
        return "not used";
    return r->used ? "no match" : "not reached";
}

static void text_references(mxv_buf *b, const mxv_decision *d)
{
    mxv_buf_puts(b, "Reference identifiers, in the order tried:\n");
    if (d->nrefs == 0)
        mxv_buf_puts(b, "  (none)\n");
    for (size_t i = 0; i < d->nrefs; i++) {
        const mxv_reference *r = &d->refs[i];
        const char *sec = mxv_dnssec_name(r->dnssec);
        mxv_buf_printf(b, "  %-10s %-34s %-9s %-11s", mxv_source_name(r->source), r->name,
                       sec ? sec : "-", ref_outcome(d, i));
        if (r->note)
            mxv_buf_printf(b, " %s", r->note);
        mxv_buf_puts(b, "\n");
    }
}

static void text_match(mxv_buf *b, const mxv_decision *d)
{
    if (!d->matched) {
        mxv_buf_puts(b, "Match:      none\n");
        return;
    }
    const mxv_presented_id *id = &d->presented.ids[d->match_id];
    const mxv_reference *r = &d->refs[d->match_ref];
    mxv_buf_printf(b, "Match:      %s ", mxv_id_type_name(id->type));
    mxv_buf_printable(b, id->name, id->len);
    mxv_buf_printf(b, " ~= %s %s\n", mxv_source_name(r->source), r->name);
}

/* DANE's part of the trace: what was found and, when it decided, how. */
static void text_dane(mxv_buf *b, const mxv_decision *d)
{
    static const char *const found[] = {
        [MXV_DANE_NO_DANE] = "no DANE for this host: the next policy decides",
        [MXV_DANE_DECIDED] = "usable TLSA records: DANE decides, not the ESA algorithm",
        [MXV_DANE_ENCRYPT] = "only unusable TLSA records: TLS mandatory, the ESA setting decides",
        [MXV_DANE_FAILURE] = "a failure: no evidence to decide on, or none where it is required",
    };
    if (d->dane_outcome == MXV_DANE_NOT_ASKED)
        return;
    mxv_buf_printf(b, "DANE:       %s; dane = %s", found[d->dane_outcome],
                   d->dane == MXV_DANE_REQUIRE ? "require" : "on");
    if (d->dane_base)
        mxv_buf_printf(b, ", TLSA base domain %s", d->dane_base);
    mxv_buf_puts(b, "\n");
    char usage[16];
    if (d->tlsa_matched)
        mxv_buf_printf(b, "TLSA:       %s %u %u matched certificate %d (0: the leaf)%s\n",
                       mxv_tlsa_usage_name(d->tlsa_usage, usage), d->tlsa_selector, d->tlsa_mtype,
                       d->tlsa_depth,
                       d->tlsa_usage == MXV_TLSA_DANE_EE
                           ? "; names, dates and issuer are not checked (RFC 7672 section 3.1.1)"
                           : "");
    else if (dane_applied(d))
        mxv_buf_puts(b, "TLSA:       no record matched\n");
    if (dane_applied(d) && !d->pass && d->why) {
        mxv_buf_puts(b, "Why:        ");
        mxv_buf_printable(b, d->why, strlen(d->why));
        mxv_buf_puts(b, "\n");
    }
    if (d->dane_outcome == MXV_DANE_DECIDED && d->chain_ok)
        mxv_buf_puts(b, "Chain:      ok (authenticated by DANE)\n");
    else if (d->dane_outcome == MXV_DANE_DECIDED)
        mxv_buf_printf(b, "Chain:      FAILED: %s\n",
                       d->chain_error_text ? d->chain_error_text : "not checked");
    if (d->nrefs && dane_applied(d))
        text_references(b, d);
    mxv_buf_puts(b, "\n");
}

/* MTA-STS's part of the trace. */
static void text_sts(mxv_buf *b, const mxv_decision *d)
{
    static const char *const found[] = {
        [MXV_STS_NO_POLICY] = "no policy in force: the ESA setting decides",
        [MXV_STS_ENFORCED] = "policy enforced: it decides, not the ESA algorithm",
        [MXV_STS_EVALUATED] = "policy evaluated and logged, not enforced: the ESA setting decides",
    };
    if (d->sts_outcome == MXV_STS_NOT_ASKED)
        return;
    mxv_buf_printf(b, "MTA-STS:    %s; mta_sts = %s\n", found[d->sts_outcome],
                   d->mta_sts == MXV_STS_REPORT ? "report" : "on");
    if (d->sts_policy)
        mxv_buf_printf(b, "Policy:     %s (id %s)\n", d->sts_string ? d->sts_string : "?",
                       d->sts_id);
    if (d->sts_pattern)
        mxv_buf_printf(b, "MX pattern: %s matches %s\n", d->sts_pattern, d->host ? d->host : "?");
    if (d->sts_outcome == MXV_STS_EVALUATED || (!d->sts_policy && d->sts_result))
        mxv_buf_printf(b, "Result:     %s\n", d->sts_result ? d->sts_result : "pass");
    if (sts_applied(d) && !d->pass && d->why) {
        mxv_buf_puts(b, "Why:        ");
        mxv_buf_printable(b, d->why, strlen(d->why));
        mxv_buf_puts(b, "\n");
    }
    mxv_buf_puts(b, "\n");
}

static char *format_text(const mxv_decision *d)
{
    mxv_buf b = {0};
    mxv_buf_printf(&b, "Destination: %s", d->domain ? d->domain : "(no recipient domain)");
    if (d->ip[0])
        mxv_buf_printf(&b, ", connected to %s", d->ip);
    if (d->destination)
        mxv_buf_printf(&b, " (settings of destination %s)", d->destination);
    const char *alg = mxv_algorithm_name(d->algorithm);
    mxv_buf_printf(&b, "\nMode:        %s%s (algorithm: %s)\n\n", mxv_mode_name(d->mode),
                   d->report_only ? ", report only" : "", alg ? alg : "none");
    text_presented(&b, d);
    mxv_buf_puts(&b, "\n");
    text_dane(&b, d);
    text_sts(&b, d);
    if (d->algorithm != MXV_ALG_NONE && !dane_applied(d) && !sts_applied(d)) {
        text_references(&b, d);
        mxv_buf_puts(&b, "\n");
    }
    for (size_t i = 0; i < d->notes.n; i++)
        mxv_buf_printf(&b, "Note: %s\n", d->notes.items[i]);
    if (d->notes.n)
        mxv_buf_puts(&b, "\n");
    if ((d->algorithm != MXV_ALG_NONE && !sts_applied(d)) || (dane_applied(d) && d->nrefs))
        text_match(&b, d);
    if (dane_applied(d))
        ; /* said by text_dane() */
    else if (d->chain_ok)
        mxv_buf_puts(&b, "Chain:      ok (trusted, in date)\n");
    else
        mxv_buf_printf(&b, "Chain:      FAILED: %s\n",
                       d->chain_error_text ? d->chain_error_text : "not checked");
    if (dane_applied(d) && d->pass)
        mxv_buf_puts(&b, "Verdict:    pass (DANE)\n");
    else if (sts_applied(d) && d->pass)
        mxv_buf_puts(&b, "Verdict:    pass (MTA-STS)\n");
    else if (d->algorithm == MXV_ALG_NONE && !dane_applied(d) && !sts_applied(d))
        mxv_buf_printf(&b, "Verdict:    pass (mode %s does not verify the certificate)\n",
                       mxv_mode_name(d->mode));
    else if (d->pass)
        mxv_buf_puts(&b, "Verdict:    pass (verified)\n");
    else
        mxv_buf_printf(&b, "Verdict:    fail (%s%s)\n", d->reason,
                       d->temporary ? ", temporary: DNS failure" : "");
    mxv_buf_printf(&b, "Action:     %s%s\n", action_word(d),
                   d->abort   ? " (an enforcing client ends the handshake; no mail is sent)"
                   : !d->pass ? (d->report_only ? " (report only: logged, not enforced)"
                                                : " (mail proceeds encrypted; logged)")
                              : "");
    return mxv_buf_finish(&b);
}

static void json_key(mxv_buf *b, const char *key, bool first)
{
    mxv_buf_printf(b, "%s\"%s\":", first ? "" : ",", key);
}

static void json_str_or_null(mxv_buf *b, const char *s)
{
    if (s)
        mxv_buf_json_string(b, s, strlen(s));
    else
        mxv_buf_puts(b, "null");
}

static void json_match(mxv_buf *b, const mxv_decision *d)
{
    if (!d->matched) {
        mxv_buf_puts(b, "null");
        return;
    }
    const mxv_presented_id *id = &d->presented.ids[d->match_id];
    const mxv_reference *r = &d->refs[d->match_ref];
    mxv_buf_puts(b, "{\"presented\":");
    mxv_buf_json_string(b, id->name, id->len);
    mxv_buf_printf(b, ",\"presented_type\":\"%s\",\"reference\":", mxv_id_type_name(id->type));
    json_str_or_null(b, r->name);
    mxv_buf_printf(b, ",\"source\":\"%s\"}", mxv_source_name(r->source));
}

/* One line of why for a log reader, or NULL for a pass whose fields say
 * it all. Every failure says why: in its own words when the decision has
 * them, else from its chain and match (buf holds that text); a decision
 * made without a recipient domain says so. */
static const char *decision_why(const mxv_decision *d, char *buf, size_t len)
{
    static const char no_domain[] = "recipient domain unknown (no setting, no MX lookup seen)";
    bool verifying = mxv_mode_algorithm(d->mode) != MXV_ALG_NONE;
    const char *own = d->why;
    if (!own && verifying && d->chain_checked && !d->matched && d->nrefs == 0)
        own = d->domain ? "no reference identifier" : NULL;
    if (!own && verifying && !d->pass) {
        if (!d->chain_ok)
            snprintf(buf, len, "the certificate chain did not verify: %s",
                     d->chain_error_text ? d->chain_error_text : "not checked");
        else if (d->temporary)
            snprintf(buf, len, "no match, and DNS evidence is missing (temporary): %s",
                     d->dns_why ? d->dns_why : "a lookup failed");
        else if (d->nrefs == 0)
            snprintf(buf, len, "%s: nothing to compare the certificate with", no_domain);
        else {
            size_t compared = 0; /* what the algorithm compares (hosted: no CN beside DNS-IDs) */
            for (size_t i = 0; i < d->presented.n; i++)
                compared += d->presented.ids[i].valid && id_considered(d, &d->presented.ids[i]);
            snprintf(buf, len,
                     "none of the certificate's %zu compared presented identifier%s matches any "
                     "of the %zu reference identifier%s",
                     compared, compared == 1 ? "" : "s", d->nrefs, d->nrefs == 1 ? "" : "s");
        }
        own = buf;
    }
    /* Without a recipient domain there is no MTA-STS policy to ask for:
     * said, so that it is not read as "the domain has none". */
    bool sts_unasked = d->mta_sts != MXV_STS_OFF && !d->domain;
    if ((!verifying && !sts_unasked) || d->domain || (own && strstr(own, no_domain)))
        return own;
    /* No recipient domain: said beside whatever else is said. */
    char note[640];
    snprintf(note, sizeof(note), "%.400s%s%s%s", own ? own : "", own ? "; " : "",
             d->pass && verifying ? "recipient domain unknown (no setting, no MX lookup seen): "
                                    "decided on the other reference identifiers"
                                  : no_domain,
             sts_unasked ? "; MTA-STS not applied (its policy is the recipient domain's)" : "");
    snprintf(buf, len, "%s", note);
    return buf;
}

/* "sts": {"mode", "pattern", "id", "result"} or null; "sts_result" when
 * an evaluation was not enforced; "sts_id". */
static void json_sts(mxv_buf *b, const mxv_decision *d)
{
    json_key(b, "sts", false);
    if (!d->sts_policy && !d->sts_result) {
        mxv_buf_puts(b, "null");
    } else {
        mxv_buf_puts(b, "{\"mode\":");
        json_str_or_null(b, d->sts_policy ? mxv_sts_mode_name(d->sts_mode) : NULL);
        mxv_buf_puts(b, ",\"pattern\":");
        json_str_or_null(b, d->sts_pattern);
        mxv_buf_puts(b, ",\"id\":");
        json_str_or_null(b, d->sts_id[0] ? d->sts_id : NULL);
        mxv_buf_puts(b, ",\"result\":");
        json_str_or_null(b, d->sts_result);
        mxv_buf_puts(b, "}");
    }
    json_key(b, "sts_id", false);
    json_str_or_null(b, d->sts_id[0] ? d->sts_id : NULL);
    if (d->sts_result && !sts_applied(d)) {
        json_key(b, "sts_result", false);
        json_str_or_null(b, d->sts_result);
    }
}

/* What a TLS report needs of a logged decision (RFC 8460): when, from
 * which address, and which session it belongs to. */
static void json_report_fields(mxv_buf *b, const mxv_decision *d)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    mxv_buf_printf(b, "\"time\":\"%s\"", stamp);
    json_key(b, "local_ip", false);
    json_str_or_null(b, d->local_ip[0] ? d->local_ip : NULL);
    json_key(b, "session", false);
    json_str_or_null(b, d->session[0] ? d->session : NULL);
}

static char *format_json(const mxv_decision *d, bool compact_log)
{
    mxv_buf b = {0};
    mxv_buf_puts(&b, "{");
    if (compact_log) {
        json_report_fields(&b, d);
        mxv_buf_puts(&b, ",");
    }
    json_key(&b, "verdict", true);
    mxv_buf_printf(&b, "\"%s\"", verdict_word(d));
    json_key(&b, "action", false);
    mxv_buf_printf(&b, "\"%s\"", action_word(d));
    json_key(&b, "mode", false);
    mxv_buf_printf(&b, "\"%s\"", mxv_mode_name(d->mode));
    json_key(&b, "algorithm", false);
    json_str_or_null(&b, mxv_algorithm_name(d->algorithm));
    json_key(&b, "report_only", false);
    mxv_buf_puts(&b, d->report_only ? "true" : "false");
    json_key(&b, "domain", false);
    json_str_or_null(&b, d->domain);
    json_key(&b, "ip", false);
    json_str_or_null(&b, d->ip[0] ? d->ip : NULL);
    json_key(&b, "mx", false);
    json_str_or_null(&b, d->host);
    json_key(&b, "chain", false);
    mxv_buf_printf(&b, "{\"ok\":%s,\"error\":", d->chain_ok ? "true" : "false");
    json_str_or_null(&b, d->chain_ok ? NULL : d->chain_error_text);
    mxv_buf_puts(&b, "}");
    json_key(&b, "match", false);
    json_match(&b, d);
    json_key(&b, "reason", false);
    json_str_or_null(&b, d->reason);
    json_key(&b, "policy", false);
    mxv_buf_printf(&b, "\"%s\"", policy_word(d));
    char tlsa[16];
    if (dane_applied(d)) {
        json_key(&b, "tlsa", false);
        json_str_or_null(&b, tlsa_words(d, tlsa));
    }
    if (policy_string(d)) {
        json_key(&b, "policy_string", false);
        json_str_or_null(&b, policy_string(d));
    }
    if (d->sts_outcome != MXV_STS_NOT_ASKED)
        json_sts(&b, d);
    json_key(&b, "temporary", false);
    mxv_buf_puts(&b, d->temporary ? "true" : "false");
    if (d->tls) {
        json_key(&b, "tls", false);
        json_str_or_null(&b, d->tls);
    }
    if (d->resumed) {
        json_key(&b, "resumed", false);
        mxv_buf_puts(&b, "true");
    }
    char whybuf[700];
    const char *why = decision_why(d, whybuf, sizeof(whybuf));
    if (why) {
        json_key(&b, "why", false);
        json_str_or_null(&b, why);
    }
    if (!compact_log) {
        json_key(&b, "presented", false);
        mxv_buf_puts(&b, "[");
        for (size_t i = 0; i < d->presented.n; i++) {
            const mxv_presented_id *id = &d->presented.ids[i];
            mxv_buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
            mxv_buf_json_string(&b, id->name, id->len);
            mxv_buf_printf(&b, ",\"type\":\"%s\",\"valid\":%s,\"compared\":%s}",
                           mxv_id_type_name(id->type), id->valid ? "true" : "false",
                           id->valid && id_considered(d, id) ? "true" : "false");
        }
        mxv_buf_puts(&b, "]");
        json_key(&b, "references", false);
        mxv_buf_puts(&b, "[");
        for (size_t i = 0; i < d->nrefs; i++) {
            const mxv_reference *r = &d->refs[i];
            mxv_buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
            json_str_or_null(&b, r->name);
            mxv_buf_printf(&b, ",\"source\":\"%s\",\"dnssec\":", mxv_source_name(r->source));
            json_str_or_null(&b, mxv_dnssec_name(r->dnssec));
            mxv_buf_printf(&b, ",\"used\":%s,\"note\":", r->used ? "true" : "false");
            json_str_or_null(&b, r->note);
            mxv_buf_puts(&b, "}");
        }
        mxv_buf_puts(&b, "]");
        json_key(&b, "notes", false);
        mxv_buf_puts(&b, "[");
        for (size_t i = 0; i < d->notes.n; i++) {
            if (i)
                mxv_buf_puts(&b, ",");
            json_str_or_null(&b, d->notes.items[i]);
        }
        mxv_buf_puts(&b, "]");
    }
    mxv_buf_puts(&b, "}");
    return mxv_buf_finish(&b);
}

/* key=value, quoting values that hold blanks or quotes. */
static void log_field(mxv_buf *b, const char *key, const char *value)
{
    mxv_buf_printf(b, " %s=", key);
    if (!value || !*value) {
        mxv_buf_puts(b, "-");
    } else if (strpbrk(value, " \t\"=")) {
        mxv_buf_json_string(b, value, strlen(value));
    } else {
        mxv_buf_printable(b, value, strlen(value));
    }
}

static char *format_log(const mxv_decision *d)
{
    mxv_buf b = {0};
    mxv_buf_printf(&b, "verdict=%s", verdict_word(d));
    log_field(&b, "mode", mxv_mode_name(d->mode));
    log_field(&b, "domain", d->domain);
    log_field(&b, "ip", d->ip);
    if (d->matched) {
        const mxv_presented_id *id = &d->presented.ids[d->match_id];
        const mxv_reference *r = &d->refs[d->match_ref];
        mxv_buf_printf(&b, " match=%s:", mxv_id_type_name(id->type));
        mxv_buf_printable(&b, id->name, id->len);
        mxv_buf_printf(&b, "~%s:%s", mxv_source_name(r->source), r->name);
    } else {
        mxv_buf_puts(&b, " match=none");
    }
    log_field(&b, "chain", d->chain_ok ? "ok" : d->chain_error_text);
    log_field(&b, "action", action_word(d));
    log_field(&b, "reason", d->reason);
    log_field(&b, "policy", policy_word(d));
    char tlsa[16];
    if (dane_applied(d)) {
        const char *words = tlsa_words(d, tlsa);
        log_field(&b, "tlsa", words ? words : "none");
    }
    if (d->host)
        log_field(&b, "mx", d->host);
    char sts[300];
    const char *sts_word = sts_words(d, sts, sizeof(sts));
    if (sts_word)
        log_field(&b, "sts", sts_word);
    if (d->sts_result && !sts_applied(d))
        log_field(&b, "sts_result", d->sts_result);
    char whybuf[700];
    const char *why = decision_why(d, whybuf, sizeof(whybuf));
    if (why)
        log_field(&b, "why", why);
    if (d->temporary)
        mxv_buf_puts(&b, " temporary=1");
    if (d->report_only)
        mxv_buf_puts(&b, " report_only=1");
    if (d->resumed)
        mxv_buf_puts(&b, " resumed=1");
    if (d->tls)
        log_field(&b, "tls", d->tls);
    return mxv_buf_finish(&b);
}

char *mxv_decision_format(const mxv_decision *d, mxv_format format)
{
    if (!d)
        return NULL;
    switch (format) {
    case MXV_FORMAT_TEXT:
        return format_text(d);
    case MXV_FORMAT_JSON:
        return format_json(d, false);
    case MXV_FORMAT_LOG:
        return format_log(d);
    case MXV_FORMAT_LOG_JSON:
        return format_json(d, true);
    }
    return NULL;
}
