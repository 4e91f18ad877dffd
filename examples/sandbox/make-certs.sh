#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make-certs.sh DIR: a sandbox CA and the certificate shapes of docs/policy.md
# section 5, made with the openssl command. Add a shape: one more `leaf`
# line (file name, subject CN, SAN list or "" for none).
set -euo pipefail
dir=${1:?usage: make-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

cat > openssl.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = mxverify sandbox CA
[ca_ext]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf_ext]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = ${ENV::SAN}
[leaf_nosan_ext]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
CNF

# openssl is chatty on success: show its output only when it fails.
quiet() { "$@" 2>openssl.log || { cat openssl.log >&2; exit 1; }; }

if [[ ! -s ca.pem ]]; then
    SAN=DNS:unused quiet openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
        -out ca.pem -days 3650 -config openssl.cnf -extensions ca_ext
fi

leaf() { # leaf NAME CN SAN
    local name=$1 cn=$2 san=$3 ext=leaf_ext
    [[ -n "$san" ]] || ext=leaf_nosan_ext
    quiet openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$name.key" \
        -subj "/CN=$cn" -out "$name.csr"
    SAN=${san:-DNS:unused} quiet openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key \
        -CAcreateserial -days 825 -extfile openssl.cnf -extensions "$ext" -out "$name.pem"
    rm -f "$name.csr" openssl.log
    echo "$dir/$name.pem"
}

leaf emailhosted '*.emailhosted.not' 'DNS:*.emailhosted.not, DNS:emailhosted.not'
leaf san-only 'Hosting Operator' 'DNS:*.emailhosted.not'
leaf cn-wildcard '*.emailhosted.not' 'DNS:unrelated.invalid'
leaf example-com 'mail.example.com' 'DNS:example.com, DNS:mail.example.com'
