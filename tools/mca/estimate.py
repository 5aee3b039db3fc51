#!/usr/bin/env python3
"""Static cycle estimates of the aarch64 int8 GEMM micro-kernels with llvm-mca (stdlib only).

For each Kernels/arm/gemm_s8_{neon,dotprod,i8mm}.c:
  1. aarch64-linux-gnu-gcc -O2 -S with the Makefile's kernel flags (-std=gnu11 -ffp-contract=off, no -g: only
     the .loc/.cfi noise differs) into a temporary directory; the kernel sources are not modified;
  2. the innermost K loop of `tile_prepared` (the micro-kernel the driver runs when a row block fits in the
     32 KB activation buffer) is cut from the .s: the shortest label ... backward-branch span that contains a
     multiply-accumulate (SMULL/SMLAL*, SDOT, SMMLA); directives and comments dropped;
  3. llvm-mca -mcpu=<core> on that block; cycles/iteration = Total Cycles / Iterations (steady state);
  4. MACs per iteration are counted from the instructions themselves (SMULL/SMLAL(2) .8h: 8, SDOT .4s: 16,
     SMMLA: 32), so a compiler that unrolls or re-blocks the loop is still counted correctly.

Prints a Markdown table: MAC/cycle vs the core's int8 peak, and predicted encoder latency per board.
Usage: tools/mca/estimate.py [--mca llvm-mca-19] [--cc aarch64-linux-gnu-gcc] [--iterations 500] [--show-asm]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CFLAGS = ["-O2", "-std=gnu11", "-ffp-contract=off", "-I" + os.path.join(ROOT, "Kernels", "include")]
KERNELS = ["neon", "dotprod", "i8mm"]
MAC_INSN = {"neon": "SMULL/SMLAL2/SADALP", "dotprod": "SDOT", "i8mm": "SMMLA"}


def tile_of(k: str) -> str:
    """MRxNRcKR from the micro-kernel's name string in the source (e.g. qs8_qc8w_gemm_fp32_2x8c16__neon)."""
    with open(os.path.join(ROOT, "Kernels", "arm", f"gemm_s8_{k}.c")) as f:
        m = re.search(r'"qs8_\w*?_(\d+x\d+c\d+)__\w+"', f.read())
    return f"{m.group(1) if m else '?'} {MAC_INSN[k]}"

# int8 MAC/cycle/core peaks (2 x 128-bit ASIMD pipes):
#   A72: SMULL/SMLAL2 .8h (8 MACs) issue on one pipe (F1) only -> 8 MAC/cycle (the brief's figure)
#   A76/A78/N1: 2 x SDOT (16 MACs) per cycle -> 32;  N2: 2 x SMMLA (32 MACs) -> 64, 2 x SDOT -> 32
PEAK = {("cortex-a72", "neon"): 8, ("cortex-a76", "dotprod"): 32, ("cortex-a78", "dotprod"): 32,
        ("neoverse-n1", "dotprod"): 32, ("neoverse-n2", "dotprod"): 32, ("neoverse-n2", "i8mm"): 64}
# (core, kernel, llvm-mca -mcpu). LLVM 19 schedules -mcpu=cortex-a76/-a78 with the Cortex-A57 model (resources
# A57Unit*, SDOT on both "A57UnitW/X" pipes, LD1R taking one of them too): no A76/A78 model exists. Neoverse-N1 is
# the A76 microarchitecture (Arm's server derivative; A78 is an A76/A77 evolution with the same 2 x 128-bit ASIMD
# pipes), so the A76/A78 rows use the N1 model; the A57-model numbers are printed too (`a57-model` rows).
RUNS = [
    ("cortex-a72", "neon", "cortex-a72"),
    ("cortex-a76", "dotprod", "neoverse-n1"),
    ("cortex-a76", "dotprod", "cortex-a76"),
    ("cortex-a78", "dotprod", "neoverse-n1"),
    ("cortex-a78", "dotprod", "cortex-a78"),
    ("neoverse-n1", "dotprod", "neoverse-n1"),
    ("neoverse-n2", "dotprod", "neoverse-n2"),
    ("neoverse-n2", "i8mm", "neoverse-n2"),
]
MODEL = {"cortex-a72": "A57 model", "cortex-a76": "A57 model: no A76 model", "cortex-a78": "A57 model: no A78 model",
         "neoverse-n1": "N1 model", "neoverse-n2": "N2 model"}
ATTRS = {"neon": "+neon", "dotprod": "+neon,+dotprod", "i8mm": "+neon,+dotprod,+i8mm"}

# Boards (Profiles/*.json): core, cores used, clock (GHz), kernel the dispatcher picks.
BOARDS = [
    ("raspberry-pi-4", "cortex-a72", 4, 1.8, "neon"),
    ("raspberry-pi-5", "cortex-a76", 4, 2.4, "dotprod"),
    ("rk3588", "cortex-a76", 4, 2.4, "dotprod"),
    ("jetson-orin (Nano)", "cortex-a78", 6, 1.5, "dotprod"),
    ("neoverse-n2", "neoverse-n2", 4, 3.0, "i8mm"),
]
GMAC = {1024: 146.0, 512: 146.0 / 4}
EFFICIENCY = 0.6  # of the llvm-mca steady-state rate: 4-core scaling, L2/DRAM stalls, packing, edges

MAC_RE = [
    (re.compile(r"^\s*smmla\s"), 32),
    (re.compile(r"^\s*sdot\s"), 16),
    (re.compile(r"^\s*smlal2?\s+v\d+\.8h"), 8),
    (re.compile(r"^\s*smull2?\s+v\d+\.8h"), 8),
]


def macs_of(lines):
    n = 0
    for ln in lines:
        for rx, m in MAC_RE:
            if rx.match(ln):
                n += m
                break
    return n


def function_body(asm: str, fn: str) -> list[str]:
    out, inside = [], False
    for ln in asm.splitlines():
        if ln.startswith(fn + ":"):
            inside = True
            continue
        if inside:
            if ln.strip().startswith(".size") and fn in ln:
                break
            out.append(ln)
    if not out:
        raise SystemExit(f"function {fn} not found")
    return out


BRANCH_RE = re.compile(r"^\s*(b\.?(?:eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le)|b|cbnz|cbz|tbnz|tbz)\s+"
                       r"(?:.*,\s*)?(\.L\w+)\s*$")
GCC_BCOND = re.compile(r"^(\s*)b(eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le)(\s)")


def inner_loop(body: list[str]) -> list[str]:
    labels = {}
    for i, ln in enumerate(body):
        m = re.match(r"^(\.L\w+):", ln)
        if m:
            labels[m.group(1)] = i
    best = None
    for j, ln in enumerate(body):
        m = BRANCH_RE.match(ln)
        if not m or m.group(2) not in labels:
            continue
        i = labels[m.group(2)]
        if i >= j:
            continue  # forward branch
        span = body[i + 1:j + 1]
        if macs_of(span) == 0:
            continue
        if best is None or len(span) < len(best):
            best = span
    if best is None:
        raise SystemExit("no loop with multiply-accumulates found")
    clean = []
    for ln in best:
        s = ln.split("//")[0].rstrip()
        st = s.strip()
        if not st or st.startswith(".") or st.startswith("#"):
            continue
        clean.append(GCC_BCOND.sub(r"\1b.\2\3", s))  # GCC's `bne` -> `b.ne` for LLVM's assembler
    return clean


def mca(block: list[str], cpu: str, attrs: str, tool: str, iterations: int) -> dict:
    src = "\n".join(block) + "\n"
    r = subprocess.run([tool, "-mtriple=aarch64-linux-gnu", f"-mcpu={cpu}", f"-mattr={attrs}",
                        f"-iterations={iterations}", "-"], input=src, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{tool} -mcpu={cpu} failed:\n{r.stderr}")
    def num(key):
        m = re.search(rf"^{key}:\s+([\d.]+)", r.stdout, re.M)
        return float(m.group(1)) if m else float("nan")
    it, total = num("Iterations"), num("Total Cycles")
    return {"cycles": total / it, "rthroughput": num("Block RThroughput"), "ipc": num("IPC"),
            "warn": "no scheduling model" in r.stderr.lower() or "not a recognized" in r.stderr.lower()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mca", default="llvm-mca-19")
    ap.add_argument("--cc", default="aarch64-linux-gnu-gcc")
    ap.add_argument("--iterations", type=int, default=500)
    ap.add_argument("--show-asm", action="store_true")
    a = ap.parse_args()

    blocks = {}
    TILE = {k: tile_of(k) for k in KERNELS}
    with tempfile.TemporaryDirectory() as tmp:
        for k in KERNELS:
            s = os.path.join(tmp, f"gemm_s8_{k}.s")
            subprocess.run([a.cc, *CFLAGS, "-S", "-o", s, os.path.join(ROOT, "Kernels", "arm", f"gemm_s8_{k}.c")],
                           check=True)
            with open(s) as f:
                blocks[k] = inner_loop(function_body(f.read(), "tile_prepared"))
    if a.show_asm:
        for k, b in blocks.items():
            print(f"## {k}: {len(b)} instructions, {macs_of(b)} MACs\n```\n" + "\n".join(b) + "\n```\n")

    rate = {}
    print("| kernel (tile) | core | llvm-mca -mcpu (sched model) | instr/iter | MACs/iter | cycles/iter | MAC/cycle | "
          "peak | peak / est. |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for core, k, cpu in RUNS:
        b = blocks[k]
        r = mca(b, cpu, ATTRS[k], a.mca, a.iterations)
        macs = macs_of(b)
        mpc = macs / r["cycles"]
        if (core, k) not in rate:  # first row per (core, kernel) is the model used for the predictions
            rate[(core, k)] = mpc
        peak = PEAK[(core, k)]
        flag = "" if peak / mpc <= 1.25 else " **(> 1.25x)**"
        print(f"| {k} ({TILE[k]}) | {core} | {cpu} ({MODEL[cpu]}) | {len(b)} | {macs} | {r['cycles']:.2f} | "
              f"{mpc:.1f} | {peak} | {peak / mpc:.2f}x{flag} |")
    print()
    print(f"Predicted encoder latency, int8 GEMM part only: GMAC / (cores x GHz x MAC/cycle(llvm-mca) x "
          f"{EFFICIENCY}); 1024^2 = {GMAC[1024]:.0f} GMAC, 512^2 = {GMAC[512]:.1f} GMAC.")
    print()
    print("| board (profile) | core | cores x GHz | kernel | MAC/cycle/core (mca) | 1024^2 ms | 512^2 ms |")
    print("|---|---|---|---|---:|---:|---:|")
    for name, core, n, ghz, k in BOARDS:
        mpc = rate[(core, k)]
        ms = {s: g * 1e9 / (n * ghz * 1e9 * mpc * EFFICIENCY) * 1e3 for s, g in GMAC.items()}
        print(f"| {name} | {core} | {n} x {ghz} | {k} | {mpc:.1f} | {ms[1024]:.0f} | {ms[512]:.0f} |")


if __name__ == "__main__":
    sys.exit(main())
