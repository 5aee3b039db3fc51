#!/usr/bin/env python3
"""Train the demo model: a micro SAM2.1-family model + SAM2Refiner, end to end from scratch, on synthetic scenes.

    tools/.venv/bin/python tools/train/train.py --out out/train

Model: tools/train/demo-config.json (docs/model-config.md + the `refiner` object of docs/refiner.md), built with
Meta's modules (tools/reference/sam2cfg.build_model) and tools/reference/refiner.py (SAM2Refiner, zero-initialised
LA/PR output layers). Data: tools/train/synth.py scenes, resized to the model frame like Meta's transform.
Schedule: a localization warmup of the prompt encoder + decoder (localization_warmup), then a plain phase (the SAM2
part alone, --plain-fraction of the budget: plain steps are cheap) and a refined phase (everything, end to end).
Each step runs one prompt kind for the whole batch (1 click / 2-3 clicks with a negative / box), several prompts
per image, and optimizes (losses.py): the plain SAM2 path (what Meta's predictor outputs: decoder logits upsampled)
+ in the refined phase the refined path (LA -> PR -> decoder, and MR's outputs at L, 2L and full resolution).
Training the plain path too keeps the SAM2 part a working model on its own, so "without the refiner" is a fair
baseline, not a model missing its inputs.

Seeded (data, init, batches); the time budget ends the run, so the step count depends on the machine's load.
Writes to --out:
config.json, demo.safetensors (what the runtime loads), demo.pt (official layout {"model": state_dict}),
train_log.json (loss curve, timings).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.path.join(HERE, "..", "reference")
sys.path.insert(0, HERE)
sys.path.insert(0, REF)

# Passive OpenMP waiting: on a shared machine spinning threads burn the CPU time the other thread needs.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import data  # noqa: E402
import forward  # noqa: E402
import losses  # noqa: E402

CONFIG = os.path.join(HERE, "demo-config.json")


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def build(spec: dict, seed: int):
    """Meta's model from the JSON config; sam2cfg attaches refiner.SAM2Refiner as `model.refiner` when the config
    has a `refiner` object. Meta's default init, then the refiner's zero-initialised layers (LA/PR output
    projections, MR's per-stage outputs: LA and PR start as the identity, MR as bilinear upsampling)."""
    import sam2cfg

    torch.manual_seed(seed)
    model = sam2cfg.build_model(spec)
    if getattr(model, "refiner", None) is not None:
        model.refiner.zero_init()
    return model



def save(out: str, spec: dict, sd: dict, meta: dict) -> None:
    from safetensors.torch import save_file

    os.makedirs(out, exist_ok=True)

    def atomic(path, write):
        tmp = path + ".tmp"
        write(tmp)
        os.replace(tmp, path)

    atomic(os.path.join(out, "config.json"), lambda p: open(p, "w").write(json.dumps(spec, indent=2) + "\n"))
    atomic(os.path.join(out, "demo.safetensors"),
           lambda p: save_file(sd, p, metadata={"sam2r": json.dumps(meta, sort_keys=True)}))
    atomic(os.path.join(out, "demo.pt"), lambda p: torch.save({"model": sd}, p))


def localization_warmup(model, steps: int, S: int, seed: int, log) -> None:
    """Teach the prompt encoder + mask decoder to use the click position before anything else: on zero image
    features, the target is a disc (radius S/32) at the click. Trained from scratch on scenes, the decoder first
    finds a prompt-independent "segment every salient object" solution and stayed there for thousands of steps
    (masks identical for any click); with this warmup it starts out localizing and keeps doing so."""
    pe_mod, dec = model.sam_prompt_encoder, model.sam_mask_decoder
    opt = torch.optim.AdamW(list(pe_mod.parameters()) + list(dec.parameters()), lr=1e-3, fused=True)
    g = torch.Generator().manual_seed(seed)
    C, E = dec.transformer_dim, pe_mod.image_embedding_size[0]
    L = 4 * E
    yy, xx = torch.meshgrid(torch.arange(L) + 0.5, torch.arange(L) + 0.5, indexing="ij")
    B = 32
    for step in range(steps):
        co = torch.rand(B, 1, 2, generator=g) * S
        sparse, dense = pe_mod(points=(co, torch.ones(B, 1, dtype=torch.int32)), boxes=None, masks=None)
        hr = [torch.zeros(B, C // 8, L, L), torch.zeros(B, C // 4, L // 2, L // 2)]
        out = forward.refmod.decode(model, torch.zeros(B, C, E, E), pe_mod.get_dense_pe(), sparse, dense, hr,
                                    multimask_output=False)
        c = co[:, 0] * L / S
        gt = (((xx[None] - c[:, 0, None, None]) ** 2 + (yy[None] - c[:, 1, None, None]) ** 2) <= (L / 8) ** 2)
        gt = gt.float()[:, None]
        loss = losses.mask_terms(out["masks_raw"], gt.expand(-1, 4, -1, -1)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            iou = losses.iou_of(out["masks_raw"][:, 0:1], gt).mean().item()
            log(f"localization warmup {step:4d}: loss {loss.item():.3f} IoU {iou:.3f}")


def average_gradients(params, world: int) -> None:
    """Mean of every worker's gradients, in one all-reduce over a flat copy (hundreds of small tensors one by one
    cost more in latency than the data). Parameters without a gradient (the refiner in the plain phase) are
    the same on every worker, so the layouts agree."""
    import torch.distributed as dist

    grads = [p.grad for p in params if p.grad is not None]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= world
    o = 0
    for g in grads:
        g.copy_(flat[o:o + g.numel()].view_as(g))
        o += g.numel()


def lr_at(step: int, progress: float, base: float, warmup: int) -> float:
    """Linear warmup over `warmup` steps, then cosine from base to 5 % of it over progress in [0, 1]."""
    if step < warmup:
        return base * (step + 1) / warmup
    return base * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="out/train")
    ap.add_argument("--config", default=CONFIG)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scenes", type=int, default=2000, help="training scenes (generated first, in memory)")
    ap.add_argument("--steps", type=int, default=100000,
                    help="planned steps; the default is out of reach, so the time budget (--max-minutes) ends the run")
    ap.add_argument("--batch", type=int, default=4, help="images per step")
    ap.add_argument("--prompts", type=int, default=8,
                    help="prompts per image (targets drawn with replacement): decoder passes are cheap next to the "
                         "encoder, and every prompt adds supervision for it (SAM trains on many masks per image)")
    ap.add_argument("--mr-images", type=int, default=4, help="images per step whose first prompt goes through MR")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--loss-res", choices=("low", "full"), default="low",
                    help="decoder-mask losses at the low-res logits' size (GT area-averaged) or upsampled to S")
    ap.add_argument("--mask-loss", choices=("focal", "bce-dice"), default="bce-dice", help="see losses.MASK_LOSS")
    ap.add_argument("--loc-warmup", type=int, default=500, help="steps of localization_warmup before training")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads; 1 on this 2-core machine (2 were slower for these small tensors under load)")
    ap.add_argument("--max-minutes", type=float, default=30.0,
                    help="wall-clock budget including data generation; the lr schedule ends within it (see above)")
    ap.add_argument("--no-refiner", action="store_true", help="train the SAM2 part only")
    ap.add_argument("--plain-fraction", type=float, default=0.35,
                    help="share of the run (steps and time budget) that trains the SAM2 part alone before the refiner "
                         "joins: plain steps cost a fraction of refined ones (MR at full resolution), so the SAM2 part "
                         "gets many more of them; each phase has its own warmup and cosine decay")
    ap.add_argument("--init", help="start from this .safetensors (e.g. a SAM2-only run, to fine-tune with the refiner)")
    ap.add_argument("--workers", type=int, default=2,
                    help="data-parallel processes (one torch thread each, gradients averaged every step); 2 on this "
                         "2-core machine doubles the images per step where 2 intra-op threads did not help (the "
                         "installed demo model: 2)")
    ap.add_argument("--schedule", choices=("one", "phased"), default="one",
                    help="one: a single warmup + cosine over the whole run, the refiner's parameters ramped in over "
                         "--warmup steps when it joins; phased: each phase restarts the warmup + cosine (the restart "
                         "to the peak lr cost the SAM2 part ~1500 steps of progress: training IoU 0.61 -> 0.48)")
    a = ap.parse_args(argv)
    if a.workers > 1:
        import torch.multiprocessing as mp

        port = 29000 + os.getpid() % 1000
        mp.spawn(run, args=(a, port), nprocs=a.workers, join=True)
    else:
        run(0, a, 0)


def run(rank: int, a, port: int):
    world = a.workers
    if world > 1:
        import torch.distributed as dist

        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)

    losses.MASK_LOSS = a.mask_loss
    t0, c0 = time.time(), cpu_seconds()
    torch.set_num_threads(a.threads)
    np.random.seed(a.seed)
    log_lines = []

    def log(s):
        if rank:
            return
        s = f"[{time.time() - t0:7.1f}s] {s}"
        print(s, flush=True)
        log_lines.append(s)

    with open(a.config) as f:
        spec = json.load(f)
    if a.no_refiner:
        spec.pop("refiner", None)
    S = spec["image_size"]
    model = build(spec, a.seed)
    with_refiner = getattr(model, "refiner", None) is not None
    if a.init:
        from safetensors.torch import load_file

        res = model.load_state_dict(load_file(a.init), strict=False)
        # a SAM2-only checkpoint may lack refiner.* (they keep their zero init); anything else must match
        bad = [k for k in res.missing_keys if not k.startswith("refiner.")] + list(res.unexpected_keys)
        if bad:
            raise SystemExit(f"error: {a.init}: keys do not match the config: {bad[:5]}")
        log(f"init from {a.init} ({len(res.missing_keys)} refiner tensors keep their init)")
    model.train()
    params = list(model.parameters())
    n_ref = sum(p.numel() for p in model.refiner.parameters()) if with_refiner else 0
    n_sam = sum(p.numel() for p in params) - n_ref
    log(f"model: SAM2 {n_sam:,} params, refiner {n_ref:,} params, S={S}")

    if a.loc_warmup:
        localization_warmup(model, a.loc_warmup, S, a.seed, log)
    if world > 1:
        # every worker ran the same seeded init + warmup; rank 0's copy is made the one truth anyway
        for t in model.state_dict().values():
            dist.broadcast(t, 0)
    # each worker holds its own shard of distinct scenes (rank 0's is the start of the single-process set)
    ds = data.TrainSet(a.scenes // world, S, a.seed + 7919 * rank, log=log)
    log(f"data: {len(ds)} scenes per worker x {world} in {ds.seconds:.1f}s")

    ref_ids = {id(p) for p in model.refiner.parameters()} if with_refiner else set()
    groups = []
    for is_ref in (False, True):
        ps = [p for p in params if (id(p) in ref_ids) == is_ref]
        groups += [{"params": [p for p in ps if p.ndim >= 2], "weight_decay": 0.05, "refiner": is_ref},
                   {"params": [p for p in ps if p.ndim < 2], "weight_decay": 0.0, "refiner": is_ref}]
    opt = torch.optim.AdamW([g for g in groups if g["params"]], lr=a.lr, betas=(0.9, 0.999), fused=True)
    rng = np.random.default_rng([a.seed, 7] + ([rank] if rank else []))
    curve = []
    ema = {}
    stopped_early = False
    step = 0
    budget = 60 * a.max_minutes - 45          # seconds, minus a margin to save
    split = a.plain_fraction if with_refiner else 0.0
    # phases: (last step, end time in s since t0, with the refiner); each has its own warmup + cosine decay
    phases = ([(round(split * a.steps), split * budget, False)] if split > 0 else []) + [(a.steps, budget, with_refiner)]
    phase, phase_step, phase_s0, phase_e0 = 0, 0, 0, 0.0
    clock = torch.zeros(1, dtype=torch.float64)
    for step in range(a.steps):
        # Progress within a phase = the larger of its step fraction and its time fraction: on a quiet machine the
        # run is deterministic (--steps ends it), on a loaded one the schedule still completes its cosine decay
        # inside --max-minutes. Workers follow rank 0's clock so that they switch phase and stop at the same step.
        clock[0] = time.time() - t0
        if world > 1:
            dist.broadcast(clock, 0)
        elapsed = float(clock[0])
        s1, e1, refine_now = phases[phase]
        progress = max((step - phase_s0) / max(1, s1 - phase_s0), (elapsed - phase_e0) / max(1e-9, e1 - phase_e0))
        if progress >= 1.0 and phase + 1 < len(phases):
            phase, phase_step, phase_s0, phase_e0 = phase + 1, 0, step, elapsed
            s1, e1, refine_now = phases[phase]
            progress = 0.0
            log(f"step {step}: the refiner joins (plain phase done)")
        if progress >= 1.0:
            stopped_early = step < a.steps
            log(f"time budget reached at step {step}: ending the schedule there")
            break
        if a.schedule == "phased":
            for g in opt.param_groups:
                g["lr"] = lr_at(phase_step, progress, a.lr, a.warmup)
        else:
            whole = max(step / a.steps, elapsed / budget)
            for g in opt.param_groups:
                ramp = min(1.0, (phase_step + 1) / a.warmup) if g["refiner"] else 1.0
                g["lr"] = lr_at(step, whole, a.lr, a.warmup) * ramp
        phase_step += 1
        kind = ("click", "clicks", "box")[int(rng.choice(3, p=[0.4, 0.3, 0.3]))]
        n_pts = 1 if kind == "click" else int(rng.integers(2, 4))
        idx = rng.choice(len(ds), a.batch, replace=False)
        img, coords, labels, gt = ds.batch(rng, idx, a.prompts, kind, n_pts)
        out = forward.forward(model, img, coords, labels, a.prompts, refine_now, a.mr_images)
        mm = kind == "click"
        L = out["plain_masks"].shape[-1]
        gt_dec = gt if a.loss_res == "full" else torch.nn.functional.avg_pool2d(gt, S // L)
        loss_p, iou_p = losses.decoder_loss(out["plain_masks"], out["plain_iou"], gt_dec, mm)
        loss = loss_p
        rec = {"plain": loss_p.item(), "iou_plain": iou_p.mean().item()}
        if refine_now:
            loss_r, _ = losses.decoder_loss(out["ref_masks"], out["ref_iou"], gt_dec, mm)
            gt_full = gt[out["ref_full_index"]]
            loss_f, iou_f = losses.full_loss(out["ref_full"], gt_full)
            # deep supervision of the cascade's L and 2L outputs against the area-averaged truth
            for m in out["ref_mid"]:
                loss_f = loss_f + 0.5 * losses.full_loss(m, torch.nn.functional.avg_pool2d(gt_full, S // m.shape[-1]))[0]
            loss = loss + loss_r + loss_f
            rec.update({"refined_lowres": loss_r.item(), "refined_full": loss_f.item(),
                        "iou_refined": iou_f.mean().item()})
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if world > 1:
            average_gradients(params, world)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        rec["loss"] = loss.item()
        for k, v in rec.items():
            ema[k] = v if k not in ema else 0.95 * ema[k] + 0.05 * v
        if step % 10 == 0 or step == a.steps - 1:
            curve.append({"step": step, "kind": kind, "lr": opt.param_groups[0]["lr"], **rec})
        if step % 25 == 0 or step == a.steps - 1:
            log(f"step {step:5d} " + " ".join(f"{k}={v:.4f}" for k, v in ema.items()))

    steps_done = step if stopped_early else step + 1
    if rank:
        return
    model.eval()
    sd = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    wall, cpu = time.time() - t0, cpu_seconds() - c0
    meta = {"source": "tools/train/train.py", "seed": a.seed, "steps": steps_done, "scenes": len(ds) * world,
            "config": spec["name"]}
    save(a.out, spec, sd, meta)
    summary = {"wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1), "data_seconds": round(ds.seconds, 1),
               "steps_done": steps_done, "steps_planned": a.steps,
               "stopped_early": stopped_early, "threads": a.threads, "workers": world, "batch": a.batch,
               "prompts": a.prompts, "scenes": len(ds) * world, "params_sam2": n_sam, "params_refiner": n_ref,
               "tensors": len(sd),
               "final_ema": {k: round(v, 4) for k, v in ema.items()}, "args": vars(a)}
    with open(os.path.join(a.out, "train_log.json"), "w") as f:
        json.dump({"summary": summary, "curve": curve, "log": log_lines}, f, indent=1)
    log(f"done: {steps_done} steps, wall {wall / 60:.1f} min, CPU {cpu / 60:.1f} min -> {a.out}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
