//! Elementwise activations: Relu, LeakyRelu, Sigmoid, Tanh, Clip, Erf, Gelu (`approximate`
//! none and tanh), HardSigmoid, HardSwish, Exp, Log, Softplus, Sqrt, Reciprocal, Neg.
//!
//! Exact ones cost no table: a Relu or Clip after a linear node is fused into its clamp later
//! (`FloatGraph::simplify`); LeakyRelu is a sum of `x` and `relu(x)`; HardSigmoid is the
//! clamped affine map `clamp(αx + β, 0, 1)`; Neg is `-x`; Sqrt is a square-root node at any
//! activation width (calibration turns it into `Op::Sqrt`, proven by the `sqrt` chip). The rest
//! are tables, and a product
//! that is one of them (the classic exporter's GELU `x·0.5·(1 + erf(x/√2))`, SiLU
//! `x·sigmoid(x)`) is fused into one table by `FloatGraph::simplify`.
//!
//! **How a function reads its input.** A table holds one output per input integer, so with
//! 8-bit activations a function is one lookup. With 16-bit activations a table would need its
//! input requantized to 8 bits, and the error of that 256-step grid (GELU: a step of 1/32 over
//! [-4, 4], times the slope, summed by the next layer) would stay whatever the width; instead
//! calibration interpolates the function between 257 table points: two 8-bit tables indexed by
//! the input's top byte (the function and its rise over the segment) and a product with the
//! low byte (`crate/src/graph/interpolate.rs`). Measured by
//! `sixteen_bit_functions_interpolate_between_table_points` in crate/tests/operators.rs (a Gemm
//! 16 → 16, the function, a Gemm 16 → 4, calibrated on 64 samples uniform in [-2, 2]; largest
//! |integer − float| of the output over its largest |float| value):
//!
//! | function    | 8-bit activations (table) | 16-bit activations (interpolated) |
//! |-------------|---------------------------|-----------------------------------|
//! | Gelu        | 3.34%                     | 0.018%                            |
//! | Gelu (tanh) | 3.35%                     | 0.021%                            |
//! | Erf         | 2.37%                     | 0.023%                            |
//! | HardSwish   | 3.34%                     | 0.018%                            |
//! | Softplus    | 1.74%                     | 0.009%                            |
//! | Exp         | 4.30%                     | 0.037%                            |
//! | Sigmoid     | 1.53%                     | 0.007%                            |
//! | Tanh        | 2.30%                     | 0.020%                            |
//! | HardSigmoid | 1.66%                     | 0.006% (no table: affine, clamped) |
//!
//! Interpolation costs four arithmetic rows and two lookups per value where a table costs a
//! lookup; a function undefined at a table point (a logarithm of negative inputs), or one the
//! chords would fit worse than the 8-bit table (a pole inside a segment), keeps the table.

use super::*;

impl Reader {
    /// An elementwise activation.
    pub(super) fn activation(&mut self, node: &NodeProto, name: &str, out_name: &str, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
        let op = node.op_type.as_str();
        let x = self.var(node, 0);
        let (name, out_name) = (name.to_string(), out_name.to_string());
        match op {
            "HardSigmoid" | "Neg" => {
                // Affine, then (HardSigmoid) clamped: exact at any width, no table.
                let x = x.ok_or_else(|| err("the input must be a computed tensor"))?;
                let (w, b, clamp) = match op {
                    "Neg" => (-1.0, 0.0, None),
                    _ => (attr_float(node, "alpha", 0.2), attr_float(node, "beta", 0.5), Some((0.0, 1.0))),
                };
                let shape = self.shape(x);
                // A one-channel 1×1 convolution, not an elementwise sum: its weight gets the full
                // weight width (a sum's weights keep 7 significant bits, too few for α at 16 bits).
                let n = shape.iter().product();
                let geometry = Geometry::Conv { input: [1, n, 1], output: [1, n, 1], kernel: [1, 1], stride: [1, 1], dilation: [1, 1], pad: [0, 0], groups: 1 };
                self.push(node, &name, FloatOp::Linear { geometry, weights: vec![w], bias: vec![b], clamp }, vec![x], &out_name, shape)?;
            }
            "Relu" | "LeakyRelu" | "Sigmoid" | "Tanh" | "Clip" | "Erf" | "Gelu" | "HardSwish" | "Exp" | "Softplus" | "Sqrt" | "Reciprocal" | "Log" => {
                let x = x.ok_or_else(|| err("the input must be a computed tensor"))?;
                let f = match op {
                    "Erf" => Func::Erf,
                    "Gelu" => match attr_str(node, "approximate", "none").as_str() {
                        "none" => Func::Gelu,
                        "tanh" => Func::GeluTanh,
                        other => return Err(err(&format!("approximate `{other}` is not supported (none or tanh)"))),
                    },
                    "HardSwish" => Func::HardSwish,
                    "Exp" => Func::Exp,
                    "Softplus" => Func::Softplus,
                    "Sqrt" => Func::Sqrt,
                    "Reciprocal" => Func::Reciprocal,
                    "Log" => Func::Ln,
                    "Relu" => Func::Relu,
                    "LeakyRelu" => Func::LeakyRelu(attr_float(node, "alpha", 0.01)),
                    "Sigmoid" => Func::Sigmoid,
                    "Tanh" => Func::Tanh,
                    _ => {
                        let bound = |i: usize, a: &str, d: f32| -> Result<f32, ImportError> {
                            if node.input.get(i).is_some_and(|n| !n.is_empty()) {
                                return self.cst(node, i).and_then(|c| c.floats.first().copied()).ok_or_else(|| err("min and max must be constants"));
                            }
                            Ok(attr_float(node, a, d))
                        };
                        Func::Clip(bound(1, "min", f32::NEG_INFINITY)?, bound(2, "max", f32::INFINITY)?)
                    }
                };
                let shape = self.shape(x);
                if let Func::LeakyRelu(alpha) = f {
                    // Exact at any width, no table: α·x + (1 - α)·relu(x).
                    let len = shape.iter().product();
                    let relu = FloatOp::Linear { geometry: Geometry::Sum { operands: 1, len }, weights: vec![1.0], bias: vec![0.0], clamp: Some((0.0, f32::INFINITY)) };
                    let r = self.push(node, &format!("{name}/relu"), relu, vec![x], &format!("{out_name}/relu"), shape.clone())?;
                    let mix = FloatOp::Linear { geometry: Geometry::Sum { operands: 2, len }, weights: vec![alpha, 1.0 - alpha], bias: vec![0.0], clamp: None };
                    self.push(node, &name, mix, vec![x, r], &out_name, shape)?;
                } else {
                    self.push(node, &name, FloatOp::Func(f), vec![x], &out_name, shape)?;
                }
            }
            _ => return Err(err("operator not supported")),
        }
        Ok(())
    }
}
