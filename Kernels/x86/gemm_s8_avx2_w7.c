/* gemm_s8_avx2_w7.c — qs8_qc7w_gemm_fp32_6x16c4__avx2: the int8 GEMM for AVX2 without VNNI when every
 * weight is within [-64, 64] (a model quantized with 7-bit weights, `sam2r quantize --weight-bits 7`).
 *
 * The 4-byte multiply-accumulate is vpmaddubsw (unsigned a x signed w, adjacent pairs summed into int16
 * with saturation) + vpmaddwd with ones (the two int16 sums into the int32 lane) + vpaddd. With a in
 * [0, 255] (a + 128, see gemm_s8_c4_ymm_impl.h) and |w| <= 64 a pair is at most 2 * 255 * 64 = 32640 <
 * 32767: never saturated, so the sums are exact and the results bit-identical to the scalar reference.
 * With 8-bit weights vpmaddubsw could saturate: the caller (PackedWeightsS8) picks this kernel only
 * for weights it has checked. Why: on Zen 3 this sequence sustains ~1.6x the MACs of the vpmaddwd +
 * vpaddd pair of the 8-bit avx2 kernel in register-only loops, and this GEMM 1.2-1.3x the 8-bit one
 * (it needs two more ymm, so one accumulator spills; BENCHMARKS.md, "AVX2-only host").
 */
#if defined(__x86_64__)
#define TGT __attribute__((target("avx2,fma")))
#define C4_DOT(acc, a, w) \
    ((acc) = _mm256_add_epi32((acc), _mm256_madd_epi16(_mm256_maddubs_epi16((a), (w)), _mm256_set1_epi16(1))))
#define C4_RECT_NAME qs8_gemm_rect_avx2_w7
#include "gemm_s8_c4_ymm_impl.h"

const sam2r_gemm_s8_ukernel sam2r_qs8_gemm_avx2_w7 = {
    "qs8_qc7w_gemm_fp32_6x16c4__avx2", SAM2R_ISA_AVX2, MR, NR, 4, qs8_gemm_rect_avx2_w7,
};

#endif
