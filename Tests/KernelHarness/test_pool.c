/* test_pool.c — every task runs exactly once, on a valid worker index, for many dispatch sizes
 * and pool sizes; repeated dispatches on one pool work (the pool is reused, never rebuilt). */
#include "harness.h"

#include <string.h>

typedef struct {
    int32_t counts[4096];
    int32_t nthreads;
    int32_t bad_worker;
} pool_probe;

static void count_task(void *ctx, int32_t task, int32_t worker) {
    pool_probe *p = (pool_probe *)ctx;
    __atomic_fetch_add(&p->counts[task], 1, __ATOMIC_RELAXED);
    if (worker < 0 || worker >= p->nthreads) __atomic_store_n(&p->bad_worker, 1, __ATOMIC_RELAXED);
}

void test_pool(void) {
    static pool_probe probe;
    const int32_t thread_counts[] = {1, 2, 3, 8};
    const int32_t task_counts[] = {0, 1, 2, 3, 7, 64, 1000, 4096};
    harness_check(sam2r_pool_create(0) == NULL, "pool of 0 threads refused");
    harness_check(sam2r_pool_create(SAM2R_POOL_MAX_THREADS + 1) == NULL, "pool above the maximum refused");
    harness_check(sam2r_pool_threads(NULL) == 1, "NULL pool counts as 1 thread");
    for (size_t ti = 0; ti < sizeof thread_counts / sizeof thread_counts[0]; ti++) {
        sam2r_pool *pool = sam2r_pool_create(thread_counts[ti]);
        harness_check(pool != NULL, "pool of %d threads created", thread_counts[ti]);
        if (!pool) continue;
        harness_check(sam2r_pool_threads(pool) == thread_counts[ti], "pool reports %d threads", thread_counts[ti]);
        for (int rep = 0; rep < 50; rep++) {
            for (size_t ci = 0; ci < sizeof task_counts / sizeof task_counts[0]; ci++) {
                int32_t n = task_counts[ci];
                memset(&probe, 0, sizeof probe);
                probe.nthreads = thread_counts[ti];
                sam2r_pool_run(pool, count_task, &probe, n);
                int once = 1;
                for (int32_t t = 0; t < 4096; t++) once &= probe.counts[t] == (t < n ? 1 : 0);
                if (!once || probe.bad_worker || rep == 0)
                    harness_check(once && !probe.bad_worker, "pool %d threads, %d tasks, rep %d: each task once",
                                  thread_counts[ti], n, rep);
            }
        }
        sam2r_pool_destroy(pool);
    }
}
