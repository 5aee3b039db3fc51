/* gemm_s8_dotprod.c — qs8_qc8w_gemm_fp32_8x8c4__neondot (Armv8.2 dotprod: Cortex-A76/A78,
 * Neoverse-N1, Apple M1 ...).
 * SDOT by element: each int32 lane of the accumulator += the dot product of 4 signed weight bytes
 * with the 4 activation bytes in lane l of the A register. Micro-tile 8 rows x 8 columns = 16
 * int32x4 accumulators + 8 A registers (16 bytes = 4 K groups of one row) + 2 W vectors.
 * Per 16 k: 8 A loads (LDR q), 8 W loads, 64 SDOT; loads use only the load pipes (LD1R would also
 * take a vector-pipe slot on A76/N1), so the two SDOT pipes are the bound.
 * Packed W: [n / 8][k / 4][8][4]. Activations are copied per row block into a 32 KB stack buffer
 * zero padded to a multiple of 16 (A is never read beyond k; the padding lets a row's last K
 * groups load as one vector). Accumulators start at bias[n] - a_zero_point * wsum[n].
 * Epilogue: SCVTF, FMUL, FMAX/FMIN clamp, FCVTNS (round to nearest even), + zero point, SQXTN.
 */
#if defined(__aarch64__)
#include "sam2r_gemm_s8.h"

#include <arm_neon.h>
#include <assert.h>
#include <string.h>

#define TGT __attribute__((target("arch=armv8.2-a+dotprod")))

#define MR 8
#define NR 8
#define KR 4
#define ABUF_BYTES 32768
/* GCC's pre-register-allocation scheduler hoists every load of the loop body ahead of the
 * multiply-accumulates and then spills accumulators; out-of-order cores do not need it. */
#if defined(__GNUC__) && !defined(__clang__)
#define NOSCHED __attribute__((optimize("no-schedule-insns")))
#else
#define NOSCHED
#endif

/* dst[r][0, round_up(kc, 16)) = src[r][0, kc), zero padded; rows [rows, rows_pad) zeroed. */
static void prep_rows(int8_t *dst, size_t dstride, const int8_t *src, size_t lda, int32_t rows, int32_t rows_pad,
                      int32_t kc) {
    const size_t kc16 = ((size_t)kc + 15) & ~(size_t)15;
    for (int32_t r = 0; r < rows; r++) {
        memcpy(dst + (size_t)r * dstride, src + (size_t)r * lda, (size_t)kc);
        memset(dst + (size_t)r * dstride + kc, 0, kc16 - (size_t)kc);
    }
    for (int32_t r = rows; r < rows_pad; r++) memset(dst + (size_t)r * dstride, 0, kc16);
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
    /* accumulators already start at init[] */
    const int32_t valid = t->ncols - 4 * j;
    if (valid <= 0) return;
    const float32x4_t f = vmulq_f32(vcvtq_f32_s32(acc), t->scale[j]);
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

#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define DECL(r) int32x4_t x##r##0 = t->init[0], x##r##1 = t->init[1];
#define LOADA(r) const int8x16_t a##r = vld1q_s8(ap + (r) * as);
#define STEP(r, l)                                                                       \
    x##r##0 = vdotq_laneq_s32(x##r##0, w0, a##r, l);                                     \
    x##r##1 = vdotq_laneq_s32(x##r##1, w1, a##r, l);
#define GROUP(l)                                                                         \
    {                                                                                    \
        const int8x16_t w0 = vld1q_s8(wp);                                               \
        const int8x16_t w1 = vld1q_s8(wp + 16);                                          \
        wp += KR * NR;                                                                   \
        STEP(0, l) STEP(1, l) STEP(2, l) STEP(3, l) STEP(4, l) STEP(5, l) STEP(6, l) STEP(7, l) \
    }
/* ngroups K groups of 4 of the prepared rows at abase (stride as) against W at wp0; rows are
 * zero padded to 16 bytes, so the last 1-3 groups still load whole A vectors. */
#define DOT_LOOP(abase, wp0, ngroups)                                                    \
    {                                                                                    \
        const int8_t *ap = (abase);                                                      \
        const int8_t *wp = (wp0);                                                        \
        int32_t g = 0;                                                                   \
        for (; g + 4 <= (ngroups); g += 4, ap += 16) {                                   \
            ROWS(LOADA)                                                                  \
            GROUP(0) GROUP(1) GROUP(2) GROUP(3)                                          \
        }                                                                                \
        if (g < (ngroups)) {                                                             \
            ROWS(LOADA)                                                                  \
            GROUP(0)                                                                     \
            if (g + 1 < (ngroups)) GROUP(1)                                              \
            if (g + 2 < (ngroups)) GROUP(2)                                              \
        }                                                                                \
    }
#define EPI(r)                                                                                          \
    if ((r) < rows) {                                                                                   \
        char *cr = c0 + (size_t)(r) * (size_t)a->ldc * esz;                                             \
        epi_vec(a, t, 0, x##r##0, cr);                                                                  \
        epi_vec(a, t, 1, x##r##1, cr);                                                                  \
    }
#define EPILOGUE                                                                                        \
    {                                                                                                   \
        const size_t esz = a->epilogue == SAM2R_EPI_S8 ? 1 : 4;                                         \
        char *c0 = (char *)a->c + ((size_t)m * (size_t)a->ldc + (size_t)nt) * esz;                      \
        ROWS(EPI)                                                                                       \
    }

static TGT __attribute__((noinline)) NOSCHED void tile_prepared(const sam2r_gemm_s8_args *a, const tile_consts *t,
                                                    const int8_t *ab, size_t as, const int8_t *w, int32_t kg,
                                                    int32_t m, int32_t rows, int32_t nt) {
    ROWS(DECL)
    DOT_LOOP(ab, w, kg)
    EPILOGUE
}

#define KCHUNK (ABUF_BYTES / 8)
static TGT __attribute__((noinline)) NOSCHED void tile_chunked(const sam2r_gemm_s8_args *a, const tile_consts *t, int8_t *abuf,
                                                   const int8_t *w, int32_t m, int32_t rows, int32_t nt) {
    ROWS(DECL)
    const size_t as = KCHUNK;
    for (int32_t k0 = 0; k0 < a->k; k0 += KCHUNK) {
        const int32_t kc = a->k - k0 < KCHUNK ? a->k - k0 : KCHUNK;
        prep_rows(abuf, KCHUNK, a->a + (size_t)m * (size_t)a->lda + k0, (size_t)a->lda, rows, MR, kc);
        DOT_LOOP(abuf, w + (size_t)k0 * NR, (kc + KR - 1) / KR)
    }
    EPILOGUE
}

static TGT void qs8_gemm_rect_dotprod(const sam2r_gemm_s8_args *a, int32_t m0, int32_t m1, int32_t n0, int32_t n1) {
    assert(0 <= m0 && m0 < m1 && m1 <= a->m && 0 <= n0 && n0 < n1 && n1 <= a->n && n0 % NR == 0);
    assert(a->w->nr == NR && a->w->kr == KR && a->k <= 65536);
    _Alignas(64) int8_t abuf[ABUF_BYTES];
    const int32_t k = a->k, kg = (k + KR - 1) / KR;
    const size_t wtile = (size_t)kg * KR * NR;
    const int8_t *wdata = a->w->data;
    const size_t stride = ((size_t)k + 15) & ~(size_t)15;
    tile_consts t;
    if (stride * MR <= ABUF_BYTES && stride <= KCHUNK * 4) {
        const int32_t rb = (int32_t)(ABUF_BYTES / stride) / MR * MR;
        for (int32_t mb = m0; mb < m1; mb += rb) {
            const int32_t me = mb + rb < m1 ? mb + rb : m1;
            const int32_t rows_pad = (me - mb + MR - 1) / MR * MR;
            prep_rows(abuf, stride, a->a + (size_t)mb * (size_t)a->lda, (size_t)a->lda, me - mb, rows_pad, k);
            for (int32_t m = mb; m < me; m += MR)
                for (int32_t nt = n0; nt < n1; nt += NR) {
                    tile_setup(a, nt, n1, &t);
                    tile_prepared(a, &t, abuf + (size_t)(m - mb) * stride, stride, wdata + (size_t)(nt / NR) * wtile,
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

const sam2r_gemm_s8_ukernel sam2r_qs8_gemm_dotprod = {
    "qs8_qc8w_gemm_fp32_8x8c4__neondot", SAM2R_ISA_DOTPROD, MR, NR, KR, qs8_gemm_rect_dotprod,
};

#endif
