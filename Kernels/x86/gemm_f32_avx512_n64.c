/* gemm_f32_avx512_n64.c — fp32 GEMM micro-kernel f32_gemm_6x64__avx512f, for products whose N is 64 or a
 * multiple of it and whose calls have few rows: the mask decoder's image -> token attention runs, per
 * block of 12 rows (16 when this file was measured), a [12][256] x [256][64] score GEMM and a
 * [12][64] x [64][256] output GEMM (sam2r_decoder_i2t.h). The regular 8x48 kernel cuts N = 64 into a full
 * 48-column panel and a 16-column one that runs 8 of its 24 accumulators (a third of its FMA slots empty),
 * and N = 256 into five panels and such a tail (a ninth empty). Measured in isolation, 16-row calls, same
 * run: 49.2 -> 69.4 GMAC/s at K = 256, N = 64; no change at K = 64, N = 256 (60.5 vs 60.0).
 *
 * 6 rows x 64 columns of C live in 24 zmm accumulators; per k step four zmm loads of the packed weight panel
 * and one broadcast of A per row feed 24 FMAs. A is read in place (six row streams), not packed per call as
 * the 8x48 kernel does: a 16-row call has little to spread a pack over. K runs in blocks of at most KC: the first
 * block starts from the bias, later ones accumulate into C. Every output is the same fma chain over
 * k = 0, 1, ... from the bias as the scalar reference (sam2r_gemm_f32.h): bit-identical. */
#if defined(__x86_64__)
#include "sam2r_gemm_f32.h"
#include "../gemm_f32_kblock.h"
#include "gemm_f32_avx512_common.h"

#define MR 6
#define NR 64
/* Blocks of 64 or 128 were slower than none at the decoder's K <= 256 (six interleaved rounds). */
#define KC 512

/* nv: the zmm columns of the panel that hold any of C's columns (1..4); the others' FMAs are skipped. */
static inline __attribute__((always_inline)) T512 void ukr_6x64(const int mr, const int nv, int32_t kc,
                                                                 const float *a, size_t lda, const float *b,
                                                                 float *c, size_t ldc, const float *bias, int first,
                                                                 const __mmask16 km[4]) {
    __m512 acc[MR][4];
    if (first) {
        __m512 v[4];
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++)
            v[j] = (bias && j < nv) ? _mm512_maskz_loadu_ps(km[j], bias + 16 * j) : _mm512_setzero_ps();
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) acc[r][j] = v[j];
    } else {
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++)
                acc[r][j] = (r < mr && j < nv) ? _mm512_maskz_loadu_ps(km[j], c + r * ldc + 16 * j)
                                               : _mm512_setzero_ps();
    }
    const float *ar[MR];
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) ar[r] = a + (size_t)(r < mr ? r : 0) * lda;
    for (int32_t k = 0; k < kc; k++) {
        _mm_prefetch((const char *)(b + 8 * NR), _MM_HINT_T0);
        _mm_prefetch((const char *)(b + 8 * NR + 16), _MM_HINT_T0);
        _mm_prefetch((const char *)(b + 8 * NR + 32), _MM_HINT_T0);
        _mm_prefetch((const char *)(b + 8 * NR + 48), _MM_HINT_T0);
        __m512 bv[4];
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) bv[j] = j < nv ? _mm512_load_ps(b + 16 * j) : _mm512_setzero_ps();
        b += NR;
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++) {
            if (r < mr) {
                const __m512 av = _mm512_set1_ps(ar[r][k]);
#pragma GCC unroll 4
                for (int j = 0; j < 4; j++)
                    if (j < nv) acc[r][j] = _mm512_fmadd_ps(av, bv[j], acc[r][j]);
            }
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++)
        if (r < mr)
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++)
                if (j < nv) _mm512_mask_storeu_ps(c + r * ldc + 16 * j, km[j], acc[r][j]);
}

typedef void (*ukr_fn)(int32_t kc, const float *a, size_t lda, const float *b, float *c, size_t ldc,
                       const float *bias, int first, const __mmask16 km[4]);

#define INST1(mr, nv)                                                                                        \
    static T512 void ukr_##mr##_##nv(int32_t kc, const float *a, size_t lda, const float *b, float *c,      \
                                     size_t ldc, const float *bias, int first, const __mmask16 km[4]) {    \
        ukr_6x64(mr, nv, kc, a, lda, b, c, ldc, bias, first, km);                                            \
    }
#define INST(mr) INST1(mr, 1) INST1(mr, 2) INST1(mr, 3) INST1(mr, 4)
INST(1) INST(2) INST(3) INST(4) INST(5) INST(6)
#undef INST
#undef INST1

#define ROW(mr) {0, ukr_##mr##_1, ukr_##mr##_2, ukr_##mr##_3, ukr_##mr##_4}
static const ukr_fn ukr[MR + 1][5] = {{0}, ROW(1), ROW(2), ROW(3), ROW(4), ROW(5), ROW(6)};
#undef ROW

static T512 void gemm_f32_rect_avx512_n64(const sam2r_gemm_f32_args *p, int32_t m0, int32_t m1, int32_t n0,
                                          int32_t n1) {
    const int32_t k = p->k;
    const size_t lda = (size_t)p->lda, ldc = (size_t)p->ldc;
    const int32_t kcb = gemm_f32_k_block(k, KC);
    for (int32_t kb = 0; kb < k; kb += kcb) {
        const int32_t kc = k - kb < kcb ? k - kb : kcb;
        const int first = kb == 0;
        for (int32_t nb = n0; nb < n1; nb += NR) {
            const int32_t cols = n1 - nb < NR ? n1 - nb : NR;
            const __mmask16 km[4] = {lane_mask(cols), lane_mask(cols - 16), lane_mask(cols - 32), lane_mask(cols - 48)};
            const int nv = (cols + 15) / 16;
            const float *w = p->w->data + (size_t)(nb / NR) * (size_t)k * NR + (size_t)kb * NR;
            const float *bias = (first && p->bias) ? p->bias + nb : NULL;
            for (int32_t mb = m0; mb < m1; mb += MR) {
                const int32_t mr = m1 - mb < MR ? m1 - mb : MR;
                ukr[mr][nv](kc, p->a + (size_t)mb * lda + kb, lda, w, p->c + (size_t)mb * ldc + nb, ldc, bias, first,
                            km);
            }
        }
    }
}

const sam2r_gemm_f32_ukernel sam2r_f32_gemm_avx512_n64 = {
    "f32_gemm_6x64__avx512f", SAM2R_ISA_AVX512VNNI, MR, NR, gemm_f32_rect_avx512_n64, NULL,
};
#endif
