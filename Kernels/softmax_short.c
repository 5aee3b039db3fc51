/* softmax_short.c — variant table of sam2r_softmax_short.h. x86 only: elsewhere (scalar, NEON) the
 * caller runs the rowops softmax, which gives the same bits. */
#include "sam2r_softmax_short.h"

#if defined(__x86_64__)
void sam2r_softmax_short_avx2(const float *x, float *y, int32_t rows, int32_t cols);
void sam2r_softmax_short_avx512(const float *x, float *y, int32_t rows, int32_t cols);
#endif

sam2r_softmax_short_fn sam2r_softmax_short_for(sam2r_isa isa) {
    switch (isa) {
#if defined(__x86_64__)
    case SAM2R_ISA_AVX2:
    case SAM2R_ISA_AVXVNNI: return sam2r_softmax_short_avx2;
    case SAM2R_ISA_AVX512VNNI: return sam2r_softmax_short_avx512;
#endif
    default: return 0;
    }
}
