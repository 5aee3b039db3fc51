/* bench_avx2_mac.c — `make bench-avx2-mac`: register-only throughput of the int8 multiply-accumulate
 * sequences open to AVX2 without VNNI, and of fp32 FMA, on this core (GMAC/s, best of three rounds).
 * Why: AVX2 has no exact 8-bit MAC; this is the evidence for which sequence each int8 kernel uses
 * (BENCHMARKS.md, "AVX2-only host"):
 *   vpmaddwd + vpaddd                      16 MAC: the exact 8-bit GEMM (operands widened to int16)
 *   vpmaddubsw + vpmaddwd(ones) + vpaddd   32 MAC: exact only without saturation (7-bit weights, the
 *                                                  int8 attention's |q| and P <= 127)
 *   vpsignb + that                         32 MAC: 8-bit weights made safe by moving the sign (not used)
 *   vpmaddubsw + vpaddw                    32 MAC: int16 accumulation (overflows; an upper bound only)
 *   vfmadd231ps                             8 MAC
 * The three sequences kernels use are timed by sam2r_peak (the loops `sam2r bench kernels` divides by);
 * the two no kernel uses have their own loops here, of the same shape: inline assembly, twelve
 * sequences over six independent chains per iteration, so that no compiler folds or reorders. */
#include "sam2r_peak.h"

#include "bench_util.h"

#include <stdio.h>

#if defined(__x86_64__)
#define ROUND_SECONDS 0.3

#define ITERS 100000L
#define CL "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", \
           "xmm12", "xmm13", "xmm14", "xmm15", "cc"
#define SGN(t, c) "vpsignb %%ymm1, %%ymm0, %%ymm" t "\n\tvpmaddubsw %%ymm14, %%ymm" t ", %%ymm" t "\n\t" \
                  "vpmaddwd %%ymm15, %%ymm" t ", %%ymm" t "\n\tvpaddd %%ymm" t ", %%ymm" c ", %%ymm" c "\n\t"
#define UBW(t, c) "vpmaddubsw %%ymm0, %%ymm1, %%ymm" t "\n\tvpaddw %%ymm" t ", %%ymm" c ", %%ymm" c "\n\t"
#define CHAINS6X2(M) M("2", "8") M("3", "9") M("4", "10") M("5", "11") M("6", "12") M("7", "13") \
                     M("2", "8") M("3", "9") M("4", "10") M("5", "11") M("6", "12") M("7", "13")
#define CHAIN_LOOP(M) __asm__ volatile("vpxor %%ymm0, %%ymm0, %%ymm0\n\tvpxor %%ymm1, %%ymm1, %%ymm1\n\t"     \
                                       "vpxor %%ymm14, %%ymm14, %%ymm14\n\tvpxor %%ymm15, %%ymm15, %%ymm15\n\t" \
                                       "1:\n\t" CHAINS6X2(M) "dec %0\n\tjnz 1b\n\tvzeroupper"                  \
                                       : "+r"(n) : : CL)

__attribute__((target("avx2"))) static void loop_sgn(long n) { CHAIN_LOOP(SGN); }
__attribute__((target("avx2"))) static void loop_ubw(long n) { CHAIN_LOOP(UBW); }

/* Best of three rounds of `loop` (12 sequences of `macs` MAC per iteration), each about ROUND_SECONDS like
 * sam2r_peak's. */
static double own_loop_gmacs(void (*loop)(long), double macs) {
    double best = 0;
    for (int round = 0; round < 3; round++) {
        long calls = 0;
        const double t0 = bench_now();
        double t;
        do {
            loop(ITERS);
            calls++;
        } while ((t = bench_now() - t0) < ROUND_SECONDS);
        const double g = 12 * macs * (double)ITERS * (double)calls / t / 1e9;
        best = g > best ? g : best;
    }
    return best;
}

static double peak_gmacs(sam2r_peak_kind kind) {
    double best = 0;
    for (int round = 0; round < 3; round++) {
        const double g = sam2r_peak_gmacs(SAM2R_ISA_AVX2, kind, ROUND_SECONDS);
        best = g > best ? g : best;
    }
    return best;
}

int main(void) {
    if (!sam2r_isa_supported(SAM2R_ISA_AVX2)) {
        fprintf(stderr, "bench-avx2-mac: this CPU has no AVX2 + FMA\n");
        return 2;
    }
    printf("%-42s %7.1f GMAC/s\n", "vpmaddwd + vpaddd", peak_gmacs(SAM2R_PEAK_S8));
    printf("%-42s %7.1f GMAC/s\n", "vpmaddubsw + vpmaddwd(ones) + vpaddd", peak_gmacs(SAM2R_PEAK_S8_NARROW));
    printf("%-42s %7.1f GMAC/s\n", "vpsignb + vpmaddubsw + vpmaddwd + vpaddd", own_loop_gmacs(loop_sgn, 32));
    printf("%-42s %7.1f GMAC/s\n", "vpmaddubsw + vpaddw (int16 accumulate)", own_loop_gmacs(loop_ubw, 32));
    printf("%-42s %7.1f GMAC/s\n", "vfmadd231ps", peak_gmacs(SAM2R_PEAK_F32));
    return 0;
}
#else
int main(void) {
    fprintf(stderr, "bench-avx2-mac: x86-64 only\n");
    return 2;
}
#endif
