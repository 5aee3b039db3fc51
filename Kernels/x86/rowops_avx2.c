/* rowops_avx2.c — row ops f32_rowops__avx2_fma: 8 lanes, float column tails through vmaskmov,
 * int8 tails through the scalar rule of sam2r_requant.h. Bit-identical to the scalar reference
 * (docs/numerics.md): row sums in the canonical 16-lane order, held in two ymm (elements 16c .. 16c+7
 * in `lo`, 16c+8 .. 16c+15 in `hi`); exp / erf / GELU from numerics_impl.h. */
#if defined(__x86_64__)
#include "sam2r_rowops.h"
#include "sam2r_requant.h"
#include "numerics_avx2.h"

#include <math.h>

#define T256 NM_TGT

static inline __attribute__((always_inline)) T256 __m256i tail_mask8(size_t r) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline __attribute__((always_inline)) T256 float hmax256(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* The 16-lane walk of a row of n floats: FULL(i) for the 8 elements at i, whose lanes are in `lo` when
 * i % 16 == 0 and in `hi` otherwise; the last n % 8 elements through the mask km. */
#define ROW16(n, nv, km, LO, HI, LOTAIL, HITAIL)                                     \
    do {                                                                             \
        size_t i_ = 0;                                                               \
        for (; i_ + 16 <= (n); i_ += 16) { LO(i_); HI(i_ + 8); }                     \
        if (i_ + 8 <= (nv)) { LO(i_); i_ += 8; if (i_ < (n)) HITAIL(i_, km); }       \
        else if (i_ < (n)) LOTAIL(i_, km);                                           \
    } while (0)

static T256 void layernorm_avx2(const float *x, int32_t ldx, float *y, int32_t ldy, int32_t rows, int32_t cols,
                                const float *gamma, const float *beta, float eps) {
    const size_t n = (size_t)cols, nv = n & ~(size_t)7;
    const __m256i km = tail_mask8(n - nv);
    const int tail = n != nv;
    const float inv_n = 1.0f / (float)cols;
    for (int32_t r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * (size_t)ldx;
        float *yr = y + (size_t)r * (size_t)ldy;
        __m256 s_lo = _mm256_setzero_ps(), s_hi = s_lo;
#define S_LO(i) s_lo = _mm256_add_ps(s_lo, _mm256_loadu_ps(xr + (i)))
#define S_HI(i) s_hi = _mm256_add_ps(s_hi, _mm256_loadu_ps(xr + (i)))
#define S_LOT(i, m) s_lo = _mm256_add_ps(s_lo, _mm256_maskload_ps(xr + (i), m))
#define S_HIT(i, m) s_hi = _mm256_add_ps(s_hi, _mm256_maskload_ps(xr + (i), m))
        ROW16(n, nv, km, S_LO, S_HI, S_LOT, S_HIT);
        const float m0 = nm_sum16_avx2(s_lo, s_hi) * inv_n;
        const __m256 vm0 = _mm256_set1_ps(m0);
        __m256 s1_lo = _mm256_setzero_ps(), s1_hi = s1_lo, s2_lo = s1_lo, s2_hi = s1_lo;
#define D_LO(i) { const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(xr + (i)), vm0); \
                  s1_lo = _mm256_add_ps(s1_lo, d); s2_lo = _mm256_fmadd_ps(d, d, s2_lo); }
#define D_HI(i) { const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(xr + (i)), vm0); \
                  s1_hi = _mm256_add_ps(s1_hi, d); s2_hi = _mm256_fmadd_ps(d, d, s2_hi); }
#define D_LOT(i, m) { const __m256 d = _mm256_and_ps(_mm256_castsi256_ps(m), _mm256_sub_ps(_mm256_maskload_ps(xr + (i), m), vm0)); \
                      s1_lo = _mm256_add_ps(s1_lo, d); s2_lo = _mm256_fmadd_ps(d, d, s2_lo); }
#define D_HIT(i, m) { const __m256 d = _mm256_and_ps(_mm256_castsi256_ps(m), _mm256_sub_ps(_mm256_maskload_ps(xr + (i), m), vm0)); \
                      s1_hi = _mm256_add_ps(s1_hi, d); s2_hi = _mm256_fmadd_ps(d, d, s2_hi); }
        ROW16(n, nv, km, D_LO, D_HI, D_LOT, D_HIT);
#undef S_LO
#undef S_HI
#undef S_LOT
#undef S_HIT
#undef D_LO
#undef D_HI
#undef D_LOT
#undef D_HIT
        const float c = nm_sum16_avx2(s1_lo, s1_hi) * inv_n;
        float var = nm_sum16_avx2(s2_lo, s2_hi) * inv_n - c * c;
        var = var > 0.0f ? var : 0.0f;
        const __m256 vrstd = _mm256_set1_ps(1.0f / sqrtf(var + eps)), vc = _mm256_set1_ps(c);
        size_t i = 0;
        for (; i < nv; i += 8) {
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
        __m256 s_lo = _mm256_setzero_ps(), s_hi = s_lo;
#define E_LO(i) { const __m256 e = nm_exp(_mm256_sub_ps(_mm256_loadu_ps(xr + (i)), vmx)); \
                  _mm256_storeu_ps(yr + (i), e); s_lo = _mm256_add_ps(s_lo, e); }
#define E_HI(i) { const __m256 e = nm_exp(_mm256_sub_ps(_mm256_loadu_ps(xr + (i)), vmx)); \
                  _mm256_storeu_ps(yr + (i), e); s_hi = _mm256_add_ps(s_hi, e); }
#define E_LOT(i, m) { const __m256 e = _mm256_and_ps(_mm256_castsi256_ps(m), nm_exp(_mm256_sub_ps(_mm256_maskload_ps(xr + (i), m), vmx))); \
                      _mm256_maskstore_ps(yr + (i), m, e); s_lo = _mm256_add_ps(s_lo, e); }
#define E_HIT(i, m) { const __m256 e = _mm256_and_ps(_mm256_castsi256_ps(m), nm_exp(_mm256_sub_ps(_mm256_maskload_ps(xr + (i), m), vmx))); \
                      _mm256_maskstore_ps(yr + (i), m, e); s_hi = _mm256_add_ps(s_hi, e); }
        ROW16(n, nv, km, E_LO, E_HI, E_LOT, E_HIT);
#undef E_LO
#undef E_HI
#undef E_LOT
#undef E_HIT
        const __m256 inv = _mm256_set1_ps(1.0f / nm_sum16_avx2(s_lo, s_hi));
        for (i = 0; i < nv; i += 8) _mm256_storeu_ps(yr + i, _mm256_mul_ps(_mm256_loadu_ps(yr + i), inv));
        if (tail) _mm256_maskstore_ps(yr + i, km, _mm256_mul_ps(_mm256_maskload_ps(yr + i, km), inv));
    }
}

static T256 void gelu_avx2(const float *x, float *y, size_t count) {
    size_t i = 0;
    /* Four independent vectors per step: one GELU is a ~50-cycle dependency chain, and with one vector per
     * step the out-of-order window does not hold enough of them to keep the FMA ports busy. */
    for (; i + 32 <= count; i += 32) {
        const __m256 g0 = nm_gelu(_mm256_loadu_ps(x + i)), g1 = nm_gelu(_mm256_loadu_ps(x + i + 8));
        const __m256 g2 = nm_gelu(_mm256_loadu_ps(x + i + 16)), g3 = nm_gelu(_mm256_loadu_ps(x + i + 24));
        _mm256_storeu_ps(y + i, g0);
        _mm256_storeu_ps(y + i + 8, g1);
        _mm256_storeu_ps(y + i + 16, g2);
        _mm256_storeu_ps(y + i + 24, g3);
    }
    for (; i + 8 <= count; i += 8) _mm256_storeu_ps(y + i, nm_gelu(_mm256_loadu_ps(x + i)));
    if (i < count) {
        const __m256i km = tail_mask8(count - i);
        _mm256_maskstore_ps(y + i, km, nm_gelu(_mm256_maskload_ps(x + i, km)));
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
