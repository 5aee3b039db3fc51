/* attention_s8_avx512vnni.c — int8 flash attention s8_attention_flash_48xkb96__avx512vnni: 48 queries per
 * tile (three zmm of query lanes), 8-key score micro-tile and 8-channel P·V micro-tile (24 zmm int32
 * accumulators, one vpdpbusd each with an embedded 32-bit broadcast of the key / value bytes), 96-key
 * blocks, up to 2064 queries per task (as the fp32 kernel: a 4096-token global attention is two tasks
 * per head). vpdpbusd multiplies u8 x s8: Q is stored as q_q + 128 and each key's accumulator starts at
 * -128 * sum_e k_q[e], so it ends at the exact signed dot product; P (0..127) is already u8.
 * On this Xeon vpdpbusd issues on one port (vfmadd231ps on two), so 64 int8 MACs per cycle vs 32 fp32,
 * and the softmax shares that port: measured 1.8-1.9x the fp32 kernel on 4096 x 4096 x 4 heads x 96
 * (make bench-attention, shared machine), not the 4x of the instruction count.
 * Algorithm and layout: ../attention_s8_impl.h; bit-identical to scalar/attention_s8_scalar.c. */
#if defined(__x86_64__)
#include "sam2r_attention_s8.h"

#include "numerics_avx512.h"

#include <string.h>

#define S8_TGT __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#define S8_VL 16
#define S8_VI __m512i
#define S8_VF __m512
#define S8_LDI(p) _mm512_loadu_si512((const void *)(p))
#define S8_STI(p, v) _mm512_storeu_si512((void *)(p), (v))
static inline __attribute__((always_inline)) S8_TGT __m512i s8_bc4_avx512(const void *p) {
    int32_t x;
    memcpy(&x, p, 4);
    return _mm512_set1_epi32(x);
}
#define S8_BC4(p) s8_bc4_avx512(p)
#define S8_ZEROI() _mm512_setzero_si512()
#define S8_SET1I(x) _mm512_set1_epi32(x)
#define S8_ADDI(a, b) _mm512_add_epi32((a), (b))
#define S8_ORI(a, b) _mm512_or_si512((a), (b))
#define S8_SLLI(v, n) _mm512_slli_epi32((v), (n))
/* vpdpbusd as inline asm, as in gemm_s8_avx512vnni.c: with the intrinsic, GCC 12 copied accumulators
 * between registers and spilled them to the stack (perf annotate); the asm keeps all 24 in zmm. */
static inline __attribute__((always_inline)) S8_TGT __m512i s8_dpbusd(__m512i acc, __m512i u, __m512i s) {
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "v"(s));
    return acc;
}
#define S8_QK(acc, q, k) s8_dpbusd((acc), (q), (k))
#define S8_PV(acc, p, v) s8_dpbusd((acc), (p), (v))
#define S8_CVTF(v) _mm512_cvtepi32_ps(v)
#define S8_CVTI(v) _mm512_cvtps_epi32(v) /* MXCSR default: round half even */
#define S8_LDF(p) _mm512_loadu_ps(p)
#define S8_STF(p, v) _mm512_storeu_ps((p), (v))
#define S8_SET1F(x) _mm512_set1_ps(x)
#define S8_MULF(a, b) _mm512_mul_ps((a), (b))
#define S8_ADDF(a, b) _mm512_add_ps((a), (b))
#define S8_SUBF(a, b) _mm512_sub_ps((a), (b))
#define S8_MAXF(a, b) _mm512_max_ps((a), (b))
#define S8_EXP2(x) nm_exp2(x)
#define S8_QBIAS 128
#define S8_NQV 3
#define S8_JT 8
#define S8_DC 8
#define Q_BLOCK 2064

#include "../attention_s8_impl.h"

const sam2r_attention_s8_ukernel sam2r_s8_attention_avx512vnni = {
    "s8_attention_flash_48xkb96__avx512vnni", SAM2R_ISA_AVX512VNNI, Q_BLOCK, S8_QT, S8_KB, s8_rows,
};
#endif
