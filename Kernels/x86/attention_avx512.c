/* attention_avx512.c — flash attention f32_attention_flash_48xkb96__avx512f: 48 queries per tile
 * (three zmm of query lanes), 8-key S micro-tile and 8-column P*V micro-tile (24 zmm accumulators
 * each), 96-key blocks, up to 2064 queries (43 tiles) per task: a 4096-token global attention is two
 * tasks per head, so its keys and values (a 4.6 KB qkv row per token) are read twice per head rather
 * than 9 times (480-query tasks: 47 -> 51 GMAC/s). Algorithm and layout: ../attention_flash_impl.h.
 * Tile choice measured in isolation (L1-resident, this Xeon): 24 accumulators run both loops at
 * ~62-70 GMAC/s of a ~77 GMAC/s vfmadd231ps zmm peak, 16 accumulators (2x8, 2x12 tiles) at ~40.
 *
 * exp2: nm_exp2 of ../numerics_impl.h (2^n through the exponent field, not vscalefps, whose 2^-127 would
 * be a subnormal where the other ISAs give 0); every operation is lane-wise per query, so the result is
 * bit-identical to the scalar reference (docs/numerics.md). */
#if defined(__x86_64__)
#include "sam2r_attention.h"

#include "numerics_avx512.h"

#define FA_TGT NM_TGT
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
#define FA_EXP2(x) nm_exp2(x)
#define FA_NQV 3
#define FA_JT 8
#define FA_DC 8
#define FA_KB SAM2R_ATTENTION_KEY_BLOCK
#define Q_BLOCK 2064

/* dst[x][y] = src[y][x] * scale[x] for one 16 x 16 block (rows y >= nsrc read as zero, rows x >= ndst
 * not stored): 4x4 transposes inside the 128-bit lanes (unpack, shuffle), then of the lanes
 * (shuffle_f32x4), 64 shuffles per 256 floats instead of 256 scalar moves. */
static inline __attribute__((always_inline)) FA_TGT void fa_transpose16(const float *src, size_t lds, int32_t nsrc,
                                                                        float *dst, size_t ldd, int32_t ndst,
                                                                        __m512 scale) {
    __m512 r[16], t[16];
    for (int y = 0; y < 16; y++)
        r[y] = y < nsrc ? _mm512_mul_ps(_mm512_loadu_ps(src + (size_t)y * lds), scale) : _mm512_setzero_ps();
    for (int k = 0; k < 8; k++) {
        t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
        t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
    }
    /* r[4g + c], 128-bit lane L = column 4L + c of rows 4g .. 4g+3 */
    for (int g = 0; g < 4; g++) {
        r[4 * g + 0] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
        r[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
        r[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
        r[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
    }
    for (int c = 0; c < 4; c++) {
        const __m512 p0 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x44), p1 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xEE);
        const __m512 q0 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x44),
                     q1 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xEE);
        const __m512 o[4] = {_mm512_shuffle_f32x4(p0, q0, 0x88), _mm512_shuffle_f32x4(p0, q0, 0xDD),
                             _mm512_shuffle_f32x4(p1, q1, 0x88), _mm512_shuffle_f32x4(p1, q1, 0xDD)};
        for (int l = 0; l < 4; l++)
            if (4 * l + c < ndst) _mm512_storeu_ps(dst + (size_t)(4 * l + c) * ldd, o[l]);
    }
}
#define FA_TRANSPOSE(src, lds, nsrc, dst, ldd, ndst, scale) fa_transpose16((src), (lds), (nsrc), (dst), (ldd), (ndst), (scale))

#include "../attention_flash_impl.h"

const sam2r_attention_f32_ukernel sam2r_f32_attention_avx512 = {
    "f32_attention_flash_48xkb96__avx512f", SAM2R_ISA_AVX512VNNI, Q_BLOCK, FA_QT, FA_KB, fa_rows,
};
#endif
