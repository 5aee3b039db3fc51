/* gemm_f32_avx512_common.h — what the two AVX-512 fp32 GEMM kernels (8x48, 6x64) share. Private to Kernels/. */
#ifndef SAM2R_GEMM_F32_AVX512_COMMON_H
#define SAM2R_GEMM_F32_AVX512_COMMON_H
#if defined(__x86_64__)

#include <immintrin.h>
#include <stdint.h>

#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

/* The lanes of a 16-lane column group that hold the first n of its columns (n <= 0: none, >= 16: all). */
static inline __mmask16 lane_mask(int32_t n) {
    return n <= 0 ? 0 : n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

#endif
#endif
