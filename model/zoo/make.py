#!/usr/bin/env python3
"""The small float models the general compiler is tested and benchmarked on, built with
onnx.helper and seeded numpy weights (no training: the point is the operators and shapes).

    mlp        [1, 64] → Gemm 128 → Relu → Gemm 64 → Relu → Gemm 10
    lenet      [1, 1, 16, 16] → Conv 4@5×5 → BatchNorm → Relu → MaxPool 2 → Conv 8@3×3 → Relu
               → AveragePool 2 → Flatten → Gemm 32 → Relu → Gemm 10
    separable  [1, 8, 12, 12] → depthwise Conv 3×3 → BatchNorm → Clip(0, 6) → pointwise Conv 16
               → Relu → pointwise Conv 8 → Add (residual) → GlobalAveragePool → Flatten → Gemm 4

Also gan.input.json and gan.expected.json: the committed generator (model/gan.onnx) on the
latent a mint derives from the prompt "a quiet robot watering a tiny plant" under the all-zero
seed (noise, then the prompt words' condition), as onnxruntime runs it.

For each <name>: <name>.onnx, <name>.input.json (one sample, EZKL's shape),
<name>.calibration.json (16 samples back to back) and <name>.expected.json (onnxruntime's
outputs for the sample: {"outputs": [[...]]}).

    python model/zoo/make.py      # needs onnx, onnxruntime, numpy (bench/requirements.txt)
"""

import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
# The default prompt of scripts/start.sh and bench/ezkl_bench.py.
GENERATOR_PROMPT = "a quiet robot watering a tiny plant"


class Graph:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.n = [], [], 0

    def const(self, array):
        self.n += 1
        name = f"w{self.n}"
        self.inits.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), name))
        return name

    def weight(self, *shape, fan_in):
        return self.const(self.rng.normal(0, 1 / np.sqrt(fan_in), shape))

    def node(self, op, inputs, **attrs):
        if op == "Conv":
            # Spelled out: some importers (EZKL's) require them.
            attrs.setdefault("strides", [1, 1])
            attrs.setdefault("dilations", [1, 1])
            attrs.setdefault("pads", [0, 0, 0, 0])
        self.n += 1
        out = f"{op.lower()}{self.n}"
        self.nodes.append(helper.make_node(op, inputs, [out], name=f"{op}_{self.n}", **attrs))
        return out

    def batchnorm(self, x, c):
        return self.node("BatchNormalization", [x, self.const(self.rng.uniform(0.5, 1.5, c)), self.const(self.rng.normal(0, 0.1, c)),
                                                self.const(self.rng.normal(0, 0.1, c)), self.const(self.rng.uniform(0.5, 2.0, c))])

    def model(self, name, input_shape, output, output_shape):
        g = helper.make_graph(self.nodes, name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, input_shape)],
                              [helper.make_tensor_value_info(output, TensorProto.FLOAT, output_shape)], initializer=self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="section9-zoo")
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def mlp():
    g = Graph(1)
    h = g.node("Gemm", ["input", g.weight(128, 64, fan_in=64), g.const(g.rng.normal(0, 0.1, 128))], transB=1)
    h = g.node("Relu", [h])
    h = g.node("Gemm", [h, g.weight(64, 128, fan_in=128), g.const(g.rng.normal(0, 0.1, 64))], transB=1)
    h = g.node("Relu", [h])
    h = g.node("Gemm", [h, g.weight(10, 64, fan_in=64), g.const(g.rng.normal(0, 0.1, 10))], transB=1)
    return g.model("mlp", [1, 64], h, [1, 10])


def lenet():
    g = Graph(2)
    h = g.node("Conv", ["input", g.weight(4, 1, 5, 5, fan_in=25), g.const(g.rng.normal(0, 0.1, 4))])
    h = g.node("Relu", [g.batchnorm(h, 4)])
    h = g.node("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2])
    h = g.node("Conv", [h, g.weight(8, 4, 3, 3, fan_in=36), g.const(g.rng.normal(0, 0.1, 8))])
    h = g.node("Relu", [h])
    h = g.node("AveragePool", [h], kernel_shape=[2, 2], strides=[2, 2])
    h = g.node("Flatten", [h])
    h = g.node("Gemm", [h, g.weight(32, 32, fan_in=32), g.const(g.rng.normal(0, 0.1, 32))], transB=1)
    h = g.node("Relu", [h])
    h = g.node("Gemm", [h, g.weight(10, 32, fan_in=32), g.const(g.rng.normal(0, 0.1, 10))], transB=1)
    return g.model("lenet", [1, 1, 16, 16], h, [1, 10])


def separable():
    g = Graph(3)
    h = g.node("Conv", ["input", g.weight(8, 1, 3, 3, fan_in=9)], group=8, pads=[1, 1, 1, 1])
    h = g.node("Clip", [g.batchnorm(h, 8), g.const(0.0), g.const(6.0)])
    h = g.node("Conv", [h, g.weight(16, 8, 1, 1, fan_in=8)])
    h = g.node("Relu", [h])
    h = g.node("Conv", [h, g.weight(8, 16, 1, 1, fan_in=16)])
    h = g.node("Add", [h, "input"])
    h = g.node("GlobalAveragePool", [h])
    h = g.node("Flatten", [h])
    h = g.node("Gemm", [h, g.weight(4, 8, fan_in=8), g.const(g.rng.normal(0, 0.1, 4))], transB=1)
    return g.model("separable", [1, 8, 12, 12], h, [1, 4])


def main():
    for name, build in [("mlp", mlp), ("lenet", lenet), ("separable", separable)]:
        model = build()
        path = os.path.join(HERE, f"{name}.onnx")
        onnx.save(model, path)
        shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
        rng = np.random.default_rng(100)
        # Three decimals keep the JSON files small; the rounded values are the data.
        sample = rng.uniform(-1, 1, shape).round(3).astype(np.float32)
        calibration = rng.uniform(-1, 1, [16] + shape).round(3).astype(np.float32)
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        out = sess.run(None, {"input": sample})[0]
        write = lambda suffix, obj: json.dump(obj, open(os.path.join(HERE, f"{name}.{suffix}.json"), "w"))  # noqa: E731
        as_list = lambda a: [round(float(v), 3) for v in a.ravel()]  # noqa: E731
        write("input", {"input_data": [as_list(sample)]})
        write("calibration", {"input_data": [as_list(calibration)]})
        write("expected", {"outputs": [out.ravel().tolist()]})
        print(f"{name}: {os.path.getsize(path)} bytes, output {list(out.shape)}")


def generator():
    """The committed generator on one prompt's latent: gan.input.json and gan.expected.json."""
    sys.path.insert(0, os.path.join(HERE, ".."))
    import intsim  # the training code's integer simulation: latents exactly as a mint derives them

    words = intsim.load_model(os.path.join(HERE, "..", "gan.onnx"))["words"]
    x = np.asarray([intsim.latent_from(bytes(32), GENERATOR_PROMPT, words)], dtype=np.float32) / 128.0
    sess = ort.InferenceSession(os.path.join(HERE, "..", "gan.onnx"), providers=["CPUExecutionProvider"])
    out = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    json.dump({"input_data": [x.ravel().tolist()]}, open(os.path.join(HERE, "gan.input.json"), "w"))
    json.dump({"outputs": [[round(float(v), 6) for v in out.ravel()]]}, open(os.path.join(HERE, "gan.expected.json"), "w"))
    print(f"gan: output {list(out.shape)}")


if __name__ == "__main__":
    main()
    generator()
