# Model benchmark: sam2r vs PyTorch / ONNX Runtime (fp32, int8) on one checkpoint. Included by the top Makefile.
#
#   make bench         release build (own scratch path) + tools/bench/bench.py on $(BENCH_CHECKPOINT): every system at
#                      $(BENCH_THREADS) thread(s), median of $(BENCH_RUNS) after a warm-up, one process per configuration;
#                      writes the table into BENCHMARKS.md between <!-- bench:model:start/end -->. Run on a quiet machine.
#   make bench-quick   the same pipeline on the committed micro model, 1 run, into $(BUILD)/BENCHMARKS.quick.md
#   make bench-model   `sam2r bench` alone (per-stage table) on $(BENCH_CHECKPOINT)
#   make test-bench-cli  Tests/CLI/run_bench_tests.sh on a debug build
#   make bench-sqnr    image-embedding SQNR of ONNX Runtime's int8 encoder (the one `make bench` times) vs PyTorch fp32
#                      on held-out photos, beside sam2r's from $(SQNR_EVAL_JSON) (`sam2r eval --json`) when it exists
#
# The tiny checkpoint is created (make_checkpoint.py, seed $(TINY_SEED)) when missing. Needs the venv (make venv).

OUT_REF          ?= out/reference
BENCH_SCRATCH    ?= .build-bench
BENCH_BIN        := $(BENCH_SCRATCH)/release
BENCH_CHECKPOINT ?= $(OUT_REF)/tiny/checkpoint.pt
BENCH_CONFIG     ?= tiny
BENCH_THREADS    ?= 1 2
BENCH_RUNS       ?= 3
BENCH_OUT        ?= BENCHMARKS.md
BENCH_FLAGS      ?=

.PHONY: bench bench-build bench-quick bench-model test-bench-cli bench-sqnr bench-sam2q

bench-build:
	$(SWIFT_RELEASE) --scratch-path $(BENCH_SCRATCH) --product sam2r
	$(SWIFT_RELEASE) --scratch-path $(BENCH_SCRATCH) --product sam2r-alloccount

# sam2r's int8 model of the bench checkpoint, default settings: calibrate on the 4 calibration photos, quantize.
BENCH_SAM2Q  ?= $(dir $(BENCH_CHECKPOINT))model.sam2q
PHOTOS_DIR   ?= out/photos

$(PHOTOS_DIR)/calib:
	$(PY) tools/bench/export_photos.py $(PHOTOS_DIR)

$(BENCH_SAM2Q): $(BENCH_CHECKPOINT) | bench-build $(PHOTOS_DIR)/calib
	$(BENCH_BIN)/sam2r calibrate --checkpoint $(BENCH_CHECKPOINT) --config $(BENCH_CONFIG) --images $(PHOTOS_DIR)/calib \
	    --quiet --out $(basename $@).table.txt
	$(BENCH_BIN)/sam2r quantize --checkpoint $(BENCH_CHECKPOINT) --config $(BENCH_CONFIG) \
	    --table $(basename $@).table.txt --out $@

bench-sam2q: $(BENCH_SAM2Q)

bench: bench-build
	@test -x $(PY) || { echo "bench: $(PY) missing, run 'make venv' first"; exit 1; }
	@$(MAKE) --no-print-directory bench-sam2q
	$(PY) tools/bench/bench.py --checkpoint $(BENCH_CHECKPOINT) --config $(BENCH_CONFIG) --seed $(TINY_SEED) \
	    --threads $(BENCH_THREADS) --runs $(BENCH_RUNS) --sam2r $(BENCH_BIN)/sam2r --sam2q $(BENCH_SAM2Q) --out $(BENCH_OUT) $(BENCH_FLAGS)

bench-quick: bench-build
	@test -x $(PY) || { echo "bench-quick: $(PY) missing, run 'make venv' first"; exit 1; }
	@mkdir -p $(BUILD)
	$(PY) tools/bench/bench.py --checkpoint $(GOLDEN_DIR)/micro/checkpoint.pt --config micro --quick \
	    --threads $(BENCH_THREADS) --sam2r $(BENCH_BIN)/sam2r --out $(BUILD)/BENCHMARKS.quick.md $(BENCH_FLAGS)

bench-model: bench-build
	$(BENCH_BIN)/sam2r bench --model $(BENCH_CHECKPOINT) --config $(BENCH_CONFIG) --runs $(BENCH_RUNS)

test-bench-cli:
	$(SWIFT) build
	Tests/CLI/run_bench_tests.sh "$$($(SWIFT) build --show-bin-path)/sam2r"

SQNR_EVAL_JSON ?= out/eval/tiny-heldout.json
BENCH_ONNX_DIR ?= out/bench/$(BENCH_CONFIG)

bench-sqnr:
	@test -x $(PY) || { echo "bench-sqnr: $(PY) missing, run 'make venv' first"; exit 1; }
	@test -f $(BENCH_ONNX_DIR)/encoder.int8.onnx || { echo "bench-sqnr: run 'make bench' first (it builds $(BENCH_ONNX_DIR)/encoder.int8.onnx)"; exit 1; }
	$(PY) tools/bench/peer_sqnr.py --config $(BENCH_CONFIG) --checkpoint $(BENCH_CHECKPOINT) \
	    --onnx $(BENCH_ONNX_DIR)/encoder.onnx --onnx-int8 $(BENCH_ONNX_DIR)/encoder.int8.onnx \
	    $$(test -f $(SQNR_EVAL_JSON) && echo --sam2r-eval $(SQNR_EVAL_JSON)) --out $(BENCH_OUT)
