//! Shared by the integration tests: the committed artifacts and small generators built by hand.
#![allow(dead_code)]

use std::path::PathBuf;

use section9::circuit::graph::GraphParams;
use section9::circuit::graph_plan::Step;
use section9::graph::{Geometry, Graph, Node, Op, TensorInfo};
use section9::Generator;

pub mod onnx;

pub fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

pub fn gan_bytes() -> Vec<u8> {
    std::fs::read(repo_path("model/gan.onnx")).expect("model/gan.onnx is committed")
}

/// The committed generator, compiled with its trained scales.
pub fn gan() -> Generator {
    section9::generator::compile_trained(&gan_bytes()).expect("the committed model compiles")
}

pub fn tensor(name: &str, shape: &[usize], frac_bits: i32, lo: i64, hi: i64) -> TensorInfo {
    TensorInfo { name: name.into(), shape: shape.to_vec(), frac_bits, lo, hi }
}

/// A reshape: output `i` is input `i`.
pub fn reshape(name: &str, input: usize, output: usize, len: usize) -> Node {
    Node { name: name.into(), op: Op::Gather { sources: (0..len).map(|i| Some((0, i))).collect() }, inputs: vec![input], output }
}

/// `latent [1, l] → dense [1, c·s·s] (ReLU, shift 7) → [1, c, s, s] → ConvT 4×4/2 pad 1 →
/// [1, c, 2s, 2s]` in `[-128, 127]` (shift 4): the committed generator's kinds of layers, small.
/// Dense weights `[c·s·s, l]`, ConvT weights `[c, c, 4, 4]`.
pub fn tiny_generator(l: usize, c: usize, s: usize, w1: Vec<i64>, b1: Vec<i64>, w2: Vec<i64>, b2: Vec<i64>) -> Generator {
    let n = c * s * s;
    let tensors = vec![
        tensor("z", &[1, l], 7, -128, 127),
        tensor("h", &[1, n], 6, 0, 255),
        tensor("h4", &[1, c, s, s], 6, 0, 255),
        tensor("picture", &[1, c, 2 * s, 2 * s], 7, -128, 127),
    ];
    let dense = Node {
        name: "dense".into(),
        op: Op::Linear { geometry: Geometry::Dense { rows: 1, inputs: l, outputs: n, row_bias: false }, weights: w1, bias: b1, shift: 7 },
        inputs: vec![0],
        output: 1,
    };
    let geometry = Geometry::ConvTranspose { input: [c, s, s], output: [c, 2 * s, 2 * s], kernel: [4, 4], stride: [2, 2], pad: [1, 1], dilation: [1, 1], groups: 1 };
    let up = Node { name: "up".into(), op: Op::Linear { geometry, weights: w2, bias: b2, shift: 4 }, inputs: vec![2], output: 3 };
    let graph = Graph::new(tensors, vec![0], vec![3], vec![dense, reshape("reshape", 1, 2, n), up]).expect("a valid graph");
    Generator::new(graph).expect("a generator")
}

/// The tiny generator of the circuit tests: latent 4 → 12 → [3, 2, 2] → [3, 4, 4], fixed weights.
pub fn fixed_tiny() -> Generator {
    let w1 = (0..48).map(|i| (i * 37 % 255) as i64 - 127).collect();
    let b1 = (0..12).map(|i| (i as i64 - 6) * 900).collect();
    let w2 = (0..144).map(|i| (i * 53 % 200) as i64 - 100).collect();
    tiny_generator(4, 3, 2, w1, b1, w2, vec![-300, 0, 500])
}

/// The linear steps of a plan, in order: their output wires.
pub fn linear_outputs(params: &GraphParams) -> Vec<Vec<usize>> {
    params.plan.steps.iter().filter_map(|s| if let Step::Linear { outputs, .. } = s { Some(outputs.clone()) } else { None }).collect()
}

/// The absolute row of output `o`'s requantization block in linear step `l` (only linear
/// steps take range rows in these generators).
pub fn block_row(params: &GraphParams, l: usize, o: usize) -> usize {
    let kinds: Vec<(usize, usize)> = params
        .plan
        .steps
        .iter()
        .filter_map(|s| if let Step::Linear { dots, kind, .. } = s { Some((dots.len(), kind.height())) } else { None })
        .collect();
    params.range_start() + kinds[..l].iter().map(|(n, h)| n * h).sum::<usize>() + o * kinds[l].1
}

/// Real key generation, proof and verification (KZG, development SRS) of `graph`'s model
/// circuit with private inputs `q` and public outputs; returns the public values, and whether
/// the same proof verifies with the first public value changed by one.
pub fn prove_and_verify(graph: &Graph, q: Vec<Vec<i64>>) -> (Vec<halo2_proofs::halo2curves::bn256::Fr>, bool) {
    use halo2_proofs::halo2curves::bn256::Fr;
    use rand_chacha::rand_core::SeedableRng;
    use section9::circuit::graph::{GraphWitness, Visibility};
    use section9::circuit::graph_plan::GraphTrace;
    let params = GraphParams::new(graph.clone(), section9::circuit::DEFAULT_WIDTH, Visibility::Private, Visibility::Public).expect("plans");
    let trace = GraphTrace::new(&params.plan, graph, &q);
    let instances = params.instances_of(&trace.wires, Fr::zero(), &[0; 20]);
    let srs = section9::prover::srs::dev_srs(params.k());
    let pk = section9::prover::keys::generate(&srs, &params).expect("keys");
    let (proved, proof) = section9::prover::prove(&srs, &pk, &params, GraphWitness::new(q), rand_chacha::ChaCha8Rng::seed_from_u64(1)).expect("proves");
    assert_eq!(proved, instances, "public values");
    section9::prover::verify(&srs, pk.get_vk(), &instances, &proof).expect("the proof verifies");
    let mut bad = instances.clone();
    bad[0] += Fr::one();
    let forged = section9::prover::verify(&srs, pk.get_vk(), &bad, &proof).is_ok();
    (instances, forged)
}
