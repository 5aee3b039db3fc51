/* gemm_s8_c4_ymm_impl.h — the 6x16, K-groups-of-4 ymm int8 GEMM shared by two x86 variants, which
 * differ only in the 4-byte multiply-accumulate C4_DOT(acc, a, w) (acc += unsigned(a) . signed(w) per
 * 4 bytes of each int32 lane):
 *   gemm_s8_avxvnni.c: vpdpbusd (AVX-VNNI);
 *   gemm_s8_avx2_w7.c: vpmaddubsw + vpmaddwd(1) + vpaddd (AVX2), exact only for |w| <= 64.
 * The includer defines TGT (the target attribute), C4_DOT and C4_RECT_NAME (the rect function's name).
 * Activations are made unsigned by xor 0x80 (a + 128) while being copied into a 32 KB stack buffer
 * (zero padded to a multiple of 4, never read beyond k) and accumulators start at
 *     bias[n] - (a_zero_point + 128) * wsum[n]
 * which removes the extra 128 * wsum[n] exactly (int32 wrap-around arithmetic).
 * Micro-tile 6 rows x 16 columns = 12 ymm accumulators + 2 ymm of W + 1 broadcast.
 * Packed W: [n / 16][k / 4][16][4]: one K group of a tile is two aligned ymm loads.
 * Epilogue as the avx2 kernel: cvtdq2ps, mulps, max/min, cvtps2dq (round to nearest even), + zero
 * point, packssdw/packsswb. */
#ifndef SAM2R_GEMM_S8_C4_YMM_IMPL_H
#define SAM2R_GEMM_S8_C4_YMM_IMPL_H
#include "sam2r_gemm_s8.h"

#include <assert.h>
#include <immintrin.h>
#include <string.h>

/* Rows per micro-tile: 6 with an in-place multiply-accumulate (12 accumulators + 2 W + 1 broadcast = 15
 * ymm); an includer whose C4_DOT needs temporaries may choose 5 so that nothing spills. */
#ifndef C4_MR
#define C4_MR 6
#endif
#define MR C4_MR
#define NR 16
#define ABUF_BYTES 32768

/* dst[r][0, round_up(kc, 32)) = src[r][0, kc) ^ 0x80, zero padded; rows [rows, rows_pad) zeroed. */
static TGT void prep_rows(uint8_t *dst, size_t dstride, const int8_t *src, size_t lda, int32_t rows,
                          int32_t rows_pad, int32_t kc) {
    const size_t kc32 = ((size_t)kc + 31) & ~(size_t)31;
    const __m256i x80 = _mm256_set1_epi8((char)0x80);
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *s = src + (size_t)r * lda;
        uint8_t *d = dst + (size_t)r * dstride;
        int32_t i = 0;
        for (; i + 32 <= kc; i += 32)
            _mm256_store_si256((__m256i *)(d + i), _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(s + i)), x80));
        if (i < kc) {
            _Alignas(32) int8_t tail[32] = {0};
            memcpy(tail, s + i, (size_t)(kc - i));
            /* padding bytes become 0x80: they meet zero weights, so they add nothing */
            _mm256_store_si256((__m256i *)(d + i), _mm256_xor_si256(_mm256_load_si256((const __m256i *)tail), x80));
        }
    }
    for (int32_t r = rows; r < rows_pad; r++) memset(dst + (size_t)r * dstride, 0, kc32);
}

typedef struct tile_consts {
    __m256i init[2];
    __m256 scale[2];
    int32_t ncols;
} tile_consts;

static TGT void tile_setup(const sam2r_gemm_s8_args *a, int32_t nt, int32_t n1, tile_consts *t) {
    const int32_t nv = n1 - nt < NR ? n1 - nt : NR;
    t->ncols = nv;
    const __m256i zp = _mm256_set1_epi32(a->a_zero_point + 128);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int j = 0; j < 2; j++) {
        const __m256i mk = _mm256_cmpgt_epi32(_mm256_set1_epi32(nv - 8 * j), lane);
        const __m256i ws = _mm256_maskload_epi32(a->w->wsum + nt + 8 * j, mk);
        const __m256i bias = a->bias ? _mm256_maskload_epi32(a->bias + nt + 8 * j, mk) : _mm256_setzero_si256();
        t->init[j] = _mm256_sub_epi32(bias, _mm256_mullo_epi32(ws, zp));
        t->scale[j] = _mm256_maskload_ps(a->scale + nt + 8 * j, mk);
    }
}

#if C4_MR == 6
#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#elif C4_MR == 5
#define ROWS(X) X(0) X(1) X(2) X(3) X(4)
#elif C4_MR == 4
#define ROWS(X) X(0) X(1) X(2) X(3)
#else
#error "C4_MR must be 4, 5 or 6"
#endif
#define DECL(r)                                                                \
    __m256i c##r##0 = _mm256_load_si256(&t->init[0]);                          \
    __m256i c##r##1 = _mm256_load_si256(&t->init[1]);
#define STEP(r)                                                                \
    {                                                                          \
        int32_t av;                                                            \
        memcpy(&av, ap + (r) * as, 4);                                         \
        const __m256i b = _mm256_set1_epi32(av);                               \
        C4_DOT(c##r##0, b, w0);                                                \
        C4_DOT(c##r##1, b, w1);                                                \
    }
/* K groups of 4 of the prepared rows at ap (stride as bytes) against W at wp */
#define DOT_LOOP(ap0, wp0, ngroups)                                                     \
    {                                                                                   \
        const uint8_t *ap = (ap0);                                                      \
        const int8_t *wp = (wp0);                                                       \
        for (int32_t g = 0; g < (ngroups); g++) {                                       \
            const __m256i w0 = _mm256_load_si256((const __m256i *)wp);                  \
            const __m256i w1 = _mm256_load_si256((const __m256i *)(wp + 32));           \
            wp += 4 * NR;                                                               \
            ROWS(STEP)                                                                  \
            ap += 4;                                                                    \
        }                                                                               \
    }

/* The requantizing / dequantizing epilogue of a 16-column tile, shared with the other ymm kernel. */
#include "gemm_s8_epilogue_ymm.h"


/* Micro-tiles over all of K from prepared rows (ab, stride as) for the ntiles 16-column tiles
 * starting at column nt0 (constants tc[], packed W from w). */
static TGT __attribute__((noinline)) void tiles_prepared(const sam2r_gemm_s8_args *a, const tile_consts *tc,
                                                         int32_t ntiles, const uint8_t *ab, size_t as, const int8_t *w,
                                                         size_t wtile, int32_t kg, int32_t m, int32_t rows, int32_t nt0) {
    const size_t ldc = (size_t)a->ldc;
    for (int32_t i = 0; i < ntiles; i++, w += wtile) {
        const tile_consts *t = tc + i;
        const int32_t nt = nt0 + i * NR;
        ROWS(DECL)
        DOT_LOOP(ab, w, kg)
        EPILOGUE
    }
}

#define KCHUNK (ABUF_BYTES / 8)   /* bytes per row in the chunked path (8 >= MR rows) */
static TGT __attribute__((noinline)) void tile_chunked(const sam2r_gemm_s8_args *a, const tile_consts *t,
                                                       uint8_t *abuf, const int8_t *w, int32_t m, int32_t rows,
                                                       int32_t nt) {
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

static TGT void C4_RECT_NAME(const sam2r_gemm_s8_args *a, int32_t m0, int32_t m1, int32_t n0, int32_t n1) {
    assert(0 <= m0 && m0 < m1 && m1 <= a->m && 0 <= n0 && n0 < n1 && n1 <= a->n && n0 % NR == 0);
    assert(a->w->nr == NR && a->w->kr == 4 && a->k <= 65536);
    _Alignas(64) uint8_t abuf[ABUF_BYTES];
    const int32_t k = a->k, kg = (k + 3) / 4;
    const size_t wtile = (size_t)kg * 4 * NR;
    const int8_t *wdata = a->w->data;
    const size_t stride = ((size_t)k + 31) & ~(size_t)31;
    tile_consts t;
    /* Epilogue constants of up to TC_MAX column tiles, computed once per row block. */
    enum { TC_MAX = 32 };
    tile_consts tc[TC_MAX];
    if (stride * MR <= ABUF_BYTES) {
        const int32_t rb = (int32_t)(ABUF_BYTES / stride) / MR * MR;
        for (int32_t mb = m0; mb < m1; mb += rb) {
            const int32_t me = mb + rb < m1 ? mb + rb : m1;
            const int32_t rows_pad = (me - mb + MR - 1) / MR * MR;
            prep_rows(abuf, stride, a->a + (size_t)mb * (size_t)a->lda, (size_t)a->lda, me - mb, rows_pad, k);
            for (int32_t nc = n0; nc < n1; nc += TC_MAX * NR) {
                const int32_t nce = nc + TC_MAX * NR < n1 ? nc + TC_MAX * NR : n1;
                const int32_t ntiles = (nce - nc + NR - 1) / NR;
                for (int32_t i = 0; i < ntiles; i++) tile_setup(a, nc + i * NR, n1, &tc[i]);
                for (int32_t m = mb; m < me; m += MR)
                    tiles_prepared(a, tc, ntiles, abuf + (size_t)(m - mb) * stride, stride,
                                   wdata + (size_t)(nc / NR) * wtile, wtile, kg, m, me - m < MR ? me - m : MR, nc);
            }
        }
    } else {
        for (int32_t m = m0; m < m1; m += MR)
            for (int32_t nt = n0; nt < n1; nt += NR) {
                tile_setup(a, nt, n1, &t);
                tile_chunked(a, &t, abuf, wdata + (size_t)(nt / NR) * wtile, m, m1 - m < MR ? m1 - m : MR, nt);
            }
    }
}

#endif
