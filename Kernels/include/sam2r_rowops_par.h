/* sam2r_rowops_par.h — the row ops of sam2r_rowops.h split over a sam2r_pool.
 *
 * Every op here is row-wise (layernorm) or elementwise (gelu, add, quantize), so a split changes
 * which thread computes an element, never how: results are bit-identical to the single call for
 * any thread count. Work below ~32 K elements per task runs on the caller (a pool round trip costs
 * more than it saves). Elementwise splits fall on multiples of 64 elements, so every task but the
 * last runs whole vectors. A NULL pool runs the single call.
 */
#ifndef SAM2R_ROWOPS_PAR_H
#define SAM2R_ROWOPS_PAR_H

#include <stddef.h>
#include <stdint.h>
#include "sam2r_pool.h"
#include "sam2r_rowops.h"

#ifdef __cplusplus
extern "C" {
#endif

void sam2r_par_layernorm(const sam2r_rowops *ops, sam2r_pool *pool, const float *x, int32_t ldx, float *y,
                         int32_t ldy, int32_t rows, int32_t cols, const float *gamma, const float *beta, float eps);
void sam2r_par_gelu(const sam2r_rowops *ops, sam2r_pool *pool, const float *x, float *y, size_t count);
void sam2r_par_add(const sam2r_rowops *ops, sam2r_pool *pool, const float *a, const float *b, float *y,
                   size_t count);
/* Also reports, at no extra pass over memory, whether x has a NaN or Inf (1) or not (0): the
 * quantized output of a NaN is unspecified, so the caller must not use y when this returns 1
 * unless x holds no NaN. */
int32_t sam2r_par_quantize_s8(const sam2r_rowops *ops, sam2r_pool *pool, const float *x, int8_t *y, size_t count,
                              float inv_scale, int32_t zero_point);

/* Fused producer + quantize_s8: the same bits as the producer into a float buffer followed by
 * quantize_s8 of that buffer, without the buffer (each piece goes through a stack scratch of
 * SAM2R_FUSED_SCRATCH_FLOATS floats). Output is packed int8. Each returns -1, or the smallest flat
 * index (into the unfused float buffer) of a NaN quantize input; then y is unspecified. Inf clamps.
 * layernorm_s8 needs cols <= SAM2R_FUSED_SCRATCH_FLOATS. */
#define SAM2R_FUSED_SCRATCH_FLOATS 4096
int64_t sam2r_par_layernorm_s8(const sam2r_rowops *ops, sam2r_pool *pool, const float *x, int32_t ldx, int8_t *y,
                               int32_t rows, int32_t cols, const float *gamma, const float *beta, float eps,
                               float inv_scale, int32_t zero_point);
int64_t sam2r_par_gelu_s8(const sam2r_rowops *ops, sam2r_pool *pool, const float *x, int8_t *y, size_t count,
                          float inv_scale, int32_t zero_point);
/* Window partition + LayerNorm + quantize: x is a [side][side][cols] image cut into win x win windows,
 * windows_per_row = ceil(side / win) of them per row, numbered row-major. Windows
 * [first_window, first_window + windows) go to y as [windows][win * win][cols], each token
 * layer-normed; tokens past the image edge (padding) are quantize(0) = zero_point. */
int64_t sam2r_par_window_layernorm_s8(const sam2r_rowops *ops, sam2r_pool *pool, const float *x, int32_t side,
                                      int32_t cols, int32_t win, int32_t windows_per_row, int32_t first_window,
                                      int32_t windows, int8_t *y, const float *gamma, const float *beta, float eps,
                                      float inv_scale, int32_t zero_point);
/* Window un-partition + residual add: y [side][side][cols] += x [windows][win * win][cols] for windows
 * [first_window, first_window + windows) (windows_per_row per row, row-major); tokens past the image
 * edge (padding) are dropped. Each window row is one add call: the bits of add. */
void sam2r_par_window_add(const sam2r_rowops *ops, sam2r_pool *pool, float *y, int32_t side, int32_t cols, int32_t win,
                          int32_t windows_per_row, int32_t first_window, int32_t windows, const float *x);
/* 2x2 max pool inside each win x win window (win even): x [windows][win][win] rows of stride ldx (the
 * first cols floats of each are pooled) -> y [windows][win/2][win/2][cols] packed. max(a, b) is
 * b >= a ? b : a (Swift's max), applied as max(max(x00, x01), max(x10, x11)). */
void sam2r_par_window_maxpool2x2(const sam2r_rowops *ops, sam2r_pool *pool, const float *x, int32_t ldx, int32_t win,
                                 int32_t windows, int32_t cols, float *y);
/* Residual + LayerNorm (+ positional add), one pass over memory instead of three or four:
 * y = layernorm(x + b) with every row of x first given `row` (when not NULL: x + row + b, added in that
 * order, a broadcast [cols] vector), and, when y_pe is not NULL, y_pe = y + pe. All [rows][cols]
 * packed; y may be x or b. Bit-identical to add, (add,) layernorm, add as whole-tensor calls. */
void sam2r_par_residual_layernorm(const sam2r_rowops *ops, sam2r_pool *pool, const float *x, const float *row,
                                  const float *b, float *y, int32_t rows, int32_t cols, const float *gamma,
                                  const float *beta, float eps, const float *pe, float *y_pe);
/* The same on the calling thread, a few KB of rows at a time (each block still in L1 for the next step). */
void sam2r_residual_layernorm_rows(const sam2r_rowops *ops, const float *x, const float *row, const float *b,
                                   float *y, int32_t rows, int32_t cols, const float *gamma, const float *beta,
                                   float eps, const float *pe, float *y_pe);

#ifdef __cplusplus
}
#endif
#endif
