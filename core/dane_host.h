/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dane_host: which MX host DANE asks about (RFC 7672 section 2.2), and
 * whether the host a program reached may be taken for one of the
 * recipient domain's: the program's own DNS answers are rarely validated,
 * and a forged MX answer is the attack DANE exists to stop (section
 * 2.2.1 trusts MX hosts from a validated RRset only).
 */
#ifndef MXV_DANE_HOST_H
#define MXV_DANE_HOST_H

#include "dane_lookup.h"
#include "decision.h"

#include <stdbool.h>

/* The recipient domain's MX RRset, asked with DANE's evidence. */
typedef struct {
    const char *host, *domain; /* the MX host and the recipient domain */
    bool answered, failed, secure, lists_host;
    bool aliased; /* the domain is an alias (its MX records are its target's) */
    char detail[160];
} mxv_mx_rrset;

/* The mxv_dns_cb of the MX lookup: arg is the mxv_mx_rrset. */
void mxv_mx_rrset_answer(void *arg, const mxv_dns_answer *a);
/* Is the recipient domain's own name a DANE-TA reference identifier (its
 * MX RRset secure and naming the host; not an alias, whose secure CNAME
 * expansion is not implemented: fewer names, never more)? */
bool mxv_mx_rrset_names_domain(const mxv_mx_rrset *mx);

/*
 * The host DANE asks about: `host` (what the connection says), else the
 * one mx host, else the one route host name, the request or the settings
 * give; written as DNS names it (A-labels, lower case, without the root's
 * dot) into `out` (MXV_NAME_MAX + 1 octets), and also d->host (mx= in log
 * lines). NULL: none known, or not a fully qualified name (a resolver
 * completes a single label from its search list): *raw is then the name
 * given, or NULL.
 */
const char *mxv_dane_host(mxv_decision *d, mxv_policy *policy, const mxv_request *request,
                          const char *host, char *out, const char **raw);

/*
 * After the lookups, fails `ev` (with why) when the host cannot be trusted
 * to be the one DANE's evidence is about: DNS gives it no address (the
 * program's resolver completed the name, or a hosts file gave it); or,
 * unless the settings or a library caller named it (mx, route), the
 * recipient domain's MX lookup failed, or its DNSSEC-secure MX RRset does
 * not name it.
 */
void mxv_dane_host_check(const mxv_decision *d, mxv_policy *policy, const mxv_request *request,
                         const char *host, const mxv_mx_rrset *mx, mxv_dane_evidence *ev);

#endif
