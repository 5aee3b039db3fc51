/* gemm_f32_neon.c — fp32 GEMM micro-kernel f32_gemm_8x8__neonfma (Advanced SIMD is baseline on
 * aarch64; the dotprod and i8mm levels add nothing to fp32 and use the same kernel).
 *
 * 8 rows x 8 columns of C in 16 q accumulators; A is read 4 k values per row at a time (one q
 * register per row) and consumed with lane-indexed FMLA against two q loads of the packed weight
 * panel per k step. Blocking as the x86 kernels: K blocks of at most KC, then weight panels, then
 * 8-row micro-tiles. Column tails go through an 8-wide buffer on the stack. */
#if defined(__aarch64__)
#include "sam2r_gemm_f32.h"
#include "sam2r_gemm_f16w.h"
#include "../gemm_f32_kblock.h"

#include <arm_neon.h>

#define MR 8
#define NR 8
#ifndef SAM2R_F32_NEON_KC
#define SAM2R_F32_NEON_KC 256
#endif

#define TILE(name) name##_f32
#define TILE_W float
#define TILE_ARGS sam2r_gemm_f32_args
#define TILE_LOAD_W(p) vld1q_f32(p)
#include "gemm_f32_neon_tiles.h"
#undef TILE
#undef TILE_W
#undef TILE_ARGS
#undef TILE_LOAD_W

/* Binary16 weights (sam2r_gemm_f16w.h) for the decoder's token side: the weights are widened in registers
 * as the FMAs consume them, with no scratch panel. */
#define TILE(name) name##_f16w
#define TILE_W uint16_t
#define TILE_ARGS struct sam2r_gemm_f16w_args
#define TILE_LOAD_W(p) vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)))
#include "gemm_f32_neon_tiles.h"
#undef TILE
#undef TILE_W
#undef TILE_ARGS
#undef TILE_LOAD_W

const sam2r_gemm_f32_ukernel sam2r_f32_gemm_neon = {
    "f32_gemm_8x8__neonfma", SAM2R_ISA_NEON, MR, NR, gemm_rect_neon_f32, gemm_rect_neon_f16w,
};
const sam2r_gemm_f32_ukernel sam2r_f32_gemm_neon_dotprod = {
    "f32_gemm_8x8__neonfma", SAM2R_ISA_DOTPROD, MR, NR, gemm_rect_neon_f32, gemm_rect_neon_f16w,
};
const sam2r_gemm_f32_ukernel sam2r_f32_gemm_neon_i8mm = {
    "f32_gemm_8x8__neonfma", SAM2R_ISA_I8MM, MR, NR, gemm_rect_neon_f32, gemm_rect_neon_f16w,
};
#endif
