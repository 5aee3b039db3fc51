/* rowops_scalar.c — portable reference row ops (f32_rowops__scalar). This file is the definition
 * every variant reproduces bit for bit (docs/numerics.md): sums in the canonical 16-lane order
 * (nm_sum16_tree), exp / erf / GELU by the operation sequences of numerics_impl.h (fmaf where the
 * SIMD variants fuse), IEEE division and sqrtf. */
#include "sam2r_rowops.h"
#include "sam2r_requant.h"
#include "numerics_scalar.h"

#include <math.h>

/* LayerNorm statistics, "corrected two-pass" (Chan, Golub & LeVeque): m0 = sum16(x) * (1/n), then
 * d = x - m0, s1 = sum16(d), s2 = sum16 of fma(d, d, lane); the residual c = s1 * (1/n) corrects the
 * rounding error of m0 and var = max(s2 * (1/n) - c * c, 0) (separate roundings). Outputs are
 * fma(((x - m0) - c) * rstd, gamma, beta), rstd = 1 / sqrtf(var + eps), so an offset like 1000 with
 * tiny noise keeps full precision (x - m0 is exact there). */
static void layernorm_scalar(const float *x, int32_t ldx, float *y, int32_t ldy, int32_t rows, int32_t cols,
                             const float *gamma, const float *beta, float eps) {
    const float inv_n = 1.0f / (float)cols;
    for (int32_t r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * (size_t)ldx;
        float *yr = y + (size_t)r * (size_t)ldy;
        float s[16] = {0}, s1[16] = {0}, s2[16] = {0};
        for (int32_t i = 0; i < cols; i++) s[i % 16] = s[i % 16] + xr[i];
        const float m0 = nm_sum16_tree(s) * inv_n;
        for (int32_t i = 0; i < cols; i++) {
            const float d = xr[i] - m0;
            s1[i % 16] = s1[i % 16] + d;
            s2[i % 16] = fmaf(d, d, s2[i % 16]);
        }
        const float c = nm_sum16_tree(s1) * inv_n;
        float var = nm_sum16_tree(s2) * inv_n - c * c;
        var = var > 0.0f ? var : 0.0f;
        const float rstd = 1.0f / sqrtf(var + eps);
        for (int32_t i = 0; i < cols; i++) yr[i] = fmaf(((xr[i] - m0) - c) * rstd, gamma[i], beta[i]);
    }
}

/* y = e * (1 / sum16(e)), e = nm_exp(x - max(x)); the max is exact in any order. */
static void softmax_scalar(const float *x, int32_t ldx, float *y, int32_t ldy, int32_t rows, int32_t cols) {
    for (int32_t r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * (size_t)ldx;
        float *yr = y + (size_t)r * (size_t)ldy;
        float mx = xr[0];
        for (int32_t i = 1; i < cols; i++) mx = xr[i] > mx ? xr[i] : mx;
        float s[16] = {0};
        for (int32_t i = 0; i < cols; i++) {
            const float e = nm_exp(xr[i] - mx);
            yr[i] = e;
            s[i % 16] = s[i % 16] + e;
        }
        const float inv = 1.0f / nm_sum16_tree(s);
        for (int32_t i = 0; i < cols; i++) yr[i] *= inv;
    }
}

static void gelu_scalar(const float *x, float *y, size_t count) {
    for (size_t i = 0; i < count; i++) y[i] = nm_gelu(x[i]);
}

static void add_scalar(const float *a, const float *b, float *y, size_t count) {
    for (size_t i = 0; i < count; i++) y[i] = a[i] + b[i];
}

static void maxpool2x2_scalar(const float *x, float *y, int32_t h, int32_t w, int32_t c) {
    const size_t row = (size_t)w * (size_t)c;
    for (int32_t i = 0; i < h / 2; i++) {
        for (int32_t j = 0; j < w / 2; j++) {
            const float *p = x + (size_t)(2 * i) * row + (size_t)(2 * j) * (size_t)c;
            float *q = y + ((size_t)i * (size_t)(w / 2) + (size_t)j) * (size_t)c;
            for (int32_t ch = 0; ch < c; ch++) {
                float m = p[ch];
                m = p[ch + c] > m ? p[ch + c] : m;
                m = p[row + ch] > m ? p[row + ch] : m;
                m = p[row + ch + c] > m ? p[row + ch + c] : m;
                q[ch] = m;
            }
        }
    }
}

static void quantize_s8_scalar(const float *x, int8_t *y, size_t count, float inv_scale, int32_t zero_point) {
    for (size_t i = 0; i < count; i++) y[i] = sam2r_quantize_s8(x[i], inv_scale, zero_point);
}

static void dequantize_s8_scalar(const int8_t *x, float *y, size_t count, float scale, int32_t zero_point) {
    for (size_t i = 0; i < count; i++) y[i] = (float)((int32_t)x[i] - zero_point) * scale;
}

const sam2r_rowops sam2r_f32_rowops_scalar = {
    "f32_rowops__scalar", SAM2R_ISA_SCALAR, layernorm_scalar, softmax_scalar, gelu_scalar, add_scalar,
    maxpool2x2_scalar, quantize_s8_scalar, dequantize_s8_scalar,
};
