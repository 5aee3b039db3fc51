"""PyTorch reference of the SAM2Refiner modules (LA, PR, MR) and a refined image predictor.

docs/refiner.md is the definition; this file implements it line by line (names, shapes, eps, resize rules), so the
runtime (Sources/SAM2RModel/Refiner*.swift) and the training code can be checked against it. Every module works on
batches, channels-first (NCHW) like Meta's code, and stays differentiable (no `torch.no_grad` inside the modules).

Public interface (used by the trainer; keep the names):

  refiner_config(cfg_dict, C) -> dict
      the `refiner` JSON object with the defaults of docs/refiner.md filled in, validated against C.
  SAM2Refiner(cfg_dict, C)
      holds `la`, `pr`, `mr`; registered as attribute `refiner` of Meta's SAM2Base, its state_dict keys are exactly
      `refiner.la.*`, `refiner.pr.*`, `refiner.mr.*`. `zero_init()` zeroes the layers training starts at zero
      (LA attn.out_proj + ffn.fc2, PR mlp.fc2, MR s{1,2,3}.out): the refiner then starts as the identity on G and
      the sparse tokens, and MR as a cascade of bilinear x2 upsamplings of M0.
  .la(G, Lloc2) -> G'
      G [B, C, H, H] image embedding (with no_mem_embed), Lloc2 [B, C, 2H, 2H] -> G' [B, C, H, H].
  .pr(sparse, coords_model_frame, labels, G_prime, Lloc2, S) -> sparse'
      sparse [B, N, C] prompt-encoder tokens (incl. the padding token), coords_model_frame [B, N, 2] (x, y) in
      model-input pixels BEFORE the prompt encoder's +0.5 shift, labels [B, N] (-1 = padding: unchanged),
      G_prime [B or 1, C, H, H], Lloc2 [B or 1, C, 2H, 2H], S = image_size -> sparse' [B, N, C].
  .mr(M0, U, feat_s0, Lloc0, I) -> (M1, M2, M3)
      M0 [B, 1, L, L] unclamped decoder logits of one mask, U [B, C/8, L, L] decoder upscaled embedding,
      feat_s0 [B, C/8, L, L], Lloc0 [B, C/8, 2L, 2L], I [B, 3, S, S] normalized input (L = S/4)
      -> M1 [B, 1, L, L], M2 [B, 1, 2L, 2L], M3 [B, 1, S, S].
  encode(model, input_batch) -> feats
      Meta's `forward_image` on preprocessed images [B, 3, S, S]; feats = {"image_embed" [B,C,H,H] (+ no_mem_embed),
      "level2" [B,C,H,H] (FPN level 2 without no_mem_embed), "F1" [B,C,2H,2H] (FPN level 1 before conv_s1),
      "feat_s0" [B,C/8,4H,4H], "feat_s1" [B,C/4,2H,2H]}.
  local_maps(model, feats, image_batch, local_views) -> {"Lloc2": [B,C,2H,2H], "Lloc0": [B,C/8,8H,8H]}
      local_views 0: from feats only (image_batch unused, may be None). local_views 4: image_batch is a list of B
      original images (uint8 HWC numpy arrays or float [3, h, w] tensors in [0, 1]); each is cut into quadrants,
      preprocessed like a full image and encoded by the same encoder.
  preprocess(images, S) -> [B, 3, S, S]
      Meta's SAM2Transforms (ToTensor, antialiased bilinear Resize((S, S)), Normalize) on a list of images.
  decode(model, G_prime, pe, sparse, dense, high_res, multimask_output, repeat_image=False) -> dict
      Meta's mask decoder + its selection rule, also returning the upscaled embedding U that MR needs.
  RefinedPredictor(model, local_views=None)
      Meta's SAM2ImagePredictor with the refiner: set_image(img), predict(point_coords, point_labels, box,
      mask_input=None, multimask_output=True, return_logits=False) -> (masks [M,h,w], iou [M], low_res [M,L,L])
      like Meta's predict; predict_detailed(...) returns every intermediate tensor (goldens).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from sam2.modeling.position_encoding import PositionEmbeddingSine
from sam2.modeling.sam2_utils import LayerNorm2d
from sam2.sam2_image_predictor import SAM2ImagePredictor
from sam2.utils.transforms import SAM2Transforms
from torch import nn

LN_EPS = 1e-6
DEFAULTS = {"local_views": 0, "la_layers": 2, "la_window": 8, "mr_width": 32, "mr_width_full": 16}


def refiner_config(cfg: dict | None, C: int) -> dict:
    """Defaults of docs/refiner.md filled in; la_heads defaults to max(1, C / 32)."""
    r = dict(DEFAULTS)
    r["la_heads"] = max(1, C // 32)
    r.update(cfg or {})
    unknown = set(r) - set(DEFAULTS) - {"la_heads"}
    if unknown:
        raise ValueError(f"refiner: unknown keys {sorted(unknown)}")
    if r["local_views"] not in (0, 4):
        raise ValueError("refiner.local_views must be 0 or 4")
    if C % r["la_heads"] != 0:
        raise ValueError(f"refiner.la_heads {r['la_heads']} must divide C = {C}")
    if C % 8 != 0:
        raise ValueError("C must be a multiple of 8 (feat_s0 has C/8 channels)")
    for k in ("la_layers", "la_window", "mr_width", "mr_width_full", "la_heads"):
        if not isinstance(r[k], int) or r[k] < 1:
            raise ValueError(f"refiner.{k} must be a positive integer")
    return r


def up2(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


def pool2(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, kernel_size=2, stride=2)


_PE_CACHE: dict = {}


def sine_pe(C: int, n: int, device=None) -> torch.Tensor:
    """sinePE(n) of docs/refiner.md: Meta's PositionEmbeddingSine(num_pos_feats=C) on an n x n map, [C, n, n]."""
    key = (C, n, str(device))
    if key not in _PE_CACHE:
        pe = PositionEmbeddingSine(num_pos_feats=C, warmup_cache=False)
        _PE_CACHE[key] = pe._pe(1, device or torch.device("cpu"), n, n)[0].contiguous()
    return _PE_CACHE[key]


def window_tokens(x: torch.Tensor, w: int) -> torch.Tensor:
    """[B, C, n, n] -> [B * (n/w)^2, w*w, C]: windows in row-major order of (a, b), tokens row-major inside."""
    B, C, n, _ = x.shape
    k = n // w
    x = x.reshape(B, C, k, w, k, w).permute(0, 2, 4, 3, 5, 1)  # B, a, b, r, c, C
    return x.reshape(B * k * k, w * w, C)


def unwindow_tokens(t: torch.Tensor, B: int, n: int, w: int) -> torch.Tensor:
    """Inverse of window_tokens: [B * (n/w)^2, w*w, C] -> [B, C, n, n]."""
    k = n // w
    C = t.shape[-1]
    return t.reshape(B, k, k, w, w, C).permute(0, 5, 1, 3, 2, 4).reshape(B, C, n, n)


# ------------------------------------------------------------------------------------------------------------ LA
class CrossAttention(nn.Module):
    def __init__(self, C: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(C, C)
        self.k_proj = nn.Linear(C, C)
        self.v_proj = nn.Linear(C, C)
        self.out_proj = nn.Linear(C, C)

    def forward(self, q_in, k_in, v_in):
        q, k, v = self.q_proj(q_in), self.k_proj(k_in), self.v_proj(v_in)
        n, tq, C = q.shape
        h, d = self.heads, C // self.heads
        q = q.reshape(n, tq, h, d).transpose(1, 2)
        k = k.reshape(n, -1, h, d).transpose(1, 2)
        v = v.reshape(n, -1, h, d).transpose(1, 2)
        # explicit softmax(q k^T / sqrt(d)) v rather than scaled_dot_product_attention: the same arithmetic the
        # runtime does, with no backend choosing a fused kernel
        a = torch.softmax((q @ k.transpose(-2, -1)) / math.sqrt(d), dim=-1)
        o = (a @ v).transpose(1, 2).reshape(n, tq, C)
        return self.out_proj(o)


class FFN(nn.Module):
    def __init__(self, C: int):
        super().__init__()
        self.fc1 = nn.Linear(C, 4 * C)
        self.fc2 = nn.Linear(4 * C, C)
        self.act = nn.GELU()

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class LALayer(nn.Module):
    def __init__(self, C: int, heads: int):
        super().__init__()
        self.norm_q = nn.LayerNorm(C, eps=LN_EPS)
        self.norm_kv = nn.LayerNorm(C, eps=LN_EPS)
        self.norm_ffn = nn.LayerNorm(C, eps=LN_EPS)
        self.attn = CrossAttention(C, heads)
        self.ffn = FFN(C)

    def forward(self, x, l, pe_g, pe_l):
        xn, ln = self.norm_q(x), self.norm_kv(l)
        x = x + self.attn(xn + pe_g, ln + pe_l, ln)
        return x + self.ffn(self.norm_ffn(x))


class LocalizationAugment(nn.Module):
    """G' = LA(G, Lloc2): G's la_window^2 windows cross-attend to the aligned (2 la_window)^2 windows of Lloc2."""

    def __init__(self, C: int, layers: int, heads: int, window: int):
        super().__init__()
        self.C, self.window = C, window
        self.layers = nn.ModuleList(LALayer(C, heads) for _ in range(layers))

    def forward(self, G: torch.Tensor, Lloc2: torch.Tensor) -> torch.Tensor:
        B, C, H, W = G.shape
        w = self.window
        if H != W or H % w != 0 or tuple(Lloc2.shape[-2:]) != (2 * H, 2 * H):
            raise ValueError(f"LA: G {tuple(G.shape)} / Lloc2 {tuple(Lloc2.shape)} do not fit la_window {w}")
        dev = G.device
        pe_g = window_tokens(sine_pe(C, H, dev)[None], w).to(G.dtype)       # [(H/w)^2, w^2, C]
        pe_l = window_tokens(sine_pe(C, 2 * H, dev)[None], 2 * w).to(G.dtype)
        nwin = pe_g.shape[0]
        pe_g = pe_g.repeat(B, 1, 1)
        pe_l = pe_l.repeat(B, 1, 1)
        x = window_tokens(G, w)
        l = window_tokens(Lloc2, 2 * w)
        assert x.shape[0] == l.shape[0] == B * nwin
        for layer in self.layers:
            x = layer(x, l, pe_g, pe_l)
        return unwindow_tokens(x, B, H, w)


# ------------------------------------------------------------------------------------------------------------ PR
class PromptMLP(nn.Module):
    def __init__(self, C: int):
        super().__init__()
        self.fc1 = nn.Linear(3 * C, C)
        self.fc2 = nn.Linear(C, C)
        self.act = nn.GELU()

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def sample_points(fmap: torch.Tensor, coords: torch.Tensor, S: int) -> torch.Tensor:
    """Bilinear sample of fmap [B, C, h, w] at model-frame points [B, N, 2] (x, y, before +0.5) -> [B, N, C]."""
    g = ((coords + 0.5) / S) * 2 - 1
    out = F.grid_sample(fmap, g[:, None, :, :].to(fmap.dtype), mode="bilinear", padding_mode="zeros",
                        align_corners=False)                                   # [B, C, 1, N]
    return out[:, :, 0, :].transpose(1, 2)


class PromptRetargeting(nn.Module):
    """s' = s + MLP([s; f(G'); f(Lloc2)]) for tokens with label >= 0; label -1 (padding) unchanged."""

    def __init__(self, C: int):
        super().__init__()
        self.mlp = PromptMLP(C)

    def forward(self, sparse, coords, labels, G_prime, Lloc2, S: int):
        B, N, C = sparse.shape
        if N == 0:
            return sparse
        if G_prime.shape[0] != B:   # one image, several prompt sets (Meta's batched boxes)
            G_prime = G_prime.expand(B, -1, -1, -1)
            Lloc2 = Lloc2.expand(B, -1, -1, -1)
        f = sample_points(G_prime, coords, S)
        f_loc = sample_points(Lloc2, coords, S)
        s_new = sparse + self.mlp(torch.cat([sparse, f, f_loc], dim=-1))
        keep = (labels < 0)[..., None]
        return torch.where(keep, sparse, s_new)


# ------------------------------------------------------------------------------------------------------------ MR
class ResBlock(nn.Module):
    def __init__(self, w: int):
        super().__init__()
        self.conv1 = nn.Conv2d(w, w, 3, padding=1)
        self.norm = LayerNorm2d(w, eps=LN_EPS)
        self.act = nn.GELU()
        self.conv2 = nn.Conv2d(w, w, 3, padding=1)

    def forward(self, x):
        return x + self.conv2(self.act(self.norm(self.conv1(x))))


# The three stages only hold parameters (names = the checkpoint keys of docs/refiner.md); MaskRefinement.forward
# runs them, so the cascade reads in one place exactly as the doc writes it.
class _Stage1(nn.Module):
    def __init__(self, c8: int, W: int):
        super().__init__()
        self.inp = nn.Conv2d(3 * c8 + 1, W, 1)
        self.block = ResBlock(W)
        self.out = nn.Conv2d(W, 1, 1)


class _Stage2(nn.Module):
    def __init__(self, c8: int, W: int):
        super().__init__()
        self.loc = nn.Conv2d(c8, W, 1)
        self.block = ResBlock(W)
        self.out = nn.Conv2d(W, 1, 1)


class _Stage3(nn.Module):
    def __init__(self, W: int, Wf: int):
        super().__init__()
        self.reduce = nn.Conv2d(W, Wf, 1)
        self.stem = nn.Conv2d(3, Wf, 3, padding=1)
        self.block = ResBlock(Wf)
        self.out = nn.Conv2d(Wf, 1, 1)


class MaskRefinement(nn.Module):
    """Cascade L -> 2L -> 4L = S that refines one mask's logits M0 into M1, M2, M3."""

    def __init__(self, C: int, W: int, Wf: int):
        super().__init__()
        c8 = C // 8
        self.s1 = _Stage1(c8, W)
        self.s2 = _Stage2(c8, W)
        self.s3 = _Stage3(W, Wf)
        self.act = nn.GELU()

    def forward(self, M0, U, feat_s0, Lloc0, I):
        L = M0.shape[-1]
        if not (U.shape[-1] == feat_s0.shape[-1] == L and Lloc0.shape[-1] == 2 * L and I.shape[-1] == 4 * L):
            raise ValueError(f"MR: sizes M0 {tuple(M0.shape)} U {tuple(U.shape)} feat_s0 {tuple(feat_s0.shape)} "
                             f"Lloc0 {tuple(Lloc0.shape)} I {tuple(I.shape)} do not fit L, 2L, 4L")
        s1, s2, s3 = self.s1, self.s2, self.s3
        X1 = s1.block(s1.inp(torch.cat([U, feat_s0, pool2(Lloc0), M0], dim=1)))
        M1 = M0 + s1.out(X1)
        X2 = s2.block(up2(X1) + s2.loc(Lloc0))
        M2 = up2(M1) + s2.out(X2)
        X3 = s3.block(s3.reduce(up2(X2)) + self.act(s3.stem(I)))
        M3 = up2(M2) + s3.out(X3)
        return M1, M2, M3


# ------------------------------------------------------------------------------------------------------------ all
class SAM2Refiner(nn.Module):
    def __init__(self, cfg_dict: dict | None, C: int):
        super().__init__()
        self.cfg = refiner_config(cfg_dict, C)
        c = self.cfg
        self.C = C
        self.la = LocalizationAugment(C, c["la_layers"], c["la_heads"], c["la_window"])
        self.pr = PromptRetargeting(C)
        self.mr = MaskRefinement(C, c["mr_width"], c["mr_width_full"])

    @property
    def local_views(self) -> int:
        return self.cfg["local_views"]

    def zero_layers(self) -> list[nn.Module]:
        """The layers training initialises to zero (docs/refiner.md)."""
        z = []
        for layer in self.la.layers:
            z += [layer.attn.out_proj, layer.ffn.fc2]
        z.append(self.pr.mlp.fc2)
        z += [self.mr.s1.out, self.mr.s2.out, self.mr.s3.out]
        return z

    @torch.no_grad()
    def zero_init(self) -> None:
        for m in self.zero_layers():
            m.weight.zero_()
            m.bias.zero_()


def attach(model, spec: dict) -> SAM2Refiner | None:
    """Registers SAM2Refiner as `model.refiner` when the JSON config has a `refiner` object (else nothing)."""
    if spec.get("refiner") is None:
        return None
    r = SAM2Refiner(spec["refiner"], spec["neck"]["d_model"]).to(model.device)
    r.train(model.training)
    model.refiner = r
    return r


# ------------------------------------------------------------------------------------------------------------ features
_TRANSFORMS: dict = {}


def preprocess(images, S: int) -> torch.Tensor:
    """Meta's SAM2Transforms on each image (uint8 HWC numpy: ToTensor first; float [3,h,w] tensor in [0,1]: as is)
    -> [B, 3, S, S]. The same code path SAM2ImagePredictor.set_image uses."""
    if S not in _TRANSFORMS:
        _TRANSFORMS[S] = SAM2Transforms(resolution=S, mask_threshold=0.0)
    t = _TRANSFORMS[S]
    out = []
    for im in images:
        x = t.to_tensor(im) if isinstance(im, np.ndarray) else im
        out.append(t.transforms(x))
    return torch.stack(out, dim=0)


def encode(model, input_batch: torch.Tensor) -> dict:
    """Meta's forward_image on [B, 3, S, S]; also keeps FPN level 1 before conv_s1 (forward_image replaces it in
    the list it returns, so it is taken from the image encoder's output first)."""
    if not model.use_high_res_features_in_sam:
        raise ValueError("the refiner needs use_high_res_features_in_sam (feat_s0 feeds MR)")
    raw_fpn = list(model.image_encoder(input_batch)["backbone_fpn"])
    feat_s0 = model.sam_mask_decoder.conv_s0(raw_fpn[0])
    feat_s1 = model.sam_mask_decoder.conv_s1(raw_fpn[1])
    G = raw_fpn[-1]
    if model.directly_add_no_mem_embed:
        G = G + model.no_mem_embed.view(1, -1, 1, 1)
    return {"image_embed": G, "F1": raw_fpn[1], "feat_s0": feat_s0, "feat_s1": feat_s1, "level2": raw_fpn[-1]}


def quadrants(image):
    """The four quadrants (TL, TR, BL, BR) of an image cut at h0 = h // 2, w0 = w // 2."""
    if isinstance(image, np.ndarray):
        h, w = image.shape[:2]
        h0, w0 = h // 2, w // 2
        return [np.ascontiguousarray(image[r0:r1, c0:c1]) for r0, r1 in ((0, h0), (h0, h))
                for c0, c1 in ((0, w0), (w0, w))]
    h, w = image.shape[-2:]
    h0, w0 = h // 2, w // 2
    return [image[..., r0:r1, c0:c1] for r0, r1 in ((0, h0), (h0, h)) for c0, c1 in ((0, w0), (w0, w))]


def stitch(q: torch.Tensor) -> torch.Tensor:
    """[4B, c, n, n] (per image: TL, TR, BL, BR) -> [B, c, 2n, 2n]."""
    B4, c, n, m = q.shape
    q = q.reshape(B4 // 4, 2, 2, c, n, m).permute(0, 3, 1, 4, 2, 5)
    return q.reshape(B4 // 4, c, 2 * n, 2 * m)


def local_maps(model, feats: dict, image_batch, local_views: int) -> dict:
    """Lloc2 [B, C, 2H, 2H] and Lloc0 [B, C/8, 8H, 8H] (docs/refiner.md, 'Local context maps')."""
    if local_views == 0:
        return {"Lloc2": feats["F1"], "Lloc0": up2(feats["feat_s0"])}
    if local_views != 4:
        raise ValueError("local_views must be 0 or 4")
    if image_batch is None or len(image_batch) != feats["image_embed"].shape[0]:
        raise ValueError("local_views 4 needs the original images (one per batch entry)")
    quads = [q for im in image_batch for q in quadrants(im)]
    x = preprocess(quads, model.image_size).to(feats["image_embed"].device)
    qf = encode(model, x)
    # level 2 WITHOUT no_mem_embed: the quadrant maps are context, not the decoder's embedding
    return {"Lloc2": stitch(qf["level2"]), "Lloc0": stitch(qf["feat_s0"])}


def decode(model, G_prime, pe, sparse, dense, high_res, multimask_output: bool, repeat_image: bool = False) -> dict:
    """Meta's MaskDecoder.predict_masks + the selection of MaskDecoder.forward, also returning U.

    U = act2(dc2(act1(ln1(dc1(src) + feat_s1))) + feat_s0) is captured with a hook on act2 (the decoder computes
    it inside predict_masks and does not return it). Keys: masks_raw [B,4,L,L], iou_raw [B,4], U [B,C/8,L,L],
    masks [B,M,L,L] (selected, unclamped), iou [B,M], object_score [B,1]."""
    dec = model.sam_mask_decoder
    cap = {}
    h = dec.output_upscaling[-1].register_forward_hook(lambda m, i, o: cap.__setitem__("U", o))
    try:
        masks_raw, iou_raw, _, obj = dec.predict_masks(
            image_embeddings=G_prime, image_pe=pe, sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense, repeat_image=repeat_image, high_res_features=high_res)
    finally:
        h.remove()
    if multimask_output:
        masks, iou = masks_raw[:, 1:], iou_raw[:, 1:]
    elif dec.dynamic_multimask_via_stability and not dec.training:
        masks, iou = dec._dynamic_multimask_via_stability(masks_raw, iou_raw)
    else:
        masks, iou = masks_raw[:, 0:1], iou_raw[:, 0:1]
    return {"masks_raw": masks_raw, "iou_raw": iou_raw, "U": cap["U"], "masks": masks, "iou": iou,
            "object_score": obj}


def refine_masks(refiner: SAM2Refiner, M0, U, feat_s0, Lloc0, I):
    """MR on each of M masks: M0 [B, M, L, L] -> (M1, M2, M3) each [B, M, *, *]; per-image inputs repeated."""
    B, M = M0.shape[:2]

    def rep(t):
        t = t.expand(B, *t.shape[1:]) if t.shape[0] != B else t
        return t.repeat_interleave(M, dim=0)
    outs = refiner.mr(M0.reshape(B * M, 1, *M0.shape[-2:]), U.repeat_interleave(M, dim=0), rep(feat_s0),
                      rep(Lloc0), rep(I))
    return tuple(o.reshape(B, M, *o.shape[-2:]) for o in outs)


# ------------------------------------------------------------------------------------------------------------ predictor
class RefinedPredictor(SAM2ImagePredictor):
    """SAM2ImagePredictor whose set_image also computes the local maps and G' = LA(G, Lloc2) (cached per image) and
    whose predict runs PR between the prompt encoder and the decoder (which sees G') and MR on each returned mask."""

    def __init__(self, model, local_views: int | None = None, **kw):
        super().__init__(model, **kw)
        if getattr(model, "refiner", None) is None:
            raise ValueError("model has no refiner (config without a `refiner` object)")
        s = model.image_size
        self._bb_feat_sizes = [(s // 4, s // 4), (s // 8, s // 8), (s // 16, s // 16)]
        self.local_views = model.refiner.local_views if local_views is None else local_views
        self.ref = None

    @torch.no_grad()
    def set_image(self, image) -> None:
        cap = {}

        def hook(m, args, out):
            # forward_image overwrites backbone_fpn[0/1] with conv_s0/conv_s1 in place: keep the raw level 1 now
            cap["input"] = args[0]
            cap["F1"] = out["backbone_fpn"][1]
        h = self.model.image_encoder.register_forward_hook(hook)
        try:
            super().set_image(image)
        finally:
            h.remove()
        feats = {"image_embed": self._features["image_embed"], "F1": cap["F1"],
                 "feat_s0": self._features["high_res_feats"][0], "feat_s1": self._features["high_res_feats"][1]}
        maps = local_maps(self.model, feats, [np.asarray(image)], self.local_views)
        G_prime = self.model.refiner.la(feats["image_embed"], maps["Lloc2"])
        self.ref = {"I": cap["input"], **feats, **maps, "G_prime": G_prime}

    def reset_predictor(self) -> None:
        super().reset_predictor()
        self.ref = None

    # Meta's batch path calls Meta's _predict on the plain embedding: it would silently skip the refiner.
    def set_image_batch(self, image_list) -> None:
        raise NotImplementedError("RefinedPredictor: one image at a time (set_image / predict)")

    def predict_batch(self, *args, **kwargs):
        raise NotImplementedError("RefinedPredictor: one image at a time (set_image / predict)")

    def predict(self, point_coords=None, point_labels=None, box=None, mask_input=None, multimask_output=True,
                return_logits=False, normalize_coords=True):
        d = self.predict_detailed(point_coords, point_labels, box, mask_input, multimask_output, normalize_coords)
        masks = d["mask_logits"] if return_logits else d["masks"]
        return (masks.squeeze(0).float().numpy(), d["iou"].squeeze(0).float().numpy(),
                d["low_res_logits"].squeeze(0).float().numpy())

    @torch.no_grad()
    def predict_detailed(self, point_coords=None, point_labels=None, box=None, mask_input=None,
                         multimask_output=True, normalize_coords=True) -> dict:
        """Meta's predict/_predict step by step with PR and MR; returns every intermediate (batch dim kept)."""
        if not self._is_image_set:
            raise RuntimeError("An image must be set with .set_image(...) before mask prediction.")
        mask_input, coords, labels, boxes = self._prep_prompts(point_coords, point_labels, box, mask_input,
                                                               normalize_coords)
        concat_points = (coords, labels) if coords is not None else None
        if boxes is not None:   # boxes become two points (labels 2, 3) in front of the clicks, as in Meta's _predict
            box_coords = boxes.reshape(-1, 2, 2)
            box_labels = torch.tensor([[2, 3]], dtype=torch.int, device=boxes.device).repeat(boxes.size(0), 1)
            if concat_points is not None:
                concat_points = (torch.cat([box_coords, concat_points[0]], dim=1),
                                 torch.cat([box_labels, concat_points[1]], dim=1))
            else:
                concat_points = (box_coords, box_labels)
        pe_mod = self.model.sam_prompt_encoder
        sparse, dense = pe_mod(points=concat_points, boxes=None, masks=mask_input)
        S = self.model.image_size
        if concat_points is not None:
            # boxes=None above, so the prompt encoder always appends the padding point: label -1, coordinate unused
            n = concat_points[0].shape[0]
            tok_coords = torch.cat([concat_points[0], torch.zeros(n, 1, 2, device=sparse.device)], dim=1)
            tok_labels = torch.cat([concat_points[1], -torch.ones(n, 1, dtype=torch.int, device=sparse.device)], 1)
        else:
            tok_coords = torch.zeros(sparse.shape[0], 0, 2)
            tok_labels = torch.zeros(sparse.shape[0], 0, dtype=torch.int)
        r = self.ref
        refiner = self.model.refiner
        sparse_r = refiner.pr(sparse, tok_coords, tok_labels, r["G_prime"], r["Lloc2"], S)
        batched_mode = concat_points is not None and concat_points[0].shape[0] > 1
        dd = decode(self.model, r["G_prime"], pe_mod.get_dense_pe(), sparse_r, dense,
                    [r["feat_s0"], r["feat_s1"]], multimask_output, repeat_image=batched_mode)
        M1, M2, M3 = refine_masks(refiner, dd["masks"], dd["U"], r["feat_s0"], r["Lloc0"], r["I"])
        h, w = self._orig_hw[-1]
        mask_logits = F.interpolate(M3, (h, w), mode="bilinear", align_corners=False)
        return {"coords": tok_coords, "labels": tok_labels, "sparse": sparse, "sparse_refined": sparse_r,
                "dense": dense, **dd, "M0": dd["masks"], "M1": M1, "M2": M2, "M3": M3,
                "mask_logits": mask_logits, "masks": mask_logits > self.mask_threshold,
                "low_res_logits": torch.clamp(dd["masks"], -32.0, 32.0)}
