/* attention_flash_impl.h — the body of the SIMD flash-attention kernels, shared by
 * x86/attention_avx2.c, x86/attention_avx512.c and arm/attention_neon.c. Private to Kernels/.
 *
 * The including file defines the vector vocabulary (FA_V, FA_VL, FA_LOAD, FA_STORE, FA_SET1,
 * FA_ZERO, FA_FMA(a, b, c) = a*b + c, FA_MUL, FA_ADD, FA_SUB, FA_MAX, FA_DIV, FA_EXP2; optionally
 * FA_TRANSPOSE(src, lds, nsrc, dst, ldd, ndst, scale): one VL x VL block, dst[x][y] = src[y][x] *
 * scale[x] for x < ndst, rows y >= nsrc of src read as zero; without it the transposes into and
 * out of the query-lane layout are scalar), the function attribute FA_TGT, and the tile: FA_NQV query vectors (FA_QT = FA_NQV * FA_VL queries
 * per full tile), FA_JT keys per S micro-tile, FA_DC value columns per P*V micro-tile, FA_KB keys
 * per streamed block (a multiple of FA_JT).
 *
 * Layout — queries live in vector lanes, so the softmax needs no horizontal reductions. A tile has
 * nqv <= FA_NQV query vectors (QN = nqv * FA_VL lanes): every tile is full except the last, which
 * takes just enough vectors for the remaining queries (a 196-query window is 4 x 48 + 1 x 16 on
 * AVX-512, not 5 x 48), so little padding work is done for the short windows of Hiera.
 *   Qt [dk][QN]   per tile: Q of its queries, transposed, pre-multiplied by scale*log2(e)
 *   Ot [dv][QN]   per tile: running output accumulator, transposed
 *   m, l, alpha [QN]  per tile: running max (base-2 logits), running sum, this block's rescale
 *   St [KB][QN]   scores / probabilities of the current (tile, key block), one buffer
 * Tile t's arrays start at t * FA_QT * (rows) as if every tile were full. Each key block's K and V
 * rows are first copied into contiguous kp [KB][dk], vp [KB][dv] (fa_copy_rows; keys + k_add by
 * fa_pack_keys_added); then, tile by
 * tile (the tile's Qt and St stay in L1 while kp / vp come from L2, which holds them for all the
 * task's tiles):
 *   St[j][:] = sum_e K[j][e] * Qt[e][:]                (JT x nqv vector FMAs per e; JT row
 *                                                        pointers into kp, broadcast operands)
 *   mnew = max(m, max_j St[j]); alpha = 2^(m - mnew); P = 2^(St - mnew); l = l*alpha + sum_j P
 *   Ot[d][:] = Ot[d][:]*alpha + sum_j V[j][d] * P[j][:] (DC x nqv vector FMAs per key)
 * and finally O[i][d] = Ot[d][i] / l[i]. Query lanes past the task's end are zero in Qt and never
 * stored; key rows past the block's end get scores that the softmax and P*V loops skip.
 * Scratch (floats): ntiles*QT*(dk + dv + 3) + KB*(QT + dk + dv)
 *                  <= q_block*(dk + dv + 3) + k_block*(q_tile + dk + dv) (attention.c). */
#ifndef SAM2R_ATTENTION_FLASH_IMPL_H
#define SAM2R_ATTENTION_FLASH_IMPL_H

#include <float.h>
#include <string.h>

#include "sam2r_f16.h"

#define FA_QT (FA_NQV * FA_VL)
/* The S tiles of a key block fill St [KB][QN] whole: a partial last tile would write past it. */
_Static_assert(FA_KB % FA_JT == 0, "FA_JT must divide the key block");
#define FA_LOG2E 1.44269504088896340736f

#define FA_AI __attribute__((always_inline)) inline
/* The transposes into and out of the query-lane layout are strided on one side: vectorized, clang
 * turns them into gathers / scatters, which are slower than scalar moves on this Xeon. */
#if defined(__clang__)
#define FA_NO_VECTORIZE _Pragma("clang loop vectorize(disable)")
#else
#define FA_NO_VECTORIZE
#endif

/* St[0..JT)[QN] of one key micro-tile: keys k0 + jj*dk of the packed block for jj < nrows; rows past
 * nrows repeat the last valid key (their scores are computed and ignored). nqv is a constant after
 * inlining. */
static FA_AI FA_TGT void fa_s_tile(const int nqv, const float *qt, int32_t dk, const float *k0, int32_t nrows,
                                   float *st) {
    const int qn = nqv * FA_VL;
    const float *kr[FA_JT];
#pragma GCC unroll 16
    for (int jj = 0; jj < FA_JT; jj++) kr[jj] = k0 + (size_t)(jj < nrows ? jj : nrows - 1) * dk;
    FA_V acc[FA_JT][FA_NQV];
#pragma GCC unroll 16
    for (int jj = 0; jj < FA_JT; jj++)
#pragma GCC unroll 4
        for (int v = 0; v < nqv; v++) acc[jj][v] = FA_ZERO();
    for (int32_t e = 0; e < dk; e++) {
        FA_V q[FA_NQV];
#pragma GCC unroll 4
        for (int v = 0; v < nqv; v++) q[v] = FA_LOAD(qt + (size_t)e * qn + v * FA_VL);
#pragma GCC unroll 16
        for (int jj = 0; jj < FA_JT; jj++) {
            const FA_V kb = FA_SET1(kr[jj][e]);
#pragma GCC unroll 4
            for (int v = 0; v < nqv; v++) acc[jj][v] = FA_FMA(kb, q[v], acc[jj][v]);
        }
    }
#pragma GCC unroll 16
    for (int jj = 0; jj < FA_JT; jj++)
#pragma GCC unroll 4
        for (int v = 0; v < nqv; v++) FA_STORE(st + jj * qn + v * FA_VL, acc[jj][v]);
}

/* Ot[d0 .. d0+nd)[QN] = Ot * alpha + sum_{j < kv} V[j][d] * P[j][:], V rows dv apart from v0 = the
 * packed block + d0; nd <= FA_DC and nqv are constants after inlining. */
static FA_AI FA_TGT void fa_pv_chunk(const int nd, const int nqv, float *ot, const float *pt, const float *v0,
                                     int32_t dv, int32_t kv, const float *alpha_mem) {
    const int qn = nqv * FA_VL;
    FA_V acc[FA_DC][FA_NQV], alpha[FA_NQV];
#pragma GCC unroll 4
    for (int v = 0; v < nqv; v++) alpha[v] = FA_LOAD(alpha_mem + v * FA_VL);
#pragma GCC unroll 16
    for (int dd = 0; dd < FA_DC; dd++)
        if (dd < nd)
#pragma GCC unroll 4
            for (int v = 0; v < nqv; v++) acc[dd][v] = FA_MUL(FA_LOAD(ot + dd * qn + v * FA_VL), alpha[v]);
    for (int32_t j = 0; j < kv; j++) {
        FA_V p[FA_NQV];
#pragma GCC unroll 4
        for (int v = 0; v < nqv; v++) p[v] = FA_LOAD(pt + (size_t)j * qn + v * FA_VL);
        const float *vr = v0 + (size_t)j * dv;
#pragma GCC unroll 16
        for (int dd = 0; dd < FA_DC; dd++)
            if (dd < nd) {
                const FA_V vb = FA_SET1(vr[dd]);
#pragma GCC unroll 4
                for (int v = 0; v < nqv; v++) acc[dd][v] = FA_FMA(vb, p[v], acc[dd][v]);
            }
    }
#pragma GCC unroll 16
    for (int dd = 0; dd < FA_DC; dd++)
        if (dd < nd)
#pragma GCC unroll 4
            for (int v = 0; v < nqv; v++) FA_STORE(ot + dd * qn + v * FA_VL, acc[dd][v]);
}

/* Partial P*V chunks (nd < FA_DC: only when dv is not a multiple of FA_DC) go through a table. */
typedef void (*fa_pv_fn)(float *ot, const float *pt, const float *v0, int32_t dv, int32_t kv, const float *alpha);

#define FA_PV_INST(n, q)                                                                                   \
    static FA_TGT void fa_pv_##n##_##q(float *ot, const float *pt, const float *v0, int32_t dv, int32_t kv, \
                                       const float *alpha) {                                              \
        fa_pv_chunk(n, q, ot, pt, v0, dv, kv, alpha);                                                     \
    }
#if FA_DC == 4
#define FA_PV_ROW(q) FA_PV_INST(1, q) FA_PV_INST(2, q) FA_PV_INST(3, q)
#define FA_PV_TAB(q) {0, fa_pv_1_##q, fa_pv_2_##q, fa_pv_3_##q}
#elif FA_DC == 8
#define FA_PV_ROW(q) FA_PV_INST(1, q) FA_PV_INST(2, q) FA_PV_INST(3, q) FA_PV_INST(4, q) FA_PV_INST(5, q) \
    FA_PV_INST(6, q) FA_PV_INST(7, q)
#define FA_PV_TAB(q) {0, fa_pv_1_##q, fa_pv_2_##q, fa_pv_3_##q, fa_pv_4_##q, fa_pv_5_##q, fa_pv_6_##q, fa_pv_7_##q}
#else
#error "FA_DC must be 4 or 8"
#endif
#if FA_NQV < 1 || FA_NQV > 4
#error "FA_NQV must be 1..4"
#endif
FA_PV_ROW(1)
#if FA_NQV > 1
FA_PV_ROW(2)
#endif
#if FA_NQV > 2
FA_PV_ROW(3)
#endif
#if FA_NQV > 3
FA_PV_ROW(4)
#endif
static const fa_pv_fn fa_pv_part[FA_NQV][FA_DC] = {
    FA_PV_TAB(1),
#if FA_NQV > 1
    FA_PV_TAB(2),
#endif
#if FA_NQV > 2
    FA_PV_TAB(3),
#endif
#if FA_NQV > 3
    FA_PV_TAB(4),
#endif
};
#undef FA_PV_INST
#undef FA_PV_ROW
#undef FA_PV_TAB

/* One (tile, key block): scores, online-softmax update, P*V. kv keys, packed by fa_copy_rows / fa_pack_keys_added into
 * kp / vp; nqv is a constant after inlining. */
static FA_AI FA_TGT void fa_tile_block(const int nqv, const float *qt, float *ot, float *mbuf, float *lbuf,
                                       float *abuf, float *st, const float *kp, const float *vp, int32_t kv,
                                       int32_t dk, int32_t dv) {
    const int qn = nqv * FA_VL;
    const int32_t nkt = (kv + FA_JT - 1) / FA_JT;
    for (int32_t jt = 0; jt < nkt; jt++)
        fa_s_tile(nqv, qt, dk, kp + (size_t)jt * FA_JT * dk, kv - jt * FA_JT, st + (size_t)jt * FA_JT * qn);
    FA_V mold[FA_NQV], mx[FA_NQV], sum[FA_NQV];
    for (int v = 0; v < nqv; v++) mx[v] = mold[v] = FA_LOAD(mbuf + v * FA_VL);
    for (int32_t j = 0; j < kv; j++)
        for (int v = 0; v < nqv; v++) mx[v] = FA_MAX(mx[v], FA_LOAD(st + (size_t)j * qn + v * FA_VL));
    for (int v = 0; v < nqv; v++) sum[v] = FA_ZERO();
    for (int32_t j = 0; j < kv; j++)
        for (int v = 0; v < nqv; v++) {
            float *sp = st + (size_t)j * qn + v * FA_VL;
            const FA_V p = FA_EXP2(FA_SUB(FA_LOAD(sp), mx[v]));
            FA_STORE(sp, p);
            sum[v] = FA_ADD(sum[v], p);
        }
    for (int v = 0; v < nqv; v++) {
        const FA_V alpha = FA_EXP2(FA_SUB(mold[v], mx[v]));
        FA_STORE(abuf + v * FA_VL, alpha);
        FA_STORE(mbuf + v * FA_VL, mx[v]);
        FA_STORE(lbuf + v * FA_VL, FA_ADD(FA_MUL(FA_LOAD(lbuf + v * FA_VL), alpha), sum[v]));
    }
    int32_t d0 = 0;
    for (; d0 + FA_DC <= dv; d0 += FA_DC) fa_pv_chunk(FA_DC, nqv, ot + (size_t)d0 * qn, st, vp + d0, dv, kv, abuf);
    if (d0 < dv) fa_pv_part[nqv - 1][dv - d0](ot + (size_t)d0 * qn, st, vp + d0, dv, kv, abuf);
}

/* Copies one key block's K or V rows (d floats each) into contiguous dst[kv][d] (kp or vp), once
 * per (task, key block) for all the task's tiles: the kernels then read a few contiguous pages
 * instead of kv rows ldk/ldv apart (a 4096-token qkv row is 4.6 KB: every key on its own page). */
static FA_TGT void fa_copy_rows(const float *src, size_t ld, int32_t kv, int32_t d, float *dst) {
    for (int32_t j = 0; j < kv; j++) {
        const float *r = src + (size_t)j * ld;
        float *o = dst + (size_t)j * d;
        for (int32_t e = 0; e < d; e++) o[e] = r[e];
    }
}

/* kp[kv][dk] = the key block + the k_add block (sam2r_attention_f32_args.k_add), one fp32 add per element. */
static FA_TGT void fa_pack_keys_added(const float *kblk, const float *ablk, size_t ldk, int32_t kv, int32_t dk,
                                      float *kp) {
    for (int32_t j = 0; j < kv; j++) {
        const float *kr = kblk + (size_t)j * ldk, *ar = ablk + (size_t)j * ldk;
        float *kd = kp + (size_t)j * dk;
        int32_t e = 0;
        for (; e + FA_VL <= dk; e += FA_VL) FA_STORE(kd + e, FA_ADD(FA_LOAD(kr + e), FA_LOAD(ar + e)));
        for (; e < dk; e++) kd[e] = kr[e] + ar[e];
    }
}

/* The same with k_add_f16: each row widened into kp, then the add above in place. */
static FA_TGT void fa_pack_keys_added_f16(const float *kblk, const uint16_t *ablk, size_t ldk, int32_t kv, int32_t dk,
                                          float *kp) {
    const sam2r_isa isa = sam2r_isa_active();
    for (int32_t j = 0; j < kv; j++) {
        float *kd = kp + (size_t)j * dk;
        sam2r_f16_to_f32_n(isa, ablk + (size_t)j * ldk, kd, (size_t)dk);
        fa_pack_keys_added(kblk + (size_t)j * ldk, kd, ldk, 1, dk, kd);
    }
}

typedef void (*fa_tile_fn)(const float *qt, float *ot, float *mbuf, float *lbuf, float *abuf, float *st,
                           const float *kp, const float *vp, int32_t kv, int32_t dk, int32_t dv);
#define FA_TILE_INST(q)                                                                                        \
    static FA_TGT void fa_tile_##q(const float *qt, float *ot, float *mbuf, float *lbuf, float *abuf, float *st, \
                                   const float *kp, const float *vp, int32_t kv, int32_t dk, int32_t dv) {      \
        fa_tile_block(q, qt, ot, mbuf, lbuf, abuf, st, kp, vp, kv, dk, dv);                                    \
    }
FA_TILE_INST(1)
#if FA_NQV > 1
FA_TILE_INST(2)
#endif
#if FA_NQV > 2
FA_TILE_INST(3)
#endif
#if FA_NQV > 3
FA_TILE_INST(4)
#endif
#undef FA_TILE_INST
static const fa_tile_fn fa_tile_tab[FA_NQV] = {
    fa_tile_1,
#if FA_NQV > 1
    fa_tile_2,
#endif
#if FA_NQV > 2
    fa_tile_3,
#endif
#if FA_NQV > 3
    fa_tile_4,
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
    float *st = abuf + (size_t)ntiles * FA_QT;   /* [KB][QN], one tile at a time */
    float *kp = st + (size_t)FA_KB * FA_QT;       /* [KB][dk] */
    float *vp = kp + (size_t)FA_KB * dk;          /* [KB][dv] */
    const float *Q = a->q + (size_t)b * a->q_batch_stride + (size_t)h * dk;
    const float *K = a->k + (size_t)b * a->k_batch_stride + (size_t)h * dk;
    const float *KA = a->k_add ? a->k_add + (size_t)b * a->k_batch_stride + (size_t)h * dk : NULL;
    const uint16_t *KH = a->k_add_f16 ? a->k_add_f16 + (size_t)b * a->k_batch_stride + (size_t)h * dk : NULL;
    const float *V = a->v + (size_t)b * a->v_batch_stride + (size_t)h * dv;
    float *O = a->o + (size_t)b * a->o_batch_stride + (size_t)h * dv;
    const size_t ldq = (size_t)a->ldq, ldk = (size_t)a->ldk, ldv = (size_t)a->ldv, ldo = (size_t)a->ldo;
    const float c = a->scale * FA_LOG2E;

    for (int32_t t = 0; t < ntiles; t++) {
        const int32_t n = nq - t * FA_QT < FA_QT ? nq - t * FA_QT : FA_QT;
        const int32_t qn = (n + FA_VL - 1) / FA_VL * FA_VL;
        float *qtt = qt + (size_t)t * dk * FA_QT;
        int32_t e0 = 0;
#ifdef FA_TRANSPOSE
        for (; e0 + FA_VL <= dk; e0 += FA_VL)
            for (int32_t i0 = 0; i0 < qn; i0 += FA_VL)
                FA_TRANSPOSE(Q + (size_t)(q0 + t * FA_QT + i0) * ldq + e0, ldq, n - i0 < FA_VL ? n - i0 : FA_VL,
                             qtt + (size_t)e0 * qn + i0, (size_t)qn, FA_VL, FA_SET1(c));
#endif
        for (int32_t i = 0; i < qn; i++) {
            if (i < n) {
                const float *qr = Q + (size_t)(q0 + t * FA_QT + i) * ldq;
                FA_NO_VECTORIZE
                for (int32_t e = e0; e < dk; e++) qtt[(size_t)e * qn + i] = qr[e] * c;
            } else {
                FA_NO_VECTORIZE
                for (int32_t e = e0; e < dk; e++) qtt[(size_t)e * qn + i] = 0.0f;
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
        /* Rows already contiguous (ld = d: the decoder's folded attention, few queries over 4096 keys) are read
         * in place, K and V each: the copy would cost as much as the few query tiles' products. Keys + k_add
         * are always formed in kp. */
        const float *kb_rows = K + (size_t)kb * ldk, *vb_rows = V + (size_t)kb * ldv;
        if (KA) {
            fa_pack_keys_added(kb_rows, KA + (size_t)kb * ldk, ldk, kv, dk, kp);
            kb_rows = kp;
        } else if (KH) {
            fa_pack_keys_added_f16(kb_rows, KH + (size_t)kb * ldk, ldk, kv, dk, kp);
            kb_rows = kp;
        } else if (ldk != (size_t)dk) {
            fa_copy_rows(kb_rows, ldk, kv, dk, kp);
            kb_rows = kp;
        }
        if (ldv != (size_t)dv) {
            fa_copy_rows(vb_rows, ldv, kv, dv, vp);
            vb_rows = vp;
        }
        for (int32_t t = 0; t < ntiles; t++) {
            const int32_t n = nq - t * FA_QT < FA_QT ? nq - t * FA_QT : FA_QT;
            fa_tile_tab[(n + FA_VL - 1) / FA_VL - 1](qt + (size_t)t * dk * FA_QT, ot + (size_t)t * dv * FA_QT,
                                                     mbuf + t * FA_QT, lbuf + t * FA_QT, abuf + t * FA_QT, st, kb_rows,
                                                     vb_rows, kv, dk, dv);
        }
    }

    for (int32_t t = 0; t < ntiles; t++) {
        const int32_t n = nq - t * FA_QT < FA_QT ? nq - t * FA_QT : FA_QT;
        const int32_t qn = (n + FA_VL - 1) / FA_VL * FA_VL;
        float *ott = ot + (size_t)t * dv * FA_QT;
        const float *lt = lbuf + t * FA_QT;
        int32_t d0 = 0;
#ifdef FA_TRANSPOSE
        for (; d0 + FA_VL <= dv; d0 += FA_VL)
            for (int32_t i0 = 0; i0 < n; i0 += FA_VL)
                FA_TRANSPOSE(ott + (size_t)d0 * qn + i0, (size_t)qn, FA_VL, O + (size_t)(q0 + t * FA_QT + i0) * ldo + d0,
                             ldo, n - i0 < FA_VL ? n - i0 : FA_VL, FA_DIV(FA_SET1(1.0f), FA_LOAD(lt + i0)));
#endif
        for (int32_t i = 0; i < n; i++) {
            const float inv = 1.0f / lt[i];
            float *orow = O + (size_t)(q0 + t * FA_QT + i) * ldo;
            FA_NO_VECTORIZE
            for (int32_t d = d0; d < dv; d++) orow[d] = ott[(size_t)d * qn + i] * inv;
            if (a->ml) {
                float *ml = a->ml + (((size_t)b * (size_t)a->heads + (size_t)h) * (size_t)a->nq +
                                     (size_t)(q0 + t * FA_QT + i)) * 2;
                ml[0] = mbuf[t * FA_QT + i];
                ml[1] = lt[i];
            }
        }
    }
}

#endif
