/* gemm_f32_avx2_tile.h — the 6 x 16 fp32 micro-tile of gemm_f32_avx2.c, for one weight element type.
 *
 * Included once per type with TILE_NAME, TILE_TARGET, TILE_W (the packed weight element) and
 * TILE_LOAD_W(p) (8 weights at p as 8 floats) defined. fp32 weights load as they are; binary16 ones are
 * widened in the register (vcvtph2ps, exact), so both tiles run the same FMAs in the same order and give
 * the same bits over the same weight values (sam2r_gemm_f16w.h). */

static inline __attribute__((always_inline)) TILE_TARGET void TILE_NAME(
    const int mr, const int full, int32_t kc, const float *a, size_t a_row, size_t a_step, const TILE_W *b,
    float *c, size_t ldc, const float *bias, int first, __m256i q0, __m256i q1) {
    __m256 acc[MR][2];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
        if (r < mr) {   /* C is usually cold: start fetching its lines before the K loop */
            __builtin_prefetch(c + r * ldc, 1, 3);
            __builtin_prefetch(c + r * ldc + 15, 1, 3);
        }
    }
    if (first) {
        __m256 v0 = _mm256_setzero_ps(), v1 = v0;
        if (bias) {
            v0 = full ? _mm256_loadu_ps(bias) : _mm256_maskload_ps(bias, q0);
            v1 = full ? _mm256_loadu_ps(bias + 8) : _mm256_maskload_ps(bias + 8, q1);
        }
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            acc[r][0] = v0;
            acc[r][1] = v1;
        }
    } else {
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            if (r < mr) {
                acc[r][0] = full ? _mm256_loadu_ps(c + r * ldc) : _mm256_maskload_ps(c + r * ldc, q0);
                acc[r][1] = full ? _mm256_loadu_ps(c + r * ldc + 8) : _mm256_maskload_ps(c + r * ldc + 8, q1);
            } else {
                acc[r][0] = acc[r][1] = _mm256_setzero_ps();
            }
        }
    }
    for (int32_t k = 0; k < kc; k++) {
        const __m256 b0 = TILE_LOAD_W(b), b1 = TILE_LOAD_W(b + 8);
        b += NR;
#define ROW(r)                                                  \
        if (mr > r) {                                           \
            const __m256 av = _mm256_broadcast_ss(a + r * a_row); \
            acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);     \
            acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);     \
        }
        ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5)
#undef ROW
        a += a_step;
    }
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
        if (r < mr) {
            if (full) {
                _mm256_storeu_ps(c + r * ldc, acc[r][0]);
                _mm256_storeu_ps(c + r * ldc + 8, acc[r][1]);
            } else {
                _mm256_maskstore_ps(c + r * ldc, q0, acc[r][0]);
                _mm256_maskstore_ps(c + r * ldc + 8, q1, acc[r][1]);
            }
        }
    }
}

