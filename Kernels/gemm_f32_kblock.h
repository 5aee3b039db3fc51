/* gemm_f32_kblock.h — the K blocking the SIMD fp32 GEMM variants share. Private to Kernels/.
 *
 * K is cut into the fewest blocks of at most kc_max, all of near-equal size (a 300-deep product with
 * kc_max 256 runs as 150 + 150, not 256 + 44): each block's weights stay in cache while the rows stream
 * past, and no block is a short, overhead-bound remainder. The first block starts from the bias, later
 * ones accumulate into C, so the fma chain over k is the same whatever the blocking (sam2r_gemm_f32.h). */
#ifndef SAM2R_GEMM_F32_KBLOCK_H
#define SAM2R_GEMM_F32_KBLOCK_H

#include <stdint.h>

/* Size of each K block (the last may be shorter) for a K of k and blocks of at most kc_max. */
static inline int32_t gemm_f32_k_block(int32_t k, int32_t kc_max) {
    const int32_t blocks = (k + kc_max - 1) / kc_max;
    return (k + blocks - 1) / blocks;
}

#endif
