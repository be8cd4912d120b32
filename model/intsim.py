#!/usr/bin/env python3
"""Integer-only reference simulation of the Section 9 generator (numpy int64).

Reads the float ONNX model and its `section9.quantization` metadata, recovers
the integer weights/biases (which must lie exactly on their power-of-two
grids) and runs the integer pipeline described in README.md:

    acc   = q_b + sum(q_w * q_x)                  exact integers
    r     = (acc + 2^(s-1)) >> s                  s = fx + fw - fy >= 1, floor shift
    q_y   = clamp(r, 0, 255)   for fc, up1, up2   (ReLU fused, uint8)
    q_y   = clamp(r, -128, 127) for up3           (int8, frac bits 7)
    pixel = q_y + 128

Usage:
    python intsim.py [--model gan.onnx] [--vectors ../tests/vectors/gan.json]
runs the self-check (structure, exact grids, vectorised vs. naive loops,
agreement with onnxruntime's float output, and the test vectors if present).
Also importable: load_model(), run(), latent_from(), sample_latent(), pixel_bytes().
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np

import words

LAYERS = ("fc", "up1", "up2", "up3")
LATENT_DOMAIN = b"section9/latent/v2\x00"
SAMPLE_DOMAIN = b"section9/latent/v1\x00"
META_KEY = "section9.quantization"


# ----------------------------------------------------------------------------
# prompt -> latent
# ----------------------------------------------------------------------------

def latent_from(seed, prompt, vocab=None):
    """The mint's latent (crate/src/prompt.rs): SHA-256(domain || seed || utf8(prompt)), each
    digest byte read as a two's-complement int8. `seed` is the artist's 32 secret bytes: without
    it, a public picture would give the prompt away to a dictionary search. With a vocabulary
    (a conditioned model's `words`), the first `offset` bytes are followed by the condition of
    the prompt's words (words.condition)."""
    assert len(seed) == 32
    digest = hashlib.sha256(LATENT_DOMAIN + seed + prompt.encode("utf-8")).digest()
    noise = [b - 256 if b >= 128 else b for b in digest]
    if vocab is None:
        return noise
    return noise[: vocab["offset"]] + words.condition(vocab, prompt)


def sample_latent(text):
    """A deterministic, public latent for illustrations and benchmarks ("sample 0", ...):
    SHA-256(b"section9/latent/v1\\0" || utf8(text)) as int8. Not how mints derive theirs."""
    digest = hashlib.sha256(SAMPLE_DOMAIN + text.encode("utf-8")).digest()
    return [b - 256 if b >= 128 else b for b in digest]


# ----------------------------------------------------------------------------
# model loading
# ----------------------------------------------------------------------------

def _exact_int(arr, scale_bits, what):
    """arr * 2^scale_bits as int64, asserting it is an exact integer."""
    scaled = np.ldexp(arr.astype(np.float64), scale_bits)
    ints = np.rint(scaled)
    if not np.array_equal(ints, scaled):
        raise ValueError(f"{what}: values are not on the 2^-{scale_bits} grid")
    return ints.astype(np.int64)


def load_model(path):
    import onnx
    from onnx import numpy_helper

    m = onnx.load(path)
    props = {p.key: p.value for p in m.metadata_props}
    if META_KEY not in props:
        raise ValueError(f"missing metadata {META_KEY}")
    meta = json.loads(props[META_KEY])
    if meta.get("format") != "section9-pow2-v1":
        raise ValueError(f"unknown format {meta.get('format')}")
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    nodes = {n.name: n for n in m.graph.node}
    fx = int(meta["input"]["frac_bits"])
    layers = []
    for spec, name in zip(meta["layers"], LAYERS):
        if spec["node"] != name:
            raise ValueError(f"metadata layer order: expected {name}, got {spec['node']}")
        node = nodes[name]
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if name == "fc":
            if node.op_type != "Gemm" or attrs.get("transB") != 1:
                raise ValueError("fc must be Gemm with transB=1")
        else:
            if node.op_type != "ConvTranspose":
                raise ValueError(f"{name} must be ConvTranspose")
            if (list(attrs.get("kernel_shape", [])) != [4, 4] or list(attrs.get("strides", [])) != [2, 2]
                    or list(attrs.get("pads", [])) != [1, 1, 1, 1]):
                raise ValueError(f"{name}: unexpected attributes {attrs}")
        w = inits[node.input[1]]
        b = inits[node.input[2]]
        if w.dtype != np.float32 or b.dtype != np.float32:
            raise ValueError(f"{name}: weights must be float32")
        fw = int(spec["weight_frac_bits"])
        fy = int(spec["output_frac_bits"])
        qw = _exact_int(w, fw, f"{name}.weight")
        qb = _exact_int(b, fx + fw, f"{name}.bias")
        if qw.min() < -127 or qw.max() > 127:
            raise ValueError(f"{name}: q_w out of [-127, 127]")
        if np.abs(qb).max() >= 2 ** 24:
            raise ValueError(f"{name}: |q_b| >= 2^24")
        # fw must be what the spec's formula gives for these (exported) weights
        fw_formula = int(np.floor(np.log2(127.0 / float(np.abs(w).max()))))
        if fw_formula != fw:
            raise ValueError(f"{name}: weight_frac_bits {fw} != floor(log2(127/max|w|)) = {fw_formula}")
        shift = fx + fw - fy
        if shift < 1:
            raise ValueError(f"{name}: shift {shift} < 1")
        if name == "up3" and fy != 7:
            raise ValueError("up3 output frac bits must be 7")
        layers.append({"node": name, "qw": qw, "qb": qb, "fx": fx, "fw": fw, "fy": fy, "shift": shift})
        fx = fy
    vocab = json.loads(props[words.META_KEY]) if words.META_KEY in props else None
    if vocab is not None and (vocab.get("format") != words.FORMAT
                              or vocab["offset"] + len(vocab["classes"]) != layers[0]["qw"].shape[1]):
        raise ValueError("the prompt vocabulary does not fit the latent")
    return {"path": path, "meta": meta, "layers": layers, "words": vocab}


# ----------------------------------------------------------------------------
# integer inference
# ----------------------------------------------------------------------------

def conv_transpose_s2k4p1(x, w):
    """x int64 [N, Cin, H, W], w int64 [Cin, Cout, 4, 4] -> int64 [N, Cout, 2H, 2W].

    out[co, oy, ox] += x[ci, iy, ix] * w[ci, co, ky, kx], oy = 2*iy - 1 + ky,
    ox = 2*ix - 1 + kx; contributions falling outside the output are dropped.
    """
    n, cin, h, wd = x.shape
    cout = w.shape[1]
    # padded canvas: index (oy + 1) = 2*iy + ky lies in [0, 2H + 2)
    canvas = np.zeros((n, cout, 2 * h + 2, 2 * wd + 2), np.int64)
    for ky in range(4):
        for kx in range(4):
            contrib = np.einsum("nchw,cd->ndhw", x, w[:, :, ky, kx])
            canvas[:, :, ky : ky + 2 * h : 2, kx : kx + 2 * wd : 2] += contrib
    return canvas[:, :, 1 : 2 * h + 1, 1 : 2 * wd + 1]


def requantize(acc, shift, lo, hi):
    r = (acc + (1 << (shift - 1))) >> shift  # arithmetic shift = floor division
    return np.clip(r, lo, hi)


def run(model, latents):
    """latents: int array [N, 32] in [-128, 127] -> int64 q_y [N, 3, 32, 32] in [-128, 127]."""
    x = np.asarray(latents, dtype=np.int64)
    if x.ndim == 1:
        x = x[None]
    if x.shape[1] != 32 or x.min() < -128 or x.max() > 127:
        raise ValueError("latents must be int8 values, shape [N, 32]")
    for L in model["layers"]:
        if L["node"] == "fc":
            acc = x @ L["qw"].T + L["qb"][None, :]
        else:
            acc = conv_transpose_s2k4p1(x, L["qw"]) + L["qb"][None, :, None, None]
        if L["node"] == "up3":
            x = requantize(acc, L["shift"], -128, 127)
        else:
            x = requantize(acc, L["shift"], 0, 255)
        if L["node"] == "fc":
            x = x.reshape(-1, 32, 4, 4)  # NCHW: index = c*16 + y*4 + x
    return x


def accumulator_bounds(model):
    """Per layer: analytic worst case of |acc| over all inputs the layer can see
    (latent in [-128, 127], hidden activations in [0, 255])."""
    out = {}
    xmax_abs = 128
    for L in model["layers"]:
        qw = np.abs(L["qw"])
        if L["node"] == "fc":
            per_out = qw.sum(axis=1)  # [512]
            bound = int((per_out * xmax_abs + np.abs(L["qb"])).max())
        else:
            # each output pixel sees at most 2x2 kernel taps per input channel
            # (stride 2, kernel 4); bound with the worst 2x2 parity class
            worst = 0
            for py in range(2):
                for px in range(2):
                    taps = qw[:, :, py::2, px::2].sum(axis=(0, 2, 3))  # [Cout]
                    worst = max(worst, int((taps * xmax_abs + np.abs(L["qb"])).max()))
            bound = worst
        out[L["node"]] = bound
        xmax_abs = 255
    return out


def pixel_bytes(qy):
    """One image q_y [3, 32, 32] -> 3072 RGB bytes, row-major HWC."""
    px = (np.asarray(qy, np.int64) + 128).astype(np.uint8)
    return px.transpose(1, 2, 0).tobytes()


def pixels_hwc(qy):
    """Batch q_y [N, 3, 32, 32] -> uint8 [N, 32, 32, 3]."""
    return (np.asarray(qy, np.int64) + 128).astype(np.uint8).transpose(0, 2, 3, 1)


# ----------------------------------------------------------------------------
# self-check helpers
# ----------------------------------------------------------------------------

def run_naive(model, latent):
    """Slow, loop-based version of run() for one latent (independent indexing)."""
    x = [int(v) for v in latent]
    shape = None
    for L in model["layers"]:
        qw, qb, s = L["qw"].tolist(), L["qb"].tolist(), L["shift"]
        lo, hi = (-128, 127) if L["node"] == "up3" else (0, 255)
        if L["node"] == "fc":
            out = []
            for o in range(512):
                acc = qb[o] + sum(qw[o][i] * x[i] for i in range(32))
                out.append(min(hi, max(lo, (acc + (1 << (s - 1))) >> s)))
            # reshape to [32][4][4]
            x = [[[out[c * 16 + yy * 4 + xx] for xx in range(4)] for yy in range(4)] for c in range(32)]
            shape = (32, 4, 4)
            continue
        cin, h, wd = shape
        cout = len(qb)
        oh, ow = 2 * h, 2 * wd
        acc = [[[qb[co]] * ow for _ in range(oh)] for co in range(cout)]
        for ci in range(cin):
            for iy in range(h):
                for ix in range(wd):
                    v = x[ci][iy][ix]
                    if v == 0:
                        continue
                    for ky in range(4):
                        oy = iy * 2 - 1 + ky
                        if oy < 0 or oy >= oh:
                            continue
                        for kx in range(4):
                            ox = ix * 2 - 1 + kx
                            if 0 <= ox < ow:
                                for co in range(cout):
                                    acc[co][oy][ox] += v * qw[ci][co][ky][kx]
        x = [[[min(hi, max(lo, (a + (1 << (s - 1))) >> s)) for a in row] for row in ch] for ch in acc]
        shape = (cout, oh, ow)
    return np.array(x, np.int64)


def float_pixels(onnx_path, latents):
    """Float ONNX model through onnxruntime -> unrounded pixels y*128+128 clipped to [0, 255], [N,3,32,32]."""
    import onnxruntime as ort

    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    outs = []
    for lat in np.asarray(latents, np.int64):
        z = (lat.astype(np.float32) / 128.0)[None]
        outs.append(sess.run(["image"], {"latent": z})[0][0])
    y = np.stack(outs).astype(np.float64)
    return np.clip(y * 128.0 + 128.0, 0.0, 255.0)


def psnr(a, b):
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return 99.0 if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)


def self_check(model_path, vectors_path=None, verbose=True):
    def say(msg):
        if verbose:
            print(msg, flush=True)

    model = load_model(model_path)
    say("structure/grids: ok  " + ", ".join(
        f"{L['node']}(fx={L['fx']} fw={L['fw']} fy={L['fy']} s={L['shift']})" for L in model["layers"]))

    # prompt hashing known answer (empty prompt, zero seed)
    assert latent_from(bytes(32), "") == [b - 256 if b >= 128 else b
                                          for b in hashlib.sha256(b"section9/latent/v2\x00" + bytes(32)).digest()]

    rng = np.random.default_rng(7)
    lats = rng.integers(-128, 128, size=(4, 32))
    lats[0] = -128
    lats[1] = 127
    fast = run(model, lats)
    for i in range(len(lats)):
        if not np.array_equal(fast[i], run_naive(model, lats[i])):
            raise AssertionError("vectorised and naive integer simulations disagree")
    say("vectorised == naive loops: ok (4 latents)")

    lats = rng.integers(-128, 128, size=(64, 32))
    ints = pixels_hwc(run(model, lats)).transpose(0, 3, 1, 2)
    flts = float_pixels(model_path, lats)
    ps = [psnr(ints[i], flts[i]) for i in range(len(lats))]
    say(f"integer vs float ONNX: PSNR mean {np.mean(ps):.2f} dB, min {np.min(ps):.2f} dB")
    if np.mean(ps) < 20.0:
        raise AssertionError("integer model is far from the float model")

    if vectors_path and os.path.exists(vectors_path):
        with open(vectors_path) as f:
            vec = json.load(f)
        for k, case in enumerate(vec["cases"]):
            if case["prompt"] is not None:
                seed = bytes.fromhex(case["seed"][2:])
                assert latent_from(seed, case["prompt"], model["words"]) == case["latent"], f"case {k}: latent"
            got = pixel_bytes(run(model, case["latent"])[0]).hex()
            assert got == case["pixels"], f"case {k}: pixels differ"
        say(f"test vectors: {len(vec['cases'])} cases ok")
    say("self-check passed")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="Section 9 integer simulation self-check")
    ap.add_argument("--model", default=os.path.join(here, "gan.onnx"))
    ap.add_argument("--vectors", default=os.path.join(here, "..", "tests", "vectors", "gan.json"))
    args = ap.parse_args()
    try:
        self_check(args.model, args.vectors)
    except (AssertionError, ValueError) as e:
        print(f"self-check FAILED: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
