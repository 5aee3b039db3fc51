# ARM readiness: static cycle estimates, reduced input size vs Meta, Swift on aarch64. Included by the top Makefile.
# Targets: mca, check-tiny-512, test-swift-arm. See docs/arm.md and docs/input-size.md.

LLVM_MCA  ?= llvm-mca-19
ARM_SCRATCH ?= .build-arm

.PHONY: mca check-tiny-512 test-swift-arm

# llvm-mca on the innermost K loop of each aarch64 int8 GEMM micro-kernel, per profile core: MAC/cycle vs peak and
# predicted encoder latency per board (tools/mca/estimate.py; compiles the kernels into a temp dir, edits nothing).
mca:
	@command -v $(LLVM_MCA) >/dev/null || { echo "mca: $(LLVM_MCA) missing (apt-get install llvm-19)"; exit 1; }
	python3 tools/mca/estimate.py --mca $(LLVM_MCA) --cc $(CC_ARM)

# Full-size hiera-tiny at image_size 512 vs Meta's predictor built with image_size=512 (seeded weights of
# `make check-tiny`, seed $(TINY_SEED)): goldens -> $(OUT_REF)/tiny-512, then the opt-in Swift test
# (SizeGoldenTests.testTinyAt512, tolerance 1e-3 relative). Skipped without the venv; never builds it.
check-tiny-512:
	@if [ ! -x $(PY) ]; then echo "check-tiny-512: $(PY) missing, run 'make venv' first (skipped)"; exit 0; fi; \
	set -e; \
	if [ ! -f $(OUT_REF)/tiny/checkpoint.pt ]; then \
	  mkdir -p $(OUT_REF)/tiny; \
	  $(PY) tools/reference/make_checkpoint.py --config tiny --seed $(TINY_SEED) \
	      --out $(OUT_REF)/tiny/checkpoint.pt --safetensors $(OUT_REF)/tiny/checkpoint.safetensors; \
	fi; \
	$(PY) tools/reference/make_size_goldens.py --tiny512 --checkpoint $(OUT_REF)/tiny/checkpoint.pt \
	    --out $(OUT_REF)/tiny-512; \
	SAM2R_TINY512=1 SAM2R_TINY512_DIR=$(abspath $(OUT_REF))/tiny-512 \
	SAM2R_TINY512_CHECKPOINT=$(abspath $(OUT_REF))/tiny/checkpoint.safetensors \
	    $(SWIFT) test --scratch-path $(ARM_SCRATCH) --filter SAM2RSizeTests.SizeGoldenTests/testTinyAt512
