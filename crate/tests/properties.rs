//! Property tests of the integer arithmetic against independent formulations.

use proptest::prelude::*;
use section9::model::{round_shift, InputSpec, Layer, LinearOp, QuantModel};

/// Gather form of ConvTranspose: each output sums the inputs that land on it
/// (the library scatters each input instead).
fn conv_transpose_gather(layer: &Layer, x: &[i64]) -> Vec<i64> {
    let LinearOp::ConvTranspose { input: (cin, ih, iw), output: (cout, oh, ow), kernel: (kh, kw), stride: (sy, sx), pad: (py, px) } = layer.op else {
        unreachable!()
    };
    let mut out = Vec::new();
    for co in 0..cout {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = layer.bias[co];
                for ci in 0..cin {
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let (ny, nx) = (oy + py, ox + px);
                            if ny < ky || nx < kx || (ny - ky) % sy != 0 || (nx - kx) % sx != 0 {
                                continue;
                            }
                            let (iy, ix) = ((ny - ky) / sy, (nx - kx) / sx);
                            if iy < ih && ix < iw {
                                let w = layer.weights[((ci * cout + co) * kh + ky) * kw + kx];
                                acc += i64::from(w) * x[(ci * ih + iy) * iw + ix];
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

fn conv_case() -> impl Strategy<Value = (Layer, Vec<i64>)> {
    (1usize..4, 1usize..4, 1usize..5, 1usize..5, 1usize..5, 1usize..4, 0usize..3)
        .prop_flat_map(|(cin, cout, ih, iw, k, s, p)| {
            let p = p.min((k - 1) / 2);
            let oh = (ih - 1) * s + k - 2 * p;
            let ow = (iw - 1) * s + k - 2 * p;
            let op = LinearOp::ConvTranspose {
                input: (cin, ih, iw),
                output: (cout, oh, ow),
                kernel: (k, k),
                stride: (s, s),
                pad: (p, p),
            };
            (
                prop::collection::vec(any::<i8>(), op.weight_count()),
                prop::collection::vec(-1000i64..1000, cout),
                prop::collection::vec(0i64..256, cin * ih * iw),
                Just(op),
            )
        })
        .prop_map(|(weights, bias, x, op)| {
            let layer = Layer {
                name: "t".into(),
                op,
                weights,
                bias,
                input_frac_bits: 4,
                weight_frac_bits: 6,
                output_frac_bits: 4,
                clamp: (0, 255),
            };
            (layer, x)
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(prop::test_runner::FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn conv_transpose_scatter_equals_gather((layer, x) in conv_case()) {
        prop_assert_eq!(layer.accumulate(&x), conv_transpose_gather(&layer, &x));
    }

    #[test]
    fn conv_transpose_macs_count_the_terms_that_land((layer, _x) in conv_case()) {
        // With every input 1 and every weight 1, each output counts its contributing terms.
        let mut ones = layer.clone();
        ones.weights = vec![1; ones.weights.len()];
        ones.bias = vec![0; ones.bias.len()];
        let n = ones.op.input_shape().len();
        let total: i64 = ones.accumulate(&vec![1; n]).iter().sum();
        prop_assert_eq!(total as usize, layer.op.macs());
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
    let layer = Layer {
        name: "up".into(),
        op: LinearOp::ConvTranspose { input: (1, 1, 1), output: (3, 2, 2), kernel: (2, 2), stride: (2, 2), pad: (0, 0) },
        weights: vec![1; 12],
        bias: vec![0; 3],
        input_frac_bits: 7,
        weight_frac_bits: 0,
        output_frac_bits: 7,
        clamp: (-128, 127),
    };
    let err = QuantModel::new(InputSpec { name: "z".into(), len: 1, frac_bits: 7 }, vec![layer]).unwrap_err();
    assert!(err.to_string().contains("must be at least 1"), "{err}");
}
