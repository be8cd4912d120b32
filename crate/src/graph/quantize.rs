//! Calibration: from a [`FloatGraph`] and sample inputs to an integer [`Graph`] with
//! power-of-two scales, and a report of what the quantization costs in accuracy.
//!
//! Every tensor gets the finest scale `2^-f` at which the largest magnitude seen on the samples
//! still fits its 8-bit range (int8, or uint8 when the tensor is never negative, as after a
//! Relu). Tensors that are rewired into one (Concat) or pooled share one scale. Weights are
//! quantized per tensor to `weight_bits` signed bits: fewer bits zero more small weights,
//! and zero weights cost nothing in the circuit — the accuracy/resources trade-off. A
//! requantization shift must be at least 1; where the inputs' and weights' scales are too
//! coarse for that, the output scale is coarsened instead.
//!
//! Division and square roots (Softmax, LayerNorm): a divisor must be positive on every
//! calibration sample, and the node computing it (a sum, product or function; the importer puts
//! an identity sum after anything else) is clamped to at least one step, so no input can make
//! it 0 or negative — a model whose divisor can reach 0 is refused here, naming the node. A
//! square root's input and output and every divisor are 16-bit whatever the activation width
//! (one value per normalized row: cheap, and a variance at 8 bits rounds to a step or two); a
//! quotient takes its dividend's width (with 8-bit activations Softmax's `e / Σe` reads an 8-bit exp
//! table; at 16 bits the exp is interpolated and 16-bit).
//!
//! Table indices (an embedding's token ids, read by [`FloatOp::Lookup`]) are integers at scale
//! `2^0` whatever the samples, 8-bit: `[0, 255]` for rows `[0, V)`, or `[-128, 127]` for rows
//! `[-V, V)` when the samples count from the end (negative ONNX indices; the wrap is built into
//! each column's table, which maps values beyond the rows to the nearest row). Every row's
//! value, looked up on the samples or not, fits the output scale. An index input of the
//! integer graph is marked with its rows ([`IndexInput`]), which inputs are checked against.
//!
//! Models that carry `section9.quantization` metadata (exported already on a power-of-two
//! grid, like the committed generator) keep their own scales: see [`ScaleHints`].

use std::collections::HashMap;

use super::float::{table_row, FloatGraph, FloatOp, Func};
use super::interpolate;
use super::{Geometry, Graph, GraphError, IndexInput, Node, Op, TensorInfo, MAX_DIV_SHIFT};

/// Calibration settings: the accuracy/resources trade-off.
#[derive(Clone, Debug)]
pub struct Options {
    /// Signed bits per weight, 2–16. Weights are constants of the circuit, so wide weights
    /// cost only a wider accumulator; narrow ones zero more weights, which cost nothing.
    pub weight_bits: u32,
    /// Bits per activation, 8 or 16. A 16-bit value takes two range-checked limbs (a row
    /// more per output, or about as many: its clamp flags leave the range column). A table
    /// reads 8-bit values; at 16 bits a function is interpolated between table points
    /// (`interpolate`) where that measures more accurate.
    pub activation_bits: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options { weight_bits: 8, activation_bits: 8 }
    }
}

impl Options {
    /// The accurate end: 16-bit weights and activations.
    pub fn accurate() -> Self {
        Options { weight_bits: 16, activation_bits: 16 }
    }
}

/// Scales fixed by the model's own quantization metadata, by tensor name (input frac bits) and
/// node name (weight and output frac bits).
#[derive(Clone, Debug, Default)]
pub struct ScaleHints {
    pub inputs: HashMap<String, i32>,
    pub nodes: HashMap<String, (i32, i32)>,
    /// Output frac bits alone, by node name (weights calibrate as usual): how a generator's
    /// bounded output is given the scale that makes its range 256 values.
    pub outputs: HashMap<String, i32>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QuantizeError {
    #[error("calibration needs at least one sample")]
    NoSamples,
    #[error("weight bits must be 2–16 and activation bits 8 or 16 (got {weight_bits} and {activation_bits})")]
    Options { weight_bits: u32, activation_bits: u32 },
    #[error("sample {sample}: input {input} has {got} values, the model expects {expected}")]
    SampleShape { sample: usize, input: usize, expected: usize, got: usize },
    #[error("sample {sample}: tensor `{tensor}` has a non-finite value")]
    NonFinite { sample: usize, tensor: String },
    #[error("node `{node}` ({op}): {what}")]
    Node { node: String, op: String, what: String },
    #[error(transparent)]
    Graph(#[from] GraphError),
}

/// Quantization error of one output over the calibration samples.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OutputError {
    pub name: String,
    pub frac_bits: i32,
    /// Largest |integer − float| in units of the output scale `2^-frac_bits`.
    pub max_abs_steps: f64,
    pub mean_abs_steps: f64,
    /// Largest |integer − float| over the largest |float| value.
    pub max_relative: f64,
}

/// What calibration measured.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Report {
    pub samples: usize,
    pub weight_bits: u32,
    pub activation_bits: u32,
    pub outputs: Vec<OutputError>,
    /// Weights that quantized to zero (free in the circuit), of all weights.
    pub zero_weights: usize,
    pub weights: usize,
}

/// The finest `f` with `max_abs · 2^f ≤ capacity`.
fn frac_for(max_abs: f64, capacity: f64) -> i32 {
    if max_abs <= 0.0 || !max_abs.is_finite() {
        return 0;
    }
    ((capacity / max_abs).log2().floor() as i32).clamp(-24, 30)
}

/// Union-find over tensors that must share a scale.
fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Quantizes `graph` with the samples (`samples[s][input]`).
pub fn quantize(graph: &FloatGraph, samples: &[Vec<Vec<f64>>], options: &Options, hints: &ScaleHints) -> Result<(Graph, Report), QuantizeError> {
    if samples.is_empty() {
        return Err(QuantizeError::NoSamples);
    }
    if !(2..=16).contains(&options.weight_bits) || ![8, 16].contains(&options.activation_bits) {
        return Err(QuantizeError::Options { weight_bits: options.weight_bits, activation_bits: options.activation_bits });
    }
    for (s, sample) in samples.iter().enumerate() {
        for (i, &t) in graph.inputs.iter().enumerate() {
            let got = sample.get(i).map_or(0, Vec::len);
            if got != graph.tensors[t].len() {
                return Err(QuantizeError::SampleShape { sample: s, input: i, expected: graph.tensors[t].len(), got });
            }
        }
    }
    // Range of every tensor over all samples.
    let n = graph.tensors.len();
    let (mut min, mut max) = (vec![0f64; n], vec![0f64; n]);
    // The ranges above include 0 (a scale covers it); a divisor's own smallest value does not.
    let mut least = vec![f64::INFINITY; n];
    let mut float_outputs = Vec::with_capacity(samples.len());
    for (s, sample) in samples.iter().enumerate() {
        let values = graph.forward(sample);
        // Named here: the float reading's NaN for a bad index would only say "non-finite".
        for node in &graph.nodes {
            let FloatOp::Lookup { values: table } = &node.op else { continue };
            let t = node.inputs[0];
            if let Some((at, &i)) = values[t].iter().enumerate().find(|&(_, &i)| i.fract() != 0.0 || table_row(i, table.len()).is_none()) {
                let rows = table.len();
                let what = format!("calibration sample {s} gives index {i} at {at} of `{}`; the table has {rows} rows, so an index is an integer in [-{rows}, {rows})", graph.tensors[t].name);
                return Err(QuantizeError::Node { node: node.name.clone(), op: node.source_op.clone(), what });
            }
        }
        for (t, v) in values.iter().enumerate() {
            for &x in v {
                if !x.is_finite() {
                    return Err(QuantizeError::NonFinite { sample: s, tensor: graph.tensors[t].name.clone() });
                }
                min[t] = min[t].min(x);
                max[t] = max[t].max(x);
                least[t] = least[t].min(x);
            }
        }
        float_outputs.push(graph.outputs.iter().map(|&o| values[o].clone()).collect::<Vec<_>>());
    }

    // Every row of a table can be looked up, whichever rows the samples read: the output's
    // range covers them all.
    for node in &graph.nodes {
        let FloatOp::Lookup { values: table } = &node.op else { continue };
        if table.iter().any(|v| !v.is_finite()) {
            return Err(QuantizeError::Node { node: node.name.clone(), op: node.source_op.clone(), what: "the table holds a non-finite value".into() });
        }
        let o = node.output;
        for &v in table {
            min[o] = min[o].min(f64::from(v));
            max[o] = max[o].max(f64::from(v));
        }
    }

    // Tensors rewired or pooled together share a scale; the group's range is their union.
    let mut parent: Vec<usize> = (0..n).collect();
    for node in &graph.nodes {
        if matches!(node.op, FloatOp::Gather { .. } | FloatOp::Max { .. }) {
            for &i in &node.inputs {
                let (a, b) = (find(&mut parent, i), find(&mut parent, node.output));
                parent[a] = b;
            }
        }
    }
    let mut group_min = vec![0f64; n];
    let mut group_max = vec![0f64; n];
    for t in 0..n {
        let g = find(&mut parent, t);
        group_min[g] = group_min[g].min(min[t]);
        group_max[g] = group_max[g].max(max[t]);
    }
    // A fixed frac (from hints) of any member fixes the group's.
    let mut group_frac: HashMap<usize, i32> = HashMap::new();
    for (&t, name) in graph.inputs.iter().map(|t| (t, &graph.tensors[*t].name)) {
        if let Some(&f) = hints.inputs.get(name) {
            group_frac.insert(find(&mut parent, t), f);
        }
    }
    for node in &graph.nodes {
        if let Some(fy) = hints.nodes.get(&node.name).map(|h| h.1).or_else(|| hints.outputs.get(&node.name).copied()) {
            group_frac.insert(find(&mut parent, node.output), fy);
        }
    }
    // Groups of table indices: scale 2^0, 8-bit, and the rows every table reading them has.
    let mut index_range: HashMap<usize, (i64, i64)> = HashMap::new();
    for node in &graph.nodes {
        let FloatOp::Lookup { values: table } = &node.op else { continue };
        let err = |what: String| QuantizeError::Node { node: node.name.clone(), op: node.source_op.clone(), what };
        let g = find(&mut parent, node.inputs[0]);
        if group_frac.get(&g).is_some_and(|&f| f != 0) {
            return Err(err(format!("the index `{}` has a scale fixed by the model's metadata; indices are integers (scale 2^0)", graph.tensors[node.inputs[0]].name)));
        }
        let rows = table.len() as i64;
        let (lo, hi) = if group_min[g] < 0.0 { (-rows, rows - 1) } else { (0, rows - 1) };
        let (lo, hi) = index_range.get(&g).map_or((lo, hi), |&(l, h)| (l.max(lo), h.min(hi)));
        if lo < -128 {
            return Err(err(format!("the samples give negative indices (counted from the end) into a table of {rows} rows; a table reads 8-bit indices, so that needs at most 128 rows")));
        }
        index_range.insert(g, (lo, hi));
    }
    // The scale and range of a group at a bit width.
    let group_scale = |g: usize, bits: u32, group_frac: &HashMap<usize, i32>| -> (i32, i64, i64) {
        if let Some(&(lo, _)) = index_range.get(&g) {
            return if lo < 0 { (0, -128, 127) } else { (0, 0, 255) };
        }
        let (lo, hi) = if group_min[g] >= 0.0 { (0, (1i64 << bits) - 1) } else { (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1) };
        let f = group_frac.get(&g).copied().unwrap_or_else(|| frac_for(group_max[g].max(-group_min[g]), hi as f64));
        (f, lo, hi)
    };
    // Groups with scales fixed by hints are 8-bit, and so are the groups a function reads or
    // writes by a table (one entry per input value). At 16 bits a function is interpolated
    // instead where that measures more accurate (`interpolate`): its groups stay 16-bit.
    let mut byte_groups: std::collections::HashSet<usize> = group_frac.keys().copied().collect();
    for node in &graph.nodes {
        let FloatOp::Func(f) = node.op else { continue };
        if f == Func::Sqrt {
            continue;
        }
        let (gx, gy) = (find(&mut parent, node.inputs[0]), find(&mut parent, node.output));
        let info = |g: usize, bits: u32| {
            let (frac_bits, lo, hi) = group_scale(g, bits, &group_frac);
            TensorInfo { name: String::new(), shape: vec![], frac_bits, lo, hi }
        };
        let wide = options.activation_bits == 16
            && !byte_groups.contains(&gx)
            && !byte_groups.contains(&gy)
            && interpolate::prefers(f, (min[node.inputs[0]], max[node.inputs[0]]), &info(gx, 16), &info(gy, 16), &info(gx, 8), &info(gy, 8));
        if !wide {
            byte_groups.insert(gx);
            byte_groups.insert(gy);
        }
    }
    // A quotient holds no more precision than its dividend: Softmax's `e / Σe` reads an 8-bit
    // table output and is 8-bit itself (16 bits would only spread the table's error over
    // 256 times more steps).
    for node in &graph.nodes {
        if matches!(node.op, FloatOp::Div { .. }) && byte_groups.contains(&find(&mut parent, node.inputs[0])) {
            byte_groups.insert(find(&mut parent, node.output));
        }
    }
    // Divisors: the tensors a division reads as its divisor, traced back through rewiring
    // (a broadcast sum) to the node that computes them. Each must be positive on every
    // calibration sample; its node then clamps it to at least one step, so no input can make
    // it 0 or negative (the circuit could not prove a quotient then).
    let mut divisors = std::collections::HashSet::new();
    for node in &graph.nodes {
        if let FloatOp::Div { .. } = node.op {
            let mut t = node.inputs[1];
            while let Some(p) = graph.nodes.iter().find(|m| m.output == t && matches!(m.op, FloatOp::Gather { .. }) && m.inputs.len() == 1) {
                t = p.inputs[0];
            }
            let producer = graph.nodes.iter().find(|m| m.output == t);
            let err = |what: String| QuantizeError::Node { node: node.name.clone(), op: node.source_op.clone(), what };
            if !producer.is_some_and(|p| matches!(p.op, FloatOp::Linear { .. } | FloatOp::Mul { .. } | FloatOp::Func(_))) {
                return Err(err(format!("the divisor `{}` is not computed by a sum, product or function, which calibration could clamp to a positive range", graph.tensors[t].name)));
            }
            if least[t] <= 0.0 {
                return Err(err(format!(
                    "the divisor `{}` reaches {} on the calibration samples; division needs a divisor that is always positive (a sum of exponentials, a variance plus epsilon)",
                    graph.tensors[t].name, least[t]
                )));
            }
            divisors.insert(t);
        }
    }
    // A square root's input and output and every divisor are one value per normalized row (a
    // variance, a standard deviation, a sum of exponentials): 16 bits cost a few rows and keep
    // a small variance from rounding to a step or two.
    let mut wide_groups = std::collections::HashSet::new();
    for node in &graph.nodes {
        if matches!(node.op, FloatOp::Func(Func::Sqrt)) {
            wide_groups.insert(find(&mut parent, node.inputs[0]));
            wide_groups.insert(find(&mut parent, node.output));
        }
    }
    for &t in &divisors {
        wide_groups.insert(find(&mut parent, t));
    }
    let mut info: Vec<Option<TensorInfo>> = vec![None; n];
    let scale_of = |t: usize, parent: &mut [usize]| -> (i32, i64, i64) {
        let g = find(parent, t);
        let bits = if byte_groups.contains(&g) {
            8
        } else if wide_groups.contains(&g) {
            16
        } else {
            options.activation_bits
        };
        group_scale(g, bits, &group_frac)
    };
    // The integer graph's tensors: the float graph's, in order, with the intermediate tensors
    // of interpolated functions before their outputs; `index[t]` is float tensor `t`'s.
    let mut tensors: Vec<TensorInfo> = Vec::with_capacity(n);
    let mut index = vec![usize::MAX; n];
    for &t in &graph.inputs {
        let (frac_bits, lo, hi) = scale_of(t, &mut parent);
        let t_info = TensorInfo { name: graph.tensors[t].name.clone(), shape: graph.tensors[t].shape.clone(), frac_bits, lo, hi };
        info[t] = Some(t_info.clone());
        index[t] = tensors.len();
        tensors.push(t_info);
    }

    let mut nodes = Vec::with_capacity(graph.nodes.len());
    let (mut zero_weights, mut weight_total) = (0, 0);
    for node in &graph.nodes {
        let err = |what: String| QuantizeError::Node { node: node.name.clone(), op: node.source_op.clone(), what };
        let ins: Vec<TensorInfo> = node.inputs.iter().map(|&i| info[i].clone().ok_or_else(|| err("input not quantized".into()))).collect::<Result<_, _>>()?;
        let shape = graph.tensors[node.output].shape.clone();
        let name = graph.tensors[node.output].name.clone();
        let (mut fy, mut lo, mut hi) = scale_of(node.output, &mut parent);
        let clamp_to = |c: Option<(f32, f32)>, fy: i32, lo: i64, hi: i64| match c {
            Some((a, b)) => {
                let s = 2f64.powi(fy);
                let b = (f64::from(b) * s).round().clamp(lo as f64, hi as f64) as i64;
                // min > max clips everything to max.
                let a = ((f64::from(a) * s).round().clamp(lo as f64, hi as f64) as i64).min(b);
                (a, b)
            }
            None => (lo, hi),
        };
        let op = match &node.op {
            FloatOp::Linear { geometry, weights, bias, clamp } => {
                let hint = hints.nodes.get(&node.name).copied();
                let (qw, fw_acc) = if let Geometry::Sum { .. } = geometry {
                    // Operand j enters at the common accumulator scale F as w_j · 2^(F - f_j),
                    // with F fine enough to give every w_j seven significant bits.
                    let need = weights.iter().zip(&ins).map(|(&w, t)| t.frac_bits + frac_for(f64::from(w).abs(), 127.0)).max().unwrap_or(0);
                    let acc = need.max(fy + 1).min(fy + 40);
                    let qw: Vec<i64> = weights.iter().zip(&ins).map(|(&w, t)| (f64::from(w) * 2f64.powi(acc - t.frac_bits)).round() as i64).collect();
                    (qw, acc)
                } else {
                    let fx = ins[0].frac_bits;
                    // Pooling weights are `1/n`, not learned: they get 16 bits.
                    let bits = if matches!(geometry, Geometry::Pool { .. }) { 16 } else { options.weight_bits };
                    let cap = f64::from((1u32 << (bits - 1)) - 1);
                    // Only the weights some output reads set the scale (a pool's 1/n for the
                    // window sizes that occur, not 1/1).
                    let mut used = vec![!matches!(geometry, Geometry::Pool { .. }); weights.len()];
                    if matches!(geometry, Geometry::Pool { .. }) {
                        for o in 0..geometry.output_len() {
                            geometry.taps(o, |t| used[t.weight] = true);
                        }
                    }
                    let max_w = weights.iter().zip(&used).filter(|(_, &u)| u).fold(0f64, |m, (&w, _)| m.max(f64::from(w).abs()));
                    let mut fw = hint.map_or_else(|| frac_for(max_w, cap), |h| h.0);
                    if hint.is_none() && fx + fw - fy > 40 {
                        fw = fy + 40 - fx;
                    }
                    let limit = if hint.is_some() { 128.0 } else { cap };
                    let qw: Vec<i64> = weights.iter().map(|&w| (f64::from(w) * 2f64.powi(fw)).round().clamp(-limit, limit) as i64).collect();
                    (qw, fx + fw)
                };
                if hint.is_none() && fw_acc - fy < 1 {
                    fy = fw_acc - 1;
                }
                let shift = fw_acc - fy;
                if !(1..=48).contains(&shift) {
                    return Err(err(format!("needs a requantization shift of {shift}, outside [1, 48]")));
                }
                (lo, hi) = clamp_to(*clamp, fy, lo, hi);
                if divisors.contains(&node.output) {
                    lo = lo.max(1).min(hi);
                }
                zero_weights += qw.iter().filter(|&&w| w == 0).count();
                weight_total += qw.len();
                let qb = bias.iter().map(|&b| (f64::from(b) * 2f64.powi(fw_acc)).round() as i64).collect();
                Op::Linear { geometry: geometry.clone(), weights: qw, bias: qb, shift: shift as u32 }
            }
            FloatOp::Mul { clamp } => {
                let acc = ins[0].frac_bits + ins[1].frac_bits;
                if acc - fy < 1 {
                    fy = acc - 1;
                }
                (lo, hi) = clamp_to(*clamp, fy, lo, hi);
                if divisors.contains(&node.output) {
                    lo = lo.max(1).min(hi);
                }
                Op::Mul { shift: u32::try_from(acc - fy).map_err(|_| err("bad shift".into()))? }
            }
            FloatOp::Inner { k } => {
                let acc = ins[0].frac_bits + ins[1].frac_bits;
                if acc - fy < 1 {
                    fy = acc - 1;
                }
                Op::Inner { k: *k, shift: u32::try_from(acc - fy).map_err(|_| err("bad shift".into()))? }
            }
            FloatOp::Div { clamp } => {
                // y = a·2^s / b at 2^-fy: s = fy + fb - fa, kept in [0, MAX_DIV_SHIFT].
                let (fa, fb) = (ins[0].frac_bits, ins[1].frac_bits);
                fy = fy.clamp(fa - fb, fa - fb + MAX_DIV_SHIFT as i32);
                (lo, hi) = clamp_to(*clamp, fy, lo, hi);
                Op::Div { shift: u32::try_from(fy + fb - fa).map_err(|_| err("bad shift".into()))? }
            }
            FloatOp::Func(f) => {
                if divisors.contains(&node.output) {
                    lo = lo.max(1);
                }
                let x = &ins[0];
                if *f == Func::Sqrt {
                    // √(q·2^-fx)·2^fy = √(q·2^(2fy - fx)): the shift 2fy - fx kept in [0, MAX].
                    if x.lo < 0 {
                        return Err(err(format!("the square root's input `{}` has a negative range", x.name)));
                    }
                    let max = MAX_DIV_SHIFT as i32;
                    fy = fy.clamp((x.frac_bits + 1).div_euclid(2), (x.frac_bits + max).div_euclid(2));
                    Op::Sqrt { shift: (2 * fy - x.frac_bits) as u32 }
                } else {
                    let out = TensorInfo { name: name.clone(), shape: shape.clone(), frac_bits: fy, lo, hi };
                    if x.hi - x.lo > 255 {
                        // A 16-bit input: interpolated between table points (see `interpolate`).
                        let mut emit = |suffix: &str, op: Op, inputs: Vec<usize>, t: TensorInfo| {
                            let name = if suffix.is_empty() { node.name.clone() } else { format!("{}/{suffix}", node.name) };
                            nodes.push(Node { name, op, inputs, output: tensors.len() });
                            tensors.push(t);
                            tensors.len() - 1
                        };
                        index[node.output] = interpolate::lower(*f, index[node.inputs[0]], x, &out, &mut emit).ok_or_else(|| err(format!("{f:?} is undefined at a table point of its 16-bit input")))?;
                        info[node.output] = Some(out);
                        continue;
                    }
                    Op::Table { values: (x.lo..=x.hi).map(|q| out.quantize(f.apply(x.dequantize(q)))).collect() }
                }
            }
            FloatOp::Gather { sources } => {
                let first = &ins[0];
                if ins.iter().any(|t| t.lo != first.lo) {
                    return Err(err("joins tensors of different signedness (one after a Relu, one not); add a Relu to both or neither".into()));
                }
                (fy, lo, hi) = (first.frac_bits, first.lo, ins.iter().map(|t| t.hi).max().unwrap_or(first.hi));
                Op::Gather { sources: sources.clone() }
            }
            FloatOp::Max { geometry } => {
                (fy, lo, hi) = (ins[0].frac_bits, ins[0].lo, ins[0].hi);
                Op::Max { geometry: geometry.clone() }
            }
            FloatOp::Lookup { values: table } => {
                // Each stored index reads its row, a negative one counting from the end; values
                // beyond the rows (which inputs are checked against) read the nearest row.
                let (x, rows) = (&ins[0], table.len() as i64);
                if x.frac_bits != 0 || x.hi - x.lo > 255 {
                    return Err(err(format!("the index `{}` is not an 8-bit integer (scale 2^{}, range [{}, {}])", x.name, -x.frac_bits, x.lo, x.hi)));
                }
                let first = if x.lo < 0 { -rows } else { 0 };
                let out = TensorInfo { name: name.clone(), shape: shape.clone(), frac_bits: fy, lo, hi };
                Op::Table { values: (x.lo..=x.hi).map(|q| out.quantize(f64::from(table[q.clamp(first, rows - 1).rem_euclid(rows) as usize]))).collect() }
            }
        };
        let t_info = TensorInfo { name, shape, frac_bits: fy, lo, hi };
        info[node.output] = Some(t_info.clone());
        nodes.push(Node { name: node.name.clone(), op, inputs: node.inputs.iter().map(|&i| index[i]).collect(), output: tensors.len() });
        index[node.output] = tensors.len();
        tensors.push(t_info);
    }
    if let Some(t) = index.iter().position(|&i| i == usize::MAX) {
        return Err(QuantizeError::Graph(GraphError::File(format!("tensor {t} is never computed"))));
    }
    let qgraph = Graph::new(tensors, graph.inputs.iter().map(|&t| index[t]).collect(), graph.outputs.iter().map(|&t| index[t]).collect(), nodes)?;
    let index_inputs = graph.inputs.iter().filter_map(|&t| index_range.get(&find(&mut parent, t)).map(|&(lo, hi)| IndexInput { tensor: index[t], lo, hi })).collect();
    let qgraph = qgraph.with_indices(index_inputs)?;

    // Accuracy: integer against float on every sample, in units of each output's scale.
    let mut outputs: Vec<OutputError> = qgraph
        .outputs()
        .iter()
        .map(|&o| {
            let t = &qgraph.tensors()[o];
            OutputError { name: t.name.clone(), frac_bits: t.frac_bits, max_abs_steps: 0.0, mean_abs_steps: 0.0, max_relative: 0.0 }
        })
        .collect();
    let mut peak = vec![0f64; outputs.len()];
    let mut count = vec![0usize; outputs.len()];
    for (sample, floats) in samples.iter().zip(&float_outputs) {
        let ints = qgraph.run_float(sample)?;
        for (k, (i, f)) in ints.iter().zip(floats).enumerate() {
            let step = 2f64.powi(-outputs[k].frac_bits);
            for (a, b) in i.iter().zip(f) {
                let d = (a - b).abs() / step;
                outputs[k].max_abs_steps = outputs[k].max_abs_steps.max(d);
                outputs[k].mean_abs_steps += d;
                outputs[k].max_relative = outputs[k].max_relative.max((a - b).abs());
                peak[k] = peak[k].max(b.abs());
                count[k] += 1;
            }
        }
    }
    for (k, o) in outputs.iter_mut().enumerate() {
        o.mean_abs_steps /= count[k].max(1) as f64;
        o.max_relative /= peak[k].max(f64::MIN_POSITIVE);
    }
    let report = Report { samples: samples.len(), weight_bits: options.weight_bits, activation_bits: options.activation_bits, outputs, zero_weights, weights: weight_total };
    Ok((qgraph, report))
}
