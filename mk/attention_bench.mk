# `make bench-attention`: fp32 vs int8 flash attention GMAC/s on Hiera's global-attention shape
# (Tests/KernelBench/bench_attention.c; nq = nk = 4096, 4 heads, head dim 96, 1 thread). Included by
# the top Makefile. ATTN_BENCH_ARGS="nq nk heads d threads" changes the shape; SAM2R_ISA=<variant> picks one.
ATTN_BENCH_ARGS ?=

$(BUILD)/bench-attention: $(KERNEL_SRC) $(KERNEL_HDR) Tests/KernelBench/bench_attention.c
	@mkdir -p $(BUILD)
	$(KERNEL_BENCH_CC) $(KERNEL_BENCH_CFLAGS) -o $@ $(KERNEL_SRC) \
	  Tests/KernelBench/bench_attention.c -lpthread -lm

.PHONY: bench-attention
bench-attention: $(BUILD)/bench-attention
	$(BUILD)/bench-attention $(ATTN_BENCH_ARGS)
