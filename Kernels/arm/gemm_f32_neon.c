/* gemm_f32_neon.c — fp32 GEMM micro-kernel f32_gemm_8x8__neonfma (Advanced SIMD is baseline on
 * aarch64; the dotprod and i8mm levels add nothing to fp32 and use the same kernel).
 *
 * 8 rows x 8 columns of C in 16 q accumulators; A is read 4 k values per row at a time (one q
 * register per row) and consumed with lane-indexed FMLA against two q loads of the packed weight
 * panel per k step. Blocking as the x86 kernels: K blocks of at most KC, then weight panels, then
 * 8-row micro-tiles. Column tails go through an 8-wide buffer on the stack. */
#if defined(__aarch64__)
#include "sam2r_gemm_f32.h"
#include "../gemm_f32_kblock.h"

#include <arm_neon.h>

#define MR 8
#define NR 8
#ifndef SAM2R_F32_NEON_KC
#define SAM2R_F32_NEON_KC 256
#endif

static inline __attribute__((always_inline)) void ukr_8x8(const int mr, int32_t kc, const float *a, size_t lda,
                                                          const float *b, float *c, size_t ldc, const float *bias,
                                                          int first) {
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
            const float32x4_t b0 = vld1q_f32(b + 8 * l), b1 = vld1q_f32(b + 8 * l + 4); \
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
        const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4);
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

typedef void (*ukr_fn)(int32_t kc, const float *a, size_t lda, const float *b, float *c, size_t ldc,
                       const float *bias, int first);
#define INST(mr)                                                                                     \
    static void ukr_##mr(int32_t kc, const float *a, size_t lda, const float *b, float *c, size_t ldc, \
                         const float *bias, int first) {                                              \
        ukr_8x8(mr, kc, a, lda, b, c, ldc, bias, first);                                              \
    }
INST(1) INST(2) INST(3) INST(4) INST(5) INST(6) INST(7) INST(8)
#undef INST
static const ukr_fn ukr_tab[MR + 1] = {0, ukr_1, ukr_2, ukr_3, ukr_4, ukr_5, ukr_6, ukr_7, ukr_8};

static void gemm_f32_rect_neon(const sam2r_gemm_f32_args *p, int32_t m0, int32_t m1, int32_t n0, int32_t n1) {
    const int32_t k = p->k;
    const size_t lda = (size_t)p->lda, ldc = (size_t)p->ldc;
    const int32_t kcb = gemm_f32_k_block(k, SAM2R_F32_NEON_KC);
    for (int32_t kb = 0; kb < k; kb += kcb) {
        const int32_t kc = k - kb < kcb ? k - kb : kcb;
        const int first = kb == 0;
        for (int32_t nb = n0; nb < n1; nb += NR) {
            const int32_t nv = n1 - nb < NR ? n1 - nb : NR;
            const float *panel = p->w->data + (size_t)(nb / NR) * (size_t)k * NR + (size_t)kb * NR;
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
                    ukr_tab[mr](kc, a, lda, panel, c, ldc, bias, first);
                } else {
                    float tile[MR * NR] = {0};
                    if (!first)
                        for (int32_t r = 0; r < mr; r++)
                            for (int32_t j = 0; j < nv; j++) tile[r * NR + j] = c[(size_t)r * ldc + j];
                    ukr_tab[mr](kc, a, lda, panel, tile, NR, bias, first);
                    for (int32_t r = 0; r < mr; r++)
                        for (int32_t j = 0; j < nv; j++) c[(size_t)r * ldc + j] = tile[r * NR + j];
                }
            }
        }
    }
}

const sam2r_gemm_f32_ukernel sam2r_f32_gemm_neon = {
    "f32_gemm_8x8__neonfma", SAM2R_ISA_NEON, MR, NR, gemm_f32_rect_neon,
};
const sam2r_gemm_f32_ukernel sam2r_f32_gemm_neon_dotprod = {
    "f32_gemm_8x8__neonfma", SAM2R_ISA_DOTPROD, MR, NR, gemm_f32_rect_neon,
};
const sam2r_gemm_f32_ukernel sam2r_f32_gemm_neon_i8mm = {
    "f32_gemm_8x8__neonfma", SAM2R_ISA_I8MM, MR, NR, gemm_f32_rect_neon,
};
#endif
