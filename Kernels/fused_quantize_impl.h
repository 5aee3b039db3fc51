/* fused_quantize_impl.h — the last step every fused producer + quantize op shares (rowops_par.c,
 * decoder_tail.c): quantize a piece of the producer's fp32 output from its L1 scratch, noting the
 * smallest flat index of a NaN among the quantize inputs (the unfused quantize rejects a NaN; Inf just
 * clamps). Internal to the kernels: static inline, so each user compiles its own copy. */
#ifndef SAM2R_FUSED_QUANTIZE_IMPL_H
#define SAM2R_FUSED_QUANTIZE_IMPL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "sam2r_rowops.h"

/* Exponent all ones <=> NaN or Inf. An integer OR reduction without an early exit, so the compiler
 * vectorizes it (a float sum would not be, nor an early-exit loop). */
static inline int sam2r_any_nonfinite(const float *x, size_t n) {
    uint32_t any = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, x + i, sizeof b);
        any |= (uint32_t)((b & 0x7f800000u) == 0x7f800000u);
    }
    return any != 0;
}

/* Lowers *first_nan (-1: none yet) to `index`: a NaN was met at that flat index of the quantize input. */
static inline void sam2r_note_nan(atomic_llong *first_nan, long long index) {
    long long cur = atomic_load_explicit(first_nan, memory_order_relaxed);
    while ((cur < 0 || index < cur) &&
           !atomic_compare_exchange_weak_explicit(first_nan, &cur, index, memory_order_relaxed, memory_order_relaxed)) {
    }
}

/* Quantizes m floats of scratch s into q with ops->quantize_s8; `flat` is s[0]'s index in the whole
 * (logical) quantize input. Only a piece flagged non-finite is searched for a NaN. */
static inline void sam2r_quantize_piece(const sam2r_rowops *ops, atomic_llong *first_nan, const float *s, int8_t *q,
                                        size_t m, size_t flat, float inv_scale, int32_t zero_point) {
    if (sam2r_any_nonfinite(s, m)) {
        for (size_t i = 0; i < m; i++) {
            if (s[i] != s[i]) {
                sam2r_note_nan(first_nan, (long long)(flat + i));
                break;
            }
        }
    }
    ops->quantize_s8(s, q, m, inv_scale, zero_point);
}

#endif
