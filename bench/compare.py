#!/usr/bin/env python3
"""Side-by-side Markdown table of Section 9 and EZKL on the same generator.

Reads bench/section9.json (written by `section9 bench --json bench/section9.json`) and
bench/ezkl.json (written by bench/ezkl_bench.py). Any number missing from either file
is printed as "–". The ratio column is EZKL ÷ Section 9: above 1 means EZKL needs more.

    python bench/compare.py [--section9 bench/section9.json] [--ezkl bench/ezkl.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DASH = "–"

# (label, key in section9.json, key in ezkl.json, kind)
METRICS = [
    ("logrows k", "k", "k", "k"),
    ("rows used", "rows", "rows", "int"),
    ("advice columns", "advice_columns", "advice_columns", "int"),
    ("fixed columns", "fixed_columns", "fixed_columns", "int"),
    ("lookups (EZKL: lookup + range-check tables)", "lookups", "lookup_tables", "int"),
    ("advice cells / MAC", "advice_cells_per_mac", "advice_cells_per_mac", "float"),
    ("keygen / setup (s)", "keygen_s", "setup_s", "seconds"),
    ("witness (s)", "witness_s", "witness_s", "seconds"),
    ("prove (s)", "prove_s", "prove_s", "seconds"),
    ("verify (s)", "verify_s", "verify_s", "seconds"),
    ("peak memory", "peak_memory_bytes", "peak_memory_bytes", "bytes"),
    ("proof size", "proof_bytes", "proof_bytes", "bytes"),
    ("proving key", "proving_key_bytes", "proving_key_bytes", "bytes"),
]


def load(path: str, what: str) -> dict:
    if not os.path.exists(path):
        print(f"compare: {what} results not found at {path}; its column shows {DASH}", file=sys.stderr)
        return {}
    with open(path) as f:
        data = json.load(f)
    if not isinstance(data, dict):
        print(f"compare: {path} is not a JSON object; ignoring it", file=sys.stderr)
        return {}
    return data


def number(v) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)) and math.isfinite(v):
        return v
    return None


def human_bytes(b: float) -> str:
    if b < 1024:
        return f"{int(b)} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        b /= 1024.0
        if b < 1024 or unit == "TiB":
            return f"{b:.1f} {unit}" if b < 100 else f"{b:.0f} {unit}"
    raise AssertionError


def fmt(v, kind: str) -> str:
    x = number(v)
    if x is None:
        return DASH
    if kind in ("k", "int"):
        return f"{int(x):,}"
    if kind == "float":
        return f"{x:.2f}"
    if kind == "seconds":
        return f"{x:.3f}" if x < 1 else f"{x:.1f}" if x >= 100 else f"{x:.2f}"
    if kind == "bytes":
        return f"{int(x):,} B" if x < 1024 * 1024 else f"{human_bytes(x)}"
    return str(v)


def ratio(a, b, kind: str) -> str:
    """EZKL ÷ Section 9."""
    s9, ez = number(a), number(b)
    if s9 is None or ez is None:
        return DASH
    if kind == "k":  # compare the evaluation domains, 2^k
        r = 2.0 ** (ez - s9)
        return f"×{r:g} (2^k)"
    if s9 == 0:
        return DASH
    r = ez / s9
    if r < 1:
        return f"×{r:.2g}"
    return f"×{r:.2f}" if r < 10 else f"×{r:.1f}" if r < 100 else f"×{r:,.0f}"


def table(s9: dict, ez: dict) -> str:
    lines = ["| metric | Section 9 | EZKL | ratio (EZKL ÷ Section 9) |", "| --- | ---: | ---: | ---: |"]
    for label, k9, kez, kind in METRICS:
        a, b = s9.get(k9), ez.get(kez)
        lines.append(f"| {label} | {fmt(a, kind)} | {fmt(b, kind)} | {ratio(a, b, kind)} |")
    return "\n".join(lines)


def notes(s9: dict, ez: dict) -> str:
    out = []
    v = ez.get("versions", {})
    if v:
        cap = f" with logrows capped at {ez['calibration_max_logrows']}" if ez.get("calibration_max_logrows") else ""
        out.append(f"EZKL {v.get('ezkl', '?')}, calibrated for {ez.get('calibration_target', '?')}{cap}; "
                   "input private, params fixed, output public; local test SRS (gen_srs).")
    m9, mez = number(s9.get("macs")), number(ez.get("macs"))
    if m9 is not None and mez is not None and m9 != mez:
        out.append(f"Advice cells / MAC uses each side's own MAC count: Section 9 {int(m9):,}, "
                   f"ezkl_bench.py {int(mez):,} (every in-bounds product of Gemm and ConvTranspose).")
    rows, k = number(ez.get("rows")), number(ez.get("k"))
    if rows is not None and k is not None and rows > 2**k:
        out.append(f"EZKL's rows are its settings' num_rows: {int(rows):,} rows of {ez.get('settings', {}).get('run_args', {}).get('num_inner_cols', '?')} "
                   f"inner columns, more than 2^{int(k)}, so EZKL wraps them into further column blocks.")
    if ez.get("proof_file_bytes"):
        out.append(f"EZKL proof size is the transcript; its proof.json file is {ez['proof_file_bytes']:,} B.")
    if ez.get("peak_memory_bytes_by_step"):
        out.append("EZKL peak memory is the largest max RSS of its steps, each run in its own process.")
    m = ez.get("machine") or s9.get("machine")
    if isinstance(m, dict) and m.get("cpus"):
        mem = f", {human_bytes(m['memory_bytes'])}" if number(m.get("memory_bytes")) else ""
        out.append(f"EZKL machine: {m.get('cpu', m.get('arch', '?'))}, {m['cpus']} cores{mem}.")
    return "\n".join(f"- {n}" for n in out)


def main() -> None:
    ap = argparse.ArgumentParser(description="Markdown table: Section 9 vs EZKL")
    ap.add_argument("--section9", default=os.path.join(HERE, "section9.json"))
    ap.add_argument("--ezkl", default=os.path.join(HERE, "ezkl.json"))
    args = ap.parse_args()
    s9 = load(args.section9, "Section 9")
    ez = load(args.ezkl, "EZKL")
    if not s9 and not ez:
        print("compare: neither results file exists; run bench/run.sh first", file=sys.stderr)
        sys.exit(1)
    print(table(s9, ez))
    n = notes(s9, ez)
    if n:
        print()
        print(n)


if __name__ == "__main__":
    main()
