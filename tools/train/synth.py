"""Seeded synthetic segmentation scenes for training and evaluating the demo SAM2 + SAM2Refiner model.

A scene is a real photo or texture from scikit-image (random crop, scale, flip, colour jitter) with 2-4 objects
composited on it. Objects are made to have what a 256-px low-res decoder mask cannot resolve: thin spokes, rings with
holes, branching twigs, glyph strokes, letters, combs, blobs with holes and antennae. Each object is filled with a
tinted texture/photo crop or a noisy colour ramp whose mean colour is pushed away from the background under it, so
the object is visible (the model is trained from scratch for minutes: the task must be learnable) while its
boundary stays as fine as the shape. Objects may overlap; an object's ground truth is its VISIBLE part.

Everything is drawn at the scene's own resolution (masks are exact, binary, not resized). The same seed gives the
same scene bit for bit: one numpy Generator per scene, seeded from (seed, index).

API: `Pool()` (the source photos, loaded once), `make_scene(rng, h, w, pool)` -> `Scene`,
`sample_prompt(rng, mask, kind)` -> `{"points": [[x, y, label], ...]}` or `{"box": [x0, y0, x1, y1]}` in image pixels.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Photos (scenes, fills) and textures (fills, backgrounds) shipped inside scikit-image (no download needed).
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "retina",
          "stereo_motorcycle", "camera", "moon", "coins", "cell", "clock")
TEXTURES = ("brick", "grass", "gravel")
SHAPES = ("star", "wheel", "tree", "glyph", "letter", "blob", "comb")
GLYPHS = "ABEFGHKMNPRSWXYZ3458&#@%"


def scene_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of scene `index` of a set: independent of how many scenes come before it."""
    return np.random.default_rng([seed, index])


class Pool:
    """Source images as uint8 RGB PIL images (grey ones replicated)."""

    def __init__(self):
        import skimage.data as data

        def rgb(name):
            x = getattr(data, name)()
            if isinstance(x, tuple):  # stereo_motorcycle -> (left, right, disparity)
                x = x[0]
            x = np.asarray(x)
            if x.ndim == 2:
                x = np.stack([x] * 3, -1)
            return Image.fromarray(np.ascontiguousarray(x[..., :3]).astype(np.uint8))

        self.photos = [rgb(n) for n in PHOTOS]
        self.textures = [rgb(n) for n in TEXTURES]
        self.all = self.photos + self.textures


@dataclasses.dataclass
class Scene:
    image: np.ndarray          # [h, w, 3] uint8
    masks: list[np.ndarray]    # visible mask per object, [h, w] bool, in drawing order
    kinds: list[str]           # shape kind per object
    full_area: list[int]       # pixels of each object before occlusion


# ---------------------------------------------------------------- textures and fills

def _crop(rng, src: Image.Image, h: int, w: int, scale_range=(0.6, 2.0)) -> np.ndarray:
    """Random crop of `src` resized to h x w: float32 [h, w, 3] in [0, 1]. Scale > 1 zooms in."""
    sw, sh = src.size
    s = rng.uniform(*scale_range)
    cw = max(8, min(sw, int(round(w / s))))
    ch = max(8, min(sh, int(round(h / s))))
    # keep the crop's aspect when the source is too small
    x0 = int(rng.integers(0, sw - cw + 1))
    y0 = int(rng.integers(0, sh - ch + 1))
    im = src.crop((x0, y0, x0 + cw, y0 + ch))
    if rng.random() < 0.5:
        im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if rng.random() < 0.2:
        im = im.transpose(Image.Transpose.ROTATE_90)
    im = im.resize((w, h), Image.Resampling.BILINEAR)
    return np.asarray(im, dtype=np.float32) / 255.0


def _jitter(rng, x: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """Brightness, contrast, saturation jitter and an occasional channel shuffle."""
    mean = x.mean(axis=(0, 1), keepdims=True)
    grey = x.mean(axis=2, keepdims=True)
    sat = 1 + strength * rng.uniform(-0.5, 0.5)
    x = grey + (x - grey) * sat
    con = 1 + strength * rng.uniform(-0.35, 0.35)
    x = mean + (x - mean) * con
    x = x + strength * rng.uniform(-0.15, 0.15)
    if rng.random() < 0.3 * strength:
        x = x[..., rng.permutation(3)]
    return np.clip(x, 0.0, 1.0)


def _background(rng, pool: Pool, h: int, w: int) -> np.ndarray:
    bg = _jitter(rng, _crop(rng, pool.all[int(rng.integers(len(pool.all)))], h, w, (1.0, 2.5)))
    if rng.random() < 0.3:  # two sources under a soft diagonal split: backgrounds with their own edges
        other = _jitter(rng, _crop(rng, pool.all[int(rng.integers(len(pool.all)))], h, w, (1.0, 2.5)))
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        a = rng.uniform(0, 2 * math.pi)
        d = (xx - w / 2) * math.cos(a) + (yy - h / 2) * math.sin(a) - rng.uniform(-0.3, 0.3) * min(h, w)
        t = 1 / (1 + np.exp(np.clip(-d / rng.uniform(2, 30), -50, 50)))
        bg = bg * (1 - t[..., None]) + other * t[..., None]
    return bg


def _fill(rng, pool: Pool, h: int, w: int) -> np.ndarray:
    """Object appearance over its bounding box: tinted photo/texture crop or a noisy colour ramp."""
    if rng.random() < 0.6:
        x = _crop(rng, pool.all[int(rng.integers(len(pool.all)))], h, w, (0.8, 3.0))
        tint = rng.uniform(0.3, 1.0, size=3).astype(np.float32)
        x = _jitter(rng, x * tint + rng.uniform(-0.1, 0.3, size=3).astype(np.float32), 0.5)
    else:
        c0 = rng.uniform(0, 1, size=3).astype(np.float32)
        c1 = np.clip(c0 + rng.uniform(-0.3, 0.3, size=3), 0, 1).astype(np.float32)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        a = rng.uniform(0, 2 * math.pi)
        t = ((xx * math.cos(a) + yy * math.sin(a)) / max(h, w) + 1) / 2
        x = c0 * (1 - t[..., None]) + c1 * t[..., None]
        x = x + rng.normal(0, rng.uniform(0.0, 0.06), size=x.shape).astype(np.float32)
    return np.clip(x, 0.0, 1.0).astype(np.float32)


def _separate(rng, fill: np.ndarray, under: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Shift the fill's mean colour away from the background under the object when they are too alike."""
    f = fill[m].mean(0)
    b = under[m].mean(0)
    d = f - b
    dist = float(np.linalg.norm(d))
    want = rng.uniform(0.25, 0.5)
    if dist < want:
        if dist < 1e-3:
            d = rng.normal(size=3).astype(np.float32)
            dist = float(np.linalg.norm(d))
        shift = d / dist * (want - dist)
        target = np.clip(f + shift, 0.05, 0.95)  # clipping may undo the shift: then move the other way
        if np.linalg.norm(target - b) < want * 0.7:
            target = np.clip(f - shift * 2.5, 0.05, 0.95)
        fill = np.clip(fill + (target - f), 0.0, 1.0)
    return fill


# ---------------------------------------------------------------- shapes (binary, drawn with PIL at full resolution)

def _rot(pts, cx, cy, a):
    c, s = math.cos(a), math.sin(a)
    return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in pts]


def _thin(rng, side: int) -> int:
    """Width of a thin part: 1-2.2 % of the short image side, >= 2 px: 1.3-2.8 px at the 128 model input, i.e.
    below one pixel of the decoder's 32 x 32 low-res mask (what MR has to recover) but visible at full res."""
    return max(2, int(round(rng.uniform(0.010, 0.022) * side)))


def _draw_star(rng, d, cx, cy, R, side):
    n = int(rng.integers(5, 15))
    inner = rng.uniform(0.12, 0.5)
    a0 = rng.uniform(0, 2 * math.pi)
    pts = []
    for i in range(2 * n):
        r = R * (rng.uniform(0.75, 1.0) if i % 2 == 0 else inner * rng.uniform(0.8, 1.2))
        a = a0 + math.pi * i / n
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    d.polygon(pts, fill=255)


def _draw_wheel(rng, d, cx, cy, R, side):
    t = max(3.0, R * rng.uniform(0.2, 0.4))          # rim: the body; spokes are the thin parts
    d.ellipse((cx - R, cy - R, cx + R, cy + R), fill=255)
    d.ellipse((cx - R + t, cy - R + t, cx + R - t, cy + R - t), fill=0)
    n = int(rng.integers(0, 9))
    if n:
        w = _thin(rng, side) * int(rng.integers(1, 3))
        a0 = rng.uniform(0, 2 * math.pi)
        for i in range(n):
            a = a0 + 2 * math.pi * i / n
            d.line((cx, cy, cx + (R - t / 2) * math.cos(a), cy + (R - t / 2) * math.sin(a)), fill=255, width=w)
        hub = R * rng.uniform(0.1, 0.3)
        d.ellipse((cx - hub, cy - hub, cx + hub, cy + hub), fill=255)


def _draw_tree(rng, d, cx, cy, R, side):
    thin = _thin(rng, side)
    w0 = max(thin + 2, int(R * rng.uniform(0.22, 0.34)))  # trunk: the body; twigs taper to the thin width
    a = rng.uniform(0, 2 * math.pi)
    x, y = cx - R * 0.8 * math.cos(a), cy - R * 0.8 * math.sin(a)

    def branch(x, y, a, length, w, depth):
        x2, y2 = x + length * math.cos(a), y + length * math.sin(a)
        d.line((x, y, x2, y2), fill=255, width=max(thin, int(w)))
        r = max(thin, int(w)) / 2
        d.ellipse((x2 - r, y2 - r, x2 + r, y2 + r), fill=255)  # round joints
        if depth == 0:
            return
        for _ in range(int(rng.integers(2, 4))):
            branch(x2, y2, a + rng.uniform(-1.0, 1.0), length * rng.uniform(0.5, 0.8), w * 0.6, depth - 1)

    branch(x, y, a, R * rng.uniform(0.6, 0.9), w0, int(rng.integers(2, 4)))


def _draw_glyph(rng, d, cx, cy, R, side):
    w = max(_thin(rng, side), int(R * rng.uniform(0.16, 0.3)))   # bold strokes
    for _ in range(int(rng.integers(2, 5))):
        x, y = cx + rng.uniform(-0.6, 0.6) * R, cy + rng.uniform(-0.6, 0.6) * R
        a = rng.uniform(0, 2 * math.pi)
        pts = [(x, y)]
        for _ in range(int(rng.integers(2, 6))):
            a += rng.uniform(-1.4, 1.4)
            step = R * rng.uniform(0.3, 0.7)
            x = float(np.clip(x + step * math.cos(a), cx - R, cx + R))
            y = float(np.clip(y + step * math.sin(a), cy - R, cy + R))
            pts.append((x, y))
        d.line(pts, fill=255, width=w, joint="curve")


def _draw_letter(rng, d, cx, cy, R, side):
    ch = GLYPHS[int(rng.integers(len(GLYPHS)))]
    font = ImageFont.load_default(size=max(12, int(R * 2.2)))
    # bold: PIL's bundled font has hairline strokes; the outline makes them a body
    d.text((cx, cy), ch, fill=255, font=font, anchor="mm", stroke_width=max(1, int(R * rng.uniform(0.08, 0.14))),
           stroke_fill=255)


def _draw_blob(rng, d, cx, cy, R, side):
    k = np.arange(2, 6)
    amp = rng.uniform(0, 0.15, size=k.size) / np.sqrt(k - 1)
    ph = rng.uniform(0, 2 * math.pi, size=k.size)
    pts = []
    for i in range(72):
        a = 2 * math.pi * i / 72
        r = R * 0.75 * (1 + float(np.sum(amp * np.sin(k * a + ph))))
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    d.polygon(pts, fill=255)
    for _ in range(int(rng.integers(1, 4))):  # holes
        hx, hy = cx + rng.uniform(-0.35, 0.35) * R, cy + rng.uniform(-0.35, 0.35) * R
        rx, ry = R * rng.uniform(0.06, 0.2), R * rng.uniform(0.06, 0.2)
        d.ellipse((hx - rx, hy - ry, hx + rx, hy + ry), fill=0)
    thin = _thin(rng, side)
    for _ in range(int(rng.integers(0, 4))):  # antennae
        a = rng.uniform(0, 2 * math.pi)
        r0, r1 = R * 0.6, R * rng.uniform(1.0, 1.3)
        d.line((cx + r0 * math.cos(a), cy + r0 * math.sin(a), cx + r1 * math.cos(a + 0.2), cy + r1 * math.sin(a + 0.2)),
               fill=255, width=thin)


def _draw_comb(rng, d, cx, cy, R, side):
    a = rng.uniform(0, 2 * math.pi)
    bh = R * rng.uniform(0.3, 0.5)
    base = [(-R, -bh), (R, -bh), (R, 0), (-R, 0)]
    d.polygon(_rot(base, cx, cy, a), fill=255)
    n = int(rng.integers(3, 9))
    w = _thin(rng, side) * int(rng.integers(1, 3))
    for i in range(n):
        x = -R + (2 * R) * (i + 0.5) / n
        (x0, y0), (x1, y1) = _rot([(x, 0), (x, R * rng.uniform(0.6, 1.1))], cx, cy, a)
        d.line((x0, y0, x1, y1), fill=255, width=w)


DRAW = {"star": _draw_star, "wheel": _draw_wheel, "tree": _draw_tree, "glyph": _draw_glyph,
        "letter": _draw_letter, "blob": _draw_blob, "comb": _draw_comb}


def draw_shape(rng, kind: str, h: int, w: int) -> np.ndarray:
    side = min(h, w)
    R = side * rng.uniform(0.16, 0.36)
    cx = rng.uniform(0.6 * R, w - 0.6 * R) if w > 1.2 * R else w / 2
    cy = rng.uniform(0.6 * R, h - 0.6 * R) if h > 1.2 * R else h / 2
    im = Image.new("L", (w, h), 0)
    DRAW[kind](rng, ImageDraw.Draw(im), cx, cy, R, side)
    return np.asarray(im) > 127


# ---------------------------------------------------------------- scenes and prompts

MIN_VISIBLE = 0.6      # an object is a valid target when >= 60 % of it stays visible ...
MIN_AREA = 0.002       # ... and it covers >= 0.2 % of the image


def make_scene(rng: np.random.Generator, h: int, w: int, pool: Pool, n_objects: int | None = None) -> Scene:
    img = _background(rng, pool, h, w)
    n = int(n_objects if n_objects is not None else rng.integers(2, 5))
    owner = np.full((h, w), -1, np.int16)
    kinds, areas = [], []
    for i in range(n):
        kind = SHAPES[int(rng.integers(len(SHAPES)))]
        m = draw_shape(rng, kind, h, w)
        if not m.any():
            continue
        ys, xs = np.nonzero(m)
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        fill = _fill(rng, pool, y1 - y0, x1 - x0)
        mm = m[y0:y1, x0:x1]
        fill = _separate(rng, fill, img[y0:y1, x0:x1], mm)
        region = img[y0:y1, x0:x1]
        region[mm] = fill[mm]
        owner[m] = len(kinds)
        kinds.append(kind)
        areas.append(int(m.sum()))
    masks = [owner == i for i in range(len(kinds))]
    image = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
    return Scene(image=image, masks=masks, kinds=kinds, full_area=areas)


def valid_targets(scene: Scene) -> list[int]:
    h, w = scene.image.shape[:2]
    out = []
    for i, m in enumerate(scene.masks):
        a = int(m.sum())
        if a >= MIN_AREA * h * w and a >= MIN_VISIBLE * scene.full_area[i]:
            out.append(i)
    return out


def _interior_points(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixels of the mask away from its boundary (the inner half by distance), so a click is unambiguous."""
    from scipy import ndimage

    dist = ndimage.distance_transform_edt(mask)
    thr = max(1.0, 0.5 * float(dist.max()))
    ys, xs = np.nonzero(dist >= thr)
    return ys, xs


def sample_prompt(rng: np.random.Generator, mask: np.ndarray, kind: str) -> dict:
    """`kind`: "click" (1 positive), "clicks" (2-3: positives and a negative just outside), "box" (jittered bbox).
    Coordinates are image pixels (x = column, y = row); boxes are [x0, y0, x1, y1] with x1/y1 exclusive."""
    h, w = mask.shape
    if kind == "box":
        ys, xs = np.nonzero(mask)
        x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        bw, bh = x1 - x0, y1 - y0
        j = rng.normal(0, 0.04, size=4) * np.array([bw, bh, bw, bh])
        box = [float(np.clip(x0 + j[0], 0, w)), float(np.clip(y0 + j[1], 0, h)),
               float(np.clip(x1 + j[2], 0, w)), float(np.clip(y1 + j[3], 0, h))]
        return {"box": [round(v, 1) for v in box]}
    ys, xs = _interior_points(mask)
    n = 1 if kind == "click" else int(rng.integers(2, 4))
    pts = []
    idx = rng.integers(len(ys))
    pts.append([int(xs[idx]), int(ys[idx]), 1])
    for k in range(1, n):
        if k == n - 1 and rng.random() < 0.7:  # a negative click in the ring around the object
            from scipy import ndimage

            ring = ndimage.binary_dilation(mask, iterations=max(3, int(0.05 * min(h, w)))) & ~mask
            ry, rx = np.nonzero(ring)
            if len(ry):
                j = rng.integers(len(ry))
                pts.append([int(rx[j]), int(ry[j]), 0])
                continue
        j = rng.integers(len(ys))
        pts.append([int(xs[j]), int(ys[j]), 1])
    return {"points": pts}
