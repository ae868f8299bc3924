"""Writes an ONNX model of about SIZE_MB megabytes: y = x @ W with W seeded pseudo-random (incompressible), so a
bundle of it is about as large as the model. usage: make_model.py SIZE_MB OUT.onnx"""

import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

size_mb, out = float(sys.argv[1]), sys.argv[2]
rows = max(1, int(size_mb * 1024 * 1024 / 4 / 4))
w = np.random.default_rng(15).standard_normal((rows, 4)).astype(np.float32)
graph = helper.make_graph(
    [helper.make_node("MatMul", ["x", "W"], ["y"])],
    "bench",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, rows])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    [numpy_helper.from_array(w, "W")],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
onnx.save(model, out)
