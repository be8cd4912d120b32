#!/usr/bin/env python3
"""Write the artifacts derived from model/gan.onnx with the integer simulation:

  tests/vectors/gan.json   test vectors (16 prompt + seed cases + 48 random-latent cases)
  model/samples.png        8x8 grid of integer-model pictures: 8 named prompts (rows) × 8 public
                           seeds (columns), latents exactly as a mint derives them
  model/fidelity.json      PSNR of integer pixels vs. float ONNX pixels over those 64 latents
"""
import argparse
import hashlib
import json
import os

import numpy as np

import intsim

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

PROMPTS = [
    "",
    "a",
    "cat",
    "dog",
    "Section 9",
    "hello, world",
    "東京の猫 🐈",
    "🍕🍕🍕",
    "naïve café — déjà vu",
    "Ünïcödé ✓ ∑ ∞ Ω",
    "  leading and trailing spaces  ",
    "line one\nline two\ttabbed",
    "0",
    "The quick brown fox jumps over the lazy dog",
    "a very long prompt: " + "zero knowledge proofs of tiny integer generators, " * 20,
    "\u0000null byte inside\u0000",
    "a pizza slice",
    "Cats & FOXES!",
    "a red fox asleep under a paper moon",
    "piñata",
]
N_RANDOM = 48
RANDOM_SEED = 20250901


# One prompt per row of samples.png (README's grid).
GRID_PROMPTS = [
    "a smiling face",
    "a waving hand",
    "a dog",
    "a pizza slice",
    "a red car",
    "a soccer ball",
    "a guitar",
    "a flag",
]


def grid_seed(i):
    """The public seed of column i of samples.png."""
    return hashlib.sha256(b"section9 sample seed %d" % i).digest()


def grid_latents(model):
    return np.array([intsim.latent_from(grid_seed(s), p, model["words"]) for p in GRID_PROMPTS for s in range(8)])


def vector_seed(i):
    """A fixed, public seed per prompt case (a real mint's seed is secret and random)."""
    return hashlib.sha256(b"section9 test vector seed %d" % i).digest()


def write_vectors(model, path):
    cases = []
    for i, p in enumerate(PROMPTS):
        seed = vector_seed(i)
        lat = intsim.latent_from(seed, p, model["words"])
        cases.append({"prompt": p, "seed": "0x" + seed.hex(), "latent": lat})
    rng = np.random.default_rng(RANDOM_SEED)
    rand = rng.integers(-128, 128, size=(N_RANDOM, 32))
    rand[0] = -128
    rand[1] = 127
    rand[2] = 0
    rand[3] = np.where(np.arange(32) % 2 == 0, -128, 127)
    for lat in rand:
        cases.append({"prompt": None, "latent": [int(v) for v in lat]})
    qy = intsim.run(model, np.array([c["latent"] for c in cases]))
    for c, img in zip(cases, qy):
        c["pixels"] = intsim.pixel_bytes(img).hex()
    doc = {"model": "model/gan.onnx", "cases": cases}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # one case per line keeps the file readable and diffs small
    lines = [json.dumps(c, ensure_ascii=False, separators=(", ", ": ")) for c in cases]
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"model": %s,\n "cases": [\n  ' % json.dumps(doc["model"]))
        f.write(",\n  ".join(lines))
        f.write("\n ]\n}\n")
    with open(path, encoding="utf-8") as f:
        assert json.load(f) == doc
    return len(cases)


def write_samples(model, path, scale=4, gap=2):
    from PIL import Image

    lats = grid_latents(model)
    px = intsim.pixels_hwc(intsim.run(model, lats))  # [64, 32, 32, 3]
    cell = 32 * scale
    size = 8 * cell + 9 * gap
    canvas = np.full((size, size, 3), 255, np.uint8)
    for i in range(64):
        r, c = divmod(i, 8)
        big = px[i].repeat(scale, axis=0).repeat(scale, axis=1)
        y0 = gap + r * (cell + gap)
        x0 = gap + c * (cell + gap)
        canvas[y0 : y0 + cell, x0 : x0 + cell] = big
    Image.fromarray(canvas, "RGB").save(path, optimize=True)


def write_fidelity(model, onnx_path, path):
    lats = grid_latents(model)
    ints = intsim.pixels_hwc(intsim.run(model, lats)).transpose(0, 3, 1, 2).astype(np.float64)
    flts = intsim.float_pixels(onnx_path, lats)
    ps = [intsim.psnr(ints[i], flts[i]) for i in range(len(lats))]
    maxdiff = float(np.abs(ints - flts).max())
    doc = {
        "metric": "PSNR (peak 255) of integer-model pixels vs float ONNX pixels (y*128+128, clipped, unrounded)",
        "latents": "the 64 latents of samples.png (outputs.GRID_PROMPTS x grid_seed(0..7))",
        "count": len(ps),
        "psnr_db_mean": round(float(np.mean(ps)), 3),
        "psnr_db_min": round(float(np.min(ps)), 3),
        "psnr_db_max": round(float(np.max(ps)), 3),
        "max_abs_pixel_diff": round(maxdiff, 3),
        "quantization": model["meta"],
        "accumulator_abs_bound": intsim.accumulator_bounds(model),
    }
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    return doc


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(HERE, "gan.onnx"))
    ap.add_argument("--vectors", default=os.path.join(ROOT, "tests", "vectors", "gan.json"))
    ap.add_argument("--samples", default=os.path.join(HERE, "samples.png"))
    ap.add_argument("--fidelity", default=os.path.join(HERE, "fidelity.json"))
    args = ap.parse_args()

    model = intsim.load_model(args.model)
    n = write_vectors(model, args.vectors)
    print(f"wrote {n} test vectors", flush=True)
    write_samples(model, args.samples)
    print("wrote samples.png", flush=True)
    fid = write_fidelity(model, args.model, args.fidelity)
    print(f"fidelity: PSNR mean {fid['psnr_db_mean']:.2f} dB, min {fid['psnr_db_min']:.2f} dB", flush=True)
    if fid["psnr_db_mean"] < 30.0:
        print("WARNING: mean PSNR below the 30 dB target", flush=True)


if __name__ == "__main__":
    main()
