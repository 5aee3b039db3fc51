/* gemm_s8_scalar.c — portable reference of the int8 GEMM (qs8_qc8w_gemm_fp32_1x1__scalar).
 *
 * Reads whatever packed layout it is given (packed->nr, packed->kr), so it can check every SIMD
 * variant on that variant's own packing. One output at a time:
 *     acc = sum_k A[m,k] * W[n,k]  -  a_zero_point * wsum[n]  +  bias[n]
 * The sum is exact in int32 (|sum| <= 65536 * 128 * 127 < 2^31); the zero-point and bias terms are
 * added with wrap-around (uint32) arithmetic, the same modular arithmetic every SIMD variant does,
 * so even absurd biases give identical bits everywhere. Then the one rule of sam2r_requant.h.
 */
#include "sam2r_gemm_s8.h"
#include "sam2r_requant.h"

#include <assert.h>

static void qs8_gemm_rect_scalar(const sam2r_gemm_s8_args *a, int32_t m0, int32_t m1, int32_t n0, int32_t n1) {
    const sam2r_packed_s8 *w = a->w;
    const int32_t nr = w->nr, kr = w->kr, k = a->k;
    const int32_t kg = (k + kr - 1) / kr;
    assert(0 <= m0 && m0 < m1 && m1 <= a->m && 0 <= n0 && n0 < n1 && n1 <= a->n);
    for (int32_t m = m0; m < m1; m++) {
        const int8_t *arow = a->a + (size_t)m * (size_t)a->lda;
        for (int32_t n = n0; n < n1; n++) {
            /* Channel n lives in block n / nr, lane n % nr: element (n, kk) is at
             * ((block * kg + kk / kr) * nr + n % nr) * kr + kk % kr. */
            const int8_t *wb = w->data + (size_t)(n / nr) * (size_t)kg * (size_t)nr * (size_t)kr
                               + (size_t)(n % nr) * (size_t)kr;
            int32_t dot = 0;
            for (int32_t g = 0, kk = 0; g < kg; g++, wb += (size_t)nr * (size_t)kr)
                for (int32_t i = 0; i < kr && kk < k; i++, kk++) dot += (int32_t)arow[kk] * (int32_t)wb[i];
            uint32_t acc = (uint32_t)dot - (uint32_t)a->a_zero_point * (uint32_t)w->wsum[n];
            if (a->bias) acc += (uint32_t)a->bias[n];
            const int32_t acc_s = (int32_t)acc;
            if (a->epilogue == SAM2R_EPI_S8)
                ((int8_t *)a->c)[(size_t)m * (size_t)a->ldc + (size_t)n] =
                    sam2r_requant_s8(acc_s, a->scale[n], a->out_zero_point, a->qmin, a->qmax);
            else
                ((float *)a->c)[(size_t)m * (size_t)a->ldc + (size_t)n] = sam2r_dequant_acc(acc_s, a->scale[n]);
        }
    }
}

const sam2r_gemm_s8_ukernel sam2r_qs8_gemm_scalar = {
    "qs8_qc8w_gemm_fp32_1x8c4__scalar", SAM2R_ISA_SCALAR, 1, 8, 4, qs8_gemm_rect_scalar,
};
