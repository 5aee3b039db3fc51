/* attention_avx2.c — flash attention f32_attention_flash_16xkb96__avx2_fma: 16 queries per tile
 * (two ymm of query lanes), 6-key S micro-tile (12 ymm accumulators) and 4-column P*V micro-tile (8),
 * 96-key blocks, up to 2064 queries (129 tiles) per task (see attention_avx512.c). Algorithm and
 * layout: ../attention_flash_impl.h.
 * Why 2x6 and not the former 3x4: 3x4 needs all 16 ymm registers in both loops (12 accumulators, 3 query
 * or P vectors, a broadcast), and clang 21 -O3 (the Swift build) spills an accumulator every step of the S
 * loop and rotates the P*V accumulators through a dozen register moves and a spill every key. On a Zen 3
 * the decoder's folded attention (64 queries x 4096 keys, dk = dv = 256) went from 6.6 to 3.6-4.2 ms and
 * Hiera's attention shapes gained 1.3-2x (BENCHMARKS.md, "Session 18"); 2x4 and 3x3 were no better, and 2x5
 * breaks the key-block invariant asserted in ../attention_flash_impl.h.
 *
 * exp2: nm_exp2 of ../numerics_impl.h; every operation is lane-wise per query, so the result is
 * bit-identical to the scalar reference (docs/numerics.md): the tile shape changes no bits. */
#if defined(__x86_64__)
#include "sam2r_attention.h"

#include "numerics_avx2.h"

#define FA_TGT NM_TGT
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
#define FA_EXP2(x) nm_exp2(x)
#define FA_NQV 2
#define FA_JT 6
#define FA_DC 4
#define FA_KB SAM2R_ATTENTION_KEY_BLOCK
#define Q_BLOCK 2064

#include "../attention_flash_impl.h"

const sam2r_attention_f32_ukernel sam2r_f32_attention_avx2 = {
    "f32_attention_flash_16xkb96__avx2_fma", SAM2R_ISA_AVX2, Q_BLOCK, FA_QT, FA_KB, fa_rows,
};
const sam2r_attention_f32_ukernel sam2r_f32_attention_avxvnni = {
    "f32_attention_flash_16xkb96__avx2_fma", SAM2R_ISA_AVXVNNI, Q_BLOCK, FA_QT, FA_KB, fa_rows,
};
#endif
