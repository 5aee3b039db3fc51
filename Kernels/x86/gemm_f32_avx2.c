/* gemm_f32_avx2.c — fp32 GEMM micro-kernel f32_gemm_6x16__avx2_fma (also the fp32 GEMM of the
 * avxvnni level: VNNI adds nothing to fp32).
 *
 * 6 rows x 16 columns of C in 12 ymm accumulators; per k step two ymm loads of the packed weight
 * panel and one broadcast of A per row feed 12 FMAs. Blocking as in gemm_f32_avx512.c: K blocks of
 * at most KC, then weight panels, then 6-row micro-tiles. Column tails use vmaskmov. */
#if defined(__x86_64__)
#include "sam2r_gemm_f32.h"

#include <immintrin.h>

#define T256 __attribute__((target("avx2,fma")))
#define MR 6
#define NR 16
#ifndef SAM2R_F32_AVX2_KC
#define SAM2R_F32_AVX2_KC 256
#endif

static inline __attribute__((always_inline)) T256 void ukr_6x16(
    const int mr, const int full, int32_t kc, const float *a, size_t lda, const float *b, float *c, size_t ldc,
    const float *bias, int first, __m256i q0, __m256i q1) {
    __m256 acc[MR][2];
    if (first) {
        __m256 v0 = _mm256_setzero_ps(), v1 = v0;
        if (bias) {
            v0 = full ? _mm256_loadu_ps(bias) : _mm256_maskload_ps(bias, q0);
            v1 = full ? _mm256_loadu_ps(bias + 8) : _mm256_maskload_ps(bias + 8, q1);
        }
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            acc[r][0] = v0;
            acc[r][1] = v1;
        }
    } else {
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            if (r < mr) {
                acc[r][0] = full ? _mm256_loadu_ps(c + r * ldc) : _mm256_maskload_ps(c + r * ldc, q0);
                acc[r][1] = full ? _mm256_loadu_ps(c + r * ldc + 8) : _mm256_maskload_ps(c + r * ldc + 8, q1);
            } else {
                acc[r][0] = acc[r][1] = _mm256_setzero_ps();
            }
        }
    }
    const float *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda, *a4 = a + 4 * lda, *a5 = a + 5 * lda;
    for (int32_t k = 0; k < kc; k++) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        b += NR;
#define ROW(r)                                                  \
        if (mr > r) {                                           \
            const __m256 av = _mm256_broadcast_ss(a##r + k);    \
            acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);     \
            acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);     \
        }
        ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5)
#undef ROW
    }
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
        if (r < mr) {
            if (full) {
                _mm256_storeu_ps(c + r * ldc, acc[r][0]);
                _mm256_storeu_ps(c + r * ldc + 8, acc[r][1]);
            } else {
                _mm256_maskstore_ps(c + r * ldc, q0, acc[r][0]);
                _mm256_maskstore_ps(c + r * ldc + 8, q1, acc[r][1]);
            }
        }
    }
}

typedef void (*ukr_fn)(int32_t kc, const float *a, size_t lda, const float *b, float *c, size_t ldc,
                       const float *bias, int first, __m256i q0, __m256i q1);

#define INST(mr)                                                                                          \
    static T256 void ukr_full_##mr(int32_t kc, const float *a, size_t lda, const float *b, float *c,        \
                                   size_t ldc, const float *bias, int first, __m256i q0, __m256i q1) {     \
        ukr_6x16(mr, 1, kc, a, lda, b, c, ldc, bias, first, q0, q1);                                       \
    }                                                                                                     \
    static T256 void ukr_part_##mr(int32_t kc, const float *a, size_t lda, const float *b, float *c,        \
                                   size_t ldc, const float *bias, int first, __m256i q0, __m256i q1) {     \
        ukr_6x16(mr, 0, kc, a, lda, b, c, ldc, bias, first, q0, q1);                                       \
    }
INST(1) INST(2) INST(3) INST(4) INST(5) INST(6)
#undef INST

static const ukr_fn ukr_full[MR + 1] = {0, ukr_full_1, ukr_full_2, ukr_full_3, ukr_full_4, ukr_full_5, ukr_full_6};
static const ukr_fn ukr_part[MR + 1] = {0, ukr_part_1, ukr_part_2, ukr_part_3, ukr_part_4, ukr_part_5, ukr_part_6};

static T256 __m256i lane_mask8(int32_t nv) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(nv), idx);
}

static T256 void gemm_f32_rect_avx2(const sam2r_gemm_f32_args *p, int32_t m0, int32_t m1, int32_t n0, int32_t n1) {
    const int32_t k = p->k;
    const size_t lda = (size_t)p->lda, ldc = (size_t)p->ldc;
    const int32_t nkb = (k + SAM2R_F32_AVX2_KC - 1) / SAM2R_F32_AVX2_KC;
    const int32_t kcb = (k + nkb - 1) / nkb;
    for (int32_t kb = 0; kb < k; kb += kcb) {
        const int32_t kc = k - kb < kcb ? k - kb : kcb;
        const int first = kb == 0;
        for (int32_t nb = n0; nb < n1; nb += NR) {
            const int32_t nv = n1 - nb < NR ? n1 - nb : NR;
            const float *panel = p->w->data + (size_t)(nb / NR) * (size_t)k * NR + (size_t)kb * NR;
            const float *bias = (first && p->bias) ? p->bias + nb : NULL;
            const __m256i q0 = lane_mask8(nv), q1 = lane_mask8(nv - 8);
            const ukr_fn *tab = nv == NR ? ukr_full : ukr_part;
            for (int32_t mb = m0; mb < m1; mb += MR) {
                const int32_t mr = m1 - mb < MR ? m1 - mb : MR;
                tab[mr](kc, p->a + (size_t)mb * lda + kb, lda, panel, p->c + (size_t)mb * ldc + nb, ldc, bias,
                        first, q0, q1);
            }
        }
    }
}

const sam2r_gemm_f32_ukernel sam2r_f32_gemm_avx2 = {
    "f32_gemm_6x16__avx2_fma", SAM2R_ISA_AVX2, MR, NR, gemm_f32_rect_avx2,
};
const sam2r_gemm_f32_ukernel sam2r_f32_gemm_avxvnni = {
    "f32_gemm_6x16__avx2_fma", SAM2R_ISA_AVXVNNI, MR, NR, gemm_f32_rect_avx2,
};
#endif
