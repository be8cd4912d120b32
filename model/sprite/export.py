#!/usr/bin/env python3
"""A second generator, unlike the committed one in kind: the pipeline's proof that any
generator becomes a collection. Plain PyTorch, fixed seeded weights (no training: the point is
the operators, the picture size and the grey output), exported by PyTorch's own exporter:

    latent [1, 16] → Linear 128 → ReLU → view [1, 8, 4, 4]
      → Upsample nearest ×2 → Conv2d 8→4 3×3 pad 1 → ReLU        [1, 4, 8, 8]
      → Upsample nearest ×2 → Conv2d 4→1 3×3 pad 1 → Hardtanh(0, 1)   [1, 1, 16, 16]

No transposed convolution, no trained scales (`section9 collection new` calibrates it), a
bounded output (Hardtanh, exported as Clip) that calibrates to 256 values: black at 0, white
at 1; a grey 16×16 picture.

    pip install torch onnx      # CPU is enough
    python model/sprite/export.py               # writes model/sprite/sprite.onnx
"""

import os

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


class Sprite(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 128)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv1 = nn.Conv2d(8, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 1, 3, padding=1)
        self.out = nn.Hardtanh(0.0, 1.0)

    def forward(self, z):
        x = torch.relu(self.fc(z)).view(1, 8, 4, 4)
        x = torch.relu(self.conv1(self.up(x)))
        return self.out(self.conv2(self.up(x)))


def main():
    torch.manual_seed(9)
    model = Sprite().eval()
    with torch.no_grad():
        # Gains chosen so the picture spans black to white rather than saturating.
        for layer, gain in [(model.fc, 1.6), (model.conv1, 1.6), (model.conv2, 0.35)]:
            fan_in = layer.weight[0].numel()
            layer.weight.normal_(0, gain / fan_in**0.5)
        model.fc.bias.normal_(0, 0.3)
        model.conv1.bias.normal_(0, 0.2)
        model.conv2.bias.fill_(0.8)
    path = os.path.join(HERE, "sprite.onnx")
    torch.onnx.export(model, (torch.zeros(1, 16),), path, input_names=["latent"], output_names=["picture"], opset_version=17, dynamo=False)
    print("wrote", path)


if __name__ == "__main__":
    main()
