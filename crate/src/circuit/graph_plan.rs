//! The compile step from a general [`Graph`] to what its circuit lays out, and the integer
//! witness of that layout. Integer-only; no halo2 here.
//!
//! Every value the circuit holds is a *wire*: a stored byte `q - lo` of some tensor. Graph
//! inputs, linear and product outputs, table outputs and each step of a max chain get new
//! wires; rewiring nodes (Reshape, Transpose, Concat, Pad, Resize…) get none — their outputs
//! name the wires of their inputs, so they cost nothing. A padded position holds the real
//! value 0: linear nodes skip it; the other consumers read a constant wire.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::div::{DivCells, DivKind};
use super::sqrt::{SqrtCells, SqrtKind};
use super::witness::Block;
use crate::generator::GeneratorError;
use crate::graph::{round_shift, Graph, Op};

/// Where the weights and biases of a model's learned linear nodes (dense, matrix product,
/// convolution, transposed convolution) live in its circuit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weights {
    /// Constants of the circuit (fixed columns of the verifying key): the verifier knows the
    /// model, and zero weights cost nothing.
    #[default]
    Fixed,
    /// Private witnesses behind a public Poseidon commitment ([`CommittedWeights`]): the
    /// verifying key depends on the graph's shape alone, so one verifier serves every model of
    /// that shape, and only the holder of the weights can prove.
    Committed,
}

impl std::fmt::Display for Weights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Weights::Fixed => "fixed",
            Weights::Committed => "committed",
        })
    }
}

impl std::str::FromStr for Weights {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fixed" => Ok(Weights::Fixed),
            "committed" => Ok(Weights::Committed),
            other => Err(format!("`{other}` is not a weight visibility (fixed, committed)")),
        }
    }
}

/// The low end of a committed weight: weights are signed bytes, stored as `w + 128`.
pub const WEIGHT_LO: i64 = -128;

/// One output value of a linear node: `acc = bias + Σ weight · stored value of wire`, the
/// stored values being `q - lo` (the offsets are folded into `bias`; zero weights dropped).
/// With committed weights every tap is a term, zero or not, `bias` and the terms' weights are
/// 0 (the terms name their operands only), and [`CommittedDot`] names the wires the weights
/// and bias are copied from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dot {
    pub bias: i64,
    pub terms: Vec<(usize, i64)>,
    pub committed: Option<CommittedDot>,
    /// With fixed weights, every tap of the output, zero weights kept: outputs with the same
    /// taps' wires share dot rows ([`shared_groups`]).
    pub taps: Vec<(usize, i64)>,
}

/// The outputs of a linear step laid out together in rows of `accumulators` outputs: groups of
/// dots with the same taps (the same wires in the same order), in order of first appearance,
/// at most `accumulators` a group. Committed weights are one output a group.
pub fn shared_groups(dots: &[Dot], accumulators: usize) -> Vec<Vec<usize>> {
    if accumulators <= 1 || dots.iter().any(|d| d.committed.is_some()) {
        return (0..dots.len()).map(|i| vec![i]).collect();
    }
    let mut patches: HashMap<Vec<usize>, usize> = HashMap::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, d) in dots.iter().enumerate() {
        let key: Vec<usize> = d.taps.iter().map(|&(wire, _)| wire).collect();
        let slot = *patches.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[slot].push(i);
    }
    groups.iter().flat_map(|g| g.chunks(accumulators).map(<[usize]>::to_vec)).collect()
}

/// How many sources [`group_terms`] gives the group.
pub fn group_len(dots: &[Dot], group: &[usize]) -> usize {
    match group {
        [i] => dots[*i].terms.len(),
        _ => (0..dots[group[0]].taps.len()).filter(|&t| group.iter().any(|&i| dots[i].taps[t].1 != 0)).count(),
    }
}

/// The sources of a group of [`shared_groups`] and each output's weight for each: a lone
/// output's terms; for several, every tap where one of them has a nonzero weight.
pub fn group_terms(dots: &[Dot], group: &[usize]) -> (Vec<usize>, Vec<Vec<i64>>) {
    if let [i] = group {
        let d = &dots[*i];
        return (d.terms.iter().map(|&(wire, _)| wire).collect(), vec![d.terms.iter().map(|&(_, w)| w).collect()]);
    }
    let taps = &dots[group[0]].taps;
    let used: Vec<usize> = (0..taps.len()).filter(|&t| group.iter().any(|&i| dots[i].taps[t].1 != 0)).collect();
    let sources = used.iter().map(|&t| taps[t].0).collect();
    let weights = group.iter().map(|&i| used.iter().map(|&t| dots[i].taps[t].1).collect()).collect();
    (sources, weights)
}

/// A dot product over committed weights: `acc = b + Σ (w_t + WEIGHT_LO)·(x_t + lo_t)` with the
/// stored weights `w_t` and bias `b` copied from the wires that are hashed into the commitment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommittedDot {
    /// The wire of the bias (a constant 0 for a node without bias).
    pub bias: usize,
    /// Per term: the wire of its stored weight and the low end of its operand.
    pub weights: Vec<(usize, i64)>,
}

/// The committed weights of a plan: wires holding each learned node's stored weights `w + 128`
/// (range-checked bytes) and biases, in node order, and the shape they are committed under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommittedWeights {
    pub weights: Vec<usize>,
    /// The stored weights `w + 128`, as the wires hold them.
    pub weight_values: Vec<i64>,
    pub biases: Vec<usize>,
    pub bias_values: Vec<i64>,
    /// The constant wire of a zero weight (stored 128): what a dot row's unused positions copy.
    pub zero_weight: usize,
    /// [`shape_id`] of the graph.
    pub shape: [u8; 32],
}

/// The graph with the learned weights and biases set to zero: what a verifier of committed
/// weights may know (the architecture, the scales, the tables), and all it needs to rebuild
/// the circuit and its keys.
pub fn shape(graph: &Graph) -> Graph {
    graph.map_learned(|weights, bias| {
        weights.iter_mut().for_each(|w| *w = 0);
        bias.iter_mut().for_each(|b| *b = 0);
    })
}

/// The SHA-256 of the graph's [`shape`]: the first word of a weight commitment, so the same
/// weights under another architecture commit differently.
pub fn shape_id(graph: &Graph) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"section9-shape-v1");
    h.update(shape(graph).id());
    h.finalize().into()
}

/// How accumulators become stored outputs (one requantization gate per kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequantKind {
    /// The right shift `s ≥ 1`.
    pub shift: u32,
    /// Clamp range of the true value `y`; stored is `y - lo`.
    pub lo: i64,
    pub hi: i64,
    /// 8-bit limbs of the remainder (the top limb holds `shift - 8·(limbs-1)` bits).
    pub rem_limbs: u32,
    /// Bits of the clamp distance `lo - r` or `r - hi` when the clamp bites.
    pub dist_bits: u32,
}

impl RequantKind {
    /// The kind for accumulators of magnitude at most `max_acc`.
    pub fn for_bound(shift: u32, lo: i64, hi: i64, max_acc: i64) -> RequantKind {
        let max_r = (max_acc >> shift) + 2;
        let max_dist = max_r + lo.abs().max(hi.abs()) + 1;
        let dist_bits = (64 - max_dist.leading_zeros()).max(1);
        RequantKind { shift, lo, hi, rem_limbs: shift.div_ceil(8), dist_bits }
    }

    pub fn dist_limbs(&self) -> u32 {
        self.dist_bits.div_ceil(8)
    }

    /// 8-bit limbs of the stored output: 1 for ranges of up to 256 values, 2 up to 65,536.
    pub fn y_limbs(&self) -> u32 {
        if self.hi - self.lo > 255 { 2 } else { 1 }
    }

    /// True when the clamp range is narrower than the output's limbs: the stored value needs
    /// its own upper bound check.
    pub fn narrow(&self) -> bool {
        self.hi - self.lo < (1 << (8 * self.y_limbs())) - 1
    }

    /// Rows the kind takes in the range column: remainder limbs, output limbs, distance limbs,
    /// the two clamp flags (in `aux` for 16-bit outputs) and, when narrow, the upper-bound check.
    pub fn height(&self) -> usize {
        let y = self.y_limbs();
        let flags = if y == 1 { 2 } else { 0 };
        (self.rem_limbs + y + self.dist_limbs() + flags + if self.narrow() { y } else { 0 }) as usize
    }

    /// Bit width of limb `i` of a `total`-bit value split into 8-bit limbs.
    pub fn limb_bits(total: u32, i: u32) -> u32 {
        (total - 8 * i).min(8)
    }
}


/// One node as the circuit sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Dot products, each requantized into output wire `outputs[i]`.
    Linear { node: usize, dots: Vec<Dot>, kind: RequantKind, outputs: Vec<usize> },
    /// `outputs[i] = T_tag(inputs[i])`.
    Table { node: usize, tag: u64, inputs: Vec<usize>, outputs: Vec<usize> },
    /// Rows `m = max(a, b)`, chained over each window.
    Max { node: usize, rows: Vec<(usize, usize, usize)> },
    /// Rows `p = a·b` (true values; `lo` are the operands' low ends), each requantized into
    /// `outputs[i]`.
    Mul { node: usize, rows: Vec<(usize, usize, usize)>, lo: (i64, i64), kind: RequantKind, outputs: Vec<usize> },
    /// Rows `q = floor(a·2^(s+1) / b)` (true values), each requantized with shift 1 into
    /// `outputs[i]`.
    Div { node: usize, rows: Vec<(usize, usize, usize)>, div: DivKind, kind: RequantKind, outputs: Vec<usize> },
    /// Inner products `Σ a·b` over the pairs of each output (true values; `lo` are the
    /// operands' low ends), each requantized into `outputs[i]`.
    Inner { node: usize, dots: Vec<Vec<(usize, usize)>>, lo: (i64, i64), kind: RequantKind, outputs: Vec<usize> },
    /// Rows `q = ⌊√(a·2^(s+2))⌋` (true values), each requantized with shift 1 into `outputs[i]`.
    Sqrt { node: usize, rows: Vec<(usize, usize)>, sqrt: SqrtKind, kind: RequantKind, outputs: Vec<usize> },
}

impl Step {
    /// The graph node the step lays out.
    pub fn node(&self) -> usize {
        match self {
            Step::Linear { node, .. } | Step::Table { node, .. } | Step::Max { node, .. } | Step::Mul { node, .. } | Step::Div { node, .. } | Step::Sqrt { node, .. } | Step::Inner { node, .. } => *node,
        }
    }

    /// The requantization kind of the step's outputs, if they are requantized.
    pub fn kind(&self) -> Option<RequantKind> {
        match self {
            Step::Linear { kind, .. } | Step::Mul { kind, .. } | Step::Div { kind, .. } | Step::Sqrt { kind, .. } | Step::Inner { kind, .. } => Some(*kind),
            Step::Table { .. } | Step::Max { .. } => None,
        }
    }

    /// The step's outputs that take range rows, and the rows each takes (a division's or
    /// root's block, then the requantization block).
    pub fn range_blocks(&self) -> (usize, usize) {
        match self {
            Step::Linear { outputs, kind, .. } | Step::Mul { outputs, kind, .. } | Step::Inner { outputs, kind, .. } => (outputs.len(), kind.height()),
            Step::Div { outputs, div, kind, .. } => (outputs.len(), div.height() + kind.height()),
            Step::Sqrt { outputs, sqrt, kind, .. } => (outputs.len(), sqrt.height() + kind.height()),
            Step::Table { .. } | Step::Max { .. } => (0, 0),
        }
    }
}

/// The graph as the circuit sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphPlan {
    pub wires: usize,
    /// Per graph input, its wires (range-checked in order, as one byte or two).
    pub inputs: Vec<Vec<usize>>,
    /// Per graph input, its stored values' byte limbs (1 or 2).
    pub input_limbs: Vec<u32>,
    /// Wires fixed to a constant stored value.
    pub constants: Vec<(usize, i64)>,
    pub steps: Vec<Step>,
    /// Per graph output, its wires.
    pub outputs: Vec<Vec<usize>>,
    /// Stored table outputs, tag `i + 1` at index `i`.
    pub tables: Vec<Vec<u64>>,
    /// The committed weights, when the learned weights are private.
    pub committed: Option<CommittedWeights>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    #[error("input `{name}` has the range [{lo}, {hi}]; the circuit range-checks inputs as full 8- or 16-bit values")]
    NarrowInput { name: String, lo: i64, hi: i64 },
    #[error("a dot row of width {width} is wider than the {max} the compiler ever chooses")]
    Width { width: usize, max: usize },
    #[error("{lanes} range lanes: a circuit has 1 to {max}")]
    Lanes { lanes: usize, max: usize },
    #[error("{accumulators} accumulators a dot row: a circuit has 1 to {max}")]
    Accumulators { accumulators: usize, max: usize },
    #[error("{0}")]
    Statement(String),
    #[error("node `{node}`: {what}")]
    Committed { node: String, what: String },
    #[error("committed weights: the graph has no learned weights (dense, matrix-product or convolution nodes) to commit")]
    NothingToCommit,
    #[error(transparent)]
    Generator(#[from] GeneratorError),
}

impl GraphPlan {
    /// The plan of `graph` with its learned weights fixed or committed.
    pub fn new(graph: &Graph, weight_mode: Weights) -> Result<GraphPlan, PlanError> {
        let tensors = graph.tensors();
        let mut wires = 0usize;
        let mut fresh = |n: usize| -> Vec<usize> {
            let v: Vec<usize> = (wires..wires + n).collect();
            wires += n;
            v
        };
        // Per tensor, per element: its wire, or None for the real value 0.
        let mut slots: Vec<Vec<Option<usize>>> = vec![Vec::new(); tensors.len()];
        let mut inputs = Vec::new();
        let mut input_limbs = Vec::new();
        for &t in graph.inputs() {
            let info = &tensors[t];
            match info.hi - info.lo {
                255 => input_limbs.push(1),
                65535 => input_limbs.push(2),
                _ => return Err(PlanError::NarrowInput { name: info.name.clone(), lo: info.lo, hi: info.hi }),
            }
            let w = fresh(info.len());
            slots[t] = w.iter().map(|&w| Some(w)).collect();
            inputs.push(w);
        }
        let mut committed = (weight_mode == Weights::Committed).then(|| CommittedWeights {
            weights: Vec::new(),
            weight_values: Vec::new(),
            biases: Vec::new(),
            bias_values: Vec::new(),
            zero_weight: 0,
            shape: shape_id(graph),
        });
        let mut constants: Vec<(usize, i64)> = Vec::new();
        let mut constant_of: HashMap<i64, usize> = HashMap::new();
        let mut steps = Vec::new();
        let mut tables = Vec::new();
        // The wire of a slot, materializing the stored zero `-lo` when needed.
        let mut wire = |slot: Option<usize>, lo: i64, fresh: &mut dyn FnMut(usize) -> Vec<usize>| -> usize {
            slot.unwrap_or_else(|| {
                *constant_of.entry(-lo).or_insert_with(|| {
                    let w = fresh(1)[0];
                    constants.push((w, -lo));
                    w
                })
            })
        };
        for (n, node) in graph.nodes().iter().enumerate() {
            let out = &tensors[node.output];
            let ins: Vec<_> = node.inputs.iter().map(|&i| &tensors[i]).collect();
            match &node.op {
                Op::Gather { sources } => {
                    slots[node.output] = sources.iter().map(|s| s.and_then(|(o, i)| slots[node.inputs[o]][i])).collect();
                    continue;
                }
                Op::Linear { geometry, weights, bias, shift } if committed.is_some() && geometry.learned() => {
                    let c = committed.as_mut().ok_or_else(|| PlanError::Statement("no committed weights".into()))?;
                    let bad = |what: String| PlanError::Committed { node: node.name.clone(), what };
                    if let Some(w) = weights.iter().find(|w| !(WEIGHT_LO..=-WEIGHT_LO - 1).contains(*w)) {
                        return Err(bad(format!("weight {w} is not a signed byte; committed weights are 8-bit (quantize with --weight-bits 8 or fewer)")));
                    }
                    let weight_wires = fresh(weights.len());
                    c.weights.extend(&weight_wires);
                    c.weight_values.extend(weights.iter().map(|w| w - WEIGHT_LO));
                    let bias_wires = fresh(bias.len());
                    c.biases.extend(&bias_wires);
                    c.bias_values.extend(bias);
                    // The bound comes from the shape alone (any weights of 8 bits), so the
                    // requantization blocks, like the rest of the key, do not depend on them; a
                    // bias may be as large as the largest sum of products.
                    let mut max_sum = 0i64;
                    let dots: Vec<Dot> = (0..out.len())
                        .map(|o| {
                            // The values live in the committed wires only: the dot itself holds
                            // no weight, so the plan of a model is the plan of its shape.
                            let mut d = Dot { bias: 0, terms: Vec::new(), committed: None, taps: Vec::new() };
                            let mut taps = Vec::new();
                            let mut sum = 0i64;
                            geometry.taps(o, |t| {
                                let operand = ins[t.operand];
                                if let Some(wire) = slots[node.inputs[t.operand]][t.index] {
                                    d.terms.push((wire, 0));
                                    taps.push((weight_wires[t.weight], operand.lo));
                                    sum += -WEIGHT_LO * operand.lo.abs().max(operand.hi.abs());
                                }
                            });
                            max_sum = max_sum.max(sum);
                            let bias_wire = match bias_wires.get(geometry.bias_index(o)) {
                                Some(&b) => b,
                                None => wire(None, 0, &mut fresh),
                            };
                            d.committed = Some(CommittedDot { bias: bias_wire, weights: taps });
                            d
                        })
                        .collect();
                    if let Some(b) = bias.iter().find(|b| b.abs() > max_sum) {
                        return Err(bad(format!("bias {b} exceeds {max_sum}, the largest sum of its products; committed weights size the accumulator from the shape")));
                    }
                    let kind = RequantKind::for_bound(*shift, out.lo, out.hi, 2 * max_sum);
                    let outputs = fresh(out.len());
                    slots[node.output] = outputs.iter().map(|&w| Some(w)).collect();
                    steps.push(Step::Linear { node: n, dots, kind, outputs });
                }
                Op::Linear { geometry, weights, bias, shift } => {
                    let mut max_acc = 0i64;
                    let dots: Vec<Dot> = (0..out.len())
                        .map(|o| {
                            let mut b = bias[geometry.bias_index(o)];
                            let mut terms = Vec::new();
                            let mut taps = Vec::new();
                            let (mut pos, mut neg) = (0i64, 0i64);
                            geometry.taps(o, |t| {
                                let w = weights[t.weight];
                                let operand = ins[t.operand];
                                let wire = slots[node.inputs[t.operand]][t.index];
                                if let Some(wire) = wire {
                                    taps.push((wire, w));
                                }
                                if let (Some(wire), true) = (wire, w != 0) {
                                    b += w * operand.lo;
                                    terms.push((wire, w));
                                    let span = operand.hi - operand.lo;
                                    if w > 0 { pos += w * span } else { neg -= w * span }
                                }
                            });
                            max_acc = max_acc.max((b + pos).abs()).max((b - neg).abs());
                            Dot { bias: b, terms, committed: None, taps }
                        })
                        .collect();
                    let kind = RequantKind::for_bound(*shift, out.lo, out.hi, max_acc);
                    let outputs = fresh(out.len());
                    slots[node.output] = outputs.iter().map(|&w| Some(w)).collect();
                    steps.push(Step::Linear { node: n, dots, kind, outputs });
                }
                Op::Table { values } => {
                    tables.push(values.iter().map(|&v| (v - out.lo) as u64).collect());
                    let x: Vec<usize> = slots[node.inputs[0]].clone().into_iter().map(|s| wire(s, ins[0].lo, &mut fresh)).collect();
                    let outputs = fresh(out.len());
                    slots[node.output] = outputs.iter().map(|&w| Some(w)).collect();
                    steps.push(Step::Table { node: n, tag: tables.len() as u64, inputs: x, outputs });
                }
                Op::Max { geometry } => {
                    let mut rows = Vec::new();
                    let mut outs = Vec::with_capacity(out.len());
                    for o in 0..out.len() {
                        let mut window = Vec::new();
                        geometry.taps(o, |t| window.push(slots[node.inputs[0]][t.index]));
                        let window: Vec<usize> = window.into_iter().map(|s| wire(s, ins[0].lo, &mut fresh)).collect();
                        let mut m = window[0];
                        for &b in window.iter().skip(1).chain(if window.len() == 1 { Some(&window[0]) } else { None }) {
                            let next = fresh(1)[0];
                            rows.push((m, b, next));
                            m = next;
                        }
                        outs.push(Some(m));
                    }
                    slots[node.output] = outs;
                    steps.push(Step::Max { node: n, rows });
                }
                Op::Mul { shift } => {
                    let (a, b) = (ins[0], ins[1]);
                    let mut rows = Vec::with_capacity(out.len());
                    let mut max_acc = 0i64;
                    for (&sa, &sb) in slots[node.inputs[0]].iter().zip(&slots[node.inputs[1]]) {
                        let wa = wire(sa, a.lo, &mut fresh);
                        let wb = wire(sb, b.lo, &mut fresh);
                        rows.push((wa, wb, fresh(1)[0]));
                    }
                    for x in [a.lo, a.hi] {
                        for y in [b.lo, b.hi] {
                            max_acc = max_acc.max((x * y).abs());
                        }
                    }
                    let kind = RequantKind::for_bound(*shift, out.lo, out.hi, max_acc);
                    let outputs = fresh(out.len());
                    slots[node.output] = outputs.iter().map(|&w| Some(w)).collect();
                    steps.push(Step::Mul { node: n, rows, lo: (a.lo, b.lo), kind, outputs });
                }
                Op::Div { shift } => {
                    let (a, b) = (ins[0], ins[1]);
                    let mut rows = Vec::with_capacity(out.len());
                    for (&sa, &sb) in slots[node.inputs[0]].iter().zip(&slots[node.inputs[1]]) {
                        let wa = wire(sa, a.lo, &mut fresh);
                        let wb = wire(sb, b.lo, &mut fresh);
                        rows.push((wa, wb, fresh(1)[0]));
                    }
                    // The quotient at one more bit is largest for the smallest divisor.
                    let max_q = (a.lo.abs().max(a.hi.abs()) << (shift + 1)) / b.lo.max(1) + 1;
                    let kind = RequantKind::for_bound(1, out.lo, out.hi, max_q);
                    let div = DivKind::new(*shift, a.lo, b.lo, b.hi);
                    let outputs = fresh(out.len());
                    slots[node.output] = outputs.iter().map(|&w| Some(w)).collect();
                    steps.push(Step::Div { node: n, rows, div, kind, outputs });
                }
                Op::Inner { k, shift } => {
                    let (a, b) = (ins[0], ins[1]);
                    let wa: Vec<usize> = slots[node.inputs[0]].clone().into_iter().map(|s| wire(s, a.lo, &mut fresh)).collect();
                    let wb: Vec<usize> = slots[node.inputs[1]].clone().into_iter().map(|s| wire(s, b.lo, &mut fresh)).collect();
                    let dots: Vec<Vec<(usize, usize)>> = wa.chunks(*k).zip(wb.chunks(*k)).map(|(x, y)| x.iter().copied().zip(y.iter().copied()).collect()).collect();
                    let term = [a.lo, a.hi].iter().flat_map(|&x| [b.lo, b.hi].map(|y| (x * y).abs())).max().unwrap_or(0);
                    let kind = RequantKind::for_bound(*shift, out.lo, out.hi, term * *k as i64);
                    let outputs = fresh(out.len());
                    slots[node.output] = outputs.iter().map(|&w| Some(w)).collect();
                    steps.push(Step::Inner { node: n, dots, lo: (a.lo, b.lo), kind, outputs });
                }
                Op::Sqrt { shift } => {
                    let a = ins[0];
                    let rows: Vec<(usize, usize)> = slots[node.inputs[0]].iter().map(|&sa| (wire(sa, a.lo, &mut fresh), fresh(1)[0])).collect();
                    let sqrt = SqrtKind::new(*shift, a.lo, a.hi);
                    let kind = RequantKind::for_bound(1, out.lo, out.hi, crate::graph::sqrt_floor2(a.hi.max(0), *shift) + 1);
                    let outputs = fresh(out.len());
                    slots[node.output] = outputs.iter().map(|&w| Some(w)).collect();
                    steps.push(Step::Sqrt { node: n, rows, sqrt, kind, outputs });
                }
            }
        }
        let outputs = graph
            .outputs()
            .iter()
            .map(|&t| slots[t].clone().into_iter().map(|s| wire(s, tensors[t].lo, &mut fresh)).collect())
            .collect();
        if let Some(c) = committed.as_mut() {
            if c.weights.is_empty() && c.biases.is_empty() {
                return Err(PlanError::NothingToCommit);
            }
            // A zero weight for the unused positions of dot rows.
            c.zero_weight = wire(None, WEIGHT_LO, &mut fresh);
        }
        Ok(GraphPlan { wires, inputs, input_limbs, constants, steps, outputs, tables, committed })
    }

    /// Range-column rows the inputs take.
    pub fn input_rows(&self) -> usize {
        self.inputs.iter().zip(&self.input_limbs).map(|(w, &l)| w.len() * l as usize).sum()
    }

    /// The distinct requantization kinds (one gate each).
    pub fn kinds(&self) -> Vec<RequantKind> {
        self.kinds_where(|_| true).0
    }

    /// The distinct requantization, division and square-root kinds of the steps whose index
    /// `keep` accepts (one gate each, or per shared layout: see `requant`).
    pub fn kinds_where(&self, keep: impl Fn(usize) -> bool) -> (Vec<RequantKind>, Vec<DivKind>, Vec<SqrtKind>) {
        let (mut kinds, mut divs, mut sqrts) = (Vec::new(), Vec::new(), Vec::new());
        for (_, step) in self.steps.iter().enumerate().filter(|&(i, _)| keep(i)) {
            match step {
                Step::Div { div, .. } => divs.push(*div),
                Step::Sqrt { sqrt, .. } => sqrts.push(*sqrt),
                _ => {}
            }
            kinds.extend(step.kind());
        }
        kinds.sort();
        kinds.dedup();
        divs.sort();
        divs.dedup();
        sqrts.sort();
        sqrts.dedup();
        (kinds, divs, sqrts)
    }

    /// The operands' low ends of every inner-product step (one gate pair each).
    pub fn inner_kinds(&self) -> Vec<(i64, i64)> {
        let mut kinds: Vec<(i64, i64)> = self.steps.iter().filter_map(|s| if let Step::Inner { lo, .. } = s { Some(*lo) } else { None }).collect();
        kinds.sort();
        kinds.dedup();
        kinds
    }

    pub fn has_max(&self) -> bool {
        self.steps.iter().any(|s| matches!(s, Step::Max { .. }))
    }

    pub fn has_mul(&self) -> bool {
        self.steps.iter().any(|s| matches!(s, Step::Mul { .. }))
    }

    /// Multiply-accumulates the circuit proves (zero weights and padding dropped).
    pub fn terms(&self) -> usize {
        self.steps
            .iter()
            .map(|s| match s {
                Step::Linear { dots, .. } => dots.iter().map(|d| d.terms.len()).sum(),
                _ => 0,
            })
            .sum()
    }
}

/// A deliberate lie in the witness, for negative tests. Each names the cell it changes. Only a
/// `test-support` build can put one into a witness ([`GraphWitness`](super::graph::GraphWitness)'s
/// `tamper`, [`GraphTrace::tampered`]); production code paths see none.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum GraphTamper {
    /// Add `delta` to the stored value of `wire` where it is computed (everything downstream
    /// consumes the changed value honestly). On an input wire: a value outside its range.
    Wire { wire: usize, delta: i64 },
    /// Round the linear output `wire` one step lower and carry the difference in its remainder
    /// (out of the remainder's range).
    Remainder { wire: usize },
    /// Claim the low clamp bit on the linear output `wire`, which is not clamped.
    ClampLow { wire: usize },
    /// Add `delta` to the result of the dot product behind the linear (or inner-product)
    /// output `wire` (its last running sum), requantizing the changed sum honestly.
    DotResult { wire: usize, delta: i64 },
    /// Add 1 to the square of state word 0 in Poseidon round `round` of the first permutation
    /// of every hash the circuit takes.
    PoseidonSquare { round: usize },
    /// Evaluate the picture at this challenge instead of the one it hashes to (what a prover
    /// does to claim another picture: take that picture's public challenge).
    Challenge { gamma: halo2_proofs::halo2curves::bn256::Fr },
    /// Add 1 to the running evaluation of the picture after Horner step `step`.
    EvaluationStep { step: usize },
    /// Add `delta` to the quotient behind the division output `wire`, keeping the identity
    /// `a·2^(s+1) = q·b + r` true (the remainder moves by `delta·b`, out of its range).
    DivQuotient { wire: usize, delta: i64 },
    /// Add 1 to the remainder behind the division output `wire` (and take 1 from `b - 1 - r`,
    /// both still in range): only the division identity can catch it.
    DivRemainder { wire: usize },
    /// Write the divisor behind the division output `wire` as 0 (the quotient 0, the remainder
    /// `a·2^(s+1)`): what a prover would need to divide by zero.
    DivByZero { wire: usize },
    /// Add `delta` to the root behind the square-root output `wire` (its differences to `A`
    /// recomputed honestly: one of them negative).
    SqrtRoot { wire: usize, delta: i64 },
    /// With committed weights: add `delta` to the weight of the first term of the dot product
    /// behind the linear output `wire`, in its dot row only (the product computed honestly with
    /// it): the row no longer holds the committed weight it copies.
    WeightCopy { wire: usize, delta: i64 },
    /// With committed weights: take 1 from stored weight `index` and add 256 to weight
    /// `index + 1` (of the same 31-byte word): the packed word is unchanged, one "byte" is not.
    WeightCarry { index: usize },
}

/// Everything the circuit assigns, as integers.
#[derive(Clone, Debug)]
pub struct GraphTrace {
    /// Stored value of every wire.
    pub wires: Vec<i64>,
    /// Requantization blocks of each step (empty for tables and max chains).
    pub blocks: Vec<Vec<Block>>,
    /// Division blocks of each step (empty but for divisions).
    pub divisions: Vec<Vec<DivCells>>,
    /// Square-root blocks of each step (empty but for roots).
    pub roots: Vec<Vec<SqrtCells>>,
}

impl GraphTrace {
    /// `inputs` are the real input values `q`, which the caller has checked against the graph.
    pub fn new(plan: &GraphPlan, graph: &Graph, inputs: &[Vec<i64>]) -> GraphTrace {
        GraphTrace::with_tamper(plan, graph, inputs, None)
    }

    /// The trace with a deliberate lie (negative tests, `test-support` feature).
    #[cfg(feature = "test-support")]
    pub fn tampered(plan: &GraphPlan, graph: &Graph, inputs: &[Vec<i64>], tamper: GraphTamper) -> GraphTrace {
        GraphTrace::with_tamper(plan, graph, inputs, Some(tamper))
    }

    pub(crate) fn with_tamper(plan: &GraphPlan, graph: &Graph, inputs: &[Vec<i64>], tamper: Option<GraphTamper>) -> GraphTrace {
        let mut wires = vec![0i64; plan.wires];
        let lie = |w: usize| match tamper {
            Some(GraphTamper::Wire { wire, delta }) if wire == w => delta,
            _ => 0,
        };
        let dot_lie = |w: usize| match tamper {
            Some(GraphTamper::DotResult { wire, delta }) if wire == w => delta,
            _ => 0,
        };
        let copy_lie = |w: usize| match tamper {
            Some(GraphTamper::WeightCopy { wire, delta }) if wire == w => delta,
            _ => 0,
        };
        // The requantization of `acc` into output wire `w` (with any lie about `w`).
        let requantize = |kind: RequantKind, acc: i64, w: usize, wires: &mut [i64]| {
            let mut blk = Block::honest(kind, acc);
            blk.y += lie(w);
            wires[w] = blk.y;
            blk
        };
        for ((ws, values), &t) in plan.inputs.iter().zip(inputs).zip(graph.inputs()) {
            let lo = graph.tensors()[t].lo;
            for (&w, &q) in ws.iter().zip(values) {
                wires[w] = q - lo + lie(w);
            }
        }
        for &(w, v) in &plan.constants {
            wires[w] = v;
        }
        if let Some(c) = &plan.committed {
            for (&w, &v) in c.weights.iter().zip(&c.weight_values).chain(c.biases.iter().zip(&c.bias_values)) {
                wires[w] = v + lie(w);
            }
            if let Some(GraphTamper::WeightCarry { index }) = tamper {
                // Byte `index` one lower and byte `index + 1` 256 higher: the packed word (and
                // so the commitment) is unchanged, the weights are not.
                if let (Some(&a), Some(&b)) = (c.weights.get(index), c.weights.get(index + 1)) {
                    wires[a] -= 1;
                    wires[b] += 256;
                }
            }
        }
        let mut blocks = Vec::with_capacity(plan.steps.len());
        let mut divisions = Vec::with_capacity(plan.steps.len());
        let mut roots = Vec::with_capacity(plan.steps.len());
        for step in &plan.steps {
            let mut bs = Vec::new();
            let mut ds = Vec::new();
            let mut rs = Vec::new();
            match step {
                Step::Linear { dots, kind, outputs, .. } => {
                    for (d, &w) in dots.iter().zip(outputs) {
                        let acc = match &d.committed {
                            Some(c) => {
                                let products = d.terms.iter().zip(&c.weights).enumerate().map(|(t, (&(x, _), &(wt, lo)))| {
                                    let weight = wires[wt] + WEIGHT_LO + if t == 0 { copy_lie(w) } else { 0 };
                                    weight * (wires[x] + lo)
                                });
                                wires[c.bias] + products.sum::<i64>()
                            }
                            None => d.bias + d.terms.iter().map(|&(i, wt)| wt * wires[i]).sum::<i64>(),
                        } + dot_lie(w);
                        let mut b = Block::honest(*kind, acc);
                        match tamper {
                            Some(GraphTamper::Remainder { wire }) if wire == w => {
                                let r = round_shift(acc, kind.shift) - 1;
                                b = Block { rem: b.rem + (1 << kind.shift), acc, ..Block::honest(*kind, r << kind.shift) };
                            }
                            Some(GraphTamper::ClampLow { wire }) if wire == w => {
                                let r = round_shift(acc, kind.shift);
                                b = Block { b_lo: true, b_hi: false, y: 0, dist: kind.lo - r, ..b };
                            }
                            _ => {}
                        }
                        b.y += lie(w);
                        wires[w] = b.y;
                        bs.push(b);
                    }
                }
                Step::Table { node, inputs: xs, outputs, .. } => {
                    let Op::Table { values } = &graph.nodes()[*node].op else { continue };
                    let lo_out = graph.tensors()[graph.nodes()[*node].output].lo;
                    for (&x, &w) in xs.iter().zip(outputs) {
                        let y = values.get(wires[x] as usize).map_or(0, |v| v - lo_out);
                        wires[w] = y + lie(w);
                    }
                }
                Step::Max { rows, .. } => {
                    for &(a, b, m) in rows {
                        wires[m] = wires[a].max(wires[b]) + lie(m);
                    }
                }
                Step::Mul { rows, lo, kind, outputs, .. } => {
                    for (&(a, b, p), &w) in rows.iter().zip(outputs) {
                        wires[p] = (wires[a] + lo.0) * (wires[b] + lo.1) + lie(p);
                        bs.push(requantize(*kind, wires[p], w, &mut wires));
                    }
                }
                Step::Div { rows, div, kind, outputs, .. } => {
                    for (&(a, b, q), &w) in rows.iter().zip(outputs) {
                        let (a, b) = (wires[a] + div.lo_a, wires[b] + div.lo_b);
                        let mut cells = if b >= 1 { DivCells::honest(*div, a, b) } else { DivCells { b: b - div.lo_b, q: 0, r: 0, d: b - 1 } };
                        match tamper {
                            Some(GraphTamper::DivQuotient { wire, delta }) if wire == w => {
                                cells.q += delta;
                                cells.r -= delta * b;
                                cells.d += delta * b;
                            }
                            Some(GraphTamper::DivRemainder { wire }) if wire == w => {
                                cells.r += 1;
                                cells.d -= 1;
                            }
                            Some(GraphTamper::DivByZero { wire }) if wire == w => {
                                cells = DivCells { b: -div.lo_b, q: 0, r: a << (div.shift + 1), d: -1 - (a << (div.shift + 1)) };
                            }
                            _ => {}
                        }
                        cells.q += lie(q);
                        wires[q] = cells.q;
                        bs.push(requantize(*kind, wires[q], w, &mut wires));
                        ds.push(cells);
                    }
                }
                Step::Inner { dots, lo, kind, outputs, .. } => {
                    for (d, &w) in dots.iter().zip(outputs) {
                        let acc = d.iter().map(|&(a, b)| (wires[a] + lo.0) * (wires[b] + lo.1)).sum::<i64>() + dot_lie(w);
                        bs.push(requantize(*kind, acc, w, &mut wires));
                    }
                }
                Step::Sqrt { rows, sqrt, kind, outputs, .. } => {
                    for (&(a, q), &w) in rows.iter().zip(outputs) {
                        let a = wires[a] + sqrt.lo_a;
                        let delta = match tamper {
                            Some(GraphTamper::SqrtRoot { wire, delta }) if wire == w => delta,
                            _ => 0,
                        };
                        let mut cells = SqrtCells::with_root(*sqrt, a, crate::graph::sqrt_floor2(a.max(0), sqrt.shift) + delta);
                        cells.q += lie(q);
                        wires[q] = cells.q;
                        bs.push(requantize(*kind, wires[q], w, &mut wires));
                        rs.push(cells);
                    }
                }
            }
            blocks.push(bs);
            divisions.push(ds);
            roots.push(rs);
        }
        GraphTrace { wires, blocks, divisions, roots }
    }

    /// The stored values of graph output `i`.
    pub fn output(&self, plan: &GraphPlan, i: usize) -> Vec<i64> {
        plan.outputs[i].iter().map(|&w| self.wires[w]).collect()
    }
}
