/* peak_x86.c — register-only MAC loops for the x86 variants (see sam2r_peak.h).
 *
 * Each loop runs 12 independent accumulator chains of one instruction (enough to cover a
 * latency of 5-6 cycles at 2 per cycle), in inline assembly, timed with clock_gettime(CLOCK_MONOTONIC); the best
 * batch rate is reported.
 *   S8  avx512vnni: vpdpbusd zmm            64 MAC per instruction
 *       avxvnni:    vpdpbusd ymm (VEX)      32 MAC per instruction
 *       avx2:       vpmaddwd ymm + vpaddd   16 MAC per pair. AVX2 has no int8 multiply-accumulate;
 *                   the avx2 kernel widens int8 to int16 and is bound by exactly this pair
 *                   (multiply-add of int16 pairs, then the int32 accumulate), so the pair is its peak.
 *   S8_NARROW avx2: vpmaddubsw ymm + vpmaddwd ymm (ones) + vpaddd ymm, 32 MAC per sequence: the
 *                   narrow-weight (7-bit) kernel's sequence, exact only for |w| <= 64.
 *   F32 avx512vnni: vfmadd231ps zmm 16 MAC;  avx2 / avxvnni: vfmadd231ps ymm 8 MAC.
 */
#if defined(__x86_64__)
#include "sam2r_peak.h"

#include <stdint.h>
#include <time.h>

double sam2r_peak_x86_gmacs(sam2r_isa isa, sam2r_peak_kind kind, double seconds);
const char *sam2r_peak_x86_instruction(sam2r_isa isa, sam2r_peak_kind kind);

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define ITERS 100000

/* The loops are inline assembly so that no compiler can add register moves, spills or hoisting:
 * exactly 12 (6 for the avx2 pair) independent chains per iteration and the loop counter. */
#define R12(op, a, b, p) \
    op " %%" p a ", %%" p b ", %%" p "4\n\t" op " %%" p a ", %%" p b ", %%" p "5\n\t" \
    op " %%" p a ", %%" p b ", %%" p "6\n\t" op " %%" p a ", %%" p b ", %%" p "7\n\t" \
    op " %%" p a ", %%" p b ", %%" p "8\n\t" op " %%" p a ", %%" p b ", %%" p "9\n\t" \
    op " %%" p a ", %%" p b ", %%" p "10\n\t" op " %%" p a ", %%" p b ", %%" p "11\n\t" \
    op " %%" p a ", %%" p b ", %%" p "12\n\t" op " %%" p a ", %%" p b ", %%" p "13\n\t" \
    op " %%" p a ", %%" p b ", %%" p "14\n\t" op " %%" p a ", %%" p b ", %%" p "15\n\t"
#define CLOBBER "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", \
                "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc"

/* Callers only reach a loop after sam2r_isa_supported() said yes. */
static void loop_vpdpbusd_zmm(long n) {
    __asm__ volatile("vpxord %%zmm0, %%zmm0, %%zmm0\n\tvpxord %%zmm1, %%zmm1, %%zmm1\n\t"
                     "1:\n\t" R12("vpdpbusd", "0", "1", "zmm") "dec %0\n\tjnz 1b\n\tvzeroupper"
                     : "+r"(n) : : CLOBBER);
}

static void loop_vpdpbusd_ymm(long n) {
    __asm__ volatile("vpxor %%ymm0, %%ymm0, %%ymm0\n\tvpxor %%ymm1, %%ymm1, %%ymm1\n\t"
                     "1:\n\t" R12("%{vex%} vpdpbusd", "0", "1", "ymm") "dec %0\n\tjnz 1b\n\tvzeroupper"
                     : "+r"(n) : : CLOBBER);
}

/* Twelve sequences per iteration over six chains: sequence M(t, c) computes into temporary ymm t and
 * accumulates into ymm c (ymm0/ymm1 operands, ymm15 free for a constant). */
#define CHAINS6X2(M) M("2", "8") M("3", "9") M("4", "10") M("5", "11") M("6", "12") M("7", "13") \
                     M("2", "8") M("3", "9") M("4", "10") M("5", "11") M("6", "12") M("7", "13")
#define CHAIN_LOOP(M) __asm__ volatile("vpxor %%ymm0, %%ymm0, %%ymm0\n\tvpxor %%ymm1, %%ymm1, %%ymm1\n\t"      \
                                       "vpxor %%ymm15, %%ymm15, %%ymm15\n\t1:\n\t" CHAINS6X2(M)               \
                                       "dec %0\n\tjnz 1b\n\tvzeroupper" : "+r"(n) : : CLOBBER)

static void loop_vpmaddwd_ymm(long n) {
#define MA(t, c) "vpmaddwd %%ymm0, %%ymm1, %%ymm" t "\n\tvpaddd %%ymm" t ", %%ymm" c ", %%ymm" c "\n\t"
    CHAIN_LOOP(MA);
#undef MA
}

static void loop_vpmaddubsw_ymm(long n) {
#define MB(t, c) "vpmaddubsw %%ymm0, %%ymm1, %%ymm" t "\n\tvpmaddwd %%ymm15, %%ymm" t ", %%ymm" t "\n\t" \
                 "vpaddd %%ymm" t ", %%ymm" c ", %%ymm" c "\n\t"
    CHAIN_LOOP(MB);
#undef MB
}

static void loop_fma_zmm(long n) {
    __asm__ volatile("vpxord %%zmm0, %%zmm0, %%zmm0\n\tvpxord %%zmm1, %%zmm1, %%zmm1\n\t"
                     "1:\n\t" R12("vfmadd231ps", "0", "1", "zmm") "dec %0\n\tjnz 1b\n\tvzeroupper"
                     : "+r"(n) : : CLOBBER);
}

static void loop_fma_ymm(long n) {
    __asm__ volatile("vpxor %%ymm0, %%ymm0, %%ymm0\n\tvpxor %%ymm1, %%ymm1, %%ymm1\n\t"
                     "1:\n\t" R12("vfmadd231ps", "0", "1", "ymm") "dec %0\n\tjnz 1b\n\tvzeroupper"
                     : "+r"(n) : : CLOBBER);
}

const char *sam2r_peak_x86_instruction(sam2r_isa isa, sam2r_peak_kind kind);

const char *sam2r_peak_x86_instruction(sam2r_isa isa, sam2r_peak_kind kind) {
    if (kind == SAM2R_PEAK_S8_NARROW) return isa == SAM2R_ISA_AVX2 ? "vpmaddubsw ymm + vpmaddwd ymm + vpaddd ymm" : "";
    if (kind == SAM2R_PEAK_S8) {
        switch (isa) {
        case SAM2R_ISA_AVX512VNNI: return "vpdpbusd zmm";
        case SAM2R_ISA_AVXVNNI: return "vpdpbusd ymm (vex)";
        case SAM2R_ISA_AVX2: return "vpmaddwd ymm + vpaddd ymm";
        default: return "";
        }
    }
    switch (isa) {
    case SAM2R_ISA_AVX512VNNI: return "vfmadd231ps zmm";
    case SAM2R_ISA_AVX2:
    case SAM2R_ISA_AVXVNNI: return "vfmadd231ps ymm";
    default: return "";
    }
}

double sam2r_peak_x86_gmacs(sam2r_isa isa, sam2r_peak_kind kind, double seconds) {
    void (*loop)(long) = 0;
    double macs_per_instr = 0;
    if (kind == SAM2R_PEAK_S8_NARROW) {
        if (isa != SAM2R_ISA_AVX2) return 0;
        loop = loop_vpmaddubsw_ymm;
        macs_per_instr = 32;
    } else if (kind == SAM2R_PEAK_S8) {
        switch (isa) {
        case SAM2R_ISA_AVX512VNNI: loop = loop_vpdpbusd_zmm; macs_per_instr = 64; break;
        case SAM2R_ISA_AVXVNNI: loop = loop_vpdpbusd_ymm; macs_per_instr = 32; break;
        case SAM2R_ISA_AVX2: loop = loop_vpmaddwd_ymm; macs_per_instr = 16; break;
        default: return 0;
        }
    } else {
        switch (isa) {
        case SAM2R_ISA_AVX512VNNI: loop = loop_fma_zmm; macs_per_instr = 16; break;
        case SAM2R_ISA_AVX2:
        case SAM2R_ISA_AVXVNNI: loop = loop_fma_ymm; macs_per_instr = 8; break;
        default: return 0;
        }
    }
    if (seconds <= 0) seconds = 0.05;
    const double macs = macs_per_instr * 12.0 * ITERS;
    double best = 0, t_start = now_s();
    do {
        const double t0 = now_s();
        loop(ITERS);
        const double dt = now_s() - t0;
        if (dt > 0 && macs / dt > best) best = macs / dt;
    } while (now_s() - t_start < seconds);
    return best * 1e-9;
}
#endif
