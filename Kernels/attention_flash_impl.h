/* attention_flash_impl.h — the body of the SIMD flash-attention kernels, shared by
 * x86/attention_avx2.c, x86/attention_avx512.c and arm/attention_neon.c. Private to Kernels/.
 *
 * The including file defines the vector vocabulary (FA_V, FA_VL, FA_LOAD, FA_STORE, FA_SET1,
 * FA_ZERO, FA_FMA(a, b, c) = a*b + c, FA_MUL, FA_ADD, FA_SUB, FA_MAX, FA_DIV, FA_EXP2), the
 * function attribute FA_TGT, and the tile: FA_NQV query vectors (FA_QT = FA_NQV * FA_VL queries
 * per tile), FA_JT keys per S micro-tile, FA_DC value columns per P*V micro-tile, FA_KB keys per
 * streamed block (a multiple of FA_JT).
 *
 * Layout — queries live in vector lanes, so the softmax needs no horizontal reductions:
 *   Qt [tile][dk][QT]   Q of the task's queries, transposed, pre-multiplied by scale*log2(e)
 *   Ot [tile][dv][QT]   running output accumulator, transposed
 *   m, l, alpha [tile][QT]  running max (base-2 logits), running sum, this block's rescale factor
 *   St [tile][KB][QT]   scores / probabilities of the current key block
 * For each key block, over all query tiles of the task (S with key micro-tiles outer, P*V with
 * value-column chunks outer, so the broadcast operands - K rows, V row segments - stay in L1):
 *   St[j][:] = sum_e K[j][e] * Qt[e][:]                (JT x NQV vector FMAs per e; K read in
 *                                                        place, JT row pointers, broadcast operands)
 *   mnew = max(m, max_j St[j]); alpha = 2^(m - mnew); P = 2^(St - mnew); l = l*alpha + sum_j P
 *   Ot[d][:] = Ot[d][:]*alpha + sum_j V[j][d] * P[j][:] (DC x NQV vector FMAs per key)
 * and finally O[i][d] = Ot[d][i] / l[i]. Query rows past the task's end are zero in Qt and never
 * stored; key rows past the block's end get scores that the softmax and P*V loops skip.
 * Scratch (floats): ntiles*QT*(dk + dv + 3 + KB) <= q_block*(dk + dv + 3 + k_block). */
#ifndef SAM2R_ATTENTION_FLASH_IMPL_H
#define SAM2R_ATTENTION_FLASH_IMPL_H

#include <float.h>
#include <string.h>

#define FA_QT (FA_NQV * FA_VL)
#define FA_LOG2E 1.44269504088896340736f

#define FA_AI __attribute__((always_inline)) inline

/* St[0..JT)[QT] of one key micro-tile: keys k0 + jj*ldk for jj < nrows; rows past nrows repeat the
 * last valid key (their scores are computed and ignored). */
static FA_AI FA_TGT void fa_s_tile(const float *qt, int32_t dk, const float *k0, size_t ldk, int32_t nrows, float *st) {
    const float *kr[FA_JT];
#pragma GCC unroll 16
    for (int jj = 0; jj < FA_JT; jj++) kr[jj] = k0 + (size_t)(jj < nrows ? jj : nrows - 1) * ldk;
    FA_V acc[FA_JT][FA_NQV];
#pragma GCC unroll 16
    for (int jj = 0; jj < FA_JT; jj++)
#pragma GCC unroll 4
        for (int v = 0; v < FA_NQV; v++) acc[jj][v] = FA_ZERO();
    for (int32_t e = 0; e < dk; e++) {
        FA_V q[FA_NQV];
#pragma GCC unroll 4
        for (int v = 0; v < FA_NQV; v++) q[v] = FA_LOAD(qt + (size_t)e * FA_QT + v * FA_VL);
#pragma GCC unroll 16
        for (int jj = 0; jj < FA_JT; jj++) {
            const FA_V kb = FA_SET1(kr[jj][e]);
#pragma GCC unroll 4
            for (int v = 0; v < FA_NQV; v++) acc[jj][v] = FA_FMA(kb, q[v], acc[jj][v]);
        }
    }
#pragma GCC unroll 16
    for (int jj = 0; jj < FA_JT; jj++)
#pragma GCC unroll 4
        for (int v = 0; v < FA_NQV; v++) FA_STORE(st + jj * FA_QT + v * FA_VL, acc[jj][v]);
}

/* Ot[d0 .. d0+nd)[QT] = Ot * alpha + sum_{j < kv} V[j][d] * P[j][:]; nd <= FA_DC is a constant after inlining. */
static FA_AI FA_TGT void fa_pv_chunk(const int nd, float *ot, const float *pt, const float *v0, size_t ldv, int32_t kv,
                                     const float *alpha_mem) {
    FA_V acc[FA_DC][FA_NQV], alpha[FA_NQV];
#pragma GCC unroll 4
    for (int v = 0; v < FA_NQV; v++) alpha[v] = FA_LOAD(alpha_mem + v * FA_VL);
#pragma GCC unroll 16
    for (int dd = 0; dd < FA_DC; dd++)
        if (dd < nd)
#pragma GCC unroll 4
            for (int v = 0; v < FA_NQV; v++)
                acc[dd][v] = FA_MUL(FA_LOAD(ot + dd * FA_QT + v * FA_VL), alpha[v]);
    for (int32_t j = 0; j < kv; j++) {
        FA_V p[FA_NQV];
#pragma GCC unroll 4
        for (int v = 0; v < FA_NQV; v++) p[v] = FA_LOAD(pt + (size_t)j * FA_QT + v * FA_VL);
        const float *vr = v0 + (size_t)j * ldv;
#pragma GCC unroll 16
        for (int dd = 0; dd < FA_DC; dd++)
            if (dd < nd) {
                const FA_V vb = FA_SET1(vr[dd]);
#pragma GCC unroll 4
                for (int v = 0; v < FA_NQV; v++) acc[dd][v] = FA_FMA(vb, p[v], acc[dd][v]);
            }
    }
#pragma GCC unroll 16
    for (int dd = 0; dd < FA_DC; dd++)
        if (dd < nd)
#pragma GCC unroll 4
            for (int v = 0; v < FA_NQV; v++) FA_STORE(ot + dd * FA_QT + v * FA_VL, acc[dd][v]);
}

typedef void (*fa_pv_fn)(float *ot, const float *pt, const float *v0, size_t ldv, int32_t kv, const float *alpha);

#define FA_PV_INST(n)                                                                                   \
    static FA_TGT void fa_pv_##n(float *ot, const float *pt, const float *v0, size_t ldv, int32_t kv,   \
                                 const float *alpha) {                                                  \
        fa_pv_chunk(n, ot, pt, v0, ldv, kv, alpha);                                                     \
    }
FA_PV_INST(1) FA_PV_INST(2) FA_PV_INST(3) FA_PV_INST(4)
#if FA_DC > 4
FA_PV_INST(5) FA_PV_INST(6)
#endif
#if FA_DC > 6
FA_PV_INST(7) FA_PV_INST(8)
#endif
#if FA_DC > 8
FA_PV_INST(9) FA_PV_INST(10) FA_PV_INST(11) FA_PV_INST(12)
#endif
#undef FA_PV_INST

#if FA_DC != 4 && FA_DC != 6 && FA_DC != 8 && FA_DC != 12
#error "FA_DC must be 4, 6, 8 or 12"
#endif
static const fa_pv_fn fa_pv_tab[FA_DC + 1] = {
    0, fa_pv_1, fa_pv_2, fa_pv_3, fa_pv_4,
#if FA_DC > 4
    fa_pv_5, fa_pv_6,
#endif
#if FA_DC > 6
    fa_pv_7, fa_pv_8,
#endif
#if FA_DC > 8
    fa_pv_9, fa_pv_10, fa_pv_11, fa_pv_12,
#endif
};

static FA_TGT void fa_rows(const sam2r_attention_f32_args *a, int32_t b, int32_t h, int32_t q0, int32_t q1,
                           float *scratch) {
    const int32_t dk = a->dk, dv = a->dv, nk = a->nk;
    const int32_t nq = q1 - q0, ntiles = (nq + FA_QT - 1) / FA_QT;
    float *qt = scratch;
    float *ot = qt + (size_t)ntiles * dk * FA_QT;
    float *mbuf = ot + (size_t)ntiles * dv * FA_QT;
    float *lbuf = mbuf + (size_t)ntiles * FA_QT;
    float *abuf = lbuf + (size_t)ntiles * FA_QT;
    float *st = abuf + (size_t)ntiles * FA_QT;   /* [tile][KB][QT] */
    const float *Q = a->q + (size_t)b * a->q_batch_stride + (size_t)h * dk;
    const float *K = a->k + (size_t)b * a->k_batch_stride + (size_t)h * dk;
    const float *V = a->v + (size_t)b * a->v_batch_stride + (size_t)h * dv;
    float *O = a->o + (size_t)b * a->o_batch_stride + (size_t)h * dv;
    const size_t ldq = (size_t)a->ldq, ldk = (size_t)a->ldk, ldv = (size_t)a->ldv, ldo = (size_t)a->ldo;
    const float c = a->scale * FA_LOG2E;

    for (int32_t t = 0; t < ntiles; t++) {
        float *qtt = qt + (size_t)t * dk * FA_QT;
        for (int32_t i = 0; i < FA_QT; i++) {
            const int32_t qi = t * FA_QT + i;
            if (qi < nq) {
                const float *qr = Q + (size_t)(q0 + qi) * ldq;
                for (int32_t e = 0; e < dk; e++) qtt[(size_t)e * FA_QT + i] = qr[e] * c;
            } else {
                for (int32_t e = 0; e < dk; e++) qtt[(size_t)e * FA_QT + i] = 0.0f;
            }
        }
        for (int32_t i = 0; i < FA_QT; i++) {
            mbuf[t * FA_QT + i] = -FLT_MAX;
            lbuf[t * FA_QT + i] = 0.0f;
        }
    }
    memset(ot, 0, (size_t)ntiles * dv * FA_QT * sizeof(float));

    for (int32_t kb = 0; kb < nk; kb += FA_KB) {
        const int32_t kv = nk - kb < FA_KB ? nk - kb : FA_KB;
        const int32_t nkt = (kv + FA_JT - 1) / FA_JT;
        const float *kblk = K + (size_t)kb * ldk;
        const float *vblk = V + (size_t)kb * ldv;
        /* Scores: key micro-tile outer, so its JT key rows stay in L1 while the query tiles stream. */
        for (int32_t jt = 0; jt < nkt; jt++)
            for (int32_t t = 0; t < ntiles; t++)
                fa_s_tile(qt + (size_t)t * dk * FA_QT, dk, kblk + (size_t)jt * FA_JT * ldk, ldk, kv - jt * FA_JT,
                          st + ((size_t)t * FA_KB + (size_t)jt * FA_JT) * FA_QT);
        for (int32_t t = 0; t < ntiles; t++) {
            float *stt = st + (size_t)t * FA_KB * FA_QT;
            FA_V mold[FA_NQV], mx[FA_NQV], sum[FA_NQV];
            for (int v = 0; v < FA_NQV; v++) mx[v] = mold[v] = FA_LOAD(mbuf + t * FA_QT + v * FA_VL);
            for (int32_t j = 0; j < kv; j++)
                for (int v = 0; v < FA_NQV; v++) mx[v] = FA_MAX(mx[v], FA_LOAD(stt + (size_t)j * FA_QT + v * FA_VL));
            for (int v = 0; v < FA_NQV; v++) sum[v] = FA_ZERO();
            for (int32_t j = 0; j < kv; j++)
                for (int v = 0; v < FA_NQV; v++) {
                    float *sp = stt + (size_t)j * FA_QT + v * FA_VL;
                    const FA_V p = FA_EXP2(FA_SUB(FA_LOAD(sp), mx[v]));
                    FA_STORE(sp, p);
                    sum[v] = FA_ADD(sum[v], p);
                }
            for (int v = 0; v < FA_NQV; v++) {
                const FA_V alpha = FA_EXP2(FA_SUB(mold[v], mx[v]));
                FA_STORE(abuf + t * FA_QT + v * FA_VL, alpha);
                FA_STORE(mbuf + t * FA_QT + v * FA_VL, mx[v]);
                FA_STORE(lbuf + t * FA_QT + v * FA_VL,
                         FA_ADD(FA_MUL(FA_LOAD(lbuf + t * FA_QT + v * FA_VL), alpha), sum[v]));
            }
        }
        /* P*V: value-column chunk outer, so its kv row segments stay in L1 across the query tiles. */
        for (int32_t d0 = 0; d0 < dv; d0 += FA_DC) {
            const int32_t nd = dv - d0 < FA_DC ? dv - d0 : FA_DC;
            for (int32_t t = 0; t < ntiles; t++)
                fa_pv_tab[nd](ot + ((size_t)t * dv + d0) * FA_QT, st + (size_t)t * FA_KB * FA_QT, vblk + d0, ldv, kv,
                              abuf + t * FA_QT);
        }
    }

    for (int32_t t = 0; t < ntiles; t++) {
        float *ott = ot + (size_t)t * dv * FA_QT;
        FA_V inv[FA_NQV];
        for (int v = 0; v < FA_NQV; v++) inv[v] = FA_DIV(FA_SET1(1.0f), FA_LOAD(lbuf + t * FA_QT + v * FA_VL));
        for (int32_t d = 0; d < dv; d++)
            for (int v = 0; v < FA_NQV; v++) {
                float *p = ott + (size_t)d * FA_QT + v * FA_VL;
                FA_STORE(p, FA_MUL(FA_LOAD(p), inv[v]));
            }
        const int32_t nvalid = nq - t * FA_QT < FA_QT ? nq - t * FA_QT : FA_QT;
        for (int32_t i = 0; i < nvalid; i++) {
            float *orow = O + (size_t)(q0 + t * FA_QT + i) * ldo;
            for (int32_t d = 0; d < dv; d++) orow[d] = ott[(size_t)d * FA_QT + i];
        }
    }
}

#endif
