/* test_dispatch.c — the dispatcher's contract: names round-trip, scalar always runs, the best
 * variant is supported, forcing an unsupported variant is refused, each architecture offers only
 * its own variants. */
#include "harness.h"

#include <string.h>

void test_dispatch(void) {
    for (int i = 0; i < SAM2R_ISA_COUNT; i++)
        harness_check(sam2r_isa_parse(sam2r_isa_name((sam2r_isa)i)) == i, "isa name round trip %d", i);
    harness_check(sam2r_isa_parse("avx1024") == -1, "unknown isa name rejected");
    harness_check(sam2r_isa_parse(NULL) == -1, "NULL isa name rejected");
    harness_check(sam2r_isa_supported(SAM2R_ISA_SCALAR), "scalar always supported");
    harness_check(!sam2r_isa_supported((sam2r_isa)SAM2R_ISA_COUNT), "out-of-range isa unsupported");
    harness_check(sam2r_isa_supported(sam2r_isa_best()), "best isa is supported");

    const int is_x86 = strcmp(sam2r_arch_name(), "x86_64") == 0;
    const int is_arm = strcmp(sam2r_arch_name(), "aarch64") == 0;
    for (int i = 1; i < SAM2R_ISA_COUNT; i++) {
        const int arm_isa = i >= SAM2R_ISA_NEON;
        if ((is_x86 && arm_isa) || (is_arm && !arm_isa))
            harness_check(!sam2r_isa_supported((sam2r_isa)i), "%s not offered on %s",
                          sam2r_isa_name((sam2r_isa)i), sam2r_arch_name());
    }
    /* Levels imply their base: dotprod needs neon, i8mm needs dotprod, avxvnni needs avx2. */
    if (sam2r_isa_supported(SAM2R_ISA_I8MM)) harness_check(sam2r_isa_supported(SAM2R_ISA_DOTPROD), "i8mm implies dotprod");
    if (sam2r_isa_supported(SAM2R_ISA_DOTPROD)) harness_check(sam2r_isa_supported(SAM2R_ISA_NEON), "dotprod implies neon");
    if (sam2r_isa_supported(SAM2R_ISA_AVXVNNI)) harness_check(sam2r_isa_supported(SAM2R_ISA_AVX2), "avxvnni implies avx2");

    /* Forcing: an unsupported variant is refused and leaves the active one unchanged. */
    sam2r_isa before = sam2r_isa_active();
    for (int i = 0; i < SAM2R_ISA_COUNT; i++) {
        if (sam2r_isa_supported((sam2r_isa)i)) continue;
        harness_check(sam2r_isa_force((sam2r_isa)i) == -1, "forcing unsupported %s refused", sam2r_isa_name((sam2r_isa)i));
        harness_check(sam2r_isa_active() == before, "active isa unchanged after refused force");
    }
    harness_check(sam2r_isa_force(SAM2R_ISA_SCALAR) == 0 && sam2r_isa_active() == SAM2R_ISA_SCALAR, "force scalar");
    harness_check(sam2r_isa_force(before) == 0 && sam2r_isa_active() == before, "restore active isa");

    /* Every supported variant has every kernel family (possibly through a documented fallback). */
    for (int i = 0; i < SAM2R_ISA_COUNT; i++) {
        if (!sam2r_isa_supported((sam2r_isa)i)) continue;
        harness_check(sam2r_gemm_s8_ukernel_for((sam2r_isa)i) != NULL, "gemm_s8 kernel for %s", sam2r_isa_name((sam2r_isa)i));
        harness_check(sam2r_gemm_f32_ukernel_for((sam2r_isa)i) != NULL, "gemm_f32 kernel for %s", sam2r_isa_name((sam2r_isa)i));
        harness_check(sam2r_rowops_for((sam2r_isa)i) != NULL, "rowops for %s", sam2r_isa_name((sam2r_isa)i));
    }
}
