/* gemm_f16w.c — fp32 GEMM over binary16 weights: the conversions, packing, and the driver that widens one
 * weight panel at a time into a per-worker scratch and hands it to the fp32 micro-kernel. Numerics in
 * sam2r_gemm_f16w.h. */
#include "sam2r_gemm_f16w.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
void sam2r_f16_to_f32_n_f16c(const uint16_t *x, float *y, size_t n);
void sam2r_f32_to_f16_n_f16c(const float *x, uint16_t *y, size_t n);
#endif
#if defined(__aarch64__)
void sam2r_f16_to_f32_n_neon(const uint16_t *x, float *y, size_t n);
void sam2r_f32_to_f16_n_neon(const float *x, uint16_t *y, size_t n);
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

/* Whether `isa`'s converters are the vector ones (F16C on the x86 levels when the CPU has it, FCVTL /
 * FCVTN on every aarch64 level); the scalar ones otherwise. */
static int vector_converters(sam2r_isa isa) {
#if defined(__x86_64__)
    return (isa == SAM2R_ISA_AVX2 || isa == SAM2R_ISA_AVXVNNI || isa == SAM2R_ISA_AVX512VNNI) && has_f16c();
#elif defined(__aarch64__)
    return isa == SAM2R_ISA_NEON || isa == SAM2R_ISA_DOTPROD || isa == SAM2R_ISA_I8MM;
#else
    (void)isa;
    return 0;
#endif
}

void sam2r_f16_to_f32_n(sam2r_isa isa, const uint16_t *x, float *y, size_t n) {
    if (vector_converters(isa)) {
#if defined(__x86_64__)
        sam2r_f16_to_f32_n_f16c(x, y, n);
#elif defined(__aarch64__)
        sam2r_f16_to_f32_n_neon(x, y, n);
#endif
        return;
    }
    for (size_t i = 0; i < n; i++) y[i] = sam2r_f16_to_f32(x[i]);
}

void sam2r_f32_to_f16_n(sam2r_isa isa, const float *x, uint16_t *y, size_t n) {
    if (vector_converters(isa)) {
#if defined(__x86_64__)
        sam2r_f32_to_f16_n_f16c(x, y, n);
#elif defined(__aarch64__)
        sam2r_f32_to_f16_n_neon(x, y, n);
#endif
        return;
    }
    for (size_t i = 0; i < n; i++) y[i] = sam2r_f32_to_f16(x[i]);
}

size_t sam2r_pack_f16_size(int32_t n, int32_t k, int32_t nr) {
    const size_t panels = ((size_t)n + (size_t)nr - 1) / (size_t)nr;
    return panels * (size_t)k * (size_t)nr * sizeof(uint16_t);
}

void sam2r_pack_f16(const uint16_t *w, int32_t ldw, int32_t n, int32_t k, int32_t nr, sam2r_packed_f16 *out) {
    out->n = n;
    out->k = k;
    out->nr = nr;
    uint16_t *d = out->data;
    for (int32_t nb = 0; nb < n; nb += nr) {
        const int32_t nv = n - nb < nr ? n - nb : nr;
        for (int32_t kk = 0; kk < k; kk++) {
            for (int32_t j = 0; j < nv; j++) d[j] = w[(size_t)(nb + j) * (size_t)ldw + (size_t)kk];
            for (int32_t j = nv; j < nr; j++) d[j] = 0;
            d += nr;
        }
    }
}

size_t sam2r_gemm_f16w_scratch_floats(const sam2r_gemm_f32_ukernel *uk, int32_t k, int32_t threads) {
    return (size_t)(threads > 1 ? threads : 1) * (size_t)uk->nr * (size_t)k;
}

typedef struct {
    const sam2r_gemm_f32_ukernel *uk;
    const sam2r_gemm_f16w_args *args;
    float *scratch;
} gemm_f16w_job;

/* One task per panel: a panel is k x nr x m MACs (a few hundred thousand in the decoder's GEMMs), far
 * more than claiming it costs, and the finest split balances the threads best. A worker's scratch is
 * nr * k floats from a 64-byte aligned base, the alignment a panel of sam2r_pack_f32's layout has. */
static void gemm_f16w_task(void *ctx, int32_t panel, int32_t worker) {
    const gemm_f16w_job *j = (const gemm_f16w_job *)ctx;
    const sam2r_gemm_f16w_args *p = j->args;
    const int32_t nr = j->uk->nr, k = p->k, n0 = panel * nr;
    const int32_t cols = p->n - n0 < nr ? p->n - n0 : nr;
    const size_t elems = (size_t)nr * (size_t)k;
    float *wide = j->scratch + (size_t)worker * elems;
    sam2r_f16_to_f32_n(j->uk->isa, p->w->data + (size_t)panel * elems, wide, elems);
    const sam2r_packed_f32 w = {cols, k, nr, wide};
    const sam2r_gemm_f32_args a = {p->m, cols, k, p->a, p->lda, &w, p->bias ? p->bias + n0 : NULL, p->c + n0, p->ldc};
    j->uk->rect(&a, 0, p->m, 0, cols);
}

void sam2r_gemm_f16w(const sam2r_gemm_f32_ukernel *uk, const sam2r_gemm_f16w_args *args, float *scratch,
                     sam2r_pool *pool) {
    gemm_f16w_job job = {uk, args, scratch};
    const int32_t panels = (args->n + uk->nr - 1) / uk->nr;
    /* the threshold of sam2r_gemm_f32: below it waking the pool costs more than it saves */
    const int small = (int64_t)args->m * args->n * args->k < 65536;
    if (sam2r_pool_threads(pool) <= 1 || panels == 1 || small) {
        for (int32_t q = 0; q < panels; q++) gemm_f16w_task(&job, q, 0);
        return;
    }
    sam2r_pool_run(pool, gemm_f16w_task, &job, panels);
}
