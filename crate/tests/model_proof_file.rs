//! The model proof file states exactly what was proven: a stated output that only rounds to
//! the proven value is refused, and so is a dot-row width no compiler would choose.

mod common;

use common::onnx::Builder;
use halo2_proofs::halo2curves::bn256::Fr;
use section9::circuit::graph::{GraphParams, Visibility, Weights};
use section9::circuit::graph_plan::{GraphTrace, PlanError};
use section9::circuit::{MAX_LANES, MAX_WIDTH};
use section9::graph::quantize::{quantize, Options};
use section9::graph::{import, Graph, TensorInfo};
use section9::prover::graph::{ModelProofError, ModelProofFile};

/// `x: [1, 4]` → Gemm 4×3, calibrated on a few samples.
fn graph() -> Graph {
    let mut b = Builder::new(7);
    let x = b.input("x", &[1, 4]);
    let w = b.random(&[4, 3], 0.8);
    let bias = b.random(&[3], 0.2);
    let y = b.node("Gemm", &[&x, &w, &bias], vec![]);
    let imported = import::import(&b.finish(&[&y])).unwrap();
    let samples: Vec<Vec<Vec<f64>>> = (0..8).map(|s| vec![(0..4).map(|i| ((s * 4 + i) as f64 * 0.37).sin()).collect()]).collect();
    quantize(&imported.graph, &samples, &Options::default(), &imported.hints).unwrap().0
}

/// A file for `graph` with public outputs, its instances computed from the trace; the proof
/// bytes are a placeholder (reading a file checks the statement before any proof).
fn file(graph: &Graph, circuit: &GraphParams) -> ModelProofFile {
    let inputs = graph.quantize_inputs(&[vec![0.5, -0.25, 0.75, 0.125]]).unwrap();
    let trace = GraphTrace::new(&circuit.plan, graph, &inputs);
    let instances: Vec<Fr> = circuit.instances_of(&trace.wires, Fr::zero(), &[0; 20]);
    let t = graph.outputs()[0];
    let outputs = vec![trace.output(&circuit.plan, 0).iter().map(|s| s + graph.tensors()[t].lo).collect()];
    ModelProofFile::new(graph, circuit, circuit.k(), true, &inputs, &outputs, &instances, &[1, 2, 3])
}

#[test]
fn the_honest_file_checks() {
    let g = graph();
    let circuit = GraphParams::new(g.clone(), 5, Visibility::Private, Visibility::Public).unwrap();
    assert!(file(&g, &circuit).check(&g, &circuit).is_ok());
}

#[test]
fn a_stated_output_that_only_rounds_to_the_proven_one_is_refused() {
    let g = graph();
    let circuit = GraphParams::new(g.clone(), 5, Visibility::Private, Visibility::Public).unwrap();
    let honest = file(&g, &circuit);
    let info = &g.tensors()[g.outputs()[0]];
    // A quarter of a step off: the same value after rounding, a different statement.
    let mut lying = honest.clone();
    let stated = lying.outputs.as_mut().unwrap();
    stated[0][1] += 0.25 * 2f64.powi(-info.frac_bits);
    let err = lying.check(&g, &circuit).unwrap_err();
    assert!(matches!(err, ModelProofError::Inexact { side: "outputs", tensor: 0, index: 1, .. }), "{err}");
    assert!(err.to_string().starts_with("public outputs 0, value 1: "), "{err}");
    // Far outside the range: clamping would have read it as the top value.
    for huge in [1e300, f64::INFINITY, f64::NAN] {
        let mut lying = honest.clone();
        lying.outputs.as_mut().unwrap()[0][0] = huge;
        assert!(matches!(lying.check(&g, &circuit), Err(ModelProofError::Inexact { index: 0, .. })));
    }
}

#[test]
fn exact_reading_refuses_what_rounding_accepts() {
    let info = TensorInfo { name: "y".into(), shape: vec![4], frac_bits: 4, lo: -128, hi: 127 };
    // The old reading: round and clamp.
    assert_eq!(info.quantize(1e300), 127);
    assert_eq!(info.quantize(0.3125 + 1e-9), 5);
    // The exact one.
    assert_eq!(info.exact(127.0 / 16.0), Some(127));
    assert_eq!(info.exact(-8.0), Some(-128));
    assert_eq!(info.exact(1e300), None);
    assert_eq!(info.exact(0.30000001), None);
    assert_eq!(info.exact(0.3125), Some(5));
    assert_eq!(info.exact(8.0), None, "one step above hi");
    assert_eq!(info.exact(f64::MIN_POSITIVE), None);
    // A scale so coarse that a tiny value scales to 0.0: the round trip refuses it.
    let coarse = TensorInfo { frac_bits: -40, ..info };
    assert_eq!(coarse.exact(f64::MIN_POSITIVE * 0.5), None);
}

#[test]
fn a_width_above_the_compilers_bound_is_refused_before_any_column_exists() {
    let g = graph();
    for width in [MAX_WIDTH + 1, 1 << 40, usize::MAX] {
        let err = GraphParams::new(g.clone(), width, Visibility::Private, Visibility::Public).unwrap_err();
        assert!(matches!(err, PlanError::Width { width: w, max: MAX_WIDTH } if w == width), "{err}");
        assert_eq!(err.to_string(), format!("a dot row of width {width} is wider than the {MAX_WIDTH} the compiler ever chooses"));
    }
    assert_eq!(GraphParams::new(g.clone(), MAX_WIDTH, Visibility::Private, Visibility::Public).unwrap().width, MAX_WIDTH);
    // The compiler's own search stays within the bound.
    assert!(GraphParams::auto_layout(g, Visibility::Private, Visibility::Public, Weights::Fixed).unwrap().width <= MAX_WIDTH);
}

/// The file names the circuit's range lanes; files written before lanes existed read as one
/// lane, and a count no compiler would choose is refused before any column exists.
#[test]
fn the_file_names_its_lanes_and_a_count_out_of_bounds_is_refused() {
    let g = graph();
    let circuit = GraphParams::new(g.clone(), 5, Visibility::Private, Visibility::Public).unwrap().with_lanes(2).unwrap();
    let honest = file(&g, &circuit);
    let json = honest.to_json();
    assert_eq!(ModelProofFile::from_json(&json).unwrap().lanes, 2);
    let mut old: serde_json::Value = serde_json::from_str(&json).unwrap();
    old.as_object_mut().unwrap().remove("lanes");
    assert_eq!(ModelProofFile::from_json(&old.to_string()).unwrap().lanes, 1);
    for lanes in [0, MAX_LANES + 1, usize::MAX] {
        let err = GraphParams::new(g.clone(), 5, Visibility::Private, Visibility::Public).unwrap().with_lanes(lanes).unwrap_err();
        assert!(matches!(err, PlanError::Lanes { lanes: l, max: MAX_LANES } if l == lanes), "{err}");
        assert_eq!(err.to_string(), format!("{lanes} range lanes: a circuit has 1 to {MAX_LANES}"));
    }
}

/// The file names a dot row's accumulators when there are several; files without the field
/// (every file written before accumulators existed, and every one-accumulator file) read as
/// one, and a count out of bounds is refused by name.
#[test]
fn the_file_names_its_accumulators_and_a_count_out_of_bounds_is_refused() {
    use section9::circuit::MAX_ACCUMULATORS;
    let g = graph();
    let one = GraphParams::new(g.clone(), 5, Visibility::Private, Visibility::Public).unwrap();
    let json = file(&g, &one).to_json();
    assert!(!json.contains("accumulators"), "a one-accumulator file is written as before");
    assert_eq!(ModelProofFile::from_json(&json).unwrap().accumulators, 1);
    let shared = file(&g, &one.clone().with_accumulators(3).unwrap());
    assert_eq!(ModelProofFile::from_json(&shared.to_json()).unwrap().accumulators, 3);
    for m in [0, MAX_ACCUMULATORS + 1, usize::MAX] {
        let err = one.clone().with_accumulators(m).unwrap_err();
        assert!(matches!(err, PlanError::Accumulators { accumulators, max: MAX_ACCUMULATORS } if accumulators == m), "{err}");
        assert_eq!(err.to_string(), format!("{m} accumulators a dot row: a circuit has 1 to {MAX_ACCUMULATORS}"));
    }
}
