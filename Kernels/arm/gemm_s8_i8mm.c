/* gemm_s8_i8mm.c — qs8_qc8w_gemm_fp32_8x8c8__neoni8mm (Armv8.6 i8mm: Neoverse-N2/V1+,
 * Cortex-A710+, Apple M2+).
 * SMMLA multiplies a 2x8 int8 matrix (two activation rows, 8 k) by the transpose of another 2x8
 * (two weight columns, 8 k) and accumulates the 2x2 int32 result: 32 MAC per instruction.
 * Micro-tile 8 rows x 8 columns = 4 row pairs x 4 column pairs = 16 accumulators + 4 A + 4 W.
 * Packed W: [n / 8][k / 8][8][8]: 16 bytes = column pair (2q, 2q+1) x 8 k, ready for SMMLA.
 * Activations are copied per row block into a 32 KB stack buffer as micro-tile panels
 * [tile][k / 8][pair][2][8] (zero padded; A is never read beyond k): one load gives the 2x8 A
 * operand and a K step reads 64 consecutive bytes (immediate-offset loads from one pointer). Accumulator (p, q) holds [r0c0 r0c1 r1c0 r1c1]; ZIP1/ZIP2 on 64-bit lanes
 * regroup them into rows. Accumulators start at 0; init = bias - a_zero_point * wsum is added in
 * the epilogue: SCVTF, FMUL, FMAX/FMIN clamp, FCVTNS (round to nearest even), + zero point, SQXTN.
 */
#if defined(__aarch64__)
#include "sam2r_gemm_s8.h"

#include <arm_neon.h>
#include <assert.h>
#include <string.h>

#define TGT __attribute__((target("arch=armv8.6-a+i8mm")))

#define MR 8
#define NR 8
#define KR 8
#define ABUF_BYTES 32768
/* GCC's pre-register-allocation scheduler hoists every load of the loop body ahead of the
 * multiply-accumulates and then shuffles accumulators; out-of-order cores do not need it. */
#if defined(__GNUC__) && !defined(__clang__)
#define NOSCHED __attribute__((optimize("no-schedule-insns")))
#else
#define NOSCHED
#endif

/* Micro-tile panels: the 8 rows of micro-tile t start at dst + t * mstride; for each K group g of
 * 8 bytes they hold 64 contiguous bytes: row pair p (rows 2p, 2p+1 of the tile) at 16 p, each
 * row's 8 bytes at 8 (r % 2). So one micro-tile step reads 64 consecutive bytes. Zero padded to
 * round_up(kc, 8); rows in [rows, rows_pad) are zero. mstride >= 64 * ceil(kc / 8). */
static void prep_rows(int8_t *dst, size_t mstride, const int8_t *src, size_t lda, int32_t rows, int32_t rows_pad,
                      int32_t kc) {
    const int32_t kg = (kc + 7) / 8;
    for (int32_t r = 0; r < rows_pad; r++) {
        int8_t *d = dst + (size_t)(r / MR) * mstride + (size_t)((r % MR) / 2) * 16 + (size_t)(r % 2) * 8;
        if (r >= rows) {
            for (int32_t g = 0; g < kg; g++) memset(d + (size_t)g * 64, 0, 8);
            continue;
        }
        const int8_t *s = src + (size_t)r * lda;
        int32_t g = 0;
        for (; g < kc / 8; g++) memcpy(d + (size_t)g * 64, s + (size_t)g * 8, 8);
        if (g < kg) {
            memset(d + (size_t)g * 64, 0, 8);
            memcpy(d + (size_t)g * 64, s + (size_t)g * 8, (size_t)(kc - 8 * g));
        }
    }
}

typedef struct tile_consts {
    int32x4_t init[NR / 4];
    float32x4_t scale[NR / 4];
    int32_t ncols;
} tile_consts;

static void tile_setup(const sam2r_gemm_s8_args *a, int32_t nt, int32_t n1, tile_consts *t) {
    const int32_t nv = n1 - nt < NR ? n1 - nt : NR;
    int32_t init[NR] = {0};
    float scale[NR] = {0};
    for (int32_t j = 0; j < nv; j++) {
        init[j] = (int32_t)((a->bias ? (uint32_t)a->bias[nt + j] : 0u) -
                            (uint32_t)a->a_zero_point * (uint32_t)a->w->wsum[nt + j]);
        scale[j] = a->scale[nt + j];
    }
    for (int j = 0; j < NR / 4; j++) {
        t->init[j] = vld1q_s32(init + 4 * j);
        t->scale[j] = vld1q_f32(scale + 4 * j);
    }
    t->ncols = nv;
}

/* Requantizes 4 accumulators (columns 4j .. 4j+3 of the tile) and stores the valid ones. */
static inline void epi_vec(const sam2r_gemm_s8_args *a, const tile_consts *t, int j, int32x4_t acc, void *crow) {
    const int32_t valid = t->ncols - 4 * j;
    if (valid <= 0) return;
    const float32x4_t f = vmulq_f32(vcvtq_f32_s32(vaddq_s32(acc, t->init[j])), t->scale[j]);
    if (a->epilogue == SAM2R_EPI_S8) {
        const float32x4_t lo = vdupq_n_f32((float)(a->qmin - a->out_zero_point));
        const float32x4_t hi = vdupq_n_f32((float)(a->qmax - a->out_zero_point));
        const int32x4_t q = vaddq_s32(vcvtnq_s32_f32(vminq_f32(vmaxq_f32(f, lo), hi)), vdupq_n_s32(a->out_zero_point));
        const int16x4_t h = vqmovn_s32(q);
        const int8x8_t b = vqmovn_s16(vcombine_s16(h, h));
        int8_t tmp[8];
        vst1_s8(tmp, b);
        memcpy((int8_t *)crow + 4 * j, tmp, valid >= 4 ? 4 : (size_t)valid);
    } else {
        if (valid >= 4) {
            vst1q_f32((float *)crow + 4 * j, f);
        } else {
            float tmp[4];
            vst1q_f32(tmp, f);
            memcpy((float *)crow + 4 * j, tmp, (size_t)valid * sizeof(float));
        }
    }
}

#define PAIRS(X) X(0) X(1) X(2) X(3)
#define DECL(p) int32x4_t x##p##0 = vdupq_n_s32(0), x##p##1 = vdupq_n_s32(0), x##p##2 = vdupq_n_s32(0), \
                          x##p##3 = vdupq_n_s32(0);
#define STEP(p)                                                                          \
    {                                                                                    \
        const int8x16_t av = vld1q_s8(ap + 16 * (p));                                    \
        x##p##0 = vmmlaq_s32(x##p##0, av, w0);                                           \
        x##p##1 = vmmlaq_s32(x##p##1, av, w1);                                           \
        x##p##2 = vmmlaq_s32(x##p##2, av, w2);                                           \
        x##p##3 = vmmlaq_s32(x##p##3, av, w3);                                           \
    }
/* One K group of 8: 4 A loads (64 contiguous bytes of the micro-tile panel), 4 W loads, 16 SMMLA. */
#define GROUP                                                                            \
    {                                                                                    \
        const int8x16_t w0 = vld1q_s8(wp);                                               \
        const int8x16_t w1 = vld1q_s8(wp + 16);                                          \
        const int8x16_t w2 = vld1q_s8(wp + 32);                                          \
        const int8x16_t w3 = vld1q_s8(wp + 48);                                          \
        PAIRS(STEP)                                                                      \
        wp += KR * NR;                                                                   \
        ap += 8 * KR;                                                                    \
    }
#define DOT_LOOP(ap0, wp0, ngroups)                                                      \
    {                                                                                    \
        const int8_t *ap = (ap0);                                                        \
        const int8_t *wp = (wp0);                                                        \
        int32_t g = 0;                                                                   \
        for (; g + 2 <= (ngroups); g += 2) {                                             \
            GROUP GROUP                                                                  \
        }                                                                                \
        if (g < (ngroups)) GROUP                                                         \
    }
#define LO(x, y) vreinterpretq_s32_s64(vzip1q_s64(vreinterpretq_s64_s32(x), vreinterpretq_s64_s32(y)))
#define HI(x, y) vreinterpretq_s32_s64(vzip2q_s64(vreinterpretq_s64_s32(x), vreinterpretq_s64_s32(y)))
#define EPI(p)                                                                                          \
    if (2 * (p) < rows) {                                                                               \
        char *cr = c0 + (size_t)(2 * (p)) * (size_t)a->ldc * esz;                                       \
        epi_vec(a, t, 0, LO(x##p##0, x##p##1), cr);                                                     \
        epi_vec(a, t, 1, LO(x##p##2, x##p##3), cr);                                                     \
        if (2 * (p) + 1 < rows) {                                                                       \
            cr += (size_t)a->ldc * esz;                                                                 \
            epi_vec(a, t, 0, HI(x##p##0, x##p##1), cr);                                                 \
            epi_vec(a, t, 1, HI(x##p##2, x##p##3), cr);                                                 \
        }                                                                                               \
    }
#define EPILOGUE                                                                                        \
    {                                                                                                   \
        const size_t esz = a->epilogue == SAM2R_EPI_S8 ? 1 : 4;                                         \
        char *c0 = (char *)a->c + ((size_t)m * (size_t)a->ldc + (size_t)nt) * esz;                      \
        PAIRS(EPI)                                                                                      \
    }

static TGT __attribute__((noinline)) NOSCHED void tile_prepared(const sam2r_gemm_s8_args *a, const tile_consts *t,
                                                    const int8_t *ab, const int8_t *w, int32_t kg,
                                                    int32_t m, int32_t rows, int32_t nt) {
    PAIRS(DECL)
    DOT_LOOP(ab, w, kg)
    EPILOGUE
}

#define KCHUNK (ABUF_BYTES / 8)
static TGT __attribute__((noinline)) NOSCHED void tile_chunked(const sam2r_gemm_s8_args *a, const tile_consts *t, int8_t *abuf,
                                                   const int8_t *w, int32_t m, int32_t rows, int32_t nt) {
    PAIRS(DECL)
    for (int32_t k0 = 0; k0 < a->k; k0 += KCHUNK) {
        const int32_t kc = a->k - k0 < KCHUNK ? a->k - k0 : KCHUNK;
        prep_rows(abuf, (size_t)KCHUNK * 8, a->a + (size_t)m * (size_t)a->lda + k0, (size_t)a->lda, rows, MR, kc);
        DOT_LOOP(abuf, w + (size_t)k0 * NR, (kc + KR - 1) / KR)
    }
    EPILOGUE
}

static TGT void qs8_gemm_rect_i8mm(const sam2r_gemm_s8_args *a, int32_t m0, int32_t m1, int32_t n0, int32_t n1) {
    assert(0 <= m0 && m0 < m1 && m1 <= a->m && 0 <= n0 && n0 < n1 && n1 <= a->n && n0 % NR == 0);
    assert(a->w->nr == NR && a->w->kr == KR && a->k <= 65536);
    _Alignas(64) int8_t abuf[ABUF_BYTES];
    const int32_t k = a->k, kg = (k + KR - 1) / KR;
    const size_t wtile = (size_t)kg * KR * NR;
    const int8_t *wdata = a->w->data;
    const size_t stride = ((size_t)k + 15) & ~(size_t)15;
    const size_t mstride = (size_t)kg * 8 * KR;   /* bytes of one 8-row micro-tile panel */
    tile_consts t;
    if (stride * MR <= ABUF_BYTES && stride <= KCHUNK * 4) {
        const int32_t rb = (int32_t)(ABUF_BYTES / stride) / MR * MR;
        for (int32_t mb = m0; mb < m1; mb += rb) {
            const int32_t me = mb + rb < m1 ? mb + rb : m1;
            const int32_t rows_pad = (me - mb + MR - 1) / MR * MR;
            prep_rows(abuf, mstride, a->a + (size_t)mb * (size_t)a->lda, (size_t)a->lda, me - mb, rows_pad, k);
            for (int32_t m = mb; m < me; m += MR)
                for (int32_t nt = n0; nt < n1; nt += NR) {
                    tile_setup(a, nt, n1, &t);
                    tile_prepared(a, &t, abuf + (size_t)((m - mb) / MR) * mstride, wdata + (size_t)(nt / NR) * wtile,
                                  kg, m, me - m < MR ? me - m : MR, nt);
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

const sam2r_gemm_s8_ukernel sam2r_qs8_gemm_i8mm = {
    "qs8_qc8w_gemm_fp32_8x8c8__neoni8mm", SAM2R_ISA_I8MM, MR, NR, KR, qs8_gemm_rect_i8mm,
};

#endif
