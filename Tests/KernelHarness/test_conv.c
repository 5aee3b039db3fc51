/* test_conv.c — convolution helpers vs naive loops on PyTorch layouts.
 *  - im2col (f32) + a naive GEMM with the HWC-permuted weight vs a naive direct NCHW-weight
 *    convolution in double: NMSE <= 1e-12 (both sum the same products in float/double; only the
 *    order differs). im2col is also compared element-exactly with an index-by-index construction,
 *    for several output-row ranges (the tiling path), and s8 im2col with pad_value exactly.
 *  - ConvTranspose k == stride: GEMM with the permuted weight + col2im vs a naive scatter-add
 *    ConvTranspose in double: NMSE <= 1e-12.
 *  - shape init: output sizes and the invalid shapes. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#define CONV_NMSE_BOUND 1e-12

static void check_im2col(const sam2r_conv2d_shape *s, const float *x, const int8_t *x8, harness_rng *rng) {
    const int32_t K = s->kh * s->kw * s->c, ld = K + 3;
    const size_t rows = (size_t)s->out_h * s->out_w;
    float *col = harness_alloc(rows * ld * sizeof(float)), *ref = harness_alloc(rows * ld * sizeof(float));
    int8_t *col8 = harness_alloc(rows * ld), *ref8 = harness_alloc(rows * ld);
    const int8_t pad8 = (int8_t)harness_int(rng, -128, 127);
    for (size_t i = 0; i < rows * ld; i++) { col[i] = ref[i] = -99.0f; col8[i] = ref8[i] = 55; }
    for (int32_t oy = 0; oy < s->out_h; oy++)
        for (int32_t ox = 0; ox < s->out_w; ox++)
            for (int32_t ky = 0; ky < s->kh; ky++)
                for (int32_t kx = 0; kx < s->kw; kx++)
                    for (int32_t ch = 0; ch < s->c; ch++) {
                        const int32_t iy = oy * s->stride_h - s->pad_h + ky, ix = ox * s->stride_w - s->pad_w + kx;
                        const int in = iy >= 0 && iy < s->h && ix >= 0 && ix < s->w;
                        const size_t o = ((size_t)oy * s->out_w + ox) * ld + ((size_t)ky * s->kw + kx) * s->c + ch;
                        const size_t xi = ((size_t)iy * s->w + ix) * s->c + ch;
                        ref[o] = in ? x[xi] : 0.0f;
                        ref8[o] = in ? x8[xi] : pad8;
                    }
    /* Tiled over output rows: [0, a), [a, b), [b, out_h). */
    const int32_t a = harness_int(rng, 0, s->out_h), b = harness_int(rng, a, s->out_h);
    const int32_t cuts[4] = {0, a, b, s->out_h};
    for (int t = 0; t < 3; t++) {
        sam2r_im2col_f32(s, x, cuts[t], cuts[t + 1], col + (size_t)cuts[t] * s->out_w * ld, ld);
        sam2r_im2col_s8(s, x8, pad8, cuts[t], cuts[t + 1], col8 + (size_t)cuts[t] * s->out_w * ld, ld);
    }
    harness_check(memcmp(col, ref, rows * ld * sizeof(float)) == 0, "im2col f32 %dx%dx%d k%dx%d s%dx%d p%dx%d",
                  s->h, s->w, s->c, s->kh, s->kw, s->stride_h, s->stride_w, s->pad_h, s->pad_w);
    harness_check(memcmp(col8, ref8, rows * ld) == 0, "im2col s8 %dx%dx%d k%dx%d s%dx%d p%dx%d", s->h, s->w, s->c,
                  s->kh, s->kw, s->stride_h, s->stride_w, s->pad_h, s->pad_w);
    free(col); free(ref); free(col8); free(ref8);
}

static void conv_case(int32_t h, int32_t w, int32_t c, int32_t oc, int32_t kh, int32_t kw, int32_t sh, int32_t sw,
                      int32_t ph, int32_t pw, harness_rng *rng) {
    sam2r_conv2d_shape s = {h, w, c, kh, kw, sh, sw, ph, pw, 0, 0};
    if (sam2r_conv2d_shape_init(&s) != 0) { harness_check(0, "conv shape init failed"); return; }
    const size_t nx = (size_t)h * w * c, nw = (size_t)oc * c * kh * kw;
    float *x = harness_alloc(nx * sizeof(float)), *wt = harness_alloc(nw * sizeof(float));
    float *whwc = harness_alloc(nw * sizeof(float));
    int8_t *x8 = harness_alloc(nx);
    for (size_t i = 0; i < nx; i++) { x[i] = harness_float(rng, -1, 1); x8[i] = (int8_t)harness_int(rng, -128, 127); }
    for (size_t i = 0; i < nw; i++) wt[i] = harness_float(rng, -1, 1);
    check_im2col(&s, x, x8, rng);
    /* im2col + naive GEMM vs direct convolution. */
    const int32_t K = kh * kw * c;
    const size_t rows = (size_t)s.out_h * s.out_w;
    float *col = harness_alloc(rows * K * sizeof(float));
    float *got = harness_alloc(rows * oc * sizeof(float)), *ref = harness_alloc(rows * oc * sizeof(float));
    sam2r_conv_weight_to_hwc(wt, oc, c, kh, kw, whwc);
    sam2r_im2col_f32(&s, x, 0, s.out_h, col, K);
    for (size_t r = 0; r < rows; r++)
        for (int32_t o = 0; o < oc; o++) {
            float acc = 0.0f;
            for (int32_t k = 0; k < K; k++) acc += col[r * K + k] * whwc[(size_t)o * K + k];
            got[r * oc + o] = acc;
        }
    for (int32_t oy = 0; oy < s.out_h; oy++)
        for (int32_t ox = 0; ox < s.out_w; ox++)
            for (int32_t o = 0; o < oc; o++) {
                double acc = 0;
                for (int32_t i = 0; i < c; i++)
                    for (int32_t ky = 0; ky < kh; ky++)
                        for (int32_t kx = 0; kx < kw; kx++) {
                            const int32_t iy = oy * sh - ph + ky, ix = ox * sw - pw + kx;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            acc += (double)x[((size_t)iy * w + ix) * c + i] * wt[(((size_t)o * c + i) * kh + ky) * kw + kx];
                        }
                ref[((size_t)oy * s.out_w + ox) * oc + o] = (float)acc;
            }
    const double e = harness_nmse(ref, got, rows * oc);
    harness_check(e <= CONV_NMSE_BOUND, "conv %dx%dx%d->%d k%dx%d s%dx%d p%dx%d: NMSE %.3g", h, w, c, oc, kh, kw, sh, sw,
                  ph, pw, e);
    free(x); free(wt); free(whwc); free(x8); free(col); free(got); free(ref);
}

static void convtranspose_case(int32_t h, int32_t w, int32_t in, int32_t out, int32_t k, harness_rng *rng) {
    const size_t nx = (size_t)h * w * in, nw = (size_t)in * out * k * k, ny = (size_t)h * k * w * k * out;
    float *x = harness_alloc(nx * sizeof(float)), *wt = harness_alloc(nw * sizeof(float));
    float *wg = harness_alloc(nw * sizeof(float));
    const int32_t N = k * k * out, ldg = N + 5;
    float *g = harness_alloc((size_t)h * w * ldg * sizeof(float));
    float *y = harness_alloc(ny * sizeof(float));
    double *yd = harness_alloc(ny * sizeof(double));
    float *ref = harness_alloc(ny * sizeof(float));
    for (size_t i = 0; i < nx; i++) x[i] = harness_float(rng, -1, 1);
    for (size_t i = 0; i < nw; i++) wt[i] = harness_float(rng, -1, 1);
    sam2r_convtranspose_weight_to_gemm(wt, in, out, k, wg);
    for (size_t p = 0; p < (size_t)h * w; p++)
        for (int32_t n = 0; n < N; n++) {
            float acc = 0.0f;
            for (int32_t i = 0; i < in; i++) acc += x[p * in + i] * wg[(size_t)n * in + i];
            g[p * ldg + n] = acc;
        }
    sam2r_col2im_stride_eq_kernel_f32(g, ldg, h, w, out, k, y);
    /* Naive ConvTranspose2d (stride k, no padding): y[iy*k+ky][ix*k+kx][o] += x[iy][ix][i] * W[i][o][ky][kx]. */
    const int32_t W = w * k;
    for (int32_t iy = 0; iy < h; iy++)
        for (int32_t ix = 0; ix < w; ix++)
            for (int32_t i = 0; i < in; i++)
                for (int32_t o = 0; o < out; o++)
                    for (int32_t ky = 0; ky < k; ky++)
                        for (int32_t kx = 0; kx < k; kx++)
                            yd[((size_t)(iy * k + ky) * W + (ix * k + kx)) * out + o] +=
                                (double)x[((size_t)iy * w + ix) * in + i] * wt[(((size_t)i * out + o) * k + ky) * k + kx];
    for (size_t i = 0; i < ny; i++) ref[i] = (float)yd[i];
    const double e = harness_nmse(ref, y, ny);
    harness_check(e <= CONV_NMSE_BOUND, "convtranspose %dx%d %d->%d k%d: NMSE %.3g", h, w, in, out, k, e);
    free(x); free(wt); free(wg); free(g); free(y); free(yd); free(ref);
}

void test_conv(void) {
    harness_rng rng = {0xC0FFEE};
    /* SAM2's patch embed in miniature (7x7 s4 p3), the mask downscaler (2x2 s2), 3x3 s1 p1, 1x1,
     * asymmetric kernel/stride/pad, kernel larger than the image with padding, odd sizes. */
    conv_case(29, 23, 3, 5, 7, 7, 4, 4, 3, 3, &rng);
    conv_case(16, 16, 3, 4, 7, 7, 4, 4, 3, 3, &rng);
    conv_case(8, 10, 4, 3, 2, 2, 2, 2, 0, 0, &rng);
    conv_case(9, 7, 5, 6, 3, 3, 1, 1, 1, 1, &rng);
    conv_case(5, 6, 7, 2, 1, 1, 1, 1, 0, 0, &rng);
    conv_case(11, 13, 2, 3, 3, 5, 2, 3, 1, 2, &rng);
    conv_case(3, 4, 2, 2, 5, 6, 1, 2, 2, 3, &rng);
    conv_case(1, 1, 3, 2, 3, 3, 1, 1, 1, 1, &rng);
    convtranspose_case(4, 5, 6, 3, 2, &rng);
    convtranspose_case(3, 2, 4, 5, 3, &rng);
    convtranspose_case(1, 1, 2, 1, 1, &rng);
    /* Shape init. */
    sam2r_conv2d_shape s = {1024, 1024, 3, 7, 7, 4, 4, 3, 3, 0, 0};
    harness_check(sam2r_conv2d_shape_init(&s) == 0 && s.out_h == 256 && s.out_w == 256, "patch embed shape 256x256");
    sam2r_conv2d_shape bad1 = {2, 2, 1, 5, 5, 1, 1, 1, 1, 0, 0};
    harness_check(sam2r_conv2d_shape_init(&bad1) == -1, "kernel larger than padded input refused");
    sam2r_conv2d_shape bad2 = {4, 4, 1, 3, 3, 0, 1, 0, 0, 0, 0};
    harness_check(sam2r_conv2d_shape_init(&bad2) == -1, "zero stride refused");
    sam2r_conv2d_shape bad3 = {4, 4, 0, 3, 3, 1, 1, 0, 0, 0, 0};
    harness_check(sam2r_conv2d_shape_init(&bad3) == -1, "zero channels refused");
    sam2r_conv2d_shape bad4 = {4, 4, 1, 3, 3, 1, 1, -1, 0, 0, 0};
    harness_check(sam2r_conv2d_shape_init(&bad4) == -1, "negative padding refused");
}
