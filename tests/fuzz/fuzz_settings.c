/* Fuzz: every setting's value parser (env variables and options reach
 * these with untrusted text). Input: one key-selector byte, then a value. */
#include "names.h"
#include "settings.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = {"mode",      "domain",     "mx",         "route",
                                       "reference", "ports",      "dnssec",     "report_only",
                                       "log",       "log_format", "dns_timeout"};
    if (size < 1)
        return 0;
    char *value = malloc(size);
    if (!value)
        return 0;
    memcpy(value, data + 1, size - 1);
    value[size - 1] = '\0';
    mxv_settings s = {0};
    char err[512];
    mxv_settings_apply(&s, keys[data[0] % (sizeof(keys) / sizeof(keys[0]))], value, err,
                       sizeof(err));
    mxv_settings_clear(&s);
    char host[MXV_NAME_MAX + 1];
    bool is_ip;
    mxv_parse_route(value, host, sizeof(host), &is_ip, err, sizeof(err));
    free(value);
    return 0;
}
