/* f16.c — sam2r_f16.h: the scalar binary16 conversions (the definition) and the choice of their vector
 * twins. */
#include "sam2r_f16.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

/* A vector twin of the scalar converters (x86/f16_convert_f16c.c, arm/f16_convert_neon.c). */
typedef struct {
    void (*widen)(const uint16_t *x, float *y, size_t n);
    void (*narrow)(const float *x, uint16_t *y, size_t n);
} f16_converters;

#if defined(__x86_64__)
void sam2r_f16_to_f32_n_f16c(const uint16_t *x, float *y, size_t n);
void sam2r_f32_to_f16_n_f16c(const float *x, uint16_t *y, size_t n);
static const f16_converters f16c = {sam2r_f16_to_f32_n_f16c, sam2r_f32_to_f16_n_f16c};
#endif
#if defined(__aarch64__)
void sam2r_f16_to_f32_n_neon(const uint16_t *x, float *y, size_t n);
void sam2r_f32_to_f16_n_neon(const float *x, uint16_t *y, size_t n);
static const f16_converters neon = {sam2r_f16_to_f32_n_neon, sam2r_f32_to_f16_n_neon};
#endif

float sam2r_f16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    uint32_t bits;
    if (e == 0x1f)
        bits = sign | 0x7f800000u | m << 13 | (m ? 0x00400000u : 0);
    else if (e)
        bits = sign | (e + 112) << 23 | m << 13;   /* rebias 15 -> 127 */
    else if (m) {
        /* m * 2^-24: shift the leading 1 up to the implicit bit, lowering the exponent as it goes */
        const int s = __builtin_clz(m) - 21;
        bits = sign | (uint32_t)(113 - s) << 23 | ((m << s) & 0x3ffu) << 13;
    } else
        bits = sign;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

uint16_t sam2r_f32_to_f16(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    const uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    const uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | (a & 0x7fffffu) >> 13);
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);   /* >= 65520, inf included */
    if (a >= 0x38800000u) {                                     /* >= 2^-14: an fp16 normal */
        /* rebias, then round off 13 mantissa bits; a carry into the exponent is the right result */
        const uint32_t r = a - (112u << 23);
        return (uint16_t)(sign | (r + 0xfffu + ((r >> 13) & 1)) >> 13);
    }
    if (a < 0x33000000u) return sign;   /* below 2^-25, half the smallest subnormal (which ties to 0) */
    /* fp16 subnormal: the value in units of 2^-24 is mant * 2^(e - 126), 14 <= 126 - e <= 24 */
    const uint32_t mant = 0x800000u | (a & 0x7fffffu);
    const int shift = 126 - (int)(a >> 23);
    const uint32_t q = mant >> shift, rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    return (uint16_t)(sign | (q + (rem > half || (rem == half && (q & 1)))));
}

#if defined(__x86_64__)
/* F16C is not part of any sam2r_isa level; the AVX2 levels do guarantee the OS saves YMM state, which
 * its VEX encoding needs. cpuid can trap under a hypervisor, so it is asked once. */
static int has_f16c(void) {
    static int cached = -1;
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v < 0) {
        unsigned int a, b, c, d;
        v = __get_cpuid(1, &a, &b, &c, &d) && ((c >> 29) & 1);
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return v;
}
#endif

/* `isa`'s vector converters (F16C on the x86 levels when the CPU has it, FCVTL / FCVTN on every aarch64
 * level), or NULL: the scalar ones. */
static const f16_converters *vector_converters(sam2r_isa isa) {
#if defined(__x86_64__)
    const int avx2_level = isa == SAM2R_ISA_AVX2 || isa == SAM2R_ISA_AVXVNNI || isa == SAM2R_ISA_AVX512VNNI;
    return avx2_level && has_f16c() ? &f16c : NULL;
#elif defined(__aarch64__)
    return isa == SAM2R_ISA_NEON || isa == SAM2R_ISA_DOTPROD || isa == SAM2R_ISA_I8MM ? &neon : NULL;
#else
    (void)isa;
    return NULL;
#endif
}

int sam2r_f16_vector_supported(sam2r_isa isa) { return vector_converters(isa) != NULL; }

void sam2r_f16_to_f32_n(sam2r_isa isa, const uint16_t *x, float *y, size_t n) {
    const f16_converters *v = vector_converters(isa);
    if (v) {
        v->widen(x, y, n);
        return;
    }
    for (size_t i = 0; i < n; i++) y[i] = sam2r_f16_to_f32(x[i]);
}

void sam2r_f32_to_f16_n(sam2r_isa isa, const float *x, uint16_t *y, size_t n) {
    const f16_converters *v = vector_converters(isa);
    if (v) {
        v->narrow(x, y, n);
        return;
    }
    for (size_t i = 0; i < n; i++) y[i] = sam2r_f32_to_f16(x[i]);
}
