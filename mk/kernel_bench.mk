# Kernel benchmarks (Tests/KernelBench/bench_<name>.c, built like the product: KERNEL_BENCH_CC / _CFLAGS in the
# top Makefile, which includes this file). `make bench-<name> <NAME>_ARGS="..."`; SAM2R_ISA=<variant> picks one.
#   bench-attention     fp32 vs int8 flash attention on Hiera's global shape (nq = nk = 4096, 4 heads, d 96,
#                       1 thread); ATTN_BENCH_ARGS="nq nk heads d threads"
#   bench-decoder-tail  the mask decoder's fused upscaling tail vs the unfused passes, SAM2's 1024² shape;
#                       DEC_TAIL_BENCH_ARGS="threads"
#   bench-decoder-i2t   the mask decoder's image -> token pass, SAM2's 1024² shape; DEC_I2T_BENCH_ARGS="k threads"
#                       (default 256 1; k 128 is layer 0's cached query projection)
#   bench-gemm-f16w     fp32 GEMM over binary16 weights on the decoder's token-side shapes (m tokens against
#                       256 -> 2048 -> 256 and 256 x 256): the micro-kernel's binary16 twin vs widening panels into
#                       a scratch; GEMM_F16W_BENCH_ARGS="m threads" (default 8 1)
#   bench-avx2-mac      register-only GMAC/s of the int8 multiply-accumulate sequences AVX2 offers without VNNI,
#                       and of fp32 FMA (BENCHMARKS.md "AVX2-only host"); x86-64 only. The sequences the kernels
#                       use are timed by the kernels' own peak loops (Kernels/x86/peak_x86.c)

# $(1) the name after bench-, $(2) the variable holding its arguments.
define KERNEL_BENCH
$(2) ?=
$$(BUILD)/bench-$(1): $$(KERNEL_SRC) $$(KERNEL_HDR) Tests/KernelBench/bench_$(subst -,_,$(1)).c \
                      Tests/KernelBench/bench_util.h
	@mkdir -p $$(BUILD)
	$$(KERNEL_BENCH_CC) $$(KERNEL_BENCH_CFLAGS) -o $$@ $$(KERNEL_SRC) \
	  Tests/KernelBench/bench_$(subst -,_,$(1)).c -lpthread -lm

.PHONY: bench-$(1)
bench-$(1): $$(BUILD)/bench-$(1)
	$$(BUILD)/bench-$(1) $$($(2))
endef

$(eval $(call KERNEL_BENCH,attention,ATTN_BENCH_ARGS))
$(eval $(call KERNEL_BENCH,decoder-tail,DEC_TAIL_BENCH_ARGS))
$(eval $(call KERNEL_BENCH,decoder-i2t,DEC_I2T_BENCH_ARGS))
$(eval $(call KERNEL_BENCH,gemm-f16w,GEMM_F16W_BENCH_ARGS))
$(eval $(call KERNEL_BENCH,avx2-mac,AVX2_MAC_BENCH_ARGS))
