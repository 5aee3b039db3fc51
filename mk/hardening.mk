# Hardening against bad input (docs/hardening.md). Included by the top Makefile.
#
#   make fuzz-build        build every libFuzzer target (Swift: Fuzz/ package; C: PNG/JPEG harness)
#   make fuzz              run each target FUZZ_SECONDS with its seed corpus; prints executions per target
#   make fuzz-<target>     one target (unpickler zip torch safetensors npy profile table prompts modelfile png jpeg)
#                          FUZZ_RUNS=N: stop after N executions instead of FUZZ_SECONDS (counts right even when a
#                          loaded machine deschedules the niced fuzzer)
#   make test-malformed    the malformed-input corpus (Tests/Malformed) through every reader (seconds)
#   make test-malformed-cli  malformed profiles, tables, prompt files through the sam2r CLI: one-line error, exit 1
#   make test-sanitize     kernel harness and the reader tests under ASan + UBSan
#
# Fuzz runs are niced (FUZZ_NICE) and share FUZZ_DIR/corpus/<target> between runs, so repeated runs
# continue from what earlier ones found. A crash stops `make fuzz` with the reproducer's path.

FUZZ_SECONDS   ?= 60
FUZZ_NICE      ?= nice -n 19
FUZZ_DIR       ?= $(BUILD)/fuzz
FUZZ_SCRATCH   ?= .build-fuzz
# Slow, loaded machines starve niced fuzzers: a generous per-input timeout avoids false hangs.
FUZZ_TIMEOUT   ?= 120
FUZZ_RSS_MB    ?= 2048
FUZZ_FLAGS     ?=
# Executions per run (libFuzzer -runs); empty: FUZZ_SECONDS alone decides. FUZZ_SECONDS=0 with FUZZ_RUNS: no time limit.
FUZZ_RUNS      ?=
# Swift targets: no leak checks (see below), and no allocation stacks: ASan unwinds and stores the stack of
# every malloc and free for its reports, a quarter to half of the CPU time of the allocation-heavy Swift
# readers. Errors are caught all the same and the reproducer is saved; re-run it with ASAN_OPTIONS unset
# for the allocation and free stacks.
FUZZ_SWIFT_ASAN ?= detect_leaks=0:malloc_context_size=0
SWIFT_FUZZ_TARGETS := unpickler zip torch safetensors npy profile table prompts modelfile
C_FUZZ_TARGETS     := png jpeg
FUZZ_TARGETS   ?= $(SWIFT_FUZZ_TARGETS) $(C_FUZZ_TARGETS)
FUZZ_CC        ?= clang
# lld when present: GNU gold prints a warning per ASan symbol when linking sanitized binaries.
LLD_FLAG       := $(if $(shell command -v ld.lld 2>/dev/null),-fuse-ld=lld)
FUZZ_CFLAGS    ?= -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $(LLD_FLAG)
# Swift: debug keeps the standard library's bounds checks on unsafe buffers and `@testable import`.
SWIFT_FUZZ_BUILD = $(SWIFT) build --package-path Fuzz --scratch-path $(FUZZ_SCRATCH) -c debug \
                   -Xswiftc -sanitize=fuzzer,address
SWIFT_FUZZ_BIN   = $(FUZZ_SCRATCH)/debug

fuzz_product = $(if $(filter unpickler,$1),FuzzUnpickler,$(if $(filter zip,$1),FuzzZip,$(if $(filter torch,$1),FuzzTorch,$(if \
  $(filter safetensors,$1),FuzzSafeTensors,$(if $(filter npy,$1),FuzzNPY,$(if $(filter profile,$1),FuzzProfile,$(if \
  $(filter table,$1),FuzzTable,$(if $(filter prompts,$1),FuzzPrompts,$(if $(filter modelfile,$1),FuzzModelFile)))))))))
# Targets with a libFuzzer dictionary (Fuzz/dict/<t>.dict: keywords and special number spellings).
fuzz_dict = $(if $(wildcard Fuzz/dict/$1.dict),-dict=Fuzz/dict/$1.dict)
# Input size limits where the default (the largest seed) would make most executions slow: the table's
# largest seed is the whole 18 KB micro table, and the parser's cost grows with the input; 8 KiB still
# holds a line over the reader's 4096-byte limit plus header and entries around it.
fuzz_max_len = $(if $(filter table,$1),-max_len=8192)
fuzz_binary = $(if $(filter $(C_FUZZ_TARGETS),$1),$(FUZZ_DIR)/fuzz-$1,$(SWIFT_FUZZ_BIN)/$(call fuzz_product,$1))

.PHONY: fuzz fuzz-build fuzz-build-swift fuzz-build-c $(addprefix fuzz-,$(SWIFT_FUZZ_TARGETS) $(C_FUZZ_TARGETS)) \
        test-malformed test-malformed-cli test-sanitize test-sanitize-kernels test-sanitize-swift

fuzz-build: fuzz-build-swift fuzz-build-c

fuzz-build-swift:
	$(SWIFT_FUZZ_BUILD) 2>&1 | grep -v "Cannot export local symbol" ; exit $${PIPESTATUS[0]}

fuzz-build-c: $(FUZZ_DIR)/fuzz-png $(FUZZ_DIR)/fuzz-jpeg

$(FUZZ_DIR)/fuzz-png $(FUZZ_DIR)/fuzz-jpeg: $(FUZZ_DIR)/fuzz-%: Fuzz/c/fuzz_image.c Sources/CImageIO/cimageio.c Sources/CImageIO/include/cimageio.h
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DFUZZ_$(shell echo $* | tr a-z A-Z) -ISources/CImageIO/include -o $@ $< -lpng -ljpeg \
	  2>&1 | grep -v "Cannot export local symbol" ; exit $${PIPESTATUS[0]}

# One target: FUZZ_SECONDS of fuzzing from the seed corpus plus what earlier runs kept.
# Swift targets run without leak checks (-detect_leaks=0, and none at exit): Foundation keeps a few
# process-wide allocations, and pickle self-cycles leak (docs/hardening.md, finding 8).
# A target whose binary is missing is built first (a stale one is not: `make fuzz-build` rebuilds).
$(addprefix fuzz-,$(SWIFT_FUZZ_TARGETS) $(C_FUZZ_TARGETS)): fuzz-%:
	@test -x $(call fuzz_binary,$*) || $(MAKE) --no-print-directory $(if $(filter $(SWIFT_FUZZ_TARGETS),$*),fuzz-build-swift,fuzz-build-c)
	@mkdir -p $(FUZZ_DIR)/corpus/$* $(FUZZ_DIR)/artifacts $(FUZZ_DIR)/logs
	@log=$(FUZZ_DIR)/logs/$*.log; t0=$$(date +%s); \
	$(if $(filter $(SWIFT_FUZZ_TARGETS),$*),ASAN_OPTIONS=$(FUZZ_SWIFT_ASAN)) $(FUZZ_NICE) $(call fuzz_binary,$*) -max_total_time=$(FUZZ_SECONDS) -timeout=$(FUZZ_TIMEOUT) \
	  -rss_limit_mb=$(FUZZ_RSS_MB) -print_final_stats=1 $(if $(filter $(SWIFT_FUZZ_TARGETS),$*),-detect_leaks=0) $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS)) \
	  -artifact_prefix=$(FUZZ_DIR)/artifacts/$*- $(call fuzz_dict,$*) $(call fuzz_max_len,$*) $(FUZZ_FLAGS) $(FUZZ_DIR)/corpus/$* Fuzz/corpus/$* >$$log 2>&1; rc=$$?; \
	n=$$(grep -o 'number_of_executed_units: [0-9]*' $$log | tail -1 | grep -o '[0-9]*$$'); \
	printf 'fuzz %-12s %10s executions in %ss (corpus %s files)%s\n' $* "$${n:-?}" $$(( $$(date +%s) - t0 )) \
	  "$$(ls $(FUZZ_DIR)/corpus/$* | wc -l)" "$$( [ $$rc -eq 0 ] || echo "  FAILED rc=$$rc, see $$log")"; \
	if [ $$rc -ne 0 ]; then grep -E 'ERROR|SUMMARY|Fatal error|Test unit written' $$log | head -5; exit 1; fi

# The targets run one after another (each is single-threaded; the machine is shared).
fuzz: fuzz-build
	@fail=0; for t in $(FUZZ_TARGETS); do $(MAKE) --no-print-directory fuzz-$$t || fail=1; done; exit $$fail

# ---- malformed-input corpus ----

# Same scratch path as `make test-swift` by default, so it reuses that build.
MALFORMED_SCRATCH ?=
test-malformed:
	$(SWIFT) test $(if $(MALFORMED_SCRATCH),--scratch-path $(MALFORMED_SCRATCH)) --filter SAM2RMalformedTests

# The CLI end to end: each malformed profile alone in a directory named by SAM2R_PROFILES (`sam2r profiles`),
# each malformed quantization table through `sam2r run --table` on the micro model, each malformed prompts
# file through `sam2r calibrate --prompts`: one line "error: <file>: <what>" (or "<file>:<line>: <what>"), exit 1.
MICRO := Tests/Goldens/micro
test-malformed-cli:
	$(SWIFT) build $(if $(MALFORMED_SCRATCH),--scratch-path $(MALFORMED_SCRATCH)) --product sam2r
	@bin=$$($(SWIFT) build $(if $(MALFORMED_SCRATCH),--scratch-path $(MALFORMED_SCRATCH)) --show-bin-path)/sam2r; tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	declare -A n; \
	while IFS=$$'\t' read -r reader file kind fragment flags; do \
	  [ "$$kind" != ok ] || continue; \
	  case "$$reader" in \
	    profile) rm -f $$tmp/*.json; bad=$$tmp/bad.json; cp Tests/Malformed/$$file $$bad; \
	      out=$$(SAM2R_PROFILES=$$tmp $$bin profiles 2>&1 >/dev/null); rc=$$?; want="error: $$bad: ";; \
	    table|table-micro) bad=$$tmp/bad-table.txt; cp Tests/Malformed/$$file $$bad; \
	      out=$$($$bin run --checkpoint $(MICRO)/checkpoint.pt --config $(MICRO)/config.json --image $(MICRO)/images/chelsea.png \
	        --point 10,10 --threads 1 --table $$bad 2>&1 >/dev/null); rc=$$?; want="error: $$bad:";; \
	    prompts) bad=$$tmp/bad-prompts.json; cp Tests/Malformed/$$file $$bad; \
	      out=$$($$bin calibrate --checkpoint $(MICRO)/checkpoint.pt --config $(MICRO)/config.json --images $(MICRO)/images \
	        --prompts $$bad --threads 1 --quiet --out $$tmp/out-table.txt 2>&1 >/dev/null); rc=$$?; want="error: $$bad: ";; \
	    *) continue;; \
	  esac; \
	  lines=$$(printf '%s\n' "$$out" | wc -l); \
	  if [ "$$flags" = multiline ]; then echo "note: $$file: known multi-line error ($$lines lines)"; lines=1; fi; \
	  if [ $$rc -ne 1 ] || [ $$lines -ne 1 ] || [[ "$$out" != "$$want"*"$$fragment"* ]]; then \
	    echo "FAIL: $$file: rc=$$rc: $$out"; exit 1; fi; n[$$reader]=$$(( $${n[$$reader]:-0} + 1 )); \
	done < Tests/Malformed/manifest.tsv; \
	[ ! -e $$tmp/out-table.txt ] || { echo "FAIL: calibrate wrote a table despite a bad prompts file"; exit 1; }; \
	echo "test-malformed-cli: $${n[profile]:-0} profiles, $$(( $${n[table]:-0} + $${n[table-micro]:-0} )) tables," \
	  "$${n[prompts]:-0} prompt files -> one-line error, exit 1"

# ---- sanitizers ----

SAN_CC       ?= clang
SAN_FLAGS    ?= -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer $(LLD_FLAG)
SAN_SCRATCH  ?= .build-asan
SAN_TESTS    ?= SAM2RCheckpointTests|SAM2RImageIOTests|SAM2RProfilesTests|SAM2RMalformedTests
# The harness under ASan is ~3x slower: the quick sweep unless HARNESS_QUICK= is overridden.
SAN_HARNESS_ENV ?= HARNESS_QUICK=1

$(BUILD)/harness-asan: $(KERNEL_SRC) $(KERNEL_HDR) $(HARNESS_SRC)
	@mkdir -p $(BUILD)
	$(SAN_CC) $(HARNESS_CFLAGS) $(SAN_FLAGS) -o $@ $(KERNEL_SRC) $(HARNESS_SRC) -lpthread -lm

test-sanitize-kernels: $(BUILD)/harness-asan
	$(SAN_HARNESS_ENV) ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 $(BUILD)/harness-asan native

# Swift code under ASan (Swift has no UBSan; its arithmetic and bounds are checked anyway), the C targets
# (kernels, CImageIO) under ASan + UBSan. Every test target is built; only the readers' run.
test-sanitize-swift:
	ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	$(SWIFT) test --scratch-path $(SAN_SCRATCH) -Xswiftc -sanitize=address \
	  -Xcc -fsanitize=address,undefined -Xcc -fno-sanitize-recover=all -Xcc -fno-omit-frame-pointer \
	  --filter '$(SAN_TESTS)'

test-sanitize: test-sanitize-kernels test-sanitize-swift
	@echo "make test-sanitize: kernel harness and reader tests clean under ASan + UBSan"
