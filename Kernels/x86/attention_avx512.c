/* attention_avx512.c — flash attention f32_attention_flash_48xkb96__avx512f: 48 queries per tile
 * (three zmm of query lanes), 8-key S micro-tile and 8-column P*V micro-tile (24 zmm accumulators
 * each), 96-key blocks, up to 2064 queries (43 tiles) per task: a 4096-token global attention is two
 * tasks per head, so its keys and values (a 4.6 KB qkv row per token) are read twice per head rather
 * than 9 times (480-query tasks: 47 -> 51 GMAC/s). Algorithm and layout: ../attention_flash_impl.h.
 * Tile choice measured in isolation (L1-resident, this Xeon): 24 accumulators run both loops at
 * ~62-70 GMAC/s of a ~77 GMAC/s vfmadd231ps zmm peak, 16 accumulators (2x8, 2x12 tiles) at ~40.
 *
 * exp2: x clamped to >= -127 (2^-127 underflows to 0 against the row max, which has p = 1),
 * n = round(x), f = x - n in [-0.5, 0.5], 2^f by Cephes' exp2f polynomial (degree 6, Horner with
 * FMA; Cephes quotes 1.7e-7 peak relative error, i.e. <= ~2 ulp), times 2^n by vscalefps. */
#if defined(__x86_64__)
#include "sam2r_attention.h"

#include <immintrin.h>

#define FA_TGT __attribute__((target("avx512f")))
#define FA_V __m512
#define FA_VL 16
#define FA_LOAD(p) _mm512_loadu_ps(p)
#define FA_STORE(p, v) _mm512_storeu_ps((p), (v))
#define FA_SET1(x) _mm512_set1_ps(x)
#define FA_ZERO() _mm512_setzero_ps()
#define FA_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define FA_MUL(a, b) _mm512_mul_ps((a), (b))
#define FA_ADD(a, b) _mm512_add_ps((a), (b))
#define FA_SUB(a, b) _mm512_sub_ps((a), (b))
#define FA_MAX(a, b) _mm512_max_ps((a), (b))
#define FA_DIV(a, b) _mm512_div_ps((a), (b))
#define FA_EXP2(x) fa_exp2_avx512(x)
#define FA_NQV 3
#define FA_JT 8
#define FA_DC 8
#define FA_KB 96
#define Q_BLOCK 2064

static inline __attribute__((always_inline)) FA_TGT __m512 fa_exp2_avx512(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-127.0f));
    const __m512 n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512 f = _mm512_sub_ps(x, n);
    __m512 p = _mm512_set1_ps(1.535336188319500e-4f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.339887440266574e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.618437357674640e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.550332471162809e-2f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.402264791363012e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931472028550421e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

#include "../attention_flash_impl.h"

const sam2r_attention_f32_ukernel sam2r_f32_attention_avx512 = {
    "f32_attention_flash_48xkb96__avx512f", SAM2R_ISA_AVX512VNNI, Q_BLOCK, FA_QT, FA_KB, fa_rows,
};
#endif
