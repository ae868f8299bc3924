"""Where the bytes of an ONNX file go: initializer payloads by role and type, initializer headers, nodes.

Usage: where_bytes.py MODEL.onnx [MODEL.onnx ...]   (from the bench venv: numpy, onnx)

Roles come from the consuming operator and input slot (e.g. QLinearConv input 3 = int8 weight, input 8 = int32
bias, ConvInteger input 1 = int8 weight; Conv input 1 = float weight). A float tensor that stays float in an int8
file shows up here under its consumer.
"""

import collections
import sys

import onnx
from onnx import numpy_helper

ROLES = {
    ("Conv", 1): "weight", ("Conv", 2): "bias",
    ("MatMul", 1): "weight", ("Gemm", 1): "weight", ("Gemm", 2): "bias",
    ("ConvInteger", 1): "weight", ("ConvInteger", 3): "weight zero point",
    ("MatMulInteger", 1): "weight", ("MatMulInteger", 3): "weight zero point",
    ("QLinearConv", 1): "activation scale", ("QLinearConv", 2): "activation zero point",
    ("QLinearConv", 3): "weight", ("QLinearConv", 4): "weight scale", ("QLinearConv", 5): "weight zero point",
    ("QLinearConv", 6): "activation scale", ("QLinearConv", 7): "activation zero point",
    ("QLinearConv", 8): "bias",
    ("QLinearMatMul", 1): "activation scale", ("QLinearMatMul", 2): "activation zero point",
    ("QLinearMatMul", 3): "weight", ("QLinearMatMul", 4): "weight scale", ("QLinearMatMul", 5): "weight zero point",
    ("QLinearMatMul", 6): "activation scale", ("QLinearMatMul", 7): "activation zero point",
    ("QuantizeLinear", 1): "activation scale", ("QuantizeLinear", 2): "activation zero point",
    ("DequantizeLinear", 1): "activation scale", ("DequantizeLinear", 2): "activation zero point",
    ("Mul", 1): "scale (Mul)", ("Add", 1): "bias (Add)", ("Reshape", 1): "shape", ("Pad", 1): "pads",
}


def report(path):
    raw = open(path, "rb").read()
    m = onnx.load_from_string(raw)
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    role = {}
    for n in g.node:
        for k, i in enumerate(n.input):
            if i in inits and i not in role:
                role[i] = ROLES.get((n.op_type, k), f"{n.op_type}[{k}]")
    payload = collections.Counter()
    count = collections.Counter()
    header = 0
    for name, t in inits.items():
        a = numpy_helper.to_array(t)
        key = (role.get(name, "unread"), a.dtype.name)
        payload[key] += a.nbytes
        count[key] += 1
        header += len(t.SerializeToString()) - a.nbytes
    nodes = sum(len(n.SerializeToString()) for n in g.node)
    total = len(raw)
    print(f"{path}: {total} bytes")
    for (r, dt), b in sorted(payload.items(), key=lambda kv: -kv[1]):
        print(f"  {b:9d}  {b / total:6.1%}  {count[(r, dt)]:4d} x {dt:8s} {r}")
    print(f"  {header:9d}  {header / total:6.1%}  initializer headers (names, dims, types)")
    print(f"  {nodes:9d}  {nodes / total:6.1%}  {len(g.node)} nodes (names, inputs, outputs, attributes)")
    rest = total - sum(payload.values()) - header - nodes
    print(f"  {rest:9d}  {rest / total:6.1%}  the rest (graph inputs/outputs, value_info, metadata, framing)")
    print(f"  ops: {dict(collections.Counter(n.op_type for n in g.node))}")


if __name__ == "__main__":
    for p in sys.argv[1:]:
        report(p)
