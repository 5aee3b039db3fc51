// sam2r_alloccount.h — heap allocation counters of libsam2r-alloccount.so (LD_PRELOAD only).
// `sam2r bench` never links this library: it looks the symbols up with dlsym(RTLD_DEFAULT, …) and,
// when they are absent, re-executes itself with LD_PRELOAD pointing at the library.
#ifndef SAM2R_ALLOCCOUNT_H
#define SAM2R_ALLOCCOUNT_H
#include <stdint.h>

/// Successful allocations since process start: malloc, calloc, realloc (every call that returns
/// memory, moved or not), posix_memalign, aligned_alloc, memalign, valloc, pvalloc. All threads.
uint64_t sam2r_alloccount_allocations(void);
/// free / realloc(p, 0) calls with a non-null pointer.
uint64_t sam2r_alloccount_frees(void);
/// Bytes requested by the counted allocations.
uint64_t sam2r_alloccount_bytes(void);

/// Nonzero: print every counted allocation (size + backtrace) to stderr until called with 0.
void sam2r_alloccount_trace(int on);

#endif
