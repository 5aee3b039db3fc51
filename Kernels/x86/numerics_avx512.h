/* numerics_avx512.h — the AVX-512F vocabulary of numerics_impl.h (private to Kernels/), and the
 * canonical 16-lane sum of one zmm. Include only from files compiled for x86. */
#ifndef SAM2R_NUMERICS_AVX512_H
#define SAM2R_NUMERICS_AVX512_H

#include <immintrin.h>

#define NM_V __m512
#define NM_TGT __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
#define NM_SET1(c) _mm512_set1_ps(c)
#define NM_ADD(a, b) _mm512_add_ps((a), (b))
#define NM_SUB(a, b) _mm512_sub_ps((a), (b))
#define NM_MUL(a, b) _mm512_mul_ps((a), (b))
#define NM_DIV(a, b) _mm512_div_ps((a), (b))
#define NM_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define NM_FNMA(a, b, c) _mm512_fnmadd_ps((a), (b), (c))
#define NM_MIN(a, b) _mm512_min_ps((a), (b))
#define NM_MAX(a, b) _mm512_max_ps((a), (b))
#define NM_ROUND(a) _mm512_roundscale_ps((a), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
/* Exponent-field construction, not vscalefps: scalef(p, -127) would be a subnormal, the others give 0. */
#define NM_POW2I(n) _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23))
#include "../numerics_impl.h"

/* The canonical tree over the 16 lanes: (l + l+8), then (l + l+4), (l + l+2), (l + l+1) — spelled out
 * rather than _mm512_reduce_add_ps, whose order is the compiler's. */
static inline __attribute__((always_inline)) NM_TGT float nm_sum16_avx512(__m512 v) {
    const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

#endif
