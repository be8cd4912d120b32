//! The general compiler: float ONNX models built in code → tract-checked float graph →
//! calibrated integer graph → model circuit under MockProver, with tampered witnesses.

mod common;

use common::onnx::{af, ai, ais, astr, Builder};
use halo2_proofs::dev::MockProver;
use halo2_proofs::halo2curves::bn256::Fr;
use section9::circuit::graph::{GraphCircuit, GraphParams, GraphWitness, Visibility, Weights};
use section9::circuit::graph_plan::{GraphTamper, GraphTrace, Step};
use section9::circuit::DEFAULT_WIDTH;
use section9::graph::import::{check_with_tract, import, ImportError};
use section9::graph::quantize::{quantize, Options, Report};
use section9::graph::{Graph, Op};

/// `count` samples uniform in [-1, 1) for every input of the model.
fn samples(graph: &section9::graph::float::FloatGraph, count: usize, seed: u64) -> Vec<Vec<Vec<f64>>> {
    let mut b = Builder::new(seed);
    (0..count).map(|_| graph.inputs.iter().map(|&t| (0..graph.tensors[t].len()).map(|_| f64::from(b.uniform())).collect()).collect()).collect()
}

/// Imports, checks against tract, calibrates on 16 samples; returns the graph, the report
/// and 4 fresh samples.
fn compile(bytes: &[u8]) -> (Graph, Report, Vec<Vec<Vec<f64>>>) {
    compile_with(bytes, &Options::default())
}

fn compile_with(bytes: &[u8], options: &Options) -> (Graph, Report, Vec<Vec<Vec<f64>>>) {
    let imported = import(bytes).expect("imports");
    let calibration = samples(&imported.graph, 16, 1);
    check_with_tract(bytes, &imported.graph, &calibration).expect("the float reading agrees with tract");
    let fresh = samples(&imported.graph, 4, 2);
    check_with_tract(bytes, &imported.graph, &fresh).expect("the float reading agrees with tract");
    let (graph, report) = quantize(&imported.graph, &calibration, options, &imported.hints).expect("quantizes");
    (graph, report, fresh)
}

fn mock(graph: &Graph, inputs: &[Vec<i64>], vis: (Visibility, Visibility), tamper: Option<GraphTamper>) -> Result<(), Vec<String>> {
    mock_params(GraphParams::new(graph.clone(), DEFAULT_WIDTH, vis.0, vis.1).expect("plans"), graph, inputs, tamper)
}

fn mock_params(params: GraphParams, graph: &Graph, inputs: &[Vec<i64>], tamper: Option<GraphTamper>) -> Result<(), Vec<String>> {
    let trace = match tamper {
        Some(t) => GraphTrace::tampered(&params.plan, graph, inputs, t),
        None => GraphTrace::new(&params.plan, graph, inputs),
    };
    let instances = params.instances_of(&trace.wires, Fr::zero(), &[0; 20]);
    let k = params.k();
    let circuit = GraphCircuit { params, witness: Some(GraphWitness { tamper, ..GraphWitness::new(inputs.to_vec()) }) };
    MockProver::run(k, &circuit, vec![instances]).expect("synthesizes").verify().map_err(|fs| fs.iter().map(|f| f.to_string()).collect())
}

/// The circuit's outputs equal the integer reference, and the honest witness verifies.
fn prove_matches_reference(graph: &Graph, sample: &[Vec<f64>], vis: (Visibility, Visibility)) {
    let q = graph.quantize_inputs(sample).unwrap();
    let values = graph.run(&q).unwrap();
    let params = GraphParams::new(graph.clone(), DEFAULT_WIDTH, vis.0, vis.1).unwrap();
    let trace = GraphTrace::new(&params.plan, graph, &q);
    for (i, &o) in graph.outputs().iter().enumerate() {
        let lo = graph.tensors()[o].lo;
        let want: Vec<i64> = values[o].iter().map(|v| v - lo).collect();
        assert_eq!(trace.output(&params.plan, i), want, "output {i}: circuit witness vs integer reference");
    }
    mock(graph, &q, vis, None).expect("the honest witness verifies");
}

fn assert_fails(result: Result<(), Vec<String>>, what: &str) {
    let failures = result.expect_err("the tampered witness must not verify");
    assert!(failures.iter().any(|f| f.contains(what)), "expected {what:?} among failures: {failures:#?}");
}

fn mlp() -> Vec<u8> {
    let mut b = Builder::new(7);
    let x = b.input("x", &[1, 16]);
    let w1 = b.random(&[32, 16], 0.5);
    let b1 = b.random(&[32], 0.2);
    let h = b.node("Gemm", &[&x, &w1, &b1], vec![ai("transB", 1)]);
    let h = b.node("Relu", &[&h], vec![]);
    let w2 = b.random(&[32, 8], 0.4);
    let h = b.node("MatMul", &[&h, &w2], vec![]);
    let c = b.random(&[8], 0.3);
    let h = b.node("Add", &[&h, &c], vec![]);
    let h = b.node("Sigmoid", &[&h], vec![]);
    b.finish(&[&h])
}

/// LeNet-style: conv, batch norm, relu, max pool, conv, relu, average pool, flatten, gemm.
fn lenet() -> Vec<u8> {
    let mut b = Builder::new(8);
    let x = b.input("image", &[1, 1, 8, 8]);
    let w = b.random(&[4, 1, 3, 3], 0.6);
    let bias = b.random(&[4], 0.1);
    let h = b.node("Conv", &[&x, &w, &bias], vec![ais("pads", &[1, 1, 1, 1])]);
    let scale = b.random(&[4], 1.0);
    let shift = b.random(&[4], 0.2);
    let mean = b.random(&[4], 0.1);
    let var = b.floats(&[4], vec![0.5, 1.0, 1.5, 2.0]);
    let h = b.node("BatchNormalization", &[&h, &scale, &shift, &mean, &var], vec![]);
    let h = b.node("Relu", &[&h], vec![]);
    let h = b.node("MaxPool", &[&h], vec![ais("kernel_shape", &[2, 2]), ais("strides", &[2, 2])]);
    let w = b.random(&[8, 4, 3, 3], 0.3);
    let h = b.node("Conv", &[&h, &w], vec![ais("strides", &[1, 1])]);
    let h = b.node("Relu", &[&h], vec![]);
    let h = b.node("AveragePool", &[&h], vec![ais("kernel_shape", &[2, 2])]);
    let h = b.node("Flatten", &[&h], vec![]);
    let w = b.random(&[10, 8], 0.5);
    let c = b.random(&[10], 0.1);
    let h = b.node("Gemm", &[&h, &w, &c], vec![ai("transB", 1)]);
    b.finish(&[&h])
}

/// Depthwise-separable block with a residual: depthwise 3×3, Clip(0, 6), pointwise 1×1, Add,
/// global average pool.
fn separable() -> Vec<u8> {
    let mut b = Builder::new(9);
    let x = b.input("x", &[1, 4, 6, 6]);
    let w = b.random(&[4, 1, 3, 3], 0.5);
    let h = b.node("Conv", &[&x, &w], vec![ai("group", 4), ais("pads", &[1, 1, 1, 1])]);
    let lo = b.floats(&[], vec![0.0]);
    let hi = b.floats(&[], vec![6.0]);
    let h = b.node("Clip", &[&h, &lo, &hi], vec![]);
    let w = b.random(&[4, 4, 1, 1], 0.5);
    let h = b.node("Conv", &[&h, &w], vec![]);
    let h = b.node("Add", &[&h, &x], vec![]);
    let h = b.node("GlobalAveragePool", &[&h], vec![]);
    b.finish(&[&h])
}

/// Everything else: LeakyRelu, Tanh, Add of two tensors, Concat, Pad, strided dilated conv,
/// AveragePool, nearest Resize, Mul of two tensors, Sub/Div by constants, Transpose, Reshape,
/// ConvTranspose, two outputs.
fn zoo() -> Vec<u8> {
    let mut b = Builder::new(10);
    let x = b.input("x", &[1, 2, 4, 4]);
    let w = b.random(&[2, 2, 1, 1], 0.8);
    let a = b.node("Conv", &[&x, &w], vec![]);
    let a = b.node("LeakyRelu", &[&a], vec![af("alpha", 0.1)]);
    let t = b.node("Tanh", &[&x], vec![]);
    let d = b.node("Add", &[&a, &t], vec![]);
    let e = b.node("Concat", &[&d, &x], vec![ai("axis", 1)]);
    let pads = b.ints(&[8], vec![0, 0, 1, 1, 0, 0, 1, 1]);
    let f = b.node("Pad", &[&e, &pads], vec![]);
    let w = b.random(&[3, 4, 3, 3], 0.4);
    let g = b.node("Conv", &[&f, &w], vec![ais("dilations", &[2, 2]), ais("strides", &[1, 1])]);
    let g = b.node("AveragePool", &[&g], vec![ais("kernel_shape", &[2, 2]), ais("strides", &[2, 2])]);
    let scales = b.floats(&[4], vec![1.0, 1.0, 2.0, 2.0]);
    let roi = b.floats(&[0], vec![]);
    let h = b.node("Resize", &[&g, &roi, &scales], vec![astr("mode", "nearest")]);
    let i = b.node("Mul", &[&h, &h], vec![]);
    let c = b.floats(&[1, 3, 1, 1], vec![0.1, -0.2, 0.3]);
    let i = b.node("Sub", &[&i, &c], vec![]);
    let two = b.floats(&[], vec![2.0]);
    let i = b.node("Div", &[&i, &two], vec![]);
    let j = b.node("Transpose", &[&i], vec![ais("perm", &[0, 2, 3, 1])]);
    let shape = b.ints(&[2], vec![1, -1]);
    let k = b.node("Reshape", &[&j, &shape], vec![]);
    let w = b.random(&[3, 2, 3, 3], 0.5);
    let up = b.node("ConvTranspose", &[&g, &w], vec![ais("strides", &[2, 2]), ais("pads", &[1, 1, 1, 1])]);
    b.finish(&[&k, &up])
}

#[test]
fn mlp_compiles_proves_and_stays_close_to_float() {
    let (graph, report, fresh) = compile(&mlp());
    // Every model here stays within 4 steps of its output scale of the float model on the
    // calibration samples (measured: 1.2–2.0).
    assert!(report.outputs[0].max_abs_steps <= 4.0, "{report:?}");
    for s in &fresh {
        prove_matches_reference(&graph, s, (Visibility::Private, Visibility::Public));
    }
}

#[test]
fn lenet_compiles_and_proves() {
    let (graph, report, fresh) = compile(&lenet());
    assert!(report.outputs[0].max_abs_steps <= 4.0, "{report:?}");
    // BatchNormalization folds into the convolution before it, Relu into its clamp.
    assert_eq!(graph.nodes().iter().filter(|n| matches!(n.op, Op::Linear { .. })).count(), 4);
    prove_matches_reference(&graph, &fresh[0], (Visibility::Private, Visibility::Public));
}

#[test]
fn separable_block_compiles_and_proves_with_hashed_sides() {
    let (graph, report, fresh) = compile(&separable());
    assert!(report.outputs[0].max_abs_steps <= 4.0, "{report:?}");
    prove_matches_reference(&graph, &fresh[0], (Visibility::Hashed, Visibility::Hashed));
    prove_matches_reference(&graph, &fresh[1], (Visibility::Public, Visibility::Private));
}

#[test]
fn every_node_kind_compiles_and_proves() {
    let (graph, report, fresh) = compile(&zoo());
    assert_eq!(report.outputs.len(), 2);
    for o in &report.outputs {
        assert!(o.max_abs_steps <= 4.0, "{report:?}");
    }
    let kinds: std::collections::BTreeSet<&str> = graph.nodes().iter().map(|n| n.op.kind()).collect();
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["gather", "linear", "mul", "table"]);
    prove_matches_reference(&graph, &fresh[0], (Visibility::Private, Visibility::Public));
}

/// The first wire a step of the given kind defines, with its honest value.
fn first_wire(graph: &Graph, sample: &[Vec<i64>], pick: impl Fn(&Step) -> Option<Vec<usize>>) -> (usize, GraphTrace) {
    let params = GraphParams::new(graph.clone(), DEFAULT_WIDTH, Visibility::Private, Visibility::Public).unwrap();
    let trace = GraphTrace::new(&params.plan, graph, sample);
    let wires = params.plan.steps.iter().find_map(pick).expect("the graph has such a step");
    // Prefer a wire whose value is strictly inside its range so a +1 stays a byte.
    let w = wires.iter().copied().find(|&w| (1..200).contains(&trace.wires[w])).unwrap_or(wires[0]);
    (w, trace)
}

#[test]
fn tampered_linear_output_breaks_its_requantization() {
    let (graph, _, fresh) = compile(&lenet());
    let q = graph.quantize_inputs(&fresh[0]).unwrap();
    let (wire, _) = first_wire(&graph, &q, |s| match s {
        Step::Linear { outputs, .. } => Some(outputs.clone()),
        _ => None,
    });
    assert_fails(mock(&graph, &q, (Visibility::Private, Visibility::Public), Some(GraphTamper::Wire { wire, delta: 1 })), "requant");
}

#[test]
fn tampered_max_breaks_the_max_gate_or_its_range() {
    let (graph, _, fresh) = compile(&lenet());
    let q = graph.quantize_inputs(&fresh[0]).unwrap();
    let params = GraphParams::new(graph.clone(), DEFAULT_WIDTH, Visibility::Private, Visibility::Public).unwrap();
    let trace = GraphTrace::new(&params.plan, &graph, &q);
    let rows = params.plan.steps.iter().find_map(|s| match s { Step::Max { rows, .. } => Some(rows.clone()), _ => None }).unwrap();
    let &(a, b, m) = rows.iter().find(|&&(a, b, _)| trace.wires[a] != trace.wires[b]).expect("a window with distinct values");
    let vis = (Visibility::Private, Visibility::Public);
    // Not one of the operands.
    assert_fails(mock(&graph, &q, vis, Some(GraphTamper::Wire { wire: m, delta: 1 })), "max: (m - a)·(m - b) = 0");
    // The smaller operand: the gate holds, the range check of the difference does not.
    let delta = trace.wires[a].min(trace.wires[b]) - trace.wires[m];
    assert_fails(mock(&graph, &q, vis, Some(GraphTamper::Wire { wire: m, delta })), "max: d_1 ∈ [0, 256)");
}

#[test]
fn tampered_table_output_fails_the_lookup() {
    let (graph, _, fresh) = compile(&mlp());
    let q = graph.quantize_inputs(&fresh[0]).unwrap();
    let (wire, _) = first_wire(&graph, &q, |s| match s {
        Step::Table { outputs, .. } => Some(outputs.clone()),
        _ => None,
    });
    assert_fails(mock(&graph, &q, (Visibility::Private, Visibility::Public), Some(GraphTamper::Wire { wire, delta: 1 })), "table: (tag, x', y') ∈ T");
}

#[test]
fn tampered_product_breaks_the_mul_gate() {
    let (graph, _, fresh) = compile(&zoo());
    let q = graph.quantize_inputs(&fresh[0]).unwrap();
    let (wire, _) = first_wire(&graph, &q, |s| match s {
        Step::Mul { rows, .. } => Some(rows.iter().map(|r| r.2).collect()),
        _ => None,
    });
    assert_fails(mock(&graph, &q, (Visibility::Private, Visibility::Public), Some(GraphTamper::Wire { wire, delta: 1 })), "mul: a'·b'");
}

#[test]
fn a_changed_public_output_does_not_verify() {
    let (graph, _, fresh) = compile(&mlp());
    let q = graph.quantize_inputs(&fresh[0]).unwrap();
    let params = GraphParams::new(graph.clone(), DEFAULT_WIDTH, Visibility::Private, Visibility::Public).unwrap();
    let trace = GraphTrace::new(&params.plan, &graph, &q);
    let mut instances = params.instances_of(&trace.wires, Fr::zero(), &[0; 20]);
    instances[0] += halo2_proofs::halo2curves::bn256::Fr::one();
    let k = params.k();
    let circuit = GraphCircuit { params, witness: Some(GraphWitness::new(q)) };
    let failures = MockProver::run(k, &circuit, vec![instances]).unwrap().verify().unwrap_err();
    assert!(failures.iter().any(|f| f.to_string().contains("Instance")), "{failures:?}");
}

#[test]
fn unsupported_ops_name_the_node_and_what_is_missing() {
    let mut b = Builder::new(1);
    let x = b.input("x", &[1, 4]);
    let s = b.node("Hardmax", &[&x], vec![]);
    let err = import(&b.finish(&[&s])).err().expect("Hardmax is refused");
    assert!(matches!(&err, ImportError::Unsupported { node, op, what } if node == "Hardmax_1" && op == "Hardmax" && what.contains("not supported")), "{err}");

    let mut b = Builder::new(1);
    let x = b.input("x", &[1, 4]);
    let s = b.node("Sin", &[&x], vec![]);
    let err = import(&b.finish(&[&s])).err().expect("Sin of a computed tensor is refused");
    assert_eq!(err.to_string(), "node `Sin_1` (Sin): operator not supported");

    let mut b = Builder::new(1);
    let x = b.input("x", &[1, 1, 4, 4]);
    let s = b.node("MaxPool", &[&x], vec![ais("kernel_shape", &[2, 2]), astr("auto_pad", "WEIRD")]);
    let err = import(&b.finish(&[&s])).err().expect("bad auto_pad is refused");
    assert!(err.to_string().contains("auto_pad `WEIRD` is not supported"), "{err}");
}

#[test]
fn malformed_onnx_is_an_error_not_a_panic() {
    assert!(matches!(import(b"\x08\x07garbage").err(), Some(ImportError::Parse(_)) | Some(ImportError::NoGraph)));
    let bytes = lenet();
    for cut in [1, bytes.len() / 3, bytes.len() - 1] {
        let _ = import(&bytes[..cut]);
    }
}

#[test]
fn sixteen_bit_activations_prove_and_are_more_accurate() {
    for (name, bytes) in [("mlp", mlp()), ("lenet", lenet()), ("separable", separable()), ("zoo", zoo())] {
        let (_, narrow, _) = compile(&bytes);
        let (graph, wide, fresh) = compile_with(&bytes, &Options::accurate());
        for (n, w) in narrow.outputs.iter().zip(&wide.outputs) {
            // In absolute terms (the scales differ).
            let abs = |o: &section9::graph::quantize::OutputError| o.max_abs_steps * 2f64.powi(-o.frac_bits);
            // Measured: lenet 255×, separable 93×, mlp 4×, zoo 1.6–2.5× (their tables read
            // 8-bit values).
            let gain = if matches!(name, "separable" | "lenet") { 20.0 } else { 1.5 };
            assert!(abs(w) * gain <= abs(n), "{name}: {} vs {}", abs(w), abs(n));
        }
        assert!(graph.tensors().iter().any(|t| t.hi - t.lo == 65535), "{name} has 16-bit tensors");
        prove_matches_reference(&graph, &fresh[0], (Visibility::Hashed, Visibility::Public));
    }
}

#[test]
fn tampered_sixteen_bit_output_breaks_its_requantization() {
    let (graph, _, fresh) = compile_with(&mlp(), &Options::accurate());
    let q = graph.quantize_inputs(&fresh[0]).unwrap();
    let (wire, _) = first_wire(&graph, &q, |s| match s {
        Step::Linear { outputs, kind, .. } if kind.y_limbs() == 2 => Some(outputs.clone()),
        _ => None,
    });
    assert_fails(mock(&graph, &q, (Visibility::Private, Visibility::Public), Some(GraphTamper::Wire { wire, delta: 1 })), "16-bit output");
}

// Transformer operators: division, Softmax, LayerNorm, attention.

fn softmax(op: &str, opset: i64, axis: Option<i64>) -> Vec<u8> {
    let mut b = Builder::new(21);
    b.opset = opset;
    let x = b.input("x", &[1, 3, 8]);
    let w = b.random(&[8, 8], 1.5);
    let h = b.node("MatMul", &[&x, &w], vec![]);
    let y = b.node(op, &[&h], axis.map(|a| vec![ai("axis", a)]).unwrap_or_default());
    b.finish(&[&y])
}

/// `nn.LayerNorm` as the classic exporter spelled it before opset 17.
fn layer_norm_pattern() -> Vec<u8> {
    let mut b = Builder::new(22);
    let x = b.input("x", &[1, 4, 8]);
    let w = b.random(&[8, 8], 1.0);
    let h = b.node("MatMul", &[&x, &w], vec![]);
    let mean = b.node("ReduceMean", &[&h], vec![ais("axes", &[-1])]);
    let d = b.node("Sub", &[&h, &mean], vec![]);
    let two = b.floats(&[], vec![2.0]);
    let sq = b.node("Pow", &[&d, &two], vec![]);
    let var = b.node("ReduceMean", &[&sq], vec![ais("axes", &[-1])]);
    let eps = b.floats(&[], vec![1e-5]);
    let var = b.node("Add", &[&var, &eps], vec![]);
    let std = b.node("Sqrt", &[&var], vec![]);
    let n = b.node("Div", &[&d, &std], vec![]);
    let g = b.random(&[8], 1.0);
    let n = b.node("Mul", &[&n, &g], vec![]);
    let beta = b.random(&[8], 0.5);
    let y = b.node("Add", &[&n, &beta], vec![]);
    b.finish(&[&y])
}

fn layer_norm() -> Vec<u8> {
    layer_norm_of(4)
}

/// A MatMul then LayerNormalization over `[1, seq, 8]`.
fn layer_norm_of(seq: i64) -> Vec<u8> {
    let mut b = Builder::new(23);
    b.opset = 17;
    let x = b.input("x", &[1, seq, 8]);
    let w = b.random(&[8, 8], 1.0);
    let h = b.node("MatMul", &[&x, &w], vec![]);
    let g = b.random(&[8], 1.0);
    let beta = b.random(&[8], 0.5);
    let y = b.node("LayerNormalization", &[&h, &g, &beta], vec![ai("axis", -1), af("epsilon", 1e-5)]);
    b.finish(&[&y])
}

/// One attention head over `[1, 4, 8]`: `softmax(Q·Kᵀ/√8)·V`, two products of computed tensors.
fn attention() -> Vec<u8> {
    let mut b = Builder::new(24);
    let x = b.input("x", &[1, 4, 8]);
    let y = common::onnx::attention_head(&mut b, &x, 8);
    b.finish(&[&y])
}

/// The largest |integer − float| of the output over the 4 fresh samples, absolute.
fn worst_error(graph: &Graph, bytes: &[u8], fresh: &[Vec<Vec<f64>>]) -> f64 {
    let imported = import(bytes).unwrap();
    let g = &imported.graph;
    fresh
        .iter()
        .map(|s| {
            let float = &g.forward(s)[g.outputs[0]];
            let ints = graph.run_float(s).unwrap().remove(0);
            float.iter().zip(&ints).fold(0f64, |m, (f, q)| m.max((f - q).abs()))
        })
        .fold(0.0, f64::max)
}

#[test]
fn softmax_and_log_softmax_prove_and_match_the_float_model() {
    // (model, 8-bit and 16-bit bounds on |integer − float|). Measured: see the eprintln. The
    // exp (and log) tables read 8-bit values at either width, so 16 bits gain little.
    for (name, bytes, bound8, bound16) in [
        ("softmax opset 13", softmax("Softmax", 13, None), 0.02, 0.02),
        ("softmax opset 11 axis 1", softmax("Softmax", 11, Some(1)), 0.02, 0.02),
        ("log-softmax", softmax("LogSoftmax", 13, Some(-1)), 0.2, 0.2),
    ] {
        for (options, bound) in [(Options::default(), bound8), (Options::accurate(), bound16)] {
            let (graph, _, fresh) = compile_with(&bytes, &options);
            let worst = worst_error(&graph, &bytes, &fresh);
            eprintln!("{name}, {}-bit: worst |integer − float| {worst:.4}", options.activation_bits);
            assert!(worst <= bound, "{name}: {worst}");
            prove_matches_reference(&graph, &fresh[0], (Visibility::Private, Visibility::Public));
        }
    }
}

#[test]
fn layer_norm_and_its_exported_pattern_prove_and_match_the_float_model() {
    // Measured: the op 0.044 (8-bit) and 0.0002 (16-bit); the pattern 0.32 at both widths — one
    // fresh sample lies beyond the calibrated output range and clamps (0.07 before the clamp).
    for (name, bytes, bounds) in [("LayerNormalization", layer_norm(), (0.06, 0.002)), ("pattern", layer_norm_pattern(), (0.35, 0.35))] {
        for options in [Options::default(), Options::accurate()] {
            let (graph, _, fresh) = compile_with(&bytes, &options);
            assert!(graph.nodes().iter().any(|n| matches!(n.op, Op::Div { .. })), "{name} divides");
            let worst = worst_error(&graph, &bytes, &fresh);
            eprintln!("{name}, {}-bit: worst |integer − float| {worst:.4}", options.activation_bits);
            assert!(worst <= if options.activation_bits == 8 { bounds.0 } else { bounds.1 }, "{name}: {worst}");
            prove_matches_reference(&graph, &fresh[0], (Visibility::Private, Visibility::Public));
        }
    }
}

#[test]
fn attention_multiplies_two_computed_tensors_and_proves() {
    // Head width 3: inner products of 3 terms leave one pair of the last row unused.
    let mut b = Builder::new(26);
    let x = b.input("x", &[1, 4, 3]);
    let y = common::onnx::attention_head(&mut b, &x, 3);
    let (graph, _, fresh) = compile_with(&b.finish(&[&y]), &Options::accurate());
    prove_matches_reference(&graph, &fresh[0], (Visibility::Private, Visibility::Public));
    for options in [Options::default(), Options::accurate()] {
        let (graph, _, fresh) = compile_with(&attention(), &options);
        let worst = worst_error(&graph, &attention(), &fresh);
        let params = GraphParams::new(graph.clone(), DEFAULT_WIDTH, Visibility::Private, Visibility::Public).unwrap();
        eprintln!("attention, {}-bit: worst |integer − float| {worst:.4}, rows (dot, range, tables) {:?}, k {}", options.activation_bits, params.rows(), params.k());
        prove_matches_reference(&graph, &fresh[0], (Visibility::Private, Visibility::Public));
    }
}

/// The softmax graph, an input and the first division output whose quotient is away from the
/// clamp bounds.
fn division_case() -> (Graph, Vec<Vec<i64>>, usize) {
    let (graph, _, fresh) = compile(&softmax("Softmax", 13, None));
    let q = graph.quantize_inputs(&fresh[0]).unwrap();
    let (wire, _) = first_wire(&graph, &q, |s| match s {
        Step::Div { outputs, .. } => Some(outputs.clone()),
        _ => None,
    });
    (graph, q, wire)
}

#[test]
fn a_quotient_off_by_one_leaves_the_remainder_out_of_range() {
    let (graph, q, wire) = division_case();
    let vis = (Visibility::Private, Visibility::Public);
    for delta in [1, -1] {
        assert_fails(mock(&graph, &q, vis, Some(GraphTamper::DivQuotient { wire, delta })), "Lookup range: (v, bits) ∈ {v < 2^bits}");
    }
}

#[test]
fn a_wrong_remainder_breaks_the_division_identity() {
    let (graph, q, wire) = division_case();
    assert_fails(mock(&graph, &q, (Visibility::Private, Visibility::Public), Some(GraphTamper::DivRemainder { wire })), "div: a·2^(s+1) = q·b + r");
}

#[test]
fn a_divisor_of_zero_has_no_witness() {
    let (graph, q, wire) = division_case();
    let failures = mock(&graph, &q, (Visibility::Private, Visibility::Public), Some(GraphTamper::DivByZero { wire })).unwrap_err();
    // `b - 1 - r = d` needs `d < 0`: the range lookup fails (and the copy of `b` too).
    assert!(failures.iter().any(|f| f.contains("Lookup range: (v, bits) ∈ {v < 2^bits}")), "{failures:#?}");
}

#[test]
fn a_divisor_that_can_be_zero_or_negative_is_refused_at_calibration() {
    let mut b = Builder::new(25);
    let x = b.input("x", &[1, 4]);
    let w = b.random(&[4, 4], 1.0);
    let d = b.node("MatMul", &[&x, &w], vec![]);
    let y = b.node("Div", &[&x, &d], vec![]);
    let bytes = b.finish(&[&y]);
    let imported = import(&bytes).expect("imports");
    let calibration = samples(&imported.graph, 16, 1);
    let err = quantize(&imported.graph, &calibration, &Options::default(), &imported.hints).expect_err("refused");
    assert!(err.to_string().contains("division needs a divisor that is always positive"), "{err}");
}


#[test]
fn a_square_root_off_by_one_leaves_a_difference_out_of_range() {
    let (graph, _, fresh) = compile_with(&layer_norm(), &Options::accurate());
    let q = graph.quantize_inputs(&fresh[0]).unwrap();
    let (wire, _) = first_wire(&graph, &q, |s| match s {
        Step::Sqrt { outputs, .. } => Some(outputs.clone()),
        _ => None,
    });
    let vis = (Visibility::Private, Visibility::Public);
    for delta in [1, -1] {
        assert_fails(mock(&graph, &q, vis, Some(GraphTamper::SqrtRoot { wire, delta })), "Lookup range: (v, bits) ∈ {v < 2^bits}");
    }
    // The root's own cell changed alone (its differences left honest) breaks the gate.
    let params = GraphParams::new(graph.clone(), DEFAULT_WIDTH, vis.0, vis.1).unwrap();
    let root = params.plan.steps.iter().find_map(|s| if let Step::Sqrt { rows, .. } = s { Some(rows[0].1) } else { None }).unwrap();
    assert_fails(mock(&graph, &q, vis, Some(GraphTamper::Wire { wire: root, delta: 1 })), "sqrt: A - q² = e");
}


/// Real key generation, proof and verification (KZG, development SRS) of the attention head
/// and of a LayerNorm: the division and square-root gates hold beyond MockProver.
#[test]
fn attention_and_layer_norm_prove_and_verify_with_kzg() {
    for (name, bytes) in [("attention", attention()), ("layer norm", layer_norm())] {
        let (graph, _, fresh) = compile_with(&bytes, &Options::accurate());
        let (_, forged) = common::prove_and_verify(&graph, graph.quantize_inputs(&fresh[0]).unwrap());
        assert!(!forged, "{name}: a changed output must not verify");
    }
}

#[test]
fn a_changed_inner_product_breaks_its_gate() {
    let (graph, _, fresh) = compile(&attention());
    let q = graph.quantize_inputs(&fresh[0]).unwrap();
    let (wire, _) = first_wire(&graph, &q, |s| match s {
        Step::Inner { outputs, .. } => Some(outputs.clone()),
        _ => None,
    });
    assert_fails(mock(&graph, &q, (Visibility::Private, Visibility::Public), Some(GraphTamper::DotResult { wire, delta: 3 })), "inner next row: acc' = acc + Σ w·(a");
}

/// Range lanes: a LayerNorm's blocks (divisions, roots, requantizations) spread over two and
/// three lanes; the honest witness verifies, and a wrong quotient, root or output whose block
/// sits in a later lane fails that lane's lookup or gates.
#[test]
fn range_blocks_spread_over_lanes_and_every_lane_is_checked() {
    let (graph, _, fresh) = compile_with(&layer_norm(), &Options::accurate());
    let q = graph.quantize_inputs(&fresh[0]).unwrap();
    let vis = (Visibility::Private, Visibility::Public);
    let one = GraphParams::new(graph.clone(), DEFAULT_WIDTH, vis.0, vis.1).unwrap();
    let (_, one_lane_rows) = one.range_layout();
    for lanes in [2, 3] {
        let params = one.clone().with_lanes(lanes).unwrap();
        let (at, rows) = params.range_layout();
        assert!(rows * lanes < one_lane_rows + lanes * 16, "{lanes} lanes: {rows} rows vs {one_lane_rows} in one");
        for l in 0..lanes {
            assert!(at.iter().flatten().any(|&(lane, _)| lane == l), "lane {l} holds no block");
        }
        mock_params(params.clone(), &graph, &q, None).expect("the honest witness verifies");
        // The first output of each kind of step placed in a lane after the first.
        let later = |pick: &dyn Fn(&Step) -> Option<Vec<usize>>| {
            params.plan.steps.iter().zip(&at).find_map(|(s, at)| pick(s)?.into_iter().zip(at).find(|(_, &(lane, _))| lane > 0).map(|(w, _)| w)).expect("a later lane holds one")
        };
        let div = later(&|s| if let Step::Div { outputs, .. } = s { Some(outputs.clone()) } else { None });
        let failures = mock_params(params.clone(), &graph, &q, Some(GraphTamper::DivQuotient { wire: div, delta: 1 })).unwrap_err();
        assert!(failures.iter().any(|f| f.contains("Lookup range (another lane)")), "{lanes} lanes, quotient: {failures:#?}");
        let root = params.plan.steps.iter().zip(&at).find_map(|(s, at)| match s {
            Step::Sqrt { rows, .. } => rows.iter().zip(at).find(|(_, &(lane, _))| lane > 0).map(|(r, _)| r.1),
            _ => None,
        });
        if let Some(root) = root {
            assert_fails(mock_params(params.clone(), &graph, &q, Some(GraphTamper::Wire { wire: root, delta: 1 })), "sqrt: A - q² = e");
        }
        let linear = later(&|s| if let Step::Linear { outputs, .. } = s { Some(outputs.clone()) } else { None });
        assert_fails(mock_params(params.clone(), &graph, &q, Some(GraphTamper::Wire { wire: linear, delta: 1 })), "requant");
    }
    for lanes in [0, section9::circuit::MAX_LANES + 1] {
        let err = one.clone().with_lanes(lanes).expect_err("refused");
        assert!(err.to_string().contains("range lanes"), "{err}");
    }
}

/// Dot rows of `M` accumulators: a convolution's output channels at one position (and a dense
/// layer's outputs) share their rows, so the dot group shrinks; the honest witness verifies at
/// every `M`, and a wrong output computed by a later accumulator fails that accumulator's gate.
#[test]
fn outputs_sharing_their_inputs_share_dot_rows_and_every_accumulator_is_checked() {
    use section9::circuit::graph_plan::shared_groups;
    let (graph, _, fresh) = compile(&lenet());
    let q = graph.quantize_inputs(&fresh[0]).unwrap();
    let one = GraphParams::new(graph.clone(), DEFAULT_WIDTH, Visibility::Private, Visibility::Public).unwrap();
    let (one_rows, _, _) = one.rows();
    for m in 2..=section9::circuit::MAX_ACCUMULATORS {
        let params = one.clone().with_accumulators(m).unwrap();
        let (rows, _, _) = params.rows();
        assert!(rows < one_rows, "M = {m}: {rows} dot rows vs {one_rows} with one accumulator");
        let cs = params.constraint_system();
        assert_eq!(cs.num_advice_columns(), one.constraint_system().num_advice_columns() + m - 1, "one advice column per accumulator");
        mock_params(params.clone(), &graph, &q, None).unwrap_or_else(|f| panic!("M = {m}: the honest witness verifies: {f:#?}"));
        // The first output each later accumulator computes, in a step whose rows it shares.
        for position in 1..m {
            let wire = params.plan.steps.iter().find_map(|s| match s {
                Step::Linear { dots, outputs, .. } => shared_groups(dots, m).iter().find_map(|g| g.get(position).map(|&i| outputs[i])),
                _ => None,
            });
            let wire = wire.expect("a group that fills the accumulator");
            let failures = mock_params(params.clone(), &graph, &q, Some(GraphTamper::DotResult { wire, delta: 3 })).unwrap_err();
            let gate = format!("dot accumulator {} ", position + 1);
            assert!(failures.iter().any(|f| f.contains(&gate)), "M = {m}, accumulator {}: {failures:#?}", position + 1);
            assert!(failures.iter().all(|f| !f.contains("dot first row") && !f.contains("dot next row")), "only that accumulator fails: {failures:#?}");
        }
    }
    for m in [0, section9::circuit::MAX_ACCUMULATORS + 1] {
        let err = one.clone().with_accumulators(m).expect_err("refused");
        assert!(err.to_string().contains("accumulators a dot row"), "{err}");
    }
}

/// The compiler adds lanes only when they lower `k`: an MLP (few outputs) keeps one; a
/// LayerNorm over 256 positions (divisions and roots: its range group several times its dot
/// group) takes more, and proves in them.
#[test]
fn auto_layout_adds_lanes_only_when_they_lower_k() {
    let (mlp_graph, _, _) = compile(&mlp());
    let mlp_params = GraphParams::auto_layout(mlp_graph, Visibility::Private, Visibility::Public, Weights::Fixed).unwrap();
    assert_eq!(mlp_params.lanes, 1);
    let (graph, _, fresh) = compile_with(&layer_norm_of(256), &Options::accurate());
    let one = GraphParams::new(graph.clone(), DEFAULT_WIDTH, Visibility::Private, Visibility::Public).unwrap();
    let auto = GraphParams::auto_layout(graph.clone(), Visibility::Private, Visibility::Public, Weights::Fixed).unwrap();
    let (dot, range, _) = one.rows();
    eprintln!("layer norm: one lane (dot, range) rows ({dot}, {range}), k {}; auto: {} lanes, W {}, k {}", one.k(), auto.lanes, auto.width, auto.k());
    assert!(auto.lanes > 1 && auto.k() < one.k(), "{} lanes at k {}", auto.lanes, auto.k());
    let fewer = auto.clone().with_lanes(auto.lanes - 1).unwrap();
    assert!(fewer.k() > auto.k(), "a lane that does not lower k is not added");
    mock_params(auto, &graph, &graph.quantize_inputs(&fresh[0]).unwrap(), None).expect("the honest witness verifies");
}

/// Requantization kinds with one block layout share one gate that reads their shift and clamp
/// range from a fixed column; a wrong output of each of two such kinds fails that gate.
#[test]
fn kinds_of_one_layout_share_a_gate_and_each_is_checked() {
    let (graph, _, fresh) = compile_with(&attention(), &Options::accurate());
    let q = graph.quantize_inputs(&fresh[0]).unwrap();
    let vis = (Visibility::Private, Visibility::Public);
    let params = GraphParams::new(graph.clone(), DEFAULT_WIDTH, vis.0, vis.1).unwrap();
    let layout = |k: &section9::circuit::graph_plan::RequantKind| (k.rem_limbs, k.y_limbs(), k.dist_limbs(), k.narrow());
    let kinds = params.plan.kinds();
    let (a, b) = kinds
        .iter()
        .enumerate()
        .find_map(|(i, a)| kinds[i + 1..].iter().find(|b| layout(b) == layout(a)).map(|b| (*a, *b)))
        .expect("the 16-bit attention head has two kinds of one layout");
    let trace = GraphTrace::new(&params.plan, &graph, &q);
    for kind in [a, b] {
        let outputs = params.plan.steps.iter().find(|s| s.kind() == Some(kind)).and_then(|s| match s {
            Step::Linear { outputs, .. } | Step::Mul { outputs, .. } | Step::Div { outputs, .. } | Step::Sqrt { outputs, .. } | Step::Inner { outputs, .. } => Some(outputs.clone()),
            _ => None,
        });
        let outputs = outputs.expect("a step of the kind");
        // An output strictly inside its clamp range, so +1 is still a stored value.
        let wire = outputs.iter().copied().find(|&w| trace.wires[w] > 0 && trace.wires[w] < kind.hi - kind.lo).unwrap_or(outputs[0]);
        assert_fails(mock(&graph, &q, vis, Some(GraphTamper::Wire { wire, delta: 1 })), "shift and clamp from fixed");
    }
}
