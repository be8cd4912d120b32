//! Reductions: ReduceMean, ReduceSum, ReduceMax, ReduceMin over any axes (as the `axes`
//! attribute before opset 18 — 13 for ReduceSum — or as an input after), with `keepdims` and
//! `noop_with_empty_axes`.
//!
//! The reduced axes are rewired to the end (free), so every reduction is over contiguous rows
//! `[kept, reduced]`: mean and sum are an average pool over each row (its weights `1/n` or 1
//! get 16 bits, like every pool's), max a max pool over it, min `-max(-x)` (both negations
//! exact). A global average pool exported as `ReduceMean(axes = [2, 3])` is the same pool as
//! GlobalAveragePool.

use super::*;

impl Reader {
    pub(super) fn reduce(&mut self, node: &NodeProto, name: &str, out_name: &str, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
        let op = node.op_type.as_str();
        let x = self.var(node, 0).ok_or_else(|| err("the input must be a computed tensor"))?;
        let s = self.shape(x);
        let rank = s.len();
        let axes = match (attr_ints(node, "axes"), node.input.get(1).filter(|n| !n.is_empty())) {
            (Some(a), _) => a,
            (None, Some(_)) => self.cst(node, 1).ok_or_else(|| err("axes must be a constant"))?.ints.clone(),
            (None, None) => Vec::new(),
        };
        let mut reduced: Vec<usize> = axes.iter().map(|&a| axis_index(a, rank)).collect::<Option<_>>().ok_or_else(|| err(&format!("axes {axes:?} are outside rank {rank}")))?;
        reduced.sort_unstable();
        reduced.dedup();
        if reduced.is_empty() {
            if attr_int(node, "noop_with_empty_axes", 0) != 0 {
                let sources = (0..s.iter().product()).map(|i| Some((0, i))).collect();
                self.push(node, name, FloatOp::Gather { sources }, vec![x], out_name, s)?;
                return Ok(());
            }
            reduced = (0..rank).collect();
        }
        let keepdims = attr_int(node, "keepdims", 1) != 0;
        self.reduce_axes(node, name, out_name, x, &reduced, keepdims, op, err)?;
        Ok(())
    }

    /// `op` (ReduceMean, ReduceSum, ReduceMax or ReduceMin) of `x` over the sorted axes
    /// `reduced`; returns the output tensor.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn reduce_axes(
        &mut self,
        node: &NodeProto,
        name: &str,
        out_name: &str,
        x: usize,
        reduced: &[usize],
        keepdims: bool,
        op: &str,
        err: &dyn Fn(&str) -> ImportError,
    ) -> Result<usize, ImportError> {
        let s = self.shape(x);
        let rank = s.len();
        let kept: Vec<usize> = (0..rank).filter(|a| !reduced.contains(a)).collect();
        let rows: usize = kept.iter().map(|&a| s[a]).product();
        let n: usize = reduced.iter().map(|&a| s[a]).product();
        let shape: Vec<usize> = (0..rank).filter_map(|a| if reduced.contains(&a) { keepdims.then_some(1) } else { Some(s[a]) }).collect();
        // Kept axes first, reduced axes last (already so when the reduced axes trail).
        let order: Vec<usize> = kept.iter().chain(reduced).copied().collect();
        let mut rowed = x;
        if order.iter().enumerate().any(|(i, &a)| i != a) {
            let (permuted, sources) = super::gather::transpose_map(&s, Some(order.iter().map(|&a| a as i64).collect())).map_err(|what| err(&what))?;
            let sources = sources.into_iter().map(|i| Some((0, i))).collect();
            rowed = self.push(node, &format!("{name}/rows"), FloatOp::Gather { sources }, vec![x], &format!("{out_name}/rows"), permuted)?;
        }
        match op {
            "ReduceMean" | "ReduceSum" => {
                let geometry = Geometry::Pool { input: [rows, 1, n], output: [rows, 1, 1], kernel: [1, n], stride: [1, 1], dilation: [1, 1], pad: [0; 4], count_include_pad: false };
                // Weight `k - 1` scales a window of `k` counted values; every window here has `n`.
                let weights = (1..=n).map(|k| if op == "ReduceMean" { 1.0 / k as f32 } else { 1.0 }).collect();
                self.push(node, name, FloatOp::Linear { geometry, weights, bias: vec![0.0], clamp: None }, vec![rowed], out_name, shape)
            }
            _ => {
                let geometry = Geometry::Conv { input: [rows, 1, n], output: [rows, 1, 1], kernel: [1, n], stride: [1, 1], dilation: [1, 1], pad: [0, 0], groups: rows };
                if op == "ReduceMax" {
                    self.push(node, name, FloatOp::Max { geometry }, vec![rowed], out_name, shape)
                } else {
                    let negated = self.scalar_affine(node, &format!("{name}/neg"), &format!("{out_name}/neg"), rowed, -1.0, 0.0)?;
                    let max = self.push(node, &format!("{name}/max"), FloatOp::Max { geometry }, vec![negated], &format!("{out_name}/max"), shape)?;
                    self.scalar_affine(node, name, out_name, max, -1.0, 0.0)
                }
            }
        }
    }
}
