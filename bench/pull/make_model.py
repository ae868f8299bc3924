#!/usr/bin/env python3
"""Write an ONNX model of about SIZE MB for bench/pull: `Y = X + B` on a [1, 4] float input, plus an unused
initializer of SIZE MB of random bytes (random, so that gzip cannot shrink the bundle).

Python's standard library only: the protobuf is written by hand (ModelProto, ir_version 8, opset 13).

    python3 make_model.py OUT.onnx SIZE_MB
"""

import os
import struct
import sys


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num: int, wire: int, payload: bytes) -> bytes:
    return varint((num << 3) | wire) + payload


def vint(num: int, n: int) -> bytes:
    return field(num, 0, varint(n))


def ld(num: int, data: bytes) -> bytes:
    return field(num, 2, varint(len(data)) + data)


def tensor(name: str, dims: list[int], raw: bytes) -> bytes:
    # TensorProto: dims=1, data_type=2 (1: FLOAT), name=8, raw_data=9
    return b"".join(vint(1, d) for d in dims) + vint(2, 1) + ld(8, name.encode()) + ld(9, raw)


def value_info(name: str, dims: list[int]) -> bytes:
    shape = b"".join(ld(1, vint(1, d)) for d in dims)  # TensorShapeProto.dim { dim_value }
    tensor_type = vint(1, 1) + ld(2, shape)  # elem_type FLOAT, shape
    return ld(1, name.encode()) + ld(2, ld(1, tensor_type))  # ValueInfoProto { name, type { tensor_type } }


def main() -> int:
    out, size_mb = sys.argv[1], int(sys.argv[2])
    pad = os.urandom(size_mb * 1024 * 1024 // 4 * 4)
    node = ld(1, b"X") + ld(1, b"B") + ld(2, b"Y") + ld(3, b"add") + ld(4, b"Add")
    graph = (
        ld(1, node)
        + ld(2, b"bench")
        + ld(5, tensor("B", [1, 4], struct.pack("<4f", 0.5, 1.0, 1.5, 2.0)))
        + ld(5, tensor("padding", [len(pad) // 4], pad))
        + ld(11, value_info("X", [1, 4]))
        + ld(12, value_info("Y", [1, 4]))
    )
    model = vint(1, 8) + ld(2, b"mlgate-bench") + ld(7, graph) + ld(8, ld(1, b"") + vint(2, 13))
    with open(out, "wb") as f:
        f.write(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
