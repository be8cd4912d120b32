//! The general integer graph: what `section9 compile` makes of an ML engineer's float ONNX
//! model, and what `section9 run` and `section9 prove --model` execute.
//!
//! Every tensor holds integers `q` in a range `[lo, hi]` of at most 256 or 65,536 values (8- or
//! 16-bit activations; a table reads 8-bit ones, and a function of a 16-bit tensor is
//! interpolated between table points by [`interpolate`]), standing for `q · 2^-frac_bits`
//! (frac bits may be negative for large magnitudes). Eight node kinds:
//!
//! - [`Op::Linear`]: `y = clamp(round_shift(bias + Σ w·x, shift), lo, hi)` over a
//!   [`Geometry`] (dense, convolution of any stride/padding/dilation/groups, transposed
//!   convolution, elementwise sums). Gemm, MatMul, Conv, ConvTranspose, BatchNormalization,
//!   average pools, Add/Sub and per-channel constant Mul all become this; Relu and Clip are its
//!   clamp.
//! - [`Op::Gather`]: pure rewiring — Reshape, Flatten, Transpose, Concat, Pad, nearest Resize.
//! - [`Op::Table`]: an elementwise function given by its value on each of the ≤ 256 inputs
//!   (Sigmoid, Tanh, LeakyRelu, a Relu that follows no linear node).
//! - [`Op::Max`]: max over pooling windows (MaxPool).
//! - [`Op::Mul`]: elementwise product of two tensors, requantized.
//! - [`Op::Div`]: elementwise quotient of two tensors, `clamp(round(a·2^s / b))`, for a divisor
//!   whose range is positive (`lo ≥ 1`: calibration clamps a sum of exponentials or a standard
//!   deviation to at least one step, see [`quantize`]). Softmax and LayerNorm divide by it.
//! - [`Op::Inner`]: inner products of two computed tensors over rows of `k` values (attention's
//!   `Q·Kᵀ` and `weights·V`, after rewiring both operands to `[rows, k]`), requantized.
//! - [`Op::Sqrt`]: elementwise `clamp(round(√(a·2^s)))` of a non-negative tensor, at any
//!   activation width (LayerNorm's standard deviation; a table would read 8-bit values).
//!
//! An embedding is one [`Op::Table`] per table column, each reading the index tensor, and an
//! [`Op::Gather`] interleaving the columns. An input the graph uses as indices (an
//! [`IndexInput`]) is an integer at scale `2^0` whose tensor has the full 8-bit range the circuit
//! range-checks inputs with; [`Graph::quantize_inputs`] and [`Graph::run`] refuse a fraction or
//! an index outside the table's rows, where an activation would be rounded and clamped. (The
//! tables map the rest of the 8-bit range to the nearest row, so a private index outside the
//! table proves nothing a valid one could not.)
//!
//! [`Graph::run`] is the bit-exact integer reference: the circuit proves exactly this.

pub mod float;
pub mod geometry;
#[cfg(feature = "onnx")]
pub mod import;
pub mod input;
pub mod interpolate;
pub mod quantize;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use geometry::{Geometry, Tap};

/// `round(a / 2^s)` with ties rounded up (toward +∞): an arithmetic shift after adding half.
/// Every requantization in the graph (and so in the circuit) rounds this way. `s ≥ 1`.
pub fn round_shift(a: i64, s: u32) -> i64 {
    (a + (1i64 << (s - 1))) >> s
}

/// The most values a tensor may hold: far above any model a browser (or this machine) proves,
/// it keeps a hostile model file from making a check, inference or the circuit plan walk or
/// allocate without end.
pub const MAX_VALUES: usize = 1 << 22;

/// File format tag of compiled models.
pub const FORMAT: &str = "section9-graph-v1";

/// What can be wrong with a graph or with the values fed to it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    #[error("node {node} (`{name}`): {what}")]
    InvalidNode { node: usize, name: String, what: String },
    #[error("tensor {tensor} (`{name}`): {what}")]
    InvalidTensor { tensor: usize, name: String, what: String },
    #[error("the graph has {expected} inputs, got {got}")]
    InputCount { expected: usize, got: usize },
    #[error("input {index} (`{name}`) has {expected} values, got {got}")]
    InputLength { index: usize, name: String, expected: usize, got: usize },
    #[error("input {index} (`{name}`): value {value} at {at} is outside [{lo}, {hi}]")]
    InputRange { index: usize, name: String, at: usize, value: i64, lo: i64, hi: i64 },
    #[error("input {index} (`{name}`) holds table indices: value {value} at {at} is not an integer in [{lo}, {hi}]")]
    InputIndex { index: usize, name: String, at: usize, value: f64, lo: i64, hi: i64 },
    #[error("not a compiled Section 9 model: {0}")]
    File(String),
}

/// A tensor: shape (as in the ONNX graph, batch included), scale and value range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorInfo {
    pub name: String,
    pub shape: Vec<usize>,
    pub frac_bits: i32,
    pub lo: i64,
    pub hi: i64,
}

impl TensorInfo {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `q · 2^-frac_bits`.
    pub fn dequantize(&self, q: i64) -> f64 {
        q as f64 * 2f64.powi(-self.frac_bits)
    }

    /// The integer `q` that stands for exactly `x` (`q · 2^-frac_bits == x`, `lo ≤ q ≤ hi`), if
    /// one does; what a verifier reads stated values with, where rounding would let `1e300`
    /// stand for the top of the range or `0.30000001` for `0.3`.
    pub fn exact(&self, x: f64) -> Option<i64> {
        let q = x * 2f64.powi(self.frac_bits);
        let in_range = q.is_finite() && q.fract() == 0.0 && q >= self.lo as f64 && q <= self.hi as f64;
        // The round trip catches an `x` so small that scaling it underflowed to an integer.
        (in_range && self.dequantize(q as i64) == x).then_some(q as i64)
    }

    /// The nearest representable value (ties away from zero), clamped to the range.
    pub fn quantize(&self, x: f64) -> i64 {
        let q = (x * 2f64.powi(self.frac_bits)).round();
        if q.is_nan() {
            return 0;
        }
        (q.clamp(self.lo as f64, self.hi as f64)) as i64
    }
}

/// An operation; its output tensor's range is its clamp.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    Linear { geometry: Geometry, weights: Vec<i64>, bias: Vec<i64>, shift: u32 },
    /// Output `i` is `operand[index]` for `Some((operand, index))`, the value 0 for `None`.
    Gather { sources: Vec<Option<(usize, usize)>> },
    /// `values[q - lo_in]` for input `q`.
    Table { values: Vec<i64> },
    /// Max over the taps of a depthwise [`Geometry::Conv`] (weights unused).
    Max { geometry: Geometry },
    Mul { shift: u32 },
    /// `y = clamp(round_shift(floor(a·2^(shift+1) / b), 1))`: `a·2^shift / b` rounded to the
    /// nearest integer (ties up). The divisor's range lies in `[1, 65536]`.
    Div { shift: u32 },
    /// `y[r] = clamp(round_shift(Σ_t a[r·k + t]·b[r·k + t], shift))`.
    Inner { k: usize, shift: u32 },
    /// `y = clamp(round_shift(⌊√(a·2^(shift+2))⌋, 1))`: `√(a·2^shift)` rounded to the nearest
    /// integer. The input's range is non-negative.
    Sqrt { shift: u32 },
}

/// [`Op::Sqrt`] on one value: the root at one more bit, floored (what the circuit's square-root
/// gate proves), before the rounding shift. `a ≥ 0`.
pub fn sqrt_floor2(a: i64, shift: u32) -> i64 {
    ((a << (shift + 2)) as u64).isqrt() as i64
}

/// The largest shift of [`Op::Div`] and [`Op::Sqrt`]: `a·2^(shift+2)` stays far below 2^63
/// for 21-bit `a`.
pub const MAX_DIV_SHIFT: u32 = 40;

/// [`Op::Div`] on one pair of values: the quotient at one more bit, floored (what the circuit's
/// division gate proves), then the rounding shift of a requantization. `b ≥ 1`.
pub fn div_floor2(a: i64, b: i64, shift: u32) -> i64 {
    (a << (shift + 1)).div_euclid(b)
}

impl Op {
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Linear { .. } => "linear",
            Op::Gather { .. } => "gather",
            Op::Table { .. } => "table",
            Op::Max { .. } => "max",
            Op::Mul { .. } => "mul",
            Op::Div { .. } => "div",
            Op::Sqrt { .. } => "sqrt",
            Op::Inner { .. } => "inner",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// The ONNX node it came from.
    pub name: String,
    pub op: Op,
    pub inputs: Vec<usize>,
    pub output: usize,
}

/// A validated integer graph. Tensors are defined once: inputs first, then node outputs in
/// node order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Graph {
    tensors: Vec<TensorInfo>,
    inputs: Vec<usize>,
    outputs: Vec<usize>,
    nodes: Vec<Node>,
    /// Inputs that hold table indices. Absent from the file when empty, so graphs without an
    /// embedding keep their JSON and their id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    indices: Vec<IndexInput>,
    /// A generator's text encoder (its prompt's words → the end of its one input). Absent from
    /// the file when there is none, so other graphs keep their JSON and their id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prompt: Option<crate::prompt::Words>,
}

/// An input that holds table indices (an embedding's token ids): integers at scale `2^0`
/// in `[lo, hi]`, the rows of the tables it reads (`[-V, V)` when negative indices count from
/// the end), inside the tensor's own 8-bit range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexInput {
    pub tensor: usize,
    pub lo: i64,
    pub hi: i64,
}

#[derive(Serialize, Deserialize)]
struct GraphFile {
    format: String,
    graph: Graph,
}

impl Graph {
    pub fn new(tensors: Vec<TensorInfo>, inputs: Vec<usize>, outputs: Vec<usize>, nodes: Vec<Node>) -> Result<Graph, GraphError> {
        let graph = Graph { tensors, inputs, outputs, nodes, indices: Vec::new(), prompt: None };
        graph.check()?;
        Ok(graph)
    }

    /// The graph with `indices` marked as inputs of table indices, which
    /// [`Graph::quantize_inputs`] takes exactly.
    pub fn with_indices(mut self, indices: Vec<IndexInput>) -> Result<Graph, GraphError> {
        self.indices = indices;
        self.check()?;
        Ok(self)
    }

    /// The graph with a text encoder filling the end of its one input (checked against it).
    pub fn with_prompt(mut self, prompt: Option<crate::prompt::Words>) -> Result<Graph, GraphError> {
        self.prompt = prompt;
        self.check()?;
        Ok(self)
    }

    /// The text encoder of a generator trained with a condition.
    pub fn prompt(&self) -> Option<&crate::prompt::Words> {
        self.prompt.as_ref()
    }

    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }
    pub fn inputs(&self) -> &[usize] {
        &self.inputs
    }
    pub fn outputs(&self) -> &[usize] {
        &self.outputs
    }
    /// The graph with `f` applied to the weights and biases of every learned linear node
    /// ([`Geometry::learned`]), in node order.
    pub fn map_learned(&self, mut f: impl FnMut(&mut Vec<i64>, &mut Vec<i64>)) -> Graph {
        let mut graph = self.clone();
        for node in &mut graph.nodes {
            if let Op::Linear { geometry, weights, bias, .. } = &mut node.op {
                if geometry.learned() {
                    f(weights, bias);
                }
            }
        }
        graph
    }

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }
    /// Inputs that hold table indices (an embedding's token ids).
    pub fn indices(&self) -> &[IndexInput] {
        &self.indices
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&GraphFile { format: FORMAT.into(), graph: self.clone() }).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Graph, GraphError> {
        let file: GraphFile = serde_json::from_str(text).map_err(|e| GraphError::File(e.to_string()))?;
        if file.format != FORMAT {
            return Err(GraphError::File(format!("format `{}`, this version reads `{FORMAT}`", file.format)));
        }
        let g = file.graph;
        Graph::new(g.tensors, g.inputs, g.outputs, g.nodes)?.with_indices(g.indices)?.with_prompt(g.prompt)
    }

    /// SHA-256 of the graph's JSON: names every integer the function depends on.
    pub fn id(&self) -> [u8; 32] {
        Sha256::digest(serde_json::to_vec(self).unwrap_or_default()).into()
    }

    /// Multiply-accumulates of linear nodes.
    pub fn macs(&self) -> usize {
        self.nodes
            .iter()
            .map(|n| match &n.op {
                Op::Linear { geometry, .. } => geometry.macs(),
                _ => 0,
            })
            .sum()
    }

    fn check(&self) -> Result<(), GraphError> {
        for (t, info) in self.tensors.iter().enumerate() {
            let bad = |what: String| GraphError::InvalidTensor { tensor: t, name: info.name.clone(), what };
            // Checked first: every later check walks tensors value by value.
            if info.shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).is_none_or(|n| n > MAX_VALUES) {
                return Err(bad(format!("shape {:?} holds more than {MAX_VALUES} values", info.shape)));
            }
            if info.lo > info.hi || info.hi - info.lo > 65535 || info.lo < -(1 << 20) || info.hi > 1 << 20 {
                return Err(bad(format!("range [{}, {}] is not a range of at most 65,536 values", info.lo, info.hi)));
            }
            if info.frac_bits.abs() > 40 {
                return Err(bad(format!("frac bits {} are out of [-40, 40]", info.frac_bits)));
            }
        }
        let mut defined = vec![false; self.tensors.len()];
        for &i in &self.inputs {
            match defined.get_mut(i) {
                Some(d) if !*d => *d = true,
                _ => return Err(GraphError::File(format!("input tensor {i} is unknown or listed twice"))),
            }
        }
        for (n, node) in self.nodes.iter().enumerate() {
            let bad = |what: String| GraphError::InvalidNode { node: n, name: node.name.clone(), what };
            for &i in &node.inputs {
                if !defined.get(i).copied().unwrap_or(false) {
                    return Err(bad(format!("reads tensor {i} before it is defined")));
                }
            }
            match defined.get_mut(node.output) {
                Some(d) if !*d => *d = true,
                _ => return Err(bad(format!("writes tensor {} which is unknown or already defined", node.output))),
            }
            self.check_node(node).map_err(bad)?;
        }
        for &o in &self.outputs {
            if !defined.get(o).copied().unwrap_or(false) {
                return Err(GraphError::File(format!("output tensor {o} is never computed")));
            }
        }
        if self.inputs.is_empty() || self.outputs.is_empty() {
            return Err(GraphError::File("the graph needs at least one input and one output".into()));
        }
        for (k, i) in self.indices.iter().enumerate() {
            let once = self.inputs.contains(&i.tensor) && !self.indices[..k].iter().any(|j| j.tensor == i.tensor);
            if !once || self.tensors[i.tensor].frac_bits != 0 || i.lo > i.hi || i.lo < self.tensors[i.tensor].lo || i.hi > self.tensors[i.tensor].hi {
                return Err(GraphError::File(format!("index input {} is not an input at scale 2^0 listed once, with rows [{}, {}] inside its range", i.tensor, i.lo, i.hi)));
            }
        }
        if let Some(words) = &self.prompt {
            let &[input] = &self.inputs[..] else {
                return Err(GraphError::File("a prompt vocabulary needs a graph with one input".into()));
            };
            words.check(self.tensors[input].len()).map_err(|e| GraphError::File(e.to_string()))?;
        }
        Ok(())
    }

    fn check_node(&self, node: &Node) -> Result<(), String> {
        let out = &self.tensors[node.output];
        let ins: Vec<&TensorInfo> = node.inputs.iter().map(|&i| &self.tensors[i]).collect();
        let same_scale = |t: &TensorInfo| t.frac_bits == out.frac_bits && t.lo == out.lo && t.hi == out.hi;
        match &node.op {
            Op::Linear { geometry, weights, bias, shift } => {
                geometry.check()?;
                if out.len() != geometry.output_len() || weights.len() != geometry.weight_count() || bias.len() != geometry.bias_count() {
                    return Err("output, weight or bias count does not match the geometry".into());
                }
                for o in 0..out.len() {
                    let mut ok = true;
                    geometry.taps(o, |t| ok &= t.weight < weights.len());
                    if !ok {
                        return Err(format!("output {o} reads a weight that does not exist"));
                    }
                }
                if ins.len() != geometry.operands() || ins.iter().any(|t| t.len() != geometry.operand_len()) {
                    return Err(format!("needs {} operands of {} values", geometry.operands(), geometry.operand_len()));
                }
                if out.len() != geometry.output_len() || weights.len() != geometry.weight_count() || bias.len() != geometry.bias_count() {
                    return Err("output, weight or bias count does not match the geometry".into());
                }
                if !(1..=48).contains(shift) {
                    return Err(format!("shift {shift} is outside [1, 48]"));
                }
                if weights.iter().any(|w| w.unsigned_abs() >= 1 << 24) || bias.iter().any(|b| b.unsigned_abs() >= 1 << 48) {
                    return Err("a weight exceeds 24 bits or a bias 48 bits".into());
                }
            }
            Op::Gather { sources } => {
                if sources.len() != out.len() {
                    return Err(format!("has {} sources for {} outputs", sources.len(), out.len()));
                }
                // Rewiring copies stored values `q - lo`: operands share the scale and the low
                // end, and their ranges lie inside the output's.
                if ins.iter().any(|t| t.frac_bits != out.frac_bits || t.lo != out.lo || t.hi > out.hi) {
                    return Err("rewires tensors of different scales or ranges".into());
                }
                for s in sources {
                    match *s {
                        Some((o, i)) if ins.get(o).is_some_and(|t| i < t.len()) => {}
                        None if out.lo <= 0 && 0 <= out.hi => {}
                        _ => return Err(format!("source {s:?} is out of range")),
                    }
                }
            }
            Op::Table { values } => {
                let [x] = ins[..] else { return Err("takes one input".into()) };
                if x.hi - x.lo > 255 {
                    return Err("tables take 8-bit inputs".into());
                }
                if values.len() as i64 != x.hi - x.lo + 1 || values.iter().any(|v| !(out.lo..=out.hi).contains(v)) {
                    return Err("table length or values do not match the ranges".into());
                }
            }
            Op::Max { geometry } => {
                let [x] = ins[..] else { return Err("takes one input".into()) };
                geometry.check()?;
                let Geometry::Conv { input, output, groups, .. } = geometry else { return Err("max pools over a convolution window".into()) };
                if *groups != input[0] || input[0] != output[0] || !same_scale(x) || x.len() != geometry.operand_len() || out.len() != geometry.output_len() {
                    return Err("pooling must be per channel and keep the scale".into());
                }
                for o in 0..out.len() {
                    let mut any = false;
                    geometry.taps(o, |_| any = true);
                    if !any {
                        return Err(format!("window {o} lies entirely in padding"));
                    }
                }
            }
            Op::Mul { shift } => {
                let [a, b] = ins[..] else { return Err("takes two inputs".into()) };
                if a.len() != out.len() || b.len() != out.len() || !(1..=48).contains(shift) {
                    return Err("operands must match the output and the shift be in [1, 48]".into());
                }
            }
            Op::Div { shift } => {
                let [a, b] = ins[..] else { return Err("takes two inputs".into()) };
                if a.len() != out.len() || b.len() != out.len() || *shift > MAX_DIV_SHIFT {
                    return Err(format!("operands must match the output and the shift be at most {MAX_DIV_SHIFT}"));
                }
                // A divisor that can be 0 or negative has no quotient the circuit could prove.
                if b.lo < 1 || b.hi > 65536 {
                    return Err(format!("the divisor's range [{}, {}] is not inside [1, 65536]", b.lo, b.hi));
                }
            }
            Op::Inner { k, shift } => {
                let [a, b] = ins[..] else { return Err("takes two inputs".into()) };
                if *k == 0 || a.len() != out.len() * k || b.len() != out.len() * k || !(1..=48).contains(shift) {
                    return Err("operands must hold k values per output and the shift be in [1, 48]".into());
                }
            }
            Op::Sqrt { shift } => {
                let [a] = ins[..] else { return Err("takes one input".into()) };
                if a.len() != out.len() || *shift > MAX_DIV_SHIFT || a.lo < 0 {
                    return Err(format!("the input must match the output and be non-negative, the shift at most {MAX_DIV_SHIFT}"));
                }
            }
        }
        Ok(())
    }

    /// The integer reference: every tensor's values, inputs first.
    pub fn run(&self, inputs: &[Vec<i64>]) -> Result<Vec<Vec<i64>>, GraphError> {
        if inputs.len() != self.inputs.len() {
            return Err(GraphError::InputCount { expected: self.inputs.len(), got: inputs.len() });
        }
        let mut values: Vec<Vec<i64>> = vec![Vec::new(); self.tensors.len()];
        for (index, (&t, v)) in self.inputs.iter().zip(inputs).enumerate() {
            let info = &self.tensors[t];
            if v.len() != info.len() {
                return Err(GraphError::InputLength { index, name: info.name.clone(), expected: info.len(), got: v.len() });
            }
            let (lo, hi) = self.indices.iter().find(|i| i.tensor == t).map_or((info.lo, info.hi), |i| (i.lo, i.hi));
            if let Some((at, &value)) = v.iter().enumerate().find(|(_, q)| !(lo..=hi).contains(q)) {
                return Err(GraphError::InputRange { index, name: info.name.clone(), at, value, lo, hi });
            }
            values[t] = v.clone();
        }
        for node in &self.nodes {
            let out = &self.tensors[node.output];
            let x: Vec<&[i64]> = node.inputs.iter().map(|&i| values[i].as_slice()).collect();
            values[node.output] = eval(node, out, &x, self.tensors[node.inputs[0]].lo);
        }
        Ok(values)
    }

    /// The output tensors' values for float inputs (quantized at the input scales).
    pub fn run_float(&self, inputs: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, GraphError> {
        let q = self.quantize_inputs(inputs)?;
        let values = self.run(&q)?;
        Ok(self.outputs.iter().map(|&o| values[o].iter().map(|&v| self.tensors[o].dequantize(v)).collect()).collect())
    }

    /// Float inputs at the input scales.
    pub fn quantize_inputs(&self, inputs: &[Vec<f64>]) -> Result<Vec<Vec<i64>>, GraphError> {
        if inputs.len() != self.inputs.len() {
            return Err(GraphError::InputCount { expected: self.inputs.len(), got: inputs.len() });
        }
        self.inputs
            .iter()
            .zip(inputs)
            .enumerate()
            .map(|(index, (&t, x))| {
                let info = &self.tensors[t];
                if x.len() != info.len() {
                    return Err(GraphError::InputLength { index, name: info.name.clone(), expected: info.len(), got: x.len() });
                }
                if let Some(&IndexInput { lo, hi, .. }) = self.indices.iter().find(|i| i.tensor == t) {
                    // An index rounded or clamped would read another row, silently.
                    let rows = TensorInfo { lo, hi, ..info.clone() };
                    return x.iter().enumerate().map(|(at, &value)| rows.exact(value).ok_or(GraphError::InputIndex { index, name: info.name.clone(), at, value, lo, hi })).collect();
                }
                Ok(x.iter().map(|&v| info.quantize(v)).collect())
            })
            .collect()
    }
}

/// One node's integer output.
pub(crate) fn eval(node: &Node, out: &TensorInfo, x: &[&[i64]], lo_in: i64) -> Vec<i64> {
    let clamp = |v: i64| v.clamp(out.lo, out.hi);
    match &node.op {
        Op::Linear { geometry, weights, bias, shift } => (0..out.len())
            .map(|o| {
                let mut acc = bias[geometry.bias_index(o)];
                geometry.taps(o, |t| acc += weights[t.weight] * x[t.operand][t.index]);
                clamp(round_shift(acc, *shift))
            })
            .collect(),
        Op::Gather { sources } => sources.iter().map(|s| s.map_or(0, |(o, i)| x[o][i])).collect(),
        Op::Table { values } => x[0].iter().map(|&q| values[(q - lo_in) as usize]).collect(),
        Op::Max { geometry } => (0..out.len())
            .map(|o| {
                let mut m = i64::MIN;
                geometry.taps(o, |t| m = m.max(x[0][t.index]));
                m
            })
            .collect(),
        Op::Mul { shift } => x[0].iter().zip(x[1]).map(|(&a, &b)| clamp(round_shift(a * b, *shift))).collect(),
        Op::Div { shift } => x[0].iter().zip(x[1]).map(|(&a, &b)| clamp(round_shift(div_floor2(a, b, *shift), 1))).collect(),
        Op::Inner { k, shift } => x[0]
            .chunks(*k)
            .zip(x[1].chunks(*k))
            .map(|(a, b)| clamp(round_shift(a.iter().zip(b).map(|(&a, &b)| a * b).sum(), *shift)))
            .collect(),
        Op::Sqrt { shift } => x[0].iter().map(|&a| clamp(round_shift(sqrt_floor2(a, *shift), 1))).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::round_shift;

    #[test]
    fn round_shift_rounds_half_up() {
        assert_eq!(round_shift(5, 1), 3); // 2.5 → 3
        assert_eq!(round_shift(-5, 1), -2); // -2.5 → -2
        assert_eq!(round_shift(-6, 2), -1); // -1.5 → -1
        assert_eq!(round_shift(-7, 2), -2); // -1.75 → -2
        assert_eq!(round_shift(6, 2), 2); // 1.5 → 2
        assert_eq!(round_shift(5, 2), 1); // 1.25 → 1
    }
}
