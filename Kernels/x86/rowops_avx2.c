/* rowops_avx2.c — row ops f32_rowops__avx2_fma: 8 lanes, float column tails through vmaskmov,
 * int8 tails through the scalar rule of sam2r_requant.h (bit-identical by construction).
 *
 * The SIMD approximations of every variant (AVX2, AVX-512, NEON use the same constants and
 * operation order, with FMA):
 *  - exp(x): x clamped to [-87, 88]; n = round(x * log2(e)); r = x - n*0.693359375 - n*(-2.12194440e-4)
 *    (Cody-Waite split of ln 2); exp(r) = 1 + r + r^2 * P5(r) with the Cephes expf coefficients;
 *    result p * 2^n built in the exponent field. Max relative error ~2 ulp (1.2e-7 * 2) on the
 *    clamped range; below -87 it returns ~1.6e-38 instead of 0 (irrelevant to softmax, whose
 *    arguments are x - max <= 0 summed with the 1 of the max).
 *  - erf(x): the Eigen / TensorFlow rational approximation x * P(x^2) / Q(x^2) (P degree 6, Q
 *    degree 4 in x^2), x clamped to [-3.85, 3.85]. Max abs error 3.1e-7, measured in this fp32 FMA
 *    evaluation against double erf on a 1e-5 grid over [-6, 6] (requirement: <= 1e-6).
 *    GELU = 0.5 * x * (1 + erf(x / sqrt 2)) then has abs error <= 0.5 |x| * 3.1e-7 + rounding. */
#if defined(__x86_64__)
#include "sam2r_rowops.h"
#include "sam2r_requant.h"

#include <immintrin.h>
#include <math.h>

#define T256 __attribute__((target("avx2,fma")))

static inline __attribute__((always_inline)) T256 __m256i tail_mask8(size_t r) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline __attribute__((always_inline)) T256 float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline __attribute__((always_inline)) T256 float hmax256(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline __attribute__((always_inline)) T256 __m256 exp256(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

static inline __attribute__((always_inline)) T256 __m256 erf256(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-3.85f)), _mm256_set1_ps(3.85f));
    const __m256 x2 = _mm256_mul_ps(x, x);
    __m256 p = _mm256_fmadd_ps(x2, _mm256_set1_ps(-2.72614225801306e-10f), _mm256_set1_ps(2.77068142495902e-08f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-2.10102402082508e-06f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-5.69250639462346e-05f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-7.34990630326855e-04f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-2.95459980854025e-03f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-1.60960333262415e-02f));
    p = _mm256_mul_ps(p, x);
    __m256 q = _mm256_fmadd_ps(x2, _mm256_set1_ps(-1.45660718464996e-05f), _mm256_set1_ps(-2.13374055278905e-04f));
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-1.68282697438203e-03f));
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-7.37332916720468e-03f));
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-1.42647390514189e-02f));
    return _mm256_div_ps(p, q);
}

static T256 void layernorm_avx2(const float *x, int32_t ldx, float *y, int32_t ldy, int32_t rows, int32_t cols,
                                const float *gamma, const float *beta, float eps) {
    const size_t n = (size_t)cols, nv = n & ~(size_t)7;
    const __m256i km = tail_mask8(n - nv);
    const int tail = n != nv;
    const float inv_n = 1.0f / (float)cols;
    for (int32_t r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * (size_t)ldx;
        float *yr = y + (size_t)r * (size_t)ldy;
        __m256 s = _mm256_setzero_ps();
        size_t i = 0;
        for (; i < nv; i += 8) s = _mm256_add_ps(s, _mm256_loadu_ps(xr + i));
        if (tail) s = _mm256_add_ps(s, _mm256_maskload_ps(xr + i, km));
        const float m0 = hsum256(s) * inv_n;
        const __m256 vm0 = _mm256_set1_ps(m0);
        __m256 s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps();
        for (i = 0; i < nv; i += 8) {
            const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(xr + i), vm0);
            s1 = _mm256_add_ps(s1, d);
            s2 = _mm256_fmadd_ps(d, d, s2);
        }
        if (tail) {
            const __m256 d = _mm256_and_ps(_mm256_castsi256_ps(km), _mm256_sub_ps(_mm256_maskload_ps(xr + i, km), vm0));
            s1 = _mm256_add_ps(s1, d);
            s2 = _mm256_fmadd_ps(d, d, s2);
        }
        const float c = hsum256(s1) * inv_n;
        float var = hsum256(s2) * inv_n - c * c;
        var = var > 0.0f ? var : 0.0f;
        const __m256 vrstd = _mm256_set1_ps(1.0f / sqrtf(var + eps)), vc = _mm256_set1_ps(c);
        for (i = 0; i < nv; i += 8) {
            const __m256 t = _mm256_mul_ps(_mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + i), vm0), vc), vrstd);
            _mm256_storeu_ps(yr + i, _mm256_fmadd_ps(t, _mm256_loadu_ps(gamma + i), _mm256_loadu_ps(beta + i)));
        }
        if (tail) {
            const __m256 t = _mm256_mul_ps(_mm256_sub_ps(_mm256_sub_ps(_mm256_maskload_ps(xr + i, km), vm0), vc), vrstd);
            _mm256_maskstore_ps(yr + i, km, _mm256_fmadd_ps(t, _mm256_maskload_ps(gamma + i, km),
                                                            _mm256_maskload_ps(beta + i, km)));
        }
    }
}

static T256 void softmax_avx2(const float *x, int32_t ldx, float *y, int32_t ldy, int32_t rows, int32_t cols) {
    const size_t n = (size_t)cols, nv = n & ~(size_t)7;
    const __m256i km = tail_mask8(n - nv);
    const int tail = n != nv;
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    for (int32_t r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * (size_t)ldx;
        float *yr = y + (size_t)r * (size_t)ldy;
        __m256 mx = ninf;
        size_t i = 0;
        for (; i < nv; i += 8) mx = _mm256_max_ps(mx, _mm256_loadu_ps(xr + i));
        if (tail) mx = _mm256_max_ps(mx, _mm256_blendv_ps(ninf, _mm256_maskload_ps(xr + i, km), _mm256_castsi256_ps(km)));
        const __m256 vmx = _mm256_set1_ps(hmax256(mx));
        __m256 s = _mm256_setzero_ps();
        for (i = 0; i < nv; i += 8) {
            const __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(xr + i), vmx));
            _mm256_storeu_ps(yr + i, e);
            s = _mm256_add_ps(s, e);
        }
        if (tail) {
            const __m256 e = _mm256_and_ps(_mm256_castsi256_ps(km), exp256(_mm256_sub_ps(_mm256_maskload_ps(xr + i, km), vmx)));
            _mm256_maskstore_ps(yr + i, km, e);
            s = _mm256_add_ps(s, e);
        }
        const __m256 inv = _mm256_set1_ps(1.0f / hsum256(s));
        for (i = 0; i < nv; i += 8) _mm256_storeu_ps(yr + i, _mm256_mul_ps(_mm256_loadu_ps(yr + i), inv));
        if (tail) _mm256_maskstore_ps(yr + i, km, _mm256_mul_ps(_mm256_maskload_ps(yr + i, km), inv));
    }
}

static inline __attribute__((always_inline)) T256 __m256 gelu256(__m256 v) {
    const __m256 e = erf256(_mm256_mul_ps(v, _mm256_set1_ps(0.70710678118654752f)));
    return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), v), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

static T256 void gelu_avx2(const float *x, float *y, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) _mm256_storeu_ps(y + i, gelu256(_mm256_loadu_ps(x + i)));
    if (i < count) {
        const __m256i km = tail_mask8(count - i);
        _mm256_maskstore_ps(y + i, km, gelu256(_mm256_maskload_ps(x + i, km)));
    }
}

static T256 void add_avx2(const float *a, const float *b, float *y, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8)
        _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    if (i < count) {
        const __m256i km = tail_mask8(count - i);
        _mm256_maskstore_ps(y + i, km, _mm256_add_ps(_mm256_maskload_ps(a + i, km), _mm256_maskload_ps(b + i, km)));
    }
}

/* max(b, m) returns m when b > m is false (also for NaN and +-0), exactly as the scalar m = b > m ? b : m. */
static T256 void maxpool2x2_avx2(const float *x, float *y, int32_t h, int32_t w, int32_t c) {
    const size_t row = (size_t)w * (size_t)c, n = (size_t)c, nv = n & ~(size_t)7;
    const __m256i km = tail_mask8(n - nv);
    for (int32_t i = 0; i < h / 2; i++) {
        for (int32_t j = 0; j < w / 2; j++) {
            const float *p = x + (size_t)(2 * i) * row + (size_t)(2 * j) * n;
            float *q = y + ((size_t)i * (size_t)(w / 2) + (size_t)j) * n;
            size_t ch = 0;
            for (; ch < nv; ch += 8) {
                __m256 m = _mm256_loadu_ps(p + ch);
                m = _mm256_max_ps(_mm256_loadu_ps(p + ch + n), m);
                m = _mm256_max_ps(_mm256_loadu_ps(p + row + ch), m);
                m = _mm256_max_ps(_mm256_loadu_ps(p + row + ch + n), m);
                _mm256_storeu_ps(q + ch, m);
            }
            if (ch < n) {
                __m256 m = _mm256_maskload_ps(p + ch, km);
                m = _mm256_max_ps(_mm256_maskload_ps(p + ch + n, km), m);
                m = _mm256_max_ps(_mm256_maskload_ps(p + row + ch, km), m);
                m = _mm256_max_ps(_mm256_maskload_ps(p + row + ch + n, km), m);
                _mm256_maskstore_ps(q + ch, km, m);
            }
        }
    }
}

/* mul (never FMA), clamp in fp32, cvtps2dq (round to nearest even under the default MXCSR), + zp;
 * packs saturate but cannot change values already clamped into [-128, 127]. */
static T256 void quantize_s8_avx2(const float *x, int8_t *y, size_t count, float inv_scale, int32_t zero_point) {
    const __m256 inv = _mm256_set1_ps(inv_scale);
    const __m256 lo = _mm256_set1_ps((float)(-128 - zero_point)), hi = _mm256_set1_ps((float)(127 - zero_point));
    const __m256i zp = _mm256_set1_epi32(zero_point);
    const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    size_t i = 0;
#define Q(off) _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i + (off)), inv), lo), hi)), zp)
    for (; i + 32 <= count; i += 32) {
        const __m256i ab = _mm256_packs_epi32(Q(0), Q(8)), cd = _mm256_packs_epi32(Q(16), Q(24));
        const __m256i v = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(ab, cd), perm);
        _mm256_storeu_si256((__m256i *)(y + i), v);
    }
    for (; i + 8 <= count; i += 8) {
        const __m256i q = Q(0);
        const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        _mm_storel_epi64((__m128i *)(y + i), _mm_packs_epi16(w, w));
    }
#undef Q
    for (; i < count; i++) y[i] = sam2r_quantize_s8(x[i], inv_scale, zero_point);
}

static T256 void dequantize_s8_avx2(const int8_t *x, float *y, size_t count, float scale, int32_t zero_point) {
    const __m256 s = _mm256_set1_ps(scale);
    const __m256i zp = _mm256_set1_epi32(zero_point);
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256i v = _mm256_sub_epi32(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(x + i))), zp);
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_cvtepi32_ps(v), s));
    }
    for (; i < count; i++) y[i] = (float)((int32_t)x[i] - zero_point) * scale;
}

const sam2r_rowops sam2r_f32_rowops_avx2 = {
    "f32_rowops__avx2_fma", SAM2R_ISA_AVX2, layernorm_avx2, softmax_avx2, gelu_avx2, add_avx2,
    maxpool2x2_avx2, quantize_s8_avx2, dequantize_s8_avx2,
};
#endif
