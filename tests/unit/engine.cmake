# SPDX-License-Identifier: Apache-2.0
mxv_unit_test(test_decide test_decide.c)
mxv_unit_test(test_config test_config.c)
mxv_unit_test(test_recent_failures test_recent_failures.c)
