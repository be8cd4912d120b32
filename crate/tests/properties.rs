//! Property tests of the integer arithmetic against independent formulations.

use proptest::prelude::*;
use section9::graph::{round_shift, Geometry, Graph, Node, Op, TensorInfo};

/// A ConvTranspose node's data: its geometry, weights `[Cin, Cout/groups, kH, kW]`, one bias
/// per output channel, and an input of stored bytes.
#[derive(Clone, Debug)]
struct ConvCase {
    geometry: Geometry,
    weights: Vec<i64>,
    bias: Vec<i64>,
    x: Vec<i64>,
}

/// Gather form of ConvTranspose, written from the ONNX definition: output (co, oy, ox) sums,
/// over the input channels of its group and every kernel position (ky, kx), the input that
/// the scatter `o = i·stride + k·dilation - pad` sends there.
fn conv_transpose_gather(geometry: &Geometry, weights: &[i64], bias: &[i64], x: &[i64]) -> Vec<i64> {
    let Geometry::ConvTranspose {
        input: [cin, ih, iw],
        output: [cout, oh, ow],
        kernel: [kh, kw],
        stride: [sy, sx],
        pad: [py, px],
        dilation: [dy, dx],
        groups,
    } = *geometry
    else {
        unreachable!()
    };
    let (cin_g, cout_g) = (cin / groups, cout / groups);
    let mut out = Vec::new();
    for co in 0..cout {
        let group = co / cout_g;
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = bias[co];
                for ci in group * cin_g..(group + 1) * cin_g {
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let (ny, nx) = (oy + py, ox + px);
                            let (ty, tx) = (ky * dy, kx * dx);
                            if ny < ty || nx < tx || (ny - ty) % sy != 0 || (nx - tx) % sx != 0 {
                                continue;
                            }
                            let (iy, ix) = ((ny - ty) / sy, (nx - tx) / sx);
                            if iy < ih && ix < iw {
                                let w = weights[((ci * cout_g + co % cout_g) * kh + ky) * kw + kx];
                                acc += w * x[(ci * ih + iy) * iw + ix];
                            }
                        }
                    }
                }
                out.push(acc);
            }
        }
    }
    out
}

/// The library's accumulators: bias plus every tap of [`Geometry::taps`] (what `Graph::run`
/// and the circuit plan both enumerate), before the shift.
fn accumulate(geometry: &Geometry, weights: &[i64], bias: &[i64], x: &[i64]) -> Vec<i64> {
    (0..geometry.output_len())
        .map(|o| {
            let mut acc = bias[geometry.bias_index(o)];
            geometry.taps(o, |t| {
                assert_eq!(t.operand, 0);
                acc += weights[t.weight] * x[t.index];
            });
            acc
        })
        .collect()
}

/// ConvTranspose cases: 1–3 groups of 1–3 input and output channels, inputs up to 4×4, square
/// kernels up to 4, strides up to 3, dilations up to 2, padding up to `(k - 1)/2` and up to 2
/// extra output rows and columns (ONNX `output_padding`: they hold the bias only, or the
/// terms that reach them).
fn conv_case() -> impl Strategy<Value = ConvCase> {
    (1usize..4, 1usize..4, 1usize..4, 1usize..5, 1usize..5, 1usize..5, 1usize..4, 0usize..3, 1usize..3, 0usize..3)
        .prop_flat_map(|(groups, cin_g, cout_g, ih, iw, k, s, p, d, extra)| {
            let (cin, cout) = (groups * cin_g, groups * cout_g);
            let p = p.min((k - 1) / 2);
            let oh = (ih - 1) * s + (k - 1) * d + 1 - 2 * p + extra;
            let ow = (iw - 1) * s + (k - 1) * d + 1 - 2 * p + extra;
            let geometry = Geometry::ConvTranspose {
                input: [cin, ih, iw],
                output: [cout, oh, ow],
                kernel: [k, k],
                stride: [s, s],
                pad: [p, p],
                dilation: [d, d],
                groups,
            };
            (
                prop::collection::vec(any::<i8>().prop_map(i64::from), geometry.weight_count()),
                prop::collection::vec(-1000i64..1000, cout),
                prop::collection::vec(0i64..256, cin * ih * iw),
                Just(geometry),
            )
        })
        .prop_map(|(weights, bias, x, geometry)| ConvCase { geometry, weights, bias, x })
}

/// A graph of the one ConvTranspose node: input `[1, Cin, H, W]` in `[0, 255]`, output
/// `[1, Cout, H', W']` in `[lo, hi]`.
fn conv_graph(case: &ConvCase, shift: u32, lo: i64, hi: i64) -> Result<Graph, section9::graph::GraphError> {
    let Geometry::ConvTranspose { input: [cin, ih, iw], output: [cout, oh, ow], .. } = case.geometry else { unreachable!() };
    let tensors = vec![
        TensorInfo { name: "x".into(), shape: vec![1, cin, ih, iw], frac_bits: 4, lo: 0, hi: 255 },
        TensorInfo { name: "y".into(), shape: vec![1, cout, oh, ow], frac_bits: 4, lo, hi },
    ];
    let node = Node {
        name: "t".into(),
        op: Op::Linear { geometry: case.geometry.clone(), weights: case.weights.clone(), bias: case.bias.clone(), shift },
        inputs: vec![0],
        output: 1,
    };
    Graph::new(tensors, vec![0], vec![1], vec![node])
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(prop::test_runner::FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn conv_transpose_taps_equal_gather(case in conv_case()) {
        case.geometry.check().unwrap();
        prop_assert_eq!(
            accumulate(&case.geometry, &case.weights, &case.bias, &case.x),
            conv_transpose_gather(&case.geometry, &case.weights, &case.bias, &case.x)
        );
    }

    /// The integer reference end to end: the graph's output is the gather form's accumulator,
    /// shifted (round half up) and clamped.
    #[test]
    fn conv_transpose_graph_runs_the_gather_form(case in conv_case(), shift in 1u32..16) {
        let (lo, hi) = (-32768, 32767);
        let graph = conv_graph(&case, shift, lo, hi).unwrap();
        let values = graph.run(std::slice::from_ref(&case.x)).unwrap();
        let want: Vec<i64> = conv_transpose_gather(&case.geometry, &case.weights, &case.bias, &case.x)
            .into_iter()
            .map(|acc| round_shift(acc, shift).clamp(lo, hi))
            .collect();
        prop_assert_eq!(&values[1], &want);
    }

    #[test]
    fn conv_transpose_macs_count_the_terms_that_land(case in conv_case()) {
        // With every input 1 and every weight 2 (shift 1 halves it back), each output counts
        // its contributing terms.
        let ones = ConvCase {
            weights: vec![2; case.weights.len()],
            bias: vec![0; case.bias.len()],
            x: vec![1; case.x.len()],
            geometry: case.geometry.clone(),
        };
        let graph = conv_graph(&ones, 1, 0, 255).unwrap();
        let total: i64 = graph.run(std::slice::from_ref(&ones.x)).unwrap()[1].iter().sum();
        prop_assert_eq!(total as usize, case.geometry.macs());
        prop_assert_eq!(graph.macs(), case.geometry.macs());
        // And the independent count: the gather form with unit weights.
        let unit = vec![1; case.weights.len()];
        let gathered: i64 = conv_transpose_gather(&case.geometry, &unit, &ones.bias, &ones.x).iter().sum();
        prop_assert_eq!(gathered as usize, case.geometry.macs());
    }

    #[test]
    fn round_shift_is_round_half_up(a in -(1i64 << 45)..(1i64 << 45), s in 1u32..30) {
        let exact = (a as i128 * 2 + (1i128 << s)).div_euclid(1i128 << (s + 1));
        prop_assert_eq!(i128::from(round_shift(a, s)), exact);
        // The remainder the circuit range-checks: a + 2^(s-1) = r·2^s + rem, 0 ≤ rem < 2^s.
        let rem = a + (1 << (s - 1)) - (round_shift(a, s) << s);
        prop_assert!((0..1i64 << s).contains(&rem));
    }
}

#[test]
fn a_shift_of_zero_is_refused() {
    let case = ConvCase {
        geometry: Geometry::ConvTranspose {
            input: [1, 1, 1],
            output: [3, 2, 2],
            kernel: [2, 2],
            stride: [2, 2],
            pad: [0, 0],
            dilation: [1, 1],
            groups: 1,
        },
        weights: vec![1; 12],
        bias: vec![0; 3],
        x: vec![0],
    };
    let err = conv_graph(&case, 0, -128, 127).unwrap_err();
    assert!(err.to_string().contains("shift 0 is outside [1, 48]"), "{err}");
    assert!(err.to_string().contains("`t`"), "the error names the node: {err}");
    // The same node with a shift of 1 is a valid graph: the shift alone was refused.
    conv_graph(&case, 1, -128, 127).unwrap();
}
