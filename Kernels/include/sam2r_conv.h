/* sam2r_conv.h — helpers that turn convolutions into GEMMs on channels-last tensors.
 *
 * Convolution = im2col + GEMM: input x is [h][w][c] (channels last); output row (oy, ox) of the
 * im2col matrix holds the patch in (ky, kx, c) order, zeros where the window leaves the image, so a
 * PyTorch weight [out][in][kh][kw] must be permuted once at load to [out][kh][kw][in]
 * (sam2r_conv_weight_to_hwc). Output rows are produced for the output-row range [oy0, oy1), so
 * large convolutions (Hiera's 7x7/4 patch embed on 1024^2) are tiled without a full im2col buffer.
 *
 * ConvTranspose with kernel == stride (SAM2's 2x2/2 upscaling) is a GEMM from [h*w][in] to
 * [h*w][out*k*k] followed by sam2r_col2im_stride_eq_kernel, which scatters each (ky, kx) block to
 * output pixel (y*k + ky, x*k + kx) — no overlaps, so no accumulation. PyTorch's ConvTranspose
 * weight [in][out][k][k] becomes the GEMM weight [(ky, kx, out)][in] via
 * sam2r_convtranspose_weight_to_gemm.
 */
#ifndef SAM2R_CONV_H
#define SAM2R_CONV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sam2r_conv2d_shape {
    int32_t h, w, c;          /* input, channels last */
    int32_t kh, kw;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;
    int32_t out_h, out_w;     /* (h + 2*pad_h - kh) / stride_h + 1, likewise for w */
} sam2r_conv2d_shape;

/* Fills out_h/out_w; returns 0, or -1 if the shape is invalid (non-positive or empty output). */
int sam2r_conv2d_shape_init(sam2r_conv2d_shape *s);

/* Writes rows for output rows [oy0, oy1): (oy1-oy0)*out_w rows of kh*kw*c floats, row stride ld (>= kh*kw*c). */
void sam2r_im2col_f32(const sam2r_conv2d_shape *s, const float *x, int32_t oy0, int32_t oy1, float *out, int32_t ld);
void sam2r_im2col_s8(const sam2r_conv2d_shape *s, const int8_t *x, int8_t pad_value, int32_t oy0, int32_t oy1,
                     int8_t *out, int32_t ld);

/* [out][in][kh][kw] -> [out][kh][kw][in] */
void sam2r_conv_weight_to_hwc(const float *w, int32_t out, int32_t in, int32_t kh, int32_t kw, float *dst);
/* ConvTranspose [in][out][k][k] -> GEMM weight [(ky*k + kx)*out + o][in] */
void sam2r_convtranspose_weight_to_gemm(const float *w, int32_t in, int32_t out, int32_t k, float *dst);
/* y [h*k][w*k][out] from GEMM output g [h*w][k*k*out] (row stride ldg) — kernel == stride == k. */
void sam2r_col2im_stride_eq_kernel_f32(const float *g, int32_t ldg, int32_t h, int32_t w, int32_t out, int32_t k,
                                       float *y);

#ifdef __cplusplus
}
#endif
#endif
