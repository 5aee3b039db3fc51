# ARM readiness: static cycle estimates, reduced input size vs Meta, Swift on aarch64. Included by the top Makefile.
# Targets: mca, check-tiny-512, test-swift-arm. See docs/arm.md and docs/input-size.md.

LLVM_MCA  ?= llvm-mca-19
ARM_SCRATCH ?= .build-arm

.PHONY: mca check-tiny-512 test-swift-arm sa-check

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

# ---- Swift on aarch64 (docs/arm.md, "Swift on aarch64") ----
# No Swift stdlib/runtime for aarch64-unknown-linux-gnu is installed (swiftc -target aarch64-unknown-linux-gnu:
# "could not find module 'Swift'"), but the toolchain ships Embedded Swift's stdlib for aarch64-none-none-elf. So:
# SAM2REngine (copied, mechanically made Embedded-clean: `throws` -> `throws(EngineError)`, key-path literals ->
# closures) + Tests/SwiftARM/SwiftArmSmoke.swift -> one Embedded Swift object (AAPCS64, same as Linux), linked
# with the C kernels and static glibc (aarch64-linux-gnu-gcc, gold: BFD ld refuses the weak protected Swift
# metadata symbols), run under qemu-aarch64 on each ARM_CPUS core. The same program built natively for x86-64
# (regular Swift, the engine sources unmodified) must print the same non-# lines.
SWIFTC        ?= swiftc
SA            := $(BUILD)/swift-arm
SA_TOOLCHAIN  := $(shell d=$$(dirname $$(readlink -f $$(command -v $(SWIFTC) 2>/dev/null) 2>/dev/null) 2>/dev/null); echo $${d%/bin})
SA_EMBEDDED   := $(SA_TOOLCHAIN)/lib/swift/embedded/aarch64-none-none-elf
SA_SWIFT_SRC  := Tests/SwiftARM/SwiftArmSmoke.swift
SA_ENGINE_SRC := $(wildcard Sources/SAM2REngine/*.swift)
SA_KOBJ_ARM   := $(patsubst %.c,$(SA)/arm/%.o,$(KERNEL_SRC))
SA_KOBJ_X86   := $(patsubst %.c,$(SA)/x86/%.o,$(KERNEL_SRC))
SA_KCFLAGS    := -O2 -std=gnu11 -ffp-contract=off -IKernels/include

sa-check:
	@command -v $(QEMU_ARM) >/dev/null || { echo "test-swift-arm: $(QEMU_ARM) missing (make deps)"; exit 1; }
	@command -v $(CC_ARM) >/dev/null || { echo "test-swift-arm: $(CC_ARM) missing (make deps)"; exit 1; }
	@test -f $(SA_EMBEDDED)/libswiftUnicodeDataTables.a || { echo "test-swift-arm: no Embedded Swift stdlib for aarch64 in $(SA_EMBEDDED)"; exit 1; }

$(SA)/arm/%.o: %.c $(KERNEL_HDR)
	@mkdir -p $(dir $@)
	$(CC_ARM) $(SA_KCFLAGS) -c $< -o $@

$(SA)/x86/%.o: %.c $(KERNEL_HDR)
	@mkdir -p $(dir $@)
	$(CC_NATIVE) $(SA_KCFLAGS) -c $< -o $@

# Clang modules for swiftc: the kernels' umbrella header, and a `Glibc` that is the aarch64 sysroot's headers
# (Embedded Swift has no Glibc overlay; the engine only needs posix_memalign/free/getenv-level C calls).
$(SA)/mods/.stamp: mk/arm.mk
	@mkdir -p $(SA)/mods/SAM2RKernels $(SA)/mods/Glibc
	printf 'module SAM2RKernels {\n  umbrella header "$(CURDIR)/Kernels/include/sam2r_kernels.h"\n  export *\n}\n' \
	    > $(SA)/mods/SAM2RKernels/module.modulemap
	printf 'module Glibc [system] {\n  header "shim.h"\n  export *\n}\n' > $(SA)/mods/Glibc/module.modulemap
	printf '#include <stdlib.h>\n#include <string.h>\n#include <stdio.h>\n#include <pthread.h>\n#include <unistd.h>\n#include <math.h>\n' \
	    > $(SA)/mods/Glibc/shim.h
	touch $@

$(SA)/engine/.stamp: $(SA_ENGINE_SRC)
	@mkdir -p $(SA)/engine
	rm -f $(SA)/engine/*.swift
	cp $(SA_ENGINE_SRC) $(SA)/engine/
	sed -i -E 's/\bthrows\b([^(]|$$)/throws(EngineError)\1/g; s/\(\\\.([A-Za-z_][A-Za-z0-9_]*)\)/({ $$0.\1 })/g' \
	    $(SA)/engine/*.swift
	touch $@

$(SA)/smoke-aarch64.o: $(SA_SWIFT_SRC) $(SA)/engine/.stamp $(SA)/mods/.stamp $(KERNEL_HDR)
	$(SWIFTC) -target aarch64-none-none-elf -enable-experimental-feature Embedded -wmo -parse-as-library -O \
	    -D SAM2R_ENGINE_IN_MODULE -module-name SwiftArmSmoke \
	    -I $(SA)/mods/Glibc -I $(SA)/mods/SAM2RKernels \
	    -Xcc -isystem -Xcc /usr/aarch64-linux-gnu/include -Xcc -D__linux__ \
	    -c $(SA_SWIFT_SRC) $(SA)/engine/*.swift -o $@

$(SA)/smoke-aarch64: $(SA)/smoke-aarch64.o $(SA_KOBJ_ARM)
	$(CC_ARM) -static -fuse-ld=gold -o $@ $^ $(SA_EMBEDDED)/libswiftUnicodeDataTables.a -lpthread -lm

$(SA)/smoke-x86: $(SA_SWIFT_SRC) $(SA_ENGINE_SRC) $(SA)/mods/.stamp $(SA_KOBJ_X86)
	$(SWIFTC) -O -parse-as-library -D SAM2R_ENGINE_IN_MODULE -module-name SwiftArmSmoke \
	    -I $(SA)/mods/SAM2RKernels $(SA_SWIFT_SRC) $(SA_ENGINE_SRC) $(SA_KOBJ_X86) -lpthread -lm -o $@

test-swift-arm: sa-check $(SA)/smoke-aarch64 $(SA)/smoke-x86
	@echo "== x86-64 (native Swift)"; $(SA)/smoke-x86 | tee $(SA)/x86.txt | grep -v '^#'
	@for cpu in $(ARM_CPUS); do \
	  echo "== qemu-aarch64 -cpu $$cpu (Embedded Swift)"; \
	  $(QEMU_ARM) -cpu $$cpu $(SA)/smoke-aarch64 > $(SA)/$$cpu.txt || { cat $(SA)/$$cpu.txt; echo "FAIL: $$cpu"; exit 1; }; \
	  grep '^# arch' $(SA)/$$cpu.txt; \
	  if ! diff <(grep -v '^#' $(SA)/x86.txt) <(grep -v '^#' $(SA)/$$cpu.txt); then echo "FAIL: $$cpu output differs from x86-64"; exit 1; fi; \
	done
	@echo "test-swift-arm: Swift (SAM2REngine + C kernels) on aarch64 matches x86-64: ok"
