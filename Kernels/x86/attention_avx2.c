/* attention_avx2.c — flash attention f32_attention_flash_24xkb96__avx2_fma: 24 queries per tile
 * (three ymm of query lanes), 4-key S micro-tile and 4-column P*V micro-tile (12 ymm accumulators
 * each), 96-key blocks, up to 2064 queries (86 tiles) per task (see attention_avx512.c). Algorithm and
 * layout: ../attention_flash_impl.h.
 * (3x4 measured faster than 2x6, 2x5 and 1x12 on this Xeon.)
 *
 * exp2: x clamped to >= -127, n = round(x), f = x - n in [-0.5, 0.5], 2^f by Cephes' exp2f
 * polynomial (degree 6, Horner with FMA; <= ~2 ulp), times 2^n built in the exponent field
 * ((n + 127) << 23; n = -127 gives 0, an underflow the softmax cannot see). */
#if defined(__x86_64__)
#include "sam2r_attention.h"

#include <immintrin.h>

#define FA_TGT __attribute__((target("avx2,fma")))
#define FA_V __m256
#define FA_VL 8
#define FA_LOAD(p) _mm256_loadu_ps(p)
#define FA_STORE(p, v) _mm256_storeu_ps((p), (v))
#define FA_SET1(x) _mm256_set1_ps(x)
#define FA_ZERO() _mm256_setzero_ps()
#define FA_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define FA_MUL(a, b) _mm256_mul_ps((a), (b))
#define FA_ADD(a, b) _mm256_add_ps((a), (b))
#define FA_SUB(a, b) _mm256_sub_ps((a), (b))
#define FA_MAX(a, b) _mm256_max_ps((a), (b))
#define FA_DIV(a, b) _mm256_div_ps((a), (b))
#define FA_EXP2(x) fa_exp2_avx2(x)
#define FA_NQV 3
#define FA_JT 4
#define FA_DC 4
#define FA_KB 96
#define Q_BLOCK 2064

static inline __attribute__((always_inline)) FA_TGT __m256 fa_exp2_avx2(__m256 x) {
    x = _mm256_max_ps(x, _mm256_set1_ps(-127.0f));
    const __m256 n = _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 f = _mm256_sub_ps(x, n);
    __m256 p = _mm256_set1_ps(1.535336188319500e-4f);
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.339887440266574e-3f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(9.618437357674640e-3f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(5.550332471162809e-2f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(2.402264791363012e-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(6.931472028550421e-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

#include "../attention_flash_impl.h"

const sam2r_attention_f32_ukernel sam2r_f32_attention_avx2 = {
    "f32_attention_flash_24xkb96__avx2_fma", SAM2R_ISA_AVX2, Q_BLOCK, FA_QT, FA_KB, fa_rows,
};
const sam2r_attention_f32_ukernel sam2r_f32_attention_avxvnni = {
    "f32_attention_flash_24xkb96__avx2_fma", SAM2R_ISA_AVXVNNI, Q_BLOCK, FA_QT, FA_KB, fa_rows,
};
#endif
