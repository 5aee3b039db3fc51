/* bench_util.h — what every kernel benchmark in this folder needs: a monotonic clock and 64-byte aligned
 * buffers (a benchmark may allocate; kernels never do). `who` names the benchmark in the error line. */
#ifndef SAM2R_BENCH_UTIL_H
#define SAM2R_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline void *bench_alloc64(const char *who, size_t bytes) {
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0) {
        fprintf(stderr, "error: %s: out of memory\n", who);
        exit(2);
    }
    return p;
}

#endif
