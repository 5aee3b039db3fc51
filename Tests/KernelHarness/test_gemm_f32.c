/* test_gemm_f32.c — fp32 GEMM: scalar reference vs a double-precision naive product, then every
 * supported SIMD variant (the regular and the 64-column-panel ones) vs the scalar reference BIT-EXACT.
 *
 * Scalar vs double: NMSE <= 1e-10. With inputs uniform in [-1, 1] an fp32 dot product of length K has
 * relative error about sqrt(K) * 2^-24 (random-walk rounding), i.e. NMSE ~ K * 3.6e-15 <= 4e-12 for
 * K = 1000, while any indexing, packing, tail or K-block bug gives NMSE >= 1e-4 (one wrong term among K).
 * Variant vs scalar: tolerance 0 — every output is one fma chain over k from the bias in every variant
 * (docs/numerics.md), whatever the tile, K block or thread count. Padding columns of C (ldc > n) must be
 * left untouched (sentinel), which checks masked tail stores. */
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEMM_F32_NMSE_BOUND 1e-10
#define SENTINEL 12345.0f

static void naive_double(int32_t m, int32_t n, int32_t k, const float *a, int32_t lda, const float *w,
                         const float *bias, float *c, int32_t ldc) {
    for (int32_t i = 0; i < m; i++)
        for (int32_t j = 0; j < n; j++) {
            double s = bias ? (double)bias[j] : 0.0;
            for (int32_t kk = 0; kk < k; kk++) s += (double)a[(size_t)i * lda + kk] * (double)w[(size_t)j * k + kk];
            c[(size_t)i * ldc + j] = (float)s;
        }
}

/* NMSE over the m x n live part of two ldc-strided matrices. */
static double nmse_mat(const float *ref, const float *got, int32_t m, int32_t n, int32_t ldc) {
    double num = 0, den = 0;
    for (int32_t i = 0; i < m; i++)
        for (int32_t j = 0; j < n; j++) {
            const double r = ref[(size_t)i * ldc + j], g = got[(size_t)i * ldc + j];
            num += (r - g) * (r - g);
            den += r * r;
        }
    return num / (den > 1e-30 ? den : 1e-30);
}

static int padding_intact(const float *c, int32_t m, int32_t n, int32_t ldc) {
    for (int32_t i = 0; i < m; i++)
        for (int32_t j = n; j < ldc; j++)
            if (c[(size_t)i * ldc + j] != SENTINEL) return 0;
    return 1;
}

static void run(const sam2r_gemm_f32_ukernel *uk, int32_t m, int32_t n, int32_t k, const float *a, int32_t lda,
                const float *w, const float *bias, float *c, int32_t ldc, sam2r_pool *pool) {
    sam2r_packed_f32 pk;
    pk.data = (float *)harness_alloc(sam2r_pack_f32_size(n, k, uk->nr));
    sam2r_pack_f32(w, k, n, k, uk->nr, &pk);
    for (size_t i = 0; i < (size_t)m * ldc; i++) c[i] = SENTINEL;
    sam2r_gemm_f32_args args = {m, n, k, a, lda, &pk, bias, c, ldc};
    sam2r_gemm_f32(uk, &args, pool);
    free(pk.data);
}

static void one_shape(int32_t m, int32_t n, int32_t k, int idx, sam2r_pool *pools[3], harness_rng *rng) {
    static const int32_t lda_pad[] = {0, 3, 5, 11}, ldc_pad[] = {0, 7, 13, 2};
    const int32_t lda = k + lda_pad[idx % 4], ldc = n + ldc_pad[(idx / 4) % 4];
    const int with_bias = idx % 2;
    float *a = (float *)harness_alloc((size_t)m * lda * sizeof(float));
    float *w = (float *)harness_alloc((size_t)n * k * sizeof(float));
    float *bias = (float *)harness_alloc((size_t)n * sizeof(float));
    float *cd = (float *)harness_alloc((size_t)m * ldc * sizeof(float));
    float *cs = (float *)harness_alloc((size_t)m * ldc * sizeof(float));
    float *cv = (float *)harness_alloc((size_t)m * ldc * sizeof(float));
    for (size_t i = 0; i < (size_t)m * lda; i++) a[i] = harness_float(rng, -1.0f, 1.0f);
    for (size_t i = 0; i < (size_t)n * k; i++) w[i] = harness_float(rng, -1.0f, 1.0f);
    for (int32_t i = 0; i < n; i++) bias[i] = harness_float(rng, -1.0f, 1.0f);
    const float *bp = with_bias ? bias : NULL;

    naive_double(m, n, k, a, lda, w, bp, cd, ldc);
    const sam2r_gemm_f32_ukernel *ref = sam2r_gemm_f32_ukernel_for(SAM2R_ISA_SCALAR);
    run(ref, m, n, k, a, lda, w, bp, cs, ldc, NULL);
    double e = nmse_mat(cd, cs, m, n, ldc);
    harness_check(e <= GEMM_F32_NMSE_BOUND && padding_intact(cs, m, n, ldc),
                  "gemm_f32 %s vs double m=%d n=%d k=%d lda=%d ldc=%d bias=%d: nmse %.3g", ref->name, m, n, k,
                  lda, ldc, with_bias, e);

    sam2r_isa vars[SAM2R_ISA_COUNT];
    const int nv = harness_variants(vars);
    for (int vk = 0; vk < 2 * nv; vk++) {
        /* every ISA's regular variant, then its 64-column-panel variant where it has one */
        const int v = vk % nv;
        const sam2r_gemm_f32_ukernel *uk =
            vk < nv ? sam2r_gemm_f32_ukernel_for(vars[v]) : sam2r_gemm_f32_n64_ukernel_for(vars[v]);
        if (vk >= nv && !uk) continue;
        harness_check(uk != NULL, "gemm_f32: no kernel for supported isa %s", sam2r_isa_name(vars[v]));
        if (!uk) continue;
        const int t = (idx + vk) % 3; /* thread counts 1, 2, 3 rotate over shapes and variants */
        run(uk, m, n, k, a, lda, w, bp, cv, ldc, pools[t]);
        double md;
        const size_t nd = harness_bitdiff(cs, cv, m, n, ldc, &md);
        harness_check(nd == 0 && padding_intact(cv, m, n, ldc),
                      "gemm_f32 %s (%s) m=%d n=%d k=%d lda=%d ldc=%d bias=%d threads=%d: %zu outputs differ from "
                      "scalar (max %.3g), padding %s",
                      uk->name, sam2r_isa_name(vars[v]), m, n, k, lda, ldc, with_bias, t + 1, nd, md,
                      padding_intact(cv, m, n, ldc) ? "intact" : "OVERWRITTEN");
    }
    free(a); free(w); free(bias); free(cd); free(cs); free(cv);
}

void test_gemm_f32(void) {
    harness_rng rng = {0x6e6d6d66333221ull};
    sam2r_pool *pools[3] = {NULL, sam2r_pool_create(2), sam2r_pool_create(3)};
    harness_check(pools[1] && pools[2], "gemm_f32: pool creation");
    const int64_t limit = harness_quick() ? 300000 : 4000000;
    int idx = 0;
    for (int i = 0; i < harness_dims_count; i++)
        for (int j = 0; j < harness_dims_count; j++)
            for (int l = 0; l < harness_dims_count; l++) {
                const int32_t m = harness_dims[i], n = harness_dims[j], k = harness_dims[l];
                const int64_t work = (int64_t)m * n * k;
                /* keep every value of every dim: always include the shapes where the other two dims are small */
                if (work > limit && !((m <= 7 && n <= 7) || (m <= 7 && k <= 7) || (n <= 7 && k <= 7))) continue;
                one_shape(m, n, k, idx++, pools, &rng);
            }
    /* a few larger shapes, SAM2-like aspect ratios (K > the SIMD kernels' K block, several tasks per thread) */
    static const int32_t big[][3] = {{389, 288, 96}, {257, 384, 768}, {130, 1152, 384}, {67, 3072, 96}};
    const int nbig = harness_quick() ? 1 : (int)(sizeof big / sizeof big[0]);
    for (int i = 0; i < nbig; i++) one_shape(big[i][0], big[i][1], big[i][2], idx++, pools, &rng);
    sam2r_pool_destroy(pools[1]);
    sam2r_pool_destroy(pools[2]);
}
