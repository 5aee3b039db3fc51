/* numerics_avx2.h — the AVX2 + FMA vocabulary of numerics_impl.h (private to Kernels/), and the
 * canonical 16-lane sum held in two ymm (lanes 0-7, 8-15). Include only from files compiled for x86. */
#ifndef SAM2R_NUMERICS_AVX2_H
#define SAM2R_NUMERICS_AVX2_H

#include <immintrin.h>

#define NM_V __m256
#define NM_TGT __attribute__((target("avx2,fma")))
#define NM_SET1(c) _mm256_set1_ps(c)
#define NM_ADD(a, b) _mm256_add_ps((a), (b))
#define NM_SUB(a, b) _mm256_sub_ps((a), (b))
#define NM_MUL(a, b) _mm256_mul_ps((a), (b))
#define NM_DIV(a, b) _mm256_div_ps((a), (b))
#define NM_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define NM_FNMA(a, b, c) _mm256_fnmadd_ps((a), (b), (c))
#define NM_MIN(a, b) _mm256_min_ps((a), (b))
#define NM_MAX(a, b) _mm256_max_ps((a), (b))
#define NM_ROUND(a) _mm256_round_ps((a), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define NM_POW2I(n) _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23))
#include "../numerics_impl.h"

/* lo holds lanes 0-7, hi lanes 8-15 of the canonical sum: (l + l+8), then (l + l+4), (l + l+2), (l + l+1). */
static inline __attribute__((always_inline)) NM_TGT float nm_sum16_avx2(__m256 lo, __m256 hi) {
    const __m256 v = _mm256_add_ps(lo, hi);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

#endif
