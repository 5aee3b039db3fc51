# sam2r — build, test, bench. `make test` is what CI runs (.ci/run); it installs what it needs.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DEFAULT_GOAL := help

SWIFT      ?= swift
CC_NATIVE  ?= gcc
CC_ARM     ?= aarch64-linux-gnu-gcc
QEMU_ARM   ?= qemu-aarch64
BUILD      := build
# Release builds link the Swift runtime and Foundation statically: the binary then runs on a board without a Swift
# toolchain, and only the library pages it touches become resident (peak RSS of `sam2r run` on tiny int8: 146 548 ->
# 139 968 KiB, BENCHMARKS.md). Debug builds and `swift test` stay dynamic. A toolchain without the static runtime
# libraries (usr/lib/swift_static) can build dynamically: make demo SWIFT_RELEASE="swift build -c release".
SWIFT_RELEASE    ?= $(SWIFT) build -c release --static-swift-stdlib
SWIFT_RELEASE_BIN = $(shell $(SWIFT) build -c release --show-bin-path 2>/dev/null)

# Debian packages the build and tests need; installed by `make deps` when missing.
APT_PACKAGES := libpng-dev libjpeg-dev pkg-config gcc-aarch64-linux-gnu qemu-user
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

KERNEL_SRC  := $(wildcard Kernels/*.c Kernels/scalar/*.c Kernels/x86/*.c Kernels/arm/*.c)
KERNEL_HDR  := $(wildcard Kernels/include/*.h Kernels/*.h Kernels/*/*.h)
HARNESS_SRC := $(wildcard Tests/KernelHarness/*.c)
HARNESS_CFLAGS := -O2 -g -std=gnu11 -ffp-contract=off -Wall -Wextra -IKernels/include -ITests/KernelHarness
# Kernel benchmarks compile Kernels/ as the product does (SwiftPM: the toolchain's clang with Package.swift's
# kernelCFlags): register allocation differs between compilers enough to halve a kernel's speed
# (Kernels/x86/attention_avx2.c). gcc when no clang is on PATH.
KERNEL_BENCH_CC     ?= $(if $(shell command -v clang 2>/dev/null),clang,$(CC_NATIVE))
KERNEL_BENCH_CFLAGS := -O3 -g -std=gnu11 -ffp-contract=off -Wall -Wextra -IKernels/include
# CPUs the aarch64 harness runs on: no dot product (Pi 4), SDOT (Pi 5 / RK3588), N1, everything (i8mm).
ARM_CPUS := cortex-a72 cortex-a76 neoverse-n1 max

.PHONY: help deps build release test test-kernels test-arm test-swift test-cli test-alloc clean-results bench bench-kernels clean

help:
	@echo "make test          install missing system packages, run every test (native + qemu aarch64 + Swift)"
	@echo "make test-kernels  kernel harness, native"
	@echo "make test-arm      kernel harness cross-compiled for aarch64 under qemu ($(ARM_CPUS))"
	@echo "make test-swift-arm the engine (Embedded Swift) + C kernels for aarch64 under qemu, checked against x86"
	@echo "make test-swift    swift test (engine, readers, model vs goldens, profiles)"
	@echo "make test-cli      sam2r on the committed micro model, and bad input"
	@echo "make test-alloc    release sam2r: zero heap allocations per inference (bench counter)"
	@echo "make demo          the int8 SAM2Refiner demo on the shipped model (out/demo/)"
	@echo "make bench-kernels sam2r bench kernels (release build)"

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT_RELEASE)

test: deps clean-results test-kernels test-arm test-swift-arm test-swift test-cli test-alloc test-malformed-cli
	@Tests/summarize_results.sh $(BUILD)/results

clean-results:
	@rm -rf $(BUILD)/results

# ---- kernel harness: the same C program natively and for aarch64 under qemu ----
$(BUILD)/harness-native: $(KERNEL_SRC) $(KERNEL_HDR) $(HARNESS_SRC)
	@mkdir -p $(BUILD)
	$(CC_NATIVE) $(HARNESS_CFLAGS) -o $@ $(KERNEL_SRC) $(HARNESS_SRC) -lpthread -lm

$(BUILD)/harness-aarch64: $(KERNEL_SRC) $(KERNEL_HDR) $(HARNESS_SRC)
	@mkdir -p $(BUILD)
	$(CC_ARM) $(HARNESS_CFLAGS) -static -o $@ $(KERNEL_SRC) $(HARNESS_SRC) -lpthread -lm

test-kernels: deps $(BUILD)/harness-native
	@mkdir -p $(BUILD)/results
	$(BUILD)/harness-native native | tee $(BUILD)/results/harness-native.log
	@# An unknown or unsupported forced variant is an error with a message, not a crash.
	@out=$$(SAM2R_ISA=avx1024 $(BUILD)/harness-native 2>&1); rc=$$?; \
	  if [ $$rc -ne 2 ] || ! grep -q "not a variant" <<<"$$out"; then echo "FAIL: SAM2R_ISA=avx1024 gave rc=$$rc: $$out"; exit 1; fi
	@out=$$(SAM2R_ISA=i8mm $(BUILD)/harness-native 2>&1); rc=$$?; \
	  if [ $$rc -ne 2 ] || ! grep -q "not supported by this CPU" <<<"$$out"; then echo "FAIL: SAM2R_ISA=i8mm gave rc=$$rc: $$out"; exit 1; fi
	@echo "forced-variant errors: ok"

test-arm: deps $(BUILD)/harness-aarch64
	@for cpu in $(ARM_CPUS); do \
	  echo "== qemu-aarch64 -cpu $$cpu"; \
	  mkdir -p $(BUILD)/results; \
	  HARNESS_QUICK=1 $(QEMU_ARM) -cpu $$cpu $(BUILD)/harness-aarch64 $$cpu | tee $(BUILD)/results/harness-$$cpu.log \
	    || { echo "FAIL: aarch64 harness on $$cpu"; exit 1; }; \
	done
	@# Cortex-A72 has no SDOT: forcing dotprod there must be refused by the dispatcher, not executed.
	@out=$$(SAM2R_ISA=dotprod $(QEMU_ARM) -cpu cortex-a72 $(BUILD)/harness-aarch64 cortex-a72 2>&1); rc=$$?; \
	  if [ $$rc -ne 2 ] || ! grep -q "not supported by this CPU" <<<"$$out"; then echo "FAIL: SAM2R_ISA=dotprod on cortex-a72 gave rc=$$rc: $$out"; exit 1; fi
	@echo "cortex-a72 refuses a forced dotprod variant: ok"

test-swift: deps
	@mkdir -p $(BUILD)/results
	$(SWIFT) test --disable-swift-testing 2>&1 | tee $(BUILD)/results/swift.log
	@grep -q "Executed [0-9]* tests, with 0 failures" $(BUILD)/results/swift.log

# The command line end to end on the committed micro model: a real run and bad input.
test-cli: deps
	$(SWIFT) build
	@mkdir -p $(BUILD)/results
	Tests/CLI/run_cli_tests.sh "$$($(SWIFT) build --show-bin-path)/sam2r" | tee $(BUILD)/results/cli.log
	Tests/CLI/run_bench_tests.sh "$$($(SWIFT) build --show-bin-path)/sam2r" | tee $(BUILD)/results/cli-bench.log
	Tests/CLI/run_calibrate_tests.sh "$$($(SWIFT) build --show-bin-path)/sam2r" | tee $(BUILD)/results/cli-calibrate.log
	Tests/CLI/run_quantize_tests.sh "$$($(SWIFT) build --show-bin-path)/sam2r" | tee $(BUILD)/results/cli-quantize.log
	Tests/CLI/run_eval_tests.sh "$$($(SWIFT) build --show-bin-path)/sam2r" | tee $(BUILD)/results/cli-eval.log

# Zero heap allocations per inference: a property of optimized builds, so checked on the release CLI.
test-alloc: deps
	$(SWIFT_RELEASE) --product sam2r
	$(SWIFT_RELEASE) --product sam2r-alloccount
	@mkdir -p $(BUILD)/results
	Tests/CLI/run_alloc_tests.sh "$(SWIFT_RELEASE_BIN)/sam2r" | tee $(BUILD)/results/cli-alloc.log

# ---- benchmarks (never timed unit tests) ----
bench-kernels: release
	$(SWIFT_RELEASE_BIN)/sam2r bench kernels

clean:
	rm -rf $(BUILD) .build

-include mk/*.mk
