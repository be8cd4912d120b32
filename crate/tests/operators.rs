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
/// Gemm of two computed tensors (A and transposed B both from the input), with alpha and a
/// C broadcast along rows: inner products, then one weight and bias per value.
#[test]
fn gemm_of_two_computed_operands() {
    let mut b = Builder::new(14);
    let input = b.input("x", &[2, 3]);
    let r = b.node("Relu", &[&input], vec![]);
    let c = b.floats(&[2], vec![0.25, -0.5]);
    let y = b.node("Gemm", &[&input, &r, &c], vec![ai("transB", 1), af("alpha", 0.5)]);
    let x = grid(6);
    let mut expected = Vec::new();
    for i in 0..2 {
        for j in 0..2 {
            let dot: f64 = (0..3).map(|t| x[i * 3 + t] * x[j * 3 + t].max(0.0)).sum();
            expected.push(0.5 * dot + [0.25, -0.5][j]);
        }
    }
    assert_outputs(&b.finish(&[&y]), &x, &expected, 2.0);
}

/// Pow with a constant exponent: 2 is the exact product `x·x`, any other value a function.
#[test]
fn pow_with_a_constant_exponent() {
    for e in [2.0f32, 3.0] {
        let mut b = Builder::new(15);
        let input = b.input("x", &[1, 16]);
        let exponent = b.floats(&[], vec![e]);
        let y = b.node("Pow", &[&input, &exponent], vec![]);
        let bytes = b.finish(&[&y]);
        let kinds: Vec<String> = import(&bytes).unwrap().graph.nodes.iter().map(|n| format!("{:?}", n.op).split([' ', '(', '{']).next().unwrap().to_string()).collect();
        assert_eq!(kinds, [if e == 2.0 { "Mul" } else { "Func" }], "exponent {e}");
        let x = grid(16);
        let expected: Vec<f64> = x.iter().map(|v| v.powf(f64::from(e))).collect();
        assert_outputs(&bytes, &x, &expected, 2.0);
    }
    let mut b = Builder::new(16);
    let input = b.input("x", &[1, 2]);
    let exponent = b.floats(&[2], vec![2.0, 3.0]);
    let y = b.node("Pow", &[&input, &exponent], vec![]);
    assert_refused(&b.finish(&[&y]), &["Pow", "an exponent per element is not supported"]);
}

/// A causal mask (`Add` of a constant upper triangle of −∞, as PyTorch exports
/// `generate_square_subsequent_mask`) before a Softmax: hidden positions are exactly 0, the rest
/// the softmax of the visible scores; checked against tract, proven and verified.
#[test]
fn a_causal_mask_before_softmax_hides_exactly() {
    let causal = |b: &mut Builder| {
        let mask: Vec<f32> = (0..16).map(|i| if i % 4 > i / 4 { f32::NEG_INFINITY } else { 0.0 }).collect();
        b.floats(&[4, 4], mask)
    };
    let mut b = Builder::new(17);
    b.opset = 17;
    let input = b.input("x", &[1, 4, 4]);
    let mask = causal(&mut b);
    let scores = b.node("Add", &[&input, &mask], vec![]);
    let y = b.node("Softmax", &[&scores], vec![ai("axis", -1)]);
    let bytes = b.finish(&[&y]);
    let x = grid(16);
    let mut expected = vec![0.0; 16];
    for r in 0..4 {
        let e: Vec<f64> = (0..=r).map(|c| x[r * 4 + c].exp()).collect();
        let sum: f64 = e.iter().sum();
        for c in 0..=r {
            expected[r * 4 + c] = e[c] / sum;
        }
    }
    assert_outputs(&bytes, &x, &expected, 3.0);
    for options in [Options::default(), Options::accurate()] {
        let (_, ints, _) = run_with(&bytes, &x, &options);
        for (i, v) in ints.iter().enumerate().filter(|(i, _)| i % 4 > i / 4) {
            assert_eq!(*v, 0.0, "hidden position {i}");
        }
    }
    // A real proof of the masked softmax verifies, and not for another output.
    let imported = import(&bytes).unwrap();
    let samples = vec![vec![x.clone()]];
    let (graph, _) = quantize(&imported.graph, &samples, &Options::accurate(), &imported.hints).unwrap();
    let (_, tampered_verifies) = common::prove_and_verify(&graph, graph.quantize_inputs(&samples[0]).unwrap());
    assert!(!tampered_verifies);

    // The masked scores read by anything but a Softmax, or a row hidden entirely: refused.
    let mut b = Builder::new(18);
    let input = b.input("x", &[1, 4, 4]);
    let mask = causal(&mut b);
    let scores = b.node("Add", &[&input, &mask], vec![]);
    let y = b.node("Relu", &[&scores], vec![]);
    assert_refused(&b.finish(&[&y]), &["Relu", "−∞ attention mask", "Softmax directly"]);
    let mut b = Builder::new(19);
    let input = b.input("x", &[1, 2, 2]);
    let mask = b.floats(&[2, 2], vec![0.0, 0.0, f32::NEG_INFINITY, f32::NEG_INFINITY]);
    let scores = b.node("Add", &[&input, &mask], vec![]);
    let y = b.node("Softmax", &[&scores], vec![ai("axis", -1)]);
    assert_refused(&b.finish(&[&y]), &["Softmax", "hides every value of a row"]);
}

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

/// The measurement behind the table in crate/src/graph/import/activation.rs: a table reads
/// 8-bit inputs; with 16-bit activations the function is interpolated between table points,
/// which must cut the error at least twentyfold (HardSigmoid is an exact affine map at both).
#[test]
fn sixteen_bit_functions_interpolate_between_table_points() {
    for (op, attrs, bound) in [
        ("Gelu", vec![], 0.001),
        ("Gelu", vec![astr("approximate", "tanh")], 0.001),
        ("Erf", vec![], 0.001),
        ("HardSwish", vec![], 0.001),
        ("HardSigmoid", vec![], 0.001),
        ("Softplus", vec![], 0.001),
        ("Exp", vec![], 0.001),
        ("Sigmoid", vec![], 0.001),
        ("Tanh", vec![], 0.001),
    ] {
        let (e8, e16) = (table_error(op, attrs.clone(), &Options::default()), table_error(op, attrs.clone(), &Options::accurate()));
        eprintln!("{op} ({} attributes): 8-bit {:.3}%, 16-bit {:.4}%", attrs.len(), e8 * 100.0, e16 * 100.0);
        assert!(e8 <= 0.06 && e16 <= bound, "{op}: {e8} / {e16}");
        assert!(op == "HardSigmoid" || e16 * 20.0 <= e8, "{op}: 16 bits ({e16}) must be far below 8 ({e8})");
    }
}

/// A 16-bit function is lowered to the interpolation's nodes (two tables on the segment, a
/// product), and the integer reference agrees with `Interpolation::eval` on every input.
#[test]
fn interpolation_nodes_compute_what_eval_says() {
    use section9::graph::interpolate::Interpolation;
    use section9::graph::{Op, TensorInfo};
    let t = |(lo, hi, frac_bits): (i64, i64, i32), name: &str| TensorInfo { name: name.into(), shape: vec![1], frac_bits, lo, hi };
    // A logarithm of negative inputs has no table points: the function keeps its 8-bit table.
    assert!(Interpolation::new(Func::Ln, &t((-256, 255, 8), "x"), &t((-32768, 32767, 8), "y")).is_none());
    for (f, x, y) in [
        (Func::Gelu, (-32768, 32767, 12), (-32768, 32767, 12)),
        (Func::Exp, (-32768, 0, 11), (0, 65535, 16)),
        (Func::Sigmoid, (-32768, 32767, 10), (0, 65535, 16)),
        (Func::Reciprocal, (4096, 65535, 12), (0, 65535, 14)),
    ] {
        let (mut xi, mut yi) = (t(x, "x"), t(y, "y"));
        // One value per input integer.
        xi.shape = vec![(xi.hi - xi.lo + 1) as usize];
        yi.shape = xi.shape.clone();
        let chords = Interpolation::new(f, &xi, &yi).expect("defined at every table point");
        let mut tensors = vec![xi.clone()];
        let mut nodes = Vec::new();
        let mut emit = |suffix: &str, op: Op, inputs: Vec<usize>, t: TensorInfo| {
            nodes.push(section9::graph::Node { name: format!("f/{suffix}"), op, inputs, output: tensors.len() });
            tensors.push(t);
            tensors.len() - 1
        };
        let out = chords.lower(0, &xi, &yi, &mut emit);
        let kinds: Vec<&str> = nodes.iter().map(|n| n.op.kind()).collect();
        assert_eq!(kinds, ["linear", "linear", "table", "table", "mul", "linear"]);
        let graph = section9::graph::Graph::new(tensors, vec![0], vec![out], nodes).expect("a valid graph");
        let qs: Vec<i64> = (xi.lo..=xi.hi).collect();
        let got = graph.run(std::slice::from_ref(&qs)).unwrap().remove(out);
        for (&q, &g) in qs.iter().zip(&got) {
            assert_eq!(g, chords.eval(q, &yi), "{f:?} at {q}");
        }
        // And eval is the chord: within a step and the chord's own error of f.
        let worst = qs.iter().zip(&got).map(|(&q, &g)| (yi.dequantize(g) - f.apply(xi.dequantize(q)).clamp(yi.dequantize(yi.lo), yi.dequantize(yi.hi))).abs()).fold(0f64, f64::max);
        eprintln!("{f:?}: largest error {worst:.2e}");
        assert!(worst < 3e-3, "{f:?}: {worst}");
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
    // A computed tensor at computed indices (no constant table to look up).
    let mut b = Builder::new(13);
    let input = b.input("x", &[1, 4]);
    let y = b.node("Gather", &[&input, &input], vec![]);
    assert_refused(&b.finish(&[&y]), &["Gather", "computed at run time and so is the data"]);
    // Cubic resize and an unknown GELU approximation stay refused.
    let cubic = |b: &mut Builder| vec![b.floats(&[0], vec![]), b.floats(&[4], vec![1.0, 1.0, 2.0, 2.0])];
    assert_refused(&one("Resize", &[1, 1, 2, 2], &cubic, vec![astr("mode", "cubic")]), &["Resize", "only mode `nearest` is supported"]);
    assert_refused(&one("Gelu", &[1, 4], &|_| vec![], vec![astr("approximate", "erf")]), &["Gelu", "approximate `erf`"]);
}

/// The built model with its named inputs made integers (`DataType` 7: int64, 6: int32), as
/// PyTorch exports token ids.
fn integer_inputs(bytes: &[u8], names: &[&str], elem_type: i32) -> Vec<u8> {
    let mut model = tract_onnx::pb::ModelProto::decode(bytes).unwrap();
    for input in &mut model.graph.as_mut().unwrap().input {
        if let (true, Some(tract_onnx::pb::type_proto::Value::TensorType(t))) = (names.contains(&input.name.as_str()), input.r#type.as_mut().and_then(|t| t.value.as_mut())) {
            t.elem_type = elem_type;
        }
    }
    model.encode_to_vec()
}

/// `E[r][c]` of a `rows × cols` embedding table: multiples of 1/16 in [-1, 1), exact at any
/// scale calibration picks.
fn embedding_table(rows: usize, cols: usize) -> Vec<f32> {
    (0..rows * cols).map(|i| ((i * 7 + i / cols) % 32) as f32 / 16.0 - 1.0).collect()
}

/// int64 ids `[1, 8]` → Gather of a `[16, 4]` table → MatMul by `[4, 3]` → Add a bias: what
/// PyTorch exports for `nn.Embedding(16, 4)` and `nn.Linear(4, 3)`. Returns the model and its
/// exact float outputs for `ids`.
fn embedding_model(ids: &[i64]) -> (Vec<u8>, Vec<f64>) {
    let (table, w, bias) = (embedding_table(16, 4), (0..12).map(|i| ((i * 5) % 9) as f32 / 8.0 - 0.5).collect::<Vec<f32>>(), [0.25f32, -0.5, 0.125]);
    let mut b = Builder::new(21);
    let x = b.input("ids", &[1, 8]);
    let e = b.floats(&[16, 4], table.clone());
    let h = b.node("Gather", &[&e, &x], vec![ai("axis", 0)]);
    let wc = b.floats(&[4, 3], w.clone());
    let h = b.node("MatMul", &[&h, &wc], vec![]);
    let bc = b.floats(&[3], bias.to_vec());
    let y = b.node("Add", &[&h, &bc], vec![]);
    let bytes = integer_inputs(&b.finish(&[&y]), &["ids"], 7);
    let expected = ids
        .iter()
        .flat_map(|&i| {
            let row = &table[i.rem_euclid(16) as usize * 4..][..4];
            (0..3).map(|j| f64::from(bias[j]) + row.iter().enumerate().map(|(k, &e)| f64::from(e) * f64::from(w[k * 3 + j])).sum::<f64>()).collect::<Vec<_>>()
        })
        .collect();
    (bytes, expected)
}

/// Imports, checks against tract on `calibration` and `input` (integer ids), calibrates on
/// `calibration`; returns the integer graph, float and integer outputs on `input`, and the
/// output step.
fn run_ids(bytes: &[u8], calibration: &[Vec<f64>], input: &[f64], options: &Options) -> (section9::graph::Graph, Vec<f64>, Vec<f64>, f64) {
    let imported = import(bytes).expect("imports");
    let g = &imported.graph;
    let samples: Vec<Vec<Vec<f64>>> = calibration.iter().chain([&input.to_vec()]).map(|s| vec![s.clone()]).collect();
    check_with_tract(bytes, g, &samples).expect("the float reading agrees with tract");
    let float = g.forward(&[input.to_vec()])[g.outputs[0]].clone();
    let (graph, _) = quantize(g, &samples, options, &imported.hints).expect("quantizes");
    let ints = graph.run_float(&[input.to_vec()]).expect("runs").remove(0);
    let step = 2f64.powi(-graph.tensors()[graph.outputs()[0]].frac_bits);
    (graph, float, ints, step)
}

/// Eight ids in [0, 16) per sample.
fn id_samples(count: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut b = Builder::new(seed);
    (0..count).map(|_| (0..8).map(|_| ((b.uniform() + 1.0) * 8.0).floor().min(15.0) as f64).collect()).collect()
}

#[test]
fn an_embedding_looks_up_rows_of_a_constant_table() {
    let ids = [3i64, 0, 15, 7, 7, 1, 12, 9];
    let (bytes, expected) = embedding_model(&ids);
    let input: Vec<f64> = ids.iter().map(|&i| i as f64).collect();
    for options in [Options::default(), Options::accurate()] {
        let (graph, float, ints, step) = run_ids(&bytes, &id_samples(8, 4), &input, &options);
        for (i, ((f, q), e)) in float.iter().zip(&ints).zip(&expected).enumerate() {
            assert!((f - e).abs() <= 1e-5 * (1.0 + e.abs()), "float output {i}: {f} vs {e}");
            assert!((q - e).abs() <= step, "integer output {i} ({}-bit): {q} vs {e} (step {step})", options.activation_bits);
        }
        // The ids: an 8-bit integer input at scale 2^0 whose rows are the table's; one table
        // per embedding column reads it, and a rewiring interleaves the four columns.
        let t = graph.inputs()[0];
        let info = &graph.tensors()[t];
        assert_eq!((info.frac_bits, info.lo, info.hi), (0, 0, 255));
        assert_eq!(graph.indices(), [section9::graph::IndexInput { tensor: t, lo: 0, hi: 15 }]);
        let lookups: Vec<_> = graph.nodes().iter().filter(|n| n.inputs == [t]).collect();
        assert_eq!(lookups.len(), 4);
        assert!(lookups.iter().all(|n| matches!(&n.op, section9::graph::Op::Table { values } if values.len() == 256)));
        // The marked ids survive the file.
        let back = section9::graph::Graph::from_json(&graph.to_json()).unwrap();
        assert_eq!(back, graph);
    }
}

#[test]
fn embeddings_take_negative_indices_other_axes_and_index_shapes() {
    // Negative ids count from the end: -1 is row 15, -16 row 0.
    let ids = [-1i64, 0, -16, 5, -3, 15, 2, -8];
    let (bytes, expected) = embedding_model(&ids);
    let input: Vec<f64> = ids.iter().map(|&i| i as f64).collect();
    let mut calibration = id_samples(8, 5);
    calibration.push(vec![-16.0, -1.0, 0.0, 3.0, -5.0, 15.0, 8.0, -9.0]);
    let (graph, float, ints, step) = run_ids(&bytes, &calibration, &input, &Options::default());
    for (i, ((f, q), e)) in float.iter().zip(&ints).zip(&expected).enumerate() {
        assert!((f - e).abs() <= 1e-5 * (1.0 + e.abs()), "float output {i}: {f} vs {e}");
        assert!((q - e).abs() <= step, "integer output {i}: {q} vs {e} (step {step})");
    }
    let t = graph.inputs()[0];
    assert_eq!((graph.tensors()[t].lo, graph.tensors()[t].hi), (-128, 127));
    assert_eq!((graph.indices()[0].lo, graph.indices()[0].hi), (-16, 15));

    // Axis 1 of a [3, 5, 2] table at int32 ids of shape [2, 2]: out[a, i, j, b] = E[a, ids[i, j], b].
    let table = embedding_table(15, 2);
    let mut b = Builder::new(22);
    let x = b.input("ids", &[2, 2]);
    let e = b.floats(&[3, 5, 2], table.clone());
    let y = b.node("Gather", &[&e, &x], vec![ai("axis", 1)]);
    let bytes = integer_inputs(&b.finish(&[&y]), &["ids"], 6);
    let ids = [4usize, 0, 2, 2];
    let expected: Vec<f64> = (0..3 * 4 * 2).map(|o| f64::from(table[(o / 8 * 5 + ids[o / 2 % 4]) * 2 + o % 2])).collect();
    let input: Vec<f64> = ids.iter().map(|&i| i as f64).collect();
    let calibration: Vec<Vec<f64>> = (0..5).map(|r| vec![r as f64, 4.0 - r as f64, 0.0, 1.0]).collect();
    for options in [Options::default(), Options::accurate()] {
        let (graph, float, ints, _) = run_ids(&bytes, &calibration, &input, &options);
        assert_eq!(graph.tensors()[graph.outputs()[0]].shape, [3, 2, 2, 2]);
        assert_eq!(float, expected);
        // Table values are multiples of 1/16 in [-1, 1): exact at the output scale.
        assert_eq!(ints, expected, "{}-bit", options.activation_bits);
    }

    // Computed indices: ids + 1, reshaped to [2, 4], index a [16, 2] table.
    let table = embedding_table(16, 2);
    let mut b = Builder::new(24);
    let x = b.input("ids", &[1, 8]);
    let one = b.ints(&[], vec![1]);
    let next = b.node("Add", &[&x, &one], vec![]);
    let shape = b.ints(&[2], vec![2, 4]);
    let next = b.node("Reshape", &[&next, &shape], vec![]);
    let e = b.floats(&[16, 2], table.clone());
    let y = b.node("Gather", &[&e, &next], vec![]);
    let bytes = integer_inputs(&b.finish(&[&y]), &["ids"], 7);
    let ids = [0usize, 14, 3, 3, 7, 1, 9, 12];
    let expected: Vec<f64> = (0..16).map(|o| f64::from(table[(ids[o / 2] + 1) * 2 + o % 2])).collect();
    let input: Vec<f64> = ids.iter().map(|&i| i as f64).collect();
    let calibration: Vec<Vec<f64>> = (0..4).map(|s| (0..8).map(|i| ((s * 5 + i * 3) % 15) as f64).collect()).collect();
    let (graph, float, ints, _) = run_ids(&bytes, &calibration, &input, &Options::default());
    assert_eq!(float, expected);
    assert_eq!(ints, expected);
    assert_eq!(graph.tensors()[graph.outputs()[0]].shape, [2, 4, 2]);

    // A scalar index drops the axis: E[·, 2] of a [3, 4] table.
    let table = embedding_table(3, 4);
    let mut b = Builder::new(25);
    let x = b.input("id", &[]);
    let e = b.floats(&[3, 4], table.clone());
    let y = b.node("Gather", &[&e, &x], vec![ai("axis", 1)]);
    let bytes = integer_inputs(&b.finish(&[&y]), &["id"], 7);
    let expected: Vec<f64> = (0..3).map(|r| f64::from(table[r * 4 + 2])).collect();
    let calibration: Vec<Vec<f64>> = (0..4).map(|i| vec![i as f64]).collect();
    let (graph, float, ints, _) = run_ids(&bytes, &calibration, &[2.0], &Options::default());
    assert_eq!((float, ints), (expected.clone(), expected));
    assert_eq!(graph.tensors()[graph.outputs()[0]].shape, [3]);
}

#[test]
fn embedding_indices_outside_the_table_are_errors() {
    use section9::graph::GraphError;
    use section9::graph::quantize::QuantizeError;
    let (bytes, _) = embedding_model(&[0; 8]);
    let (graph, ..) = run_ids(&bytes, &id_samples(8, 6), &[0.0; 8], &Options::default());
    let ids = |at: usize, v: f64| {
        let mut x = vec![1.0; 8];
        x[at] = v;
        vec![x]
    };
    // Past the table, a fraction, a negative id the calibration never counted from the end:
    // each refused by name, never rounded or clamped to another row.
    for (at, v) in [(3, 16.0), (5, 2.5), (0, -1.0), (7, 1e300), (1, f64::NAN)] {
        let err = graph.quantize_inputs(&ids(at, v)).expect_err("an id outside the table");
        assert!(matches!(err, GraphError::InputIndex { index: 0, at: a, lo: 0, hi: 15, .. } if a == at), "{err:?}");
        assert!(err.to_string().contains("holds table indices") && err.to_string().contains("not an integer in [0, 15]"), "{err}");
    }
    // The integer reference refuses an id past the table too, though it is a byte.
    let err = graph.run(&[vec![1, 1, 20, 1, 1, 1, 1, 1]]).expect_err("an id outside the table");
    assert!(matches!(err, GraphError::InputRange { at: 2, value: 20, lo: 0, hi: 15, .. }), "{err:?}");

    // Calibration names the lookup and the sample.
    let imported = import(&bytes).unwrap();
    let mut samples: Vec<Vec<Vec<f64>>> = id_samples(4, 7).into_iter().map(|s| vec![s]).collect();
    samples[2][0][6] = 16.0;
    let err = quantize(&imported.graph, &samples, &Options::default(), &imported.hints).expect_err("an id outside the table");
    assert!(matches!(err, QuantizeError::Node { .. }), "{err:?}");
    assert!(err.to_string().contains("Gather") && err.to_string().contains("sample 2 gives index 16 at 6") && err.to_string().contains("[-16, 16)"), "{err}");
    samples[2][0][6] = 0.5;
    let err = quantize(&imported.graph, &samples, &Options::default(), &imported.hints).expect_err("a fractional id");
    assert!(err.to_string().contains("gives index 0.5"), "{err}");

    // A vocabulary above 256 rows, and one above 128 with ids counted from the end.
    let big = |rows: i64| {
        let mut b = Builder::new(23);
        let x = b.input("ids", &[1, 4]);
        let e = b.random(&[rows, 3], 1.0);
        let y = b.node("Gather", &[&e, &x], vec![]);
        integer_inputs(&b.finish(&[&y]), &["ids"], 7)
    };
    assert_refused(&big(300), &["Gather", "300 rows on axis 0", "at most 256 rows"]);
    let bytes = big(200);
    let imported = import(&bytes).expect("200 rows import");
    let err = quantize(&imported.graph, &[vec![vec![0.0, -1.0, 199.0, 5.0]]], &Options::default(), &imported.hints).expect_err("negative ids into 200 rows");
    assert!(err.to_string().contains("negative indices") && err.to_string().contains("at most 128 rows"), "{err}");
    let (graph, _) = quantize(&imported.graph, &[vec![vec![0.0, 1.0, 199.0, 5.0]]], &Options::default(), &imported.hints).expect("non-negative ids into 200 rows");
    assert_eq!((graph.indices()[0].lo, graph.indices()[0].hi), (0, 199));
}

#[test]
fn an_embedding_proves_and_a_tampered_lookup_fails() {
    use halo2_proofs::dev::MockProver;
    use halo2_proofs::halo2curves::bn256::Fr;
    use section9::circuit::graph::{GraphCircuit, GraphParams, GraphWitness, Visibility};
    use section9::circuit::graph_plan::{GraphTamper, GraphTrace, Step};
    use section9::circuit::DEFAULT_WIDTH;

    let ids = [3i64, 0, 15, 7, 7, 1, 12, 9];
    let (bytes, _) = embedding_model(&ids);
    let input: Vec<f64> = ids.iter().map(|&i| i as f64).collect();
    let (graph, ..) = run_ids(&bytes, &id_samples(8, 4), &input, &Options::default());
    let q = graph.quantize_inputs(&[input]).unwrap();
    // `honest`: the public values of the honest witness (else those of the tampered one).
    let mock = |vis: Visibility, tamper: Option<GraphTamper>, honest: bool| -> Result<(), Vec<String>> {
        let params = GraphParams::new(graph.clone(), DEFAULT_WIDTH, vis, Visibility::Public).expect("plans");
        let trace = match (tamper, honest) {
            (Some(t), false) => GraphTrace::tampered(&params.plan, &graph, &q, t),
            _ => GraphTrace::new(&params.plan, &graph, &q),
        };
        let instances = params.instances_of(&trace.wires, Fr::zero(), &[0; 20]);
        let k = params.k();
        let circuit = GraphCircuit { params, witness: Some(GraphWitness { tamper, ..GraphWitness::new(q.clone()) }) };
        MockProver::run(k, &circuit, vec![instances]).expect("synthesizes").verify().map_err(|fs| fs.iter().map(|f| f.to_string()).collect())
    };
    let assert_fails = |result: Result<(), Vec<String>>, what: &str| {
        let failures = result.expect_err("the tampered witness must not verify");
        assert!(failures.iter().any(|f| f.contains(what)), "expected {what:?} among failures: {failures:#?}");
    };

    // The circuit computes the integer reference and proves it.
    let params = GraphParams::new(graph.clone(), DEFAULT_WIDTH, Visibility::Private, Visibility::Public).unwrap();
    let trace = GraphTrace::new(&params.plan, &graph, &q);
    let values = graph.run(&q).unwrap();
    let out = graph.outputs()[0];
    let lo = graph.tensors()[out].lo;
    assert_eq!(trace.output(&params.plan, 0), values[out].iter().map(|v| v - lo).collect::<Vec<_>>(), "circuit witness vs integer reference");
    mock(Visibility::Private, None, true).expect("the honest witness verifies");
    mock(Visibility::Public, None, true).expect("the honest witness verifies with public ids");

    // A looked-up value replaced by the same column's value in the next row: no such
    // (index, value) pair is in that column's table.
    let (node, wires) = params.plan.steps.iter().find_map(|s| match s { Step::Table { node, outputs, .. } => Some((*node, outputs.clone())), _ => None }).expect("a lookup");
    let section9::graph::Op::Table { values: column } = &graph.nodes()[node].op else { panic!("a table node") };
    let (at, &w) = wires.iter().enumerate().find(|&(at, _)| column[q[0][at] as usize + 1] != column[q[0][at] as usize]).expect("a row that differs from the next");
    let delta = column[q[0][at] as usize + 1] - column[q[0][at] as usize];
    assert_fails(mock(Visibility::Private, Some(GraphTamper::Wire { wire: w, delta }), false), "table: (tag, x', y') ∈ T");
    // A public id changed under the proof (the lookups follow it honestly): the proof no
    // longer speaks of the ids the verifier holds.
    let id_wire = params.plan.inputs[0][0];
    let failures = mock(Visibility::Public, Some(GraphTamper::Wire { wire: id_wire, delta: 1 }), true).expect_err("a changed public id must not verify");
    assert!(failures.iter().any(|f| f.contains("Column('Instance'") && f.ends_with("on row 0)")), "the id's public cell: {failures:#?}");
    // A private id past the table (15 → 16, still a byte) reads the nearest row, 15: it
    // proves exactly the outputs a valid id does, nothing new.
    let tamper = GraphTamper::Wire { wire: params.plan.inputs[0][2], delta: 1 };
    mock(Visibility::Private, Some(tamper), false).expect("an id past the table reads its nearest row");
    assert_eq!(GraphTrace::tampered(&params.plan, &graph, &q, tamper).output(&params.plan, 0), trace.output(&params.plan, 0));
}
