/* attention_neon.c — flash attention f32_attention_flash_16xkb96__neon: 16 queries per tile (four
 * q registers of query lanes), 4-key S micro-tile and 4-column P*V micro-tile (16 accumulators
 * each, broadcasts as fmla-by-element; 6x4 spilled: 24 accumulators + 4 operands + 6 broadcast
 * scalars exceed 32 registers), 96-key blocks, 128 queries per task. Algorithm and layout:
 * ../attention_flash_impl.h.
 * Plain Armv8.0 Advanced SIMD: the dotprod and i8mm levels use the same kernel.
 *
 * exp2: nm_exp2 of ../numerics_impl.h; every operation is lane-wise per query, so the result is
 * bit-identical to the scalar reference (docs/numerics.md). */
#if defined(__aarch64__)
#include "sam2r_attention.h"

#include "numerics_neon.h"

#define FA_TGT
#define FA_V float32x4_t
#define FA_VL 4
#define FA_LOAD(p) vld1q_f32(p)
#define FA_STORE(p, v) vst1q_f32((p), (v))
#define FA_SET1(x) vdupq_n_f32(x)
#define FA_ZERO() vdupq_n_f32(0.0f)
#define FA_FMA(a, b, c) vfmaq_f32((c), (a), (b))
#define FA_MUL(a, b) vmulq_f32((a), (b))
#define FA_ADD(a, b) vaddq_f32((a), (b))
#define FA_SUB(a, b) vsubq_f32((a), (b))
#define FA_MAX(a, b) vmaxq_f32((a), (b))
#define FA_DIV(a, b) vdivq_f32((a), (b))
#define FA_EXP2(x) nm_exp2(x)
#define FA_NQV 4
#define FA_JT 4
#define FA_DC 4
#define FA_KB SAM2R_ATTENTION_KEY_BLOCK
#define Q_BLOCK 128

#include "../attention_flash_impl.h"

const sam2r_attention_f32_ukernel sam2r_f32_attention_neon = {
    "f32_attention_flash_16xkb96__neon", SAM2R_ISA_NEON, Q_BLOCK, FA_QT, FA_KB, fa_rows,
};
const sam2r_attention_f32_ukernel sam2r_f32_attention_neon_dotprod = {
    "f32_attention_flash_16xkb96__neon", SAM2R_ISA_DOTPROD, Q_BLOCK, FA_QT, FA_KB, fa_rows,
};
const sam2r_attention_f32_ukernel sam2r_f32_attention_neon_i8mm = {
    "f32_attention_flash_16xkb96__neon", SAM2R_ISA_I8MM, Q_BLOCK, FA_QT, FA_KB, fa_rows,
};
#endif
