# SAM2Refiner reference goldens (tools/reference/refiner.py, docs/refiner.md). Included by the top Makefile after
# python.mk (venv, PY, GOLDEN_DIR). See tools/reference/README.md, "Refiner goldens".
#
#   make refiner-goldens          regenerate Tests/Goldens/refiner-micro (micro-refiner, seed 0, ≈30 s)
#   make verify-refiner-goldens   recompute every tensor + module-by-module checks from the stored inputs

REFINER_GOLDEN_DIR ?= $(GOLDEN_DIR)/refiner-micro
REFINER_CONFIG     ?= micro-refiner

.PHONY: refiner-goldens verify-refiner-goldens

refiner-goldens: venv
	rm -rf $(REFINER_GOLDEN_DIR)
	$(PY) tools/reference/make_refiner_goldens.py --config $(REFINER_CONFIG) --seed 0 --out $(REFINER_GOLDEN_DIR)

verify-refiner-goldens: venv
	$(PY) tools/reference/verify_refiner_goldens.py $(REFINER_GOLDEN_DIR)
