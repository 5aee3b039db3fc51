"""One benchmark configuration in its own process (spawned by tools/bench/bench.py, which measures this process's
peak RSS with wait4). Prints one JSON line: {"times_s": [...], "median_s", "min_s", ...}.

  peer.py torch  --config C --checkpoint P --threads N --runs R     Meta's model.forward_image, fp32 eager
  peer.py ort    --onnx M --size S --threads N --runs R             ONNX Runtime CPU, the exported encoder
  peer.py export --config C --checkpoint P --out M.onnx             torch.onnx.export (opset 17, dynamo=False)
  peer.py quantize --onnx M --size S --out M.int8.onnx             quantize_static QDQ per-channel, uint8 act, MinMax,
                                                                     calibrated on 4 scikit-image photos
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))

CALIBRATION_PHOTOS = ["astronaut", "coffee", "chelsea", "rocket"]
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def load_model(config: str, checkpoint: str):
    import torch

    import sam2cfg

    model = sam2cfg.build_model(config)
    sd = torch.load(checkpoint, map_location="cpu", weights_only=True)
    model.load_state_dict(sd["model"] if "model" in sd else sd, strict=True)
    model.eval()
    return model


def model_size(config: str) -> int:
    import sam2cfg

    return int(sam2cfg.load_spec(config)["image_size"])


def input_tensor(size: int):
    """Seeded, normalized-range input (latency does not depend on the pixels)."""
    import numpy as np

    rng = np.random.default_rng(0)
    return rng.standard_normal((1, 3, size, size), dtype=np.float32)


def photo_input(name: str, size: int):
    import numpy as np
    from PIL import Image
    from skimage import data

    # motorcycle_left: the left view of scikit-image's stereo pair (no function of its own).
    pixels = data.stereo_motorcycle()[0] if name == "motorcycle_left" else getattr(data, name)()
    img = Image.fromarray(pixels).convert("RGB").resize((size, size), Image.BILINEAR)
    x = (np.asarray(img, dtype=np.float32) / 255.0 - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def timed(fn, runs: int, warmup: int) -> dict:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return {"times_s": times, "median_s": statistics.median(times), "min_s": min(times)}


def run_torch(a) -> dict:
    import torch

    torch.set_num_threads(a.threads)
    model = load_model(a.config, a.checkpoint)
    x = torch.from_numpy(input_tensor(model_size(a.config)))
    with torch.inference_mode():
        r = timed(lambda: model.forward_image(x), a.runs, a.warmup)
    r["torch"] = torch.__version__
    return r


class EncoderForExport:
    """forward_image + no_mem_embed on the lowest-resolution level: (feat_s0, feat_s1, image_embed), NCHW."""

    @staticmethod
    def wrap(model):
        import torch

        class Enc(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, x):
                fpn = self.m.forward_image(x)["backbone_fpn"]
                return fpn[0], fpn[1], fpn[2] + self.m.no_mem_embed.view(1, -1, 1, 1)

        return Enc(model).eval()


def run_export(a) -> dict:
    import numpy as np
    import onnxruntime as ort
    import torch

    model = load_model(a.config, a.checkpoint)
    enc = EncoderForExport.wrap(model)
    size = model_size(a.config)
    x = torch.from_numpy(input_tensor(size))
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + ".tmp"
    with torch.inference_mode():
        ref = [t.numpy() for t in enc(x)]
        torch.onnx.export(enc, (x,), tmp, opset_version=17, dynamo=False, input_names=["image"],
                          output_names=["feat_s0", "feat_s1", "image_embed"])
    sess = ort.InferenceSession(tmp, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"image": x.numpy()})
    err = max(float(np.max(np.abs(g - r))) for g, r in zip(got, ref))
    os.replace(tmp, a.out)
    return {"onnx": a.out, "max_abs_err_vs_torch": err}


def run_quantize(a) -> dict:
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{"image": photo_input(n, a.size)} for n in CALIBRATION_PHOTOS])

        def get_next(self):
            return next(self.items, None)

    pre = a.out + ".pre.onnx"
    quant_pre_process(a.onnx, pre, skip_symbolic_shape=True)
    tmp = a.out + ".tmp"
    quantize_static(pre, tmp, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)
    os.replace(tmp, a.out)
    os.remove(pre)
    return {"onnx_int8": a.out, "calibration": CALIBRATION_PHOTOS}


def run_ort(a) -> dict:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(a.onnx, so, providers=["CPUExecutionProvider"])
    feed = {"image": input_tensor(a.size)}
    r = timed(lambda: sess.run(None, feed), a.runs, a.warmup)
    r["onnxruntime"] = ort.__version__
    return r


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["torch", "ort", "export", "quantize"])
    ap.add_argument("--config", default="tiny")
    ap.add_argument("--checkpoint")
    ap.add_argument("--onnx")
    ap.add_argument("--out")
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    a = ap.parse_args(argv)
    r = {"torch": run_torch, "ort": run_ort, "export": run_export, "quantize": run_quantize}[a.mode](a)
    print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
