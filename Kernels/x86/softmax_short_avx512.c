/* softmax_short_avx512.c — sam2r_softmax_short.h with 16 rows per zmm; rows of 8 (the decoder's
 * image -> token attention with one click: 8 tokens) two per zmm, see softmax_rows8_impl.h. */
#if defined(__x86_64__)
#include "sam2r_softmax_short.h"
#include "numerics_avx512.h"

#define SS_VL 16
#define SS_LOAD(p) _mm512_load_ps(p)
#define SS_STORE(p, v) _mm512_store_ps((p), (v))
#define SS_NAME softmax_short_avx512
#include "../softmax_short_impl.h"

/* Within each 8-lane half: swap 4-lane quarters, 2-lane pairs, single lanes. */
#define R8_V __m512
#define R8_SWAP4(v) _mm512_shuffle_f32x4((v), (v), _MM_SHUFFLE(2, 3, 0, 1))
#define R8_SWAP2(v) _mm512_permute_ps((v), _MM_SHUFFLE(1, 0, 3, 2))
#define R8_SWAP1(v) _mm512_permute_ps((v), _MM_SHUFFLE(2, 3, 0, 1))
#define R8_ROWS 2
#define R8_LOAD(p, n) _mm512_maskz_loadu_ps((__mmask16)((n) == 2 ? 0xffff : 0x00ff), (p))
#define R8_STORE(p, v, n) _mm512_mask_storeu_ps((p), (__mmask16)((n) == 2 ? 0xffff : 0x00ff), (v))
#define R8_NAME softmax_rows8_avx512
#include "../softmax_rows8_impl.h"

void sam2r_softmax_short_avx512(const float *x, float *y, int32_t rows, int32_t cols);
void sam2r_softmax_short_avx512(const float *x, float *y, int32_t rows, int32_t cols) {
    if (cols == 8)
        softmax_rows8_avx512(x, y, rows);
    else
        softmax_short_avx512(x, y, rows, cols);
}
#endif
