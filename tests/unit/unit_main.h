/* SPDX-License-Identifier: Apache-2.0 */
/* unit_main: the one CUnit runner every unit test program uses. A program
 * fails (exit 1) when any assertion or test fails. */
#ifndef MXV_UNIT_MAIN_H
#define MXV_UNIT_MAIN_H

#include <CUnit/Basic.h>

typedef struct {
    const char *name;
    CU_TestFunc fn;
} unit_test;

static inline int unit_run(const char *suite_name, CU_InitializeFunc init, CU_CleanupFunc clean,
                           const unit_test *tests)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite suite = CU_add_suite(suite_name, init, clean);
    for (const unit_test *t = tests; t->name; t++)
        CU_add_test(suite, t->name, t->fn);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed() +
                      CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}

#endif
