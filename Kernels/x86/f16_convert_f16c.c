/* f16_convert_f16c.c — binary16 <-> binary32 with F16C (vcvtph2ps; vcvtps2ph rounding to nearest even),
 * 16 values per step; the tails go through the scalar converters (the same bits: sam2r_f16.h). */
#if defined(__x86_64__)
#include "sam2r_f16.h"

#include <immintrin.h>

__attribute__((target("avx2,f16c"))) void sam2r_f16_to_f32_n_f16c(const uint16_t *x, float *y, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m128i h0 = _mm_loadu_si128((const __m128i *)(x + i));
        const __m128i h1 = _mm_loadu_si128((const __m128i *)(x + i + 8));
        _mm256_storeu_ps(y + i, _mm256_cvtph_ps(h0));
        _mm256_storeu_ps(y + i + 8, _mm256_cvtph_ps(h1));
    }
    if (i + 8 <= n) {
        _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))));
        i += 8;
    }
    for (; i < n; i++) y[i] = sam2r_f16_to_f32(x[i]);
}

__attribute__((target("avx2,f16c"))) void sam2r_f32_to_f16_n_f16c(const float *x, uint16_t *y, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) y[i] = sam2r_f32_to_f16(x[i]);
}
#endif
