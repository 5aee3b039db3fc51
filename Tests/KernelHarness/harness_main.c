/* harness_main.c — entry point: prints the CPU and the dispatcher's choices, runs every suite,
 * ends with the plain "N passed, N failed" line CI reads. Exit status 1 on any failure. */
#include "harness.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long passed, failed;

void harness_check(int ok, const char *fmt, ...) {
    if (ok) { passed++; return; }
    failed++;
    if (failed <= 50) {
        va_list ap;
        va_start(ap, fmt);
        fputs("FAIL: ", stdout);
        vprintf(fmt, ap);
        fputc('\n', stdout);
        va_end(ap);
    }
}

uint64_t harness_next(harness_rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int32_t harness_int(harness_rng *r, int32_t lo, int32_t hi) {
    uint64_t span = (uint64_t)((int64_t)hi - (int64_t)lo + 1);
    return (int32_t)((int64_t)lo + (int64_t)(harness_next(r) % span));
}

float harness_float(harness_rng *r, float lo, float hi) {
    double u = (double)(harness_next(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(lo + (hi - lo) * u);
}

double harness_nmse(const float *ref, const float *got, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)ref[i] - (double)got[i];
        num += d * d;
        den += (double)ref[i] * (double)ref[i];
    }
    return num / (den > 1e-30 ? den : 1e-30);
}

size_t harness_bitdiff(const float *a, const float *b, int32_t rows, int32_t cols, int32_t ld, double *max_abs) {
    size_t n = 0;
    double m = 0;
    for (int32_t r = 0; r < rows; r++)
        for (int32_t i = 0; i < cols; i++) {
            const float x = a[(size_t)r * ld + i], y = b[(size_t)r * ld + i];
            if (memcmp(&x, &y, sizeof x) == 0) continue;
            n++;
            const double d = fabs((double)x - (double)y);
            m = d > m || d != d ? d : m;
        }
    *max_abs = m;
    return n;
}

void *harness_alloc(size_t bytes) {
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0) { fputs("out of memory\n", stderr); exit(2); }
    memset(p, 0, bytes);
    return p;
}

const int32_t harness_dims[] = {1, 3, 7, 16, 17, 63, 64, 65, 127, 384, 1000};
const int harness_dims_count = (int)(sizeof harness_dims / sizeof harness_dims[0]);

int harness_quick(void) {
    const char *q = getenv("HARNESS_QUICK");
    return q && q[0] == '1';
}

int harness_variants(sam2r_isa out[SAM2R_ISA_COUNT]) {
    int n = 0;
    for (int i = 1; i < SAM2R_ISA_COUNT; i++)
        if (sam2r_isa_supported((sam2r_isa)i)) out[n++] = (sam2r_isa)i;
    return n;
}

int main(int argc, char **argv) {
    const char *cpu_label = argc > 1 ? argv[1] : "native";
    if (sam2r_isa_env_error()) {
        printf("error: %s\n", sam2r_isa_env_error());
        return 2;
    }
    sam2r_isa active = sam2r_isa_active();
    printf("cpu %s (%s): features [%s]\n", cpu_label, sam2r_arch_name(), sam2r_cpu_features());
    printf("dispatcher chose: %s (gemm_s8 %s, gemm_f32 %s, rowops %s)\n", sam2r_isa_name(active),
           sam2r_gemm_s8_ukernel_for(active) ? sam2r_gemm_s8_ukernel_for(active)->name : "none",
           sam2r_gemm_f32_ukernel_for(active) ? sam2r_gemm_f32_ukernel_for(active)->name : "none",
           sam2r_rowops_for(active) ? sam2r_rowops_for(active)->name : "none");
    sam2r_isa vars[SAM2R_ISA_COUNT];
    int nv = harness_variants(vars);
    printf("variants tested against scalar:");
    for (int i = 0; i < nv; i++) printf(" %s", sam2r_isa_name(vars[i]));
    printf("%s\n", nv ? "" : " (none: scalar only)");
    fflush(stdout);

    struct { const char *name; void (*run)(void); } suites[] = {
        {"dispatch", test_dispatch}, {"pool", test_pool}, {"gemm_s8", test_gemm_s8},
        {"gemm_f32", test_gemm_f32}, {"gemm_f16w", test_gemm_f16w}, {"rowops", test_rowops},
        {"softmax_s", test_softmax_short}, {"dec_i2t", test_decoder_i2t},
        {"attention", test_attention}, {"attn_s8", test_attention_s8}, {"conv", test_conv}, {"resize", test_resize},
        {"dec_tail", test_decoder_tail},
    };
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
        long f0 = failed, p0 = passed;
        suites[i].run();
        printf("%-9s %s  (%ld checks)\n", suites[i].name, failed == f0 ? "ok" : "FAILED",
               (passed - p0) + (failed - f0));
        fflush(stdout);
    }
    printf("harness: %ld passed, %ld failed\n", passed, failed);
    return failed ? 1 : 0;
}
