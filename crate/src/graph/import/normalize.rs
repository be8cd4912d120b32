//! Normalizations that divide by a computed tensor: Softmax, LogSoftmax (opset 1–12: over the
//! input coerced to 2-D at `axis`, default 1; opset 13+: over `axis`, default -1) and
//! LayerNormalization (opset 17: over the axes from `axis`, default -1, with `epsilon`, a
//! constant scale and an optional constant bias). Older exports spell LayerNorm out as
//! ReduceMean, Sub, Pow 2, ReduceMean, Add, Sqrt, Div, Mul, Add; each of those is read by its
//! own family and lowers to the same nodes.
//!
//! Softmax: `m = max(x)` (a max pool over the axis), `c = x - m` (a sum; `c ≤ 0`), `e = exp(c)`
//! (a table reading 8-bit `c`: its error is at most half a step of `c` times `e`, i.e. a
//! relative error of `2^-(f_c+1)`), `s = Σ e` (a pool sum, `s ≥ 1`: the largest term is
//! `e⁰`), `y = e / s` (a division). LogSoftmax ends with `c - ln(s)` instead (a Log table on
//! the sum, read at 8 bits: its error is half a step of `s` over `s`).
//!
//! A Softmax may read scores with a constant attention mask added (`Add` of a constant holding
//! −∞, as a causal mask is exported): the hidden positions are rewired to a visible value of their
//! row for the max, and their exponentials to zeros before the sum, so they come out exactly 0
//! — the mask is wiring, free in the circuit. A row the mask hides entirely is refused.
//!
//! LayerNorm: `μ = mean(x)`, `d = x - μ`, `v = mean(d·d)`, `σ = sqrt(v + ε)` (a sum, then a Sqrt
//! table reading 8-bit `v + ε`), `y = scale·(d / σ) + bias` (a division, then one weight and
//! bias per value). Every mean, sum or max is taken over the axes as one row, rewired to the
//! end (free), and broadcast back by rewiring.

use super::*;

/// The row of flat index `i` of a tensor of shape `s` normalized over `axes` (every other
/// coordinate, as one number).
fn row_of(s: &[usize], axes: &[usize]) -> impl Fn(usize) -> usize {
    let (s, axes) = (s.to_vec(), axes.to_vec());
    move |mut i| {
        let mut row = 0;
        for (a, &d) in s.iter().enumerate().rev() {
            let c = i % d;
            i /= d;
            if !axes.contains(&a) {
                row = row * d + c;
            }
        }
        row
    }
}

impl Reader {
    pub(super) fn normalize(&mut self, node: &NodeProto, name: &str, out_name: &str, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
        let op = node.op_type.as_str();
        let x = self.var(node, 0).ok_or_else(|| err("the input must be a computed tensor"))?;
        let s = self.shape(x);
        let rank = s.len();
        let legacy = op != "LayerNormalization" && self.opset < 13;
        let default_axis = if legacy { 1 } else { -1 };
        let axis = attr_int(node, "axis", default_axis);
        let first = axis_index(axis, rank).ok_or_else(|| err(&format!("axis {axis} is outside rank {rank}")))?;
        // Opset < 13 and LayerNormalization normalize over every axis from `axis` on.
        let axes: Vec<usize> = if legacy || op == "LayerNormalization" { (first..rank).collect() } else { vec![first] };
        let len = s.iter().product::<usize>();
        let part = |p: &str| (format!("{name}/{p}"), format!("{out_name}/{p}"));
        // `t` reduced over the axes (kept as 1s), broadcast back to `s`.
        let reduce_back = |r: &mut Reader, t: usize, what: &str, p: &str| -> Result<usize, ImportError> {
            let (n, o) = part(p);
            let reduced = r.reduce_axes(node, &n, &o, t, &axes, true, what, err)?;
            let sources = broadcast_sources(&r.shape(reduced), &s);
            r.push(node, &format!("{n}/broadcast"), FloatOp::Gather { sources }, vec![reduced], &format!("{o}/broadcast"), s.clone())
        };
        let difference = |r: &mut Reader, a: usize, b: usize, n: &str, o: &str| {
            let geometry = Geometry::Sum { operands: 2, len };
            r.push(node, n, FloatOp::Linear { geometry, weights: vec![1.0, -1.0], bias: vec![0.0], clamp: None }, vec![a, b], o, s.clone())
        };
        // A −∞ attention mask: the positions it hides read a visible value of their row for the
        // max (so it is the visible values' max), and their exponentials are zeros.
        let hidden = self.masks.get(&x).cloned();
        let (x, visible) = match &hidden {
            Some(_) if op == "LogSoftmax" => return Err(err("LogSoftmax of a −∞ attention mask would output −∞")),
            Some(hidden) => {
                let row = row_of(&s, &axes);
                let mut first_visible = HashMap::new();
                for (i, _) in hidden.iter().enumerate().filter(|(_, &h)| !h) {
                    first_visible.entry(row(i)).or_insert(i);
                }
                let sources = (0..len)
                    .map(|i| if hidden[i] { first_visible.get(&row(i)).map(|&j| Some((0, j))).ok_or_else(|| err("the attention mask hides every value of a row")) } else { Ok(Some((0, i))) })
                    .collect::<Result<Vec<_>, _>>()?;
                let (n, o) = part("visible");
                (self.push(node, &n, FloatOp::Gather { sources }, vec![x], &o, s.clone())?, Some(hidden))
            }
            None => (x, None),
        };
        match op {
            "Softmax" | "LogSoftmax" => {
                let max = reduce_back(self, x, "ReduceMax", "max")?;
                let (n, o) = part("centered");
                let centered = difference(self, x, max, &n, &o)?;
                let (n, o) = part("exp");
                let mut e = self.push(node, &n, FloatOp::Func(Func::Exp), vec![centered], &o, s.clone())?;
                if let Some(hidden) = visible {
                    let sources = hidden.iter().enumerate().map(|(i, &h)| (!h).then_some((0, i))).collect();
                    let (n, o) = part("masked");
                    e = self.push(node, &n, FloatOp::Gather { sources }, vec![e], &o, s.clone())?;
                }
                if op == "Softmax" {
                    let sum = reduce_back(self, e, "ReduceSum", "sum")?;
                    self.push(node, name, FloatOp::Div { clamp: None }, vec![e, sum], out_name, s.clone())?;
                } else {
                    let (n, o) = part("sum");
                    let sum = self.reduce_axes(node, &n, &o, e, &axes, true, "ReduceSum", err)?;
                    let (n, o) = part("log");
                    let sum_shape = self.shape(sum);
                    let log = self.push(node, &n, FloatOp::Func(Func::Ln), vec![sum], &o, sum_shape.clone())?;
                    let sources = broadcast_sources(&sum_shape, &s);
                    let log = self.push(node, &format!("{n}/broadcast"), FloatOp::Gather { sources }, vec![log], &format!("{o}/broadcast"), s.clone())?;
                    difference(self, centered, log, name, out_name)?;
                }
            }
            _ => {
                let eps = attr_float(node, "epsilon", 1e-5);
                let scale = self.cst(node, 1).cloned().ok_or_else(|| err("the scale must be a constant"))?;
                let bias = match node.input.get(2).filter(|n| !n.is_empty()) {
                    Some(_) => Some(self.cst(node, 2).cloned().ok_or_else(|| err("the bias must be a constant"))?),
                    None => None,
                };
                let mean = reduce_back(self, x, "ReduceMean", "mean")?;
                let (n, o) = part("centered");
                let d = difference(self, x, mean, &n, &o)?;
                let (n, o) = part("square");
                let sq = self.push(node, &n, FloatOp::Mul { clamp: None }, vec![d, d], &o, s.clone())?;
                let (n, o) = part("variance");
                let var = self.reduce_axes(node, &n, &o, sq, &axes, true, "ReduceMean", err)?;
                let (n, o) = part("epsilon");
                let var = self.scalar_affine(node, &n, &o, var, 1.0, eps)?;
                let (n, o) = part("std");
                let std_shape = self.shape(var);
                let std = self.push(node, &n, FloatOp::Func(Func::Sqrt), vec![var], &o, std_shape.clone())?;
                let sources = broadcast_sources(&std_shape, &s);
                let std = self.push(node, &format!("{n}/broadcast"), FloatOp::Gather { sources }, vec![std], &format!("{o}/broadcast"), s.clone())?;
                let (n, o) = part("normalized");
                let normalized = self.push(node, &n, FloatOp::Div { clamp: None }, vec![d, std], &o, s.clone())?;
                let per_value = |c: &Const| -> Result<Vec<f32>, ImportError> {
                    if broadcast(&c.dims, &s).as_deref() != Some(&s[..]) {
                        return Err(err(&format!("a parameter of shape {:?} does not broadcast to {s:?}", c.dims)));
                    }
                    Ok(broadcast_sources(&c.dims, &s).iter().map(|src| c.floats[src.map_or(0, |(_, i)| i)]).collect())
                };
                let w = per_value(&scale)?;
                let b = match &bias {
                    Some(b) => per_value(b)?,
                    None => vec![0.0; len],
                };
                self.element_affine(node, name, out_name, normalized, w, b)?;
            }
        }
        Ok(())
    }
}
