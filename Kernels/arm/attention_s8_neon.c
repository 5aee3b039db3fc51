/* attention_s8_neon.c — int8 flash attention s8_attention_flash_16xkb96__neon for Armv8.0 Advanced SIMD
 * (Cortex-A72, no SDOT): each 4-byte dot product is smull / smull2 (s8 x s8 -> s16, |product| <= 127^2),
 * addp (pair sums <= 2 * 127^2 = 32258: no s16 overflow) and sadalp into the int32 lanes. Vocabulary and
 * tile: attention_s8_neon_vocab.h; algorithm and layout: ../attention_s8_impl.h; bit-identical to
 * scalar/attention_s8_scalar.c. */
#if defined(__aarch64__)
#include "sam2r_attention_s8.h"

#include <arm_neon.h>

#define S8_TGT
static inline __attribute__((always_inline)) int32x4_t s8_dot4_widen(int32x4_t acc, int8x16_t a, int8x16_t b) {
    const int16x8_t lo = vmull_s8(vget_low_s8(a), vget_low_s8(b)), hi = vmull_high_s8(a, b);
    return vpadalq_s16(acc, vpaddq_s16(lo, hi));
}
#define S8_DOT4(acc, a, b) s8_dot4_widen((acc), (a), (b))
#include "attention_s8_neon_vocab.h"
#include "../attention_s8_impl.h"

const sam2r_attention_s8_ukernel sam2r_s8_attention_neon = {
    "s8_attention_flash_16xkb96__neon", SAM2R_ISA_NEON, Q_BLOCK, S8_QT, S8_KB, s8_rows,
};
#endif
