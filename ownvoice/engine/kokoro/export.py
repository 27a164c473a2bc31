"""fp32 ONNX export of our torch Kokoro model, for fast inference under onnxruntime.

Three graphs, split where the model becomes data-dependent (integer durations) and where the
decoder may run on crops (``kokoro.chunks``, streamed sentences):

- ``encode``: tokens [1, T] int64, style [1, 256], speed [1] → duration [1, T] (float frames),
  d [1, T, 640] (predictor features), t_en [1, 512, T] (text features);
- ``f0n``: d aligned [1, 640, F], style [1, 256] → f0 [1, 2F] (Hz), n [1, 2F] (energy);
- ``vocode``: t_en aligned [1, 512, F], f0, n, style, phase0 [1, 9] float64 (the harmonic
  source's starting phase in cycles; zeros for a whole sentence) → audio [1, F*600] (decoder,
  harmonic source, inverse STFT);
- ``vocode8``: ``vocode`` with some decoder convolutions in int8, calibrated at export
  (``kokoro.quantize``); what the fast runtime runs unless asked for fp32.

Rounding and repeating by the durations happen in numpy between ``encode`` and the others. The
files are written once per machine into the models cache (never into the repo), atomically, and
their sha256 is recorded in a manifest after export; a later process trusts a file whose size and
mtime match its stamp and re-hashes it otherwise. Every parameter keeps its torch name as an ONNX
initializer (no constant folding at export; onnxruntime folds at load), so a LoRA voice can
override exactly the weights its adapter changes with ``SessionOptions.add_initializer``.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from .. import weights

_LOGGER = logging.getLogger(__name__)

EXPORT_VERSION = "ov6"  # bump when the graphs or the model code they trace change
GRAPHS = ("encode", "f0n", "vocode", "vocode8")
OPSET = 17
PREFIX = "model."  # initializer name = PREFIX + torch parameter name
GENERATOR = PREFIX + "decoder.generator."
_MANIFEST = f"kokoro-v1.0-fp32.{EXPORT_VERSION}.onnx.json"


def graph_file(graph: str) -> str:
    return f"kokoro-v1.0-fp32.{EXPORT_VERSION}.{graph}.onnx"


def _wrappers(model):
    from torch import nn

    class Encode(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, tokens, style, speed):
            enc = self.model.encode_text(tokens, style, speed)
            return enc.duration, enc.d, enc.t_en

    class F0N(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, d, style):
            return self.model.predict_f0_n(d, style)

    class Vocode(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, t_en, f0, n, style, phase0):
            return self.model.decode(t_en, f0, n, style, phase0)

    return Encode(), F0N(), Vocode()


def convs_as_2d(proto, only: str = GENERATOR) -> int:
    """Rewrite the 1-D Conv/ConvTranspose nodes whose weight name starts with ``only`` as 2-D.

    onnxruntime's blocked-layout (NCHWc) convolution kernels, faster on AVX2 than its im2col +
    GEMM path, only apply to 2-D convolutions; measured 15 % off the decoder here. Weights keep
    their names (now [out, in, 1, k]). Only the generator, which runs at 800-4800 frames/s and
    holds most of the cost: a weight replaced with ``add_initializer`` in a rewritten conv was
    ignored by onnxruntime (LoRA parity test), and LoRA adapts convs only outside the generator.
    Returns how many nodes were rewritten.
    """
    import numpy as np
    from onnx import helper, numpy_helper

    inits = {i.name: i for i in proto.graph.initializer}
    nodes, count = [], 0
    axis = "convs_as_2d_axis"
    for node in proto.graph.node:
        weight = inits.get(node.input[1]) if node.op_type in ("Conv", "ConvTranspose") else None
        if weight is None or len(weight.dims) != 3 or not weight.name.startswith(only):
            nodes.append(node)
            continue
        weight.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(weight)[:, :, None, :], weight.name))
        attrs = {}
        for a in node.attribute:
            v = helper.get_attribute_value(a)
            if a.name in ("kernel_shape", "strides", "dilations", "output_padding"):
                v = [1 if a.name != "output_padding" else 0, *v]
            elif a.name == "pads":
                v = [0, v[0], 0, v[1]]
            attrs[a.name] = v
        x4, y4 = node.output[0] + "_in2d", node.output[0] + "_out2d"
        nodes.append(helper.make_node("Unsqueeze", [node.input[0], axis], [x4]))
        nodes.append(helper.make_node(node.op_type, [x4, *node.input[1:]], [y4], name=node.name, **attrs))
        nodes.append(helper.make_node("Squeeze", [y4, axis], [node.output[0]]))
        count += 1
    if count:
        nodes.insert(0, helper.make_node("Constant", [], [axis], value=numpy_helper.from_array(np.array([2], np.int64))))
    del proto.graph.node[:]
    proto.graph.node.extend(nodes)
    return count


def export(model, folder: Path) -> dict[str, Path]:
    """Trace ``model`` into the graphs in ``folder`` and quantize ``vocode8`` (about 40-60 s on
    2 cores)."""
    import torch

    from ...atomic import write_text
    from ...hashing import sha256_file

    enc, f0n, voc = _wrappers(model)
    t, f = 24, 60  # example sizes only: both axes are dynamic and nothing branches on values
    tokens = torch.zeros(1, t, dtype=torch.long)
    tokens[0, 1:-1] = torch.arange(16, 16 + t - 2)
    style = torch.zeros(1, 256)
    speed = torch.ones(1)
    c = model.config
    d = torch.zeros(1, c.hidden + c.style_dim, f)
    t_en = torch.zeros(1, c.hidden, f)
    f0 = torch.zeros(1, 2 * f)
    phase0 = torch.zeros(1, c.harmonics, dtype=torch.float64)
    specs = {
        "encode": (enc, (tokens, style, speed), ["tokens", "style", "speed"], ["duration", "d", "t_en"],
                   {"tokens": {1: "T"}, "duration": {1: "T"}, "d": {1: "T"}, "t_en": {2: "T"}}),
        "f0n": (f0n, (d, style), ["d", "style"], ["f0", "n"],
                {"d": {2: "F"}, "f0": {1: "F2"}, "n": {1: "F2"}}),
        "vocode": (voc, (t_en, f0, f0.clone(), style, phase0), ["t_en", "f0", "n", "style", "phase0"],
                   ["audio"], {"t_en": {2: "F"}, "f0": {1: "F2"}, "n": {1: "F2"}, "audio": {1: "S"}}),
    }
    out: dict[str, Path] = {}
    manifest = {"export_version": EXPORT_VERSION, "torch": torch.__version__,
                "source_sha256": weights.STATE_SHA256, "sha256": {}, "initializers": {}}
    started = time.monotonic()
    for graph, (module, args, inputs, outputs, axes) in specs.items():
        target = folder / graph_file(graph)

        def write(_f, tmp: Path, module=module, args=args, inputs=inputs, outputs=outputs, axes=axes) -> None:
            # no_grad, not inference_mode: traced under inference_mode the exporter mis-resolves axes
            with torch.no_grad():
                torch.onnx.export(
                    module, args, str(tmp), dynamo=False, opset_version=OPSET,
                    input_names=inputs, output_names=outputs, dynamic_axes=axes,
                    do_constant_folding=False,
                )

        weights._atomic_build(target, write)
        import onnx

        proto = onnx.load(str(target))
        convs_as_2d(proto)
        # the overridable weights: every parameter that survived export under its own name
        manifest["initializers"][graph] = {
            i.name: list(i.dims) for i in proto.graph.initializer if i.name.startswith(PREFIX)
        }
        weights._atomic_build(target, lambda f, _tmp, proto=proto: f.write(proto.SerializeToString()))
        del proto
        manifest["sha256"][graph] = sha256_file(target)
        weights.stamp_verified(target, manifest["sha256"][graph])
        out[graph] = target
    from . import quantize

    target = out["vocode8"] = folder / graph_file("vocode8")
    feeds = quantize.calibration_feeds(out, c.harmonics)
    weights._atomic_build(target, lambda _f, tmp: quantize.quantize_vocoder(out["vocode"], tmp, feeds))
    import onnx

    proto = onnx.load(str(target))
    manifest["initializers"]["vocode8"] = {
        i.name: list(i.dims) for i in proto.graph.initializer if i.name.startswith(PREFIX)
    }
    del proto
    manifest["sha256"]["vocode8"] = sha256_file(target)
    weights.stamp_verified(target, manifest["sha256"]["vocode8"])
    write_text(folder / _MANIFEST, json.dumps(manifest, indent=1))
    remove_stale(folder)
    _LOGGER.info("exported Kokoro ONNX graphs in %.1f s", time.monotonic() - started)
    return out


def remove_stale(folder: Path) -> list[Path]:
    """Delete graphs (and their stamps, manifests) of other export versions: ~325 MB each."""
    current = {graph_file(g) for g in GRAPHS} | {_MANIFEST}
    gone = []
    for path in folder.glob("kokoro-v1.0-fp32.*.onnx*"):
        if path.name.removesuffix(".verified.json") not in current:
            path.unlink(missing_ok=True)
            gone.append(path)
    return gone


def initializer_names(cache_dir: Path | None = None) -> dict[str, dict[str, tuple[int, ...]]]:
    """Per graph, the initializers a LoRA voice may override and their shapes (from the manifest)."""
    manifest = json.loads((weights.models_dir(cache_dir) / _MANIFEST).read_text())
    return {g: {k: tuple(v) for k, v in manifest["initializers"][g].items()} for g in GRAPHS}


def onnx_graphs(cache_dir: Path | None = None, model=None) -> dict[str, Path]:
    """Paths of the verified exported graphs, exporting them first when missing or changed.

    ``model``: an already loaded stock ``KokoroModel`` to export from (else it is loaded).
    """
    folder = weights.models_dir(cache_dir)

    def cached() -> dict[str, Path] | None:
        try:
            manifest = json.loads((folder / _MANIFEST).read_text())
        except (OSError, ValueError):
            return None
        if manifest.get("source_sha256") != weights.STATE_SHA256:
            return None
        paths = {g: folder / graph_file(g) for g in GRAPHS}
        ok = all(weights.is_verified(paths[g], manifest["sha256"].get(g, "")) for g in GRAPHS)
        return paths if ok else None

    found = cached()
    if found:
        return found
    if model is None:  # loaded outside the lock: loading may take the same lock to convert
        from .model import KokoroModel

        model = KokoroModel.from_state_dict(weights.load_state_dict(cache_dir))
    with weights.models_lock(folder):
        found = cached()  # another process may have exported while we waited
        if found:
            return found
        _LOGGER.info("exporting the model to ONNX once (about 50 s)")
        return export(model, folder)
