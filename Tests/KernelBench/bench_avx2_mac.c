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
 * Inline assembly with six independent chains (twelve for FMA), so that no compiler folds or reorders. */
#include <stdio.h>
#include <time.h>

#if defined(__x86_64__)
static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define N 20000000L
#define CL "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", \
           "xmm12", "xmm13", "xmm14", "xmm15"
#define PAIR(i, j) "vpmaddwd %%ymm0, %%ymm1, %%ymm" #i "\n\tvpaddd %%ymm" #i ", %%ymm" #j ", %%ymm" #j "\n\t"
#define UBS(i, j) "vpmaddubsw %%ymm0, %%ymm1, %%ymm" #i "\n\tvpmaddwd %%ymm15, %%ymm" #i ", %%ymm" #i \
                  "\n\tvpaddd %%ymm" #i ", %%ymm" #j ", %%ymm" #j "\n\t"
#define SGN(i, j) "vpsignb %%ymm1, %%ymm0, %%ymm" #i "\n\tvpmaddubsw %%ymm14, %%ymm" #i ", %%ymm" #i \
                  "\n\tvpmaddwd %%ymm15, %%ymm" #i ", %%ymm" #i "\n\tvpaddd %%ymm" #i ", %%ymm" #j ", %%ymm" #j "\n\t"
#define UBW(i, j) "vpmaddubsw %%ymm0, %%ymm1, %%ymm" #i "\n\tvpaddw %%ymm" #i ", %%ymm" #j ", %%ymm" #j "\n\t"
#define FMA(j) "vfmadd231ps %%ymm0, %%ymm1, %%ymm" #j "\n\t"
#define SIX(M) M(2, 8) M(3, 9) M(4, 10) M(5, 11) M(6, 12) M(7, 13)
#define ZERO "vpxor %%ymm0, %%ymm0, %%ymm0\n\tvpxor %%ymm1, %%ymm1, %%ymm1\n\tvpxor %%ymm14, %%ymm14, %%ymm14\n\t" \
             "vpxor %%ymm15, %%ymm15, %%ymm15\n\t"

__attribute__((target("avx2,fma"))) static void run_pair(void) {
    for (long i = 0; i < N; i++) __asm__ volatile(SIX(PAIR) ::: CL);
}
__attribute__((target("avx2,fma"))) static void run_ubs(void) {
    for (long i = 0; i < N; i++) __asm__ volatile(SIX(UBS) ::: CL);
}
__attribute__((target("avx2,fma"))) static void run_sgn(void) {
    for (long i = 0; i < N; i++) __asm__ volatile(SIX(SGN) ::: CL);
}
__attribute__((target("avx2,fma"))) static void run_ubw(void) {
    for (long i = 0; i < N; i++) __asm__ volatile(SIX(UBW) ::: CL);
}
__attribute__((target("avx2,fma"))) static void run_fma(void) {
    for (long i = 0; i < N; i++)
        __asm__ volatile(FMA(2) FMA(3) FMA(4) FMA(5) FMA(6) FMA(7) FMA(8) FMA(9) FMA(10) FMA(11) FMA(12) FMA(13) ::: CL);
}
__attribute__((target("avx2,fma"))) static void zero(void) { __asm__ volatile(ZERO ::: CL); }

int main(void) {
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        fprintf(stderr, "bench-avx2-mac: this CPU has no AVX2 + FMA\n");
        return 2;
    }
    static const struct { const char *name; void (*run)(void); double macs_per_iter; } seqs[] = {
        {"vpmaddwd + vpaddd", run_pair, 6 * 16},
        {"vpmaddubsw + vpmaddwd(ones) + vpaddd", run_ubs, 6 * 32},
        {"vpsignb + vpmaddubsw + vpmaddwd + vpaddd", run_sgn, 6 * 32},
        {"vpmaddubsw + vpaddw (int16 accumulate)", run_ubw, 6 * 32},
        {"vfmadd231ps", run_fma, 12 * 8},
    };
    for (unsigned s = 0; s < sizeof seqs / sizeof seqs[0]; s++) {
        double best = 0;
        for (int round = 0; round < 3; round++) {
            zero();
            const double t0 = now_s();
            seqs[s].run();
            const double g = seqs[s].macs_per_iter * (double)N / (now_s() - t0) / 1e9;
            if (g > best) best = g;
        }
        printf("%-42s %7.1f GMAC/s\n", seqs[s].name, best);
    }
    return 0;
}
#else
int main(void) {
    fprintf(stderr, "bench-avx2-mac: x86-64 only\n");
    return 2;
}
#endif
