"""Model configs for the sam2r reference tools: presets (Meta's yaml) and custom JSON configs.

A JSON config (schema in docs/model-config.md) lists the fields of Meta's configs/sam2.1/*.yaml that the image
path uses. `build_model(spec)` turns it into Meta's hydra config (starting from sam2.1_hiera_t.yaml for everything
the JSON does not mention) and instantiates Meta's SAM2Base exactly like `sam2.build_sam.build_sam2` does,
including the same post-processing overrides (dynamic multimask via stability). An optional `refiner` object
(docs/refiner.md) never reaches Meta's hydra config: `build_model` attaches refiner.SAM2Refiner as `model.refiner`.
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG_DIR = os.path.join(HERE, "configs")

PRESET_YAML = {
    "tiny": "configs/sam2.1/sam2.1_hiera_t.yaml",
    "small": "configs/sam2.1/sam2.1_hiera_s.yaml",
    "base-plus": "configs/sam2.1/sam2.1_hiera_b+.yaml",
    "large": "configs/sam2.1/sam2.1_hiera_l.yaml",
}
BASE_YAML = PRESET_YAML["tiny"]

# Hiera constructor defaults (hieradet.py) — a JSON config may omit these.
TRUNK_DEFAULTS = {
    "q_pool": 3,
    "q_stride": [2, 2],
    "dim_mul": 2.0,
    "head_mul": 2.0,
    "window_spec": [8, 4, 14, 7],
}

# Fixed in Meta's code (sam2_base.py `_build_sam_heads`, mask_decoder.py, transformer.py): not configurable.
FIXED = {
    "backbone_stride": 16,
    "prompt_encoder.mask_in_chans": 16,
    "mask_decoder.num_multimask_outputs": 3,
    "mask_decoder.iou_head_depth": 3,
    "mask_decoder.iou_head_hidden_dim": 256,
    "two_way_transformer.depth": 2,
    "two_way_transformer.num_heads": 8,
    "two_way_transformer.mlp_dim": 2048,
    "two_way_transformer.attention_downsample_rate": 2,
    "transformer_dim": "= neck.d_model (SAM2Base.hidden_dim)",
}


def load_spec(name_or_path: str) -> dict:
    """`tiny`/`small`/`base-plus`/`large`/`micro` (tools/reference/configs/<name>.json) or a path to a JSON file."""
    path = name_or_path
    if not os.path.exists(path):
        path = os.path.join(CONFIG_DIR, f"{name_or_path}.json")
    with open(path) as f:
        spec = json.load(f)
    spec.setdefault("name", os.path.splitext(os.path.basename(path))[0])
    validate_spec(spec)
    return spec


def trunk_args(spec: dict) -> dict:
    t = dict(TRUNK_DEFAULTS)
    t.update(spec["trunk"])
    return t


def validate_spec(spec: dict) -> None:
    """Constraints that Meta's code imposes (it would fail later, less clearly)."""
    t = trunk_args(spec)
    n = spec["neck"]
    S = spec["image_size"]
    stages = t["stages"]
    assert len(stages) == len(t["window_spec"]), "window_spec needs one entry per stage"
    assert 0 <= t["q_pool"] <= len(stages) - 1
    assert S % 16 == 0, "image_size must be a multiple of the backbone stride 16"
    grid = S // 4
    assert grid % t["window_spec"][0] == 0, (
        "image_size/4 must be a multiple of window_spec[0] (pos_embed_window is tiled, hieradet._get_pos_embed)"
    )
    # channel list must match the trunk (ImageEncoder asserts it)
    dims, d = [], t["embed_dim"]
    heads = t["num_heads"]
    for i, _ in enumerate(stages):
        if i > 0:
            d = int(d * t["dim_mul"])
            heads = int(heads * t["head_mul"])
        assert d % heads == 0, f"stage {i}: dim {d} not divisible by {heads} heads"
        dims.append(d)
    assert list(n["backbone_channel_list"]) == dims[::-1], (
        f"neck.backbone_channel_list must be {dims[::-1]} (trunk stage dims, deepest first)"
    )
    dm = n["d_model"]
    assert dm % 16 == 0, "d_model must be a multiple of 16 (8 decoder heads on d_model/2 in cross attention)"
    assert len(stages) - n.get("scalp", 1) == 3 or not spec["sam"].get("use_high_res_features_in_sam", True), (
        "the image predictor uses exactly 3 feature levels (stages - scalp == 3)"
    )
    assert t["q_pool"] >= len(stages) - 1, "the image predictor assumes a stride-2 step at every stage change"
    if spec.get("refiner") is not None:
        validate_refiner(spec)


def _refiner_module():
    """tools/reference/refiner.py, imported only for configs with a refiner (it imports torch and sam2)."""
    import sys

    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    import refiner

    return refiner


def validate_refiner(spec: dict) -> dict:
    """The `refiner` object (docs/refiner.md) with its defaults, checked against the model geometry."""
    refiner = _refiner_module()
    C = spec["neck"]["d_model"]
    r = refiner.refiner_config(spec["refiner"], C)
    H = spec["image_size"] // 16
    assert H % r["la_window"] == 0, f"refiner.la_window {r['la_window']} must divide the embedding side {H}"
    assert spec["sam"].get("use_high_res_features_in_sam", True), "the refiner's MR needs feat_s0 (high-res features)"
    return r


def _hydra_cfg(spec: dict):
    import sam2  # noqa: F401  (registers Meta's config module with hydra)
    from hydra import compose
    from omegaconf import OmegaConf

    cfg = compose(config_name=BASE_YAML)
    OmegaConf.set_struct(cfg, False)
    m = cfg.model
    t = trunk_args(spec)
    enc = m.image_encoder
    enc.scalp = spec["neck"].get("scalp", 1)
    for k in ("embed_dim", "num_heads", "stages", "global_att_blocks", "window_pos_embed_bkg_spatial_size",
              "window_spec", "q_pool", "q_stride", "dim_mul", "head_mul"):
        enc.trunk[k] = copy.deepcopy(t[k])
    # Hiera passes q_stride straight to nn.MaxPool2d, which rejects an OmegaConf ListConfig: leave Hiera's own
    # tuple default in place when it matches, else have hydra hand over plain python containers.
    if list(t["q_stride"]) == list(TRUNK_DEFAULTS["q_stride"]):
        del enc.trunk["q_stride"]
    else:
        enc.trunk["_convert_"] = "all"
    n = spec["neck"]
    enc.neck.d_model = n["d_model"]
    enc.neck.backbone_channel_list = list(n["backbone_channel_list"])
    enc.neck.fpn_top_down_levels = list(n["fpn_top_down_levels"])
    enc.neck.fpn_interp_model = n["fpn_interp_model"]
    if "fuse_type" in n:
        enc.neck.fuse_type = n["fuse_type"]
    enc.neck.position_encoding.num_pos_feats = n["d_model"]
    m.image_size = spec["image_size"]
    for k, v in spec["sam"].items():
        m[k] = v

    # Memory modules: not on the image path, but they are part of the model and its checkpoint.
    mem = spec.get("memory", {})
    dm = n["d_model"]
    feat = spec["image_size"] // 16
    ma = m.memory_attention
    ma.d_model = dm
    ma.num_layers = mem.get("num_layers", 4)
    ma.layer.d_model = dm
    ma.layer.dim_feedforward = mem.get("dim_feedforward", 2048)
    mem_dim = mem.get("mem_dim", 64)
    for att in (ma.layer.self_attention, ma.layer.cross_attention):
        att.embedding_dim = dm
        att.feat_sizes = [feat, feat]
    ma.layer.cross_attention.kv_in_dim = mem_dim
    me = m.memory_encoder
    me.out_dim = mem_dim
    me.in_dim = dm
    me.position_encoding.num_pos_feats = mem_dim
    me.mask_downsampler.embed_dim = dm
    me.fuser.layer.dim = dm
    me.fuser.num_layers = mem.get("fuser_layers", 2)
    for k, v in mem.get("mask_downsampler", {}).items():
        me.mask_downsampler[k] = v
    m.num_maskmem = mem.get("num_maskmem", 7)
    return cfg


def build_model(spec_or_name: Any, device: str = "cpu", from_yaml: bool = False):
    """Build Meta's SAM2Base (eval mode, fp32, no weights). `from_yaml=True` with a preset name calls Meta's
    build_sam2 on the official yaml directly (used to check that the preset JSONs reproduce the yamls)."""
    import torch  # noqa: F401
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    if from_yaml:
        from sam2.build_sam import build_sam2

        return build_sam2(PRESET_YAML[spec_or_name], ckpt_path=None, device=device)
    spec = load_spec(spec_or_name) if isinstance(spec_or_name, str) else spec_or_name
    cfg = _hydra_cfg(spec)
    pp = spec.get("postprocessing", {})
    cfg.model.sam_mask_decoder_extra_args = {
        "dynamic_multimask_via_stability": pp.get("dynamic_multimask_via_stability", True),
        "dynamic_multimask_stability_delta": pp.get("dynamic_multimask_stability_delta", 0.05),
        "dynamic_multimask_stability_thresh": pp.get("dynamic_multimask_stability_thresh", 0.98),
    }
    OmegaConf.resolve(cfg)
    model = instantiate(cfg.model, _recursive_=True)
    # The refiner (docs/refiner.md) is not part of Meta's config: it only becomes attribute `refiner` of the built
    # model, so its weights load as `refiner.*` next to Meta's untouched keys and Meta's code never calls it.
    if spec.get("refiner") is not None:
        _refiner_module().attach(model, spec)
    model = model.to(device)
    model.eval()
    return model


def make_predictor(model):
    """SAM2ImagePredictor with `_bb_feat_sizes` derived from image_size (Meta hardcodes the 1024 sizes)."""
    from sam2.sam2_image_predictor import SAM2ImagePredictor

    p = SAM2ImagePredictor(model)
    s = model.image_size
    p._bb_feat_sizes = [(s // 4, s // 4), (s // 8, s // 8), (s // 16, s // 16)]
    return p


def structure(model) -> dict:
    """What must match between a JSON config and Meta's yaml: state_dict keys/shapes and per-block geometry."""
    sd = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    trunk = model.image_encoder.trunk
    blocks = [
        (b.dim, b.dim_out, b.attn.num_heads, b.window_size, tuple(b.q_stride) if b.q_stride else None)
        for b in trunk.blocks
    ]
    dec = model.sam_mask_decoder
    return {
        "state_dict": sd,
        "blocks": blocks,
        "stage_ends": list(trunk.stage_ends),
        "image_size": model.image_size,
        "scalp": model.image_encoder.scalp,
        "neck": (model.image_encoder.neck.fpn_interp_model, list(model.image_encoder.neck.fpn_top_down_levels)),
        "decoder": (dec.dynamic_multimask_via_stability, dec.dynamic_multimask_stability_delta,
                    dec.dynamic_multimask_stability_thresh, dec.use_high_res_features, dec.pred_obj_scores,
                    dec.iou_prediction_head.sigmoid_output),
        "model_flags": {k: getattr(model, k) for k in (
            "directly_add_no_mem_embed", "use_high_res_features_in_sam", "multimask_output_in_sam",
            "iou_prediction_use_sigmoid", "pred_obj_scores", "use_mlp_for_obj_ptr_proj", "num_maskmem")},
    }


def describe(model) -> dict:
    """Per-block geometry for manifests and docs."""
    trunk = model.image_encoder.trunk
    g = model.image_size // 4
    out = []
    for i, b in enumerate(trunk.blocks):
        hin = g
        hout = g // 2 if b.q_stride else g
        ws = b.window_size
        pad = (ws - hin % ws) % ws if ws > 0 else 0
        out.append({
            "block": i, "dim": b.dim, "dim_out": b.dim_out, "heads": b.attn.num_heads,
            "window": ws, "global": ws == 0, "q_pool": bool(b.q_stride), "in_hw": hin, "out_hw": hout,
            "pad": pad, "stage_end": i in trunk.stage_ends,
        })
        g = hout
    return {"blocks": out, "stage_ends": list(trunk.stage_ends)}
