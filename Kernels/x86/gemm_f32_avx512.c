/* gemm_f32_avx512.c — fp32 GEMM micro-kernel f32_gemm_8x48__avx512f.
 *
 * 8 rows x 48 columns of C live in 24 zmm accumulators; per k step three zmm loads of the packed
 * weight panel and one broadcast of A per row feed 24 FMAs. Blocking inside a task: K in blocks of
 * at most KC, then
 * 8-row micro-tiles (A packed to [kc][8] on the stack, 8 KiB, by 8x8 register transposes), then
 * the task's weight panels (the driver keeps a task's kc x columns weight block within L2, and
 * each weight panel is streamed from L2 while the packed A stays in L1). The first K block starts
 * from the bias, later ones accumulate into C. Column tails use AVX-512 masks; row tails have their
 * own instantiations. */
#if defined(__x86_64__)
#include "sam2r_gemm_f32.h"
#include "../gemm_f32_kblock.h"
#include "gemm_f32_avx512_common.h"

#include <immintrin.h>

#define MR 8
#define NR 48
#ifndef SAM2R_F32_AVX512_KC
#define SAM2R_F32_AVX512_KC 256
#endif
#define KC SAM2R_F32_AVX512_KC

/* nv: the zmm columns of the panel that hold any of C's columns (1..3); a tail panel of <= 16 or
 * <= 32 columns skips the FMAs of the others (the element sums are the same FMAs either way). */
static inline __attribute__((always_inline)) T512 void ukr_8x48(
    const int mr, const int full, const int nv, int32_t kc, const float *a, const float *b, float *c, size_t ldc,
    const float *bias, int first, __mmask16 k0, __mmask16 k1, __mmask16 k2) {
    if (full) k0 = k1 = k2 = 0xFFFF;
    if (nv < 2) k1 = 0;
    if (nv < 3) k2 = 0;
    __m512 acc[MR][3];
    /* C is usually cold (first touch of a K block's output): start its lines' fetch now so the
     * stores at the end do not stall on them. */
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
        if (r < mr) {
            __builtin_prefetch(c + r * ldc, 1, 3);
            __builtin_prefetch(c + r * ldc + 16, 1, 3);
            __builtin_prefetch(c + r * ldc + 32, 1, 3);
        }
    }
    if (first) {
        __m512 v0 = _mm512_setzero_ps(), v1 = v0, v2 = v0;
        if (bias) {
            v0 = _mm512_maskz_loadu_ps(k0, bias);
            v1 = _mm512_maskz_loadu_ps(k1, bias + 16);
            v2 = _mm512_maskz_loadu_ps(k2, bias + 32);
        }
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            acc[r][0] = v0;
            acc[r][1] = v1;
            acc[r][2] = v2;
        }
    } else {
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            if (r < mr) {
                acc[r][0] = _mm512_maskz_loadu_ps(k0, c + r * ldc);
                acc[r][1] = _mm512_maskz_loadu_ps(k1, c + r * ldc + 16);
                acc[r][2] = _mm512_maskz_loadu_ps(k2, c + r * ldc + 32);
            } else {
                acc[r][0] = acc[r][1] = acc[r][2] = _mm512_setzero_ps();
            }
        }
    }
    for (int32_t k = 0; k < kc; k++) {
        /* the weight panel streams from L2: ask for it 8 k steps (1.5 KiB) ahead */
        _mm_prefetch((const char *)(b + 8 * NR), _MM_HINT_T0);
        _mm_prefetch((const char *)(b + 8 * NR + 16), _MM_HINT_T0);
        _mm_prefetch((const char *)(b + 8 * NR + 32), _MM_HINT_T0);
        const __m512 b0 = _mm512_load_ps(b);
        const __m512 b1 = nv > 1 ? _mm512_load_ps(b + 16) : b0, b2 = nv > 2 ? _mm512_load_ps(b + 32) : b0;
        b += NR;
#define ROW(r)                                                          \
        if (mr > r) {                                                   \
            const __m512 av = _mm512_set1_ps(a[r]);                     \
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);             \
            if (nv > 1) acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]); \
            if (nv > 2) acc[r][2] = _mm512_fmadd_ps(av, b2, acc[r][2]); \
        }
        ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7)
#undef ROW
        a += MR;
    }
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
        if (r < mr) {
            _mm512_mask_storeu_ps(c + r * ldc, k0, acc[r][0]);
            _mm512_mask_storeu_ps(c + r * ldc + 16, k1, acc[r][1]);
            _mm512_mask_storeu_ps(c + r * ldc + 32, k2, acc[r][2]);
        }
    }
}

typedef void (*ukr_fn)(int32_t kc, const float *a, const float *b, float *c, size_t ldc,
                       const float *bias, int first, __mmask16 k0, __mmask16 k1, __mmask16 k2);

#define INST1(mr, name, full, nv)                                                                        \
    static T512 void name##_##mr(int32_t kc, const float *a, const float *b, float *c, size_t ldc,        \
                                 const float *bias, int first, __mmask16 k0, __mmask16 k1, __mmask16 k2) { \
        ukr_8x48(mr, full, nv, kc, a, b, c, ldc, bias, first, k0, k1, k2);                              \
    }
#define INST(mr) INST1(mr, ukr_full, 1, 3) INST1(mr, ukr_part, 0, 3) INST1(mr, ukr_part1, 0, 1) INST1(mr, ukr_part2, 0, 2)
INST(1) INST(2) INST(3) INST(4) INST(5) INST(6) INST(7) INST(8)
#undef INST
#undef INST1

static const ukr_fn ukr_full[MR + 1] = {0, ukr_full_1, ukr_full_2, ukr_full_3, ukr_full_4,
                                        ukr_full_5, ukr_full_6, ukr_full_7, ukr_full_8};
static const ukr_fn ukr_part[MR + 1] = {0, ukr_part_1, ukr_part_2, ukr_part_3, ukr_part_4,
                                        ukr_part_5, ukr_part_6, ukr_part_7, ukr_part_8};
static const ukr_fn ukr_part1[MR + 1] = {0, ukr_part1_1, ukr_part1_2, ukr_part1_3, ukr_part1_4,
                                         ukr_part1_5, ukr_part1_6, ukr_part1_7, ukr_part1_8};
static const ukr_fn ukr_part2[MR + 1] = {0, ukr_part2_1, ukr_part2_2, ukr_part2_3, ukr_part2_4,
                                         ukr_part2_5, ukr_part2_6, ukr_part2_7, ukr_part2_8};

/* A is packed per (K block, MC rows) into [MC/MR][kc][MR] on the stack (MC x KC floats = 64 KiB),
 * so the micro-kernel broadcasts from one contiguous stream whatever lda is (no L1 set conflicts
 * when lda is a multiple of 1024 floats). */
/* 8 rows x 8 k -> 8 k x 8 rows, in registers (unpack / shuffle / permute2f128). */
static inline __attribute__((always_inline)) T512 void transpose8(const float *src, size_t lda, float *dst) {
    const __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + lda), r2 = _mm256_loadu_ps(src + 2 * lda),
                 r3 = _mm256_loadu_ps(src + 3 * lda), r4 = _mm256_loadu_ps(src + 4 * lda),
                 r5 = _mm256_loadu_ps(src + 5 * lda), r6 = _mm256_loadu_ps(src + 6 * lda),
                 r7 = _mm256_loadu_ps(src + 7 * lda);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
                 t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
                 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE),
                 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE),
                 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE),
                 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_store_ps(dst + 0, _mm256_permute2f128_ps(s0, s4, 0x20));
    _mm256_store_ps(dst + 8, _mm256_permute2f128_ps(s1, s5, 0x20));
    _mm256_store_ps(dst + 16, _mm256_permute2f128_ps(s2, s6, 0x20));
    _mm256_store_ps(dst + 24, _mm256_permute2f128_ps(s3, s7, 0x20));
    _mm256_store_ps(dst + 32, _mm256_permute2f128_ps(s0, s4, 0x31));
    _mm256_store_ps(dst + 40, _mm256_permute2f128_ps(s1, s5, 0x31));
    _mm256_store_ps(dst + 48, _mm256_permute2f128_ps(s2, s6, 0x31));
    _mm256_store_ps(dst + 56, _mm256_permute2f128_ps(s3, s7, 0x31));
}

static T512 void pack_a(const float *a, size_t lda, int32_t rows, int32_t kc, float *ap) {
    for (int32_t r0 = 0; r0 < rows; r0 += MR) {
        const int32_t mr = rows - r0 < MR ? rows - r0 : MR;
        const float *src = a + (size_t)r0 * lda;
        int32_t k = 0;
        if (mr == MR)
            for (; k + 8 <= kc; k += 8) transpose8(src + k, lda, ap + (size_t)k * MR);
        for (; k < kc; k++)
            for (int r = 0; r < MR; r++) ap[(size_t)k * MR + r] = r < mr ? src[(size_t)r * lda + k] : 0.0f;
        ap += (size_t)kc * MR;
    }
}

static T512 void gemm_f32_rect_avx512(const sam2r_gemm_f32_args *p, int32_t m0, int32_t m1, int32_t n0, int32_t n1) {
    __attribute__((aligned(64))) float apack[MR * KC];
    const int32_t k = p->k;
    const size_t lda = (size_t)p->lda, ldc = (size_t)p->ldc;
    const int32_t kcb = gemm_f32_k_block(k, KC);
    const int32_t nvl = (n1 - n0) % NR;   /* columns of the last panel, 0 if full */
    const __mmask16 q0 = lane_mask(nvl), q1 = lane_mask(nvl - 16), q2 = lane_mask(nvl - 32);
    const int32_t nfull = n1 - nvl;
    for (int32_t kb = 0; kb < k; kb += kcb) {
        const int32_t kc = k - kb < kcb ? k - kb : kcb;
        const int first = kb == 0;
        const float *w = p->w->data + (size_t)kb * NR;
        for (int32_t mb = m0; mb < m1; mb += MR) {
            const int32_t mr = m1 - mb < MR ? m1 - mb : MR;
            pack_a(p->a + (size_t)mb * lda + kb, lda, mr, kc, apack);
            float *c = p->c + (size_t)mb * ldc;
            const ukr_fn full = ukr_full[mr];
            int32_t nb = n0;
            for (; nb < nfull; nb += NR)
                full(kc, apack, w + (size_t)(nb / NR) * (size_t)k * NR, c + nb, ldc,
                     (first && p->bias) ? p->bias + nb : NULL, first, 0xFFFF, 0xFFFF, 0xFFFF);
            if (nb < n1)
                (nvl <= 16 ? ukr_part1 : nvl <= 32 ? ukr_part2 : ukr_part)[mr](kc, apack, w + (size_t)(nb / NR) * (size_t)k * NR, c + nb, ldc,
                             (first && p->bias) ? p->bias + nb : NULL, first, q0, q1, q2);
        }
    }
}

const sam2r_gemm_f32_ukernel sam2r_f32_gemm_avx512 = {
    "f32_gemm_8x48__avx512f", SAM2R_ISA_AVX512VNNI, MR, NR, gemm_f32_rect_avx512, NULL,
};
#endif
