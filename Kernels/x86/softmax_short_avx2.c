/* softmax_short_avx2.c — sam2r_softmax_short.h with 8 rows per ymm; rows of 8 one per ymm
 * (softmax_rows8_impl.h). */
#if defined(__x86_64__)
#include "sam2r_softmax_short.h"
#include "numerics_avx2.h"

#define SS_VL 8
#define SS_LOAD(p) _mm256_load_ps(p)
#define SS_STORE(p, v) _mm256_store_ps((p), (v))
#define SS_NAME softmax_short_avx2
#include "../softmax_short_impl.h"

/* Within the 8 lanes: swap 128-bit halves, 2-lane pairs, single lanes. */
#define R8_V __m256
#define R8_SWAP4(v) _mm256_permute2f128_ps((v), (v), 1)
#define R8_SWAP2(v) _mm256_permute_ps((v), _MM_SHUFFLE(1, 0, 3, 2))
#define R8_SWAP1(v) _mm256_permute_ps((v), _MM_SHUFFLE(2, 3, 0, 1))
#define R8_ROWS 1
#define R8_LOAD(p, n) ((void)(n), _mm256_loadu_ps(p))
#define R8_STORE(p, v, n) ((void)(n), _mm256_storeu_ps((p), (v)))
#define R8_NAME softmax_rows8_avx2
#include "../softmax_rows8_impl.h"

void sam2r_softmax_short_avx2(const float *x, float *y, int32_t rows, int32_t cols);
void sam2r_softmax_short_avx2(const float *x, float *y, int32_t rows, int32_t cols) {
    if (cols == 8)
        softmax_rows8_avx2(x, y, rows);
    else
        softmax_short_avx2(x, y, rows, cols);
}
#endif
