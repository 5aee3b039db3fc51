/* softmax_short_avx512.c — sam2r_softmax_short.h with 16 rows per zmm. */
#if defined(__x86_64__)
#include "sam2r_softmax_short.h"
#include "numerics_avx512.h"

#define SS_VL 16
#define SS_LOAD(p) _mm512_load_ps(p)
#define SS_STORE(p, v) _mm512_store_ps((p), (v))
#define SS_NAME softmax_short_avx512
#include "../softmax_short_impl.h"

void sam2r_softmax_short_avx512(const float *x, float *y, int32_t rows, int32_t cols);
void sam2r_softmax_short_avx512(const float *x, float *y, int32_t rows, int32_t cols) {
    softmax_short_avx512(x, y, rows, cols);
}
#endif
