# SPDX-License-Identifier: Apache-2.0
# The public verify-callback API in real in-memory TLS handshakes.
mxv_unit_test(test_ssl_api test_ssl_api.c)
