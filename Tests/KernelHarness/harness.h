/* harness.h — the one kernel test harness: every variant the CPU (or qemu's CPU) supports is run
 * against the scalar reference with tolerance 0 — integer and float outputs alike (the float kernels
 * follow one canonical operation sequence, docs/numerics.md). The scalar references themselves are
 * checked against double-precision formulas within the NMSE bound each test states. Built natively by the Makefile and cross-compiled for aarch64. */
#ifndef SAM2R_HARNESS_H
#define SAM2R_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include "sam2r_kernels.h"

/* Records one check. `what` names the case (kernel, variant, shape) for the failure message. */
void harness_check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Deterministic generator (splitmix64). */
typedef struct { uint64_t s; } harness_rng;
uint64_t harness_next(harness_rng *r);
int32_t harness_int(harness_rng *r, int32_t lo, int32_t hi);       /* uniform in [lo, hi] */
float harness_float(harness_rng *r, float lo, float hi);

/* Normalized mean squared error: sum (ref - got)^2 / max(sum ref^2, tiny). */
double harness_nmse(const float *ref, const float *got, size_t n);

/* Elements of the rows x cols part of two ld-strided float matrices whose bits differ (floats the
 * canonical numerics of docs/numerics.md must reproduce exactly); *max_abs gets the largest |a - b|. */
size_t harness_bitdiff(const float *a, const float *b, int32_t rows, int32_t cols, int32_t ld, double *max_abs);

/* 64-byte aligned allocation for test buffers (the harness may allocate; kernels never do). */
void *harness_alloc(size_t bytes);

/* Shapes every GEMM test draws M, N, K from. */
extern const int32_t harness_dims[];
extern const int harness_dims_count;

/* 1 when running under a slower emulator (HARNESS_QUICK=1): tests shrink their largest shapes. */
int harness_quick(void);

/* Variants this CPU supports, scalar excluded, in sam2r_isa order. Returns how many. */
int harness_variants(sam2r_isa out[SAM2R_ISA_COUNT]);

/* Test suites: each returns nothing and reports through harness_check. */
void test_pool(void);
void test_dispatch(void);
void test_gemm_s8(void);
void test_gemm_f32(void);
void test_gemm_f16w(void);
void test_rowops(void);
void test_softmax_short(void);
void test_decoder_i2t(void);
void test_attention(void);
void test_attention_s8(void);
void test_conv(void);
void test_resize(void);
void test_decoder_tail(void);

#endif
