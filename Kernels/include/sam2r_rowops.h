/* sam2r_rowops.h — row-wise and elementwise fp32 kernels SAM2 needs, plus int8 (de)quantization.
 *
 * What each computes:
 *  - layernorm: mean and variance in fp32 over the row (two passes: mean, then sum of squared
 *    deviations — no E[x^2]-E[x]^2 cancellation); y = (x - mean) / sqrt(var + eps) * gamma + beta,
 *    biased variance (divide by cols), as torch.nn.LayerNorm. eps is the caller's (SAM2: 1e-6 in
 *    Hiera and LayerNorm2d, 1e-5 in the two-way transformer).
 *  - softmax: numerically stable, y = exp(x - max) / sum(exp(x - max)) per row.
 *  - gelu: exact form 0.5 * x * (1 + erf(x / sqrt(2))) (torch's default approximate='none'), with an
 *    erf approximation of max abs error 3.1e-7.
 *  - maxpool2x2: channels-last [h][w][c] -> [h/2][w/2][c], kernel = stride = 2 (h, w even).
 *  - quantize_s8 / dequantize_s8: the rule of sam2r_requant.h (round half to even, clamp first).
 * Every variant produces the scalar reference's bits (scalar/rowops_scalar.c defines the operation
 * sequence: 16-lane row sums, the exp / erf of numerics_impl.h; docs/numerics.md).
 * In-place (y == x) is allowed for every op except maxpool2x2.
 */
#ifndef SAM2R_ROWOPS_H
#define SAM2R_ROWOPS_H

#include <stddef.h>
#include <stdint.h>
#include "sam2r_isa.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sam2r_rowops {
    const char *name;       /* e.g. "f32_rowops__avx512f" */
    sam2r_isa isa;
    void (*layernorm)(const float *x, int32_t ldx, float *y, int32_t ldy, int32_t rows, int32_t cols,
                      const float *gamma, const float *beta, float eps);
    void (*softmax)(const float *x, int32_t ldx, float *y, int32_t ldy, int32_t rows, int32_t cols);
    void (*gelu)(const float *x, float *y, size_t count);
    void (*add)(const float *a, const float *b, float *y, size_t count);
    void (*maxpool2x2)(const float *x, float *y, int32_t h, int32_t w, int32_t c);
    void (*quantize_s8)(const float *x, int8_t *y, size_t count, float inv_scale, int32_t zero_point);
    void (*dequantize_s8)(const int8_t *x, float *y, size_t count, float scale, int32_t zero_point);
} sam2r_rowops;

/* The row ops of variant `isa` (falls back to the nearest lower level that has them, ending at
 * scalar; NULL only for an ISA of another architecture). */
const sam2r_rowops *sam2r_rowops_for(sam2r_isa isa);

#ifdef __cplusplus
}
#endif
#endif
