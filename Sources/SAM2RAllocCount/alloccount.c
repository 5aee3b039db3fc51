// alloccount.c — an LD_PRELOAD malloc interposer that counts heap allocations (for `sam2r bench`).
//
// Every allocation entry point forwards to the next definition (glibc's) found with dlsym(RTLD_NEXT)
// and bumps relaxed atomic counters. dlsym itself may allocate (dlerror buffers) before the real
// functions are known: those few requests are served from a static bootstrap buffer, and free()
// ignores pointers inside it. Built as the dynamic library product `sam2r-alloccount`.
#define _GNU_SOURCE
#include "sam2r_alloccount.h"

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <stdio.h>
#include <unistd.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_pvalloc)(size_t);

static uint64_t n_alloc, n_free, n_bytes;

// Bootstrap: requests made while dlsym runs (single-threaded, at load time).
static _Alignas(64) unsigned char boot[16384];
static size_t boot_used;
static int resolving;

static int in_boot(const void *p) {
    return (const unsigned char *)p >= boot && (const unsigned char *)p < boot + sizeof boot;
}

static void *boot_alloc(size_t n, size_t align) {
    if (align < 16) align = 16;
    size_t off = (boot_used + align - 1) & ~(align - 1);
    if (off + n > sizeof boot) return NULL;
    boot_used = off + n;
    return boot + off;
}

static void resolve(void) {
    if (real_malloc || resolving) return;
    resolving = 1;
    real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    real_posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
    real_memalign = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
    real_valloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "valloc");
    real_pvalloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "pvalloc");
    void *m = dlsym(RTLD_NEXT, "malloc");
    __atomic_store_n(&real_malloc, (void *(*)(size_t))m, __ATOMIC_RELEASE);
    resolving = 0;
}

__attribute__((constructor)) static void init(void) { resolve(); }

// Tracing: while on, every counted allocation prints its size and a backtrace to stderr (backtrace_symbols_fd does
// not allocate; backtrace() loads libgcc_s on first use, so sam2r_alloccount_trace(1) warms it up first).
static int trace_on;
static __thread int in_trace;

void sam2r_alloccount_trace(int on) {
    if (on) {
        void *bt[2];
        in_trace = 1;
        backtrace(bt, 2);
        in_trace = 0;
    }
    __atomic_store_n(&trace_on, on, __ATOMIC_RELEASE);
}

static void trace(size_t n) {
    if (in_trace || !__atomic_load_n(&trace_on, __ATOMIC_ACQUIRE)) return;
    in_trace = 1;
    char line[80];
    int len = snprintf(line, sizeof line, "sam2r-alloccount: allocation of %zu bytes\n", n);
    if (len > 0) (void)!write(2, line, (size_t)len);
    void *bt[32];
    int k = backtrace(bt, 32);
    backtrace_symbols_fd(bt + 2, k > 2 ? k - 2 : 0, 2);
    in_trace = 0;
}

static inline void counted(void *p, size_t n) {
    if (p) {
        __atomic_fetch_add(&n_alloc, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&n_bytes, (uint64_t)n, __ATOMIC_RELAXED);
        trace(n);
    }
}

uint64_t sam2r_alloccount_allocations(void) { return __atomic_load_n(&n_alloc, __ATOMIC_RELAXED); }
uint64_t sam2r_alloccount_frees(void) { return __atomic_load_n(&n_free, __ATOMIC_RELAXED); }
uint64_t sam2r_alloccount_bytes(void) { return __atomic_load_n(&n_bytes, __ATOMIC_RELAXED); }

void *malloc(size_t n) {
    resolve();
    if (!real_malloc) return boot_alloc(n, 16);
    void *p = real_malloc(n);
    counted(p, n);
    return p;
}

void *calloc(size_t a, size_t b) {
    resolve();
    if (!real_calloc) {
        if (b && a > SIZE_MAX / b) return NULL;
        return boot_alloc(a * b, 16);  // static storage is zeroed
    }
    void *p = real_calloc(a, b);
    counted(p, a * b);
    return p;
}

void free(void *p) {
    if (!p || in_boot(p)) return;
    resolve();
    __atomic_fetch_add(&n_free, 1, __ATOMIC_RELAXED);
    real_free(p);
}

void *realloc(void *p, size_t n) {
    resolve();
    if (in_boot(p)) {  // move out of the bootstrap buffer
        void *q = malloc(n);
        if (q) memcpy(q, p, n < (size_t)(boot + sizeof boot - (unsigned char *)p) ? n : (size_t)(boot + sizeof boot - (unsigned char *)p));
        return q;
    }
    if (!real_realloc) return boot_alloc(n, 16);
    if (p && n == 0) __atomic_fetch_add(&n_free, 1, __ATOMIC_RELAXED);
    void *q = real_realloc(p, n);
    if (n) counted(q, n);
    return q;
}

int posix_memalign(void **out, size_t align, size_t n) {
    resolve();
    if (!real_posix_memalign) {
        *out = boot_alloc(n, align);
        return *out ? 0 : ENOMEM;
    }
    int rc = real_posix_memalign(out, align, n);
    if (rc == 0) counted(*out, n);
    return rc;
}

void *aligned_alloc(size_t align, size_t n) {
    resolve();
    if (!real_aligned_alloc) return boot_alloc(n, align);
    void *p = real_aligned_alloc(align, n);
    counted(p, n);
    return p;
}

void *memalign(size_t align, size_t n) {
    resolve();
    if (!real_memalign) return boot_alloc(n, align);
    void *p = real_memalign(align, n);
    counted(p, n);
    return p;
}

void *valloc(size_t n) {
    resolve();
    if (!real_valloc) return boot_alloc(n, 4096);
    void *p = real_valloc(n);
    counted(p, n);
    return p;
}

void *pvalloc(size_t n) {
    resolve();
    if (!real_pvalloc) return boot_alloc(n, 4096);
    void *p = real_pvalloc(n);
    counted(p, n);
    return p;
}
