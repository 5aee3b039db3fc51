/* rowops_neon.c — row ops f32_rowops__neon (Advanced SIMD, baseline on aarch64): 4 lanes; float
 * column tails go through a 4-float stack buffer so every element takes the vector arithmetic.
 * Bit-identical to the scalar reference (docs/numerics.md): row sums in the canonical 16-lane order,
 * held in four q registers (element i in a[(i / 4) % 4], lane i % 4); exp / erf / GELU from
 * numerics_impl.h. quantize_s8 uses FCVTNS (round to nearest, ties to even) after the fp32 clamp,
 * bit-identical to sam2r_quantize_s8. */
#if defined(__aarch64__)
#include "sam2r_rowops.h"
#include "sam2r_requant.h"
#include "numerics_neon.h"

#include <math.h>
#include <string.h>

/* Loads the r < 4 remaining floats, the other lanes set to `fill`. */
static inline float32x4_t load_tail(const float *p, size_t r, float fill) {
    float t[4] = {fill, fill, fill, fill};
    memcpy(t, p, r * sizeof(float));
    return vld1q_f32(t);
}

static inline void store_tail(float *p, size_t r, float32x4_t v) {
    float t[4];
    vst1q_f32(t, v);
    memcpy(p, t, r * sizeof(float));
}

/* All-ones in the lanes below r: the padding lanes of a tail must add +0, not f(padding). */
static inline uint32x4_t tail_lanes(size_t r) {
    const uint32_t idx[4] = {0, 1, 2, 3};
    return vcltq_u32(vld1q_u32(idx), vdupq_n_u32((uint32_t)r));
}

static inline float32x4_t keep_lanes(uint32x4_t lanes, float32x4_t v) {
    return vreinterpretq_f32_u32(vandq_u32(lanes, vreinterpretq_u32_f32(v)));
}

static void layernorm_neon(const float *x, int32_t ldx, float *y, int32_t ldy, int32_t rows, int32_t cols,
                           const float *gamma, const float *beta, float eps) {
    const size_t n = (size_t)cols, nv = n & ~(size_t)3, rem = n - nv;
    const uint32x4_t lanes = tail_lanes(rem);
    const float inv_n = 1.0f / (float)cols;
    const float32x4_t zero = vdupq_n_f32(0.0f);
    for (int32_t r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * (size_t)ldx;
        float *yr = y + (size_t)r * (size_t)ldy;
        float32x4_t s[4] = {zero, zero, zero, zero};
        size_t i = 0;
        for (; i + 16 <= n; i += 16)
            for (int j = 0; j < 4; j++) s[j] = vaddq_f32(s[j], vld1q_f32(xr + i + 4 * j));
        for (; i < nv; i += 4) s[(i / 4) % 4] = vaddq_f32(s[(i / 4) % 4], vld1q_f32(xr + i));
        if (rem) s[(i / 4) % 4] = vaddq_f32(s[(i / 4) % 4], load_tail(xr + i, rem, 0.0f));
        const float m0 = nm_sum16_neon(s) * inv_n;
        const float32x4_t vm0 = vdupq_n_f32(m0);
        float32x4_t s1[4] = {zero, zero, zero, zero}, s2[4] = {zero, zero, zero, zero};
        for (i = 0; i + 16 <= n; i += 16)
            for (int j = 0; j < 4; j++) {
                const float32x4_t d = vsubq_f32(vld1q_f32(xr + i + 4 * j), vm0);
                s1[j] = vaddq_f32(s1[j], d);
                s2[j] = vfmaq_f32(s2[j], d, d);
            }
        for (; i < nv; i += 4) {
            const float32x4_t d = vsubq_f32(vld1q_f32(xr + i), vm0);
            s1[(i / 4) % 4] = vaddq_f32(s1[(i / 4) % 4], d);
            s2[(i / 4) % 4] = vfmaq_f32(s2[(i / 4) % 4], d, d);
        }
        if (rem) {
            const float32x4_t d = keep_lanes(lanes, vsubq_f32(load_tail(xr + i, rem, 0.0f), vm0));
            s1[(i / 4) % 4] = vaddq_f32(s1[(i / 4) % 4], d);
            s2[(i / 4) % 4] = vfmaq_f32(s2[(i / 4) % 4], d, d);
        }
        const float c = nm_sum16_neon(s1) * inv_n;
        float var = nm_sum16_neon(s2) * inv_n - c * c;
        var = var > 0.0f ? var : 0.0f;
        const float32x4_t vrstd = vdupq_n_f32(1.0f / sqrtf(var + eps)), vc = vdupq_n_f32(c);
        for (i = 0; i < nv; i += 4) {
            const float32x4_t t = vmulq_f32(vsubq_f32(vsubq_f32(vld1q_f32(xr + i), vm0), vc), vrstd);
            vst1q_f32(yr + i, vfmaq_f32(vld1q_f32(beta + i), t, vld1q_f32(gamma + i)));
        }
        if (rem) {
            const float32x4_t t = vmulq_f32(vsubq_f32(vsubq_f32(load_tail(xr + i, rem, 0.0f), vm0), vc), vrstd);
            store_tail(yr + i, rem, vfmaq_f32(load_tail(beta + i, rem, 0.0f), t, load_tail(gamma + i, rem, 0.0f)));
        }
    }
}

static void softmax_neon(const float *x, int32_t ldx, float *y, int32_t ldy, int32_t rows, int32_t cols) {
    const size_t n = (size_t)cols, nv = n & ~(size_t)3, rem = n - nv;
    const uint32x4_t lanes = tail_lanes(rem);
    const float32x4_t zero = vdupq_n_f32(0.0f);
    for (int32_t r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * (size_t)ldx;
        float *yr = y + (size_t)r * (size_t)ldy;
        float32x4_t mx = vdupq_n_f32(-INFINITY);
        size_t i = 0;
        for (; i < nv; i += 4) mx = vmaxq_f32(mx, vld1q_f32(xr + i));
        if (rem) mx = vmaxq_f32(mx, load_tail(xr + i, rem, -INFINITY));
        const float32x4_t vmx = vdupq_n_f32(vmaxvq_f32(mx));
        float32x4_t s[4] = {zero, zero, zero, zero};
        for (i = 0; i + 16 <= n; i += 16)
            for (int j = 0; j < 4; j++) {
                const float32x4_t e = nm_exp(vsubq_f32(vld1q_f32(xr + i + 4 * j), vmx));
                vst1q_f32(yr + i + 4 * j, e);
                s[j] = vaddq_f32(s[j], e);
            }
        for (; i < nv; i += 4) {
            const float32x4_t e = nm_exp(vsubq_f32(vld1q_f32(xr + i), vmx));
            vst1q_f32(yr + i, e);
            s[(i / 4) % 4] = vaddq_f32(s[(i / 4) % 4], e);
        }
        if (rem) {
            const float32x4_t e = keep_lanes(lanes, nm_exp(vsubq_f32(load_tail(xr + i, rem, 0.0f), vmx)));
            store_tail(yr + i, rem, e);
            s[(i / 4) % 4] = vaddq_f32(s[(i / 4) % 4], e);
        }
        const float32x4_t inv = vdupq_n_f32(1.0f / nm_sum16_neon(s));
        for (i = 0; i < nv; i += 4) vst1q_f32(yr + i, vmulq_f32(vld1q_f32(yr + i), inv));
        if (rem) store_tail(yr + i, rem, vmulq_f32(load_tail(yr + i, rem, 0.0f), inv));
    }
}

static void gelu_neon(const float *x, float *y, size_t count) {
    size_t i = 0;
    for (; i + 4 <= count; i += 4) vst1q_f32(y + i, nm_gelu(vld1q_f32(x + i)));
    if (i < count) store_tail(y + i, count - i, nm_gelu(load_tail(x + i, count - i, 0.0f)));
}

static void add_neon(const float *a, const float *b, float *y, size_t count) {
    size_t i = 0;
    for (; i + 4 <= count; i += 4) vst1q_f32(y + i, vaddq_f32(vld1q_f32(a + i), vld1q_f32(b + i)));
    for (; i < count; i++) y[i] = a[i] + b[i];
}

/* m = b > m ? b : m, lane-wise, exactly as the scalar reference (FMAX would differ on +-0 and NaN). */
static inline float32x4_t max_as_scalar(float32x4_t b, float32x4_t m) { return vbslq_f32(vcgtq_f32(b, m), b, m); }

static void maxpool2x2_neon(const float *x, float *y, int32_t h, int32_t w, int32_t c) {
    const size_t row = (size_t)w * (size_t)c, n = (size_t)c, nv = n & ~(size_t)3;
    for (int32_t i = 0; i < h / 2; i++) {
        for (int32_t j = 0; j < w / 2; j++) {
            const float *p = x + (size_t)(2 * i) * row + (size_t)(2 * j) * n;
            float *q = y + ((size_t)i * (size_t)(w / 2) + (size_t)j) * n;
            size_t ch = 0;
            for (; ch < nv; ch += 4) {
                float32x4_t m = vld1q_f32(p + ch);
                m = max_as_scalar(vld1q_f32(p + ch + n), m);
                m = max_as_scalar(vld1q_f32(p + row + ch), m);
                m = max_as_scalar(vld1q_f32(p + row + ch + n), m);
                vst1q_f32(q + ch, m);
            }
            for (; ch < n; ch++) {
                float m = p[ch];
                m = p[ch + n] > m ? p[ch + n] : m;
                m = p[row + ch] > m ? p[row + ch] : m;
                m = p[row + ch + n] > m ? p[row + ch + n] : m;
                q[ch] = m;
            }
        }
    }
}

static inline int32x4_t quant4(float32x4_t x, float32x4_t inv, float32x4_t lo, float32x4_t hi, int32x4_t zp) {
    float32x4_t v = vmulq_f32(x, inv);
    v = vminq_f32(vmaxq_f32(v, lo), hi);
    return vaddq_s32(vcvtnq_s32_f32(v), zp);
}

static void quantize_s8_neon(const float *x, int8_t *y, size_t count, float inv_scale, int32_t zero_point) {
    const float32x4_t inv = vdupq_n_f32(inv_scale);
    const float32x4_t lo = vdupq_n_f32((float)(-128 - zero_point)), hi = vdupq_n_f32((float)(127 - zero_point));
    const int32x4_t zp = vdupq_n_s32(zero_point);
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        const int16x8_t a = vcombine_s16(vqmovn_s32(quant4(vld1q_f32(x + i), inv, lo, hi, zp)),
                                         vqmovn_s32(quant4(vld1q_f32(x + i + 4), inv, lo, hi, zp)));
        const int16x8_t b = vcombine_s16(vqmovn_s32(quant4(vld1q_f32(x + i + 8), inv, lo, hi, zp)),
                                         vqmovn_s32(quant4(vld1q_f32(x + i + 12), inv, lo, hi, zp)));
        vst1q_s8(y + i, vcombine_s8(vqmovn_s16(a), vqmovn_s16(b)));
    }
    for (; i < count; i++) y[i] = sam2r_quantize_s8(x[i], inv_scale, zero_point);
}

static void dequantize_s8_neon(const int8_t *x, float *y, size_t count, float scale, int32_t zero_point) {
    const float32x4_t s = vdupq_n_f32(scale);
    const int32x4_t zp = vdupq_n_s32(zero_point);
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const int16x8_t v = vmovl_s8(vld1_s8(x + i));
        const int32x4_t lo = vsubq_s32(vmovl_s16(vget_low_s16(v)), zp), hi = vsubq_s32(vmovl_s16(vget_high_s16(v)), zp);
        vst1q_f32(y + i, vmulq_f32(vcvtq_f32_s32(lo), s));
        vst1q_f32(y + i + 4, vmulq_f32(vcvtq_f32_s32(hi), s));
    }
    for (; i < count; i++) y[i] = (float)((int32_t)x[i] - zero_point) * scale;
}

const sam2r_rowops sam2r_f32_rowops_neon = {
    "f32_rowops__neon", SAM2R_ISA_NEON, layernorm_neon, softmax_neon, gelu_neon, add_neon,
    maxpool2x2_neon, quantize_s8_neon, dequantize_s8_neon,
};
#endif
