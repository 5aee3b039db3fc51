/* attention_s8_avx2.c — int8 flash attention s8_attention_flash_16xkb96__avx2 for AVX2 without VNNI:
 * 16 queries per tile (two ymm of query lanes), 4-key score and 4-channel P·V micro-tiles.
 * The 4-byte dot products are vpmaddubsw + vpmaddwd(1): vpmaddubsw multiplies u8 x s8 and saturates
 * pair sums at 16 bits, so Q·K uses |q_q| (u8) times k_q with q's sign moved onto it (vpsignb):
 * pairs are at most 2 * 127 * 127 = 32258 < 32767, never saturated; P (0..127) times v_q likewise.
 * The AVX-VNNI level uses this kernel too. Algorithm and layout: ../attention_s8_impl.h; bit-identical
 * to scalar/attention_s8_scalar.c. */
#if defined(__x86_64__)
#include "sam2r_attention_s8.h"

#include "numerics_avx2.h"

#include <string.h>

#define S8_TGT NM_TGT
#define S8_VL 8
#define S8_VI __m256i
#define S8_VF __m256
#define S8_LDI(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define S8_STI(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), (v))
static inline __attribute__((always_inline)) S8_TGT __m256i s8_bc4_avx2(const void *p) {
    int32_t x;
    memcpy(&x, p, 4);
    return _mm256_set1_epi32(x);
}
static inline __attribute__((always_inline)) S8_TGT __m256i s8_dot4_avx2(__m256i acc, __m256i u, __m256i s) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
}
#define S8_BC4(p) s8_bc4_avx2(p)
#define S8_ZEROI() _mm256_setzero_si256()
#define S8_SET1I(x) _mm256_set1_epi32(x)
#define S8_ADDI(a, b) _mm256_add_epi32((a), (b))
#define S8_ORI(a, b) _mm256_or_si256((a), (b))
#define S8_SLLI(v, n) _mm256_slli_epi32((v), (n))
#define S8_QK(acc, q, k) s8_dot4_avx2((acc), _mm256_abs_epi8(q), _mm256_sign_epi8((k), (q)))
#define S8_PV(acc, p, v) s8_dot4_avx2((acc), (p), (v))
#define S8_CVTF(v) _mm256_cvtepi32_ps(v)
#define S8_CVTI(v) _mm256_cvtps_epi32(v) /* MXCSR default: round half even */
#define S8_LDF(p) _mm256_loadu_ps(p)
#define S8_STF(p, v) _mm256_storeu_ps((p), (v))
#define S8_SET1F(x) _mm256_set1_ps(x)
#define S8_MULF(a, b) _mm256_mul_ps((a), (b))
#define S8_ADDF(a, b) _mm256_add_ps((a), (b))
#define S8_SUBF(a, b) _mm256_sub_ps((a), (b))
#define S8_MAXF(a, b) _mm256_max_ps((a), (b))
#define S8_EXP2(x) nm_exp2(x)
#define S8_QBIAS 0
#define S8_NQV 2
#define S8_JT 4
#define S8_DC 4
#define Q_BLOCK 2064

#include "../attention_s8_impl.h"

const sam2r_attention_s8_ukernel sam2r_s8_attention_avx2 = {
    "s8_attention_flash_16xkb96__avx2", SAM2R_ISA_AVX2, Q_BLOCK, S8_QT, S8_KB, s8_rows,
};
const sam2r_attention_s8_ukernel sam2r_s8_attention_avxvnni = {
    "s8_attention_flash_16xkb96__avx2", SAM2R_ISA_AVXVNNI, Q_BLOCK, S8_QT, S8_KB, s8_rows,
};
#endif
