/* gemm_f32_scalar.c — portable reference fp32 GEMM (f32_gemm_1x8__scalar).
 *
 * C[m, n] = bias[n] + sum_k A[m, k] * W[n, k], with W packed [n/8][k][8] by sam2r_pack_f32.
 * Each output is one sequential chain of fused multiply-adds over k (k = 0, 1, ...), starting from
 * the bias (or +0): acc = fmaf(A[m, k], W[n, k], acc), one rounding per step, exactly what every SIMD
 * variant's vfmadd / FMLA accumulator does (K blocking stores and reloads C, which is exact). So the
 * variants are bit-identical to this reference (docs/numerics.md). */
#include "sam2r_gemm_f32.h"

#include <math.h>

#define NR 8

static void gemm_f32_rect_scalar(const sam2r_gemm_f32_args *p, int32_t m0, int32_t m1, int32_t n0, int32_t n1) {
    const int32_t k = p->k;
    for (int32_t nb = n0; nb < n1; nb += NR) {
        const int32_t nv = n1 - nb < NR ? n1 - nb : NR;
        const float *panel = p->w->data + (size_t)(nb / NR) * (size_t)k * NR;
        for (int32_t m = m0; m < m1; m++) {
            const float *a = p->a + (size_t)m * (size_t)p->lda;
            float acc[NR];
            for (int j = 0; j < NR; j++) acc[j] = (p->bias && j < nv) ? p->bias[nb + j] : 0.0f;
            const float *b = panel;
            for (int32_t kk = 0; kk < k; kk++, b += NR) {
                const float av = a[kk];
                for (int j = 0; j < NR; j++) acc[j] = fmaf(av, b[j], acc[j]);
            }
            float *c = p->c + (size_t)m * (size_t)p->ldc + nb;
            for (int j = 0; j < nv; j++) c[j] = acc[j];
        }
    }
}

const sam2r_gemm_f32_ukernel sam2r_f32_gemm_scalar = {
    "f32_gemm_1x8__scalar", SAM2R_ISA_SCALAR, 1, NR, gemm_f32_rect_scalar, NULL,
};
