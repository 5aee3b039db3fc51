# `make bench-avx2-mac`: register-only GMAC/s of the int8 multiply-accumulate sequences AVX2 offers without
# VNNI, and of fp32 FMA (Tests/KernelBench/bench_avx2_mac.c; BENCHMARKS.md "AVX2-only host"). x86-64 only.
# The sequences the kernels use are timed by the kernels' own peak loops (Kernels/x86/peak_x86.c).
# Included by the top Makefile.

$(BUILD)/bench-avx2-mac: $(KERNEL_SRC) $(KERNEL_HDR) Tests/KernelBench/bench_avx2_mac.c
	@mkdir -p $(BUILD)
	$(KERNEL_BENCH_CC) $(KERNEL_BENCH_CFLAGS) -o $@ $(KERNEL_SRC) Tests/KernelBench/bench_avx2_mac.c -lpthread -lm

.PHONY: bench-avx2-mac
bench-avx2-mac: $(BUILD)/bench-avx2-mac
	$(BUILD)/bench-avx2-mac
