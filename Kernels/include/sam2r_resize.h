/* sam2r_resize.h — image and feature-map resampling, exactly as PyTorch does it (CPU, fp32).
 *
 * All tensors are channels last, [h][w][c], fp32.
 *  - Bilinear with antialias (torchvision Resize on a tensor, antialias=True, i.e.
 *    F.interpolate(mode="bilinear", antialias=True, align_corners=False)): separable; for output
 *    index i along an axis with scale s = in/out, center = (i + 0.5) * s, support = max(s, 1)
 *    (triangle filter of radius `support`), taps from floor(center - support + 0.5) to
 *    floor(center + support + 0.5) clipped to the input, weights tri((j + 0.5 - center) / max(s, 1))
 *    normalized to sum 1. Horizontal pass first, then vertical, as PyTorch's CPU kernel.
 *  - Bilinear without antialias, align_corners=False (SAM2's postprocess of 256^2 logits to image
 *    size): src = (i + 0.5) * s - 0.5 clamped at 0, two taps, edge-clamped.
 *  - Bicubic, align_corners=False, A = -0.75 (Hiera's background pos-embed interpolation):
 *    src = (i + 0.5) * s - 0.5 (not clamped), four taps with border replicate.
 *  - Nearest x2 (FPN top-down): y[i][j] = x[i/2][j/2].
 * Weights are computed into caller-provided scratch (sizes below), so resizing allocates nothing.
 */
#ifndef SAM2R_RESIZE_H
#define SAM2R_RESIZE_H

#include <stddef.h>
#include <stdint.h>
#include "sam2r_pool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sam2r_resize_mode {
    SAM2R_RESIZE_BILINEAR_AA = 0,
    SAM2R_RESIZE_BILINEAR = 1,
    SAM2R_RESIZE_BICUBIC = 2,
} sam2r_resize_mode;

/* Floats of scratch sam2r_resize_f32 needs (filter weights for both axes + the intermediate
 * horizontally-resized image of in_h x out_w x c). */
size_t sam2r_resize_scratch_floats(sam2r_resize_mode mode, int32_t in_h, int32_t in_w, int32_t out_h,
                                   int32_t out_w, int32_t c);

void sam2r_resize_f32(sam2r_resize_mode mode, const float *x, int32_t in_h, int32_t in_w, int32_t c,
                      float *y, int32_t out_h, int32_t out_w, float *scratch, sam2r_pool *pool);

void sam2r_upsample_nearest2x_f32(const float *x, int32_t h, int32_t w, int32_t c, float *y);

#ifdef __cplusplus
}
#endif
#endif
