# SPDX-License-Identifier: Apache-2.0
# openssl_cnf.sh: openssl.cnf files for the tests and the bench (sourced).
#
# openssl_cnf FILE [MODULE [KEY=VALUE]...]: the default provider active
# and, given MODULE, the mxverify provider with those keys in its section.
openssl_cnf() {
    local file=$1 module=${2:-}
    shift $(($# < 2 ? $# : 2))
    {
        printf 'openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n'
        printf '[provider_sect]\ndefault = default_sect\n'
        [ -z "$module" ] || printf 'mxverify = mxverify_sect\n'
        printf '[default_sect]\nactivate = 1\n'
        if [ -n "$module" ]; then
            printf '[mxverify_sect]\nmodule = %s\nactivate = 1\n' "$module"
            local kv
            for kv in "$@"; do printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"; done
        fi
    } > "$file"
}
