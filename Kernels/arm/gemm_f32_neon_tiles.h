/* gemm_f32_neon_tiles.h — the 8 x 8 micro-tiles and the blocked rect driver of gemm_f32_neon.c, for one
 * weight element type.
 *
 * Included once per type with TILE(name) (name mangling), TILE_W (the packed weight element), TILE_ARGS
 * (the GEMM's argument struct: sam2r_gemm_f32_args or sam2r_gemm_f16w_args, same field names) and
 * TILE_LOAD_W(p) (4 weights at p as 4 floats). fp32 weights load as they are; binary16 ones are widened
 * in the register (FCVTL, exact), so both run the same FMAs in the same order and give the same bits over
 * the same weight values (sam2r_gemm_f16w.h). */

static inline __attribute__((always_inline)) void TILE(ukr_8x8)(const int mr, int32_t kc, const float *a, size_t lda,
                                                                const TILE_W *b, float *c, size_t ldc,
                                                                const float *bias, int first) {
    float32x4_t acc[MR][2];
    if (first) {
        float32x4_t v0 = vdupq_n_f32(0.0f), v1 = v0;
        if (bias) {
            v0 = vld1q_f32(bias);
            v1 = vld1q_f32(bias + 4);
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
                acc[r][0] = vld1q_f32(c + r * ldc);
                acc[r][1] = vld1q_f32(c + r * ldc + 4);
            } else {
                acc[r][0] = acc[r][1] = vdupq_n_f32(0.0f);
            }
        }
    }
    const float *ar[MR];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) ar[r] = a + (size_t)(r < mr ? r : 0) * lda;
    int32_t k = 0;
    for (; k + 4 <= kc; k += 4) {
        float32x4_t av[MR];
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++)
            if (r < mr) av[r] = vld1q_f32(ar[r] + k);
#define STEP(l)                                                                  \
        {                                                                        \
            const float32x4_t b0 = TILE_LOAD_W(b + 8 * l), b1 = TILE_LOAD_W(b + 8 * l + 4); \
            _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) {               \
                if (r < mr) {                                                    \
                    acc[r][0] = vfmaq_laneq_f32(acc[r][0], b0, av[r], l);        \
                    acc[r][1] = vfmaq_laneq_f32(acc[r][1], b1, av[r], l);        \
                }                                                                \
            }                                                                    \
        }
        STEP(0) STEP(1) STEP(2) STEP(3)
#undef STEP
        b += 4 * NR;
    }
    for (; k < kc; k++) {
        const float32x4_t b0 = TILE_LOAD_W(b), b1 = TILE_LOAD_W(b + 4);
        b += NR;
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            if (r < mr) {
                const float32x4_t av = vdupq_n_f32(ar[r][k]);
                acc[r][0] = vfmaq_f32(acc[r][0], b0, av);
                acc[r][1] = vfmaq_f32(acc[r][1], b1, av);
            }
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
        if (r < mr) {
            vst1q_f32(c + r * ldc, acc[r][0]);
            vst1q_f32(c + r * ldc + 4, acc[r][1]);
        }
    }
}

typedef void (*TILE(ukr_fn))(int32_t kc, const float *a, size_t lda, const TILE_W *b, float *c, size_t ldc,
                             const float *bias, int first);
#define INST(mr)                                                                                          \
    static void TILE(ukr_##mr)(int32_t kc, const float *a, size_t lda, const TILE_W *b, float *c, size_t ldc, \
                               const float *bias, int first) {                                            \
        TILE(ukr_8x8)(mr, kc, a, lda, b, c, ldc, bias, first);                                            \
    }
INST(1) INST(2) INST(3) INST(4) INST(5) INST(6) INST(7) INST(8)
#undef INST
static const TILE(ukr_fn) TILE(ukr_tab)[MR + 1] = {0, TILE(ukr_1), TILE(ukr_2), TILE(ukr_3), TILE(ukr_4),
                                                   TILE(ukr_5), TILE(ukr_6), TILE(ukr_7), TILE(ukr_8)};

static void TILE(gemm_rect_neon)(const TILE_ARGS *p, int32_t m0, int32_t m1, int32_t n0, int32_t n1) {
    const int32_t k = p->k;
    const size_t lda = (size_t)p->lda, ldc = (size_t)p->ldc;
    const int32_t kcb = gemm_f32_k_block(k, SAM2R_F32_NEON_KC);
    for (int32_t kb = 0; kb < k; kb += kcb) {
        const int32_t kc = k - kb < kcb ? k - kb : kcb;
        const int first = kb == 0;
        for (int32_t nb = n0; nb < n1; nb += NR) {
            const int32_t nv = n1 - nb < NR ? n1 - nb : NR;
            const TILE_W *panel = p->w->data + (size_t)(nb / NR) * (size_t)k * NR + (size_t)kb * NR;
            const float *bias = (first && p->bias) ? p->bias + nb : NULL;
            float bias_tail[NR] = {0};
            if (bias && nv < NR) {
                for (int32_t j = 0; j < nv; j++) bias_tail[j] = bias[j];
                bias = bias_tail;
            }
            for (int32_t mb = m0; mb < m1; mb += MR) {
                const int32_t mr = m1 - mb < MR ? m1 - mb : MR;
                const float *a = p->a + (size_t)mb * lda + kb;
                float *c = p->c + (size_t)mb * ldc + nb;
                if (nv == NR) {
                    TILE(ukr_tab)[mr](kc, a, lda, panel, c, ldc, bias, first);
                } else {
                    float tile[MR * NR] = {0};
                    if (!first)
                        for (int32_t r = 0; r < mr; r++)
                            for (int32_t j = 0; j < nv; j++) tile[r * NR + j] = c[(size_t)r * ldc + j];
                    TILE(ukr_tab)[mr](kc, a, lda, panel, tile, NR, bias, first);
                    for (int32_t r = 0; r < mr; r++)
                        for (int32_t j = 0; j < nv; j++) c[(size_t)r * ldc + j] = tile[r * NR + j];
                }
            }
        }
    }
}

