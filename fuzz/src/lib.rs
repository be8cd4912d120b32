//! The fuzz targets' bodies: one function per parser of outside input, each feeding the bytes
//! to the library's public entry point and dropping the result. An `Err` is the expected
//! answer to garbage; a panic, an abort or a runaway allocation is the bug the fuzzer looks for.
//!
//! Shared with `crate/tests/fuzz_corpus.rs` (by `#[path]`), which replays the committed corpora
//! on stable through these same functions. Only `section9`'s public API and `std` are used.

use std::io::Cursor;

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::sync::OnceLock;

use section9::circuit::graph::{GraphParams, Visibility};
use section9::circuit::DEFAULT_WIDTH;
use section9::graph::{import, input, quantize, Graph};
use section9::Generator;
use section9::prover::graph::ModelProofFile;
use section9::prover::proof::ProofFile;
use section9::prover::{keys, ptau as ptau_import, srs};

/// Every target by name, for the corpus replay.
/// A fuzz target: its name (the corpus directory) and its entry point.
pub type Target = (&'static str, fn(&[u8]));

pub const TARGETS: &[Target] = &[
    ("graph_import", graph_import),
    ("model_onnx", model_onnx),
    ("model_json", model_json),
    ("compiled_model", compiled_model),
    ("mint_proof", mint_proof),
    ("model_proof", model_proof),
    ("key_file", key_file),
    ("input_json", input_json),
    ("srs_params", srs_params),
    ("ptau", ptau),
];

/// The general compiler's ONNX importer (`section9 compile`).
pub fn graph_import(data: &[u8]) {
    let _ = import::import(data);
    // External data as `compile` resolves it: every location reads the same fuzzed bytes, so
    // offsets, lengths and shapes meet side files of every size.
    if let Ok(inlined) = import::inline_external_data(data, |_| Ok(data.to_vec())) {
        let _ = import::import(&inlined);
    }
}

/// The mint path's compiler of generators whose scales training fixed (`--model FILE.onnx`):
/// the importer, then the quantizer over the calibration latents, then the generator checks.
pub fn model_onnx(data: &[u8]) {
    let _ = section9::generator::compile_trained(data);
}

/// A generator as a compiled model's JSON (what the mint page loads), then its mint circuit
/// (what the page's prover makes of it before it reads the params file).
pub fn model_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(generator) = Generator::from_json(text) {
        if let Ok(circuit) = GraphParams::mint(generator.into_graph(), DEFAULT_WIDTH) {
            let _ = circuit.k();
        }
    }
}

/// A compiled model (`.s9`), then the circuit plan made from it (what `prove` and `verify` do
/// with it before any key exists).
pub fn compiled_model(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(graph) = Graph::from_json(text) {
        let _ = GraphParams::new(graph, 5, Visibility::Private, Visibility::Public);
    }
}

/// A mint proof file, decoded and checked against its own statement.
pub fn mint_proof(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(file) = ProofFile::from_json(text) {
        let _ = file.parse();
    }
}

/// The small model `model_proof` checks files against: `model/zoo/separable.onnx`, compiled
/// with its calibration set, its outputs public.
fn separable() -> Option<&'static (Graph, ())> {
    static GRAPH: OnceLock<Option<(Graph, ())>> = OnceLock::new();
    GRAPH
        .get_or_init(|| {
            let imported = import::import(include_bytes!("../../model/zoo/separable.onnx")).ok()?;
            let g = &imported.graph;
            let lens: Vec<usize> = g.inputs.iter().map(|&t| g.tensors[t].len()).collect();
            let samples = input::parse(include_str!("../../model/zoo/separable.calibration.json"), &lens).ok()?;
            let (graph, _) = quantize::quantize(g, &samples, &quantize::Options::default(), &imported.hints).ok()?;
            Some((graph, ()))
        })
        .as_ref()
}

/// A model proof file, read and checked against a compiled model (the width and visibilities
/// come from the file, as in `section9 verify`).
pub fn model_proof(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(file) = ModelProofFile::from_json(text) else { return };
    let Some((graph, ())) = separable() else { return };
    if let Ok(circuit) = GraphParams::new(graph.clone(), file.width, file.visibility.inputs, file.visibility.outputs) {
        let _ = file.check(graph, &circuit);
    }
}

/// The mint circuit of the committed generator (`model/gan.onnx`, compiled with its trained
/// scales) at the default width: the circuit whose keys `section9 setup` caches. It is built
/// from committed files, not fuzzed input, so a failure is loud rather than a target that
/// silently tests nothing.
fn mint_circuit() -> &'static GraphParams {
    static CIRCUIT: OnceLock<GraphParams> = OnceLock::new();
    CIRCUIT.get_or_init(|| {
        let generator = section9::generator::compile_trained(include_bytes!("../../model/gan.onnx")).expect("the committed generator compiles");
        GraphParams::mint(generator.into_graph(), DEFAULT_WIDTH).expect("the committed generator has a mint circuit")
    })
}

/// A key cache file for the mint circuit. The first byte picks the digest the reader expects
/// (the file's own or zeros) and the key kind, so both the header checks and, past them,
/// halo2's key deserializer are reached.
pub fn key_file(data: &[u8]) {
    let Some((&mode, bytes)) = data.split_first() else { return };
    let circuit = mint_circuit();
    let digest: [u8; 32] = match bytes.get(8..40).and_then(|d| d.try_into().ok()) {
        Some(d) if mode & 2 == 0 => d,
        _ => [0; 32],
    };
    if mode & 1 == 0 {
        let _ = keys::read_vk(bytes, &digest, circuit);
    } else {
        let _ = keys::read_pk(bytes, &digest, circuit);
    }
}

/// An EZKL-style input file for a model with inputs of 3 and 4 values.
pub fn input_json(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = input::parse(text, &[3, 4]);
    }
}

/// A halo2 KZG params file (`--params`), downsized to a small `k` taken from the first byte.
pub fn srs_params(data: &[u8]) {
    let Some((&k, bytes)) = data.split_first() else { return };
    let _ = srs::read(bytes, u32::from(k % 8) + 1);
}

/// A `.ptau` file (Perpetual Powers of Tau), imported at a small `k` from the first byte.
pub fn ptau(data: &[u8]) {
    let Some((&k, bytes)) = data.split_first() else { return };
    // A fixed seed, so a crash replays exactly.
    let rng = ChaCha8Rng::seed_from_u64(0x5eed);
    let _ = ptau_import::import(Cursor::new(bytes), Some(u32::from(k % 6) + 1), rng);
}
