/* gemm_f32_avx2_tiles.h — the 6 x 16 micro-tiles and the blocked rect driver of gemm_f32_avx2.c, for one
 * weight element type.
 *
 * Included once per type with TILE(name) (name mangling), TILE_TARGET (the target attribute), TILE_W (the
 * packed weight element), TILE_ARGS (the GEMM's argument struct: sam2r_gemm_f32_args or sam2r_gemm_f16w_args,
 * same field names) and TILE_LOAD_W(p) (8 weights at p as 8 floats). fp32 weights load as they are;
 * binary16 ones are widened in the register (vcvtph2ps, exact), so both run the same FMAs in the same order
 * and give the same bits over the same weight values (sam2r_gemm_f16w.h). Needs lane_mask8 and pack_a. */

static inline __attribute__((always_inline)) TILE_TARGET void TILE(ukr_6x16)(
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

typedef void (*TILE(ukr_fn))(int32_t kc, const float *a, size_t lda, const TILE_W *b, float *c, size_t ldc,
                             const float *bias, int first, __m256i q0, __m256i q1);

/* ukr_{full,part}_mr read A packed ([kc][MR], lda unused); ukr_direct_{full,part}_mr read mr rows of A in
 * place, lda apart. Same FMAs in the same order: the same bits. */
#define INST(mr)                                                                                           \
    static TILE_TARGET void TILE(ukr_full_##mr)(int32_t kc, const float *a, size_t lda, const TILE_W *b,      \
                                                float *c, size_t ldc, const float *bias, int first,          \
                                                __m256i q0, __m256i q1) {                                    \
        (void)lda;                                                                                         \
        TILE(ukr_6x16)(mr, 1, kc, a, 1, MR, b, c, ldc, bias, first, q0, q1);                               \
    }                                                                                                      \
    static TILE_TARGET void TILE(ukr_part_##mr)(int32_t kc, const float *a, size_t lda, const TILE_W *b,      \
                                                float *c, size_t ldc, const float *bias, int first,          \
                                                __m256i q0, __m256i q1) {                                    \
        (void)lda;                                                                                         \
        TILE(ukr_6x16)(mr, 0, kc, a, 1, MR, b, c, ldc, bias, first, q0, q1);                               \
    }                                                                                                      \
    static TILE_TARGET void TILE(ukr_direct_full_##mr)(int32_t kc, const float *a, size_t lda, const TILE_W *b, \
                                                       float *c, size_t ldc, const float *bias, int first,   \
                                                       __m256i q0, __m256i q1) {                             \
        TILE(ukr_6x16)(mr, 1, kc, a, lda, 1, b, c, ldc, bias, first, q0, q1);                              \
    }                                                                                                      \
    static TILE_TARGET void TILE(ukr_direct_part_##mr)(int32_t kc, const float *a, size_t lda, const TILE_W *b, \
                                                       float *c, size_t ldc, const float *bias, int first,   \
                                                       __m256i q0, __m256i q1) {                             \
        TILE(ukr_6x16)(mr, 0, kc, a, lda, 1, b, c, ldc, bias, first, q0, q1);                              \
    }
INST(1) INST(2) INST(3) INST(4) INST(5) INST(6)
#undef INST

#define TABLE(kind)                                                                                        \
    static const TILE(ukr_fn) TILE(ukr_##kind)[MR + 1] = {0, TILE(ukr_##kind##_1), TILE(ukr_##kind##_2),    \
                                                          TILE(ukr_##kind##_3), TILE(ukr_##kind##_4),        \
                                                          TILE(ukr_##kind##_5), TILE(ukr_##kind##_6)};
TABLE(full) TABLE(part) TABLE(direct_full) TABLE(direct_part)
#undef TABLE

static TILE_TARGET void TILE(gemm_rect_avx2)(const TILE_ARGS *p, int32_t m0, int32_t m1, int32_t n0, int32_t n1) {
    __attribute__((aligned(64))) float apack[MC * KC];
    const int32_t k = p->k;
    const size_t lda = (size_t)p->lda, ldc = (size_t)p->ldc;
    const int32_t kcb = gemm_f32_k_block(k, KC);
    /* Packing A pays when many weight panels reuse it. Over few (the decoder's image -> token GEMMs: 64
     * and 256 columns, 4 and 16 panels) the transpose costs more than it saves: A is read in place. */
    const int direct = n1 - n0 <= DIRECT_A_MAX_COLS;
    for (int32_t kb = 0; kb < k; kb += kcb) {
        const int32_t kc = k - kb < kcb ? k - kb : kcb;
        const int first = kb == 0;
        for (int32_t mc = m0; mc < m1; mc += MC) {
            const int32_t mce = m1 - mc < MC ? m1 : mc + MC;
            if (!direct) pack_a(p->a + (size_t)mc * lda + kb, lda, mce - mc, kc, apack);
            for (int32_t nb = n0; nb < n1; nb += NR) {
                const int32_t nv = n1 - nb < NR ? n1 - nb : NR;
                const TILE_W *panel = p->w->data + (size_t)(nb / NR) * (size_t)k * NR + (size_t)kb * NR;
                const float *bias = (first && p->bias) ? p->bias + nb : NULL;
                const __m256i q0 = lane_mask8(nv), q1 = lane_mask8(nv - 8);
                const TILE(ukr_fn) *tab = direct ? (nv == NR ? TILE(ukr_direct_full) : TILE(ukr_direct_part))
                                                 : (nv == NR ? TILE(ukr_full) : TILE(ukr_part));
                const float *ap = direct ? p->a + (size_t)mc * lda + kb : apack;
                const size_t ap_step = direct ? MR * lda : (size_t)kc * MR;
                for (int32_t mb = mc; mb < mce; mb += MR, ap += ap_step) {
                    const int32_t mr = mce - mb < MR ? mce - mb : MR;
                    tab[mr](kc, ap, lda, panel, p->c + (size_t)mb * ldc + nb, ldc, bias, first, q0, q1);
                }
            }
        }
    }
}
