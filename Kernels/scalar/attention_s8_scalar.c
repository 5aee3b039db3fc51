/* attention_s8_scalar.c — int8 flash attention reference s8_attention_flash_1xkb96__scalar, one query
 * row at a time: THE definition of sam2r_attention_s8.h's semantics, which every variant reproduces bit
 * for bit (docs/numerics.md, "int8 attention"). The SIMD kernels (../attention_s8_impl.h) put queries in
 * vector lanes; every fp32 operation below is per query in this order, every integer sum is exact.
 *   per task: K per key and V per channel quantized (../attention_s8_quant.h)
 *   per query: q_q, sq = quantize(q row); c = sq * (scale * log2 e);  m = -FLT_MAX, l = 0, Ot[d] = 0
 *   per block of SAM2R_ATTENTION_KEY_BLOCK keys (the last one shorter):
 *     s_j   = ((float)dot(q_q, k_q_j) * c) * sk_j;   mx = max(m, s_j over the block)
 *     p_j   = round-half-even(nm_exp2(s_j - mx) * 127)   (an integer 0..127)
 *     alpha = nm_exp2(m - mx);  l = l * alpha + (float)sum_j p_j
 *     Ot[d] = Ot[d] * alpha + (float)sum_j p_j v_q[j][d];  m = mx
 *   o[d] = (Ot[d] * sv[d]) / l */
#include "sam2r_attention_s8.h"
#include "numerics_scalar.h"
#include "../attention_s8_quant.h"

#include <float.h>

#define Q_BLOCK 256

static void attention_s8_rows_scalar(const sam2r_attention_s8_args *a, int32_t b, int32_t h, int32_t q0, int32_t q1,
                                     float *scratch) {
    const int32_t dk = a->dk, dv = a->dv, nk = a->nk;
    s8_head hd;
    s8_quantize_head(a, b, h, scratch, &hd);
    int8_t *qq = (int8_t *)hd.rest;
    float *s = (float *)s8_align64(qq + hd.dkp);
    int32_t *p = (int32_t *)s8_align64(s + S8_KB);
    float *ot = (float *)s8_align64(p + S8_KB);
    const float cs = a->scale * 1.44269504088896340736f;
    for (int32_t i = q0; i < q1; i++) {
        const float *q = a->q + (size_t)b * a->q_batch_stride + (size_t)i * a->ldq + (size_t)h * dk;
        float *o = a->o + (size_t)b * a->o_batch_stride + (size_t)i * a->ldo + (size_t)h * dv;
        const float c = s8_quantize_group(q, 1, dk, (uint8_t *)qq, 1, 0) * cs;
        float m = -FLT_MAX, l = 0.0f;
        for (int32_t d = 0; d < dv; d++) ot[d] = 0.0f;
        for (int32_t kb = 0; kb < nk; kb += S8_KB) {
            const int32_t kv = nk - kb < S8_KB ? nk - kb : S8_KB;
            float mx = m;
            for (int32_t j = 0; j < kv; j++) {
                const int8_t *kr = hd.kq + (size_t)(kb + j) * hd.dkp;
                int32_t dot = 0;
                for (int32_t e = 0; e < dk; e++) dot += (int32_t)qq[e] * kr[e];
                s[j] = ((float)dot * c) * hd.sk[kb + j];
                mx = s[j] > mx ? s[j] : mx;
            }
            int32_t sum = 0;
            for (int32_t j = 0; j < kv; j++) {
                p[j] = (int32_t)nearbyintf(nm_exp2(s[j] - mx) * 127.0f);
                sum += p[j];
            }
            const float alpha = nm_exp2(m - mx);
            l = l * alpha + (float)sum;
            const int8_t *vblk = hd.vqt + (size_t)(kb / S8_KB) * dv * S8_KB;
            for (int32_t d = 0; d < dv; d++) {
                const int8_t *vc = vblk + (size_t)d * S8_KB;
                int32_t acc = 0;
                for (int32_t j = 0; j < kv; j++) acc += p[j] * vc[j];
                ot[d] = ot[d] * alpha + (float)acc;
            }
            m = mx;
        }
        for (int32_t d = 0; d < dv; d++) o[d] = (ot[d] * hd.sv[d]) / l;
    }
}

const sam2r_attention_s8_ukernel sam2r_s8_attention_scalar = {
    "s8_attention_flash_1xkb96__scalar", SAM2R_ISA_SCALAR, Q_BLOCK, 1, S8_KB, attention_s8_rows_scalar,
};
