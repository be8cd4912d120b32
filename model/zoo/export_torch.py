#!/usr/bin/env python3
"""Small PyTorch models exported with both of PyTorch's ONNX exporters, as users export them:
the classic TorchScript exporter (`torch.onnx.export(..., dynamo=False)`) and the dynamo one
(`dynamo=True`). The weights are seeded (no training: the point is what the exporters emit).

    gelu_mlp   [1, 16] → Linear 32 → GELU → Linear 16 → GELU(tanh) → Linear 4
    mobile     [1, 8, 8, 8] → 1×1 Conv 16 → BN → HardSwish → depthwise 3×3 → BN → HardSwish
               → squeeze-excite (AdaptiveAvgPool 1 → 1×1 Conv 4 → ReLU → 1×1 Conv 16 →
               HardSigmoid → ×) → 1×1 Conv 8 → BN → + input → AdaptiveAvgPool 1 → Linear 4
    resnet     [1, 4, 8, 8] → 3×3 Conv → BN → ReLU → 3×3 Conv → BN → + input → ReLU
               → AdaptiveAvgPool 1 → Linear 4
    seq        [1, 6, 8] → Linear 16 (over the last axis) → GELU → Linear 8 → + input → mean over
               the sequence → [1, 8]
    transformer [1, 8, 16] → nn.TransformerEncoder: 2 × nn.TransformerEncoderLayer(d_model 16,
               2 heads, feed-forward 32, dropout 0, batch_first) → [1, 8, 16]
    char_lm    [1, 8, 32] one-hot characters → Linear 32→16 without bias (the embedding) +
               learned positions → the same 2-layer encoder → LayerNorm → Linear 16→32 (logits)

The transformer layers are exported with PyTorch's fused fast path off
(`torch.backends.mha.set_fastpath_enabled(False)`, `enable_nested_tensor=False`): in eval mode
it would otherwise export `_transformer_encoder_layer_fwd`, which is no ONNX op.

The character model reads its characters one-hot (a float [1, seq, vocab] tensor), not as
indices: `nn.Embedding` exports a Gather of a constant table at computed indices, which the
compiler refuses (a lookup of a secret index would need a table argument per row), while
one-hot · E is the same embedding as a product with constant weights, and a one-hot value is
exact at any scale. It has no causal mask: PyTorch's mask adds -inf (or a large negative
number) before the Softmax, which no calibrated scale can hold next to the real scores; the
model is a bidirectional (masked-language-model style) character encoder.

Every model is exported with a symbolic batch dimension (what deployed models carry; the
exporters then emit shape arithmetic, which the importer folds with batch 1).

For each <model>: model/zoo/torch_<model>.input.json (one sample) and .calibration.json (16
samples), as make.py writes them; for each <model>_<exporter> (exporter: classic, opset 17;
dynamo, opset 18, and opset 20 for gelu_mlp, where GELU is one ONNX op):
torch_<model>_<exporter>.onnx (and its .onnx.data when the exporter writes the weights beside
it) and .expected.json (onnxruntime's outputs for the sample). crate/tests/zoo.rs compiles them; CI reads only these files.

    python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch onnx onnxruntime onnxscript
    /tmp/torchvenv/bin/python model/zoo/export_torch.py [MODEL ...]    # default: all
"""

import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def randomize_batchnorm(model: nn.Module, gen: torch.Generator) -> None:
    """Running statistics as training would leave them (the defaults make BN an identity)."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.weight.data = 0.5 + torch.rand(c, generator=gen)
            m.bias.data = 0.1 * torch.randn(c, generator=gen)
            m.running_mean = 0.1 * torch.randn(c, generator=gen)
            m.running_var = 0.5 + 1.5 * torch.rand(c, generator=gen)


class GeluMlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(16, 32), nn.Linear(32, 16), nn.Linear(16, 4)

    def forward(self, x):
        x = nn.functional.gelu(self.fc1(x))
        x = nn.functional.gelu(self.fc2(x), approximate="tanh")
        return self.fc3(x)


class Mobile(nn.Module):
    def __init__(self):
        super().__init__()
        self.expand = nn.Sequential(nn.Conv2d(8, 16, 1, bias=False), nn.BatchNorm2d(16), nn.Hardswish())
        self.depthwise = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False), nn.BatchNorm2d(16), nn.Hardswish())
        self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(16, 4, 1), nn.ReLU(), nn.Conv2d(4, 16, 1), nn.Hardsigmoid())
        self.project = nn.Sequential(nn.Conv2d(16, 8, 1, bias=False), nn.BatchNorm2d(8))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        h = self.depthwise(self.expand(x))
        h = h * self.se(h)
        h = self.project(h) + x
        return self.fc(torch.flatten(self.pool(h), 1))


class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(4, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4)
        self.conv2, self.bn2 = nn.Conv2d(4, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        h = torch.relu(self.bn1(self.conv1(x)))
        h = torch.relu(self.bn2(self.conv2(h)) + x)
        return self.fc(torch.flatten(self.pool(h), 1))


class Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(8, 16), nn.Linear(16, 8)

    def forward(self, x):
        h = self.fc2(nn.functional.gelu(self.fc1(x))) + x
        return h.mean(dim=1)


def encoder() -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, dropout=0.0, batch_first=True)
    return nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)


class Transformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = encoder()

    def forward(self, x):
        return self.encoder(x)


class CharLm(nn.Module):
    VOCAB, SEQ, D = 32, 8, 16

    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(self.VOCAB, self.D, bias=False)
        self.position = nn.Parameter(0.1 * torch.randn(1, self.SEQ, self.D))
        self.encoder = encoder()
        self.norm = nn.LayerNorm(self.D)
        self.head = nn.Linear(self.D, self.VOCAB)

    def forward(self, x):
        return self.head(self.norm(self.encoder(self.embed(x) + self.position)))


MODELS = [
    ("gelu_mlp", GeluMlp, [1, 16]),
    ("mobile", Mobile, [1, 8, 8, 8]),
    ("resnet", ResNet, [1, 4, 8, 8]),
    ("seq", Seq, [1, 6, 8]),
    ("transformer", Transformer, [1, 8, 16]),
    ("char_lm", CharLm, [1, CharLm.SEQ, CharLm.VOCAB]),
]


def one_hot(rng: np.random.Generator, shape) -> np.ndarray:
    """Random characters, one-hot over the last axis."""
    idx = rng.integers(0, shape[-1], shape[:-1])
    return np.eye(shape[-1], dtype=np.float32)[idx]


def export(model: nn.Module, shape, path: str, exporter: str, opset: int) -> None:
    """Exports with a symbolic batch dimension, as deployed models usually are: the exporters
    then compute reshapes from `Shape` at run time, which the importer folds (batch 1)."""
    # A batch of 2 as the example: torch.export specializes a dimension whose example is 1.
    x = torch.zeros([2] + shape[1:])
    if exporter == "classic":
        torch.onnx.export(model, (x,), path, dynamo=False, opset_version=opset, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    else:
        program = torch.onnx.export(model, (x,), dynamo=True, opset_version=opset, input_names=["input"], output_names=["output"],
                                    dynamic_shapes=({0: torch.export.Dim("batch")},))
        program.save(path)


def main() -> None:
    torch.backends.mha.set_fastpath_enabled(False)
    only = sys.argv[1:]
    for name, cls, shape in MODELS:
        if only and name not in only:
            continue
        torch.manual_seed(0)
        model = cls()
        randomize_batchnorm(model, torch.Generator().manual_seed(1))
        model.eval()
        rng = np.random.default_rng(100)
        # Three decimals keep the JSON files small; the rounded values are the data.
        if name == "char_lm":
            sample, calibration = one_hot(rng, shape), one_hot(rng, [16] + shape)
        else:
            sample = rng.uniform(-1, 1, shape).round(3).astype(np.float32)
            calibration = rng.uniform(-1, 1, [16] + shape).round(3).astype(np.float32)
        # Both exports of a model read the same data files.
        as_list = lambda a: [round(float(v), 3) for v in a.ravel()]  # noqa: E731
        json.dump({"input_data": [as_list(sample)]}, open(os.path.join(HERE, f"torch_{name}.input.json"), "w"))
        json.dump({"input_data": [as_list(calibration)]}, open(os.path.join(HERE, f"torch_{name}.calibration.json"), "w"))
        for exporter, opset in [("classic", 17), ("dynamo", 20 if name == "gelu_mlp" else 18)]:
            stem = f"torch_{name}_{exporter}"
            path = os.path.join(HERE, f"{stem}.onnx")
            for old in (path, path + ".data"):
                if os.path.exists(old):
                    os.remove(old)
            with torch.no_grad():
                export(model, shape, path, exporter, opset)
                torch_out = model(torch.from_numpy(sample)).numpy()
            onnx.checker.check_model(path)
            sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            out = sess.run(None, {sess.get_inputs()[0].name: sample})[0]
            assert np.allclose(out, torch_out, atol=1e-4), f"{stem}: onnxruntime disagrees with PyTorch"
            write = lambda suffix, obj: json.dump(obj, open(os.path.join(HERE, f"{stem}.{suffix}.json"), "w"))  # noqa: E731
            write("expected", {"outputs": [out.ravel().tolist()]})
            ops = sorted({n.op_type for n in onnx.load(path, load_external_data=False).graph.node})
            side = " + .data" if os.path.exists(path + ".data") else ""
            print(f"{stem}: {os.path.getsize(path)} bytes{side}, output {list(out.shape)}, ops {ops}")


if __name__ == "__main__":
    main()
