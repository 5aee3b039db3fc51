/* attention_neon.c — flash attention f32_attention_flash_16xkb96__neon: 16 queries per tile (four
 * q registers of query lanes), 4-key S micro-tile and 4-column P*V micro-tile (16 accumulators
 * each, broadcasts as fmla-by-element; 6x4 spilled: 24 accumulators + 4 operands + 6 broadcast
 * scalars exceed 32 registers), 96-key blocks, 128 queries per task. Algorithm and layout:
 * ../attention_flash_impl.h.
 * Plain Armv8.0 Advanced SIMD: the dotprod and i8mm levels use the same kernel.
 *
 * exp2: x clamped to >= -127, n = round-to-nearest(x) (frintn), f = x - n in [-0.5, 0.5], 2^f by
 * Cephes' exp2f polynomial (degree 6, Horner with fused multiply-add; <= ~2 ulp), times 2^n built
 * in the exponent field ((n + 127) << 23; n = -127 gives 0). */
#if defined(__aarch64__)
#include "sam2r_attention.h"

#include <arm_neon.h>

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
#define FA_EXP2(x) fa_exp2_neon(x)
#define FA_NQV 4
#define FA_JT 4
#define FA_DC 4
#define FA_KB 96
#define Q_BLOCK 128

static inline __attribute__((always_inline)) float32x4_t fa_exp2_neon(float32x4_t x) {
    x = vmaxq_f32(x, vdupq_n_f32(-127.0f));
    const float32x4_t n = vrndnq_f32(x);
    const float32x4_t f = vsubq_f32(x, n);
    float32x4_t p = vdupq_n_f32(1.535336188319500e-4f);
    p = vfmaq_f32(vdupq_n_f32(1.339887440266574e-3f), p, f);
    p = vfmaq_f32(vdupq_n_f32(9.618437357674640e-3f), p, f);
    p = vfmaq_f32(vdupq_n_f32(5.550332471162809e-2f), p, f);
    p = vfmaq_f32(vdupq_n_f32(2.402264791363012e-1f), p, f);
    p = vfmaq_f32(vdupq_n_f32(6.931472028550421e-1f), p, f);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, f);
    const int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
    return vmulq_f32(p, vreinterpretq_f32_s32(e));
}

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
