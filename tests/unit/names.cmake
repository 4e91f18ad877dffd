# SPDX-License-Identifier: Apache-2.0
mxv_unit_test(test_names test_names.c)
mxv_unit_test(test_presented test_presented.c)
mxv_unit_test(test_names_differential test_names_differential.c)
