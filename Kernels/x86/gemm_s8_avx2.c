/* gemm_s8_avx2.c — qs8_qc8w_gemm_fp32_6x16c2__avx2.
 *
 * AVX2 has no int8 multiply-accumulate that is exact for signed x signed (vpmaddubsw saturates),
 * so both operands are widened to int16 and multiplied with vpmaddwd, which sums each pair of
 * products into int32 exactly, then vpaddd accumulates. That pair (16 MAC) is this kernel's peak
 * instruction (see peak_x86.c).
 * Micro-tile 6 rows x 16 columns = 12 ymm int32 accumulators + 2 ymm of W + broadcast + product.
 * Packed W: [n / 16][k / 2][16][2]: one K pair of a tile is 32 bytes, sign-extended to two ymm
 * of 8 columns x 2 k (vpmovsxbw). Activations are sign-extended to int16 once per row block into a
 * 32 KB stack buffer (zero padded to a multiple of 2, never read beyond k) and each row's K pair is
 * broadcast as one dword. Accumulators start at bias[n] - a_zero_point * wsum[n].
 * Epilogue: cvtdq2ps, mulps, max/min, cvtps2dq (MXCSR default: round to nearest even), + zero
 * point, packssdw/packsswb (no saturation happens: values are already in [qmin, qmax]).
 */
#if defined(__x86_64__)
#include "sam2r_gemm_s8.h"

#include <assert.h>
#include <immintrin.h>
#include <string.h>

#define TGT __attribute__((target("avx2,fma")))
#define MR 6
#define NR 16
#define ABUF_BYTES 32768

/* dst[r][0, round_up(kc, 16)) = (int16) src[r][0, kc), zero padded; rows [rows, rows_pad) zeroed. */
static TGT void prep_rows(int16_t *dst, size_t dstride, const int8_t *src, size_t lda, int32_t rows,
                          int32_t rows_pad, int32_t kc) {
    const size_t kc16 = ((size_t)kc + 15) & ~(size_t)15;
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *s = src + (size_t)r * lda;
        int16_t *d = dst + (size_t)r * dstride;
        int32_t i = 0;
        for (; i + 16 <= kc; i += 16)
            _mm256_store_si256((__m256i *)(d + i), _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(s + i))));
        if (i < kc) {
            _Alignas(16) int8_t tail[16] = {0};
            memcpy(tail, s + i, (size_t)(kc - i));
            _mm256_store_si256((__m256i *)(d + i), _mm256_cvtepi8_epi16(_mm_load_si128((const __m128i *)tail)));
        }
    }
    for (int32_t r = rows; r < rows_pad; r++) memset(dst + (size_t)r * dstride, 0, kc16 * sizeof(int16_t));
}

typedef struct tile_consts {
    __m256i init[2];
    __m256 scale[2];
    int32_t ncols;
} tile_consts;

static TGT void tile_setup(const sam2r_gemm_s8_args *a, int32_t nt, int32_t n1, tile_consts *t) {
    const int32_t nv = n1 - nt < NR ? n1 - nt : NR;
    t->ncols = nv;
    const __m256i zp = _mm256_set1_epi32(a->a_zero_point);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int j = 0; j < 2; j++) {
        const __m256i mk = _mm256_cmpgt_epi32(_mm256_set1_epi32(nv - 8 * j), lane);
        const __m256i ws = _mm256_maskload_epi32(a->w->wsum + nt + 8 * j, mk);
        const __m256i bias = a->bias ? _mm256_maskload_epi32(a->bias + nt + 8 * j, mk) : _mm256_setzero_si256();
        t->init[j] = _mm256_sub_epi32(bias, _mm256_mullo_epi32(ws, zp));
        t->scale[j] = _mm256_maskload_ps(a->scale + nt + 8 * j, mk);
    }
}

#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define DECL(r)                                                                \
    __m256i c##r##0 = _mm256_load_si256(&t->init[0]);                          \
    __m256i c##r##1 = _mm256_load_si256(&t->init[1]);
#define STEP(r)                                                                \
    {                                                                          \
        int32_t av;                                                            \
        memcpy(&av, ap + (r) * as, 4);                                         \
        const __m256i b = _mm256_set1_epi32(av);                               \
        c##r##0 = _mm256_add_epi32(c##r##0, _mm256_madd_epi16(b, w0));         \
        c##r##1 = _mm256_add_epi32(c##r##1, _mm256_madd_epi16(b, w1));         \
    }
/* K pairs of the prepared int16 rows at ap (stride as elements) against W at wp */
#define DOT_LOOP(ap0, wp0, ngroups)                                                     \
    {                                                                                   \
        const int16_t *ap = (ap0);                                                      \
        const int8_t *wp = (wp0);                                                       \
        for (int32_t g = 0; g < (ngroups); g++) {                                       \
            const __m256i w0 = _mm256_cvtepi8_epi16(_mm_load_si128((const __m128i *)wp));        \
            const __m256i w1 = _mm256_cvtepi8_epi16(_mm_load_si128((const __m128i *)(wp + 16))); \
            wp += 2 * NR;                                                               \
            ROWS(STEP)                                                                  \
            ap += 2;                                                                    \
        }                                                                               \
    }

/* The requantizing / dequantizing epilogue of a 16-column tile, shared with the other ymm kernel. */
#include "gemm_s8_epilogue_ymm.h"


/* Micro-tiles over all of K from prepared rows (ab, stride as) for the ntiles 16-column tiles
 * starting at column nt0 (constants tc[], packed W from w). */
static TGT __attribute__((noinline)) void tiles_prepared(const sam2r_gemm_s8_args *a, const tile_consts *tc,
                                                         int32_t ntiles, const int16_t *ab, size_t as, const int8_t *w,
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

#define KCHUNK (ABUF_BYTES / 2 / 8)   /* int16 elements per row in the chunked path (8 >= MR rows) */
static TGT __attribute__((noinline)) void tile_chunked(const sam2r_gemm_s8_args *a, const tile_consts *t,
                                                       int16_t *abuf, const int8_t *w, int32_t m, int32_t rows,
                                                       int32_t nt) {
    ROWS(DECL)
    const size_t as = KCHUNK;
    for (int32_t k0 = 0; k0 < a->k; k0 += KCHUNK) {
        const int32_t kc = a->k - k0 < KCHUNK ? a->k - k0 : KCHUNK;
        prep_rows(abuf, KCHUNK, a->a + (size_t)m * (size_t)a->lda + k0, (size_t)a->lda, rows, MR, kc);
        DOT_LOOP(abuf, w + (size_t)k0 * NR, (kc + 1) / 2)
    }
    const size_t ldc = (size_t)a->ldc;
    EPILOGUE
}

static TGT void qs8_gemm_rect_avx2(const sam2r_gemm_s8_args *a, int32_t m0, int32_t m1, int32_t n0, int32_t n1) {
    assert(0 <= m0 && m0 < m1 && m1 <= a->m && 0 <= n0 && n0 < n1 && n1 <= a->n && n0 % NR == 0);
    assert(a->w->nr == NR && a->w->kr == 2 && a->k <= 65536);
    _Alignas(64) int16_t abuf[ABUF_BYTES / 2];
    const int32_t k = a->k, kg = (k + 1) / 2;
    const size_t wtile = (size_t)kg * 2 * NR;
    const int8_t *wdata = a->w->data;
    const size_t stride = ((size_t)k + 15) & ~(size_t)15;   /* int16 elements */
    tile_consts t;
    /* Epilogue constants of up to TC_MAX column tiles, computed once per row block. */
    enum { TC_MAX = 32 };
    tile_consts tc[TC_MAX];
    if (stride * 2 * MR <= ABUF_BYTES) {
        const int32_t rb = (int32_t)(ABUF_BYTES / 2 / stride) / MR * MR;
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

const sam2r_gemm_s8_ukernel sam2r_qs8_gemm_avx2 = {
    "qs8_qc8w_gemm_fp32_6x16c2__avx2", SAM2R_ISA_AVX2, MR, NR, 2, qs8_gemm_rect_avx2,
};

#endif
