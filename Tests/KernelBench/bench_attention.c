/* bench_attention.c — fp32 vs int8 flash attention throughput on Hiera's global-attention shape
 * (default nq = nk = 4096, 4 heads, dk = dv = 96, 1 thread), for every variant this CPU supports.
 * GMAC/s counts the two products, nq * nk * (dk + dv) MACs per (batch, head); each figure is the best
 * of at least 3 runs after a warm-up (a benchmark, never a test: `make bench-attention`).
 * Usage: [SAM2R_ISA=variant] bench-attention [nq nk heads d threads] */
#include "sam2r_kernels.h"

#include "bench_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef void (*run_fn)(const void *uk, const sam2r_attention_f32_args *a, sam2r_pool *pool, float *scratch);
static void run_f32(const void *uk, const sam2r_attention_f32_args *a, sam2r_pool *pool, float *s) {
    sam2r_attention_f32((const sam2r_attention_f32_ukernel *)uk, a, pool, s);
}
static void run_s8(const void *uk, const sam2r_attention_f32_args *a, sam2r_pool *pool, float *s) {
    sam2r_attention_s8((const sam2r_attention_s8_ukernel *)uk, a, pool, s);
}

typedef struct {
    run_fn f;
    const void *uk;
    const sam2r_attention_f32_args *a;
    sam2r_pool *pool;
    float *s;
} attention_call;

static void run_call(void *ctx) {
    const attention_call *c = (const attention_call *)ctx;
    c->f(c->uk, c->a, c->pool, c->s);
}

static double best_seconds(run_fn f, const void *uk, const sam2r_attention_f32_args *a, sam2r_pool *pool, float *s) {
    attention_call c = {f, uk, a, pool, s};
    return bench_best_seconds(run_call, &c, 3, 2.0);
}

int main(int argc, char **argv) {
    int32_t nq = 4096, nk = 4096, heads = 4, d = 96, threads = 1;
    if (argc == 6) {
        nq = atoi(argv[1]); nk = atoi(argv[2]); heads = atoi(argv[3]); d = atoi(argv[4]); threads = atoi(argv[5]);
    } else if (argc != 1) {
        fputs("error: bench-attention: usage: bench-attention [nq nk heads d threads]\n", stderr);
        return 2;
    }
    if (nq < 1 || nk < 1 || heads < 1 || d < 1 || d > 256 || threads < 1 || threads > SAM2R_POOL_MAX_THREADS) {
        fputs("error: bench-attention: arguments out of range\n", stderr);
        return 2;
    }
    const int32_t w = heads * d;
    float *q = bench_alloc64("bench-attention", (size_t)nq * w * 4), *k = bench_alloc64("bench-attention", (size_t)nk * w * 4), *v = bench_alloc64("bench-attention", (size_t)nk * w * 4);
    float *o = bench_alloc64("bench-attention", (size_t)nq * w * 4);
    uint64_t r = 42;
    for (size_t i = 0; i < (size_t)nq * w; i++) q[i] = (float)((r = r * 6364136223846793005ull + 1) >> 40) / 16777216.0f - 0.5f;
    for (size_t i = 0; i < (size_t)nk * w; i++) k[i] = (float)((r = r * 6364136223846793005ull + 1) >> 40) / 16777216.0f - 0.5f;
    for (size_t i = 0; i < (size_t)nk * w; i++) v[i] = (float)((r = r * 6364136223846793005ull + 1) >> 40) / 16777216.0f - 0.5f;
    sam2r_attention_f32_args a = {1, heads, nq, nk, d, d, q, w, 0, k, w, 0, v, w, 0, o, w, 0, 0.1f, NULL, NULL, NULL};
    sam2r_pool *pool = threads > 1 ? sam2r_pool_create(threads) : NULL;
    const double macs = (double)heads * nq * nk * (2.0 * d);
    printf("attention nq %d nk %d heads %d dk = dv %d, %d thread(s); %.2f GMAC per call\n", nq, nk, heads, d, threads,
           macs / 1e9);
    for (int i = 0; i < SAM2R_ISA_COUNT; i++) {
        const sam2r_isa isa = (sam2r_isa)i;
        /* The scalar references take minutes at the global shape: measured only when nothing else runs;
         * SAM2R_ISA=<variant> measures that variant alone. */
        if (!sam2r_isa_supported(isa) || (isa == SAM2R_ISA_SCALAR && sam2r_isa_best() != SAM2R_ISA_SCALAR)) continue;
        if (getenv("SAM2R_ISA") && isa != sam2r_isa_active()) continue;
        const sam2r_attention_f32_ukernel *fk = sam2r_attention_f32_ukernel_for(isa);
        const sam2r_attention_s8_ukernel *sk = sam2r_attention_s8_ukernel_for(isa);
        if (fk) {
            float *s = bench_alloc64("bench-attention", sam2r_attention_f32_scratch_floats(fk, d, d) * threads * 4);
            const double t = best_seconds(run_f32, fk, &a, pool, s);
            printf("%-11s fp32 %-42s %8.1f ms %6.1f GMAC/s\n", sam2r_isa_name(isa), fk->name, t * 1e3, macs / t / 1e9);
            free(s);
        }
        if (sk) {
            float *s = bench_alloc64("bench-attention", sam2r_attention_s8_scratch_floats(sk, nk, d, d) * threads * 4);
            const double t = best_seconds(run_s8, sk, &a, pool, s);
            printf("%-11s int8 %-42s %8.1f ms %6.1f GMAC/s\n", sam2r_isa_name(isa), sk->name, t * 1e3, macs / t / 1e9);
            free(s);
        }
        fflush(stdout);
    }
    sam2r_pool_destroy(pool);
    free(q); free(k); free(v); free(o);
    return 0;
}
