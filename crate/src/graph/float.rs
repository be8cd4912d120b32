//! The float graph: an ONNX model read into the same node kinds as the integer [`Graph`](super::Graph),
//! with float parameters. Calibration runs it; the importer checks it against tract.
//!
//! An embedding (ONNX Gather from a constant table at computed indices) is one
//! [`FloatOp::Lookup`] per table column, each an elementwise function of the integer index,
//! and a [`FloatOp::Gather`] interleaving the columns: the integer graph's tables and rewiring.
//!
//! [`FloatGraph::simplify`] folds what the integer graph has no separate node for: a
//! per-channel affine node (BatchNormalization, constant Add/Mul) into the linear node before
//! it, and Relu/Clip into the clamp of the node before it.

use std::collections::HashMap;

use super::geometry::Geometry;

/// An elementwise function the integer graph evaluates by table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Func {
    Relu,
    LeakyRelu(f32),
    Clip(f32, f32),
    Sigmoid,
    Tanh,
    Erf,
    /// `x·Φ(x)` (ONNX Gelu, `approximate = "none"`).
    Gelu,
    /// `x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³)))` (`approximate = "tanh"`).
    GeluTanh,
    /// `x·clamp(x/6 + 1/2, 0, 1)`.
    HardSwish,
    /// `x·sigmoid(x)` (SiLU): what PyTorch exports as `Mul(x, Sigmoid(x))`.
    Silu,
    Exp,
    /// `ln(1 + eˣ)`.
    Softplus,
    Sqrt,
    Reciprocal,
    /// Natural logarithm (LogSoftmax's `log Σ eˣ`, whose argument is at least 1).
    Ln,
    /// `xᵉ` for a constant exponent other than 2 (which is a product).
    Pow(f32),
}

/// The error function to about 1e-15 in double precision: its Taylor series below 2.5, the
/// continued fraction of `erfc` above (where the series would cancel catastrophically).
pub fn erf(x: f64) -> f64 {
    let a = x.abs();
    if a.is_nan() {
        return x;
    }
    let r = if a < 2.5 {
        // erf(a) = 2/√π · Σ (-1)ⁿ a^(2n+1) / (n! (2n+1))
        let (mut term, mut sum, mut n) = (a, a, 0.0);
        while term.abs() > 1e-17 * sum.abs() {
            n += 1.0;
            term *= -a * a / n;
            sum += term / (2.0 * n + 1.0);
        }
        sum * std::f64::consts::FRAC_2_SQRT_PI
    } else if a < 6.0 {
        // erfc(a) = e^(-a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + …)))), evaluated from the tail.
        let mut k = a;
        for n in (1..=60).rev() {
            k = a + f64::from(n) / 2.0 / k;
        }
        1.0 - (-a * a).exp() * std::f64::consts::FRAC_2_SQRT_PI / 2.0 / k
    } else {
        1.0
    };
    r.copysign(x)
}

impl Func {
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Func::Relu => x.max(0.0),
            Func::LeakyRelu(a) => {
                if x >= 0.0 {
                    x
                } else {
                    x * f64::from(a)
                }
            }
            // max then min: ONNX's result when min > max is max.
            Func::Clip(lo, hi) => x.max(f64::from(lo)).min(f64::from(hi)),
            Func::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Func::Tanh => x.tanh(),
            Func::Erf => erf(x),
            Func::Gelu => 0.5 * x * (1.0 + erf(x * std::f64::consts::FRAC_1_SQRT_2)),
            Func::GeluTanh => 0.5 * x * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x * x * x)).tanh()),
            Func::HardSwish => x * (x / 6.0 + 0.5).clamp(0.0, 1.0),
            Func::Silu => x / (1.0 + (-x).exp()),
            Func::Exp => x.exp(),
            // Written to neither overflow for large x nor lose precision for very negative x.
            Func::Softplus => x.max(0.0) + (-x.abs()).exp().ln_1p(),
            Func::Sqrt => x.sqrt(),
            Func::Reciprocal => x.recip(),
            Func::Ln => x.ln(),
            Func::Pow(e) => x.powf(f64::from(e)),
        }
    }

    /// The clamp it amounts to, when it is one.
    pub fn as_clamp(self) -> Option<(f32, f32)> {
        match self {
            Func::Relu => Some((0.0, f32::INFINITY)),
            Func::Clip(lo, hi) => Some((lo, hi)),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum FloatOp {
    /// `clamp` bounds the output (a fused Relu or Clip).
    Linear { geometry: Geometry, weights: Vec<f32>, bias: Vec<f32>, clamp: Option<(f32, f32)> },
    Gather { sources: Vec<Option<(usize, usize)>> },
    Func(Func),
    Max { geometry: Geometry },
    Mul { clamp: Option<(f32, f32)> },
    /// `a / b` elementwise (the divisor positive; calibration checks it).
    Div { clamp: Option<(f32, f32)> },
    /// `y[r] = Σ_t a[r·k + t]·b[r·k + t]`: inner products of two computed tensors.
    Inner { k: usize },
    /// `y = values[i]` for the integer index `i` (rounded), negative `i` counting from the end
    /// as in ONNX Gather: one column of an embedding table. An index outside
    /// `[-values.len(), values.len())` has no value (NaN; calibration refuses it by name).
    Lookup { values: Vec<f32> },
}

/// The row an ONNX Gather index `i` names in a table of `rows` rows: `i` rounded, negative
/// counting from the end; none outside `[-rows, rows)`.
pub fn table_row(i: f64, rows: usize) -> Option<usize> {
    let r = rows as f64;
    let i = i.round();
    (i >= -r && i < r).then_some(if i < 0.0 { (i + r) as usize } else { i as usize })
}

#[derive(Clone, Debug, PartialEq)]
pub struct FloatNode {
    pub name: String,
    /// The ONNX op type it came from (for messages).
    pub source_op: String,
    pub op: FloatOp,
    pub inputs: Vec<usize>,
    pub output: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FloatTensor {
    pub name: String,
    pub shape: Vec<usize>,
}

impl FloatTensor {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Tensors are defined once: inputs, then node outputs in node order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FloatGraph {
    pub tensors: Vec<FloatTensor>,
    pub inputs: Vec<usize>,
    pub outputs: Vec<usize>,
    pub nodes: Vec<FloatNode>,
}

impl FloatGraph {
    /// Every tensor's values for one set of inputs (lengths are the caller's to check).
    pub fn forward(&self, inputs: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let mut values = vec![Vec::new(); self.tensors.len()];
        for (&t, v) in self.inputs.iter().zip(inputs) {
            values[t] = v.clone();
        }
        for node in &self.nodes {
            let x: Vec<&[f64]> = node.inputs.iter().map(|&i| values[i].as_slice()).collect();
            let n = self.tensors[node.output].len();
            let clamp = |v: f64, c: Option<(f32, f32)>| c.map_or(v, |(lo, hi)| v.max(f64::from(lo)).min(f64::from(hi)));
            values[node.output] = match &node.op {
                FloatOp::Linear { geometry, weights, bias, clamp: c } => (0..n)
                    .map(|o| {
                        let mut acc = f64::from(bias[geometry.bias_index(o)]);
                        geometry.taps(o, |t| acc += f64::from(weights[t.weight]) * x[t.operand][t.index]);
                        clamp(acc, *c)
                    })
                    .collect(),
                FloatOp::Gather { sources } => sources.iter().map(|s| s.map_or(0.0, |(o, i)| x[o][i])).collect(),
                FloatOp::Func(f) => x[0].iter().map(|&v| f.apply(v)).collect(),
                FloatOp::Max { geometry } => (0..n)
                    .map(|o| {
                        let mut m = f64::NEG_INFINITY;
                        geometry.taps(o, |t| m = m.max(x[0][t.index]));
                        m
                    })
                    .collect(),
                FloatOp::Mul { clamp: c } => x[0].iter().zip(x[1]).map(|(a, b)| clamp(a * b, *c)).collect(),
                FloatOp::Div { clamp: c } => x[0].iter().zip(x[1]).map(|(a, b)| clamp(a / b, *c)).collect(),
                FloatOp::Inner { k } => x[0].chunks(*k).zip(x[1].chunks(*k)).map(|(a, b)| a.iter().zip(b).map(|(a, b)| a * b).sum()).collect(),
                FloatOp::Lookup { values } => x[0].iter().map(|&i| table_row(i, values.len()).map_or(f64::NAN, |r| f64::from(values[r]))).collect(),
            };
        }
        values
    }

    fn consumers(&self, tensor: usize) -> usize {
        self.nodes.iter().map(|n| n.inputs.iter().filter(|&&i| i == tensor).count()).sum::<usize>()
            + self.outputs.iter().filter(|&&o| o == tensor).count()
    }

    /// Fuses elementwise products that are one known function (GELU, SiLU, HardSwish) into
    /// one table, folds per-channel affine nodes and clamps into the node before them, then
    /// drops nodes and tensors nothing uses.
    pub fn simplify(&mut self) {
        self.fuse_products();
        self.drop_dead_nodes();
        let mut n = 0;
        while n < self.nodes.len() {
            if self.fold_into_previous(n) {
                self.nodes.remove(n);
                n = n.saturating_sub(1);
            } else {
                n += 1;
            }
        }
        // A clamp that follows no linear node is an identity sum with that clamp: exact at
        // any activation width, where a table would read 8-bit values.
        for node in &mut self.nodes {
            if let FloatOp::Func(f) = node.op {
                if let Some(clamp) = f.as_clamp() {
                    let len = self.tensors[node.output].len();
                    node.op = FloatOp::Linear { geometry: Geometry::Sum { operands: 1, len }, weights: vec![1.0], bias: vec![0.0], clamp: Some(clamp) };
                }
            }
        }
        self.drop_unused_tensors();
    }

    /// Tries to fold node `n` into the producer of its (single) input; on success the producer
    /// writes `n`'s output and `n` is to be removed.
    fn fold_into_previous(&mut self, n: usize) -> bool {
        let node = &self.nodes[n];
        let [input] = node.inputs[..] else { return false };
        let Some(p) = self.nodes.iter().position(|m| m.output == input) else { return false };
        if self.consumers(input) != 1 {
            return false;
        }
        let output = node.output;
        let folded = match (&self.nodes[p].op, &node.op) {
            (FloatOp::Linear { clamp: None, .. } | FloatOp::Mul { clamp: None } | FloatOp::Div { clamp: None }, FloatOp::Func(f)) if f.as_clamp().is_some() => {
                let c = f.as_clamp();
                match &mut self.nodes[p].op {
                    FloatOp::Linear { clamp, .. } | FloatOp::Mul { clamp } | FloatOp::Div { clamp } => *clamp = c,
                    _ => return false,
                }
                true
            }
            (FloatOp::Linear { geometry: g, clamp: None, .. }, FloatOp::Linear { geometry: s, weights: sw, bias: sb, clamp })
                if is_channel_affine(s) && channels_of(g) == Some(s.bias_count()) && !matches!(g, Geometry::Sum { .. }) =>
            {
                let (g, sw, sb, clamp) = (g.clone(), sw.clone(), sb.clone(), *clamp);
                let FloatOp::Linear { weights, bias, clamp: pc, .. } = &mut self.nodes[p].op else { return false };
                for (i, w) in weights.iter_mut().enumerate() {
                    *w *= sw[channel_of_weight(&g, i)];
                }
                for (c, b) in bias.iter_mut().enumerate() {
                    *b = *b * sw[c] + sb[c];
                }
                *pc = clamp;
                true
            }
            _ => false,
        };
        if folded {
            self.nodes[p].output = output;
            // The producer now writes a later tensor: move it to `n`'s place to keep the order.
            let producer = self.nodes.remove(p);
            self.nodes.insert(n - 1, producer);
        }
        folded
    }

    /// The producer of `t` when it is elementwise: a table, a sum with one weight per operand
    /// and one bias (a scalar affine map when it has one operand), or a product.
    fn elementwise_producer(&self, t: usize) -> Option<&FloatNode> {
        let node = self.nodes.iter().find(|m| m.output == t)?;
        match &node.op {
            FloatOp::Func(_) | FloatOp::Mul { .. } => Some(node),
            FloatOp::Linear { geometry: Geometry::Sum { operands, .. }, weights, bias, .. } if weights.len() == *operands && bias.len() == 1 => Some(node),
            _ => None,
        }
    }

    /// The value of `t` when `root` holds `x`, if `t` is an elementwise expression of `root`
    /// alone within `depth` nodes. `memo` holds the values found so far for this `x`, so a
    /// tensor read by many nodes (a diamond-shaped graph) is evaluated once.
    fn evaluate_from(&self, t: usize, root: usize, x: f64, depth: usize, memo: &mut HashMap<usize, Option<f64>>) -> Option<f64> {
        if t == root {
            return Some(x);
        }
        if let Some(&v) = memo.get(&t) {
            return v;
        }
        let value = (|| {
            let node = self.elementwise_producer(t).filter(|_| depth > 0)?;
            let mut arg = |i: usize| self.evaluate_from(node.inputs[i], root, x, depth - 1, memo);
            let clamp = |v: f64, c: &Option<(f32, f32)>| c.map_or(v, |(lo, hi)| v.max(f64::from(lo)).min(f64::from(hi)));
            Some(match &node.op {
                FloatOp::Func(f) => f.apply(arg(0)?),
                FloatOp::Mul { clamp: c } => clamp(arg(0)? * arg(1)?, c),
                FloatOp::Linear { weights, bias, clamp: c, .. } => {
                    let mut acc = f64::from(bias[0]);
                    for (i, &w) in weights.iter().enumerate() {
                        acc += f64::from(w) * arg(i)?;
                    }
                    clamp(acc, c)
                }
                _ => return None,
            })
        })();
        memo.insert(t, value);
        value
    }

    /// The tensors an elementwise expression ending at `t` reads, nearest (latest) first.
    fn expression_inputs(&self, t: usize, depth: usize, found: &mut Vec<usize>) {
        // Each tensor once: a diamond-shaped graph is walked in linear time.
        if found.contains(&t) {
            return;
        }
        found.push(t);
        if let Some(node) = self.elementwise_producer(t).filter(|_| depth > 0) {
            for &i in &node.inputs {
                self.expression_inputs(i, depth - 1, found);
            }
        }
    }

    /// An elementwise expression of one tensor `x` that is a known function — the classic
    /// exporter's GELU `x·0.5·(1 + erf(x/√2))` and its tanh form with `x·x·x`, SiLU
    /// `x·sigmoid(x)`, HardSwish `x·hardsigmoid(x)` — becomes one table reading `x`: one lookup
    /// instead of several nodes and products. The function is recognised by its values on a
    /// grid, so any arrangement of the constant factors matches. Expressions are anchored at
    /// products and sums, and `x` is the nearest tensor that works.
    fn fuse_products(&mut self) {
        const KNOWN: [Func; 4] = [Func::Gelu, Func::GeluTanh, Func::Silu, Func::HardSwish];
        // Twelve nodes deep covers every exported pattern (the classic tanh GELU is nine).
        const DEPTH: usize = 12;
        let grid: Vec<f64> = (-128..=128).map(|i| f64::from(i) / 16.0).collect();
        for m in 0..self.nodes.len() {
            if !matches!(self.nodes[m].op, FloatOp::Mul { .. } | FloatOp::Linear { geometry: Geometry::Sum { .. }, .. }) {
                continue;
            }
            let out = self.nodes[m].output;
            let mut candidates = Vec::new();
            self.expression_inputs(out, DEPTH, &mut candidates);
            candidates.retain(|&t| t != out);
            candidates.sort_unstable_by(|a, b| b.cmp(a));
            let fused = candidates.iter().find_map(|&root| {
                let values: Option<Vec<f64>> = grid.iter().map(|&x| self.evaluate_from(out, root, x, DEPTH, &mut HashMap::new())).collect();
                let values = values?;
                KNOWN.into_iter().find(|f| grid.iter().zip(&values).all(|(&x, &v)| (v - f.apply(x)).abs() <= 1e-5 * (1.0 + f.apply(x).abs()))).map(|f| (root, f))
            });
            if let Some((root, f)) = fused {
                self.nodes[m].op = FloatOp::Func(f);
                self.nodes[m].inputs = vec![root];
            }
        }
    }

    /// Removes nodes whose output nothing reads (left behind by fusion).
    fn drop_dead_nodes(&mut self) {
        while let Some(n) = (0..self.nodes.len()).rev().find(|&n| self.consumers(self.nodes[n].output) == 0) {
            self.nodes.remove(n);
        }
    }

    fn drop_unused_tensors(&mut self) {
        let mut used = vec![false; self.tensors.len()];
        for &i in self.inputs.iter().chain(&self.outputs) {
            used[i] = true;
        }
        for node in &self.nodes {
            used[node.output] = true;
        }
        let mut map = vec![usize::MAX; self.tensors.len()];
        let mut kept = Vec::new();
        for (i, t) in self.tensors.iter().enumerate() {
            if used[i] {
                map[i] = kept.len();
                kept.push(t.clone());
            }
        }
        self.tensors = kept;
        for i in self.inputs.iter_mut().chain(self.outputs.iter_mut()) {
            *i = map[*i];
        }
        for node in &mut self.nodes {
            node.output = map[node.output];
            for i in &mut node.inputs {
                *i = map[*i];
            }
        }
    }
}

/// A depthwise 1×1 convolution: `y[c, ·] = w[c]·x[c, ·] + b[c]`.
pub fn is_channel_affine(g: &Geometry) -> bool {
    matches!(g, Geometry::Conv { input, output, kernel: [1, 1], stride: [1, 1], dilation: [1, 1], pad: [0, 0], groups }
        if input == output && *groups == input[0])
}

/// Output channels of a linear node (what a following per-channel affine scales).
fn channels_of(g: &Geometry) -> Option<usize> {
    match *g {
        Geometry::Dense { rows: 1, outputs, row_bias: false, .. } => Some(outputs),
        Geometry::Conv { output, .. } | Geometry::ConvTranspose { output, .. } => Some(output[0]),
        _ => None,
    }
}

/// The output channel weight `i` contributes to.
fn channel_of_weight(g: &Geometry, i: usize) -> usize {
    match *g {
        Geometry::Dense { inputs, .. } => i / inputs,
        Geometry::Conv { input, kernel, groups, .. } => i / ((input[0] / groups) * kernel[0] * kernel[1]),
        Geometry::ConvTranspose { input, output, kernel, groups, .. } => {
            let (cin_g, cout_g) = (input[0] / groups, output[0] / groups);
            let ci = i / (cout_g * kernel[0] * kernel[1]);
            ci / cin_g * cout_g + i / (kernel[0] * kernel[1]) % cout_g
        }
        Geometry::MatMul { .. } | Geometry::Pool { .. } | Geometry::Sum { .. } => 0,
    }
}
