/* sam2r_isa.h — instruction-set variants and the one place that chooses among them.
 *
 * Every kernel family (gemm_s8, gemm_f32, rowops) exists as a portable scalar reference plus
 * SIMD variants compiled with per-function __attribute__((target(...))). Which variant runs is
 * decided once, in dispatch.c, from cpuid (x86: __builtin_cpu_supports) or getauxval HWCAP/HWCAP2
 * (aarch64). The environment variable SAM2R_ISA=scalar|avx2|avxvnni|avx512vnni|neon|dotprod|i8mm
 * forces a variant; asking for one this CPU cannot run is reported as an error, never executed.
 */
#ifndef SAM2R_ISA_H
#define SAM2R_ISA_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sam2r_isa {
    SAM2R_ISA_SCALAR = 0,
    SAM2R_ISA_AVX2 = 1,        /* AVX2 + FMA */
    SAM2R_ISA_AVXVNNI = 2,     /* AVX-VNNI (VEX, 256-bit vpdpbusd) + AVX2 + FMA */
    SAM2R_ISA_AVX512VNNI = 3,  /* AVX-512 F/BW/VL + VNNI */
    SAM2R_ISA_NEON = 4,        /* aarch64 Advanced SIMD (Cortex-A72 class, no dot product) */
    SAM2R_ISA_DOTPROD = 5,     /* + SDOT (Armv8.2 dotprod: Cortex-A76/A78, Neoverse-N1) */
    SAM2R_ISA_I8MM = 6,        /* + SMMLA (Armv8.6 i8mm: Neoverse-N2/V1+, Cortex-A710+) */
    SAM2R_ISA_COUNT = 7
} sam2r_isa;

/* Lower-case name as accepted by SAM2R_ISA ("scalar", "avx2", ...). */
const char *sam2r_isa_name(sam2r_isa isa);

/* Parses a name; returns -1 when the name is unknown. */
int sam2r_isa_parse(const char *name);

/* 1 when this build contains the variant and this CPU (and OS) can execute it. */
int sam2r_isa_supported(sam2r_isa isa);

/* The best variant this CPU supports, ignoring SAM2R_ISA. */
sam2r_isa sam2r_isa_best(void);

/* The variant kernels use: SAM2R_ISA if set and supported, else sam2r_isa_best().
 * Decided on first call and cached. If SAM2R_ISA names an unknown or unsupported variant,
 * this returns the best variant and sam2r_isa_env_error() returns a message. */
sam2r_isa sam2r_isa_active(void);

/* NULL when SAM2R_ISA is unset or valid; otherwise a static one-line explanation. */
const char *sam2r_isa_env_error(void);

/* Overrides the active variant (tests, `--isa`). Returns 0 on success, -1 if unsupported. */
int sam2r_isa_force(sam2r_isa isa);

/* Human-readable list of detected CPU features relevant to the kernels, e.g.
 * "avx2 fma avx512f avx512bw avx512vl avx512vnni". Static storage. */
const char *sam2r_cpu_features(void);

/* Name of the CPU architecture this library was compiled for: "x86_64", "aarch64" or "other". */
const char *sam2r_arch_name(void);

#ifdef __cplusplus
}
#endif
#endif
