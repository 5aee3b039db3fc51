/* attention_s8_impl.h — the body of the SIMD int8 flash-attention kernels, shared by
 * x86/attention_s8_avx512vnni.c, x86/attention_s8_avx2.c and arm/attention_s8_neon.c. Private to Kernels/.
 * Semantics: sam2r_attention_s8.h; reference: scalar/attention_s8_scalar.c.
 *
 * The including file defines the vocabulary: S8_TGT (function attribute), S8_VL (32-bit lanes), S8_VI /
 * S8_VF (int32 / fp32 vectors), S8_LDI(p) / S8_STI(p, v) (S8_VL * 4 bytes), S8_BC4(p) (the 4 bytes at p
 * in every 32-bit lane), S8_ZEROI(), S8_SET1I(x), S8_ADDI, S8_ORI, S8_SLLI(v, n),
 * S8_QK(acc, q, k) = acc + per-lane sum of the 4 byte products of q (Qt bytes: q_q + S8_QBIAS as u8)
 * and k (s8), S8_PV(acc, p, v) = the same for p (0..127) and v (s8), S8_CVTF (int32 -> fp32, exact here),
 * S8_CVTI (fp32 -> int32, round half even), S8_LDF, S8_STF, S8_SET1F, S8_MULF, S8_ADDF, S8_SUBF, S8_MAXF,
 * S8_EXP2 (nm_exp2), S8_QBIAS (0, or 128 for u8 x s8 VNNI: the accumulator then starts at -128 * ksum_j,
 * so it ends at the exact signed dot product), and the tile: S8_NQV query vectors (S8_QT = S8_NQV *
 * S8_VL queries), S8_JT keys per score micro-tile, S8_DC value channels per P·V micro-tile.
 *
 * Layout (as attention_flash_impl.h: queries in vector lanes, no horizontal reductions), per task:
 *   head part: kq, ksum, sk, vqt, sv from ../attention_s8_quant.h (keys padded with zero rows to a
 *              whole key block, so micro-tiles never need a key tail)
 *   Qt [dkp/4][qn][4] bytes per tile: 4 consecutive features of a query in one 32-bit lane
 *   c, m, l, alpha [QT] floats per tile;  Ot [dv][qn] floats per tile
 *   St [KB][qn] floats (scores), Pt [KB/4][qn][4] bytes (p of 4 consecutive keys per 32-bit lane)
 * Per key block, tile by tile:
 *   St[j][:] = ((float)(sum_e4 Qt[e4][:] . kq[j][e4]) * c[:]) * sk[j]   (JT x nqv accumulators)
 *   mx = max(m, St); p = round(2^(St - mx) * 127) packed into Pt; alpha = 2^(m - mx); l = l*alpha + sum p
 *   Ot[d][:] = Ot[d][:] * alpha + (float)(sum_j4 Pt[j4][:] . vqt[d][j4])  (DC x nqv accumulators)
 * Q quantization and the final O = (Ot * sv) / l are per-query scalar code, the same as the reference's. */
#ifndef SAM2R_ATTENTION_S8_IMPL_H
#define SAM2R_ATTENTION_S8_IMPL_H

#include <float.h>
#include <string.h>
#include "attention_s8_quant.h"

#define S8_QT (S8_NQV * S8_VL)
#define S8_AI __attribute__((always_inline)) inline

/* St[0..JT)[qn] for keys k0 .. k0+JT of the padded kq (rows dkp bytes apart). */
static S8_AI S8_TGT void s8_s_tile(const int nqv, const uint8_t *qt, int32_t dkp, const int8_t *k0,
                                   const int32_t *ksum, const float *sk, const float *cbuf, float *st) {
    const int qn = nqv * S8_VL;
    S8_VI acc[S8_JT][S8_NQV];
#pragma GCC unroll 16
    for (int jj = 0; jj < S8_JT; jj++)
#pragma GCC unroll 4
        for (int v = 0; v < nqv; v++) acc[jj][v] = S8_QBIAS ? S8_SET1I(-S8_QBIAS * ksum[jj]) : S8_ZEROI();
    for (int32_t e4 = 0; e4 < dkp / 4; e4++) {
        S8_VI q[S8_NQV];
#pragma GCC unroll 4
        for (int v = 0; v < nqv; v++) q[v] = S8_LDI(qt + ((size_t)e4 * qn + v * S8_VL) * 4);
#pragma GCC unroll 16
        for (int jj = 0; jj < S8_JT; jj++) {
            const S8_VI kb = S8_BC4(k0 + (size_t)jj * dkp + e4 * 4);
#pragma GCC unroll 4
            for (int v = 0; v < nqv; v++) acc[jj][v] = S8_QK(acc[jj][v], q[v], kb);
        }
    }
#pragma GCC unroll 16
    for (int jj = 0; jj < S8_JT; jj++) {
        const S8_VF skv = S8_SET1F(sk[jj]);
#pragma GCC unroll 4
        for (int v = 0; v < nqv; v++)
            S8_STF(st + jj * qn + v * S8_VL, S8_MULF(S8_MULF(S8_CVTF(acc[jj][v]), S8_LDF(cbuf + v * S8_VL)), skv));
    }
}

/* Ot[d0 .. d0+nd)[qn] = Ot * alpha + (float)(P . V) over kv4 groups of 4 keys; v0 = the block's vqt + d0*KB. */
static S8_AI S8_TGT void s8_pv_chunk(const int nd, const int nqv, float *ot, const uint8_t *pt, const int8_t *v0,
                                     int32_t kv4, const float *abuf) {
    const int qn = nqv * S8_VL;
    S8_VI acc[S8_DC][S8_NQV];
#pragma GCC unroll 16
    for (int dd = 0; dd < S8_DC; dd++)
        if (dd < nd)
#pragma GCC unroll 4
            for (int v = 0; v < nqv; v++) acc[dd][v] = S8_ZEROI();
    for (int32_t j4 = 0; j4 < kv4; j4++) {
        S8_VI p[S8_NQV];
#pragma GCC unroll 4
        for (int v = 0; v < nqv; v++) p[v] = S8_LDI(pt + ((size_t)j4 * qn + v * S8_VL) * 4);
#pragma GCC unroll 16
        for (int dd = 0; dd < S8_DC; dd++)
            if (dd < nd) {
                const S8_VI vb = S8_BC4(v0 + (size_t)dd * S8_KB + j4 * 4);
#pragma GCC unroll 4
                for (int v = 0; v < nqv; v++) acc[dd][v] = S8_PV(acc[dd][v], p[v], vb);
            }
    }
#pragma GCC unroll 16
    for (int dd = 0; dd < S8_DC; dd++)
        if (dd < nd)
#pragma GCC unroll 4
            for (int v = 0; v < nqv; v++) {
                float *o = ot + (size_t)dd * qn + v * S8_VL;
                S8_STF(o, S8_ADDF(S8_MULF(S8_LDF(o), S8_LDF(abuf + v * S8_VL)), S8_CVTF(acc[dd][v])));
            }
}

/* The P·V tail when dv is not a multiple of S8_DC: nd is not a constant here (rare shapes only). */
static __attribute__((noinline)) S8_TGT void s8_pv_tail(int nd, int nqv, float *ot, const uint8_t *pt,
                                                        const int8_t *v0, int32_t kv4, const float *abuf) {
    for (int v = 0; v < nqv; v++)
        for (int dd = 0; dd < nd; dd++) {
            /* One query vector, one channel at a time: the same integer sums and fp32 steps. */
            S8_VI acc = S8_ZEROI();
            for (int32_t j4 = 0; j4 < kv4; j4++)
                acc = S8_PV(acc, S8_LDI(pt + ((size_t)j4 * nqv * S8_VL + v * S8_VL) * 4),
                            S8_BC4(v0 + (size_t)dd * S8_KB + j4 * 4));
            float *o = ot + (size_t)dd * nqv * S8_VL + v * S8_VL;
            S8_STF(o, S8_ADDF(S8_MULF(S8_LDF(o), S8_LDF(abuf + v * S8_VL)), S8_CVTF(acc)));
        }
}

/* One (tile, key block): scores, online softmax, P·V. kb0 = the block's first key, kv its keys. */
static S8_AI S8_TGT void s8_tile_block(const int nqv, const uint8_t *qt, float *ot, const float *cbuf, float *mbuf,
                                       float *lbuf, float *abuf, float *st, uint8_t *pt, const s8_head *hd,
                                       int32_t kb0, int32_t kv, int32_t dv) {
    const int qn = nqv * S8_VL;
    const int32_t dkp = hd->dkp, nkt = (kv + S8_JT - 1) / S8_JT, kv4 = (kv + 3) / 4;
    for (int32_t jt = 0; jt < nkt; jt++) {
        const int32_t j = kb0 + jt * S8_JT;
        s8_s_tile(nqv, qt, dkp, hd->kq + (size_t)j * dkp, hd->ksum + j, hd->sk + j, cbuf, st + (size_t)jt * S8_JT * qn);
    }
    S8_VF mold[S8_NQV], mx[S8_NQV];
    S8_VI sum[S8_NQV];
    for (int v = 0; v < nqv; v++) mx[v] = mold[v] = S8_LDF(mbuf + v * S8_VL);
    for (int32_t j = 0; j < kv; j++)
        for (int v = 0; v < nqv; v++) mx[v] = S8_MAXF(mx[v], S8_LDF(st + (size_t)j * qn + v * S8_VL));
    for (int v = 0; v < nqv; v++) sum[v] = S8_ZEROI();
    const S8_VF k127 = S8_SET1F(127.0f);
    for (int32_t j4 = 0; j4 < kv4; j4++)
        for (int v = 0; v < nqv; v++) {
            S8_VI word = S8_ZEROI();
            for (int r = 0; r < 4 && j4 * 4 + r < kv; r++) {
                const S8_VF s = S8_LDF(st + (size_t)(j4 * 4 + r) * qn + v * S8_VL);
                const S8_VI p = S8_CVTI(S8_MULF(S8_EXP2(S8_SUBF(s, mx[v])), k127));
                sum[v] = S8_ADDI(sum[v], p);
                word = S8_ORI(word, r == 0 ? p : r == 1 ? S8_SLLI(p, 8) : r == 2 ? S8_SLLI(p, 16) : S8_SLLI(p, 24));
            }
            S8_STI(pt + ((size_t)j4 * qn + v * S8_VL) * 4, word);
        }
    for (int v = 0; v < nqv; v++) {
        const S8_VF alpha = S8_EXP2(S8_SUBF(mold[v], mx[v]));
        S8_STF(abuf + v * S8_VL, alpha);
        S8_STF(mbuf + v * S8_VL, mx[v]);
        S8_STF(lbuf + v * S8_VL, S8_ADDF(S8_MULF(S8_LDF(lbuf + v * S8_VL), alpha), S8_CVTF(sum[v])));
    }
    const int8_t *vblk = hd->vqt + (size_t)(kb0 / S8_KB) * dv * S8_KB;
    int32_t d0 = 0;
    for (; d0 + S8_DC <= dv; d0 += S8_DC)
        s8_pv_chunk(S8_DC, nqv, ot + (size_t)d0 * qn, pt, vblk + (size_t)d0 * S8_KB, kv4, abuf);
    if (d0 < dv) s8_pv_tail(dv - d0, nqv, ot + (size_t)d0 * qn, pt, vblk + (size_t)d0 * S8_KB, kv4, abuf);
}

typedef void (*s8_tile_fn)(const uint8_t *qt, float *ot, const float *cbuf, float *mbuf, float *lbuf, float *abuf,
                           float *st, uint8_t *pt, const s8_head *hd, int32_t kb0, int32_t kv, int32_t dv);
#define S8_TILE_INST(q)                                                                                          \
    static S8_TGT void s8_tile_##q(const uint8_t *qt, float *ot, const float *cbuf, float *mbuf, float *lbuf,    \
                                   float *abuf, float *st, uint8_t *pt, const s8_head *hd, int32_t kb0,          \
                                   int32_t kv, int32_t dv) {                                                     \
        s8_tile_block(q, qt, ot, cbuf, mbuf, lbuf, abuf, st, pt, hd, kb0, kv, dv);                               \
    }
S8_TILE_INST(1)
#if S8_NQV > 1
S8_TILE_INST(2)
#endif
#if S8_NQV > 2
S8_TILE_INST(3)
#endif
#if S8_NQV > 3
S8_TILE_INST(4)
#endif
#if S8_NQV > 4
#error "S8_NQV must be 1..4"
#endif
#undef S8_TILE_INST
static const s8_tile_fn s8_tile_tab[S8_NQV] = {
    s8_tile_1,
#if S8_NQV > 1
    s8_tile_2,
#endif
#if S8_NQV > 2
    s8_tile_3,
#endif
#if S8_NQV > 3
    s8_tile_4,
#endif
};

static S8_TGT void s8_rows(const sam2r_attention_s8_args *a, int32_t b, int32_t h, int32_t q0, int32_t q1,
                           float *scratch) {
    const int32_t dk = a->dk, dv = a->dv, nk = a->nk;
    const int32_t nq = q1 - q0, ntiles = (nq + S8_QT - 1) / S8_QT;
    s8_head hd;
    s8_quantize_head(a, b, h, scratch, &hd);
    const int32_t dkp = hd.dkp;
    uint8_t *qt = hd.rest;
    float *cbuf = (float *)s8_align64(qt + (size_t)ntiles * S8_QT * dkp);
    float *mbuf = cbuf + (size_t)ntiles * S8_QT;
    float *lbuf = mbuf + (size_t)ntiles * S8_QT;
    float *abuf = lbuf + (size_t)ntiles * S8_QT;
    float *ot = (float *)s8_align64(abuf + (size_t)ntiles * S8_QT);
    float *st = (float *)s8_align64(ot + (size_t)ntiles * S8_QT * dv);
    uint8_t *pt = (uint8_t *)s8_align64(st + (size_t)S8_KB * S8_QT);
    const float *Q = a->q + (size_t)b * a->q_batch_stride + (size_t)h * dk;
    float *O = a->o + (size_t)b * a->o_batch_stride + (size_t)h * dv;
    const size_t ldq = (size_t)a->ldq, ldo = (size_t)a->ldo;
    const float cs = a->scale * 1.44269504088896340736f;

    /* Quantize each query (a row of dkp bytes in pt, free until the first block), scatter it into Qt. */
    for (int32_t t = 0; t < ntiles; t++) {
        const int32_t n = nq - t * S8_QT < S8_QT ? nq - t * S8_QT : S8_QT;
        const int32_t qn = (n + S8_VL - 1) / S8_VL * S8_VL;
        uint8_t *qtt = qt + (size_t)t * S8_QT * dkp;
        for (int32_t i = 0; i < qn; i++) {
            uint8_t *row = pt;
            float sq = 0.0f;
            if (i < n) sq = s8_quantize_group(Q + (size_t)(q0 + t * S8_QT + i) * ldq, 1, dk, row, 1, S8_QBIAS);
            else memset(row, S8_QBIAS, (size_t)dk);
            memset(row + dk, S8_QBIAS, (size_t)(dkp - dk));
            for (int32_t e4 = 0; e4 < dkp / 4; e4++) memcpy(qtt + ((size_t)e4 * qn + i) * 4, row + e4 * 4, 4);
            cbuf[t * S8_QT + i] = sq * cs;
        }
        for (int32_t i = 0; i < S8_QT; i++) {
            mbuf[t * S8_QT + i] = -FLT_MAX;
            lbuf[t * S8_QT + i] = 0.0f;
        }
    }
    memset(ot, 0, (size_t)ntiles * dv * S8_QT * sizeof(float));

    for (int32_t kb = 0; kb < nk; kb += S8_KB) {
        const int32_t kv = nk - kb < S8_KB ? nk - kb : S8_KB;
        for (int32_t t = 0; t < ntiles; t++) {
            const int32_t n = nq - t * S8_QT < S8_QT ? nq - t * S8_QT : S8_QT;
            s8_tile_tab[(n + S8_VL - 1) / S8_VL - 1](qt + (size_t)t * S8_QT * dkp, ot + (size_t)t * dv * S8_QT,
                                                     cbuf + t * S8_QT, mbuf + t * S8_QT, lbuf + t * S8_QT,
                                                     abuf + t * S8_QT, st, pt, &hd, kb, kv, dv);
        }
    }

    for (int32_t t = 0; t < ntiles; t++) {
        const int32_t n = nq - t * S8_QT < S8_QT ? nq - t * S8_QT : S8_QT;
        const int32_t qn = (n + S8_VL - 1) / S8_VL * S8_VL;
        const float *ott = ot + (size_t)t * dv * S8_QT, *lt = lbuf + t * S8_QT;
        for (int32_t i = 0; i < n; i++) {
            float *orow = O + (size_t)(q0 + t * S8_QT + i) * ldo;
            for (int32_t d = 0; d < dv; d++) orow[d] = (ott[(size_t)d * qn + i] * hd.sv[d]) / lt[i];
        }
    }
}

#endif
