/* softmax_short_avx2.c — sam2r_softmax_short.h with 8 rows per ymm. */
#if defined(__x86_64__)
#include "sam2r_softmax_short.h"
#include "numerics_avx2.h"

#define SS_VL 8
#define SS_LOAD(p) _mm256_load_ps(p)
#define SS_STORE(p, v) _mm256_store_ps((p), (v))
#define SS_NAME softmax_short_avx2
#include "../softmax_short_impl.h"

void sam2r_softmax_short_avx2(const float *x, float *y, int32_t rows, int32_t cols);
void sam2r_softmax_short_avx2(const float *x, float *y, int32_t rows, int32_t cols) {
    softmax_short_avx2(x, y, rows, cols);
}
#endif
