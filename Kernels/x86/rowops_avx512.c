/* rowops_avx512.c — row ops f32_rowops__avx512f: 16 lanes, column tails through AVX-512 masks, so
 * every element goes through the same vector arithmetic. Bit-identical to the scalar reference
 * (docs/numerics.md): one zmm is exactly the canonical 16-lane sum, reduced by nm_sum16_avx512;
 * exp / erf / GELU from numerics_impl.h. */
#if defined(__x86_64__)
#include "sam2r_rowops.h"
#include "numerics_avx512.h"

#include <math.h>

#define T512 NM_TGT

static inline __mmask16 tail_mask(size_t r) { return (__mmask16)((1u << r) - 1u); }

static T512 void layernorm_avx512(const float *x, int32_t ldx, float *y, int32_t ldy, int32_t rows, int32_t cols,
                                  const float *gamma, const float *beta, float eps) {
    const size_t n = (size_t)cols, nv = n & ~(size_t)15;
    const __mmask16 km = tail_mask(n - nv);
    const float inv_n = 1.0f / (float)cols;
    for (int32_t r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * (size_t)ldx;
        float *yr = y + (size_t)r * (size_t)ldy;
        __m512 s = _mm512_setzero_ps();
        size_t i = 0;
        for (; i < nv; i += 16) s = _mm512_add_ps(s, _mm512_loadu_ps(xr + i));
        if (km) s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(km, xr + i));
        const float m0 = nm_sum16_avx512(s) * inv_n;
        const __m512 vm0 = _mm512_set1_ps(m0);
        __m512 s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps();
        for (i = 0; i < nv; i += 16) {
            const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(xr + i), vm0);
            s1 = _mm512_add_ps(s1, d);
            s2 = _mm512_fmadd_ps(d, d, s2);
        }
        if (km) {
            const __m512 d = _mm512_maskz_sub_ps(km, _mm512_maskz_loadu_ps(km, xr + i), vm0);
            s1 = _mm512_add_ps(s1, d);
            s2 = _mm512_fmadd_ps(d, d, s2);
        }
        const float c = nm_sum16_avx512(s1) * inv_n;
        float var = nm_sum16_avx512(s2) * inv_n - c * c;
        var = var > 0.0f ? var : 0.0f;
        const __m512 vrstd = _mm512_set1_ps(1.0f / sqrtf(var + eps)), vc = _mm512_set1_ps(c);
        for (i = 0; i < nv; i += 16) {
            const __m512 t = _mm512_mul_ps(_mm512_sub_ps(_mm512_sub_ps(_mm512_loadu_ps(xr + i), vm0), vc), vrstd);
            _mm512_storeu_ps(yr + i, _mm512_fmadd_ps(t, _mm512_loadu_ps(gamma + i), _mm512_loadu_ps(beta + i)));
        }
        if (km) {
            const __m512 t = _mm512_mul_ps(_mm512_sub_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(km, xr + i), vm0), vc), vrstd);
            _mm512_mask_storeu_ps(yr + i, km, _mm512_fmadd_ps(t, _mm512_maskz_loadu_ps(km, gamma + i),
                                                              _mm512_maskz_loadu_ps(km, beta + i)));
        }
    }
}

static T512 void softmax_avx512(const float *x, int32_t ldx, float *y, int32_t ldy, int32_t rows, int32_t cols) {
    const size_t n = (size_t)cols, nv = n & ~(size_t)15;
    const __mmask16 km = tail_mask(n - nv);
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    for (int32_t r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * (size_t)ldx;
        float *yr = y + (size_t)r * (size_t)ldy;
        __m512 mx = ninf;
        size_t i = 0;
        for (; i < nv; i += 16) mx = _mm512_max_ps(mx, _mm512_loadu_ps(xr + i));
        if (km) mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(ninf, km, xr + i));
        const __m512 vmx = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
        __m512 s = _mm512_setzero_ps();
        for (i = 0; i < nv; i += 16) {
            const __m512 e = nm_exp(_mm512_sub_ps(_mm512_loadu_ps(xr + i), vmx));
            _mm512_storeu_ps(yr + i, e);
            s = _mm512_add_ps(s, e);
        }
        if (km) {
            const __m512 e = _mm512_maskz_mov_ps(km, nm_exp(_mm512_sub_ps(_mm512_maskz_loadu_ps(km, xr + i), vmx)));
            _mm512_mask_storeu_ps(yr + i, km, e);
            s = _mm512_add_ps(s, e);
        }
        const __m512 inv = _mm512_set1_ps(1.0f / nm_sum16_avx512(s));
        for (i = 0; i < nv; i += 16) _mm512_storeu_ps(yr + i, _mm512_mul_ps(_mm512_loadu_ps(yr + i), inv));
        if (km) _mm512_mask_storeu_ps(yr + i, km, _mm512_mul_ps(_mm512_maskz_loadu_ps(km, yr + i), inv));
    }
}

static T512 void gelu_avx512(const float *x, float *y, size_t count) {
    size_t i = 0;
    for (; i + 16 <= count; i += 16) _mm512_storeu_ps(y + i, nm_gelu(_mm512_loadu_ps(x + i)));
    if (i < count) {
        const __mmask16 km = tail_mask(count - i);
        _mm512_mask_storeu_ps(y + i, km, nm_gelu(_mm512_maskz_loadu_ps(km, x + i)));
    }
}

static T512 void add_avx512(const float *a, const float *b, float *y, size_t count) {
    size_t i = 0;
    for (; i + 16 <= count; i += 16)
        _mm512_storeu_ps(y + i, _mm512_add_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)));
    if (i < count) {
        const __mmask16 km = tail_mask(count - i);
        _mm512_mask_storeu_ps(y + i, km, _mm512_add_ps(_mm512_maskz_loadu_ps(km, a + i), _mm512_maskz_loadu_ps(km, b + i)));
    }
}

/* max(b, m) returns m when b > m is false (also for NaN and +-0), exactly as the scalar m = b > m ? b : m. */
static T512 void maxpool2x2_avx512(const float *x, float *y, int32_t h, int32_t w, int32_t c) {
    const size_t row = (size_t)w * (size_t)c, n = (size_t)c, nv = n & ~(size_t)15;
    const __mmask16 km = tail_mask(n - nv);
    for (int32_t i = 0; i < h / 2; i++) {
        for (int32_t j = 0; j < w / 2; j++) {
            const float *p = x + (size_t)(2 * i) * row + (size_t)(2 * j) * n;
            float *q = y + ((size_t)i * (size_t)(w / 2) + (size_t)j) * n;
            size_t ch = 0;
            for (; ch < nv; ch += 16) {
                __m512 m = _mm512_loadu_ps(p + ch);
                m = _mm512_max_ps(_mm512_loadu_ps(p + ch + n), m);
                m = _mm512_max_ps(_mm512_loadu_ps(p + row + ch), m);
                m = _mm512_max_ps(_mm512_loadu_ps(p + row + ch + n), m);
                _mm512_storeu_ps(q + ch, m);
            }
            if (km) {
                __m512 m = _mm512_maskz_loadu_ps(km, p + ch);
                m = _mm512_max_ps(_mm512_maskz_loadu_ps(km, p + ch + n), m);
                m = _mm512_max_ps(_mm512_maskz_loadu_ps(km, p + row + ch), m);
                m = _mm512_max_ps(_mm512_maskz_loadu_ps(km, p + row + ch + n), m);
                _mm512_mask_storeu_ps(q + ch, km, m);
            }
        }
    }
}

/* mul (never FMA), clamp in fp32, cvtps2dq under the default round-to-nearest-even MXCSR mode,
 * + zero point, saturating narrow (a no-op after the clamp): bit-identical to sam2r_quantize_s8. */
static inline __attribute__((always_inline)) T512 __m512i quant512(__m512 x, __m512 inv, __m512 lo, __m512 hi, __m512i zp) {
    __m512 v = _mm512_mul_ps(x, inv);
    v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
    return _mm512_add_epi32(_mm512_cvtps_epi32(v), zp);
}

static T512 void quantize_s8_avx512(const float *x, int8_t *y, size_t count, float inv_scale, int32_t zero_point) {
    const __m512 inv = _mm512_set1_ps(inv_scale);
    const __m512 lo = _mm512_set1_ps((float)(-128 - zero_point)), hi = _mm512_set1_ps((float)(127 - zero_point));
    const __m512i zp = _mm512_set1_epi32(zero_point);
    size_t i = 0;
    for (; i + 16 <= count; i += 16)
        _mm_storeu_si128((__m128i *)(y + i), _mm512_cvtsepi32_epi8(quant512(_mm512_loadu_ps(x + i), inv, lo, hi, zp)));
    if (i < count) {
        const __mmask16 km = tail_mask(count - i);
        _mm512_mask_cvtsepi32_storeu_epi8(y + i, km, quant512(_mm512_maskz_loadu_ps(km, x + i), inv, lo, hi, zp));
    }
}

static T512 void dequantize_s8_avx512(const int8_t *x, float *y, size_t count, float scale, int32_t zero_point) {
    const __m512 s = _mm512_set1_ps(scale);
    const __m512i zp = _mm512_set1_epi32(zero_point);
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        const __m512i v = _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(x + i))), zp);
        _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_cvtepi32_ps(v), s));
    }
    if (i < count) {
        const __mmask16 km = tail_mask(count - i);
        const __m512i v = _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(km, x + i)), zp);
        _mm512_mask_storeu_ps(y + i, km, _mm512_mul_ps(_mm512_cvtepi32_ps(v), s));
    }
}

const sam2r_rowops sam2r_f32_rowops_avx512 = {
    "f32_rowops__avx512f", SAM2R_ISA_AVX512VNNI, layernorm_avx512, softmax_avx512, gelu_avx512, add_avx512,
    maxpool2x2_avx512, quantize_s8_avx512, dequantize_s8_avx512,
};
#endif
