/* sam2r_requant.h — THE requantization rule of sam2r. Every int8 output of every ISA variant is
 * produced by exactly this arithmetic, which is why integer outputs are bit-identical everywhere.
 *
 * Given the exact int32 accumulator of an int8 GEMM
 *     acc = sum_k a[m,k] * w[n,k]  -  a_zero_point * wsum[n]  +  bias[n]       (int32, exact)
 * the int8 output is
 *     v = (float)acc                     int32 -> fp32, round-to-nearest-even (IEEE, MXCSR/FPCR default)
 *     v = v * scale[n]                   one fp32 multiply, round-to-nearest-even (no FMA: kernels are
 *                                         compiled with -ffp-contract=off and SIMD code uses mul, never fma)
 *     v = max(v, qmin - out_zero_point)  clamp in fp32, before conversion, so conversion cannot overflow
 *     v = min(v, qmax - out_zero_point)
 *     q = (int32)rint(v) + out_zero_point   fp32 -> int32 rounding half to EVEN (cvtps2dq / FCVTNS)
 * This is XNNPACK's "fp32" requantization: a single rounding, identical on SSE/AVX/AVX-512/NEON
 * because each step is a correctly rounded IEEE operation. Half-way cases round to even
 * (2.5 -> 2, -2.5 -> -2, 3.5 -> 4).
 *
 * The dequantizing epilogue (fp32 output) is  y = (float)acc * scale[n]  with the same two roundings.
 */
#ifndef SAM2R_REQUANT_H
#define SAM2R_REQUANT_H

#include <stdint.h>
#include <math.h>

#ifdef __cplusplus
extern "C" {
#endif

static inline int8_t sam2r_requant_s8(int32_t acc, float scale, int32_t out_zero_point,
                                      int32_t qmin, int32_t qmax) {
    float v = (float)acc;
    v = v * scale;
    const float lo = (float)(qmin - out_zero_point);
    const float hi = (float)(qmax - out_zero_point);
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    return (int8_t)((int32_t)rintf(v) + out_zero_point);
}

static inline float sam2r_dequant_acc(int32_t acc, float scale) {
    float v = (float)acc;
    return v * scale;
}

/* fp32 -> int8 activation quantization, same rounding (half to even) and clamp-before-convert:
 *     q = clamp(rint(x * inv_scale), qmin - zp, qmax - zp) + zp
 * NaN inputs are outside the kernels' contract (validated before quantizing). */
static inline int8_t sam2r_quantize_s8(float x, float inv_scale, int32_t zero_point) {
    float v = x * inv_scale;
    const float lo = (float)(-128 - zero_point);
    const float hi = (float)(127 - zero_point);
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    return (int8_t)((int32_t)rintf(v) + zero_point);
}

#ifdef __cplusplus
}
#endif
#endif
