/* gemm_s8_avxvnni.c — qs8_qc8w_gemm_fp32_6x16c4__avxvnni.
 *
 * AVX-VNNI (VEX-encoded, 256-bit vpdpbusd: Alder Lake, Sapphire Rapids, Zen 5 ...). Same scheme as
 * the avx512vnni kernel on 16 ymm registers; the kernel itself is gemm_s8_c4_ymm_impl.h with
 * vpdpbusd as its multiply-accumulate.
 * Not testable natively on AVX-512-only CPUs (no AVX-VNNI); compiling with
 * -DSAM2R_AVXVNNI_VIA_EVEX swaps the instruction for its EVEX twin (AVX512-VL VNNI, same
 * operation) so the kernel's logic can be checked on such a CPU. The VEX form is the default.
 */
#if defined(__x86_64__)
#if defined(SAM2R_AVXVNNI_VIA_EVEX)
#define TGT __attribute__((target("avx2,fma,avx512f,avx512vl,avx512vnni")))
#define C4_DOT(acc, a, w) __asm__("vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(a), "x"(w))
#else
#define TGT __attribute__((target("avxvnni,avx2,fma")))
/* acc += unsigned(a) . signed(w) per 4 bytes, VEX encoding; asm keeps the accumulator tied. */
#define C4_DOT(acc, a, w) __asm__("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(a), "x"(w))
#endif
#define C4_RECT_NAME qs8_gemm_rect_avxvnni
#include "gemm_s8_c4_ymm_impl.h"

const sam2r_gemm_s8_ukernel sam2r_qs8_gemm_avxvnni = {
    "qs8_qc8w_gemm_fp32_6x16c4__avxvnni", SAM2R_ISA_AVXVNNI, MR, NR, 4, qs8_gemm_rect_avxvnni,
};

#endif
