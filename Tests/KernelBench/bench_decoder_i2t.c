/* bench_decoder_i2t.c — the mask decoder's image -> token attention + residual LayerNorm
 * (sam2r_decoder_i2t.h) on SAM2's 1024² shape: 4096 image rows, 8 heads x 8 tokens, dim 256, queries
 * k columns deep (256: layer 1, image rows + PE; 128: layer 0, the cached query projection). For every
 * variant this CPU supports with both GEMM kernels (the regular one and, where the ISA has it, the
 * 64-column one the decoder picks). GMAC/s counts the two GEMMs, rows * heads * tokens * (k + dim) MACs;
 * each figure is the best of at least 5 runs and 1 s after a warm-up (a benchmark, never a test:
 * `make bench-decoder-i2t`). Usage: [SAM2R_ISA=variant] bench-decoder-i2t [k threads] */
#include "sam2r_kernels.h"

#include "bench_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { ROWS = 4096, HEADS = 8, TOKENS = 8, DIM = 256 };

static float *filled(size_t n, float scale, uint64_t *r) {
    float *p = bench_alloc64("bench-decoder-i2t", n * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        *r = *r * 6364136223846793005ull + 1;
        p[i] = scale * ((float)(*r >> 40) / 16777216.0f - 0.5f);
    }
    return p;
}

static sam2r_packed_f32 packed(const sam2r_gemm_f32_ukernel *uk, const float *w, int32_t n, int32_t k) {
    sam2r_packed_f32 p = {n, k, uk->nr, bench_alloc64("bench-decoder-i2t", sam2r_pack_f32_size(n, k, uk->nr))};
    sam2r_pack_f32(w, k, n, k, uk->nr, &p);
    return p;
}

typedef struct {
    const sam2r_gemm_f32_ukernel *uk;
    const sam2r_rowops *ops;
    sam2r_softmax_short_fn sm;
    const sam2r_decoder_i2t_args *a;
    sam2r_pool *pool;
} i2t_call;

static void run_i2t(void *ctx) {
    const i2t_call *c = (const i2t_call *)ctx;
    sam2r_decoder_i2t(c->uk, c->ops, c->sm, c->a, c->pool);
}

static double best_seconds(const sam2r_gemm_f32_ukernel *uk, const sam2r_rowops *ops, sam2r_softmax_short_fn sm,
                           const sam2r_decoder_i2t_args *a, sam2r_pool *pool) {
    if (sam2r_decoder_i2t(uk, ops, sm, a, pool) != 0) {
        fputs("error: bench-decoder-i2t: shape exceeds the kernel's block\n", stderr);
        exit(2);
    }
    i2t_call c = {uk, ops, sm, a, pool};
    return bench_best_seconds(run_i2t, &c, 5, 1.0);
}

int main(int argc, char **argv) {
    int32_t k = 256, threads = 1;
    if (argc == 3) {
        k = atoi(argv[1]);
        threads = atoi(argv[2]);
    } else if (argc != 1) {
        fputs("error: bench-decoder-i2t: usage: bench-decoder-i2t [k threads]\n", stderr);
        return 2;
    }
    if (k < 1 || k > SAM2R_DECODER_I2T_MAX_DIM || threads < 1 || threads > SAM2R_POOL_MAX_THREADS) {
        fputs("error: bench-decoder-i2t: arguments out of range\n", stderr);
        return 2;
    }
    const int32_t ht = HEADS * TOKENS;
    uint64_t r = 42;
    float *a = filled((size_t)ROWS * k, 2.0f, &r), *ws = filled((size_t)ht * k, 0.3f, &r);
    float *wo = filled((size_t)DIM * ht, 1.0f, &r), *x = filled((size_t)ROWS * DIM, 3.0f, &r);
    float *pe = filled((size_t)ROWS * DIM, 1.0f, &r), *gamma = filled(DIM, 1.0f, &r), *beta = filled(DIM, 1.0f, &r);
    float *y = filled((size_t)ROWS * DIM, 1.0f, &r);
    sam2r_pool *pool = threads > 1 ? sam2r_pool_create(threads) : NULL;
    const double macs = (double)ROWS * ht * (k + DIM);
    printf("decoder image -> token, %d rows x %d heads x %d tokens, k %d, dim %d, %d thread(s); %.3f GMAC per call\n",
           ROWS, HEADS, TOKENS, k, DIM, threads, macs / 1e9);
    for (int i = 0; i < SAM2R_ISA_COUNT; i++) {
        const sam2r_isa isa = (sam2r_isa)i;
        if (!sam2r_isa_supported(isa)) continue;
        if (getenv("SAM2R_ISA") && isa != sam2r_isa_active()) continue;
        const sam2r_gemm_f32_ukernel *kernels[2] = {sam2r_gemm_f32_ukernel_for(isa),
                                                    sam2r_gemm_f32_n64_ukernel_for(isa)};
        for (int g = 0; g < 2; g++) {
            const sam2r_gemm_f32_ukernel *uk = kernels[g];
            if (!uk) continue;
            sam2r_packed_f32 pws = packed(uk, ws, ht, k), pwo = packed(uk, wo, DIM, ht);
            const sam2r_decoder_i2t_args args = {ROWS, HEADS, TOKENS, DIM, a, k, NULL, &pws, NULL, &pwo, NULL,
                                                 x, NULL, gamma, beta, 1e-5f, pe, y, NULL, NULL, NULL, 0};
            const double t = best_seconds(uk, sam2r_rowops_for(isa), sam2r_softmax_short_for(isa), &args, pool);
            printf("%-11s %-30s %8.3f ms %6.1f GMAC/s\n", sam2r_isa_name(isa), uk->name, t * 1e3, macs / t / 1e9);
            fflush(stdout);
            /* the cached layer 0's block-diagonal scores in groups of g heads (w_s_groups; ws's leading block as
             * each group's weights): MACs counted as done */
            for (int32_t g = 1; g <= 2 && k % HEADS == 0; g++) {
                const int32_t gk = k / HEADS * g;
                sam2r_packed_f32 groups[HEADS];
                for (int j = 0; j < HEADS / g; j++) groups[j] = packed(uk, ws + (size_t)j * g * TOKENS * gk, g * TOKENS, gk);
                sam2r_decoder_i2t_args grouped = args;
                grouped.w_s = NULL;
                grouped.w_s_groups = groups;
                grouped.group_heads = g;
                const double tg = best_seconds(uk, sam2r_rowops_for(isa), sam2r_softmax_short_for(isa), &grouped, pool);
                const double macs_g = (double)ROWS * ht * (gk + DIM);
                printf("%-11s %-30s %8.3f ms %6.1f GMAC/s  scores in groups of %d heads\n", sam2r_isa_name(isa), uk->name,
                       tg * 1e3, macs_g / tg / 1e9, g);
                fflush(stdout);
                for (int j = 0; j < HEADS / g; j++) free(groups[j].data);
            }
            free(pws.data);
            free(pwo.data);
        }
    }
    sam2r_pool_destroy(pool);
    free(a); free(ws); free(wo); free(x); free(pe); free(gamma); free(beta); free(y);
    return 0;
}
