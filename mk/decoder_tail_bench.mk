# `make bench-decoder-tail`: the mask decoder's fused upscaling tail vs the unfused passes on SAM2's 1024²
# shape (Tests/KernelBench/bench_decoder_tail.c). Included by the top Makefile. DEC_TAIL_BENCH_ARGS="threads";
# SAM2R_ISA=<variant> picks the row ops.
DEC_TAIL_BENCH_ARGS ?=

$(BUILD)/bench-decoder-tail: $(KERNEL_SRC) $(KERNEL_HDR) Tests/KernelBench/bench_decoder_tail.c Tests/KernelBench/bench_util.h
	@mkdir -p $(BUILD)
	$(KERNEL_BENCH_CC) $(KERNEL_BENCH_CFLAGS) -o $@ $(KERNEL_SRC) \
	  Tests/KernelBench/bench_decoder_tail.c -lpthread -lm

.PHONY: bench-decoder-tail
bench-decoder-tail: $(BUILD)/bench-decoder-tail
	$(BUILD)/bench-decoder-tail $(DEC_TAIL_BENCH_ARGS)
