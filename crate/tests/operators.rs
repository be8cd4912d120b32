//! The operators PyTorch's exporters emit, each on a tiny model built in code: constant
//! folding of shape arithmetic, the table activations (and the fused GELU), broadcasting with
//! constants, reductions, Gather/Slice/Split/Expand, linear Resize, opset 21 / IR 10. Every
//! model is read, checked against tract, calibrated and run by the integer reference; the
//! float reading is compared with exact expected values, the integer one with them within a
//! stated number of output steps. Hostile attributes are errors naming the node, not panics.

mod common;

use common::onnx::{af, ai, ais, astr, Builder};
use prost::Message as _;
use section9::graph::float::{FloatOp, Func};
use section9::graph::import::{check_with_tract, import};
use section9::graph::quantize::{quantize, Options};

/// Imports `bytes`, checks the float reading against tract on `input` and 8 random samples
/// (uniform in [-1, 1)), calibrates on them with `options` and returns (float, integer)
/// outputs on `input` and the output step.
fn run_with(bytes: &[u8], input: &[f64], options: &Options) -> (Vec<f64>, Vec<f64>, f64) {
    let imported = import(bytes).expect("imports");
    let g = &imported.graph;
    let mut b = Builder::new(3);
    let mut samples: Vec<Vec<Vec<f64>>> = (0..8).map(|_| vec![(0..input.len()).map(|_| f64::from(b.uniform())).collect()]).collect();
    samples.push(vec![input.to_vec()]);
    check_with_tract(bytes, g, &samples).expect("the float reading agrees with tract");
    let float = g.forward(&samples[8])[g.outputs[0]].clone();
    let (graph, _) = quantize(g, &samples, options, &imported.hints).expect("quantizes");
    let ints = graph.run_float(&samples[8]).expect("runs").remove(0);
    let step = 2f64.powi(-graph.tensors()[graph.outputs()[0]].frac_bits);
    (float, ints, step)
}

/// The float reading equals `expected` (to f32 rounding), the integer one within `steps`.
fn assert_outputs(bytes: &[u8], input: &[f64], expected: &[f64], steps: f64) {
    for options in [Options::default(), Options::accurate()] {
        let (float, ints, step) = run_with(bytes, input, &options);
        assert_eq!(float.len(), expected.len(), "output length");
        for (i, ((f, q), e)) in float.iter().zip(&ints).zip(expected).enumerate() {
            assert!((f - e).abs() <= 1e-5 * (1.0 + e.abs()), "float output {i}: {f} vs {e}");
            assert!((q - e).abs() <= steps * step, "integer output {i} ({}-bit): {q} vs {e} (step {step})", options.activation_bits);
        }
    }
}

fn refusal(bytes: &[u8]) -> String {
    match import(bytes) {
        Ok(_) => panic!("the model must be refused"),
        Err(e) => e.to_string(),
    }
}

fn assert_refused(bytes: &[u8], expected: &[&str]) {
    let why = refusal(bytes);
    for e in expected {
        assert!(why.contains(e), "{why:?} should contain {e:?}");
    }
}

/// Sixteen grid values in [-1, 1): exact at any scale the calibration picks.
fn grid(n: usize) -> Vec<f64> {
    (0..n).map(|i| ((i * 7) % 16) as f64 / 8.0 - 1.0).collect()
}

#[test]
fn dynamo_shape_arithmetic_folds_to_a_reshape() {
    // target = [Shape(x)[0], Shape(x)[1], Shape(x)[2] · Shape(x)[3]], the dynamo exporter's
    // reshape of a static tensor.
    let mut b = Builder::new(1);
    let x = b.input("x", &[1, 2, 3, 2]);
    let s = b.node("Shape", &[&x], vec![]);
    let (i0, i1) = (b.ints(&[1], vec![0]), b.ints(&[1], vec![1]));
    let (i2, i3) = (b.ints(&[], vec![2]), b.ints(&[], vec![-1]));
    let i01 = b.ints(&[2], vec![0, 1]);
    let d01 = b.node("Gather", &[&s, &i01], vec![]);
    let d2 = b.node("Gather", &[&s, &i2], vec![]);
    let d3 = b.node("Gather", &[&s, &i3], vec![]);
    let prod = b.node("Mul", &[&d2, &d3], vec![]);
    let prod = b.node("Unsqueeze", &[&prod, &i0], vec![]);
    let target = b.node("Concat", &[&d01, &prod], vec![ai("axis", 0)]);
    let target = b.node("Cast", &[&target], vec![ai("to", 7)]);
    let y = b.node("Reshape", &[&x, &target], vec![]);
    // A Slice of the shape, and Identity of a constant, feed a second, no-op reshape.
    let end = b.ints(&[1], vec![i64::MAX]);
    let tail = b.node("Slice", &[&s, &i1, &end], vec![]);
    let _ = b.node("Identity", &[&tail], vec![]);
    let y = b.node("Relu", &[&y], vec![]);
    let bytes = b.finish(&[&y]);
    let imported = import(&bytes).unwrap();
    assert_eq!(imported.graph.tensors[imported.graph.outputs[0]].shape, vec![1, 2, 6]);
    let x = grid(12);
    let expected: Vec<f64> = x.iter().map(|v| v.max(0.0)).collect();
    assert_outputs(&bytes, &x, &expected, 0.0);
}

#[test]
fn constant_subgraphs_fold_range_where_split_constant_of_shape() {
    // bias = Concat(reverse of Split(Where(Range(0, 4) == 2, 10, Range(0, 4))))
    //      = [10, 3, 0, 1] + ConstantOfShape([4], 0.5) = [10.5, 3.5, 0.5, 1.5]
    let mut b = Builder::new(2);
    let x = b.input("x", &[1, 4]);
    let (zero, four, one, two) = (b.ints(&[], vec![0]), b.ints(&[], vec![4]), b.ints(&[], vec![1]), b.ints(&[], vec![2]));
    let r = b.node("Range", &[&zero, &four, &one], vec![]);
    let rf = b.node("Cast", &[&r], vec![ai("to", 1)]);
    let eq = b.node("Equal", &[&r, &two], vec![]);
    let ten = b.floats(&[], vec![10.0]);
    let w = b.node("Where", &[&eq, &ten, &rf], vec![]);
    let sizes = b.ints(&[2], vec![2, 2]);
    let mut split = tract_onnx::pb::NodeProto { op_type: "Split".into(), name: "split".into(), input: vec![w.clone(), sizes], output: vec!["s0".into(), "s1".into()], ..Default::default() };
    split.attribute.push(ai("axis", 0));
    b.raw_node(split);
    let c = b.node("Concat", &["s1", "s0"], vec![ai("axis", 0)]);
    let shape = b.ints(&[1], vec![4]);
    let half = b.node("ConstantOfShape", &[&shape], vec![common::onnx::atensor("value", &[1], vec![0.5])]);
    let c = b.node("Add", &[&c, &half], vec![]);
    let y = b.node("Add", &[&x, &c], vec![]);
    let bytes = b.finish(&[&y]);
    let x = vec![0.25, -0.5, 1.0, -1.0];
    let bias = [10.5, 3.5, 0.5, 1.5];
    let expected: Vec<f64> = x.iter().zip(bias).map(|(a, c)| a + c).collect();
    assert_outputs(&bytes, &x, &expected, 0.5);
}

/// `x ⊕ c` for a constant `c` of shape `c_dims`, in the given order.
fn with_constant(op: &str, x_dims: &[i64], c_dims: &[i64], constant_first: bool) -> (Vec<u8>, Vec<f32>) {
    let mut b = Builder::new(5);
    let x = b.input("x", x_dims);
    let n: i64 = c_dims.iter().product();
    let c: Vec<f32> = (0..n).map(|i| 0.5 + 0.25 * i as f32).collect();
    let k = b.floats(c_dims, c.clone());
    let y = if constant_first { b.node(op, &[&k, &x], vec![]) } else { b.node(op, &[&x, &k], vec![]) };
    (b.finish(&[&y]), c)
}

#[test]
fn constants_broadcast_along_any_axes_in_either_order() {
    let x = grid(24);
    // A Linear layer's bias along the last axis of [1, seq, features].
    let (bytes, c) = with_constant("Add", &[1, 6, 4], &[4], false);
    let expected: Vec<f64> = x.iter().enumerate().map(|(i, v)| v + f64::from(c[i % 4])).collect();
    assert_outputs(&bytes, &x, &expected, 0.5);
    // c - x, the constant varying along axis 1 of 3 (not the channel pattern: [6, 1]).
    let (bytes, c) = with_constant("Sub", &[1, 6, 4], &[6, 1], true);
    let expected: Vec<f64> = x.iter().enumerate().map(|(i, v)| f64::from(c[i / 4]) - v).collect();
    assert_outputs(&bytes, &x, &expected, 0.5);
    // x / c along the last axis is x · (1/c); 1/c rounds to 8-bit weights (within a step).
    let (bytes, c) = with_constant("Div", &[1, 6, 4], &[1, 1, 4], false);
    let expected: Vec<f64> = x.iter().enumerate().map(|(i, v)| v / f64::from(c[i % 4])).collect();
    assert_outputs(&bytes, &x, &expected, 1.0);
    // c · x where the constant also broadcasts x: [1, 4] · [3, 4] → [3, 4].
    let x4 = grid(4);
    let (bytes, c) = with_constant("Mul", &[1, 4], &[3, 4], true);
    let expected: Vec<f64> = (0..12).map(|i| x4[i % 4] * f64::from(c[i])).collect();
    assert_outputs(&bytes, &x4, &expected, 0.5);
    // Still refused: a constant divided by a computed tensor.
    let (bytes, _) = with_constant("Div", &[1, 4], &[4], true);
    assert_refused(&bytes, &["Div", "dividing a constant by a computed tensor"]);
}

#[test]
fn reductions_over_any_axes() {
    let x = grid(24);
    let at = |c: [usize; 3]| x[(c[0] * 3 + c[1]) * 4 + c[2]];
    // ReduceMean over the spatial axes (attribute, opset 13): the dynamo exporter's adaptive
    // average pool.
    let mut b = Builder::new(6);
    let input = b.input("x", &[1, 2, 3, 4]);
    let y = b.node("ReduceMean", &[&input], vec![ais("axes", &[2, 3])]);
    let bytes = b.finish(&[&y]);
    let expected: Vec<f64> = (0..2).map(|c| (0..12).map(|i| x[c * 12 + i]).sum::<f64>() / 12.0).collect();
    assert_outputs(&bytes, &x, &expected, 0.5);
    // ReduceSum over axis 1 (axes as an input, opset 13), keepdims 0.
    let mut b = Builder::new(6);
    let input = b.input("x", &[2, 3, 4]);
    let axes = b.ints(&[1], vec![1]);
    let y = b.node("ReduceSum", &[&input, &axes], vec![ai("keepdims", 0)]);
    let bytes = b.finish(&[&y]);
    let expected: Vec<f64> = (0..8).map(|o| (0..3).map(|j| at([o / 4, j, o % 4])).sum()).collect();
    assert_outputs(&bytes, &x, &expected, 0.5);
    // ReduceMean with axes as an input (opset 18), over the first and last axes.
    let mut b = Builder::new(6);
    b.opset = 18;
    let input = b.input("x", &[2, 3, 4]);
    let axes = b.ints(&[2], vec![0, -1]);
    let y = b.node("ReduceMean", &[&input, &axes], vec![ai("keepdims", 0)]);
    let bytes = b.finish(&[&y]);
    let expected: Vec<f64> = (0..3).map(|j| (0..8).map(|k| at([k / 4, j, k % 4])).sum::<f64>() / 8.0).collect();
    assert_outputs(&bytes, &x, &expected, 0.5);
    // ReduceMax and ReduceMin over the last axis: exact (a max keeps the scale).
    for (op, pick) in [("ReduceMax", f64::max as fn(f64, f64) -> f64), ("ReduceMin", f64::min)] {
        let mut b = Builder::new(6);
        let input = b.input("x", &[2, 3, 4]);
        let y = b.node(op, &[&input], vec![ais("axes", &[-1])]);
        let bytes = b.finish(&[&y]);
        let expected: Vec<f64> = (0..6).map(|r| (0..4).map(|k| x[r * 4 + k]).fold(f64::NAN, pick)).collect();
        assert_outputs(&bytes, &x, &expected, 0.0);
    }
    // No axes and noop_with_empty_axes: the input unchanged.
    let mut b = Builder::new(6);
    b.opset = 18;
    let input = b.input("x", &[2, 3, 4]);
    let y = b.node("ReduceSum", &[&input], vec![ai("noop_with_empty_axes", 1)]);
    assert_outputs(&b.finish(&[&y]), &x, &x, 0.0);
}

#[test]
fn gather_slice_split_and_expand_are_wiring() {
    let x = grid(24);
    // Gather on axis 1 with a negative index.
    let mut b = Builder::new(7);
    let input = b.input("x", &[2, 3, 4]);
    let idx = b.ints(&[2], vec![-1, 0]);
    let y = b.node("Gather", &[&input, &idx], vec![ai("axis", 1)]);
    let expected: Vec<f64> = (0..16).map(|o| x[(o / 8 * 3 + [2, 0][o / 4 % 2]) * 4 + o % 4]).collect();
    assert_outputs(&b.finish(&[&y]), &x, &expected, 0.0);
    // Slice with a negative step (x[:, ::-2, 1:3]).
    let mut b = Builder::new(7);
    let input = b.input("x", &[2, 3, 4]);
    let (starts, ends, axes, steps) = (b.ints(&[2], vec![-1, 1]), b.ints(&[2], vec![i64::MIN, 3]), b.ints(&[2], vec![1, 2]), b.ints(&[2], vec![-2, 1]));
    let y = b.node("Slice", &[&input, &starts, &ends, &axes, &steps], vec![]);
    let expected: Vec<f64> = (0..8).map(|o| x[(o / 4 * 3 + [2, 0][o / 2 % 2]) * 4 + 1 + o % 2]).collect();
    assert_outputs(&b.finish(&[&y]), &x, &expected, 0.0);
    // Split into unequal parts; the second part is the output.
    let mut b = Builder::new(7);
    let input = b.input("x", &[2, 3, 4]);
    let sizes = b.ints(&[2], vec![1, 3]);
    let split = tract_onnx::pb::NodeProto { op_type: "Split".into(), name: "split".into(), input: vec![input, sizes], output: vec!["a".into(), "b".into()], attribute: vec![ai("axis", -1)], ..Default::default() };
    b.raw_node(split);
    let expected: Vec<f64> = (0..18).map(|o| x[o / 3 * 4 + 1 + o % 3]).collect();
    assert_outputs(&b.finish(&["b"]), &x, &expected, 0.0);
    // Expand [1, 4] to [3, 4].
    let mut b = Builder::new(7);
    let input = b.input("x", &[1, 4]);
    let shape = b.ints(&[2], vec![3, 1]);
    let y = b.node("Expand", &[&input, &shape], vec![]);
    let x4 = grid(4);
    let expected: Vec<f64> = (0..12).map(|o| x4[o % 4]).collect();
    assert_outputs(&b.finish(&[&y]), &x4, &expected, 0.0);
}

#[test]
fn linear_resize_interpolates_with_constant_weights() {
    // [0, 1, 2, 3] stretched to 7 values with align_corners: steps of 1/2 (exact).
    let mut b = Builder::new(8);
    let input = b.input("x", &[1, 1, 1, 4]);
    let (roi, scales, sizes) = (b.floats(&[0], vec![]), b.floats(&[0], vec![]), b.ints(&[4], vec![1, 1, 1, 7]));
    let y = b.node("Resize", &[&input, &roi, &scales, &sizes], vec![astr("mode", "linear"), astr("coordinate_transformation_mode", "align_corners")]);
    let x = vec![0.0, 0.25, 0.5, 0.75];
    let expected: Vec<f64> = (0..7).map(|i| f64::from(i) / 8.0).collect();
    assert_outputs(&b.finish(&[&y]), &x, &expected, 0.5);
    // Bilinear 2× on [1, 2, 3, 3] in every common mode: checked against tract, and the
    // integer reading within a step.
    for mode in ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"] {
        let mut b = Builder::new(8);
        let input = b.input("x", &[1, 2, 3, 3]);
        let (roi, scales) = (b.floats(&[0], vec![]), b.floats(&[4], vec![1.0, 1.0, 2.0, 2.0]));
        let y = b.node("Resize", &[&input, &roi, &scales], vec![astr("mode", "linear"), astr("coordinate_transformation_mode", mode)]);
        let bytes = b.finish(&[&y]);
        let x = grid(18);
        let (float, ints, step) = run_with(&bytes, &x, &Options::default());
        assert_eq!(float.len(), 72);
        let worst = float.iter().zip(&ints).fold(0f64, |m, (f, q)| m.max((f - q).abs() / step));
        assert!(worst <= 1.0, "{mode}: {worst} steps");
    }
}

#[test]
fn activations_compile_as_tables_or_exact_affine_maps() {
    // Each function between two dense layers, checked against tract.
    for (op, attrs) in [
        ("Erf", vec![]),
        ("Gelu", vec![]),
        ("Gelu", vec![astr("approximate", "tanh")]),
        ("HardSwish", vec![]),
        ("HardSigmoid", vec![af("alpha", 0.3), af("beta", 0.4)]),
        ("Exp", vec![]),
        ("Softplus", vec![]),
        ("Neg", vec![]),
    ] {
        let mut b = Builder::new(9);
        b.opset = if op == "Gelu" { 20 } else { 18 };
        let input = b.input("x", &[1, 8]);
        let y = b.node(op, &[&input], attrs);
        let bytes = b.finish(&[&y]);
        let x = grid(8);
        let (float, ints, step) = run_with(&bytes, &x, &Options::default());
        let worst = float.iter().zip(&ints).fold(0f64, |m, (f, q)| m.max((f - q).abs() / step));
        assert!(worst <= 1.0, "{op}: {worst} steps");
    }
    // Sqrt and Reciprocal of a positive input (x + 2).
    for op in ["Sqrt", "Reciprocal"] {
        let mut b = Builder::new(9);
        let input = b.input("x", &[1, 8]);
        let two = b.floats(&[], vec![2.0]);
        let shifted = b.node("Add", &[&input, &two], vec![]);
        let y = b.node(op, &[&shifted], vec![]);
        let x = grid(8);
        let (float, ints, step) = run_with(&b.finish(&[&y]), &x, &Options::default());
        let worst = float.iter().zip(&ints).fold(0f64, |m, (f, q)| m.max((f - q).abs() / step));
        assert!(worst <= 1.0, "{op}: {worst} steps");
    }
}

/// The classic exporter's GELU: `Mul(Mul(x, Add(Erf(Div(x, 1.4142135)), 1)), 0.5)`.
fn classic_gelu(b: &mut Builder, x: &str) -> String {
    let (root2, one, half) = (b.floats(&[], vec![std::f32::consts::SQRT_2]), b.floats(&[], vec![1.0]), b.floats(&[], vec![0.5]));
    let d = b.node("Div", &[x, &root2], vec![]);
    let e = b.node("Erf", &[&d], vec![]);
    let a = b.node("Add", &[&e, &one], vec![]);
    let m = b.node("Mul", &[x, &a], vec![]);
    b.node("Mul", &[&m, &half], vec![])
}

#[test]
fn the_classic_gelu_and_silu_patterns_fuse_into_one_table() {
    let mut b = Builder::new(10);
    let input = b.input("x", &[1, 8]);
    let w = b.random(&[8, 8], 0.5);
    let h = b.node("MatMul", &[&input, &w], vec![]);
    let g = classic_gelu(&mut b, &h);
    let s = b.node("Sigmoid", &[&g], vec![]);
    let y = b.node("Mul", &[&g, &s], vec![]);
    let bytes = b.finish(&[&y]);
    let graph = import(&bytes).unwrap().graph;
    let kinds: Vec<String> = graph.nodes.iter().map(|n| match &n.op {
        FloatOp::Func(f) => format!("{f:?}"),
        FloatOp::Linear { .. } => "Linear".into(),
        other => format!("{other:?}"),
    }).collect();
    assert_eq!(kinds, ["Linear", "Gelu", "Silu"]);
    assert!(matches!(graph.nodes[1].op, FloatOp::Func(Func::Gelu)));
    let x = grid(8);
    let (float, ints, step) = run_with(&bytes, &x, &Options::default());
    let worst = float.iter().zip(&ints).fold(0f64, |m, (f, q)| m.max((f - q).abs() / step));
    assert!(worst <= 1.5, "{worst} steps");
}

/// Largest |integer − float| over the largest |float| output for `Gemm 16 → 16, f, Gemm
/// 16 → 4` on 64 samples uniform in [-2, 2].
fn table_error(op: &str, attrs: Vec<tract_onnx::pb::AttributeProto>, options: &Options) -> f64 {
    let mut b = Builder::new(11);
    b.opset = 20;
    let input = b.input("x", &[1, 16]);
    let (w1, b1) = (b.random(&[16, 16], 0.5), b.random(&[16], 0.1));
    let h = b.node("Gemm", &[&input, &w1, &b1], vec![ai("transB", 1)]);
    let f = b.node(op, &[&h], attrs);
    let (w2, b2) = (b.random(&[4, 16], 0.5), b.random(&[4], 0.1));
    let y = b.node("Gemm", &[&f, &w2, &b2], vec![ai("transB", 1)]);
    let bytes = b.finish(&[&y]);
    let imported = import(&bytes).unwrap();
    let g = &imported.graph;
    let mut rng = Builder::new(12);
    let samples: Vec<Vec<Vec<f64>>> = (0..64).map(|_| vec![(0..16).map(|_| 2.0 * f64::from(rng.uniform())).collect()]).collect();
    check_with_tract(&bytes, g, &samples[..4]).unwrap();
    let (graph, _) = quantize(g, &samples, options, &imported.hints).unwrap();
    let (mut err, mut peak) = (0f64, 0f64);
    for s in &samples {
        let float = &g.forward(s)[g.outputs[0]];
        let ints = graph.run_float(s).unwrap().remove(0);
        for (f, q) in float.iter().zip(&ints) {
            err = err.max((f - q).abs());
            peak = peak.max(f.abs());
        }
    }
    err / peak
}

/// The measurement behind the table in crate/src/graph/import/activation.rs: tables read
/// 8-bit inputs, also with 16-bit activations.
#[test]
fn tables_read_eight_bit_inputs() {
    for (op, attrs) in [
        ("Gelu", vec![]),
        ("Gelu", vec![astr("approximate", "tanh")]),
        ("Erf", vec![]),
        ("HardSwish", vec![]),
        ("HardSigmoid", vec![]),
        ("Softplus", vec![]),
        ("Exp", vec![]),
    ] {
        let (e8, e16) = (table_error(op, attrs.clone(), &Options::default()), table_error(op, attrs.clone(), &Options::accurate()));
        eprintln!("{op} ({} attributes): 8-bit {:.3}%, 16-bit {:.4}%", attrs.len(), e8 * 100.0, e16 * 100.0);
        assert!(e8 <= 0.06 && e16 <= 0.04, "{op}: {e8} / {e16}");
    }
}

#[test]
fn opset_21_and_ir_version_10_are_accepted() {
    let mut b = Builder::new(12);
    b.opset = 21;
    let input = b.input("x", &[1, 4]);
    let y = b.node("Relu", &[&input], vec![]);
    let mut model = tract_onnx::pb::ModelProto::decode(&b.finish(&[&y])[..]).unwrap();
    model.ir_version = 10;
    let bytes = model.encode_to_vec();
    let x = grid(4);
    let expected: Vec<f64> = x.iter().map(|v| v.max(0.0)).collect();
    assert_outputs(&bytes, &x, &expected, 0.0);
}

#[test]
fn hostile_attributes_are_errors_naming_the_node() {
    let one = |op: &str, shape: &[i64], extra: &dyn Fn(&mut Builder) -> Vec<String>, attrs: Vec<tract_onnx::pb::AttributeProto>| {
        let mut b = Builder::new(13);
        let input = b.input("x", shape);
        let mut inputs = vec![input];
        inputs.extend(extra(&mut b));
        let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let y = b.node(op, &refs, attrs);
        b.finish(&[&y])
    };
    // Gather: axis outside the rank, index outside the axis.
    let idx = |b: &mut Builder| vec![b.ints(&[1], vec![0])];
    assert_refused(&one("Gather", &[1, 4], &idx, vec![ai("axis", 5)]), &["Gather", "axis 5 is outside rank 2"]);
    let far = |b: &mut Builder| vec![b.ints(&[1], vec![4])];
    assert_refused(&one("Gather", &[1, 4], &far, vec![ai("axis", 1)]), &["Gather", "outside [-4, 4)"]);
    // Expand and ConstantOfShape to 2^40 values; Range of 2^40 values.
    let huge = |b: &mut Builder| vec![b.ints(&[2], vec![1 << 20, 1 << 20])];
    assert_refused(&one("Expand", &[1, 1], &huge, vec![]), &["Expand", "more than"]);
    let mut b = Builder::new(13);
    let input = b.input("x", &[1, 1]);
    let shape = b.ints(&[2], vec![1 << 20, 1 << 20]);
    let c = b.node("ConstantOfShape", &[&shape], vec![]);
    let y = b.node("Add", &[&input, &c], vec![]);
    assert_refused(&b.finish(&[&y]), &["ConstantOfShape", "more than"]);
    let mut b = Builder::new(13);
    let input = b.input("x", &[1, 1]);
    let (start, limit, delta) = (b.ints(&[], vec![0]), b.ints(&[], vec![i64::MAX]), b.ints(&[], vec![1]));
    let r = b.node("Range", &[&start, &limit, &delta], vec![]);
    let y = b.node("Add", &[&input, &r], vec![]);
    assert_refused(&b.finish(&[&y]), &["Range", "more than"]);
    // Slice with a zero step; Split sizes that do not add up; reduction axes outside the rank.
    let zero_step = |b: &mut Builder| vec![b.ints(&[1], vec![0]), b.ints(&[1], vec![2]), b.ints(&[1], vec![1]), b.ints(&[1], vec![0])];
    assert_refused(&one("Slice", &[1, 4], &zero_step, vec![]), &["Slice", "step is 0"]);
    let bad_sizes = |b: &mut Builder| vec![b.ints(&[1], vec![3])];
    assert_refused(&one("Split", &[1, 4], &bad_sizes, vec![ai("axis", 1)]), &["Split", "do not cut dimension 4"]);
    assert_refused(&one("ReduceSum", &[1, 4], &|_| vec![], vec![ais("axes", &[2])]), &["ReduceSum", "outside rank 2"]);
    // An embedding lookup: constant table, computed indices.
    let mut b = Builder::new(13);
    let input = b.input("x", &[1, 4]);
    let table = b.random(&[10, 3], 1.0);
    let y = b.node("Gather", &[&table, &input], vec![]);
    assert_refused(&b.finish(&[&y]), &["Gather", "computed at run time"]);
    // Cubic resize and an unknown GELU approximation stay refused.
    let cubic = |b: &mut Builder| vec![b.floats(&[0], vec![]), b.floats(&[4], vec![1.0, 1.0, 2.0, 2.0])];
    assert_refused(&one("Resize", &[1, 1, 2, 2], &cubic, vec![astr("mode", "cubic")]), &["Resize", "only mode `nearest` is supported"]);
    assert_refused(&one("Gelu", &[1, 4], &|_| vec![], vec![astr("approximate", "erf")]), &["Gelu", "approximate `erf`"]);
}
