/* pool.c — fixed worker threads, created once. A dispatch publishes (fn, ctx, ntasks) under a
 * mutex, bumps a generation counter and wakes the workers; everyone, the caller included, claims
 * task indices from one atomic counter; the caller waits until every worker has left the
 * generation. Nothing is allocated after sam2r_pool_create. Workers spin briefly before sleeping
 * so back-to-back dispatches (one per layer) do not pay a futex wake each time, and the caller spins
 * briefly for the workers' last tasks before sleeping on `done` for the same reason; neither spins
 * when the pool has more threads than the process has CPUs. */
#define _GNU_SOURCE   /* sched_getaffinity, CPU_COUNT */
#include "sam2r_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

struct sam2r_pool {
    int32_t nthreads;
    pthread_t threads[SAM2R_POOL_MAX_THREADS];
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    unsigned long generation;   /* guarded by mu; read racily (atomically) while spinning */
    int stop;
    sam2r_task_fn fn;
    void *ctx;
    int32_t ntasks;
    int32_t next_task;          /* atomic */
    int32_t busy_workers;       /* written under mu; the caller also polls it (atomic) */
    int32_t spins;              /* spin-wait bound of workers and caller (0: sleep at once) */
};

/* Spinning pays only when every thread has a CPU of its own: with more threads than the CPUs this process
 * may run on, a spinning thread holds the CPU that the thread it waits for needs (measured with 4 threads
 * on 2 vCPUs: the decoder 30 % slower with the caller's spin than without). */
enum { SPINS = 20000 };

static int32_t usable_cpus(void) {
#if defined(__linux__) && defined(CPU_COUNT)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
#endif
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int32_t)n : 1;
}

/* A spin-wait hint to the core (and to an SMT sibling). */
static inline void cpu_relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

static void run_tasks(sam2r_pool *p, sam2r_task_fn fn, void *ctx, int32_t ntasks, int32_t worker) {
    for (;;) {
        int32_t t = __atomic_fetch_add(&p->next_task, 1, __ATOMIC_RELAXED);
        if (t >= ntasks) break;
        fn(ctx, t, worker);
    }
}

/* Each worker learns its index from its position in threads[], found by pthread_self(). */
static void *worker_main(void *arg) {
    sam2r_pool *p = (sam2r_pool *)arg;
    int32_t me = 0;
    pthread_t self = pthread_self();
    pthread_mutex_lock(&p->mu);
    for (int32_t i = 1; i < p->nthreads; i++)
        if (pthread_equal(p->threads[i], self)) me = i;
    pthread_mutex_unlock(&p->mu);
    /* Generation 0 is the pool's state at creation; no dispatch can precede sam2r_pool_create's
     * return, so a worker that starts late still sees every dispatch (reading p->generation here
     * instead would skip one that was published before this thread got scheduled). */
    unsigned long seen = 0;

    for (;;) {
        /* Spin a little: layers arrive back to back during inference. */
        for (int32_t spin = 0; spin < p->spins; spin++) {
            if (__atomic_load_n(&p->generation, __ATOMIC_ACQUIRE) != seen) break;
            cpu_relax();
        }
        pthread_mutex_lock(&p->mu);
        while (p->generation == seen && !p->stop) pthread_cond_wait(&p->wake, &p->mu);
        if (p->stop) { pthread_mutex_unlock(&p->mu); return NULL; }
        seen = p->generation;
        sam2r_task_fn fn = p->fn;
        void *ctx = p->ctx;
        int32_t ntasks = p->ntasks;
        pthread_mutex_unlock(&p->mu);

        run_tasks(p, fn, ctx, ntasks, me);

        pthread_mutex_lock(&p->mu);
        /* release: the caller may see 0 by spinning (without the mutex) and then read this worker's results */
        if (__atomic_sub_fetch(&p->busy_workers, 1, __ATOMIC_RELEASE) == 0) pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
}

sam2r_pool *sam2r_pool_create(int32_t nthreads) {
    if (nthreads < 1 || nthreads > SAM2R_POOL_MAX_THREADS) return NULL;
    sam2r_pool *p = (sam2r_pool *)calloc(1, sizeof *p);
    if (!p) return NULL;
    p->nthreads = 1;
    p->spins = nthreads <= usable_cpus() ? SPINS : 0;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    /* Hold the mutex while spawning so workers see a complete threads[] before looking themselves up. */
    pthread_mutex_lock(&p->mu);
    for (int32_t i = 1; i < nthreads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) {
            pthread_mutex_unlock(&p->mu);
            sam2r_pool_destroy(p);
            return NULL;
        }
        p->nthreads = i + 1;
    }
    pthread_mutex_unlock(&p->mu);
    return p;
}

void sam2r_pool_destroy(sam2r_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int32_t i = 1; i < p->nthreads; i++) pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

int32_t sam2r_pool_threads(const sam2r_pool *p) { return p ? p->nthreads : 1; }

void sam2r_pool_run(sam2r_pool *p, sam2r_task_fn fn, void *ctx, int32_t ntasks) {
    if (ntasks <= 0) return;
    if (!p || p->nthreads == 1 || ntasks == 1) {
        for (int32_t t = 0; t < ntasks; t++) fn(ctx, t, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->ntasks = ntasks;
    __atomic_store_n(&p->next_task, 0, __ATOMIC_RELAXED);
    p->busy_workers = p->nthreads - 1;
    __atomic_store_n(&p->generation, p->generation + 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);

    run_tasks(p, fn, ctx, ntasks, 0);

    /* Spin a little for the workers' last tasks before sleeping: a futex sleep and wake-up costs tens of
     * microseconds in a VM, and the decoder makes many short dispatches per prompt. */
    for (int32_t spin = 0; spin < p->spins; spin++) {
        if (__atomic_load_n(&p->busy_workers, __ATOMIC_ACQUIRE) == 0) return;
        cpu_relax();
    }
    pthread_mutex_lock(&p->mu);
    while (p->busy_workers > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
