#!/usr/bin/env python3
"""Generates the ONNX backend node test cases for the operators Section 9 compiles, with the
`onnx` package's own generators (onnx.backend.test.case.node.collect_testcases).

For each case whose node is a supported operator and whose data are float32 with static
shapes, writes tests/onnx-backend/cases/<name>/model.onnx and data.json:
{"input_data": [[...]], "output_data": [[...]], "output_shapes": [[...]]} (EZKL's input shape,
the expected outputs as onnx computed them).

Parameters that a deployed model holds as weights (a convolution's kernel, Gemm's B and C, a
BatchNormalization's statistics, Clip's bounds, Pad's pads, Resize's scales, Reshape's
shape…) are graph inputs in the backend cases; they are frozen into initializers here, with
the values of the case. Data operands (both sides of Add, every Concat input) stay inputs.

    python tests/onnx-backend/generate.py [OUT_DIR]    # default target/onnx-backend; needs onnx

scripts/test.sh runs it (in a venv with tests/onnx-backend/requirements.txt) before the Rust
tests; crate/tests/onnx_backend.rs reads the cases from $SECTION9_ONNX_BACKEND or the default.
"""

import json
import os
import shutil
import sys
import warnings

import numpy as np
import onnx
from onnx import helper, numpy_helper

warnings.filterwarnings("ignore")
from onnx.backend.test.case.node import collect_testcases  # noqa: E402

OPS = [
    "Gemm", "MatMul", "Conv", "ConvTranspose", "BatchNormalization", "Relu", "LeakyRelu", "Clip",
    "Sigmoid", "Tanh", "Add", "Sub", "Mul", "Div", "Reshape", "Flatten", "Squeeze", "Unsqueeze",
    "Transpose", "Concat", "MaxPool", "AveragePool", "GlobalAveragePool", "Pad", "Resize",
    "Upsample", "Identity", "Dropout", "Softmax", "Erf", "Gelu", "HardSwish", "HardSigmoid", "Exp",
    "Softplus", "Sqrt", "Reciprocal", "Neg", "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin",
    "Gather", "Slice", "Expand", "LayerNormalization", "Pow",
]
# Input positions that are parameters (frozen into initializers); every non-float input is frozen too.
PARAMS = {
    "Gemm": {1, 2}, "MatMul": {1}, "Conv": {1, 2}, "ConvTranspose": {1, 2},
    "BatchNormalization": {1, 2, 3, 4}, "Clip": {1, 2}, "Pad": {1, 2, 3}, "Resize": {1, 2, 3},
    "Upsample": {1}, "Reshape": {1}, "Squeeze": {1}, "Unsqueeze": {1}, "Dropout": {1, 2},
    "ReduceMean": {1}, "ReduceSum": {1}, "ReduceMax": {1}, "ReduceMin": {1}, "Gather": {1},
    "Slice": {1, 2, 3, 4}, "Expand": {1}, "LayerNormalization": {1, 2}, "Pow": {1},
}

# Operators whose extra outputs (LayerNormalization's Mean and InvStdDev) are training-time
# statistics: the case keeps the first output alone.
FIRST_OUTPUT = {"LayerNormalization"}

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "target", "onnx-backend")


def main() -> int:
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    written = 0
    for case in collect_testcases(None):
        graph = case.model.graph
        if len(graph.node) != 1 or graph.node[0].op_type not in OPS:
            continue
        node = graph.node[0]
        graph_outputs = list(graph.output)
        if node.op_type in FIRST_OUTPUT and len(node.output) > 1:
            node = onnx.NodeProto()
            node.CopyFrom(graph.node[0])
            del node.output[1:]
            graph_outputs = graph_outputs[:1]
        for k, (inputs, outputs) in enumerate(case.data_sets):
            if node.op_type in FIRST_OUTPUT:
                outputs = outputs[:1]
            if len(outputs) != 1 or np.asarray(outputs[0]).dtype != np.float32:
                continue
            frozen, data, kept = [], [], []
            for pos, (vi, value) in enumerate(zip(graph.input, inputs)):
                value = np.asarray(value)
                position = list(node.input).index(vi.name)
                if value.dtype != np.float32 or position in PARAMS.get(node.op_type, set()):
                    frozen.append(numpy_helper.from_array(value, vi.name))
                else:
                    if any(d == 0 for d in value.shape):
                        break
                    kept.append(helper.make_tensor_value_info(vi.name, onnx.TensorProto.FLOAT, list(value.shape)))
                    data.append(value.astype(np.float32).ravel().tolist())
            else:
                if not kept:
                    continue
                g = helper.make_graph([node], graph.name, kept, graph_outputs, initializer=frozen)
                model = helper.make_model(g, opset_imports=list(case.model.opset_import), ir_version=case.model.ir_version)
                name = case.name if k == 0 else f"{case.name}_{k}"
                d = os.path.join(OUT, name)
                os.makedirs(d)
                onnx.save(model, os.path.join(d, "model.onnx"))
                out = np.asarray(outputs[0])
                with open(os.path.join(d, "data.json"), "w") as f:
                    json.dump({"input_data": data, "output_data": [out.ravel().tolist()], "output_shapes": [list(out.shape)]}, f)
                written += 1
    print(f"wrote {written} cases to {os.path.relpath(OUT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
