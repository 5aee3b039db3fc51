/* attention_s8_quant.h — the int8 attention's quantization (step 1 of sam2r_attention_s8.h) and the
 * per-worker scratch layout every variant shares. Private to Kernels/.
 *
 * The quantization is plain C shared by all variants — so it is identical by construction — and runs
 * once per task over its head's K and V (O(nk * (dk + dv))) and once per query row.
 * round-half-even(y) for |y| <= 127.5 is (y + 1.5 * 2^23) - 1.5 * 2^23: the sum lies in [2^23, 2^24),
 * where the fp32 spacing is 1, and 1.5 * 2^23 is even, so the sum rounds like nearbyint(y). It
 * vectorizes, unlike a libm nearbyintf call on baseline x86-64 (kernels are built with
 * -ffp-contract=off and without -ffast-math, so the compiler keeps both operations).
 *
 * Scratch layout (bytes from the worker's scratch; every region starts 64-byte aligned), nkp = nk rounded
 * up to SAM2R_ATTENTION_KEY_BLOCK, dkp = dk rounded up to 4 (pad bytes are 0):
 *   kq   [nkp][dkp]   int8   K rows quantized per key; keys past nk are zero rows
 *   ksum [nkp]        int32  sum_e kq[j][e] (the VNNI u8 x s8 correction)
 *   sk   [nkp]        float  per-key scales (0 past nk)
 *   vqt  [nkp / KB][dv][KB]  int8  V quantized per channel, transposed per key block so that 4
 *                                  consecutive keys of one channel are one 32-bit broadcast; 0 past nk
 *   sv   [2][dv]      float  per-channel scales, then (scratch) their inverses 127 / amax
 *   rest              the variant's query-side buffers (S8_REST_BYTES below bounds them). */
#ifndef SAM2R_ATTENTION_S8_QUANT_H
#define SAM2R_ATTENTION_S8_QUANT_H

#include <math.h>
#include <stdint.h>
#include <string.h>
#include "sam2r_attention_s8.h"

#define S8_KB SAM2R_ATTENTION_KEY_BLOCK
#define S8_ALIGN64(n) (((size_t)(n) + 63) & ~(size_t)63)
#define S8_MAGIC 12582912.0f /* 1.5 * 2^23 */

static inline int32_t s8_round_clamp(float y) {
    const int32_t r = (int32_t)((y + S8_MAGIC) - S8_MAGIC);
    return r > 127 ? 127 : r < -127 ? -127 : r;
}

/* max |x[e * xs]| over n finite floats, as the bits of |x|: for finite floats their order is the
 * unsigned order of those bits, and an integer max reduction vectorizes (a float one needs fast-math). */
static inline float s8_amax(const float *x, size_t xs, int32_t n) {
    uint32_t m = 0;
    for (int32_t e = 0; e < n; e++) {
        uint32_t u;
        memcpy(&u, &x[(size_t)e * xs], 4);
        u &= 0x7fffffffu;
        m = u > m ? u : m;
    }
    float f;
    memcpy(&f, &m, 4);
    return f;
}

/* Quantizes x[0], x[xs], ... (n values) into y[0], y[ys], ... as (uint8_t)(x_q + bias) (bias 0: the int8
 * bits; 128: the u8 offset form VNNI multiplies); returns the scale amax / 127 (0 for an all-zero group). */
static inline float s8_quantize_group(const float *x, size_t xs, int32_t n, uint8_t *y, size_t ys, int32_t bias) {
    const float amax = s8_amax(x, xs, n);
    if (amax == 0.0f) {
        for (int32_t e = 0; e < n; e++) y[(size_t)e * ys] = (uint8_t)bias;
        return 0.0f;
    }
    const float inv = 127.0f / amax;
    for (int32_t e = 0; e < n; e++) y[(size_t)e * ys] = (uint8_t)(s8_round_clamp(x[(size_t)e * xs] * inv) + bias);
    return amax / 127.0f;
}

typedef struct {
    int8_t *kq;
    int32_t *ksum;
    float *sk;
    int8_t *vqt;
    float *sv;
    uint8_t *rest;
    int32_t nkp, dkp;
} s8_head;

static inline size_t s8_head_bytes(int32_t nk, int32_t dk, int32_t dv) {
    const size_t nkp = ((size_t)nk + S8_KB - 1) / S8_KB * S8_KB, dkp = ((size_t)dk + 3) & ~(size_t)3;
    return S8_ALIGN64(nkp * dkp) + 2 * S8_ALIGN64(nkp * 4) + S8_ALIGN64(nkp * (size_t)dv) + S8_ALIGN64((size_t)dv * 8);
}

/* Query-side bytes of a variant with q_block queries per task, q_tile per tile: Qt (dkp bytes per
 * query), c, m, l, alpha (4 floats per query), Ot (dv floats per query); St (KB x q_tile floats), P
 * (KB x q_tile bytes), the scalar reference's int32 p (KB) and 64-byte alignment slack for each. */
static inline size_t s8_rest_bytes(int32_t q_block, int32_t q_tile, int32_t dk, int32_t dv) {
    const size_t qb = (size_t)q_block, qt = (size_t)q_tile, dkp = ((size_t)dk + 3) & ~(size_t)3;
    return qb * (dkp + 4 * (4 + (size_t)dv)) + (size_t)S8_KB * (qt * 5 + 4) + 64 * 10;
}

/* Carves the head part of a worker's scratch (64-byte aligned) and quantizes K and V of (b, h). */
static inline void s8_quantize_head(const sam2r_attention_s8_args *a, int32_t b, int32_t h, float *scratch,
                                    s8_head *hd) {
    const int32_t nk = a->nk, dk = a->dk, dv = a->dv;
    const int32_t nkp = (nk + S8_KB - 1) / S8_KB * S8_KB, dkp = (dk + 3) & ~3;
    uint8_t *p = (uint8_t *)scratch;
    hd->kq = (int8_t *)p; p += S8_ALIGN64((size_t)nkp * dkp);
    hd->ksum = (int32_t *)p; p += S8_ALIGN64((size_t)nkp * 4);
    hd->sk = (float *)p; p += S8_ALIGN64((size_t)nkp * 4);
    hd->vqt = (int8_t *)p; p += S8_ALIGN64((size_t)nkp * dv);
    hd->sv = (float *)p; p += S8_ALIGN64((size_t)dv * 8);
    hd->rest = p;
    hd->nkp = nkp;
    hd->dkp = dkp;
    const float *K = a->k + (size_t)b * a->k_batch_stride + (size_t)h * dk;
    const float *V = a->v + (size_t)b * a->v_batch_stride + (size_t)h * dv;
    memset(hd->kq, 0, (size_t)nkp * dkp);
    for (int32_t j = 0; j < nk; j++) {
        int8_t *row = hd->kq + (size_t)j * dkp;
        hd->sk[j] = s8_quantize_group(K + (size_t)j * a->ldk, 1, dk, (uint8_t *)row, 1, 0);
        int32_t s = 0;
        for (int32_t e = 0; e < dk; e++) s += row[e];
        hd->ksum[j] = s;
    }
    for (int32_t j = nk; j < nkp; j++) {
        hd->sk[j] = 0.0f;
        hd->ksum[j] = 0;
    }
    /* V column d of key block kb is vqt[kb / KB][d][0 .. KB). Row-major passes (amax per channel, then
     * rows), not column walks over nk rows ldv apart; sv[dv .. 2dv) holds the inverses meanwhile. */
    memset(hd->vqt, 0, (size_t)nkp * dv);
    float *amax = hd->sv, *inv = hd->sv + dv;
    uint32_t *abits = (uint32_t *)amax; /* |v| bits, as in s8_amax */
    for (int32_t d = 0; d < dv; d++) abits[d] = 0;
    for (int32_t j = 0; j < nk; j++) {
        const float *vr = V + (size_t)j * a->ldv;
        for (int32_t d = 0; d < dv; d++) {
            uint32_t u;
            memcpy(&u, &vr[d], 4);
            u &= 0x7fffffffu;
            abits[d] = u > abits[d] ? u : abits[d];
        }
    }
    for (int32_t d = 0; d < dv; d++) {
        inv[d] = amax[d] == 0.0f ? 0.0f : 127.0f / amax[d];
        amax[d] = amax[d] / 127.0f; /* now sv: amax / 127, 0 for an all-zero channel */
    }
    for (int32_t j = 0; j < nk; j++) {
        const float *vr = V + (size_t)j * a->ldv;
        int8_t *col = hd->vqt + (size_t)(j / S8_KB) * dv * S8_KB + j % S8_KB;
        for (int32_t d = 0; d < dv; d++) col[(size_t)d * S8_KB] = (int8_t)s8_round_clamp(vr[d] * inv[d]);
    }
}

/* Rounds p up to a multiple of 64 bytes. */
static inline void *s8_align64(void *p) { return (void *)(((uintptr_t)p + 63) & ~(uintptr_t)63); }

#endif
