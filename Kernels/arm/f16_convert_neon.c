/* f16_convert_neon.c — binary16 <-> binary32 with FCVTL / FCVTL2 and FCVTN (baseline Advanced SIMD, so
 * every aarch64 level; FCVTN rounds by FPCR, nearest even unless a caller changed it, which sam2r never
 * does), 16 / 4 values per step; the tails go through the scalar converters (the same bits:
 * sam2r_f16.h). */
#if defined(__aarch64__)
#include "sam2r_f16.h"

#include <arm_neon.h>

void sam2r_f16_to_f32_n_neon(const uint16_t *x, float *y, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const float16x8_t h0 = vreinterpretq_f16_u16(vld1q_u16(x + i));
        const float16x8_t h1 = vreinterpretq_f16_u16(vld1q_u16(x + i + 8));
        vst1q_f32(y + i, vcvt_f32_f16(vget_low_f16(h0)));
        vst1q_f32(y + i + 4, vcvt_high_f32_f16(h0));
        vst1q_f32(y + i + 8, vcvt_f32_f16(vget_low_f16(h1)));
        vst1q_f32(y + i + 12, vcvt_high_f32_f16(h1));
    }
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(x + i))));
    for (; i < n; i++) y[i] = sam2r_f16_to_f32(x[i]);
}

void sam2r_f32_to_f16_n_neon(const float *x, uint16_t *y, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1_u16(y + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(x + i))));
    for (; i < n; i++) y[i] = sam2r_f32_to_f16(x[i]);
}
#endif
