# The demo: our own trained micro SAM2 + SAM2Refiner (demo/, tools/train/README.md), quantized by sam2r itself
# and run in int8. Included by the top Makefile. Needs no Python.
#
#   make demo        release build; calibrate + quantize the shipped model when out/demo/model.sam2q is missing or
#                    older than its inputs; `sam2r run` int8 on demo/image.png with the click in demo/click.txt;
#                    writes out/demo/mask.png and out/demo/overlay.png
#   make eval-demo   the held-out set (demo/heldout) against ground truth: float with refiner, float without, int8
#                    with refiner -> out/demo/eval.json and out/demo/eval.md

DEMO_DIR     ?= demo
DEMO_OUT     ?= out/demo
DEMO_MODEL   := $(DEMO_DIR)/model/demo.safetensors
DEMO_CONFIG  := $(DEMO_DIR)/model/config.json
DEMO_SAM2Q   := $(DEMO_OUT)/model.sam2q
DEMO_TABLE   := $(DEMO_OUT)/table.txt
DEMO_THREADS ?=
# Calibrator of the demo model, chosen on the calibration images alone (mask IoU of int8 vs float, 40 default
# prompts on demo/calib, BENCHMARKS.md "Demo model").
DEMO_CALIB_METHOD ?= percentile
SAM2R_REL    = $(SWIFT_RELEASE_BIN)/sam2r
demo_threads = $(if $(DEMO_THREADS),--threads $(DEMO_THREADS))

.PHONY: demo demo-build demo-model eval-demo

demo-build: deps
	$(SWIFT_RELEASE) --product sam2r

$(DEMO_TABLE): $(DEMO_MODEL) $(DEMO_CONFIG) $(wildcard $(DEMO_DIR)/calib/*) | demo-build
	@mkdir -p $(DEMO_OUT)
	$(SAM2R_REL) calibrate --checkpoint $(DEMO_MODEL) --config $(DEMO_CONFIG) --images $(DEMO_DIR)/calib \
	    --method $(DEMO_CALIB_METHOD) $(demo_threads) --out $@

$(DEMO_SAM2Q): $(DEMO_TABLE) | demo-build
	$(SAM2R_REL) quantize --checkpoint $(DEMO_MODEL) --config $(DEMO_CONFIG) --table $(DEMO_TABLE) --out $@

demo-model: $(DEMO_SAM2Q)

demo: demo-build
	@$(MAKE) --no-print-directory demo-model
	@mkdir -p $(DEMO_OUT)
	$(SAM2R_REL) run --checkpoint $(DEMO_SAM2Q) --image $(DEMO_DIR)/image.png \
	    $$(sed 's/^/--point /' $(DEMO_DIR)/click.txt) $(demo_threads) \
	    --mask-out $(DEMO_OUT)/mask.png --overlay-out $(DEMO_OUT)/overlay.png
	@echo "demo: model $(DEMO_SAM2Q) ($$(du -h $(DEMO_SAM2Q) | cut -f1)); mask $(DEMO_OUT)/mask.png; overlay $(DEMO_OUT)/overlay.png"

DEMO_HELDOUT := $(DEMO_DIR)/heldout
demo_eval = $(SAM2R_REL) eval --reference $(DEMO_MODEL) --config $(DEMO_CONFIG) --candidate $(DEMO_SAM2Q) \
    --images $(DEMO_HELDOUT) --prompts $(DEMO_HELDOUT)/prompts.json --ground-truth $(DEMO_HELDOUT)/masks \
    --quiet --json $(demo_threads)

# Reference = float, candidate = int8 (.sam2q): one run with the refiner, one without (float_no_refiner is the
# reference of the second). Both against the held-out ground truth; boundary IoU as docs/eval.md defines it.
eval-demo: demo-build
	@$(MAKE) --no-print-directory demo-model
	$(demo_eval) --report $(DEMO_OUT)/eval-refined.md > $(DEMO_OUT)/eval-refined.json
	$(demo_eval) --no-refine > $(DEMO_OUT)/eval-plain.json
	python3 tools/demo/eval_summary.py $(DEMO_OUT)/eval-refined.json $(DEMO_OUT)/eval-plain.json \
	    --json $(DEMO_OUT)/eval.json --markdown $(DEMO_OUT)/eval.md
	@cat $(DEMO_OUT)/eval.md
