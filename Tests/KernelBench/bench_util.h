/* bench_util.h — what every kernel benchmark in this folder needs: a monotonic clock, 64-byte aligned
 * buffers (a benchmark may allocate; kernels never do) and the best-of-runs timing loop. `who` names the benchmark in the error line. */
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

/* The best time of run(ctx) in seconds, the least disturbed on a shared machine: one warm-up call, then at
 * least `min_runs` timed runs and `min_seconds` of them. */
static inline double bench_best_seconds(void (*run)(void *ctx), void *ctx, int min_runs, double min_seconds) {
    run(ctx);
    double best = 1e30;
    const double start = bench_now();
    for (int runs = 0; runs < min_runs || bench_now() - start < min_seconds; runs++) {
        const double t0 = bench_now();
        run(ctx);
        const double t = bench_now() - t0;
        best = t < best ? t : best;
    }
    return best;
}

#endif
