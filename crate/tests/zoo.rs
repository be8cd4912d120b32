//! The end-to-end models of `model/zoo` (MLP, LeNet-style CNN, depthwise-separable block) and
//! the generator, compiled and run, against onnxruntime's outputs (written by
//! `model/zoo/make.py`).

mod common;

use section9::graph::import::{check_with_tract, import};
use section9::graph::input;
use section9::graph::quantize::{quantize, Options};

#[derive(serde::Deserialize)]
struct Expected {
    outputs: Vec<Vec<f64>>,
}

/// Compiles `model/zoo/<name>.onnx` with its calibration file and returns the largest
/// |integer − onnxruntime| over the largest |onnxruntime| output, and the same in steps.
fn zoo_error(name: &str) -> (f64, f64) {
    zoo_error_with(name, &Options::default())
}

fn zoo_error_with(name: &str, options: &Options) -> (f64, f64) {
    let path = |suffix: &str| common::repo_path(&format!("model/zoo/{name}{suffix}"));
    let bytes = std::fs::read(path(".onnx")).unwrap();
    let imported = import(&bytes).unwrap();
    let g = &imported.graph;
    let lens: Vec<usize> = g.inputs.iter().map(|&t| g.tensors[t].len()).collect();
    let calibration = input::parse(&std::fs::read_to_string(path(".calibration.json")).unwrap(), &lens).unwrap();
    let sample = input::parse(&std::fs::read_to_string(path(".input.json")).unwrap(), &lens).unwrap().remove(0);
    let expected: Expected = serde_json::from_str(&std::fs::read_to_string(path(".expected.json")).unwrap()).unwrap();
    check_with_tract(&bytes, g, &calibration[..4]).unwrap();
    let (graph, _) = quantize(g, &calibration, options, &imported.hints).unwrap();
    let got = graph.run_float(&sample).unwrap();
    let step = 2f64.powi(-graph.tensors()[graph.outputs()[0]].frac_bits);
    let peak = expected.outputs[0].iter().fold(0f64, |m, v| m.max(v.abs()));
    let err = got[0].iter().zip(&expected.outputs[0]).fold(0f64, |m, (a, b)| m.max((a - b).abs()));
    (err / peak, err / step)
}

// 8-bit activations and weights. Measured: mlp 1.4, lenet 1.9, separable 4.8 steps of the
// output scale (2.0%, 3.2%, 2.8% of the largest output). The separable block's error comes
// from int8 activations summed over a residual and a 144-value average.
#[test]
fn mlp_matches_onnxruntime_within_3_steps() {
    let (rel, steps) = zoo_error("mlp");
    assert!(steps <= 3.0, "{steps} steps ({rel})");
}

#[test]
fn lenet_matches_onnxruntime_within_3_steps() {
    let (rel, steps) = zoo_error("lenet");
    assert!(steps <= 3.0, "{steps} steps ({rel})");
}

#[test]
fn separable_block_matches_onnxruntime_within_8_steps() {
    let (rel, steps) = zoo_error("separable");
    assert!(steps <= 8.0, "{steps} steps ({rel})");
}

/// 16-bit activations and weights (what `section9 compile` does by default).
#[test]
fn sixteen_bit_models_match_onnxruntime_within_a_tenth_of_a_percent() {
    for name in ["mlp", "lenet", "separable"] {
        let (rel, steps) = zoo_error_with(name, &Options::accurate());
        eprintln!("{name}: {rel} ({steps} steps)");
        assert!(rel <= 0.001, "{name}: {rel} ({steps} steps)");
    }
}

/// The generator compiles with its own (trained, 8-bit) scales; against the float graph
/// onnxruntime runs it differs by its activation rounding, which training simulated.
#[test]
fn the_generator_matches_onnxruntime_up_to_its_trained_rounding() {
    let bytes = common::gan_bytes();
    let imported = import(&bytes).unwrap();
    let g = &imported.graph;
    let sample = input::parse(&std::fs::read_to_string(common::repo_path("model/zoo/gan.input.json")).unwrap(), &[32]).unwrap();
    let expected: Expected = serde_json::from_str(&std::fs::read_to_string(common::repo_path("model/zoo/gan.expected.json")).unwrap()).unwrap();
    let (graph, _) = quantize(g, &sample, &Options::default(), &imported.hints).unwrap();
    let got = graph.run_float(&sample[0]).unwrap();
    let step = 2f64.powi(-graph.tensors()[graph.outputs()[0]].frac_bits);
    let diffs: Vec<f64> = got[0].iter().zip(&expected.outputs[0]).map(|(a, b)| (a - b).abs() / step).collect();
    let max = diffs.iter().fold(0f64, |m, &d| m.max(d));
    let mean = diffs.iter().sum::<f64>() / diffs.len() as f64;
    // Measured: max 13.1, mean 0.90 steps of 2^-7 over the 3,072 picture values.
    assert!(max <= 16.0 && mean <= 1.5, "max {max}, mean {mean} steps");
}
