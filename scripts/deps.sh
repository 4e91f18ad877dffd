#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# deps.sh [build|demo|test]: installs the Debian 12 packages mxverify needs.
# Only calls apt-get when something is missing, so a second run is instant.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libssl-dev openssl libunbound-dev libidn2-dev
            libcurl4-openssl-dev libjansson-dev zlib1g-dev libgnutls28-dev dns-root-data ca-certificates)
test_pkgs=(libcunit1-dev unbound ldnsutils clang libclang-rt-14-dev valgrind clang-format swaks libnet-ssleay-perl curl
           python3 postfix dpkg-dev debhelper lintian libgnutls28-dev)

demo_pkgs=(python3 curl)
want=("${build_pkgs[@]}")
[[ "${1:-build}" == test ]] && want+=("${test_pkgs[@]}")
[[ "${1:-build}" == demo ]] && want+=("${demo_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "deps.sh: missing packages: ${missing[*]} (run as root, or install them)" >&2
        exit 1
    fi
    echo "deps.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Postfix is for the integration test only, which runs its own instance:
    # "No configuration" leaves /etc/postfix/main.cf absent, so the package
    # starts no daemon and the machine's mail setup stays as it was.
    if [[ " ${missing[*]} " == *" postfix "* ]]; then
        echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
