/* attention_scalar.c — flash attention reference f32_attention_flash_1xkb64__scalar: one query row
 * at a time, keys in blocks of 64: s_j = scale * (q . k_j) summed in order over dk, online softmax
 * with libm expf (running max m, running sum l and output accumulator rescaled by
 * expf(m_old - m_new)), o = acc / l. Scratch: dv + 64 floats. */
#include "sam2r_attention.h"

#include <math.h>

#define KB 64
#define Q_BLOCK 16

static void attention_rows_scalar(const sam2r_attention_f32_args *a, int32_t b, int32_t h, int32_t q0, int32_t q1,
                                  float *scratch) {
    const int32_t dk = a->dk, dv = a->dv, nk = a->nk;
    float *acc = scratch, *s = scratch + dv;
    const float *K = a->k + (size_t)b * a->k_batch_stride + (size_t)h * dk;
    const float *V = a->v + (size_t)b * a->v_batch_stride + (size_t)h * dv;
    for (int32_t i = q0; i < q1; i++) {
        const float *q = a->q + (size_t)b * a->q_batch_stride + (size_t)i * a->ldq + (size_t)h * dk;
        float *o = a->o + (size_t)b * a->o_batch_stride + (size_t)i * a->ldo + (size_t)h * dv;
        float m = -INFINITY, l = 0.0f;
        for (int32_t d = 0; d < dv; d++) acc[d] = 0.0f;
        for (int32_t kb = 0; kb < nk; kb += KB) {
            const int32_t kv = nk - kb < KB ? nk - kb : KB;
            float mx = m;
            for (int32_t j = 0; j < kv; j++) {
                const float *kr = K + (size_t)(kb + j) * a->ldk;
                float dot = 0.0f;
                for (int32_t e = 0; e < dk; e++) dot += q[e] * kr[e];
                s[j] = a->scale * dot;
                if (s[j] > mx) mx = s[j];
            }
            const float alpha = m == -INFINITY ? 0.0f : expf(m - mx);
            l *= alpha;
            for (int32_t d = 0; d < dv; d++) acc[d] *= alpha;
            for (int32_t j = 0; j < kv; j++) {
                const float p = expf(s[j] - mx);
                const float *vr = V + (size_t)(kb + j) * a->ldv;
                l += p;
                for (int32_t d = 0; d < dv; d++) acc[d] += p * vr[d];
            }
            m = mx;
        }
        const float inv = 1.0f / l;
        for (int32_t d = 0; d < dv; d++) o[d] = acc[d] * inv;
    }
}

const sam2r_attention_f32_ukernel sam2r_f32_attention_scalar = {
    "f32_attention_flash_1xkb64__scalar", SAM2R_ISA_SCALAR, Q_BLOCK, 1, KB, attention_rows_scalar,
};
