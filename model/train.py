#!/usr/bin/env python3
"""Train the Section 9 generator and export it as a grid-exact float ONNX model.

Stages:
  1. float conditional DCGAN training (generator with BatchNorm; small conv
     discriminator with a projection term and an auxiliary category classifier):
     the latent is 23 noise values followed by the 9-value condition the prompt's
     words give (words.py), and every real picture is paired with the condition of
     its own emoji name;
  2. fold the generator's BatchNorm into fc/up1/up2 (running statistics);
  3. calibrate the activation frac bits, then quantization-aware fine-tuning
     (still adversarial) with fake-quantized weights, biases and activations
     that follow the integer spec in README.md exactly;
  4. export ONNX (weights/biases exactly on the power-of-two grids, plus the
     `section9.quantization` metadata) and check it against PyTorch with
     onnxruntime.
"""
import argparse
import json
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import words

HERE = os.path.dirname(os.path.abspath(__file__))
LATENT_DIM = 32
COND_DIM = 9  # emoji categories (words.classes_of)
NOISE_DIM = LATENT_DIM - COND_DIM
COND_DROPOUT = 0.1  # share of training latents with an all-zero condition ("no known word")
LATENT_FRAC_BITS = 7
OUT_FRAC_BITS = 7
LAYERS = ("fc", "up1", "up2", "up3")
BIAS_LIMIT = 2 ** 24 - 1  # |q_b| < 2^24 keeps biases exact in float32


def log(msg):
    print(msg, flush=True)


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ----------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------

def load_dataset(img_dir, cache_path):
    """All PNGs of img_dir, composited on white, 32x32 RGB, float32 in [-1, 1], NCHW."""
    if cache_path and os.path.exists(cache_path):
        return np.load(cache_path)
    from PIL import Image

    files = sorted(f for f in os.listdir(img_dir) if f.endswith(".png"))
    if not files:
        raise SystemExit(f"no PNG files in {img_dir}")
    out = np.empty((len(files), 3, 32, 32), np.float32)
    for i, name in enumerate(files):
        with Image.open(os.path.join(img_dir, name)) as im:
            im = im.convert("RGBA")
            bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
            rgb = Image.alpha_composite(bg, im).convert("RGB")
            rgb = rgb.resize((32, 32), Image.Resampling.LANCZOS)
        arr = np.asarray(rgb, dtype=np.float32) / 127.5 - 1.0
        out[i] = arr.transpose(2, 0, 1)
    if cache_path:
        np.save(cache_path, out)
    return out


def emoji_by_image(emoji_json):
    """PNG file name → its emoji's entry in emoji.json (skin-tone variants → their base emoji)."""
    with open(emoji_json) as f:
        emoji = json.load(f)
    by_image = {}
    for e in emoji:
        by_image[e["image"]] = e
        for v in (e.get("skin_variations") or {}).values():
            by_image[v["image"]] = e
    return by_image


def load_conditions(img_dir, emoji_json, vocab):
    """For each PNG of img_dir (sorted, as load_dataset): whether it is used, the condition of its
    emoji's name (ints in [0, 127]) and its category index."""
    by_image = emoji_by_image(emoji_json)
    files = sorted(f for f in os.listdir(img_dir) if f.endswith(".png"))
    keep, conds, cats = [], [], []
    for name in files:
        e = by_image.get(name)
        ok = e is not None and e["category"] in vocab["classes"]
        keep.append(ok)
        if ok:
            conds.append(words.condition(vocab, e["name"]))
            cats.append(vocab["classes"].index(e["category"]))
    return np.array(keep), np.array(conds, np.int64), np.array(cats, np.int64)


class Conditions:
    """The training set's conditions, drawn for generated latents (COND_DROPOUT of them zero)."""

    def __init__(self, conds):
        self.q = torch.as_tensor(conds, dtype=torch.float32)

    def dropout(self, c, gen=None):
        keep = torch.rand(c.shape[0], generator=gen) >= COND_DROPOUT
        return c * keep[:, None].float()

    def draw(self, n, gen=None):
        idx = torch.randint(0, self.q.shape[0], (n,), generator=gen)
        return self.dropout(self.q[idx], gen)


def sample_noise(n, gen=None):
    """The noise part of deployed latents: int8 values at frac bits 7."""
    return torch.randint(-128, 128, (n, NOISE_DIM), generator=gen).float()


def latents(noise, cond_q):
    """noise ‖ condition (both integer-valued) → the latent at frac bits 7."""
    return torch.cat([noise, cond_q], 1) / float(2 ** LATENT_FRAC_BITS)


def sample_latents(n, conds, gen=None):
    return latents(sample_noise(n, gen), conds.draw(n, gen))


# ----------------------------------------------------------------------------
# models
# ----------------------------------------------------------------------------

class FloatGenerator(nn.Module):
    """Training-time generator (DCGAN style, BatchNorm after fc/up1/up2)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(LATENT_DIM, 512, bias=False)
        self.bn0 = nn.BatchNorm2d(32)
        self.up1 = nn.ConvTranspose2d(32, 16, 4, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.up2 = nn.ConvTranspose2d(16, 8, 4, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.up3 = nn.ConvTranspose2d(8, 3, 4, 2, 1, bias=True)

    def forward(self, z):
        x = self.fc(z).view(-1, 32, 4, 4)
        x = F.relu(self.bn0(x))
        x = F.relu(self.bn1(self.up1(x)))
        x = F.relu(self.bn2(self.up2(x)))
        return F.hardtanh(self.up3(x))


class Discriminator(nn.Module):
    """Conv features, then real/fake = linear(h) + <embed(condition), h> (projection) and a
    category classifier on h (auxiliary)."""

    def __init__(self, ch=32):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, ch, 4, 2, 1),  # 16x16
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False),  # 8x8
            nn.BatchNorm2d(ch * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ch * 2, ch * 4, 4, 2, 1, bias=False),  # 4x4
            nn.BatchNorm2d(ch * 4),
            nn.LeakyReLU(0.2, inplace=True),
        )
        feat = ch * 4 * 16
        self.out = nn.Linear(feat, 1)
        self.embed = nn.Linear(COND_DIM, feat, bias=False)
        self.aux = nn.Linear(feat, COND_DIM)

    def forward(self, x, c):
        h = self.features(x).flatten(1)
        return self.out(h).view(-1) + (self.embed(c) * h).sum(1), self.aux(h)


def soft_ce(logits, c):
    """Cross-entropy against the condition read as a distribution over categories (rows
    without a condition are skipped)."""
    mask = c.sum(1) > 0
    if not bool(mask.any()):
        return logits.sum() * 0.0
    t = c[mask] / c[mask].sum(1, keepdim=True)
    return -(t * F.log_softmax(logits[mask], 1)).sum(1).mean()


def dcgan_init(module):
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def ste(x, xq):
    """Straight-through estimator: forward xq, backward identity."""
    return x + (xq - x).detach()


def round_half_up(x):
    return torch.floor(x + 0.5)


def weight_frac_bits(w):
    m = float(w.detach().abs().max())
    if m == 0.0:
        raise ValueError("all-zero weight tensor")
    return int(math.floor(math.log2(127.0 / m)))


def quant_weight(w, fw):
    scale = 2.0 ** fw
    return torch.clamp(round_half_up(w * scale), -127, 127) / scale


def quant_bias(b, fx, fw):
    scale = 2.0 ** (fx + fw)
    return torch.clamp(round_half_up(b * scale), -BIAS_LIMIT, BIAS_LIMIT) / scale


class QuantGenerator(nn.Module):
    """BN-free generator with spec-exact fake quantization.

    qw: weights/biases on their power-of-two grids (always on for export).
    qa: activations quantized exactly like the integer model (round half up,
        clamp to uint8 / int8). With qw=True, qa=False this is the float ONNX
        graph; with qw=True, qa=True it is the integer model (scaled).
    """

    def __init__(self):
        super().__init__()
        self.w = nn.ParameterDict()
        self.b = nn.ParameterDict()
        # output frac bits of the hidden layers, set by calibrate()
        self.fy = {"fc": None, "up1": None, "up2": None, "up3": OUT_FRAC_BITS}

    @classmethod
    def from_float(cls, g):
        """Fold BatchNorm (running stats) into the preceding linear layer."""
        q = cls()
        with torch.no_grad():
            def bn_scale_shift(bn):
                s = bn.weight / torch.sqrt(bn.running_var + bn.eps)
                return s, bn.bias - bn.running_mean * s

            # fc + bn0 (BN over the 32 channels of the reshaped 32x4x4 output)
            s, t = bn_scale_shift(g.bn0)
            s_rows = s.repeat_interleave(16)
            t_rows = t.repeat_interleave(16)
            q.w["fc"] = nn.Parameter(g.fc.weight * s_rows[:, None])
            q.b["fc"] = nn.Parameter(t_rows.clone())
            for name, bn in (("up1", g.bn1), ("up2", g.bn2)):
                conv = getattr(g, name)
                s, t = bn_scale_shift(bn)
                q.w[name] = nn.Parameter(conv.weight * s[None, :, None, None])
                q.b[name] = nn.Parameter(t.clone())
            q.w["up3"] = nn.Parameter(g.up3.weight.clone())
            q.b["up3"] = nn.Parameter(g.up3.bias.clone())
        return q

    def in_frac_bits(self, name):
        i = LAYERS.index(name)
        return LATENT_FRAC_BITS if i == 0 else self.fy[LAYERS[i - 1]]

    def qparams(self, name, qw=True):
        w, b = self.w[name], self.b[name]
        if not qw:
            return w, b, None
        fw = weight_frac_bits(w)
        fx = self.in_frac_bits(name)
        return ste(w, quant_weight(w, fw)), ste(b, quant_bias(b, fx, fw)), fw

    def linear(self, name, x, qw=True):
        w, b, _ = self.qparams(name, qw)
        if name == "fc":
            return F.linear(x, w, b).view(-1, 32, 4, 4)
        return F.conv_transpose2d(x, w, b, stride=2, padding=1)

    def act(self, name, y, qa):
        fy = self.fy[name]
        if name == "up3":
            lo, hi = -128, 127
        else:
            lo, hi = 0, 255
        if not qa:
            return F.hardtanh(y) if name == "up3" else F.relu(y)
        scale = 2.0 ** fy
        yc = torch.clamp(y, lo / scale, hi / scale)  # gradient masked outside
        return ste(yc, round_half_up(yc * scale) / scale)

    def forward(self, z, qw=True, qa=True):
        x = z
        for name in LAYERS:
            x = self.act(name, self.linear(name, x, qw), qa)
        return x

    @torch.no_grad()
    def calibrate(self, conds, n=4096, percentile=100.0, seed=1234):
        """Choose fy for fc/up1/up2 from activation statistics, layer by layer
        (earlier layers already quantized as they will be at inference)."""
        gen = torch.Generator().manual_seed(seed)
        x = sample_latents(n, conds, gen)
        stats = {}
        for name in LAYERS[:-1]:
            y = F.relu(self.linear(name, x, qw=True))
            flat = y.flatten()
            if percentile >= 100.0:
                m = float(flat.max())
            else:
                k = max(1, int(round(flat.numel() * percentile / 100.0)))
                m = float(flat.kthvalue(k).values)
            fy = int(math.floor(math.log2(255.0 / m)))
            self.fy[name] = fy
            sat = float((y > 255.0 / 2 ** fy).float().mean())
            stats[name] = {"max": float(flat.max()), "calib_value": m, "fy": fy, "saturated_fraction": sat}
            x = self.act(name, self.linear(name, x, qw=True), qa=True)
        return stats

    @torch.no_grad()
    def export_arrays(self):
        """Grid-exact float32 weights/biases and the frac bits of every layer."""
        layers = []
        for name in LAYERS:
            w, b = self.w[name], self.b[name]
            fw = weight_frac_bits(w)
            fx = self.in_frac_bits(name)
            fy = self.fy[name]
            wq = quant_weight(w, fw).numpy().astype(np.float32)
            bq = quant_bias(b, fx, fw).numpy().astype(np.float32)
            shift = fx + fw - fy
            if shift < 1:
                raise ValueError(f"{name}: shift {shift} < 1 (fx={fx} fw={fw} fy={fy})")
            layers.append({"node": name, "w": wq, "b": bq, "fx": fx, "fw": fw, "fy": fy, "shift": shift})
        return layers


# ----------------------------------------------------------------------------
# ONNX export
# ----------------------------------------------------------------------------

def build_onnx(layers, vocab, opset=13):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inits = []
    for L in layers:
        inits.append(numpy_helper.from_array(L["w"], f"{L['node']}.weight"))
        inits.append(numpy_helper.from_array(L["b"], f"{L['node']}.bias"))
    inits.append(numpy_helper.from_array(np.array([1, 32, 4, 4], np.int64), "reshape_shape"))
    inits.append(numpy_helper.from_array(np.array(-1.0, np.float32), "clip_min"))
    inits.append(numpy_helper.from_array(np.array(1.0, np.float32), "clip_max"))

    convt = dict(kernel_shape=[4, 4], strides=[2, 2], pads=[1, 1, 1, 1])
    nodes = [
        helper.make_node("Gemm", ["latent", "fc.weight", "fc.bias"], ["fc_out"], name="fc", transB=1),
        helper.make_node("Relu", ["fc_out"], ["fc_relu"], name="fc_relu"),
        helper.make_node("Reshape", ["fc_relu", "reshape_shape"], ["h0"], name="reshape"),
        helper.make_node("ConvTranspose", ["h0", "up1.weight", "up1.bias"], ["up1_out"], name="up1", **convt),
        helper.make_node("Relu", ["up1_out"], ["h1"], name="up1_relu"),
        helper.make_node("ConvTranspose", ["h1", "up2.weight", "up2.bias"], ["up2_out"], name="up2", **convt),
        helper.make_node("Relu", ["up2_out"], ["h2"], name="up2_relu"),
        helper.make_node("ConvTranspose", ["h2", "up3.weight", "up3.bias"], ["up3_out"], name="up3", **convt),
        helper.make_node("Clip", ["up3_out", "clip_min", "clip_max"], ["image"], name="clip"),
    ]
    graph = helper.make_graph(
        nodes,
        "section9_generator",
        [helper.make_tensor_value_info("latent", TensorProto.FLOAT, [1, LATENT_DIM])],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 32, 32])],
        initializer=inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name="section9-train",
        producer_version="1",
    )
    model.ir_version = 7
    meta = {
        "format": "section9-pow2-v1",
        "input": {"name": "latent", "frac_bits": LATENT_FRAC_BITS},
        "layers": [
            {"node": L["node"], "weight_frac_bits": L["fw"], "output_frac_bits": L["fy"]} for L in layers
        ],
    }
    helper.set_model_props(model, {"section9.quantization": json.dumps(meta, separators=(",", ":")),
                                   words.META_KEY: words.to_json(vocab)})
    onnx.checker.check_model(model, full_check=True)
    model = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    onnx.checker.check_model(model, full_check=True)
    return model, meta


def verify_onnx(path, qgen, conds, n=64, seed=99):
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    gen = torch.Generator().manual_seed(seed)
    z = sample_latents(n, conds, gen)
    with torch.no_grad():
        ref = qgen(z, qw=True, qa=False).numpy()
    worst = 0.0
    for i in range(n):
        out = sess.run(["image"], {"latent": z[i : i + 1].numpy()})[0]
        worst = max(worst, float(np.abs(out - ref[i : i + 1]).max()))
    return worst


# ----------------------------------------------------------------------------
# training loops
# ----------------------------------------------------------------------------

def save_grid(images, path):
    """images: float tensor [64, 3, 32, 32] in [-1, 1] -> 8x8 PNG grid (progress snapshots)."""
    from PIL import Image

    px = ((images.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    canvas = np.full((8 * 34 + 2, 8 * 34 + 2, 3), 255, np.uint8)
    for i in range(min(64, len(px))):
        r, c = divmod(i, 8)
        canvas[2 + r * 34 : 2 + r * 34 + 32, 2 + c * 34 : 2 + c * 34 + 32] = px[i]
    Image.fromarray(canvas).resize((canvas.shape[1] * 2, canvas.shape[0] * 2), Image.Resampling.NEAREST).save(path)


def snapshot_latents():
    """8 rows (the first 8 categories, each alone at 127) × 8 noise columns."""
    noise = sample_noise(8, torch.Generator().manual_seed(4242)).repeat(8, 1)
    cond = torch.zeros(64, COND_DIM)
    for r in range(8):
        cond[r * 8 : r * 8 + 8, r] = 127.0
    return latents(noise, cond)


def gan_epochs(G, D, optG, optD, data, conds, epochs, batch, label, gen_fn, t0, aux_weight, ms_weight,
               log_every=1, epoch_offset=0, snap_dir=None, snap_every=0):
    """Non-saturating conditional GAN loss; gen_fn(z) produces fakes; data[i] has the condition
    conds.q[i]. aux_weight: the auxiliary classifier's loss (both players); ms_weight: the
    mode-seeking term (two noises, one condition: the pictures must differ as the noises do,
    or every prompt collapses to one picture). Returns per-epoch history."""
    z_snap = snapshot_latents()
    bce = nn.BCEWithLogitsLoss()
    n = data.shape[0]
    hist = []
    for ep in range(epochs):
        perm = torch.randperm(n)
        ld_sum = lg_sum = 0.0
        steps = 0
        for i in range(0, n - batch + 1, batch):
            idx = perm[i : i + batch]
            real = data[idx]
            flip = torch.rand(batch) < 0.5
            real = torch.where(flip[:, None, None, None], real.flip(3), real)
            c_q = conds.dropout(conds.q[idx])
            c = c_q / float(2 ** LATENT_FRAC_BITS)
            n1, n2 = sample_noise(batch), sample_noise(batch)
            fake = gen_fn(latents(n1, c_q))
            # discriminator (real labels smoothed to 0.9); its classifier learns from real pictures
            optD.zero_grad(set_to_none=True)
            d_real, aux_real = D(real, c)
            d_fake, _ = D(fake.detach(), c)
            ld = (bce(d_real, torch.full_like(d_real, 0.9)) + bce(d_fake, torch.zeros_like(d_fake))
                  + aux_weight * soft_ce(aux_real, c))
            ld.backward()
            optD.step()
            # generator: fool the discriminator, and be classified as the condition says
            optG.zero_grad(set_to_none=True)
            d_fake, aux_fake = D(fake, c)
            lg = bce(d_fake, torch.ones_like(d_fake)) + aux_weight * soft_ce(aux_fake, c)
            if ms_weight > 0:
                fake2 = gen_fn(latents(n2, c_q))
                ratio = (fake - fake2).abs().mean() / ((n1 - n2).abs().mean() / 128.0)
                lg = lg + ms_weight / (ratio + 1e-5)
            lg.backward()
            optG.step()
            ld_sum += ld.item()
            lg_sum += lg.item()
            steps += 1
        rec = {"epoch": epoch_offset + ep + 1, "loss_d": ld_sum / steps, "loss_g": lg_sum / steps,
               "time_s": round(time.time() - t0, 1)}
        hist.append(rec)
        if snap_dir and snap_every and ((ep + 1) % snap_every == 0 or ep == epochs - 1):
            was_training = G.training
            G.eval()
            with torch.no_grad():
                save_grid(gen_fn(z_snap), os.path.join(snap_dir, f"{label}_{rec['epoch']:04d}.png"))
            G.train(was_training)
        if (ep + 1) % log_every == 0 or ep == epochs - 1:
            log(f"[{label}] epoch {rec['epoch']:4d}  loss_d {rec['loss_d']:.3f}  loss_g {rec['loss_g']:.3f}  "
                f"t={rec['time_s']:.0f}s")
    return hist


@torch.no_grad()
def refresh_bn_stats(G, conds, batches=64, batch=256):
    """Recompute the generator's BN running stats as exact averages over many batches."""
    bns = [m for m in G.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average
    G.train()
    for _ in range(batches):
        G(sample_latents(batch, conds))
    G.eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(HERE, ".data", "package", "img", "twitter", "64"))
    ap.add_argument("--cache", default=os.path.join(HERE, ".data", "twemoji32.npy"))
    ap.add_argument("--emoji", default=os.path.join(HERE, ".data", "package", "emoji.json"),
                    help="emoji-datasource's emoji.json (names and categories: the vocabulary)")
    ap.add_argument("--out", default=os.path.join(HERE, "gan.onnx"))
    ap.add_argument("--log", default=os.path.join(HERE, "training.json"))
    ap.add_argument("--ckpt", default=os.path.join(HERE, "ckpt"))
    ap.add_argument("--epochs", type=int, default=200, help="float training epochs")
    ap.add_argument("--qat-epochs", type=int, default=80)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--d-ch", type=int, default=16, help="discriminator base width")
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--aux-weight", type=float, default=1.0, help="auxiliary classifier loss weight")
    ap.add_argument("--ms-weight", type=float, default=0.5, help="mode-seeking term weight")
    ap.add_argument("--qat-lr", type=float, default=1e-4)
    ap.add_argument("--calib-percentile", type=float, default=100.0)
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--snap-every", type=int, default=25, help="progress sample grid every N epochs (into --ckpt)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1 reproduces the committed run; 2 is faster on an idle machine)")
    ap.add_argument("--resume-float", action="store_true",
                    help="skip float training and load the float checkpoint from --ckpt")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    seed_all(args.seed)
    t_start = time.time()

    with open(args.emoji) as f:
        vocab = words.build(json.load(f), NOISE_DIM)
    if len(vocab["classes"]) != COND_DIM:
        raise SystemExit(f"expected {COND_DIM} categories, the dataset has {vocab['classes']}")
    keep, cond_np, _ = load_conditions(args.data, args.emoji, vocab)
    data_np = load_dataset(args.data, args.cache)[keep]
    data = torch.from_numpy(data_np)
    conds = Conditions(cond_np)
    log(f"dataset: {data.shape[0]} images, 3x32x32; vocabulary of {len(vocab['words'])} words")

    G = FloatGenerator()
    D = Discriminator(args.d_ch)
    dcgan_init(G)
    dcgan_init(D)
    n_g = sum(p.numel() for p in G.parameters())
    log(f"generator params (with BN): {n_g}, discriminator params: {sum(p.numel() for p in D.parameters())}")
    betas = (0.5, 0.999)
    os.makedirs(args.ckpt, exist_ok=True)
    float_ckpt = os.path.join(args.ckpt, "float.pt")

    t0 = time.time()
    if args.resume_float:
        st = torch.load(float_ckpt)
        G.load_state_dict(st["G"])
        D.load_state_dict(st["D"])
        hist_float = st["hist"]
        float_time = st["time_s"]
        log(f"loaded float checkpoint ({len(hist_float)} epochs, {float_time:.0f}s)")
    else:
        optG = torch.optim.Adam(G.parameters(), lr=args.lr, betas=betas)
        optD = torch.optim.Adam(D.parameters(), lr=args.lr, betas=betas)
        G.train()
        D.train()
        hist_float = gan_epochs(G, D, optG, optD, data, conds, args.epochs, args.batch, "float", G, t0,
                                args.aux_weight, args.ms_weight, snap_dir=args.ckpt, snap_every=args.snap_every)
        float_time = time.time() - t0
        torch.save({"G": G.state_dict(), "D": D.state_dict(), "hist": hist_float, "time_s": float_time}, float_ckpt)

    # fold BN
    refresh_bn_stats(G, conds)
    Q = QuantGenerator.from_float(G)
    with torch.no_grad():
        z = sample_latents(256, conds, torch.Generator().manual_seed(5))
        G.eval()
        ref = G(z)
        Q.fy.update({"fc": 0, "up1": 0, "up2": 0})  # unused with qa=False
        fold_diff = float((Q(z, qw=False, qa=False) - ref).abs().max())
    log(f"BN folded, max |diff| vs eval-mode float generator: {fold_diff:.2e}")

    calib = Q.calibrate(conds, percentile=args.calib_percentile)
    log("calibration: " + json.dumps(calib))

    t1 = time.time()
    optQ = torch.optim.Adam(Q.parameters(), lr=args.qat_lr, betas=betas)
    optD = torch.optim.Adam(D.parameters(), lr=args.qat_lr, betas=betas)
    D.train()
    hist_qat = gan_epochs(Q, D, optQ, optD, data, conds, args.qat_epochs, args.batch, "qat",
                          lambda z: Q(z, qw=True, qa=True), t1, args.aux_weight, args.ms_weight,
                          epoch_offset=len(hist_float),
                          snap_dir=args.ckpt, snap_every=args.snap_every)
    qat_time = time.time() - t1

    layers = Q.export_arrays()
    model, meta = build_onnx(layers, vocab)
    import onnx

    onnx.save(model, args.out)
    diff = verify_onnx(args.out, Q, conds)
    log(f"exported {os.path.basename(args.out)}; onnxruntime vs torch float max |diff| = {diff:.2e}")
    if diff > 1e-4:
        raise SystemExit("ONNX export does not match the PyTorch float model")

    total = time.time() - t_start
    record = {
        "seed": args.seed,
        "threads": args.threads,
        "dataset_images": int(data.shape[0]),
        "batch": args.batch,
        "discriminator_channels": args.d_ch,
        "conditioning": {"noise": NOISE_DIM, "condition": COND_DIM, "classes": vocab["classes"],
                         "words": len(vocab["words"]), "dropout": COND_DROPOUT, "aux_weight": args.aux_weight,
                         "mode_seeking_weight": args.ms_weight},
        "float_epochs": len(hist_float),
        "qat_epochs": args.qat_epochs,
        "lr": args.lr,
        "qat_lr": args.qat_lr,
        "calib_percentile": args.calib_percentile,
        "float_train_seconds": round(float_time, 1),
        "qat_train_seconds": round(qat_time, 1),
        "training_seconds": round(float_time + qat_time, 1),
        "total_seconds": round(total, 1),
        "bn_fold_max_diff": fold_diff,
        "onnx_vs_torch_max_diff": diff,
        "calibration": calib,
        "quantization": meta,
        "shifts": {L["node"]: L["shift"] for L in layers},
        "history": {"float": hist_float, "qat": hist_qat},
    }
    with open(args.log, "w") as f:
        json.dump(record, f, indent=1)
    log(f"training time: float {float_time:.0f}s + QAT {qat_time:.0f}s = {float_time + qat_time:.0f}s "
        f"(total script {total:.0f}s)")
    log("frac bits: " + json.dumps(meta["layers"]))


if __name__ == "__main__":
    main()
