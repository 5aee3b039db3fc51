# Training the demo model (micro SAM2.1-family + SAM2Refiner) on synthetic scenes. Included by the top Makefile
# after python.mk (venv, PY). See tools/train/README.md.
#
#   make train                  train from scratch (≈30 min on 2 shared cores), write the held-out/calibration sets
#                               and the float evaluation, all under out/train, then train-validate
#   make train TRAIN_INSTALL=1  the same, then copy the model and the sets into demo/ (what gets committed)
#   make train-validate         the trained model against the installed one on validation scenes (never the
#                               held-out set): $(TRAIN_OUT)/validation.json, paired difference and its standard error

TRAIN_OUT     ?= out/train
TRAIN_ARGS    ?=
TRAIN_INSTALL ?=

.PHONY: train train-validate

train: venv
	$(PY) tools/train/train.py --out $(TRAIN_OUT)/model $(TRAIN_ARGS)
	$(PY) tools/train/make_sets.py --out $(TRAIN_OUT)/sets
	$(PY) tools/train/eval_float.py --model $(TRAIN_OUT)/model --heldout $(TRAIN_OUT)/sets/heldout \
	    > $(TRAIN_OUT)/eval_float.json.tmp && mv $(TRAIN_OUT)/eval_float.json.tmp $(TRAIN_OUT)/eval_float.json
	@cat $(TRAIN_OUT)/eval_float.json | head -16
	@$(MAKE) --no-print-directory train-validate
	@if [ "$(TRAIN_INSTALL)" = 1 ]; then \
	  set -e; mkdir -p demo/model; \
	  cp $(TRAIN_OUT)/model/config.json $(TRAIN_OUT)/model/demo.safetensors $(TRAIN_OUT)/model/demo.pt \
	     $(TRAIN_OUT)/model/train_log.json demo/model/; \
	  cp $(TRAIN_OUT)/eval_float.json demo/model/eval_float.json; \
	  rm -rf demo/heldout demo/calib; cp -r $(TRAIN_OUT)/sets/heldout $(TRAIN_OUT)/sets/calib demo/; \
	  cp $(TRAIN_OUT)/sets/image.png $(TRAIN_OUT)/sets/image_mask.png $(TRAIN_OUT)/sets/click.txt demo/; \
	  echo "train: installed into demo/"; \
	else echo "train: results in $(TRAIN_OUT) (TRAIN_INSTALL=1 copies them into demo/)"; fi

# Decide whether to install a run here, not on the held-out numbers above (tools/train/README.md, "Session 22").
train-validate: venv
	$(PY) tools/train/select_model.py --models demo/model $(TRAIN_OUT)/model > $(TRAIN_OUT)/validation.json.tmp \
	    && mv $(TRAIN_OUT)/validation.json.tmp $(TRAIN_OUT)/validation.json
	@python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); \
	    [print(m, "validation mIoU", v["refined_miou"], v.get("refined_minus_first", "")) for m, v in d["models"].items()]' \
	    $(TRAIN_OUT)/validation.json
