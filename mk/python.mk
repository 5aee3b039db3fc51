# Python reference tools (Meta's SAM2.1 in CPU fp32 PyTorch). Included by the top Makefile.
# Targets: venv, reference (= venv), goldens, verify-goldens, check-tiny. See tools/reference/README.md.

VENV       ?= tools/.venv
PY         ?= $(VENV)/bin/python
PIP        ?= $(VENV)/bin/pip
VENV_STAMP := $(VENV)/.stamp-sam2r
TORCH_PIN  ?= torch==2.15.0 torchvision==0.29.2
SAM2_PIN   ?= sam2==1.1.0
GOLDEN_DIR ?= Tests/Goldens
OUT_REF    ?= out/reference
TINY_SEED  ?= 1

.PHONY: venv reference goldens verify-goldens check-tiny

venv: $(VENV_STAMP)

# torch/torchvision WITH their deps: PyPI's Linux torch wheel is a CUDA build whose libtorch.so links
# libcudart/cublas/cudnn/... at load time, so `import torch` fails without the nvidia-* wheels (~3 GB;
# never used on CPU). setuptools>=77 and wheel are needed to build sam2's sdist without isolation.
# sam2 with --no-deps and no CUDA extension build (the image predictor never needs it).
$(VENV_STAMP): tools/requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip "setuptools>=77.0.3" wheel
	$(PIP) install -q $(TORCH_PIN)
	$(PIP) install -q -r tools/requirements.txt
	SAM2_BUILD_CUDA=0 $(PIP) install -q --no-build-isolation --no-deps $(SAM2_PIN)
	$(PY) -c "import torch, torchvision, sam2, hydra, skimage, safetensors; print('venv ok', torch.__version__)"
	touch $@

reference: venv

# Regenerates the committed goldens (micro config; small, deterministic).
goldens: venv
	rm -rf $(GOLDEN_DIR)/micro
	$(PY) tools/reference/make_goldens.py --config micro --seed 0 \
	    --out $(GOLDEN_DIR)/micro --write-checkpoint

# Re-runs Meta's predictor on the committed goldens and compares every tensor.
verify-goldens: venv
	$(PY) tools/reference/verify_goldens.py $(GOLDEN_DIR)/micro

# Full-size hiera-tiny end to end, only when the venv exists (never builds it: it is big and slow).
check-tiny:
	@if [ ! -x $(PY) ]; then echo "check-tiny: $(PY) missing, run 'make venv' first (skipped)"; exit 0; fi; \
	set -e; mkdir -p $(OUT_REF)/tiny; \
	$(PY) tools/reference/make_goldens.py --config tiny --seed $(TINY_SEED) \
	    --out $(OUT_REF)/tiny --write-checkpoint
