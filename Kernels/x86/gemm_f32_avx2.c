/* gemm_f32_avx2.c — fp32 GEMM micro-kernel f32_gemm_6x16__avx2_fma (also the fp32 GEMM of the
 * avxvnni level: VNNI adds nothing to fp32).
 *
 * 6 rows x 16 columns of C in 12 ymm accumulators; per k step two ymm loads of the packed weight
 * panel and one broadcast of A per row feed 12 FMAs. Blocking as in gemm_f32_avx512.c: K blocks of
 * at most KC, A packed per 48 rows (48 KiB of stack), then weight panels, then 6-row micro-tiles.
 * Calls of at most DIRECT_A_MAX_COLS columns read A in place instead. Column tails use vmaskmov. */
#if defined(__x86_64__)
#include "sam2r_gemm_f32.h"
#include "sam2r_gemm_f16w.h"
#include "../gemm_f32_kblock.h"

#include <immintrin.h>

#define T256 __attribute__((target("avx2,fma")))
#define T256H __attribute__((target("avx2,fma,f16c")))
#define MR 6
#define NR 16
#ifndef SAM2R_F32_AVX2_KC
#define SAM2R_F32_AVX2_KC 256
#endif
#define KC SAM2R_F32_AVX2_KC
#define MC 48
#ifndef SAM2R_F32_AVX2_DIRECT_A_MAX_COLS
#define SAM2R_F32_AVX2_DIRECT_A_MAX_COLS 256
#endif
#define DIRECT_A_MAX_COLS SAM2R_F32_AVX2_DIRECT_A_MAX_COLS

#define TILE_NAME ukr_6x16
#define TILE_TARGET T256
#define TILE_W float
#define TILE_LOAD_W(p) _mm256_load_ps(p)
#include "gemm_f32_avx2_tile.h"
#undef TILE_NAME
#undef TILE_TARGET
#undef TILE_W
#undef TILE_LOAD_W

typedef void (*ukr_fn)(int32_t kc, const float *a, size_t lda, const float *b, float *c, size_t ldc,
                       const float *bias, int first, __m256i q0, __m256i q1);

/* ukr_{full,part}_mr read A packed ([kc][MR], lda unused); ukr_direct_{full,part}_mr read mr rows of A in
 * place, lda apart. Same FMAs in the same order: the same bits. */
#define INST(mr)                                                                                          \
    static T256 void ukr_full_##mr(int32_t kc, const float *a, size_t lda, const float *b, float *c,        \
                                   size_t ldc, const float *bias, int first, __m256i q0, __m256i q1) {     \
        (void)lda;                                                                                        \
        ukr_6x16(mr, 1, kc, a, 1, MR, b, c, ldc, bias, first, q0, q1);                                    \
    }                                                                                                     \
    static T256 void ukr_part_##mr(int32_t kc, const float *a, size_t lda, const float *b, float *c,        \
                                   size_t ldc, const float *bias, int first, __m256i q0, __m256i q1) {     \
        (void)lda;                                                                                        \
        ukr_6x16(mr, 0, kc, a, 1, MR, b, c, ldc, bias, first, q0, q1);                                    \
    }                                                                                                     \
    static T256 void ukr_direct_full_##mr(int32_t kc, const float *a, size_t lda, const float *b, float *c, \
                                          size_t ldc, const float *bias, int first, __m256i q0, __m256i q1) { \
        ukr_6x16(mr, 1, kc, a, lda, 1, b, c, ldc, bias, first, q0, q1);                                   \
    }                                                                                                     \
    static T256 void ukr_direct_part_##mr(int32_t kc, const float *a, size_t lda, const float *b, float *c, \
                                          size_t ldc, const float *bias, int first, __m256i q0, __m256i q1) { \
        ukr_6x16(mr, 0, kc, a, lda, 1, b, c, ldc, bias, first, q0, q1);                                   \
    }
INST(1) INST(2) INST(3) INST(4) INST(5) INST(6)
#undef INST

static const ukr_fn ukr_full[MR + 1] = {0, ukr_full_1, ukr_full_2, ukr_full_3, ukr_full_4, ukr_full_5, ukr_full_6};
static const ukr_fn ukr_part[MR + 1] = {0, ukr_part_1, ukr_part_2, ukr_part_3, ukr_part_4, ukr_part_5, ukr_part_6};
static const ukr_fn ukr_direct_full[MR + 1] = {0, ukr_direct_full_1, ukr_direct_full_2, ukr_direct_full_3,
                                               ukr_direct_full_4, ukr_direct_full_5, ukr_direct_full_6};
static const ukr_fn ukr_direct_part[MR + 1] = {0, ukr_direct_part_1, ukr_direct_part_2, ukr_direct_part_3,
                                               ukr_direct_part_4, ukr_direct_part_5, ukr_direct_part_6};

static T256 __m256i lane_mask8(int32_t nv) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(nv), idx);
}

/* A packed per (K block, MC rows) into [MC/MR][kc][MR] on the stack (MC x KC floats = 48 KiB). */
static T256 void pack_a(const float *a, size_t lda, int32_t rows, int32_t kc, float *ap) {
    for (int32_t r0 = 0; r0 < rows; r0 += MR) {
        const int32_t mr = rows - r0 < MR ? rows - r0 : MR;
        const float *src = a + (size_t)r0 * lda;
        if (mr == MR) {
            for (int32_t k = 0; k < kc; k++)
#pragma GCC unroll 8
                for (int r = 0; r < MR; r++) ap[(size_t)k * MR + r] = src[(size_t)r * lda + k];
        } else {
            for (int32_t k = 0; k < kc; k++)
                for (int r = 0; r < MR; r++) ap[(size_t)k * MR + r] = r < mr ? src[(size_t)r * lda + k] : 0.0f;
        }
        ap += (size_t)kc * MR;
    }
}

static T256 void gemm_f32_rect_avx2(const sam2r_gemm_f32_args *p, int32_t m0, int32_t m1, int32_t n0, int32_t n1) {
    __attribute__((aligned(64))) float apack[MC * KC];
    const int32_t k = p->k;
    const size_t lda = (size_t)p->lda, ldc = (size_t)p->ldc;
    const int32_t kcb = gemm_f32_k_block(k, KC);
    /* Packing A pays when many weight panels reuse it. Over few (the decoder's image -> token GEMMs: 64
     * and 256 columns, 4 and 16 panels) the transpose costs more than it saves: A is read in place. */
    const int direct = n1 - n0 <= DIRECT_A_MAX_COLS;
    for (int32_t kb = 0; kb < k; kb += kcb) {
        const int32_t kc = k - kb < kcb ? k - kb : kcb;
        const int first = kb == 0;
        for (int32_t mc = m0; mc < m1; mc += MC) {
            const int32_t mce = m1 - mc < MC ? m1 : mc + MC;
            if (!direct) pack_a(p->a + (size_t)mc * lda + kb, lda, mce - mc, kc, apack);
            for (int32_t nb = n0; nb < n1; nb += NR) {
                const int32_t nv = n1 - nb < NR ? n1 - nb : NR;
                const float *panel = p->w->data + (size_t)(nb / NR) * (size_t)k * NR + (size_t)kb * NR;
                const float *bias = (first && p->bias) ? p->bias + nb : NULL;
                const __m256i q0 = lane_mask8(nv), q1 = lane_mask8(nv - 8);
                const ukr_fn *tab = direct ? (nv == NR ? ukr_direct_full : ukr_direct_part)
                                           : (nv == NR ? ukr_full : ukr_part);
                const float *ap = direct ? p->a + (size_t)mc * lda + kb : apack;
                const size_t ap_step = direct ? MR * lda : (size_t)kc * MR;
                for (int32_t mb = mc; mb < mce; mb += MR, ap += ap_step) {
                    const int32_t mr = mce - mb < MR ? mce - mb : MR;
                    tab[mr](kc, ap, lda, panel, p->c + (size_t)mb * ldc + nb, ldc, bias, first, q0, q1);
                }
            }
        }
    }
}

/* Binary16 weights (sam2r_gemm_f16w.h): the tile above with its weight loads widened by vcvtph2ps. */
#define TILE_NAME ukr_6x16_f16w
#define TILE_TARGET T256H
#define TILE_W uint16_t
#define TILE_LOAD_W(p) _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(p)))
#include "gemm_f32_avx2_tile.h"
#undef TILE_NAME
#undef TILE_TARGET
#undef TILE_W
#undef TILE_LOAD_W

typedef void (*ukr_f16w_fn)(int32_t kc, const float *a, size_t lda, const uint16_t *b, float *c, size_t ldc,
                            const float *bias, int first, __m256i q0, __m256i q1);
#define INST(mr)                                                                                          \
    static T256H void ukr_f16w_full_##mr(int32_t kc, const float *a, size_t lda, const uint16_t *b,         \
                                         float *c, size_t ldc, const float *bias, int first, __m256i q0,   \
                                         __m256i q1) {                                                     \
        ukr_6x16_f16w(mr, 1, kc, a, lda, 1, b, c, ldc, bias, first, q0, q1);                              \
    }                                                                                                     \
    static T256H void ukr_f16w_part_##mr(int32_t kc, const float *a, size_t lda, const uint16_t *b,         \
                                         float *c, size_t ldc, const float *bias, int first, __m256i q0,   \
                                         __m256i q1) {                                                     \
        ukr_6x16_f16w(mr, 0, kc, a, lda, 1, b, c, ldc, bias, first, q0, q1);                              \
    }
INST(1) INST(2) INST(3) INST(4) INST(5) INST(6)
#undef INST
static const ukr_f16w_fn ukr_f16w_full[MR + 1] = {0, ukr_f16w_full_1, ukr_f16w_full_2, ukr_f16w_full_3,
                                                  ukr_f16w_full_4, ukr_f16w_full_5, ukr_f16w_full_6};
static const ukr_f16w_fn ukr_f16w_part[MR + 1] = {0, ukr_f16w_part_1, ukr_f16w_part_2, ukr_f16w_part_3,
                                                  ukr_f16w_part_4, ukr_f16w_part_5, ukr_f16w_part_6};

/* For the decoder's token side: a few rows (8-20 tokens) against wide weights. A is read in place, and
 * each K block of a weight panel (16 x KC binary16, 8 KiB) serves every row tile while it is in L1; the
 * widened panel never goes to memory. */
static T256H void gemm_f16w_rect_avx2(const struct sam2r_gemm_f16w_args *p, int32_t m0, int32_t m1, int32_t n0,
                                      int32_t n1) {
    const int32_t k = p->k;
    const size_t lda = (size_t)p->lda, ldc = (size_t)p->ldc;
    const int32_t kcb = gemm_f32_k_block(k, KC);
    for (int32_t kb = 0; kb < k; kb += kcb) {
        const int32_t kc = k - kb < kcb ? k - kb : kcb;
        const int first = kb == 0;
        for (int32_t nb = n0; nb < n1; nb += NR) {
            const int32_t nv = n1 - nb < NR ? n1 - nb : NR;
            const uint16_t *panel = p->w->data + (size_t)(nb / NR) * (size_t)k * NR + (size_t)kb * NR;
            const float *bias = (first && p->bias) ? p->bias + nb : NULL;
            const __m256i q0 = lane_mask8(nv), q1 = lane_mask8(nv - 8);
            const ukr_f16w_fn *tab = nv == NR ? ukr_f16w_full : ukr_f16w_part;
            for (int32_t mb = m0; mb < m1; mb += MR) {
                const int32_t mr = m1 - mb < MR ? m1 - mb : MR;
                tab[mr](kc, p->a + (size_t)mb * lda + kb, lda, panel, p->c + (size_t)mb * ldc + nb, ldc, bias, first,
                        q0, q1);
            }
        }
    }
}

const sam2r_gemm_f32_ukernel sam2r_f32_gemm_avx2 = {
    "f32_gemm_6x16__avx2_fma", SAM2R_ISA_AVX2, MR, NR, gemm_f32_rect_avx2, gemm_f16w_rect_avx2,
};
const sam2r_gemm_f32_ukernel sam2r_f32_gemm_avxvnni = {
    "f32_gemm_6x16__avx2_fma", SAM2R_ISA_AVXVNNI, MR, NR, gemm_f32_rect_avx2, gemm_f16w_rect_avx2,
};
#endif
