/* gemm_f32_avx2.c — fp32 GEMM micro-kernel f32_gemm_6x16__avx2_fma (also the fp32 GEMM of the
 * avxvnni level: VNNI adds nothing to fp32).
 *
 * 6 rows x 16 columns of C in 12 ymm accumulators; per k step two ymm loads of the packed weight
 * panel and one broadcast of A per row feed 12 FMAs. Blocking as in gemm_f32_avx512.c: K blocks of
 * at most KC, A packed per 48 rows (48 KiB of stack), then weight panels, then 6-row micro-tiles.
 * Calls of at most DIRECT_A_MAX_COLS columns read A in place instead. Column tails use vmaskmov. The tiles
 * and the driver are written once (gemm_f32_avx2_tiles.h) for fp32 and for binary16 weights. */
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

#define TILE(name) name##_f32
#define TILE_TARGET T256
#define TILE_W float
#define TILE_ARGS sam2r_gemm_f32_args
#define TILE_LOAD_W(p) _mm256_load_ps(p)
#include "gemm_f32_avx2_tiles.h"
#undef TILE
#undef TILE_TARGET
#undef TILE_W
#undef TILE_ARGS
#undef TILE_LOAD_W

/* Binary16 weights (sam2r_gemm_f16w.h), for the decoder's token side: the same tiles with the weight loads
 * widened by vcvtph2ps, so the widened panel never goes to memory. */
#define TILE(name) name##_f16w
#define TILE_TARGET T256H
#define TILE_W uint16_t
#define TILE_ARGS struct sam2r_gemm_f16w_args
#define TILE_LOAD_W(p) _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(p)))
#include "gemm_f32_avx2_tiles.h"
#undef TILE
#undef TILE_TARGET
#undef TILE_W
#undef TILE_ARGS
#undef TILE_LOAD_W

const sam2r_gemm_f32_ukernel sam2r_f32_gemm_avx2 = {
    "f32_gemm_6x16__avx2_fma", SAM2R_ISA_AVX2, MR, NR, gemm_rect_avx2_f32, gemm_rect_avx2_f16w,
};
const sam2r_gemm_f32_ukernel sam2r_f32_gemm_avxvnni = {
    "f32_gemm_6x16__avx2_fma", SAM2R_ISA_AVXVNNI, MR, NR, gemm_rect_avx2_f32, gemm_rect_avx2_f16w,
};
#endif
