/* attention_scalar.c — flash attention reference f32_attention_flash_1xkb96__scalar, one query row at a
 * time. This is the definition every variant reproduces bit for bit (docs/numerics.md); the SIMD
 * kernels (../attention_flash_impl.h) put queries in vector lanes, so each lane runs exactly this
 * sequence:
 *   qs[e] = q[e] * c,  c = scale * log2(e)                     (one rounding each)
 *   m = -FLT_MAX, l = 0, acc[d] = 0
 *   per block of SAM2R_ATTENTION_KEY_BLOCK keys (the last one shorter):
 *     s_j   = fma chain over e = 0 .. dk-1 from 0:  s = fmaf(k_j[e], qs[e], s)
 *     mx    = max(m, s_j over the block)                        (exact)
 *     p_j   = nm_exp2(s_j - mx);  sum = 0 + p_0 + p_1 + ...      (in key order)
 *     alpha = nm_exp2(m - mx);  l = l * alpha + sum              (two roundings, no FMA)
 *     acc[d] = acc[d] * alpha, then acc[d] = fmaf(v_j[d], p_j, acc[d]) in key order;  m = mx
 *   o[d] = acc[d] * (1 / l)                                     (IEEE division, then one multiply)
 * Scratch: dk + dv + SAM2R_ATTENTION_KEY_BLOCK floats. */
#include "sam2r_attention.h"
#include "sam2r_f16.h"
#include "numerics_scalar.h"

#include <float.h>

#define KB SAM2R_ATTENTION_KEY_BLOCK
#define Q_BLOCK 16

static void attention_rows_scalar(const sam2r_attention_f32_args *a, int32_t b, int32_t h, int32_t q0, int32_t q1,
                                  float *scratch) {
    const int32_t dk = a->dk, dv = a->dv, nk = a->nk;
    float *qs = scratch, *acc = scratch + dk, *s = acc + dv;
    const float *K = a->k + (size_t)b * a->k_batch_stride + (size_t)h * dk;
    const float *KA = a->k_add ? a->k_add + (size_t)b * a->k_batch_stride + (size_t)h * dk : NULL;
    const uint16_t *KH = a->k_add_f16 ? a->k_add_f16 + (size_t)b * a->k_batch_stride + (size_t)h * dk : NULL;
    const float *V = a->v + (size_t)b * a->v_batch_stride + (size_t)h * dv;
    const float c = a->scale * 1.44269504088896340736f;
    for (int32_t i = q0; i < q1; i++) {
        const float *q = a->q + (size_t)b * a->q_batch_stride + (size_t)i * a->ldq + (size_t)h * dk;
        float *o = a->o + (size_t)b * a->o_batch_stride + (size_t)i * a->ldo + (size_t)h * dv;
        for (int32_t e = 0; e < dk; e++) qs[e] = q[e] * c;
        float m = -FLT_MAX, l = 0.0f;
        for (int32_t d = 0; d < dv; d++) acc[d] = 0.0f;
        for (int32_t kb = 0; kb < nk; kb += KB) {
            const int32_t kv = nk - kb < KB ? nk - kb : KB;
            float mx = m;
            for (int32_t j = 0; j < kv; j++) {
                const float *kr = K + (size_t)(kb + j) * a->ldk;
                const float *ar = KA ? KA + (size_t)(kb + j) * a->ldk : NULL;
                const uint16_t *hr = KH ? KH + (size_t)(kb + j) * a->ldk : NULL;
                float dot = 0.0f;
                for (int32_t e = 0; e < dk; e++)
                    dot = fmaf(ar ? kr[e] + ar[e] : hr ? kr[e] + sam2r_f16_to_f32(hr[e]) : kr[e], qs[e], dot);
                s[j] = dot;
                mx = dot > mx ? dot : mx;
            }
            float sum = 0.0f;
            for (int32_t j = 0; j < kv; j++) {
                s[j] = nm_exp2(s[j] - mx);
                sum = sum + s[j];
            }
            const float alpha = nm_exp2(m - mx);
            l = l * alpha + sum;
            for (int32_t d = 0; d < dv; d++) acc[d] = acc[d] * alpha;
            for (int32_t j = 0; j < kv; j++) {
                const float *vr = V + (size_t)(kb + j) * a->ldv;
                for (int32_t d = 0; d < dv; d++) acc[d] = fmaf(vr[d], s[j], acc[d]);
            }
            m = mx;
        }
        const float inv = 1.0f / l;
        for (int32_t d = 0; d < dv; d++) o[d] = acc[d] * inv;
        if (a->ml) {
            float *ml = a->ml + (((size_t)b * (size_t)a->heads + (size_t)h) * (size_t)a->nq + (size_t)i) * 2;
            ml[0] = m;
            ml[1] = l;
        }
    }
}

const sam2r_attention_f32_ukernel sam2r_f32_attention_scalar = {
    "f32_attention_flash_1xkb96__scalar", SAM2R_ISA_SCALAR, Q_BLOCK, 1, KB, attention_rows_scalar,
};
