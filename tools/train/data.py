"""Training data in the model frame: synthetic scenes resized to S x S, per-target masks and prompt samplers.

The image is resized to S x S like Meta's SAM2Transforms does (antialiased bilinear, aspect ratio NOT kept; PIL's
resize here, 10x cheaper than torchvision's, differing by rounding only) and normalized the same way, so training
sees what the predictor feeds the encoder. A target's mask is resized the same way and thresholded at 0.5. Clicks and boxes are drawn in the
model frame (S x S pixels) with the same rules as synth.sample_prompt, from pixel lists precomputed per target.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from scipy import ndimage

import synth

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
MAX_TARGETS = 4
MIN_AREA = 0.01   # training targets cover >= 1 % of the scene (held-out ones >= 1.5 %): tiny ones teach little


def to_model_frame(image: np.ndarray, S: int) -> np.ndarray:
    """uint8 [h, w, 3] -> uint8 [S, S, 3]. PIL's bilinear resize (antialiased when shrinking, like torchvision's
    Resize(antialias=True) that Meta's transform uses, 10x cheaper; the two differ by rounding only)."""
    return np.asarray(Image.fromarray(image).resize((S, S), Image.Resampling.BILINEAR))


def normalize(x: torch.Tensor) -> torch.Tensor:
    return (x - MEAN) / STD


def mask_to_model_frame(mask: np.ndarray, S: int) -> np.ndarray:
    m = Image.fromarray(mask.astype(np.float32)).resize((S, S), Image.Resampling.BILINEAR)
    return np.asarray(m) >= 0.5


@dataclasses.dataclass
class Target:
    interior: np.ndarray   # [n, 2] (x, y) pixels in the inner half of the mask
    ring: np.ndarray       # [m, 2] (x, y) pixels just outside the mask (negative clicks)
    bbox: tuple            # x0, y0, x1, y1 (exclusive), model frame


def target_info(mask: np.ndarray, rng: np.random.Generator, keep: int = 256) -> Target | None:
    if mask.sum() < 16:
        return None
    dist = ndimage.distance_transform_edt(mask)
    ys, xs = np.nonzero(dist >= max(1.0, 0.5 * float(dist.max())))
    ring = (ndimage.distance_transform_edt(~mask) <= max(3, mask.shape[0] // 20)) & ~mask
    ry, rx = np.nonzero(ring)
    my, mx = np.nonzero(mask)

    def sub(a, b):
        pts = np.stack([b, a], 1).astype(np.int16)
        if len(pts) > keep:
            pts = pts[rng.choice(len(pts), keep, replace=False)]
        return pts

    return Target(sub(ys, xs), sub(ry, rx), (int(mx.min()), int(my.min()), int(mx.max()) + 1, int(my.max()) + 1))


class TrainSet:
    """`n` scenes of size uniform in [lo, hi]^2 (not square), seeded; each keeps up to MAX_TARGETS valid targets."""

    def __init__(self, n: int, S: int, seed: int, lo: int = 256, hi: int = 384, log=print):
        t0 = time.time()
        pool = synth.Pool()
        self.S = S
        self.images = torch.empty((n, 3, S, S), dtype=torch.uint8)
        self.masks: list[np.ndarray] = []     # per scene [t, S, S] bool
        self.targets: list[list[Target]] = []
        rng_t = np.random.default_rng([seed, 1 << 20])
        i = k = 0
        while i < n:
            rng = synth.scene_rng(seed, k)
            k += 1
            h, w = int(rng.integers(lo, hi + 1)), int(rng.integers(lo, hi + 1))
            sc = synth.make_scene(rng, h, w, pool)
            ms, ts = [], []
            for j in [t for t in synth.valid_targets(sc) if sc.masks[t].sum() >= MIN_AREA * h * w][:MAX_TARGETS]:
                m = mask_to_model_frame(sc.masks[j], S)
                t = target_info(m, rng_t)
                if t is not None:
                    ms.append(m)
                    ts.append(t)
            if not ts:
                continue
            self.images[i] = torch.from_numpy(to_model_frame(sc.image, S).copy()).permute(2, 0, 1)
            self.masks.append(np.stack(ms))
            self.targets.append(ts)
            i += 1
            if i % 500 == 0:
                log(f"data: {i}/{n} scenes, {time.time() - t0:.0f}s")
        self.seconds = time.time() - t0

    def __len__(self):
        return len(self.targets)

    def batch(self, rng: np.random.Generator, idx: np.ndarray, k: int, kind: str, n_points: int,
              hflip: bool = True):
        """Images [B, 3, S, S] (normalized) and k prompts per image, all of one kind so the token layout is exactly
        the predictor's (no extra padding): coords [B*k, P, 2], labels [B*k, P] with P = n_points (clicks; the last
        of 2-3 is negative with p 0.7) or 2 (box corners, labels 2/3); gt [B*k, 1, S, S] float.
        A random horizontal flip per image (masks and prompts follow)."""
        S = self.S
        P = 2 if kind == "box" else n_points
        imgs, coords, labels, gts = [], [], [], []
        for i in idx:
            flip = hflip and rng.random() < 0.5
            im = self.images[i].float().div(255.0)
            imgs.append(im.flip(-1) if flip else im)
            for _ in range(k):
                t = int(rng.integers(len(self.targets[i])))
                tg = self.targets[i][t]
                m = self.masks[i][t]
                c = np.zeros((P, 2), np.float32)
                if kind == "box":
                    x0, y0, x1, y1 = tg.bbox
                    bw, bh = x1 - x0, y1 - y0
                    j = rng.normal(0, 0.05, 4) * np.array([bw, bh, bw, bh])
                    c[0] = np.clip([x0 + j[0], y0 + j[1]], 0, S)
                    c[1] = np.clip([x1 + j[2], y1 + j[3]], 0, S)
                    lab = np.array([2, 3], np.float32)
                    if flip:  # x -> S - x for edges; the corners swap so that x0 < x1 again
                        c[:, 0] = (S - c[:, 0])[::-1]
                else:
                    lab = np.ones(P, np.float32)
                    for p in range(P):
                        neg = p == P - 1 and p > 0 and rng.random() < 0.7 and len(tg.ring) > 0
                        src = tg.ring if neg else tg.interior
                        c[p] = src[int(rng.integers(len(src)))]
                        lab[p] = 0 if neg else 1
                    if flip:  # pixel column c -> S - 1 - c
                        c[:, 0] = S - 1 - c[:, 0]
                if flip:
                    m = m[:, ::-1]
                coords.append(c)
                labels.append(lab)
                gts.append(np.ascontiguousarray(m))
        img = normalize(torch.stack(imgs))
        return (img, torch.from_numpy(np.stack(coords)), torch.from_numpy(np.stack(labels)).to(torch.int32),
                torch.from_numpy(np.stack(gts)).float().unsqueeze(1))
