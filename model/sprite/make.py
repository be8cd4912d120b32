#!/usr/bin/env python3
"""A second generator, unlike the committed one in kind: the pipeline's proof that any
generator becomes a collection. Fixed seeded weights (no training: the point is the operators,
the picture size and the grey output), built with onnx.helper:

    latent [1, 16] → Gemm 128 → Relu → Reshape [1, 8, 4, 4]
      → Resize nearest ×2 → Conv 8→4 3×3 pad 1 → Relu        [1, 4, 8, 8]
      → Resize nearest ×2 → Conv 4→1 3×3 pad 1 → Clip(0, 1)   [1, 1, 16, 16]: a grey 16×16 picture

No transposed convolution, no trained scales (`section9 collection new` calibrates it), a
bounded output (Clip) that calibrates to 256 values: black at 0, white at 1.

    target/onnx-venv/bin/python model/sprite/make.py   # needs onnx and numpy
"""

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    rng = np.random.default_rng(9)
    inits = []

    def const(name, array, dtype=np.float32):
        inits.append(numpy_helper.from_array(np.asarray(array, dtype=dtype), name))
        return name

    def normal(name, *shape, fan_in, gain=1.0):
        return const(name, rng.normal(0, gain / np.sqrt(fan_in), shape))

    nodes = [
        helper.make_node("Gemm", ["latent", normal("fc.w", 128, 16, fan_in=16, gain=1.6), const("fc.b", rng.normal(0, 0.3, 128))], ["fc"], name="fc", transB=1),
        helper.make_node("Relu", ["fc"], ["fc_relu"], name="fc_relu"),
        helper.make_node("Reshape", ["fc_relu", const("shape", [1, 8, 4, 4], np.int64)], ["grid"], name="grid"),
        helper.make_node("Resize", ["grid", "", const("scales", [1, 1, 2, 2])], ["up1"], name="up1", mode="nearest"),
        helper.make_node("Conv", ["up1", normal("conv1.w", 4, 8, 3, 3, fan_in=72, gain=1.6), const("conv1.b", rng.normal(0, 0.2, 4))], ["conv1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv1"], ["conv1_relu"], name="conv1_relu"),
        helper.make_node("Resize", ["conv1_relu", "", "scales"], ["up2"], name="up2", mode="nearest"),
        helper.make_node("Conv", ["up2", normal("conv2.w", 1, 4, 3, 3, fan_in=36, gain=0.35), const("conv2.b", [0.8])], ["conv2"], name="conv2", pads=[1, 1, 1, 1]),
        helper.make_node("Clip", ["conv2", const("zero", 0.0), const("one", 1.0)], ["picture"], name="picture"),
    ]
    graph = helper.make_graph(
        nodes,
        "sprite",
        [helper.make_tensor_value_info("latent", TensorProto.FLOAT, [1, 16])],
        [helper.make_tensor_value_info("picture", TensorProto.FLOAT, [1, 1, 16, 16])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="section9 model/sprite/make.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, "sprite.onnx"))
    print("wrote", os.path.join(HERE, "sprite.onnx"))


if __name__ == "__main__":
    main()
