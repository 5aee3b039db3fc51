"""sam2r vs its peers on one checkpoint, in one run: the SAM2.1 image encoder (trunk + FPN + conv_s0/conv_s1 +
no_mem_embed) at the model's input size, fp32 and int8, at each thread count.

Every configuration runs in its own child process (tools/bench/peer.py, or `sam2r bench --json`): one warm-up,
then --runs timed runs; the table shows the median and min. Peak RSS is the child's ru_maxrss (os.wait4).
Results go to BENCHMARKS.md between <!-- bench:model:start --> and <!-- bench:model:end --> (created if absent;
nothing else in the file is touched) and to <work>/results.json.

  tools/.venv/bin/python tools/bench/bench.py [--checkpoint out/reference/tiny/checkpoint.pt --config tiny]
      [--threads 1 2] [--runs 3] [--sam2r .build-bench/release/sam2r] [--quick]

--quick: 1 run (after the warm-up), for validating the pipeline (e.g. with the micro model).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
START, END = "<!-- bench:model:start -->", "<!-- bench:model:end -->"
FLAGS_OF_INTEREST = ["avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8",
                     "asimddp", "i8mm", "sve"]


class Runner:
    """Popen + wait4 without letting subprocess reap the child first."""

    @staticmethod
    def run(cmd: list[str], threads: int, log) -> tuple[dict | None, int, str]:
        env = dict(os.environ)
        for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[k] = str(threads)
        print("  $ " + " ".join(shlex.quote(c) for c in cmd), file=log, flush=True)
        out_r, out_w = os.pipe()
        err_path = os.path.join("/tmp", "sam2r-bench-%d.err" % os.getpid())
        with open(err_path, "w") as ef:
            pid = os.fork()
            if pid == 0:  # child
                try:
                    os.chdir(ROOT)
                    os.dup2(out_w, 1)
                    os.dup2(ef.fileno(), 2)
                    os.close(out_r)
                    os.execvpe(cmd[0], cmd, env)
                finally:
                    os._exit(127)
        os.close(out_w)
        chunks = []
        with os.fdopen(out_r) as f:
            for line in f:
                chunks.append(line)
        _, status, ru = os.wait4(pid, 0)
        rc = os.waitstatus_to_exitcode(status)
        with open(err_path) as ef:
            err = ef.read()
        os.remove(err_path)
        rss = ru.ru_maxrss * 1024
        if rc != 0:
            tail = [line for line in err.strip().splitlines() if line.strip()]
            return None, rss, "exit %d: %s" % (rc, tail[-1] if tail else "")
        for line in reversed("".join(chunks).strip().splitlines()):
            if line.startswith("{"):
                return json.loads(line), rss, ""
        return None, rss, "no JSON output"


def machine() -> dict:
    info = {"arch": platform.machine(), "cores": os.cpu_count(), "model": platform.processor() or "?"}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            k, _, v = line.partition(":")
            if k.strip() == "Model name":
                info["model"] = v.strip()
            if k.strip() in ("Thread(s) per core", "Core(s) per socket", "Socket(s)"):
                info[k.strip()] = v.strip()
    except OSError:
        pass
    flags = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    info["flags"] = [f for f in FLAGS_OF_INTEREST if f in flags]
    try:
        with open("/proc/meminfo") as f:
            info["mem_gb"] = round(int(f.readline().split()[1]) / 1048576, 1)
    except (OSError, ValueError, IndexError):
        pass
    try:
        info["loadavg"] = open("/proc/loadavg").read().split()[:3]
    except OSError:
        pass
    return info


def ensure_checkpoint(a, log):
    if os.path.exists(a.checkpoint):
        return
    if a.config != "tiny":
        sys.exit("bench: %s missing" % a.checkpoint)
    # `make check-tiny`'s checkpoint step (seed 1 by default, see mk/python.mk)
    out_dir = os.path.dirname(a.checkpoint)
    cmd = [sys.executable, os.path.join(ROOT, "tools/reference/make_checkpoint.py"), "--config", "tiny",
           "--seed", str(a.seed), "--out", a.checkpoint, "--safetensors", os.path.join(out_dir, "checkpoint.safetensors")]
    print("creating %s" % a.checkpoint, file=log, flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)


def cached(path: str, deps: list[str]) -> bool:
    return os.path.exists(path) and all(os.path.getmtime(path) >= os.path.getmtime(d) for d in deps if os.path.exists(d))


def fmt_s(x):
    return "%.3f" % x if x is not None else "–"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default="out/reference/tiny/checkpoint.pt")
    ap.add_argument("--config", default="tiny", help="tiny|…|micro or a JSON config (both sam2r and tools/reference)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the checkpoint when it has to be created")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--predicts", type=int, default=10,
                    help="sam2r: prompts per image run (the decoder column is the median over runs x predicts)")
    ap.add_argument("--sam2r", default=".build-bench/release/sam2r")
    ap.add_argument("--sam2q", default=None, help="sam2r int8 model (.sam2q); default <checkpoint dir>/model.sam2q")
    ap.add_argument("--systems", default="torch,ort,sam2r,ort-int8,sam2r-int8")
    ap.add_argument("--work", default=None, help="exported models and results (default out/bench/<config>)")
    ap.add_argument("--out", default="BENCHMARKS.md")
    ap.add_argument("--quick", action="store_true", help="1 timed run (pipeline check)")
    a = ap.parse_args(argv)
    os.chdir(ROOT)
    if a.quick:
        a.runs = 1
    log = sys.stderr
    systems = a.systems.split(",")
    name = os.path.splitext(os.path.basename(a.config))[0]
    work = a.work or os.path.join("out", "bench", name)
    os.makedirs(work, exist_ok=True)
    ensure_checkpoint(a, log)
    sys.path.insert(0, HERE)
    import peer  # noqa: E402  (only for the config size; heavy imports stay in the children)

    size = peer.model_size(a.config)
    py = sys.executable
    peer_py = os.path.join(HERE, "peer.py")
    notes: list[str] = []
    rows: list[dict] = []

    onnx = os.path.join(work, "encoder.onnx")
    onnx8 = os.path.join(work, "encoder.int8.onnx")
    if any(s.startswith("ort") for s in systems) and not cached(onnx, [a.checkpoint]):
        print("exporting %s" % onnx, file=log, flush=True)
        r, _, err = Runner.run([py, peer_py, "export", "--config", a.config, "--checkpoint", a.checkpoint,
                                "--out", onnx], 1, log)
        if r is None:
            notes.append("ONNX export failed: %s" % err)
        else:
            notes.append("ONNX export max |Δ| vs torch: %.2e" % r["max_abs_err_vs_torch"])
    if "ort-int8" in systems and os.path.exists(onnx) and not cached(onnx8, [onnx]):
        print("quantizing %s" % onnx8, file=log, flush=True)
        r, _, err = Runner.run([py, peer_py, "quantize", "--onnx", onnx, "--size", str(size), "--out", onnx8], 1, log)
        if r is None:
            notes.append("ORT int8 quantization failed: %s" % err)

    sam2q = a.sam2q or os.path.join(os.path.dirname(a.checkpoint), "model.sam2q")
    common = ["--threads", "{t}", "--runs", str(a.runs)]
    sam2r_common = ["--json", "--predicts", str(a.predicts)] + common
    configs = []  # (system, precision, command template, json key of seconds or None)
    if "torch" in systems:
        configs.append(("PyTorch eager (`forward_image`)", "fp32",
                        [py, peer_py, "torch", "--config", a.config, "--checkpoint", a.checkpoint] + common))
    if "ort" in systems:
        configs.append(("ONNX Runtime", "fp32", [py, peer_py, "ort", "--onnx", onnx, "--size", str(size)] + common))
    if "sam2r" in systems:
        configs.append(("sam2r", "fp32", [a.sam2r, "bench", "--model", a.checkpoint, "--config", a.config]
                        + sam2r_common))
    if "ort-int8" in systems:
        configs.append(("ONNX Runtime (quantize_static¹)", "int8",
                        [py, peer_py, "ort", "--onnx", onnx8, "--size", str(size)] + common))
    if "sam2r-int8" in systems:
        # The int8 model file carries its config (`make bench` makes it with sam2r calibrate + quantize).
        if os.path.exists(sam2q):
            configs.append(("sam2r", "int8", [a.sam2r, "bench", "--model", sam2q] + sam2r_common))
        else:
            notes.append("sam2r int8: skipped, no .sam2q model at %s (make bench-sam2q)" % sam2q)

    for system, prec, tmpl in configs:
        for t in a.threads:
            cmd = [c.replace("{t}", str(t)) for c in tmpl]
            if not os.path.exists(cmd[0]) and cmd[0] != py:
                notes.append("%s %s: %s missing (make bench builds it)" % (system, prec, cmd[0]))
                break
            if "onnx" in " ".join(cmd) and not os.path.exists(cmd[cmd.index("--onnx") + 1]):
                break
            print("%s %s, %d thread(s)" % (system, prec, t), file=log, flush=True)
            t0 = time.time()
            r, rss, err = Runner.run(cmd, t, log)
            row = {"system": system, "precision": prec, "threads": t, "peak_rss_bytes": rss,
                   "wall_s": round(time.time() - t0, 1)}
            if r is None:
                row["error"] = err
                notes.append("%s %s @%d: failed: %s" % (system, prec, t, err))
            elif "encoder_ms_median" in r:  # sam2r
                row.update(median_s=r["encoder_ms_median"] / 1000, min_s=r["encoder_ms_min"] / 1000,
                           decoder_ms=r["decoder_ms_median"], arena_bytes=r["arena_bytes"],
                           heap_allocations=r.get("heap_allocations_during_inference"),
                           encoder_gmac=r["encoder_gmac"], preprocess_ms=r["preprocess_ms_median"])
            else:
                row.update(median_s=r["median_s"], min_s=r["min_s"], times_s=r["times_s"])
            rows.append(row)
            print("  -> %s s median, peak RSS %.0f MB" % (fmt_s(row.get("median_s")), rss / 1e6), file=log, flush=True)

    gmac = next((r["encoder_gmac"] for r in rows if "encoder_gmac" in r), None)
    m = machine()
    cmdline = "tools/bench/bench.py " + " ".join(shlex.quote(x) for x in (argv if argv is not None else sys.argv[1:]))
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump({"machine": m, "date": date, "command": cmdline, "rows": rows, "notes": notes,
                   "encoder_gmac": gmac}, f, indent=1)

    lines = [START, "## Model benchmark: %s encoder at %d² (`make bench`)" % (name, size), ""]
    lines.append("Machine: %s, %s logical CPUs, %s GB; flags: %s; load average at start %s. Date: %s." % (
        m.get("model"), m.get("cores"), m.get("mem_gb", "?"), " ".join(m["flags"]) or "–",
        " ".join(m.get("loadavg", [])), date))
    lines.append("Command: `%s` (checkpoint `%s`). Median and min of %d run(s) after 1 warm-up, one process per "
                 "configuration; peak RSS = that process's ru_maxrss.%s" % (
                     cmdline, a.checkpoint, a.runs, " **Quick mode: not a measurement.**" if a.quick else ""))
    if gmac:
        lines.append("Encoder work: %.4g GMAC (from the config's shapes, Sources/sam2r/ModelMACs.swift); sam2r's encoder "
                     "time is setImage minus preprocessing, the peers' is the encoder graph on a ready tensor. sam2r's "
                     "decoder is the median per prompt over its runs x %d prompts (one click each)." % (gmac, a.predicts))
    lines += ["", "| system | precision | threads | encoder median s | min s | GMAC/s | vs PyTorch | peak RSS MB | notes |",
              "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    order = {id(r): i for i, r in enumerate(rows)}
    rows.sort(key=lambda r: (r["threads"], order[id(r)]))
    base = {r["threads"]: r.get("median_s") for r in rows if r["system"].startswith("PyTorch")}
    for r in rows:
        rate = "%.3g" % (gmac / r["median_s"]) if gmac and r.get("median_s") else "–"
        b = base.get(r["threads"])
        speed = "%.2f×" % (b / r["median_s"]) if b and r.get("median_s") else "–"
        note = r.get("error", "")
        if "decoder_ms" in r:
            note = "preprocess %.0f ms, decoder %.1f ms/prompt, arena %.0f MB, heap allocs/inference %s" % (
                r["preprocess_ms"], r["decoder_ms"], r["arena_bytes"] / 1e6, r.get("heap_allocations"))
        lines.append("| %s | %s | %d | %s | %s | %s | %s | %.0f | %s |" % (
            r["system"], r["precision"], r["threads"], fmt_s(r.get("median_s")), fmt_s(r.get("min_s")), rate, speed,
            r["peak_rss_bytes"] / 1e6, note))
    if "ort-int8" in systems:
        notes.insert(0, "¹ ORT int8: `quantize_static` after `quant_pre_process(skip_symbolic_shape=True)`, QDQ, per-channel "
                        "int8 weights, uint8 activations, MinMax calibration on 4 scikit-image photos (%s); ORT fp32 "
                        "graph: `torch.onnx.export(opset_version=17, dynamo=False)` of forward_image + no_mem_embed."
                     % ", ".join(peer.CALIBRATION_PHOTOS))
    if notes:
        lines += [""] + ["- " + n for n in notes]
    lines += ["", END]
    block = "\n".join(lines)

    text = open(a.out).read() if os.path.exists(a.out) else "# Benchmarks\n"
    if START in text and END in text and text.index(START) < text.index(END):
        text = text[:text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(a.out + ".tmp", "w") as f:
        f.write(text)
    os.replace(a.out + ".tmp", a.out)
    print(block)


if __name__ == "__main__":
    main()
