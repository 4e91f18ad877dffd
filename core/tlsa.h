/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tlsa: TLSA records (RFC 6698 section 2), as DNS answers carry them and
 * as `explain --tlsa` takes them (numbers or the RFC 7218 acronyms), and
 * which of them DANE for SMTP can use (RFC 7672 section 3.1.3). Matching a
 * certificate against them is OpenSSL's (SSL_dane_tlsa_add): this file
 * only reads and classifies records, and names them for log lines.
 *
 * A record that cannot be read at all is an error, never a record left
 * out: leaving out a usable record could turn "TLS mandatory, DANE
 * decides" into "no DANE". The caller treats it as a failed TLSA lookup
 * (a temporary failure for that host).
 */
#ifndef MXV_TLSA_H
#define MXV_TLSA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The command names records as log lines do: exported privately. */
#if defined(MXV_BUILDING)
#define MXV_TLSA_API __attribute__((visibility("default")))
#else
#define MXV_TLSA_API
#endif

/* Certificate usages (RFC 6698 section 2.1.1, acronyms RFC 7218). */
enum {
    MXV_TLSA_PKIX_TA = 0,
    MXV_TLSA_PKIX_EE = 1,
    MXV_TLSA_DANE_TA = 2,
    MXV_TLSA_DANE_EE = 3,
};
/* Selectors (2.1.2) and matching types (2.1.3). */
enum { MXV_TLSA_CERT = 0, MXV_TLSA_SPKI = 1 };
enum { MXV_TLSA_FULL = 0, MXV_TLSA_SHA2_256 = 1, MXV_TLSA_SHA2_512 = 2 };

/* Association data longer than this (octets) is refused as unreadable: a
 * full certificate or key of ordinary size fits. */
#define MXV_TLSA_DATA_MAX 4096

typedef struct {
    uint8_t usage, selector, mtype;
    size_t len; /* octets of data */
    unsigned char data[MXV_TLSA_DATA_MAX];
} mxv_tlsa;

/* From a TLSA record's RDATA (`len` octets: usage, selector, matching
 * type, association data). false, with `why`: fewer than 4 octets, or
 * more data than MXV_TLSA_DATA_MAX. */
bool mxv_tlsa_from_rdata(const unsigned char *rdata, size_t len, mxv_tlsa *out, char *why,
                         size_t whylen);

/* From the presentation form "USAGE SELECTOR MTYPE HEX...": each of the
 * first three a number (0-255) or its RFC 7218 acronym (DANE-EE, SPKI,
 * SHA2-256, ... any case); the hexadecimal data may be split by blanks,
 * as dig prints it. false, with `why` naming the part that is wrong. */
bool mxv_tlsa_from_text(const char *text, mxv_tlsa *out, char *why, size_t whylen);

/*
 * Can DANE for SMTP use this record (RFC 7672 section 3.1.3)? DANE-TA(2)
 * or DANE-EE(3), selector Cert(0) or SPKI(1), matching type Full(0),
 * SHA2-256(1) with 32 octets or SHA2-512(2) with 64, data not empty. NULL:
 * usable; else why not ("PKIX-EE(1) is not used for SMTP", ...), a static
 * string.
 */
const char *mxv_tlsa_unusable(const mxv_tlsa *t);

/* "DANE-EE(3)", "PKIX-TA(0)", "usage 7": the usage as log lines name it
 * (a static string, or `buf` for unknown numbers). */
MXV_TLSA_API const char *mxv_tlsa_usage_name(uint8_t usage, char buf[16]);

/* The record as "3 1 1 0123abcd..." in `buf` (NUL-terminated, cut with
 * "..." when longer than `len`), for tlsa= in log lines and JSON; returns
 * buf. */
char *mxv_tlsa_format(const mxv_tlsa *t, char *buf, size_t len);

#endif
