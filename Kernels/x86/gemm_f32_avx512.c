/* gemm_f32_avx512.c — fp32 GEMM micro-kernel f32_gemm_8x48__avx512f.
 *
 * 8 rows x 48 columns of C live in 24 zmm accumulators; per k step three zmm loads of the packed
 * weight panel and one broadcast of A per row feed 24 FMAs. Blocking inside a task: K in blocks of
 * at most KC (the 48-column weight panel of a K block stays in L1/L2 across the task's rows), then
 * weight panels, then 8-row micro-tiles. The first K block starts from the bias, later ones
 * accumulate into C. Column tails use AVX-512 masks; row tails have their own instantiations. */
#if defined(__x86_64__)
#include "sam2r_gemm_f32.h"

#include <immintrin.h>

#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
#define MR 8
#define NR 48
#ifndef SAM2R_F32_AVX512_KC
#define SAM2R_F32_AVX512_KC 256
#endif

static inline __attribute__((always_inline)) T512 void ukr_8x48(
    const int mr, const int full, int32_t kc, const float *a, size_t lda, const float *b, float *c, size_t ldc,
    const float *bias, int first, __mmask16 k0, __mmask16 k1, __mmask16 k2) {
    if (full) k0 = k1 = k2 = 0xFFFF;
    __m512 acc[MR][3];
    if (first) {
        __m512 v0 = _mm512_setzero_ps(), v1 = v0, v2 = v0;
        if (bias) {
            v0 = _mm512_maskz_loadu_ps(k0, bias);
            v1 = _mm512_maskz_loadu_ps(k1, bias + 16);
            v2 = _mm512_maskz_loadu_ps(k2, bias + 32);
        }
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            acc[r][0] = v0;
            acc[r][1] = v1;
            acc[r][2] = v2;
        }
    } else {
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            if (r < mr) {
                acc[r][0] = _mm512_maskz_loadu_ps(k0, c + r * ldc);
                acc[r][1] = _mm512_maskz_loadu_ps(k1, c + r * ldc + 16);
                acc[r][2] = _mm512_maskz_loadu_ps(k2, c + r * ldc + 32);
            } else {
                acc[r][0] = acc[r][1] = acc[r][2] = _mm512_setzero_ps();
            }
        }
    }
    const float *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
    const float *a4 = a + 4 * lda, *a5 = a + 5 * lda, *a6 = a + 6 * lda, *a7 = a + 7 * lda;
    for (int32_t k = 0; k < kc; k++) {
        const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16), b2 = _mm512_load_ps(b + 32);
        b += NR;
#define ROW(r)                                                          \
        if (mr > r) {                                                   \
            const __m512 av = _mm512_set1_ps(a##r[k]);                  \
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);             \
            acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);             \
            acc[r][2] = _mm512_fmadd_ps(av, b2, acc[r][2]);             \
        }
        ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7)
#undef ROW
    }
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
        if (r < mr) {
            _mm512_mask_storeu_ps(c + r * ldc, k0, acc[r][0]);
            _mm512_mask_storeu_ps(c + r * ldc + 16, k1, acc[r][1]);
            _mm512_mask_storeu_ps(c + r * ldc + 32, k2, acc[r][2]);
        }
    }
}

typedef void (*ukr_fn)(int32_t kc, const float *a, size_t lda, const float *b, float *c, size_t ldc,
                       const float *bias, int first, __mmask16 k0, __mmask16 k1, __mmask16 k2);

#define INST(mr)                                                                                        \
    static T512 void ukr_full_##mr(int32_t kc, const float *a, size_t lda, const float *b, float *c,      \
                                   size_t ldc, const float *bias, int first, __mmask16 k0, __mmask16 k1, \
                                   __mmask16 k2) {                                                      \
        ukr_8x48(mr, 1, kc, a, lda, b, c, ldc, bias, first, k0, k1, k2);                                 \
    }                                                                                                   \
    static T512 void ukr_part_##mr(int32_t kc, const float *a, size_t lda, const float *b, float *c,      \
                                   size_t ldc, const float *bias, int first, __mmask16 k0, __mmask16 k1, \
                                   __mmask16 k2) {                                                      \
        ukr_8x48(mr, 0, kc, a, lda, b, c, ldc, bias, first, k0, k1, k2);                                 \
    }
INST(1) INST(2) INST(3) INST(4) INST(5) INST(6) INST(7) INST(8)
#undef INST

static const ukr_fn ukr_full[MR + 1] = {0, ukr_full_1, ukr_full_2, ukr_full_3, ukr_full_4,
                                        ukr_full_5, ukr_full_6, ukr_full_7, ukr_full_8};
static const ukr_fn ukr_part[MR + 1] = {0, ukr_part_1, ukr_part_2, ukr_part_3, ukr_part_4,
                                        ukr_part_5, ukr_part_6, ukr_part_7, ukr_part_8};

static inline __mmask16 lane_mask(int32_t nv) {
    return nv <= 0 ? 0 : nv >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nv) - 1u);
}

static T512 void gemm_f32_rect_avx512(const sam2r_gemm_f32_args *p, int32_t m0, int32_t m1, int32_t n0, int32_t n1) {
    const int32_t k = p->k;
    const size_t lda = (size_t)p->lda, ldc = (size_t)p->ldc;
    const int32_t nkb = (k + SAM2R_F32_AVX512_KC - 1) / SAM2R_F32_AVX512_KC;
    const int32_t kcb = (k + nkb - 1) / nkb;
    for (int32_t kb = 0; kb < k; kb += kcb) {
        const int32_t kc = k - kb < kcb ? k - kb : kcb;
        const int first = kb == 0;
        for (int32_t nb = n0; nb < n1; nb += NR) {
            const int32_t nv = n1 - nb < NR ? n1 - nb : NR;
            const float *panel = p->w->data + (size_t)(nb / NR) * (size_t)k * NR + (size_t)kb * NR;
            const float *bias = (first && p->bias) ? p->bias + nb : NULL;
            const __mmask16 q0 = lane_mask(nv), q1 = lane_mask(nv - 16), q2 = lane_mask(nv - 32);
            const ukr_fn *tab = nv == NR ? ukr_full : ukr_part;
            for (int32_t mb = m0; mb < m1; mb += MR) {
                const int32_t mr = m1 - mb < MR ? m1 - mb : MR;
                tab[mr](kc, p->a + (size_t)mb * lda + kb, lda, panel, p->c + (size_t)mb * ldc + nb, ldc, bias,
                        first, q0, q1, q2);
            }
        }
    }
}

const sam2r_gemm_f32_ukernel sam2r_f32_gemm_avx512 = {
    "f32_gemm_8x48__avx512f", SAM2R_ISA_AVX512VNNI, MR, NR, gemm_f32_rect_avx512,
};
#endif
