#!/usr/bin/env python3
"""Benchmark the peer system EZKL on our committed generator `model/gan.onnx`.

Runs EZKL's whole pipeline with the visibility that matches Section 9's statement
(latent private, weights fixed in the circuit, picture public):

    gen_settings -> calibrate_settings -> compile_circuit -> gen_srs -> setup
                 -> gen_witness -> prove -> verify

Every step runs in its own child Python process, so its time and its peak memory
(max RSS, read with os.wait4 for that one child, i.e. the child's own
RUSAGE_CHILDREN entry) belong to that step alone. The SRS is generated locally
with `ezkl.gen_srs` (test-only, not a ceremony), so nothing is downloaded; it takes
minutes at k = 20, so it is kept in target/ezkl-srs/ and reused by later runs.

Calibration is capped at logrows 20 by default (--max-logrows). Uncapped
("resources") calibration picks k = 21 (1,056,780 rows, 2 inner columns), whose
setup peaks at 12.1 GiB and whose prove was killed by the OOM killer at 21.5 GiB
on a 2-core, 23.5 GiB machine. With the cap EZKL lays the same cells out over more columns at
k = 20. Pass --max-logrows 0 to calibrate without a cap.

Results are printed and written to bench/ezkl.json (keys shared with
`section9 bench --json` where the meaning is the same; see bench/compare.py).

    pip install -r bench/requirements.txt
    python bench/ezkl_bench.py [--workdir DIR] [--keep] [--out bench/ezkl.json]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import textwrap
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL = os.path.join(REPO, "model", "gan.onnx")
DEFAULT_WORKDIR = os.path.join(REPO, "target", "ezkl-bench")
DEFAULT_OUT = os.path.join(REPO, "bench", "ezkl.json")
DEFAULT_SRS_DIR = os.path.join(REPO, "target", "ezkl-srs")
DEFAULT_PROMPT = "a quiet robot watering a tiny plant"  # the same default as scripts/start.sh
LATENT_DOMAIN = b"section9/latent/v1\0"  # model/intsim.py sample_latent: public sample latents

# The code each child process runs: import ezkl, call one function (awaiting it if this
# ezkl version made it async), time only the call, and write a small JSON result.
CHILD = textwrap.dedent(
    r"""
    import asyncio, inspect, json, sys, time
    import ezkl

    step, kwargs_json, result_path = sys.argv[1], sys.argv[2], sys.argv[3]
    spec = json.loads(kwargs_json)
    fn = getattr(ezkl, spec["fn"])
    args = spec.get("args", [])
    kwargs = spec.get("kwargs", {})
    if "run_args" in spec:
        ra = ezkl.PyRunArgs()
        for key, value in spec["run_args"].items():
            # JSON has no tuples; EZKL's variables are (name, value) pairs.
            setattr(ra, key, [tuple(v) for v in value] if key == "variables" else value)
        kwargs["py_run_args"] = ra

    async def call():
        # Some EZKL functions return awaitables (pyo3 futures that need a running loop
        # at call time), others return plain values: call inside a loop, await if needed.
        out = fn(*args, **kwargs)
        if inspect.isawaitable(out):
            out = await out
        return out

    t0 = time.perf_counter()
    out = asyncio.run(call())
    seconds = time.perf_counter() - t0
    if isinstance(out, (bool, int, float, str)) or out is None:
        ret = out
    else:
        ret = type(out).__name__
    with open(result_path, "w") as f:
        json.dump({"step": step, "seconds": seconds, "returned": ret}, f)
    """
)


def fail(msg: str, code: int = 1) -> "NoReturn":  # noqa: F821
    print(f"ezkl_bench: error: {msg}", file=sys.stderr)
    sys.exit(code)


def rel(path: str) -> str:
    """A path relative to the repository root, for anything written into results."""
    try:
        r = os.path.relpath(path, REPO)
    except ValueError:
        return os.path.basename(path)
    return os.path.basename(path) if r.startswith("..") else r


def check_requirements() -> dict:
    missing = [m for m in ("ezkl", "onnx", "onnxruntime", "numpy") if importlib.util.find_spec(m) is None]
    if missing:
        fail(
            f"missing Python package(s) {', '.join(missing)} in this interpreter.\n"
            "  Install them with:  pip install -r bench/requirements.txt\n"
            "  (or run bench/run.sh, which makes the venv bench/.venv for you)",
            code=2,
        )
    from importlib.metadata import version

    versions = {m: version(m) for m in ("ezkl", "onnx", "onnxruntime", "numpy")}
    if not versions["ezkl"].startswith("23."):
        print(
            f"ezkl_bench: warning: ezkl {versions['ezkl']} installed; this script was written for 23.x "
            "(pip install -r bench/requirements.txt)",
            file=sys.stderr,
        )
    return versions


def latent_from_prompt(prompt: str, n: int) -> list[int]:
    """A public sample latent for the benchmark (model/intsim.py sample_latent; mints add a
    secret seed, see crate/src/prompt.rs): SHA-256 chain over the domain and the text."""
    block = hashlib.sha256(LATENT_DOMAIN + prompt.encode("utf-8")).digest()
    out: list[int] = []
    while len(out) < n:
        out.extend(b - 256 if b >= 128 else b for b in block[: n - len(out)])
        block = hashlib.sha256(block).digest()
    return out


def _taps_in_bounds(n_from: int, n_to: int, kernel: int, stride: int, pad: int, dil: int) -> int:
    """Count (position, kernel tap) pairs along one axis that touch no padding."""
    count = 0
    for a in range(n_from):
        for kk in range(kernel):
            b = a * stride - pad + kk * dil
            if 0 <= b < n_to:
                count += 1
    return count


def symbolic_dims(model_path: str) -> list[str]:
    """Names of the inputs' symbolic dimensions (e.g. `batch`)."""
    import onnx

    m = onnx.load(model_path, load_external_data=False)
    return sorted({d.dim_param for i in m.graph.input for d in i.type.tensor_type.shape.dim if d.dim_param})


def model_info(model_path: str) -> dict:
    """Input name/shape, parameter count and multiply-accumulates that touch real data
    (Gemm, MatMul, Conv, ConvTranspose; products with padding are not counted)."""
    import numpy as np
    import onnx
    from onnx import numpy_helper, shape_inference

    m = shape_inference.infer_shapes(onnx.load(model_path))
    g = m.graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    shapes = {}
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        shapes[vi.name] = [d.dim_value for d in vi.type.tensor_type.shape.dim]
    for name, arr in inits.items():
        shapes[name] = list(arr.shape)
    macs = 0
    for node in g.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type in ("Gemm", "MatMul"):
            w, out = shapes[node.input[1]], shapes[node.output[0]]
            if node.op_type == "Gemm":
                inner = w[1] if attrs.get("transB", 0) else w[0]
            else:
                inner = w[-2]
            macs += int(np.prod(out)) * int(inner)
        elif node.op_type in ("Conv", "ConvTranspose"):
            x, w, out = shapes[node.input[0]], shapes[node.input[1]], shapes[node.output[0]]
            transposed = node.op_type == "ConvTranspose"
            spatial = len(w) - 2
            kernel = w[2:]
            strides = attrs.get("strides", [1] * spatial)
            dils = attrs.get("dilations", [1] * spatial)
            pads = attrs.get("pads", [0] * (2 * spatial))
            pairs = 1
            for ax in range(spatial):
                n_in, n_out = x[2 + ax], out[2 + ax]
                if transposed:  # input position i, tap k -> output i*s - pad + k*d
                    pairs *= _taps_in_bounds(n_in, n_out, kernel[ax], strides[ax], pads[ax], dils[ax])
                else:  # output position o, tap k <- input o*s - pad + k*d
                    pairs *= _taps_in_bounds(n_out, n_in, kernel[ax], strides[ax], pads[ax], dils[ax])
            # Conv W: [C_out, C_in/g, ...], ConvTranspose W: [C_in, C_out/g, ...]: either way
            # w[0] * w[1] (input, output) channel pairs, groups included.
            macs += x[0] * pairs * w[0] * w[1]
    params = int(sum(a.size for a in inits.values()))
    inp = g.input[0]
    in_shape = [d.dim_value for d in inp.type.tensor_type.shape.dim]
    return {"input": inp.name, "input_shape": in_shape, "macs": int(macs), "params": params}


def maxrss_bytes(ru_maxrss: int) -> int:
    # Linux reports KiB, macOS bytes.
    return int(ru_maxrss) if sys.platform == "darwin" else int(ru_maxrss) * 1024


class Runner:
    def __init__(self, workdir: str, verbose: bool, keep: bool = False):
        self.workdir = workdir
        self.keep = keep
        self.logdir = os.path.join(workdir, "logs")
        os.makedirs(self.logdir, exist_ok=True)
        self.verbose = verbose
        self.steps: dict[str, dict] = {}

    def run(self, step: str, spec: dict) -> dict:
        result_path = os.path.join(self.workdir, f".{step}.result.json")
        log_path = os.path.join(self.logdir, f"{step}.log")
        if os.path.exists(result_path):
            os.remove(result_path)
        print(f"[ezkl_bench] {step} ...", flush=True)
        env = dict(os.environ)
        env.setdefault("RUST_LOG", "info")
        with open(log_path, "w") as log:
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-c", CHILD, step, json.dumps(spec), result_path],
                stdout=None if self.verbose else log,
                stderr=subprocess.STDOUT if not self.verbose else None,
                env=env,
                cwd=self.workdir,
            )
            # wait4 gives the rusage of this one child (and anything it waited for),
            # so each step's max RSS is its own, not the largest of all steps so far.
            _, status, ru = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            wall = time.perf_counter() - t0
        if proc.returncode != 0 or not os.path.exists(result_path):
            tail = ""
            if not self.verbose and os.path.exists(log_path):
                with open(log_path, errors="replace") as f:
                    tail = "".join(f.readlines()[-30:])
            if not self.keep:
                # Keep the logs; a failed run's keys and SRS can be gigabytes.
                for name in os.listdir(self.workdir):
                    if name != "logs":
                        path = os.path.join(self.workdir, name)
                        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
            fail(
                f"step {step} failed (exit code {proc.returncode}); log: {log_path}\n{tail}"
                + ("\n(the process was killed: out of memory?)" if proc.returncode in (-9, 137) else "")
            )
        with open(result_path) as f:
            res = json.load(f)
        os.remove(result_path)
        info = {
            "seconds": round(res["seconds"], 3),
            "wall_s": round(wall, 3),
            "peak_rss_bytes": maxrss_bytes(ru.ru_maxrss),
            "user_cpu_s": round(ru.ru_utime, 3),
            "sys_cpu_s": round(ru.ru_stime, 3),
        }
        if hasattr(os, "getloadavg"):
            # 1-minute load average at the step's end, this step's own threads included: well
            # above the core count means other work shared the cores (times are pessimistic).
            info["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
        if res.get("returned") is False:
            fail(f"step {step} returned False; log: {log_path}")
        self.steps[step] = info
        print(
            f"[ezkl_bench] {step}: {info['seconds']:.2f} s, peak RSS {info['peak_rss_bytes'] / 2**20:.0f} MiB",
            flush=True,
        )
        return info


def proof_transcript_bytes(proof_json: dict) -> int | None:
    """Bytes of the proof transcript itself (not the JSON file with instances and hex)."""
    p = proof_json.get("proof")
    if isinstance(p, list):
        return len(p)
    if isinstance(p, str):
        h = p[2:] if p.startswith("0x") else p
        return len(h) // 2
    return None


def vk_fixed_columns(vk_path: str, k: int) -> int | None:
    """Fixed-column count from the halo2 verifying-key header that EZKL writes:
    version byte, k, compress-selectors flag, then the u32 (LE) count of fixed commitments
    (compressed selector columns included). None if the header does not look like that."""
    try:
        with open(vk_path, "rb") as f:
            head = f.read(7)
    except OSError:
        return None
    if len(head) < 7 or head[1] != k or head[2] not in (0, 1):
        return None
    return int.from_bytes(head[3:7], "little")


def machine_info() -> dict:
    info = {"os": platform.system(), "arch": platform.machine(), "cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    info["memory_bytes"] = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    return info


def output_error(model_path: str, input_name: str, latent: list[float], witness: dict) -> dict | None:
    """Compare EZKL's rescaled (dequantized) output with onnxruntime's float output."""
    try:
        import numpy as np
        import onnxruntime as ort

        sess = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
        # Symbolic dims (PyTorch's `batch`) are 1, as ezkl_bench sets them for EZKL.
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in sess.get_inputs()[0].shape]
        if int(np.prod(shape)) != len(latent):
            shape = [1, len(latent)]
        ref = sess.run(None, {input_name: np.asarray(latent, dtype=np.float32).reshape(shape)})[0].ravel()
        outs = witness["pretty_elements"]["rescaled_outputs"][0]
        got = np.asarray([float(v) for v in outs], dtype=np.float64)
        if got.size != ref.size:
            return None
        err = np.abs(got - ref.astype(np.float64))
        return {"max_abs": round(float(err.max()), 6), "mean_abs": round(float(err.mean()), 6)}
    except Exception as e:  # informative only; never fail the benchmark on it
        print(f"ezkl_bench: warning: could not compare outputs with onnxruntime: {e}", file=sys.stderr)
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=DEFAULT_MODEL, help="ONNX model (default: model/gan.onnx)")
    ap.add_argument("--workdir", default=DEFAULT_WORKDIR, help="work folder (default: target/ezkl-bench/)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="results JSON (default: bench/ezkl.json)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (proving key, proof, logs; ~10 GB)")
    ap.add_argument("--prompt", default=DEFAULT_PROMPT, help="prompt whose int8 latent (/128) is the input")
    ap.add_argument("--input", help="input file in EZKL's shape ({\"input_data\": [[...]]}) instead of a prompt's latent")
    ap.add_argument("--target", default="resources", choices=["resources", "accuracy"], help="calibration target")
    ap.add_argument(
        "--max-logrows",
        type=int,
        default=20,
        help="cap for calibration's logrows (default 20: uncapped k=21 needs more than 21.5 GiB to prove); 0: no cap",
    )
    ap.add_argument(
        "--srs-dir",
        default=DEFAULT_SRS_DIR,
        help="where gen_srs output is kept and reused, one file per k (default: target/ezkl-srs/)",
    )
    ap.add_argument("--verbose", action="store_true", help="show EZKL's own log instead of writing it to logs/")
    args = ap.parse_args()

    versions = check_requirements()
    model_path = os.path.abspath(args.model)
    if not os.path.isfile(model_path):
        fail(f"model not found: {args.model}")
    workdir = os.path.abspath(args.workdir)
    if os.path.exists(workdir):
        shutil.rmtree(workdir)
    os.makedirs(workdir)

    minfo = model_info(model_path)
    if args.input:
        with open(args.input) as f:
            latent = [float(v) for v in json.load(f)["input_data"][0]]
        latent_q = None
    else:
        n_latent = minfo["input_shape"][-1]
        latent_q = latent_from_prompt(args.prompt, n_latent)
        latent = [q / 128.0 for q in latent_q]

    p = lambda name: os.path.join(workdir, name)  # noqa: E731
    data, settings, compiled = p("input.json"), p("settings.json"), p("network.ezkl")
    vk, pk = p("vk.key"), p("pk.key")
    witness, proof = p("witness.json"), p("proof.json")
    with open(data, "w") as f:
        json.dump({"input_data": [latent]}, f)

    run_args = {"input_visibility": "private", "param_visibility": "fixed", "output_visibility": "public"}
    # Symbolic dimensions (an exporter's dynamic batch) set to 1, as EZKL's default does for
    # the name `batch_size` only.
    symbols = symbolic_dims(model_path)
    if symbols:
        run_args["variables"] = [[s, 1] for s in symbols]
    r = Runner(workdir, args.verbose, args.keep)
    t_all = time.perf_counter()
    r.run("gen_settings", {"fn": "gen_settings", "kwargs": {"model": model_path, "output": settings}, "run_args": run_args})
    calib_kwargs = {"data": data, "model": model_path, "settings": settings, "target": args.target}
    if args.max_logrows:
        calib_kwargs["max_logrows"] = args.max_logrows
    r.run("calibrate_settings", {"fn": "calibrate_settings", "kwargs": calib_kwargs})
    r.run("compile_circuit", {"fn": "compile_circuit", "kwargs": {"model": model_path, "compiled_circuit": compiled, "settings_path": settings}})
    with open(settings) as f:
        st = json.load(f)
    ra = st.get("run_args", {})
    k = int(ra["logrows"])
    print(f"[ezkl_bench] calibrated: logrows k={k}, num_rows={st.get('num_rows')}", flush=True)
    srs_dir = os.path.abspath(args.srs_dir)
    os.makedirs(srs_dir, exist_ok=True)
    srs = os.path.join(srs_dir, f"kzg{k}.srs")
    srs_reused = os.path.isfile(srs)
    if srs_reused:
        print(f"[ezkl_bench] gen_srs: reusing {rel(srs)}", flush=True)
    else:
        tmp_srs = srs + ".partial"
        r.run("gen_srs", {"fn": "gen_srs", "args": [tmp_srs, k]})
        os.replace(tmp_srs, srs)
    r.run("setup", {"fn": "setup", "kwargs": {"model": compiled, "vk_path": vk, "pk_path": pk, "srs_path": srs}})
    r.run("gen_witness", {"fn": "gen_witness", "kwargs": {"data": data, "model": compiled, "output": witness}})
    r.run("prove", {"fn": "prove", "kwargs": {"witness": witness, "model": compiled, "pk_path": pk, "proof_path": proof, "srs_path": srs}})
    r.run("verify", {"fn": "verify", "kwargs": {"proof_path": proof, "settings_path": settings, "vk_path": vk, "srs_path": srs}})
    total = time.perf_counter() - t_all

    with open(proof) as f:
        proof_json = json.load(f)
    with open(witness) as f:
        witness_json = json.load(f)

    heavy = ("calibrate_settings", "compile_circuit", "gen_srs", "setup", "gen_witness", "prove", "verify")
    peak_by_step = {s: r.steps[s]["peak_rss_bytes"] for s in heavy if s in r.steps}
    size = os.path.getsize
    settings_keep = {
        key: st[key]
        for key in (
            "num_rows",
            "total_assignments",
            "total_const_size",
            "total_dynamic_col_size",
            "max_dynamic_input_len",
            "num_dynamic_lookups",
            "num_shuffles",
            "total_shuffle_col_size",
            "required_lookups",
            "required_range_checks",
            "model_output_scales",
            "model_input_scales",
            "num_blinding_factors",
            "timestamp",
            "version",
        )
        if key in st
    }
    settings_keep["run_args"] = ra
    results = {
        "system": "ezkl",
        "versions": {**versions, "python": platform.python_version()},
        "model": rel(model_path),
        "model_sha256": hashlib.sha256(open(model_path, "rb").read()).hexdigest(),
        "macs": minfo["macs"],
        "params": minfo["params"],
        "prompt": None if args.input else args.prompt,
        "input_file": rel(os.path.abspath(args.input)) if args.input else None,
        "latent_int8": latent_q,
        "visibility": run_args,
        "calibration_target": args.target,
        "calibration_max_logrows": args.max_logrows or None,
        "k": k,
        "rows": st.get("num_rows"),
        "fixed_columns": vk_fixed_columns(vk, k),
        # EZKL's lookup tables: nonlinearity lookups plus range-check tables (each one lookup table).
        "lookup_tables": len(st.get("required_lookups", [])) + len(st.get("required_range_checks", [])),
        "advice_cells_per_mac": (
            round(st["total_assignments"] / minfo["macs"], 3)
            if st.get("total_assignments") and minfo["macs"]
            else None
        ),
        "setup_s": r.steps["setup"]["seconds"],
        "witness_s": r.steps["gen_witness"]["seconds"],
        "prove_s": r.steps["prove"]["seconds"],
        "verify_s": r.steps["verify"]["seconds"],
        "calibrate_s": r.steps["calibrate_settings"]["seconds"],
        "compile_s": r.steps["compile_circuit"]["seconds"],
        "srs_gen_s": r.steps["gen_srs"]["seconds"] if "gen_srs" in r.steps else None,
        "srs_reused": srs_reused,
        "pipeline_wall_s": round(total, 3),
        "peak_memory_bytes": max(peak_by_step.values()),
        "peak_memory_bytes_by_step": peak_by_step,
        "proof_bytes": proof_transcript_bytes(proof_json),
        "proof_file_bytes": size(proof),
        "proving_key_bytes": size(pk),
        "verifying_key_bytes": size(vk),
        "srs_bytes": size(srs),
        "compiled_circuit_bytes": size(compiled),
        "verified": True,
        "output_error_vs_onnxruntime": output_error(model_path, minfo["input"], latent, witness_json),
        "steps": r.steps,
        "settings": settings_keep,
        "machine": machine_info(),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "python bench/ezkl_bench.py" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else ""),
    }

    out = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")

    mib = lambda b: f"{b / 2**20:,.1f} MiB"  # noqa: E731
    print()
    print(f"EZKL {versions['ezkl']} on {rel(model_path)} ({minfo['macs']:,} MACs, {minfo['params']:,} params)")
    cap = f", logrows capped at {args.max_logrows}" if args.max_logrows else ""
    print(f"  visibility        input private, params fixed, output public; calibrated for {args.target}{cap}")
    print(f"  logrows (k)       {k}")
    print(f"  rows (num_rows)   {st.get('num_rows')}")
    print(f"  setup             {results['setup_s']:.2f} s   (peak {mib(peak_by_step['setup'])})")
    print(f"  witness           {results['witness_s']:.2f} s   (peak {mib(peak_by_step['gen_witness'])})")
    print(f"  prove             {results['prove_s']:.2f} s   (peak {mib(peak_by_step['prove'])})")
    print(f"  verify            {results['verify_s']:.3f} s   (peak {mib(peak_by_step['verify'])})")
    srs_note = "reused" if srs_reused else f"{results['srs_gen_s']:.2f} s"
    print(f"  calibrate/compile {results['calibrate_s']:.2f} s / {results['compile_s']:.2f} s; gen_srs {srs_note}")
    print(f"  peak memory       {mib(results['peak_memory_bytes'])} (max over steps)")
    pb = results["proof_bytes"]
    print(f"  proof             {pb if pb is not None else '?'} bytes (file {results['proof_file_bytes']:,} bytes)")
    print(f"  proving key       {results['proving_key_bytes']:,} bytes ({mib(results['proving_key_bytes'])})")
    if results["output_error_vs_onnxruntime"]:
        print(f"  output vs float   max |err| {results['output_error_vs_onnxruntime']['max_abs']}")
    print(f"  results           {rel(out)}")

    if args.keep:
        print(f"  work folder kept  {rel(workdir)}")
    else:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
