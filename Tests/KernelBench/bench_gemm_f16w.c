/* bench_gemm_f16w.c — fp32 GEMM over binary16 weights (sam2r_gemm_f16w.h) on the mask decoder's token-side
 * shapes at 1024²: m prompt tokens (default 8) against the two-way transformer's MLP (256 -> 2048 -> 256)
 * and its 256-wide projections. For every variant this CPU supports: the binary16 twin of the micro-kernel
 * (weights widened in registers) where the variant has one, and the widening path (each weight panel
 * widened into a scratch, then the fp32 micro-kernel) for comparison. Each figure is the best of at least
 * 5 runs and 0.5 s after a warm-up (a benchmark, never a test: `make bench-gemm-f16w`).
 * Usage: [SAM2R_ISA=variant] bench-gemm-f16w [m threads] */
#include "sam2r_kernels.h"

#include "bench_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    const sam2r_gemm_f32_ukernel *uk;
    const sam2r_gemm_f16w_args *args;
    float *scratch;
    sam2r_pool *pool;
} gemm_call;

static void run_gemm(void *ctx) {
    const gemm_call *g = (const gemm_call *)ctx;
    sam2r_gemm_f16w(g->uk, g->args, g->scratch, g->pool);
}

static double best_seconds(const sam2r_gemm_f32_ukernel *uk, const sam2r_gemm_f16w_args *a, float *scratch,
                           sam2r_pool *pool) {
    gemm_call g = {uk, a, scratch, pool};
    return bench_best_seconds(run_gemm, &g, 5, 0.5);
}

int main(int argc, char **argv) {
    int32_t m = 8, threads = 1;
    if (argc == 3) {
        m = atoi(argv[1]);
        threads = atoi(argv[2]);
    } else if (argc != 1) {
        fputs("error: bench-gemm-f16w: usage: bench-gemm-f16w [m threads]\n", stderr);
        return 2;
    }
    if (m < 1 || m > 4096 || threads < 1 || threads > SAM2R_POOL_MAX_THREADS) {
        fputs("error: bench-gemm-f16w: arguments out of range\n", stderr);
        return 2;
    }
    static const int32_t shapes[][2] = {{2048, 256}, {256, 2048}, {256, 256}};   /* {n, k} */
    sam2r_pool *pool = threads > 1 ? sam2r_pool_create(threads) : NULL;
    printf("binary16-weight GEMM, m %d, %d thread(s)\n", m, threads);
    for (int i = 0; i < SAM2R_ISA_COUNT; i++) {
        const sam2r_isa isa = (sam2r_isa)i;
        if (!sam2r_isa_supported(isa)) continue;
        if (getenv("SAM2R_ISA") && isa != sam2r_isa_active()) continue;
        const sam2r_gemm_f32_ukernel *uk = sam2r_gemm_f32_ukernel_for(isa);
        sam2r_gemm_f32_ukernel widening = *uk;   /* the same micro-kernel without its binary16 twin */
        widening.rect_f16w = NULL;
        const int twin = uk->rect_f16w != NULL && sam2r_f16_vector_supported(isa);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            const int32_t n = shapes[s][0], k = shapes[s][1];
            uint64_t r = 7;
            uint16_t *w = bench_alloc64("bench-gemm-f16w", (size_t)n * k * sizeof(uint16_t));
            float *a = bench_alloc64("bench-gemm-f16w", (size_t)m * k * sizeof(float));
            float *c = bench_alloc64("bench-gemm-f16w", (size_t)m * n * sizeof(float));
            float *bias = bench_alloc64("bench-gemm-f16w", (size_t)n * sizeof(float));
            for (size_t j = 0; j < (size_t)n * k; j++) {   /* |w| < 2: finite binary16 values */
                r = r * 6364136223846793005ull + 1;
                w[j] = (uint16_t)((r >> 33) & 0xbbffu);
            }
            for (size_t j = 0; j < (size_t)m * k; j++) a[j] = (float)(j % 13) * 0.1f - 0.6f;
            for (int32_t j = 0; j < n; j++) bias[j] = 0.01f * (float)(j % 7);
            sam2r_packed_f16 p = {0, 0, 0, bench_alloc64("bench-gemm-f16w", sam2r_pack_f16_size(n, k, uk->nr))};
            sam2r_pack_f16(w, k, n, k, uk->nr, &p);
            float *scratch = bench_alloc64("bench-gemm-f16w",
                                           sam2r_gemm_f16w_scratch_floats(uk, k, threads) * sizeof(float));
            const sam2r_gemm_f16w_args args = {m, n, k, a, k, &p, bias, c, n};
            const double macs = (double)m * n * k;
            const double tw = best_seconds(&widening, &args, scratch, pool);
            printf("%-11s %-26s n %4d k %4d  widening %8.1f us %6.1f GMAC/s", sam2r_isa_name(isa), uk->name, n, k,
                   tw * 1e6, macs / tw / 1e9);
            if (twin) {
                const double td = best_seconds(uk, &args, scratch, pool);
                printf("   twin %8.1f us %6.1f GMAC/s  (%.2fx)", td * 1e6, macs / td / 1e9, tw / td);
            }
            printf("\n");
            fflush(stdout);
            free(w); free(a); free(c); free(bias); free(p.data); free(scratch);
        }
    }
    sam2r_pool_destroy(pool);
    return 0;
}
