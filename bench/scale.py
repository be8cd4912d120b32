#!/usr/bin/env python3
"""Three convolutional nets of about 0.1M, 1M and 10M multiply-accumulates, for how proving
cost grows with model size (bench/models.py --models scale-100k scale-1m scale-10m). Built
with model/zoo/make.py's graph builder and seeded weights into target/bench-scale/ (not
committed: the files are made in a second).

    scale-100k  [1, 4, 16, 16] → Conv 8@3×3 → Relu → MaxPool 2 → Flatten → Gemm 32 → Relu → Gemm 10
    scale-1m    [1, 8, 32, 32] → Conv 16@3×3 → Relu → MaxPool 2 → Conv 16@3×3 → Relu
                → GlobalAveragePool → Flatten → Gemm 10
    scale-10m   [1, 16, 32, 32] → Conv 32@3×3 → Relu → MaxPool 2 → Conv 64@3×3 → Relu
                → GlobalAveragePool → Flatten → Gemm 10
"""

import json
import os
import sys

import numpy as np
import onnxruntime as ort

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "target", "bench-scale")
sys.path.insert(0, os.path.join(REPO, "model", "zoo"))
from make import Graph  # noqa: E402


def conv_net(name, seed, shape, convs, hidden):
    """`convs`: output channels of 3×3 same-padded convolutions, a 2×2 max pool after the first."""
    g = Graph(seed)
    h, c = "input", shape[1]
    for i, out in enumerate(convs):
        h = g.node("Conv", [h, g.weight(out, c, 3, 3, fan_in=9 * c), g.const(g.rng.normal(0, 0.1, out))], pads=[1, 1, 1, 1])
        h = g.node("Relu", [h])
        if i == 0:
            h = g.node("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2])
        c = out
    if hidden:
        h = g.node("Flatten", [h])
        features = c * (shape[2] // 2) * (shape[3] // 2)
        h = g.node("Gemm", [h, g.weight(hidden, features, fan_in=features), g.const(g.rng.normal(0, 0.1, hidden))], transB=1)
        h = g.node("Relu", [h])
        c = hidden
    else:
        h = g.node("GlobalAveragePool", [h])
        h = g.node("Flatten", [h])
    h = g.node("Gemm", [h, g.weight(10, c, fan_in=c), g.const(g.rng.normal(0, 0.1, 10))], transB=1)
    return g.model(name, shape, h, [1, 10])


MODELS = {
    "scale-100k": lambda: conv_net("scale-100k", 11, [1, 4, 16, 16], [8], 32),
    "scale-1m": lambda: conv_net("scale-1m", 12, [1, 8, 32, 32], [16, 16], 0),
    "scale-10m": lambda: conv_net("scale-10m", 13, [1, 16, 32, 32], [32, 64], 0),
}


def files(name: str) -> dict:
    """Makes the model's files (if missing) and returns their paths."""
    import onnx

    os.makedirs(OUT, exist_ok=True)
    paths = {k: os.path.join(OUT, f"{name}{s}") for k, s in [("onnx", ".onnx"), ("input", ".input.json"), ("calibration", ".calibration.json")]}
    if not all(os.path.exists(p) for p in paths.values()):
        model = MODELS[name]()
        onnx.save(model, paths["onnx"])
        shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
        rng = np.random.default_rng(100)
        as_list = lambda a: [round(float(v), 3) for v in a.ravel()]  # noqa: E731
        json.dump({"input_data": [as_list(rng.uniform(-1, 1, shape))]}, open(paths["input"], "w"))
        json.dump({"input_data": [as_list(rng.uniform(-1, 1, [8] + shape))]}, open(paths["calibration"], "w"))
        ort.InferenceSession(paths["onnx"], providers=["CPUExecutionProvider"])
    return paths


if __name__ == "__main__":
    for name in sys.argv[1:] or MODELS:
        print(name, files(name)["onnx"])
