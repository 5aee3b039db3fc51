/* peak.c — sam2r_peak.h: routes to the architecture's register-only MAC loops (x86/peak_x86.c,
 * arm/peak_arm.c). Returns 0 / "" for the scalar variant, for variants of the other architecture
 * and for variants this CPU cannot execute (never runs an unsupported instruction). */
#include "sam2r_peak.h"

#if defined(__x86_64__)
double sam2r_peak_x86_gmacs(sam2r_isa isa, sam2r_peak_kind kind, double seconds);
const char *sam2r_peak_x86_instruction(sam2r_isa isa, sam2r_peak_kind kind);
#define PEAK_GMACS sam2r_peak_x86_gmacs
#define PEAK_INSTR sam2r_peak_x86_instruction
#elif defined(__aarch64__)
double sam2r_peak_arm_gmacs(sam2r_isa isa, sam2r_peak_kind kind, double seconds);
const char *sam2r_peak_arm_instruction(sam2r_isa isa, sam2r_peak_kind kind);
#define PEAK_GMACS sam2r_peak_arm_gmacs
#define PEAK_INSTR sam2r_peak_arm_instruction
#endif

double sam2r_peak_gmacs(sam2r_isa isa, sam2r_peak_kind kind, double seconds) {
#if defined(PEAK_GMACS)
    if (isa == SAM2R_ISA_SCALAR || !sam2r_isa_supported(isa)) return 0;
    return PEAK_GMACS(isa, kind, seconds);
#else
    (void)isa; (void)kind; (void)seconds;
    return 0;
#endif
}

const char *sam2r_peak_instruction(sam2r_isa isa, sam2r_peak_kind kind) {
#if defined(PEAK_INSTR)
    if (isa == SAM2R_ISA_SCALAR) return "";
    return PEAK_INSTR(isa, kind);
#else
    (void)isa; (void)kind;
    return "";
#endif
}
