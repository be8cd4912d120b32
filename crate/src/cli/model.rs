//! The general-model commands: `compile`, `run`, and `prove` / `verify` / `bench` when given a
//! compiled model (`.s9`). Parse, call the library, print.

use std::path::Path;

use anyhow::{bail, Context, Result};
use section9::circuit::graph::{GraphParams, Optimize, Visibility, Weights};
use section9::circuit::graph_plan::GraphTrace;
use section9::graph::quantize::{quantize, Options, Report};
use section9::graph::{import, input, Graph};
use section9::circuit::graph::GraphWitness;
use section9::prover::graph::ModelProofFile;
use section9::prover::{self, keys, srs};

use super::keys::{KeyArgs, KeyCache, Srs};
use super::{peak_memory, step};
use super::read_onnx;

pub fn load_graph(path: &Path) -> Result<Graph> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the model {}", path.display()))?;
    Graph::from_json(&text).with_context(|| format!("{} is not a compiled model (run `section9 compile` on the ONNX file first)", path.display()))
}

fn lengths(graph: &Graph) -> Vec<usize> {
    graph.inputs().iter().map(|&t| graph.tensors()[t].len()).collect()
}

/// Reads an EZKL-style input file holding exactly one sample.
fn one_sample(graph: &Graph, path: &Path) -> Result<Vec<Vec<f64>>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the input file {}", path.display()))?;
    let mut samples = input::parse(&text, &lengths(graph)).with_context(|| format!("invalid input file {}", path.display()))?;
    if samples.len() != 1 {
        bail!("{} holds {} samples; give exactly one", path.display(), samples.len());
    }
    Ok(samples.remove(0))
}

pub fn print_report(report: &Report) {
    println!("calibration  {} samples, {}-bit weights, {}-bit activations ({} of {} weights quantize to zero and cost nothing)", report.samples, report.weight_bits, report.activation_bits, report.zero_weights, report.weights);
    println!("{:<24} {:>6} {:>16} {:>16} {:>12}", "output", "scale", "max |err| steps", "mean |err| steps", "max rel err");
    for o in &report.outputs {
        println!("{:<24} {:>6} {:>16.2} {:>16.2} {:>11.2}%", o.name, format!("2^-{}", o.frac_bits), o.max_abs_steps, o.mean_abs_steps, o.max_relative * 100.0);
    }
}

/// Where `compile --weights committed` writes the public shape of `out`: `model.s9` →
/// `model.shape.s9`.
pub fn shape_path(out: &Path) -> std::path::PathBuf {
    let stem = out.file_stem().map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    out.with_file_name(format!("{stem}.shape.s9"))
}

/// `compile`: `weight_bits` defaults to what `weights` can hold (16 fixed, 8 committed).
pub fn compile(onnx: &Path, calibrate: Option<&Path>, weight_bits: Option<u32>, activation_bits: u32, weights: Weights, out: &Path) -> Result<()> {
    let weight_bits = match (weights, weight_bits) {
        (Weights::Fixed, bits) => bits.unwrap_or(16),
        (Weights::Committed, None) => 8,
        (Weights::Committed, Some(bits)) if bits > 8 => bail!("--weight-bits {bits} with --weights committed: committed weights are bytes, pass --weight-bits 8 or fewer (the default)"),
        (Weights::Committed, Some(bits)) => bits,
    };
    let options = Options { weight_bits, activation_bits };
    let (graph, report) = compile_graph(onnx, calibrate, &options, false)?;
    // Checked before anything is written: committed weights must be bytes.
    let params = GraphParams::auto_layout(graph.clone(), Visibility::Private, Visibility::Public, weights)?;
    std::fs::write(out, graph.to_json()).with_context(|| format!("cannot write {}", out.display()))?;
    print_report(&report);
    let after = if weights == Weights::Fixed { "after zero weights" } else { "every weight, committed" };
    println!("model        {} ({} nodes, {} MACs, {} in the circuit {after})", section9::hex_string(&graph.id()), graph.nodes().len(), graph.macs(), params.plan.terms());
    println!("circuit      k = {}, {} (private inputs, public outputs, {weights} weights)", params.k(), super::layout_text(&params));
    println!("wrote        {}", out.display());
    if weights == Weights::Committed {
        let shape = shape_path(out);
        std::fs::write(&shape, section9::circuit::graph_plan::shape(&graph).to_json()).with_context(|| format!("cannot write {}", shape.display()))?;
        let commitment = section9::circuit::graph::weight_commitment(&graph)?;
        println!("commitment   {} (Poseidon of the weights and biases under shape {})", section9::prover::proof::fr_to_hex(&commitment), &section9::hex_string(&section9::circuit::graph_plan::shape_id(&graph))[..16]);
        println!("wrote        {} (the shape, weights zeroed: what a verifier needs; keep {} private)", shape.display(), out.display());
    }
    Ok(())
}

/// Reads, checks against tract and calibrates an ONNX model; `picture`: its output is a
/// generator's picture (see `generator::picture_hints`).
pub fn compile_graph(onnx: &Path, calibrate: Option<&Path>, options: &Options, picture: bool) -> Result<(Graph, Report)> {
    if !(2..=16).contains(&options.weight_bits) || ![8, 16].contains(&options.activation_bits) {
        bail!("--weight-bits must be between 2 and 16 and --activation-bits 8 or 16");
    }
    let bytes = read_onnx(onnx)?;
    let mut imported = import::import(&bytes).with_context(|| format!("cannot compile {}", onnx.display()))?;
    if picture {
        section9::generator::picture_hints(&imported.graph, &mut imported.hints);
    }
    let g = &imported.graph;
    let lens: Vec<usize> = g.inputs.iter().map(|&t| g.tensors[t].len()).collect();
    let samples = match calibrate {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            input::parse(&text, &lens).with_context(|| format!("invalid calibration file {}", path.display()))?
        }
        None => {
            eprintln!("WARNING: no --calibrate file: calibrating on 16 inputs uniform in [-1, 1]; real inputs give better scales");
            let mut state = 0x9e37_79b9_7f4a_7c15u64;
            let mut next = move || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
            };
            (0..16).map(|_| lens.iter().map(|&n| (0..n).map(|_| next()).collect()).collect()).collect()
        }
    };
    let check: Vec<_> = samples.iter().take(8).cloned().collect();
    step("checking the float reading against tract", || Ok(import::check_with_tract(&bytes, g, &check)?))?;
    let ((graph, report), _) = step("calibrating", || Ok(quantize(g, &samples, options, &imported.hints)?))?;
    // A generator's vocabulary travels with it (a model of another shape is refused here).
    let graph = graph.with_prompt(imported.prompt).with_context(|| format!("cannot compile {}", onnx.display()))?;
    Ok((graph, report))
}

pub fn run(model: &Path, input_path: &Path) -> Result<()> {
    let graph = load_graph(model)?;
    let sample = one_sample(&graph, input_path)?;
    let outputs = graph.run_float(&sample)?;
    println!("{}", serde_json::json!({ "outputs": outputs }));
    Ok(())
}

/// Proving arguments of a compiled model.
pub struct ModelProve<'a> {
    pub model: &'a Path,
    pub input: &'a Path,
    pub inputs: Visibility,
    pub outputs: Visibility,
    pub weights: Weights,
    pub optimize: Optimize,
    pub out: &'a Path,
    pub keys: &'a KeyArgs,
}

pub fn prove(a: ModelProve<'_>) -> Result<()> {
    let graph = load_graph(a.model)?;
    let sample = one_sample(&graph, a.input)?;
    let q = graph.quantize_inputs(&sample)?;
    let circuit = GraphParams::layout_for(graph.clone(), a.inputs, a.outputs, a.weights, a.optimize)?;
    let k = circuit.k();
    let Srs { params, dev } = a.keys.srs(k)?;
    let pk = KeyCache::new(&a.keys.keys_dir, "model", &circuit, &params).proving_key(&params)?;
    let ((instances, proof), _) = step("proving", || Ok(prover::prove(&params, &pk, &circuit, GraphWitness::new(q.clone()), rand::rngs::OsRng)?))?;
    let trace = GraphTrace::new(&circuit.plan, &graph, &q);
    let outputs: Vec<Vec<i64>> = graph.outputs().iter().enumerate().map(|(i, &t)| trace.output(&circuit.plan, i).iter().map(|s| s + graph.tensors()[t].lo).collect()).collect();
    let file = ModelProofFile::new(&graph, &circuit, k, dev, &q, &outputs, &instances, &proof);
    std::fs::write(a.out, file.to_json()).with_context(|| format!("cannot write {}", a.out.display()))?;
    println!("proof    {} ({} bytes of proof, {} public values)", a.out.display(), proof.len(), instances.len());
    Ok(())
}

/// Verifies a model proof with verification's part of the SRS and the cached verifying key
/// (derived, from the whole SRS, only when there is none or with `derive_vk`).
pub fn verify(text: &str, model: &Path, args: &KeyArgs, derive_vk: bool) -> Result<()> {
    let file = ModelProofFile::from_json(text)?;
    let graph = load_graph(model)?;
    let circuit = GraphParams::new(graph.clone(), file.width, file.visibility.inputs, file.visibility.outputs)?.with_lanes(file.lanes)?.with_accumulators(file.accumulators)?.with_weights(file.weights)?;
    let (instances, proof) = file.check(&graph, &circuit)?;
    let k = circuit.k();
    let verifier = args.verifier_srs(k)?.params;
    let vk = KeyCache::new(&args.keys_dir, "model", &circuit, &verifier).verifying_key(derive_vk, || Ok(args.srs(k)?.params))?;
    step("verifying", || Ok(prover::verify(&verifier, &vk, &instances, &proof)?))?;
    match (file.weights, instances.last()) {
        (Weights::Committed, Some(commitment)) => println!(
            "valid: the outputs come from the model committed to {} (shape {}; {} inputs, {} outputs)",
            section9::prover::proof::fr_to_hex(commitment),
            &file.model_id[..16],
            serde_json::to_string(&file.visibility.inputs)?,
            serde_json::to_string(&file.visibility.outputs)?
        ),
        _ => println!("valid: the outputs come from model {} ({} inputs, {} outputs)", &file.model_id[..16], serde_json::to_string(&file.visibility.inputs)?, serde_json::to_string(&file.visibility.outputs)?),
    }
    Ok(())
}

/// Writes the Solidity verifier of a model circuit: the public values are the statement's
/// (hashed sides one Poseidon value each, public ones every value), in `prove`'s order.
pub fn export_verifier(model: &Path, inputs: Visibility, outputs: Visibility, weights: Weights, optimize: Optimize, args: &KeyArgs, out: &Path) -> Result<()> {
    let graph = load_graph(model)?;
    let circuit = GraphParams::layout_for(graph.clone(), inputs, outputs, weights, optimize)?;
    let k = circuit.k();
    let Srs { params: verifier, dev } = args.verifier_srs(k)?;
    let vk = KeyCache::new(&args.keys_dir, "model", &circuit, &verifier).verifying_key(false, || Ok(args.srs(k)?.params))?;
    let instances = circuit.num_instances();
    let (code, _) = step("generating the verifier", || Ok(prover::evm::solidity_verifier(&verifier, &vk, instances)?))?;
    let statement = prover::evm::Statement::Model { inputs, outputs, instances };
    let code = prover::evm::with_header(&code, &section9::hex_string(&graph.id()), &statement, (k, &super::layout_text(&circuit)), &srs::fingerprint(&verifier), dev);
    super::write_creating_dir(out, code.as_bytes())?;
    println!("verifier {} ({} bytes of Solidity, {instances} public inputs: {inputs} inputs, {outputs} outputs, k = {k})", out.display(), code.len());
    if dev {
        println!("WARNING  this verifier trusts the INSECURE development SRS: never deploy it outside a local chain");
    }
    Ok(())
}

pub fn bench(model: &Path, input_path: Option<&Path>, weights: Weights, optimize: Optimize, args: &KeyArgs, repeat: usize, json: Option<&Path>) -> Result<()> {
    let graph = load_graph(model)?;
    let q = match input_path {
        Some(p) => graph.quantize_inputs(&one_sample(&graph, p)?)?,
        None => graph.inputs().iter().map(|&t| vec![0; graph.tensors()[t].len()]).collect(),
    };
    let circuit = GraphParams::layout_for(graph.clone(), Visibility::Private, Visibility::Public, weights, optimize)?;
    let k = circuit.k();
    let params = args.srs(k)?.params;
    let (pk, keygen_s) = step(&format!("key generation (k = {k})"), || Ok(keys::generate(&params, &circuit)?))?;
    let mut times = Vec::new();
    let mut last = None;
    for i in 0..repeat.max(1) {
        let (out, secs) = step(&format!("prove {}/{}", i + 1, repeat.max(1)), || Ok(prover::prove(&params, &pk, &circuit, GraphWitness::new(q.clone()), rand::rngs::OsRng)?))?;
        times.push(secs);
        last = Some(out);
    }
    times.sort_by(f64::total_cmp);
    let (instances, proof) = last.context("no proof was made")?;
    let (_, verify_s) = step("verify", || Ok(prover::verify(&params, pk.get_vk(), &instances, &proof)?))?;
    let (dot, range, tables) = circuit.rows();
    let cs = pk.get_vk().cs();
    let numbers = serde_json::json!({
        "model_id": section9::hex_string(&graph.id()),
        "k": k,
        "rows": dot.max(range).max(tables),
        "advice_columns": cs.num_advice_columns(),
        "fixed_columns": cs.num_fixed_columns(),
        "lookups": cs.lookups().len(),
        "gates": cs.gates().len(),
        "degree": cs.degree(),
        "macs": graph.macs(),
        "circuit_terms": circuit.plan.terms(),
        "weights": weights.to_string(),
        "width": circuit.width,
        "lanes": circuit.lanes,
        "accumulators": circuit.accumulators,
        "keygen_s": keygen_s,
        "prove_s": times[times.len() / 2],
        "verify_s": verify_s,
        "peak_memory_bytes": peak_memory(),
        "proof_bytes": proof.len(),
    });
    println!("{}", serde_json::to_string_pretty(&numbers)?);
    if let Some(path) = json {
        std::fs::write(path, serde_json::to_string_pretty(&numbers)?).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
