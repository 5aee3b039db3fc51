# `make bench-decoder-i2t`: the mask decoder's image -> token pass on SAM2's 1024² shape
# (Tests/KernelBench/bench_decoder_i2t.c). Included by the top Makefile. DEC_I2T_BENCH_ARGS="k threads"
# (default 256 1; k 128 is layer 0's cached query projection); SAM2R_ISA=<variant> picks one.
DEC_I2T_BENCH_ARGS ?=

$(BUILD)/bench-decoder-i2t: $(KERNEL_SRC) $(KERNEL_HDR) Tests/KernelBench/bench_decoder_i2t.c Tests/KernelBench/bench_util.h
	@mkdir -p $(BUILD)
	$(KERNEL_BENCH_CC) $(KERNEL_BENCH_CFLAGS) -o $@ $(KERNEL_SRC) \
	  Tests/KernelBench/bench_decoder_i2t.c -lpthread -lm

.PHONY: bench-decoder-i2t
bench-decoder-i2t: $(BUILD)/bench-decoder-i2t
	$(BUILD)/bench-decoder-i2t $(DEC_I2T_BENCH_ARGS)
