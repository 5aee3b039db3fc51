/* gemm_s8_avx512vnni.c — qs8_qc8w_gemm_fp32_8x48c4__avx512vnni.
 *
 * Micro-tile 8 rows x 48 columns = 24 zmm int32 accumulators (3 zmm of W per K group, 1 broadcast).
 * vpdpbusd multiplies unsigned bytes by signed bytes, so activations are made unsigned by
 * xor 0x80 (a + 128) while being copied into a stack buffer (row panel, zero padded to a multiple
 * of 4 and never read beyond k), and the extra 128 * wsum[n] is subtracted exactly in the
 * accumulator's initial value:
 *     acc0[n] = bias[n] - (a_zero_point + 128) * wsum[n]       (int32, wrap-around)
 *     acc    += sum_k (a[m,k] + 128) * w[n,k]                  (vpdpbusd, exact: < 2^31)
 * Packed W: [n / 48][k / 4][48][4]; one K group of a 48-column tile is 3 aligned zmm loads.
 * Loop order inside a rect: row block (as many rows as fit the 32 KB buffer) -> 48-column tile
 * (its W panel stays in L1/L2) -> 8-row micro-tile. Epilogue in registers: cvtdq2ps, mulps,
 * max/min clamp, cvtps2dq (all with explicit round-to-nearest-even), + zero point, vpmovdb with
 * masked stores for the N tail. M tails compute on zero rows and store only the valid rows.
 */
#if defined(__x86_64__)
#include "sam2r_gemm_s8.h"

#include <assert.h>
#include <immintrin.h>
#include <string.h>

#define TGT __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#define MR 8
#define NR 48
#define ABUF_BYTES 32768
#define RNE (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

/* dst[r][0, round_up(kc, 64)) = src[r][k0, k0 + kc) ^ 0x80, zero padded; rows in [rows, rows_pad) zeroed. */
static TGT void prep_rows(uint8_t *dst, size_t dstride, const int8_t *src, size_t lda, int32_t rows,
                          int32_t rows_pad, int32_t kc) {
    const __m512i x80 = _mm512_set1_epi8((char)0x80);
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *s = src + (size_t)r * lda;
        uint8_t *d = dst + (size_t)r * dstride;
        int32_t i = 0;
        for (; i + 64 <= kc; i += 64)
            _mm512_store_si512((void *)(d + i), _mm512_xor_si512(_mm512_loadu_si512((const void *)(s + i)), x80));
        if (i < kc) {
            const __mmask64 mk = ((__mmask64)1 << (kc - i)) - 1;
            const __m512i v = _mm512_maskz_loadu_epi8(mk, s + i);
            _mm512_store_si512((void *)(d + i), _mm512_maskz_mov_epi8(mk, _mm512_xor_si512(v, x80)));
        }
    }
    const size_t kc64 = ((size_t)kc + 63) & ~(size_t)63;
    for (int32_t r = rows; r < rows_pad; r++) memset(dst + (size_t)r * dstride, 0, kc64);
}

/* Per-tile epilogue constants. */
typedef struct tile_consts {
    __m512i init[3];
    __m512 scale[3];
    __mmask16 mask[3];
} tile_consts;

static TGT void tile_setup(const sam2r_gemm_s8_args *a, int32_t nt, int32_t n1, tile_consts *t) {
    const int32_t nv = n1 - nt < NR ? n1 - nt : NR;
    const __m512i zp = _mm512_set1_epi32(a->a_zero_point + 128);
    for (int j = 0; j < 3; j++) {
        const int32_t lanes = nv - 16 * j;
        const __mmask16 mk = lanes >= 16 ? (__mmask16)0xFFFF : lanes <= 0 ? (__mmask16)0 : (__mmask16)((1u << lanes) - 1);
        t->mask[j] = mk;
        const __m512i ws = _mm512_maskz_loadu_epi32(mk, a->w->wsum + nt + 16 * j);
        const __m512i bias = a->bias ? _mm512_maskz_loadu_epi32(mk, a->bias + nt + 16 * j) : _mm512_setzero_si512();
        t->init[j] = _mm512_sub_epi32(bias, _mm512_mullo_epi32(ws, zp));
        t->scale[j] = _mm512_maskz_loadu_ps(mk, a->scale + nt + 16 * j);
    }
}

#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define DECL(r) __m512i c##r##0 = i0, c##r##1 = i1, c##r##2 = i2;
#define STEP(r)                                                                \
    {                                                                          \
        int32_t av;                                                            \
        memcpy(&av, ap + (r) * as, 4);                                         \
        const __m512i b = _mm512_set1_epi32(av);                               \
        c##r##0 = _mm512_dpbusd_epi32(c##r##0, b, w0);                         \
        c##r##1 = _mm512_dpbusd_epi32(c##r##1, b, w1);                         \
        c##r##2 = _mm512_dpbusd_epi32(c##r##2, b, w2);                         \
    }
/* groups of 4 bytes of the prepared rows at ap (stride as) against W at wp */
#define DOT_LOOP(ap0, wp0, ngroups)                                            \
    {                                                                          \
        const uint8_t *ap = (ap0);                                             \
        const int8_t *wp = (wp0);                                              \
        for (int32_t g = 0; g < (ngroups); g++) {                              \
            const __m512i w0 = _mm512_load_si512((const void *)wp);            \
            const __m512i w1 = _mm512_load_si512((const void *)(wp + 64));     \
            const __m512i w2 = _mm512_load_si512((const void *)(wp + 128));    \
            wp += 4 * NR;                                                      \
            ROWS(STEP)                                                         \
            ap += 4;                                                           \
        }                                                                      \
    }

#define EPI_S8(r)                                                                                   \
    if ((r) < rows) {                                                                               \
        int8_t *cr = c + (size_t)(r) * ldc;                                                         \
        __m512i v0 = c##r##0, v1 = c##r##1, v2 = c##r##2;                                           \
        __m512 f0 = _mm512_mul_round_ps(_mm512_cvt_roundepi32_ps(v0, RNE), t->scale[0], RNE);       \
        __m512 f1 = _mm512_mul_round_ps(_mm512_cvt_roundepi32_ps(v1, RNE), t->scale[1], RNE);       \
        __m512 f2 = _mm512_mul_round_ps(_mm512_cvt_roundepi32_ps(v2, RNE), t->scale[2], RNE);       \
        f0 = _mm512_min_ps(_mm512_max_ps(f0, lo), hi);                                              \
        f1 = _mm512_min_ps(_mm512_max_ps(f1, lo), hi);                                              \
        f2 = _mm512_min_ps(_mm512_max_ps(f2, lo), hi);                                              \
        v0 = _mm512_add_epi32(_mm512_cvt_roundps_epi32(f0, RNE), ozp);                              \
        v1 = _mm512_add_epi32(_mm512_cvt_roundps_epi32(f1, RNE), ozp);                              \
        v2 = _mm512_add_epi32(_mm512_cvt_roundps_epi32(f2, RNE), ozp);                              \
        _mm512_mask_cvtepi32_storeu_epi8(cr, t->mask[0], v0);                                       \
        _mm512_mask_cvtepi32_storeu_epi8(cr + 16, t->mask[1], v1);                                  \
        _mm512_mask_cvtepi32_storeu_epi8(cr + 32, t->mask[2], v2);                                  \
    }
#define EPI_F32(r)                                                                                  \
    if ((r) < rows) {                                                                               \
        float *cr = c + (size_t)(r) * ldc;                                                          \
        _mm512_mask_storeu_ps(cr, t->mask[0], _mm512_mul_round_ps(_mm512_cvt_roundepi32_ps(c##r##0, RNE), t->scale[0], RNE)); \
        _mm512_mask_storeu_ps(cr + 16, t->mask[1], _mm512_mul_round_ps(_mm512_cvt_roundepi32_ps(c##r##1, RNE), t->scale[1], RNE)); \
        _mm512_mask_storeu_ps(cr + 32, t->mask[2], _mm512_mul_round_ps(_mm512_cvt_roundepi32_ps(c##r##2, RNE), t->scale[2], RNE)); \
    }

#define EPILOGUE                                                                                    \
    if (a->epilogue == SAM2R_EPI_S8) {                                                              \
        const __m512 lo = _mm512_set1_ps((float)(a->qmin - a->out_zero_point));                     \
        const __m512 hi = _mm512_set1_ps((float)(a->qmax - a->out_zero_point));                     \
        const __m512i ozp = _mm512_set1_epi32(a->out_zero_point);                                   \
        int8_t *c = (int8_t *)a->c + (size_t)m * ldc + nt;                                          \
        ROWS(EPI_S8)                                                                                \
    } else {                                                                                        \
        float *c = (float *)a->c + (size_t)m * ldc + nt;                                            \
        ROWS(EPI_F32)                                                                               \
    }

/* One 8x48 micro-tile over all of K from prepared rows (ab, stride as). */
static TGT void tile_prepared(const sam2r_gemm_s8_args *a, const tile_consts *t, const uint8_t *ab, size_t as,
                              const int8_t *w, int32_t kg, int32_t m, int32_t rows, int32_t nt) {
    const __m512i i0 = t->init[0], i1 = t->init[1], i2 = t->init[2];
    ROWS(DECL)
    DOT_LOOP(ab, w, kg)
    const size_t ldc = (size_t)a->ldc;
    EPILOGUE
}

/* One micro-tile for K too long for a whole-K row panel: prepares K in chunks of 4096 bytes. */
#define KCHUNK (ABUF_BYTES / MR)
static TGT void tile_chunked(const sam2r_gemm_s8_args *a, const tile_consts *t, uint8_t *abuf,
                             const int8_t *w, int32_t m, int32_t rows, int32_t nt) {
    const __m512i i0 = t->init[0], i1 = t->init[1], i2 = t->init[2];
    ROWS(DECL)
    const size_t as = KCHUNK;
    for (int32_t k0 = 0; k0 < a->k; k0 += KCHUNK) {
        const int32_t kc = a->k - k0 < KCHUNK ? a->k - k0 : KCHUNK;
        prep_rows(abuf, KCHUNK, a->a + (size_t)m * (size_t)a->lda + k0, (size_t)a->lda, rows, MR, kc);
        DOT_LOOP(abuf, w + (size_t)k0 * NR, (kc + 3) / 4)
    }
    const size_t ldc = (size_t)a->ldc;
    EPILOGUE
}

static TGT void qs8_gemm_rect_avx512vnni(const sam2r_gemm_s8_args *a, int32_t m0, int32_t m1, int32_t n0, int32_t n1) {
    assert(0 <= m0 && m0 < m1 && m1 <= a->m && 0 <= n0 && n0 < n1 && n1 <= a->n && n0 % NR == 0);
    assert(a->w->nr == NR && a->w->kr == 4 && a->k <= 65536);
    _Alignas(64) uint8_t abuf[ABUF_BYTES];
    const int32_t k = a->k, kg = (k + 3) / 4;
    const size_t wtile = (size_t)kg * 4 * NR;
    const int8_t *wdata = a->w->data;
    const size_t stride = ((size_t)k + 63) & ~(size_t)63;
    tile_consts t;
    if (stride * MR <= ABUF_BYTES) {
        const int32_t rb = (int32_t)(ABUF_BYTES / stride) / MR * MR;
        for (int32_t mb = m0; mb < m1; mb += rb) {
            const int32_t me = mb + rb < m1 ? mb + rb : m1;
            const int32_t rows_pad = (me - mb + MR - 1) / MR * MR;
            prep_rows(abuf, stride, a->a + (size_t)mb * (size_t)a->lda, (size_t)a->lda, me - mb, rows_pad, k);
            for (int32_t nt = n0; nt < n1; nt += NR) {
                tile_setup(a, nt, n1, &t);
                const int8_t *w = wdata + (size_t)(nt / NR) * wtile;
                for (int32_t m = mb; m < me; m += MR)
                    tile_prepared(a, &t, abuf + (size_t)(m - mb) * stride, stride, w, kg, m,
                                  me - m < MR ? me - m : MR, nt);
            }
        }
    } else {
        for (int32_t m = m0; m < m1; m += MR) {
            for (int32_t nt = n0; nt < n1; nt += NR) {
                tile_setup(a, nt, n1, &t);
                tile_chunked(a, &t, abuf, wdata + (size_t)(nt / NR) * wtile, m, m1 - m < MR ? m1 - m : MR, nt);
            }
        }
    }
}

const sam2r_gemm_s8_ukernel sam2r_qs8_gemm_avx512vnni = {
    "qs8_qc8w_gemm_fp32_8x48c4__avx512vnni", SAM2R_ISA_AVX512VNNI, MR, NR, 4, qs8_gemm_rect_avx512vnni,
};

#endif
