/* conv.c — convolution as GEMM on channels-last tensors: shape init, im2col (f32, s8), weight
 * permutations, and the scatter of a kernel == stride ConvTranspose.
 *
 * im2col: for output pixel (oy, ox) and kernel row ky, the taps kx that fall inside the image read
 * consecutive input pixels of one input row, and a channels-last row is contiguous, so each
 * (oy, ox, ky) is one memcpy of (valid kx) * c elements, with zero (pad_value) fill before/after. */
#include "sam2r_conv.h"

#include <string.h>

int sam2r_conv2d_shape_init(sam2r_conv2d_shape *s) {
    if (!s) return -1;
    if (s->h <= 0 || s->w <= 0 || s->c <= 0 || s->kh <= 0 || s->kw <= 0 || s->stride_h <= 0 || s->stride_w <= 0 ||
        s->pad_h < 0 || s->pad_w < 0)
        return -1;
    const int64_t eh = (int64_t)s->h + 2 * (int64_t)s->pad_h - s->kh;
    const int64_t ew = (int64_t)s->w + 2 * (int64_t)s->pad_w - s->kw;
    if (eh < 0 || ew < 0) return -1;
    const int64_t oh = eh / s->stride_h + 1, ow = ew / s->stride_w + 1;
    if (oh > INT32_MAX || ow > INT32_MAX) return -1;
    s->out_h = (int32_t)oh;
    s->out_w = (int32_t)ow;
    return 0;
}

/* One generic body for both element sizes: `esz` bytes per element, `fill` the padding byte
 * pattern (0 for f32 zeros; pad_value for s8). */
static void im2col_bytes(const sam2r_conv2d_shape *s, const unsigned char *x, size_t esz, int fill, int32_t oy0,
                         int32_t oy1, unsigned char *out, int32_t ld) {
    const int32_t c = s->c, kh = s->kh, kw = s->kw, w = s->w, h = s->h;
    const size_t rowb = (size_t)kw * (size_t)c * esz;   /* one ky segment of an im2col row */
    const size_t pixb = (size_t)c * esz;
    for (int32_t oy = oy0; oy < oy1; oy++) {
        for (int32_t ox = 0; ox < s->out_w; ox++) {
            unsigned char *row = out + ((size_t)(oy - oy0) * (size_t)s->out_w + (size_t)ox) * (size_t)ld * esz;
            const int32_t ix0 = ox * s->stride_w - s->pad_w;
            int32_t kx_lo = -ix0 > 0 ? -ix0 : 0;
            int32_t kx_hi = w - ix0 < kw ? w - ix0 : kw;
            if (kx_hi < kx_lo) kx_hi = kx_lo;
            for (int32_t ky = 0; ky < kh; ky++) {
                unsigned char *seg = row + (size_t)ky * rowb;
                const int32_t iy = oy * s->stride_h - s->pad_h + ky;
                if (iy < 0 || iy >= h || kx_hi == kx_lo) {
                    memset(seg, fill, rowb);
                    continue;
                }
                if (kx_lo > 0) memset(seg, fill, (size_t)kx_lo * pixb);
                memcpy(seg + (size_t)kx_lo * pixb, x + ((size_t)iy * (size_t)w + (size_t)(ix0 + kx_lo)) * pixb,
                       (size_t)(kx_hi - kx_lo) * pixb);
                if (kx_hi < kw) memset(seg + (size_t)kx_hi * pixb, fill, (size_t)(kw - kx_hi) * pixb);
            }
        }
    }
}

void sam2r_im2col_f32(const sam2r_conv2d_shape *s, const float *x, int32_t oy0, int32_t oy1, float *out, int32_t ld) {
    im2col_bytes(s, (const unsigned char *)x, sizeof(float), 0, oy0, oy1, (unsigned char *)out, ld);
}

void sam2r_im2col_s8(const sam2r_conv2d_shape *s, const int8_t *x, int8_t pad_value, int32_t oy0, int32_t oy1,
                     int8_t *out, int32_t ld) {
    im2col_bytes(s, (const unsigned char *)x, 1, (unsigned char)pad_value, oy0, oy1, (unsigned char *)out, ld);
}

void sam2r_conv_weight_to_hwc(const float *w, int32_t out, int32_t in, int32_t kh, int32_t kw, float *dst) {
    for (int32_t o = 0; o < out; o++)
        for (int32_t i = 0; i < in; i++)
            for (int32_t ky = 0; ky < kh; ky++)
                for (int32_t kx = 0; kx < kw; kx++)
                    dst[(((size_t)o * kh + ky) * kw + kx) * in + i] = w[(((size_t)o * in + i) * kh + ky) * kw + kx];
}

void sam2r_convtranspose_weight_to_gemm(const float *w, int32_t in, int32_t out, int32_t k, float *dst) {
    for (int32_t i = 0; i < in; i++)
        for (int32_t o = 0; o < out; o++)
            for (int32_t ky = 0; ky < k; ky++)
                for (int32_t kx = 0; kx < k; kx++)
                    dst[(((size_t)ky * k + kx) * out + o) * in + i] = w[(((size_t)i * out + o) * k + ky) * k + kx];
}

/* For fixed (y, x, ky), the k output pixels (y*k + ky, x*k + 0..k-1) are adjacent in y and their
 * k*out values are adjacent in the GEMM row too: one memcpy each. */
void sam2r_col2im_stride_eq_kernel_f32(const float *g, int32_t ldg, int32_t h, int32_t w, int32_t out, int32_t k,
                                       float *y) {
    const size_t seg = (size_t)k * (size_t)out;
    const size_t yrow = (size_t)w * seg;   /* one output row: w*k pixels of `out` */
    for (int32_t iy = 0; iy < h; iy++)
        for (int32_t ix = 0; ix < w; ix++) {
            const float *gr = g + ((size_t)iy * (size_t)w + (size_t)ix) * (size_t)ldg;
            for (int32_t ky = 0; ky < k; ky++)
                memcpy(y + ((size_t)iy * k + ky) * yrow + (size_t)ix * seg, gr + (size_t)ky * seg, seg * sizeof(float));
        }
}
