/* SPDX-License-Identifier: Apache-2.0 */
/* thread_count: the threads of the calling process, from /proc/self/task
 * (tests that show a process started no resolver thread). */
#ifndef MXV_TEST_THREAD_COUNT_H
#define MXV_TEST_THREAD_COUNT_H

#include <dirent.h>

static inline int thread_count(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

#endif
