/* attention_s8_neon_vocab.h — the aarch64 vocabulary of ../attention_s8_impl.h shared by
 * attention_s8_neon.c (widening multiplies) and attention_s8_dotprod.c (SDOT); the including file
 * defines S8_TGT and S8_DOT4(acc, a, b) (int32x4 += 4-byte s8 x s8 dot products per lane) first.
 * Q is stored signed (S8_QBIAS 0): both dot products are s8 x s8. 16 queries per tile (four q
 * registers of query lanes), 4-key score and 4-channel P·V micro-tiles (16 accumulators), up to 512
 * queries per task (each task quantizes its head's K and V once, so not 128 as in the fp32 kernel). */
#ifndef SAM2R_ATTENTION_S8_NEON_VOCAB_H
#define SAM2R_ATTENTION_S8_NEON_VOCAB_H

#include "numerics_neon.h"

#include <string.h>

static inline __attribute__((always_inline)) S8_TGT int32x4_t s8_bc4_neon(const void *p) {
    int32_t x;
    memcpy(&x, p, 4);
    return vdupq_n_s32(x);
}
#define S8_VL 4
#define S8_VI int32x4_t
#define S8_VF float32x4_t
#define S8_LDI(p) vreinterpretq_s32_u8(vld1q_u8((const uint8_t *)(const void *)(p)))
#define S8_STI(p, v) vst1q_u8((uint8_t *)(void *)(p), vreinterpretq_u8_s32(v))
#define S8_BC4(p) s8_bc4_neon(p)
#define S8_ZEROI() vdupq_n_s32(0)
#define S8_SET1I(x) vdupq_n_s32(x)
#define S8_ADDI(a, b) vaddq_s32((a), (b))
#define S8_ORI(a, b) vorrq_s32((a), (b))
#define S8_SLLI(v, n) vshlq_n_s32((v), (n))
#define S8_QK(acc, q, k) S8_DOT4((acc), vreinterpretq_s8_s32(q), vreinterpretq_s8_s32(k))
#define S8_PV(acc, p, v) S8_DOT4((acc), vreinterpretq_s8_s32(p), vreinterpretq_s8_s32(v))
#define S8_CVTF(v) vcvtq_f32_s32(v)
#define S8_CVTI(v) vcvtnq_s32_f32(v) /* round to nearest, ties to even */
#define S8_LDF(p) vld1q_f32(p)
#define S8_STF(p, v) vst1q_f32((p), (v))
#define S8_SET1F(x) vdupq_n_f32(x)
#define S8_MULF(a, b) vmulq_f32((a), (b))
#define S8_ADDF(a, b) vaddq_f32((a), (b))
#define S8_SUBF(a, b) vsubq_f32((a), (b))
#define S8_MAXF(a, b) vmaxq_f32((a), (b))
#define S8_EXP2(x) nm_exp2(x)
#define S8_QBIAS 0
#define S8_NQV 4
#define S8_JT 4
#define S8_DC 4
#define Q_BLOCK 512

#endif
