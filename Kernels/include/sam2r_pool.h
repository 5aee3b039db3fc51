/* sam2r_pool.h — a fixed set of worker threads created once; dispatch allocates nothing.
 *
 * sam2r_pool_run(pool, fn, ctx, ntasks) calls fn(ctx, task, worker) once for every task in
 * [0, ntasks) across the calling thread and the workers, and returns when all are done.
 * Tasks are claimed through one atomic counter. Which thread runs which task is unspecified, so
 * kernels must make a task's result independent of the thread (they do: tiles are disjoint).
 * A NULL pool, or a pool of 1 thread, runs every task on the calling thread.
 * Not reentrant: one sam2r_pool_run at a time per pool.
 */
#ifndef SAM2R_POOL_H
#define SAM2R_POOL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sam2r_pool sam2r_pool;
typedef void (*sam2r_task_fn)(void *ctx, int32_t task, int32_t worker);

#define SAM2R_POOL_MAX_THREADS 256

/* nthreads in [1, SAM2R_POOL_MAX_THREADS], counting the caller. NULL on failure. */
sam2r_pool *sam2r_pool_create(int32_t nthreads);
void sam2r_pool_destroy(sam2r_pool *pool);
int32_t sam2r_pool_threads(const sam2r_pool *pool);   /* 1 for NULL */
void sam2r_pool_run(sam2r_pool *pool, sam2r_task_fn fn, void *ctx, int32_t ntasks);

#ifdef __cplusplus
}
#endif
#endif
