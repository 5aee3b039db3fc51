/* dispatch.c — the only place that reads CPU features and decides which kernel variant runs.
 * x86-64: cpuid + xgetbv (the OS must also save the wider register state).
 * aarch64: getauxval(AT_HWCAP / AT_HWCAP2), as the kernel reports them (and as qemu-user emulates them).
 * SAM2R_ISA forces a variant; an unknown or unsupported request is reported, never executed. */
#include "sam2r_isa.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__aarch64__)
#include <sys/auxv.h>
#endif

static const char *const isa_names[SAM2R_ISA_COUNT] = {
    "scalar", "avx2", "avxvnni", "avx512vnni", "neon", "dotprod", "i8mm",
};

const char *sam2r_isa_name(sam2r_isa isa) {
    return (unsigned)isa < SAM2R_ISA_COUNT ? isa_names[isa] : "unknown";
}

int sam2r_isa_parse(const char *name) {
    if (!name) return -1;
    for (int i = 0; i < SAM2R_ISA_COUNT; i++)
        if (strcmp(name, isa_names[i]) == 0) return i;
    return -1;
}

const char *sam2r_arch_name(void) {
#if defined(__x86_64__)
    return "x86_64";
#elif defined(__aarch64__)
    return "aarch64";
#else
    return "other";
#endif
}

/* ---- feature detection, run once ---- */

static int supported[SAM2R_ISA_COUNT];
static char features[256];

static void add_feature(const char *name) {
    size_t len = strlen(features);
    if (len + strlen(name) + 2 >= sizeof features) return;
    if (len) features[len++] = ' ';
    strcpy(features + len, name);
}

#if defined(__x86_64__)
static unsigned long long read_xcr0(void) {
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static void detect_x86(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    const int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, avx = (c >> 28) & 1;
    unsigned long long xcr0 = osxsave ? read_xcr0() : 0;
    const int os_ymm = (xcr0 & 0x6) == 0x6;            /* XMM and YMM state */
    const int os_zmm = (xcr0 & 0xE6) == 0xE6;          /* + opmask, ZMM_Hi256, Hi16_ZMM */
    unsigned int max_leaf = __get_cpuid_max(0, NULL);
    unsigned int b7 = 0, c7 = 0, a71 = 0;
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        b7 = b; c7 = c;
        __cpuid_count(7, 1, a, b, c, d);
        a71 = a;
    }
    const int avx2 = (b7 >> 5) & 1, avx512f = (b7 >> 16) & 1, avx512dq = (b7 >> 17) & 1;
    const int avx512bw = (b7 >> 30) & 1, avx512vl = (b7 >> 31) & 1;
    const int avx512vnni = (c7 >> 11) & 1, avxvnni = (a71 >> 4) & 1;

    const int has_avx2 = avx && avx2 && fma && os_ymm;
    if (has_avx2) { add_feature("avx2"); add_feature("fma"); }
    if (avxvnni && os_ymm) add_feature("avxvnni");
    if (os_zmm) {
        if (avx512f) add_feature("avx512f");
        if (avx512dq) add_feature("avx512dq");
        if (avx512bw) add_feature("avx512bw");
        if (avx512vl) add_feature("avx512vl");
        if (avx512vnni) add_feature("avx512vnni");
    }
    supported[SAM2R_ISA_AVX2] = has_avx2;
    supported[SAM2R_ISA_AVXVNNI] = has_avx2 && avxvnni;
    supported[SAM2R_ISA_AVX512VNNI] =
        has_avx2 && os_zmm && avx512f && avx512dq && avx512bw && avx512vl && avx512vnni;
}
#endif

#if defined(__aarch64__)
/* Bit numbers from the Linux uapi <asm/hwcap.h>, spelled out so older headers build too. */
#define SAM2R_HWCAP_ASIMD (1UL << 1)
#define SAM2R_HWCAP_ASIMDDP (1UL << 20)
#define SAM2R_HWCAP2_I8MM (1UL << 13)

static void detect_arm(void) {
    unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    const int neon = (hw & SAM2R_HWCAP_ASIMD) != 0;
    const int dot = neon && (hw & SAM2R_HWCAP_ASIMDDP) != 0;
    const int i8mm = dot && (hw2 & SAM2R_HWCAP2_I8MM) != 0;
    if (neon) add_feature("asimd");
    if (hw & SAM2R_HWCAP_ASIMDDP) add_feature("asimddp");
    if (hw2 & SAM2R_HWCAP2_I8MM) add_feature("i8mm");
    supported[SAM2R_ISA_NEON] = neon;
    supported[SAM2R_ISA_DOTPROD] = dot;
    supported[SAM2R_ISA_I8MM] = i8mm;
}
#endif

static sam2r_isa best_isa = SAM2R_ISA_SCALAR;
static sam2r_isa active_isa = SAM2R_ISA_SCALAR;
static const char *env_error;
static char env_error_buf[320];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void detect(void) {
    supported[SAM2R_ISA_SCALAR] = 1;
#if defined(__x86_64__)
    detect_x86();
#elif defined(__aarch64__)
    detect_arm();
#endif
    if (!features[0]) add_feature("none");
    /* Preference order, as XNNPACK's gemm-config: i8mm > dotprod > neon; avx512vnni > avxvnni > avx2. */
    static const sam2r_isa order[] = {SAM2R_ISA_I8MM, SAM2R_ISA_DOTPROD, SAM2R_ISA_NEON,
                                      SAM2R_ISA_AVX512VNNI, SAM2R_ISA_AVXVNNI, SAM2R_ISA_AVX2};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (supported[order[i]]) { best_isa = order[i]; break; }
    active_isa = best_isa;

    const char *req = getenv("SAM2R_ISA");
    if (req && req[0]) {
        int isa = sam2r_isa_parse(req);
        if (isa < 0) {
            snprintf(env_error_buf, sizeof env_error_buf,
                     "SAM2R_ISA=%.40s is not a variant (scalar|avx2|avxvnni|avx512vnni|neon|dotprod|i8mm)", req);
            env_error = env_error_buf;
        } else if (!supported[isa]) {
            snprintf(env_error_buf, sizeof env_error_buf, "SAM2R_ISA=%s is not supported by this CPU (features: %.180s)",
                     isa_names[isa], features);
            env_error = env_error_buf;
        } else {
            active_isa = (sam2r_isa)isa;
        }
    }
}

int sam2r_isa_supported(sam2r_isa isa) {
    pthread_once(&once, detect);
    return (unsigned)isa < SAM2R_ISA_COUNT && supported[isa];
}

sam2r_isa sam2r_isa_best(void) {
    pthread_once(&once, detect);
    return best_isa;
}

sam2r_isa sam2r_isa_active(void) {
    pthread_once(&once, detect);
    return __atomic_load_n(&active_isa, __ATOMIC_ACQUIRE);
}

const char *sam2r_isa_env_error(void) {
    pthread_once(&once, detect);
    return env_error;
}

int sam2r_isa_force(sam2r_isa isa) {
    if (!sam2r_isa_supported(isa)) return -1;
    __atomic_store_n(&active_isa, isa, __ATOMIC_RELEASE);
    return 0;
}

const char *sam2r_cpu_features(void) {
    pthread_once(&once, detect);
    return features;
}
