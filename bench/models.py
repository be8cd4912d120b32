#!/usr/bin/env python3
"""Section 9's general compiler against EZKL on the same ONNX files: the zoo models
(model/zoo: MLP, LeNet-style CNN, depthwise-separable block) and the generator
(model/gan.onnx), each compiled by both, proved with private input and public output; and
three nets of 0.1M, 1M and 10M MACs (bench/scale.py) for how the cost grows with size.

For every model: `section9 compile` (calibrated on the model's calibration file) and
`section9 bench --model <m>.s9 --input <input> --repeat 3` (k, keygen, median prove, peak
memory of the process), `section9 run` for the accuracy against onnxruntime; then
bench/ezkl_bench.py on the same ONNX file and input (k, per-step time and peak memory,
accuracy against onnxruntime). Results: bench/models/<m>.{section9,ezkl}.json and the
Markdown table printed at the end (bench/models.md).

    bash bench/run.sh models            # makes the venv, builds, runs everything
    python bench/models.py [--models mlp lenet] [--reuse-ezkl]

--reuse-ezkl keeps existing bench/models/<m>.ezkl.json files (EZKL on the generator takes
about ten minutes and more than 10 GB), --reuse-section9 the <m>.section9.json ones.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnxruntime as ort

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "bench", "models")
BIN = os.path.join(REPO, "target", "release", "section9")
sys.path.insert(0, os.path.join(REPO, "bench"))


def model_files(name: str) -> dict:
    """Paths relative to the repository (the scripts run from its root)."""
    if name.startswith("scale-"):
        import scale

        return {k: os.path.relpath(p, REPO) for k, p in scale.files(name).items()}
    z = lambda s: os.path.join("model", "zoo", f"{name}{s}")  # noqa: E731
    if name.startswith("torch_"):
        # model/zoo/torch_<net>_<exporter>.onnx shares its input and calibration files with the
        # other exporter's.
        base = name.rsplit("_", 1)[0]
        b = lambda s: os.path.join("model", "zoo", f"{base}{s}")  # noqa: E731
        return {"onnx": z(".onnx"), "input": b(".input.json"), "calibration": b(".calibration.json")}
    if name == "gan":
        # The latent of ezkl_bench.py's default prompt, written by model/zoo/make.py.
        return {"onnx": os.path.join("model", "gan.onnx"), "input": z(".input.json"), "calibration": z(".input.json")}
    return {"onnx": z(".onnx"), "input": z(".input.json"), "calibration": z(".calibration.json")}


def onnxruntime_outputs(onnx_path: str, input_path: str) -> np.ndarray:
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    shape = [d if isinstance(d, int) and d > 0 else 1 for d in sess.get_inputs()[0].shape]
    with open(input_path) as f:
        x = np.asarray(json.load(f)["input_data"][0], dtype=np.float32).reshape(shape)
    return sess.run(None, {sess.get_inputs()[0].name: x})[0].ravel().astype(np.float64)


def section9(name: str, files: dict) -> dict:
    work = os.path.join(REPO, "target", "bench-models")
    os.makedirs(work, exist_ok=True)
    s9 = os.path.join(work, f"{name}.s9")
    # Networks with attention or normalization compile at 16 bits (8-bit weights and activations
    # cost them a few percent of accuracy); the others at the default 8.
    bits = ["--weight-bits", "16", "--activation-bits", "16"] if name.startswith(("torch_transformer", "torch_char_lm")) else []
    subprocess.run([BIN, "compile", files["onnx"], "--calibrate", files["calibration"], "--out", s9, *bits], check=True)
    out = os.path.join(OUT, f"{name}.section9.json")
    keys = ["--dev-srs", "--keys-dir", os.path.join(work, "keys")]
    subprocess.run([BIN, "bench", "--model", s9, "--input", files["input"], "--repeat", "3", "--json", out, *keys], check=True)
    run = subprocess.run([BIN, "run", "--model", s9, "--input", files["input"]], check=True, capture_output=True, text=True)
    got = np.asarray(json.loads(run.stdout)["outputs"][0], dtype=np.float64)
    ref = onnxruntime_outputs(files["onnx"], files["input"])
    with open(out) as f:
        res = json.load(f)
    res["output_error_vs_onnxruntime"] = {"max_abs": float(np.abs(got - ref).max()), "mean_abs": float(np.abs(got - ref).mean())}
    with open(out, "w") as f:
        json.dump(res, f, indent=2)
    return res


def ezkl(name: str, files: dict, reuse: bool) -> dict:
    """EZKL's results, or {"failed": why} when it could not prove the model on this machine
    (calibration above the logrows cap, out of memory) — recorded like a result, so
    --reuse-ezkl does not run it again."""
    out = os.path.join(OUT, f"{name}.ezkl.json")
    if not (reuse and os.path.exists(out)):
        work = os.path.join(REPO, "target", f"ezkl-{name}")
        rel = lambda p: os.path.relpath(p, REPO)  # noqa: E731
        cmd = [sys.executable, os.path.join("bench", "ezkl_bench.py"), "--model", files["onnx"], "--input", files["input"], "--out", rel(out), "--workdir", rel(work)]
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        why = []
        for line in proc.stdout:
            print(line, end="", flush=True)
            if "error:" in line or "killed" in line or "calibrated:" in line:
                why.append(line.strip().removeprefix("[ezkl_bench] ").removeprefix("ezkl_bench: "))
        if proc.wait() != 0:
            print(f"[models] EZKL failed on {name} (exit {proc.returncode}); see target/ezkl-{name}/logs", flush=True)
            with open(out, "w") as f:
                json.dump({"failed": "; ".join(why) or f"exit {proc.returncode}"}, f, indent=2)
    with open(out) as f:
        return json.load(f)


def table(rows: list) -> str:
    gib = lambda b: f"{b / 2**30:.2f} GiB" if b >= 2**30 else f"{b / 2**20:.0f} MiB"  # noqa: E731
    lines = [
        "| model | MACs | k (S9 / EZKL) | prove S9 | prove EZKL | speed-up | peak mem S9 | peak mem EZKL | less memory | max abs err vs onnxruntime (S9 / EZKL) |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, s, e in rows:
        if "failed" in e:
            lines.append(f"| {name} | {s['macs']:,} | {s['k']} / — | {s['prove_s']:.2f} s | failed¹ | — | {gib(s['peak_memory_bytes'])} | — | — "
                         f"| {s['output_error_vs_onnxruntime']['max_abs']:.2g} / — |")
            continue
        es, ee = s["output_error_vs_onnxruntime"]["max_abs"], (e.get("output_error_vs_onnxruntime") or {}).get("max_abs")
        lines.append(
            f"| {name} | {s['macs']:,} | {s['k']} / {e['k']} | {s['prove_s']:.2f} s | {e['prove_s']:.2f} s | {e['prove_s'] / s['prove_s']:.0f}× "
            f"| {gib(s['peak_memory_bytes'])} | {gib(e['peak_memory_bytes'])} | {e['peak_memory_bytes'] / s['peak_memory_bytes']:.0f}× "
            f"| {es:.2g} / {'—' if ee is None else f'{ee:.2g}'} |"
        )
    failed = [f"{name}: {e['failed']}" for name, _, e in rows if "failed" in e]
    if failed:
        lines += ["", "¹ EZKL could not prove it on this machine: " + " — ".join(failed)]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["mlp", "lenet", "separable", "gan"])
    ap.add_argument("--reuse-ezkl", action="store_true", help="keep existing EZKL results")
    ap.add_argument("--reuse-section9", action="store_true", help="keep existing Section 9 results")
    args = ap.parse_args()
    if not os.path.exists(BIN):
        sys.exit(f"models: build Section 9 first: cargo build --release -p section9 ({BIN} missing)")
    os.makedirs(OUT, exist_ok=True)
    os.chdir(REPO)
    rows = []
    for name in args.models:
        files = model_files(name)
        print(f"== {name}", flush=True)
        s9 = os.path.join(OUT, f"{name}.section9.json")
        if args.reuse_section9 and os.path.exists(s9):
            with open(s9) as f:
                ours = json.load(f)
        else:
            ours = section9(name, files)
        rows.append((name, ours, ezkl(name, files, args.reuse_ezkl)))
    md = table(rows)
    with open(os.path.join(REPO, "bench", "models.md"), "w") as f:
        f.write(md + "\n")
    print()
    print(md)


if __name__ == "__main__":
    main()
