/* attention_avx2.c — flash attention f32_attention_flash_24xkb96__avx2_fma: 24 queries per tile
 * (three ymm of query lanes), 4-key S micro-tile and 4-column P*V micro-tile (12 ymm accumulators
 * each), 96-key blocks, up to 2064 queries (86 tiles) per task (see attention_avx512.c). Algorithm and
 * layout: ../attention_flash_impl.h.
 * (3x4 measured faster than 2x6, 2x5 and 1x12 on this Xeon.)
 *
 * exp2: nm_exp2 of ../numerics_impl.h; every operation is lane-wise per query, so the result is
 * bit-identical to the scalar reference (docs/numerics.md). */
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
#define FA_NQV 3
#define FA_JT 4
#define FA_DC 4
#define FA_KB SAM2R_ATTENTION_KEY_BLOCK
#define Q_BLOCK 2064

#include "../attention_flash_impl.h"

const sam2r_attention_f32_ukernel sam2r_f32_attention_avx2 = {
    "f32_attention_flash_24xkb96__avx2_fma", SAM2R_ISA_AVX2, Q_BLOCK, FA_QT, FA_KB, fa_rows,
};
const sam2r_attention_f32_ukernel sam2r_f32_attention_avxvnni = {
    "f32_attention_flash_24xkb96__avx2_fma", SAM2R_ISA_AVXVNNI, Q_BLOCK, FA_QT, FA_KB, fa_rows,
};
#endif
