/* gemm_s8_epilogue_ymm.h — the 256-bit epilogue shared by the AVX2 and AVX-VNNI int8 GEMM kernels
 * (private; included inside their target-attributed micro-kernels, so it expands to the including
 * file's ISA). It implements the rule of sam2r_requant.h on a 16-column tile held in two ymm
 * accumulators per row: cvt int32 -> fp32, one multiply by scale (never FMA), clamp to
 * [qmin - zp, qmax - zp], cvt rounding half to even, + zp, saturating pack; or the fp32 dequantize.
 * Expects: NR == 16, ROWS(X) over the tile's rows, accumulators c<r>0/c<r>1, `rows`, `t` (tile
 * constants: scale[2], ncols), `a` (the GEMM args), `m`, `nt`, `ldc` in scope. */
#ifndef SAM2R_GEMM_S8_EPILOGUE_YMM_H
#define SAM2R_GEMM_S8_EPILOGUE_YMM_H

#define EPI_S8(r)                                                                                   \
    if ((r) < rows) {                                                                               \
        int8_t *cr = c + (size_t)(r) * ldc;                                                         \
        __m256 f0 = _mm256_mul_ps(_mm256_cvtepi32_ps(c##r##0), t->scale[0]);                        \
        __m256 f1 = _mm256_mul_ps(_mm256_cvtepi32_ps(c##r##1), t->scale[1]);                        \
        f0 = _mm256_min_ps(_mm256_max_ps(f0, lo), hi);                                              \
        f1 = _mm256_min_ps(_mm256_max_ps(f1, lo), hi);                                              \
        const __m256i v0 = _mm256_add_epi32(_mm256_cvtps_epi32(f0), ozp);                           \
        const __m256i v1 = _mm256_add_epi32(_mm256_cvtps_epi32(f1), ozp);                           \
        const __m256i p16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(v0, v1), 0xD8);             \
        const __m128i p8 = _mm_packs_epi16(_mm256_castsi256_si128(p16), _mm256_extracti128_si256(p16, 1)); \
        if (t->ncols == NR) {                                                                       \
            _mm_storeu_si128((__m128i *)cr, p8);                                                    \
        } else {                                                                                    \
            _Alignas(16) int8_t tmp[16];                                                            \
            _mm_store_si128((__m128i *)tmp, p8);                                                    \
            memcpy(cr, tmp, (size_t)t->ncols);                                                      \
        }                                                                                           \
    }
#define EPI_F32(r)                                                                                  \
    if ((r) < rows) {                                                                               \
        float *cr = c + (size_t)(r) * ldc;                                                          \
        const __m256 f0 = _mm256_mul_ps(_mm256_cvtepi32_ps(c##r##0), t->scale[0]);                  \
        const __m256 f1 = _mm256_mul_ps(_mm256_cvtepi32_ps(c##r##1), t->scale[1]);                  \
        if (t->ncols == NR) {                                                                       \
            _mm256_storeu_ps(cr, f0);                                                               \
            _mm256_storeu_ps(cr + 8, f1);                                                           \
        } else {                                                                                    \
            _mm256_maskstore_ps(cr, m0, f0);                                                        \
            _mm256_maskstore_ps(cr + 8, m1, f1);                                                    \
        }                                                                                           \
    }

#define EPILOGUE                                                                                    \
    if (a->epilogue == SAM2R_EPI_S8) {                                                              \
        const __m256 lo = _mm256_set1_ps((float)(a->qmin - a->out_zero_point));                     \
        const __m256 hi = _mm256_set1_ps((float)(a->qmax - a->out_zero_point));                     \
        const __m256i ozp = _mm256_set1_epi32(a->out_zero_point);                                   \
        int8_t *c = (int8_t *)a->c + (size_t)m * ldc + nt;                                          \
        ROWS(EPI_S8)                                                                                \
    } else {                                                                                        \
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);                             \
        const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(t->ncols), lane);                   \
        const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(t->ncols - 8), lane);               \
        float *c = (float *)a->c + (size_t)m * ldc + nt;                                            \
        ROWS(EPI_F32)                                                                               \
    }

#endif
