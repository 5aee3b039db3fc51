/* attention_s8_dotprod.c — int8 flash attention s8_attention_flash_16xkb96__neon_dotprod (Armv8.2 SDOT:
 * Cortex-A76, Neoverse-N1, RK3588): one sdot per 4-byte dot product of 4 query lanes. The i8mm level
 * uses it too. Vocabulary and tile: attention_s8_neon_vocab.h; algorithm and layout:
 * ../attention_s8_impl.h; bit-identical to scalar/attention_s8_scalar.c. */
#if defined(__aarch64__)
#include "sam2r_attention_s8.h"

#include <arm_neon.h>

#define S8_TGT __attribute__((target("arch=armv8.2-a+dotprod")))
#define S8_DOT4(acc, a, b) vdotq_s32((acc), (a), (b))
#include "attention_s8_neon_vocab.h"
#include "../attention_s8_impl.h"

const sam2r_attention_s8_ukernel sam2r_s8_attention_dotprod = {
    "s8_attention_flash_16xkb96__neon_dotprod", SAM2R_ISA_DOTPROD, Q_BLOCK, S8_QT, S8_KB, s8_rows,
};
const sam2r_attention_s8_ukernel sam2r_s8_attention_i8mm = {
    "s8_attention_flash_16xkb96__neon_dotprod", SAM2R_ISA_I8MM, Q_BLOCK, S8_QT, S8_KB, s8_rows,
};
#endif
