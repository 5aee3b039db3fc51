/* peak_arm.c — register-only MAC loops for the aarch64 variants (see sam2r_peak.h).
 *
 * 12 independent accumulator chains of one instruction per iteration (covers a 4-cycle latency
 * at up to 3 per cycle); the multiplicands pass through an empty asm each iteration so the
 * compiler can neither hoist nor fold them. Timed with clock_gettime(CLOCK_MONOTONIC); the best
 * batch rate is reported.
 *   S8  neon:    SMLAL v.8h, v.8b, v.8b     8 MAC (the neon kernel's multiply-accumulate into
 *                                            int16; its SMULL/SMLAL2/SADALP triple does 16 MAC)
 *       dotprod: SDOT v.4s, v.16b, v.16b   16 MAC
 *       i8mm:    SMMLA v.4s, v.16b, v.16b  32 MAC
 *   F32 all:     FMLA v.4s                  4 MAC
 */
#if defined(__aarch64__)
#include "sam2r_peak.h"

#include <arm_neon.h>
#include <stdint.h>
#include <time.h>

double sam2r_peak_arm_gmacs(sam2r_isa isa, sam2r_peak_kind kind, double seconds);
const char *sam2r_peak_arm_instruction(sam2r_isa isa, sam2r_peak_kind kind);

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define ITERS 100000
#define CH(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
static volatile int64_t sink;

static __attribute__((noinline)) void loop_smlal(long n) {
#define D(i) int16x8_t a##i = vdupq_n_s16((int16_t)(i));
#define U(i) a##i = vmlal_s8(a##i, x, y);
#define S(i) s = vaddq_s16(s, a##i);
    CH(D)
    int8x8_t x = vdup_n_s8(1), y = vdup_n_s8(2);
    for (long it = 0; it < n; it++) {
        __asm__ volatile("" : "+w"(x), "+w"(y));
        CH(U)
    }
    int16x8_t s = vdupq_n_s16(0);
    CH(S)
    sink += vgetq_lane_s16(s, 0);
#undef D
#undef U
#undef S
}

static __attribute__((noinline, target("arch=armv8.2-a+dotprod"))) void loop_sdot(long n) {
#define D(i) int32x4_t a##i = vdupq_n_s32(i);
#define U(i) a##i = vdotq_s32(a##i, x, y);
#define S(i) s = vaddq_s32(s, a##i);
    CH(D)
    int8x16_t x = vdupq_n_s8(1), y = vdupq_n_s8(2);
    for (long it = 0; it < n; it++) {
        __asm__ volatile("" : "+w"(x), "+w"(y));
        CH(U)
    }
    int32x4_t s = vdupq_n_s32(0);
    CH(S)
    sink += vgetq_lane_s32(s, 0);
#undef D
#undef U
#undef S
}

static __attribute__((noinline, target("arch=armv8.6-a+i8mm"))) void loop_smmla(long n) {
#define D(i) int32x4_t a##i = vdupq_n_s32(i);
#define U(i) a##i = vmmlaq_s32(a##i, x, y);
#define S(i) s = vaddq_s32(s, a##i);
    CH(D)
    int8x16_t x = vdupq_n_s8(1), y = vdupq_n_s8(2);
    for (long it = 0; it < n; it++) {
        __asm__ volatile("" : "+w"(x), "+w"(y));
        CH(U)
    }
    int32x4_t s = vdupq_n_s32(0);
    CH(S)
    sink += vgetq_lane_s32(s, 0);
#undef D
#undef U
#undef S
}

static __attribute__((noinline)) void loop_fmla(long n) {
#define D(i) float32x4_t a##i = vdupq_n_f32((float)(i));
#define U(i) a##i = vfmaq_f32(a##i, x, y);
#define S(i) s = vaddq_f32(s, a##i);
    CH(D)
    float32x4_t x = vdupq_n_f32(1.0f), y = vdupq_n_f32(1e-9f);
    for (long it = 0; it < n; it++) {
        __asm__ volatile("" : "+w"(x), "+w"(y));
        CH(U)
    }
    float32x4_t s = vdupq_n_f32(0);
    CH(S)
    sink += (int64_t)vgetq_lane_f32(s, 0);
#undef D
#undef U
#undef S
}

const char *sam2r_peak_arm_instruction(sam2r_isa isa, sam2r_peak_kind kind) {
    if (isa != SAM2R_ISA_NEON && isa != SAM2R_ISA_DOTPROD && isa != SAM2R_ISA_I8MM) return "";
    if (kind == SAM2R_PEAK_S8_NARROW) return "";   /* no narrow-weight GEMM on ARM */
    if (kind == SAM2R_PEAK_F32) return "fmla v.4s";
    return isa == SAM2R_ISA_NEON ? "smlal v.8h" : isa == SAM2R_ISA_DOTPROD ? "sdot v.4s" : "smmla v.4s";
}

double sam2r_peak_arm_gmacs(sam2r_isa isa, sam2r_peak_kind kind, double seconds) {
    void (*loop)(long) = 0;
    double macs_per_instr = 0;
    if (isa != SAM2R_ISA_NEON && isa != SAM2R_ISA_DOTPROD && isa != SAM2R_ISA_I8MM) return 0;
    if (kind == SAM2R_PEAK_S8_NARROW) return 0;
    if (kind == SAM2R_PEAK_F32) {
        loop = loop_fmla;
        macs_per_instr = 4;
    } else if (isa == SAM2R_ISA_NEON) {
        loop = loop_smlal;
        macs_per_instr = 8;
    } else if (isa == SAM2R_ISA_DOTPROD) {
        loop = loop_sdot;
        macs_per_instr = 16;
    } else {
        loop = loop_smmla;
        macs_per_instr = 32;
    }
    if (seconds <= 0) seconds = 0.05;
    const double macs = macs_per_instr * 12.0 * ITERS;
    double best = 0;
    const double t_start = now_s();
    do {
        const double t0 = now_s();
        loop(ITERS);
        const double dt = now_s() - t0;
        if (dt > 0 && macs / dt > best) best = macs / dt;
    } while (now_s() - t_start < seconds);
    return best * 1e-9;
}
#endif
