//! Elementwise activations: Relu, LeakyRelu, Sigmoid, Tanh, Clip. A Relu or Clip after a linear
//! node is fused into its clamp later (`FloatGraph::simplify`); LeakyRelu is exact as a sum of
//! `x` and `relu(x)`; the rest are 8-bit tables.

use super::*;

impl Reader {
    /// An elementwise activation.
    pub(super) fn activation(&mut self, node: &NodeProto, name: &str, out_name: &str, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
        let op = node.op_type.as_str();
        let x = self.var(node, 0);
        let (name, out_name) = (name.to_string(), out_name.to_string());
        match op {
            "Relu" | "LeakyRelu" | "Sigmoid" | "Tanh" | "Clip" => {
                let x = x.ok_or_else(|| err("the input must be a computed tensor"))?;
                let f = match op {
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
