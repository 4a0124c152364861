"""Read an exported ONNX graph back: conv weights by module path, QDQ structure, metadata.

Module path of a Conv node comes from torch's scoped node names (`/model.2/cv1/conv/Conv` ->
`model.2.cv1`; a trailing `.conv` is dropped so a folded block and a QAT block map to the same path).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ConvInfo:
    node: str
    module: str          # block path, e.g. "model.2.cv1" or "model.24.m.0"
    weight: np.ndarray   # float or int8 (as stored)
    int8_weight: bool    # weight is an int8 initializer behind a DequantizeLinear
    input_qdq: bool      # the conv input is DequantizeLinear(QuantizeLinear(...)) (or a uint8 graph input)


def module_of(node_name: str) -> str:
    """Scope path -> module path; torch writes a container child as `m/m.0`, so merge such pairs."""
    parts: list[str] = []
    for seg in [p for p in node_name.split("/") if p][:-1]:
        if parts and seg.startswith(parts[-1] + "."):
            parts[-1] = seg
        else:
            parts.append(seg)
    path = ".".join(parts)
    return path[:-5] if path.endswith(".conv") else path


def conv_infos(model) -> list[ConvInfo]:
    from onnx import numpy_helper

    g = model.graph
    inits = {i.name: i for i in g.initializer}
    prod = {o: n for n in g.node for o in n.output}
    out = []
    for n in g.node:
        if n.op_type != "Conv":
            continue
        w_name = n.input[1]
        int8 = False
        if w_name in prod and prod[w_name].op_type == "DequantizeLinear":
            dq = prod[w_name]
            src = dq.input[0]
            if src in inits:
                w = numpy_helper.to_array(inits[src])
                int8 = w.dtype == np.int8
            else:
                w = np.array([])
        elif w_name in inits:
            w = numpy_helper.to_array(inits[w_name])
        else:
            w = np.array([])
        x = n.input[0]
        qdq = x in prod and prod[x].op_type == "DequantizeLinear" and (
            prod[x].input[0] in prod and prod[prod[x].input[0]].op_type == "QuantizeLinear")
        out.append(ConvInfo(n.name, module_of(n.name), w, int8, qdq))
    return out


def metadata(model) -> dict[str, object]:
    """metadata_props with JSON values decoded where they parse."""
    out: dict[str, object] = {}
    for p in model.metadata_props:
        try:
            out[p.key] = json.loads(p.value)
        except (ValueError, TypeError):
            out[p.key] = p.value
    return out


def silu_qdq(model) -> dict[str, bool]:
    """Per block path that has a Sigmoid: True when its SiLU is fully quantized as onnxruntime needs it to
    build QLinearSigmoid + QLinearMul: the Sigmoid reads a DequantizeLinear and feeds exactly one
    QuantizeLinear, and the Mul that reads (a DQ of) that quantized sigmoid reads only DQ outputs and feeds
    exactly one QuantizeLinear. Float sigmoids (the Detect decode) come out False."""
    g = model.graph
    prod = {o: n for n in g.node for o in n.output}
    cons: dict[str, list] = {}
    for n in g.node:
        for i in n.input:
            cons.setdefault(i, []).append(n)

    def only_q(name: str) -> bool:
        c = cons.get(name, [])
        return len(c) == 1 and c[0].op_type == "QuantizeLinear"

    def from_dq(name: str) -> bool:
        return name in prod and prod[name].op_type == "DequantizeLinear"

    out: dict[str, bool] = {}
    for s in g.node:
        if s.op_type != "Sigmoid":
            continue
        ok = from_dq(s.input[0]) and only_q(s.output[0])
        muls = []
        if ok:
            for dq in cons.get(cons[s.output[0]][0].output[0], []):
                muls += [m for m in cons.get(dq.output[0], []) if m.op_type == "Mul"]
        ok = ok and len(muls) == 1 and all(from_dq(i) for i in muls[0].input) and only_q(muls[0].output[0])
        key = module_of(s.name)
        out[key] = out.get(key, True) and ok
    return out
