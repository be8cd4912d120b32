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
    let text = |suffix: &str| std::fs::read_to_string(common::repo_path(&format!("model/zoo/{name}{suffix}"))).unwrap();
    let bytes = std::fs::read(common::repo_path(&format!("model/zoo/{name}.onnx"))).unwrap();
    error_against_onnxruntime(name, &bytes, [&text(".calibration.json"), &text(".input.json"), &text(".expected.json")], options, false)
}

/// Imports `bytes`, checks the reading against tract (and, with `float_check`, the float
/// graph against onnxruntime to float rounding), calibrates and returns the integer graph's
/// largest |integer − onnxruntime| over the largest output, and the same in output steps.
/// `files`: the calibration, input and expected-output files' texts.
fn error_against_onnxruntime(what: &str, bytes: &[u8], files: [&str; 3], options: &Options, float_check: bool) -> (f64, f64) {
    let imported = import(bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
    let g = &imported.graph;
    let lens: Vec<usize> = g.inputs.iter().map(|&t| g.tensors[t].len()).collect();
    let calibration = input::parse(files[0], &lens).unwrap();
    let sample = input::parse(files[1], &lens).unwrap().remove(0);
    let expected: Expected = serde_json::from_str(files[2]).unwrap();
    check_with_tract(bytes, g, &calibration[..4]).unwrap();
    if float_check {
        // The float reading is the model: it matches onnxruntime to float rounding.
        let float = g.forward(&sample);
        for (a, b) in float[g.outputs[0]].iter().zip(&expected.outputs[0]) {
            assert!((a - b).abs() <= 1e-4, "{what}: float reading {a} vs onnxruntime {b}");
        }
    }
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
    // Measured: max 30.0, mean 2.41 steps of 2^-7 over the 3,072 picture values (the training
    // code's simulation finds the same picture 37.1 dB from the float one); a wrong weight,
    // shift or layout is off by tens of steps on average.
    assert!(max <= 40.0 && mean <= 3.0, "max {max}, mean {mean} steps");
}

/// Compiles `model/zoo/torch_<model>_<exporter>.onnx` (written by `model/zoo/export_torch.py`
/// with PyTorch's classic or dynamo exporter) and returns the largest |integer − onnxruntime|
/// over the largest |onnxruntime| output, and the same in steps of the output scale.
fn torch_error(model: &str, exporter: &str, options: &Options) -> (f64, f64) {
    let data = |suffix: &str| std::fs::read_to_string(common::repo_path(&format!("model/zoo/torch_{model}{suffix}"))).unwrap();
    let bytes = std::fs::read(common::repo_path(&format!("model/zoo/torch_{model}_{exporter}.onnx"))).unwrap();
    let files = [data(".calibration.json"), data(".input.json"), data(&format!("_{exporter}.expected.json"))];
    error_against_onnxruntime(&format!("{model} ({exporter})"), &bytes, [&files[0], &files[1], &files[2]], options, true)
}

/// PyTorch exports, both exporters: an MLP with GELU (erf and tanh), a MobileNet-style block
/// (HardSwish, squeeze-excite with HardSigmoid, adaptive average pooling), a ResNet block and
/// a Linear over `[1, seq, features]` with GELU and a mean over the sequence. Measured
/// (largest error over the largest output; 8-bit / 16-bit activations and weights):
///
/// | model    | 8-bit            | 16-bit             |
/// |----------|------------------|--------------------|
/// | gelu_mlp | 1.39% (0.9 step) | < 0.01% (0.6 step) |
/// | mobile   | 1.10% (0.9 step) | 0.01% (1.3 steps)  |
/// | resnet   | 0.72% (0.8 step) | < 0.01% (0.7 step) |
/// | seq      | 3.35% (1.6 step) | 0.01% (0.8 step)   |
///
/// The two exporters' files compile to the same integer graph (the classic exporter's GELU
/// patterns fuse into the functions the dynamo exporter's `Gelu` ops are), so the numbers are
/// the same for both. At 16 bits GELU is interpolated between table points and HardSwish is
/// exact (see crate/src/graph/interpolate.rs); through 8-bit tables they were 0.95%, 0.10%,
/// 0.004% and 0.48%.
#[test]
fn pytorch_exports_match_onnxruntime() {
    let problems = torch_problems(&["gelu_mlp", "mobile", "resnet", "seq"], (0.04, 0.001));
    assert!(problems.is_empty(), "{problems:?}");
}

/// Both exports of each model at 8 and 16 bits: the ones whose relative error exceeds its
/// tolerance (8-bit, 16-bit).
fn torch_problems(models: &[&str], tolerances: (f64, f64)) -> Vec<String> {
    let mut problems = Vec::new();
    for model in models {
        for exporter in ["classic", "dynamo"] {
            for (options, tolerance) in [(Options::default(), tolerances.0), (Options::accurate(), tolerances.1)] {
                let (rel, steps) = torch_error(model, exporter, &options);
                eprintln!("{model} ({exporter}, {}-bit): {:.3}% ({steps:.1} steps)", options.activation_bits, rel * 100.0);
                if rel > tolerance {
                    problems.push(format!("{model} ({exporter}, {}-bit): {rel}", options.activation_bits));
                }
            }
        }
    }
    problems
}

/// PyTorch's `nn.TransformerEncoder` (2 layers, d_model 16, 2 heads, feed-forward 32) over
/// `[1, 8, 16]`, and a character model of that size (one-hot characters → embedding →
/// encoder → LayerNorm → logits), both exporters: attention's two products of computed
/// tensors, Softmax, LayerNormalization. Measured (largest error over the largest output;
/// both exporters' files compile to the same integer graph):
///
/// | model       | 8-bit            | 16-bit            |
/// |-------------|------------------|-------------------|
/// | transformer | 3.09% (2.1 steps) | 0.06% (9.9 steps) |
/// | char_lm     | 4.38% (2.3 steps) | 0.02% (3.2 steps) |
///
/// (At 16 bits the Softmax's exp is interpolated between table points; through an 8-bit table
/// it was 0.39% and 0.14%.)
#[test]
fn pytorch_transformers_match_onnxruntime() {
    let problems = torch_problems(&["transformer", "char_lm"], (0.06, 0.002));
    assert!(problems.is_empty(), "{problems:?}");
}

/// The transformer fixture's circuit (16-bit activations, the compiler's default) is satisfied
/// by its witness under MockProver, and its outputs are the integer reference's.
#[test]
fn the_transformer_circuit_is_satisfied() {
    use halo2_proofs::dev::MockProver;
    use halo2_proofs::halo2curves::bn256::Fr;
    use section9::circuit::graph::{GraphCircuit, GraphParams, GraphWitness, Visibility, Weights};
    use section9::circuit::graph_plan::GraphTrace;

    let data = |suffix: &str| std::fs::read_to_string(common::repo_path(&format!("model/zoo/torch_transformer{suffix}"))).unwrap();
    let bytes = std::fs::read(common::repo_path("model/zoo/torch_transformer_dynamo.onnx")).unwrap();
    let imported = import(&bytes).unwrap();
    let calibration = input::parse(&data(".calibration.json"), &[128]).unwrap();
    let sample = input::parse(&data(".input.json"), &[128]).unwrap().remove(0);
    let (graph, _) = quantize(&imported.graph, &calibration, &Options::accurate(), &imported.hints).unwrap();
    let q = graph.quantize_inputs(&sample).unwrap();
    let params = GraphParams::auto_layout(graph.clone(), Visibility::Private, Visibility::Public, Weights::Fixed).unwrap();
    let trace = GraphTrace::new(&params.plan, &graph, &q);
    let values = graph.run(&q).unwrap();
    let out = graph.outputs()[0];
    let lo = graph.tensors()[out].lo;
    assert_eq!(trace.output(&params.plan, 0), values[out].iter().map(|v| v - lo).collect::<Vec<_>>(), "circuit witness vs integer reference");
    let instances = params.instances_of(&trace.wires, Fr::zero(), &[0; 20]);
    let k = params.k();
    eprintln!("transformer: W {}, k {k}, rows (dot, range, tables) {:?}", params.width, params.rows());
    let circuit = GraphCircuit { params, witness: Some(GraphWitness::new(q)) };
    MockProver::run(k, &circuit, vec![instances]).unwrap().verify().unwrap();
}
