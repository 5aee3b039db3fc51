# `make bench-avx2-mac`: register-only GMAC/s of the int8 multiply-accumulate sequences AVX2 offers without
# VNNI, and of fp32 FMA (Tests/KernelBench/bench_avx2_mac.c; BENCHMARKS.md "AVX2-only host"). x86-64 only.
# Included by the top Makefile.

$(BUILD)/bench-avx2-mac: Tests/KernelBench/bench_avx2_mac.c
	@mkdir -p $(BUILD)
	$(CC_NATIVE) -O2 -std=gnu11 -Wall -Wextra -o $@ Tests/KernelBench/bench_avx2_mac.c

.PHONY: bench-avx2-mac
bench-avx2-mac: $(BUILD)/bench-avx2-mac
	$(BUILD)/bench-avx2-mac
