/* numerics_neon.h — the Advanced SIMD vocabulary of numerics_impl.h (private to Kernels/), and the
 * canonical 16-lane sum held in four q registers (lanes 0-3, 4-7, 8-11, 12-15). aarch64 only. */
#ifndef SAM2R_NUMERICS_NEON_H
#define SAM2R_NUMERICS_NEON_H

#include <arm_neon.h>

#define NM_V float32x4_t
#define NM_TGT
#define NM_SET1(c) vdupq_n_f32(c)
#define NM_ADD(a, b) vaddq_f32((a), (b))
#define NM_SUB(a, b) vsubq_f32((a), (b))
#define NM_MUL(a, b) vmulq_f32((a), (b))
#define NM_DIV(a, b) vdivq_f32((a), (b))
#define NM_FMA(a, b, c) vfmaq_f32((c), (a), (b))
#define NM_FNMA(a, b, c) vfmsq_f32((c), (a), (b))
#define NM_MIN(a, b) vminq_f32((a), (b))
#define NM_MAX(a, b) vmaxq_f32((a), (b))
#define NM_ROUND(a) vrndnq_f32(a)
#define NM_POW2I(n) vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vcvtnq_s32_f32(n), vdupq_n_s32(127)), 23))
#include "../numerics_impl.h"

/* a[j] holds lanes 4j .. 4j+3: (l + l+8), (l + l+4), then (l + l+2), (l + l+1). */
static inline float nm_sum16_neon(const float32x4_t a[4]) {
    const float32x4_t v = vaddq_f32(vaddq_f32(a[0], a[2]), vaddq_f32(a[1], a[3]));
    const float32x2_t h = vadd_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(h, 0) + vget_lane_f32(h, 1);
}

#endif
