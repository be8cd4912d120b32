#!/usr/bin/env python3
"""Does the prompt steer the picture? A classifier trained on real Twemoji says.

1. A small CNN learns the 9 emoji categories from real pictures (32x32, as the generator
   sees them). Emoji are split by their base code point, so every skin-tone variant of a
   held-out emoji is held out too; its accuracy on the held-out fifth is the reference.
2. For each of the PROMPTS below (6 per category, the category a person would name) and 4
   public seeds, the integer model draws the picture exactly as a mint does (intsim), and the
   classifier is asked for its category.
3. The same for a baseline model (by default none; pass --baseline with the unconditioned
   generator, e.g. `git show 5938075:model/gan.onnx > /tmp/gan-v1.onnx`).

Writes model/evaluation.json. Chance is 1/9.
"""
import argparse
import hashlib
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import intsim
import train
import words

HERE = os.path.dirname(os.path.abspath(__file__))

PROMPTS = {
    "Smileys & Emotion": ["a smiling face", "a crying face", "an angry face", "a laughing face",
                          "a face with sunglasses", "a winking face"],
    "People & Body": ["a waving hand", "a thumbs up", "a person running", "a woman dancing", "a baby",
                      "a police officer"],
    "Animals & Nature": ["a cat", "a dog", "a red fox", "a tree", "a flower", "a turtle"],
    "Food & Drink": ["a pizza slice", "an apple", "a hamburger", "a cup of coffee", "a birthday cake",
                     "a banana"],
    "Travel & Places": ["a red car", "a rocket", "a house", "an airplane", "a bicycle", "a mountain"],
    "Activities": ["a soccer ball", "a trophy", "a christmas tree", "a basketball", "a video game",
                   "a party balloon"],
    "Objects": ["a guitar", "a crown", "a laptop", "a telephone", "a light bulb", "a key"],
    "Symbols": ["a recycling symbol", "a warning sign", "a check mark", "a no entry sign",
                "an arrow pointing up", "a question mark"],
    "Flags": ["a flag", "the flag of france", "the japanese flag", "a pirate flag", "a rainbow flag",
              "the flag of brazil"],
}
SEEDS = 4


def eval_seed(i):
    return hashlib.sha256(b"section9 evaluation seed %d" % i).digest()


class Classifier(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),  # 16
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),  # 8
            nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(), nn.MaxPool2d(2),  # 4
            nn.Flatten(), nn.Dropout(0.3), nn.Linear(128 * 16, classes),
        )

    def forward(self, x):
        return self.net(x)


def real_split(args, vocab):
    """Real pictures, their categories and whether each is held out (by base emoji)."""
    base = train.emoji_by_image(args.emoji)
    files = sorted(f for f in os.listdir(args.data) if f.endswith(".png"))
    keep, _, cats = train.load_conditions(args.data, args.emoji, vocab)
    data = train.load_dataset(args.data, args.cache)[keep]
    held = np.array([hashlib.sha256(base[f]["unified"].encode()).digest()[0] % 5 == 0
                     for f, k in zip(files, keep) if k])
    return data, cats, held


def train_classifier(data, cats, held, classes, epochs, seed=1):
    torch.manual_seed(seed)
    x = torch.from_numpy(data[~held])
    y = torch.from_numpy(cats[~held])
    net = Classifier(classes)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    for ep in range(epochs):
        net.train()
        perm = torch.randperm(len(x))
        for i in range(0, len(x), 64):
            idx = perm[i : i + 64]
            xb = x[idx]
            flip = torch.rand(len(idx)) < 0.5
            xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(net(xb), y[idx]).backward()
            opt.step()
    net.eval()
    return net


@torch.no_grad()
def predict(net, images):
    return net(torch.from_numpy(np.asarray(images, np.float32))).argmax(1).numpy()


def generated(model_path):
    """[N, 3, 32, 32] in [-1, 1]: the integer model's pictures of every (prompt, seed), in order."""
    model = intsim.load_model(model_path)
    lats = [intsim.latent_from(eval_seed(s), p, model["words"])
            for ps in PROMPTS.values() for p in ps for s in range(SEEDS)]
    px = intsim.pixels_hwc(intsim.run(model, np.array(lats)))  # uint8 NHWC
    return px.transpose(0, 3, 1, 2).astype(np.float32) / 127.5 - 1.0, model["words"] is not None


def score(net, images, classes):
    pred = predict(net, images)
    rows = []
    i = 0
    for cat, ps in PROMPTS.items():
        for p in ps:
            got = pred[i : i + SEEDS]
            rows.append({"prompt": p, "category": cat, "hits": int((got == classes.index(cat)).sum()),
                         "predicted": [classes[g] for g in got]})
            i += SEEDS
    hits = sum(r["hits"] for r in rows)
    per_cat = {c: sum(r["hits"] for r in rows if r["category"] == c) / (len(PROMPTS[c]) * SEEDS) for c in PROMPTS}
    return {"recognised": hits / len(pred), "pictures": len(pred), "per_category": per_cat, "prompts": rows}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(HERE, "gan.onnx"))
    ap.add_argument("--baseline", help="another generator to score the same way (e.g. the unconditioned one)")
    ap.add_argument("--data", default=os.path.join(HERE, ".data", "package", "img", "twitter", "64"))
    ap.add_argument("--cache", default=os.path.join(HERE, ".data", "twemoji32.npy"))
    ap.add_argument("--emoji", default=os.path.join(HERE, ".data", "package", "emoji.json"))
    ap.add_argument("--epochs", type=int, default=20, help="classifier epochs")
    ap.add_argument("--out", default=os.path.join(HERE, "evaluation.json"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.time()

    with open(args.emoji) as f:
        vocab = words.build(json.load(f), train.NOISE_DIM)
    classes = vocab["classes"]
    assert list(PROMPTS) == classes, "PROMPTS must list the dataset's categories in order"
    data, cats, held = real_split(args, vocab)
    net = train_classifier(data, cats, held, len(classes), args.epochs)
    real_pred = predict(net, data[held])
    real_acc = float((real_pred == cats[held]).mean())
    real_per_cat = {c: float((real_pred[cats[held] == k] == k).mean()) for k, c in enumerate(classes)}
    print(f"classifier: {held.sum()} held-out real pictures, accuracy {real_acc:.3f}", flush=True)

    report = {
        "classifier": {"train_pictures": int((~held).sum()), "held_out_pictures": int(held.sum()),
                       "epochs": args.epochs, "held_out_accuracy": real_acc, "per_category": real_per_cat},
        "prompts_per_category": 6, "seeds_per_prompt": SEEDS, "chance": 1 / len(classes),
    }
    for key, path in (("model", args.model), ("baseline", args.baseline)):
        if not path:
            continue
        images, conditioned = generated(path)
        s = score(net, images, classes)
        s.update({"path": os.path.relpath(path, HERE) if path.startswith(HERE) else os.path.basename(path),
                  "conditioned": conditioned,
                  "relative_to_real": s["recognised"] / real_acc if real_acc else None})
        report[key] = s
        print(f"{key}: prompt's category recognised in {s['recognised']:.3f} of {s['pictures']} pictures "
              f"({s['relative_to_real']:.2f}x real)", flush=True)
    report["seconds"] = round(time.time() - t0, 1)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
