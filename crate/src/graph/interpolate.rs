//! Functions of 16-bit tensors: linear interpolation between table points.
//!
//! A table holds one output per input integer, so it reads at most 256 values. A function `f`
//! of a tensor of up to 65,536 values `q` (at scale `2^-fx`) is computed instead from two
//! tables over its 256-value segments and a product:
//!
//! ```text
//! h = ⌊q / 256⌋              the segment       requantization: (q − 128 + 128) >> 8
//! r = q − 256·h              offset, 0…255      exact sum: (2q − 512h + 1) >> 1
//! t = T[h]                   f(256h), at the output scale 2^-fy           table
//! d = D[h]                   f(256h + 256) − f(256h), at 2^-(fy+e)        table
//! p = round(d·r / 2^(8+e))   the rise up to the offset                    product
//! y = clamp(t + p)           exact sum, clamped to the output's range
//! ```
//!
//! `T` and `D` are taken from `f` itself at the segment ends (clamped to the output's range),
//! `e` gives `D` 15 significant bits. The result is the chord of `f` over each segment: its
//! error is at most `w²/8 · max|f''|` for a segment `w = 256·2^-fx` wide, plus a step of
//! rounding — for GELU over [-4, 4] (`w = 1/16`) about 4·10⁻⁴, where an 8-bit table's input
//! alone is off by up to a step of 1/32 times the slope. Every node is an existing chip, so the
//! circuit proves it with no new constraint; it costs four arithmetic rows and two lookups per
//! value where a table costs one lookup.
//!
//! Calibration takes it for a function whose input is 16-bit when it measures a smaller
//! largest error than the 8-bit table over the input's calibrated range ([`prefers`]), which
//! is every smooth function; a function with a pole inside a segment (a reciprocal near 0)
//! keeps the table. HardSwish is not smooth: a chord across its kinks at ±3 (slopes changing by
//! 1/2) is off by up to `w/8`, so at 16 bits it is computed exactly instead, as
//! `x · clamp(x/6 + 1/2, 0, 1)` — a clamped affine map (the gate, at `2^-15`) and a product
//! ([`lower`]).

use super::float::Func;
use super::{round_shift, Geometry, Op, TensorInfo};

/// Adds one node: `(name suffix, op, input tensors, output tensor)` → the output tensor's index.
pub type Emit<'a> = dyn FnMut(&str, Op, Vec<usize>, TensorInfo) -> usize + 'a;

/// Segment width in input steps: one 8-bit table entry per segment.
const SEGMENT: i64 = 256;

/// The two tables and the product's extra precision for `f` from `x` to `y`.
#[derive(Clone, Debug)]
pub struct Interpolation {
    /// The first segment, `⌊x.lo / 256⌋`.
    first: i64,
    /// `T[h]`: `f` at the segment's start, at `y`'s scale.
    start: Vec<i64>,
    /// `D[h]`: `f`'s rise over the segment, at `y`'s scale times `2^extra`.
    rise: Vec<i64>,
    extra: i32,
}

impl Interpolation {
    /// `None` when `f` is undefined at a segment end (a logarithm of a negative value).
    pub fn new(f: Func, x: &TensorInfo, y: &TensorInfo) -> Option<Interpolation> {
        let (first, last) = (x.lo.div_euclid(SEGMENT), x.hi.div_euclid(SEGMENT));
        let scale = 2f64.powi(y.frac_bits);
        let at = |j: i64| {
            let v = f.apply(x.dequantize(SEGMENT * j)) * scale;
            (!v.is_nan()).then(|| v.clamp(y.lo as f64, y.hi as f64))
        };
        let ends: Vec<f64> = (first..=last + 1).map(at).collect::<Option<_>>()?;
        let rises: Vec<f64> = ends.windows(2).map(|w| w[1] - w[0]).collect();
        let largest = rises.iter().fold(0f64, |m, r| m.max(r.abs()));
        // 15 significant bits (|D| ≤ 32767), within the product's shift [1, 48] and the
        // tensor scales' [-40, 40].
        let extra = if largest > 0.0 { (32767.0 / largest).log2().floor() as i32 } else { 0 };
        let extra = extra.min(40 - y.frac_bits).max(-7);
        let k = 2f64.powi(extra);
        Some(Interpolation {
            first,
            start: ends[..ends.len() - 1].iter().map(|v| v.round() as i64).collect(),
            rise: rises.iter().map(|r| (r * k).round() as i64).collect(),
            extra,
        })
    }

    fn shift(&self) -> u32 {
        (8 + self.extra) as u32
    }

    /// The rise's range over offsets 0…255 (the product's output range).
    fn product_range(&self) -> (i64, i64) {
        self.rise.iter().fold((0, 0), |(lo, hi), &d| {
            let p = round_shift(d * (SEGMENT - 1), self.shift());
            (lo.min(p), hi.max(p))
        })
    }

    /// The integer result for input `q`: what the lowered nodes compute.
    pub fn eval(&self, q: i64, y: &TensorInfo) -> i64 {
        let h = q.div_euclid(SEGMENT);
        let (r, i) = (q - SEGMENT * h, (h - self.first) as usize);
        (self.start[i] + round_shift(self.rise[i] * r, self.shift())).clamp(y.lo, y.hi)
    }

    /// The nodes computing `y = f(x)`: `emit(name suffix, op, inputs, tensor)` adds one node
    /// and returns its output tensor; `x` is the input tensor, `y` the output's description.
    /// Returns the output tensor.
    pub fn lower(&self, x: usize, xi: &TensorInfo, y: &TensorInfo, emit: &mut Emit) -> usize {
        let len = xi.len();
        let sum = |operands| Geometry::Sum { operands, len };
        let tensor = |suffix: &str, frac_bits: i32, lo: i64, hi: i64| TensorInfo { name: format!("{}/{suffix}", y.name), shape: y.shape.clone(), frac_bits, lo, hi };
        let last = self.first + self.start.len() as i64 - 1;
        let h = emit("segment", Op::Linear { geometry: sum(1), weights: vec![1], bias: vec![-SEGMENT / 2], shift: 8 }, vec![x], tensor("segment", xi.frac_bits - 8, self.first, last));
        let r = emit("offset", Op::Linear { geometry: sum(2), weights: vec![2, -2 * SEGMENT], bias: vec![0], shift: 1 }, vec![x, h], tensor("offset", xi.frac_bits, 0, SEGMENT - 1));
        let t = emit("start", Op::Table { values: self.start.clone() }, vec![h], tensor("start", y.frac_bits, y.lo, y.hi));
        let (dlo, dhi) = self.rise.iter().fold((i64::MAX, i64::MIN), |(lo, hi), &d| (lo.min(d), hi.max(d)));
        let d = emit("rise", Op::Table { values: self.rise.clone() }, vec![h], tensor("rise", y.frac_bits + self.extra, dlo, dhi));
        let (plo, phi) = self.product_range();
        let p = emit("share", Op::Mul { shift: self.shift() }, vec![d, r], tensor("share", y.frac_bits, plo, phi));
        emit("", Op::Linear { geometry: sum(2), weights: vec![2, 2], bias: vec![0], shift: 1 }, vec![t, p], y.clone())
    }
}

/// The nodes computing `y = f(x)` for a 16-bit `x`: HardSwish exactly, anything else by
/// [`Interpolation`]; `None` when `f` is undefined at a table point. `emit(name suffix, op,
/// inputs, tensor)` adds one node and returns its output tensor; returns the output tensor.
pub fn lower(f: Func, x: usize, xi: &TensorInfo, y: &TensorInfo, emit: &mut Emit) -> Option<usize> {
    if f == Func::HardSwish {
        if let Some(out) = lower_hard_swish(x, xi, y, emit) {
            return Some(out);
        }
    }
    Interpolation::new(f, xi, y).map(|chords| chords.lower(x, xi, y, emit))
}

/// HardSwish as `x · gate`, `gate = clamp(x/6 + 1/2, 0, 1)` at `2^-15`; `None` when the
/// product's shift would be below 1 (an output scale far finer than the input's).
fn lower_hard_swish(x: usize, xi: &TensorInfo, y: &TensorInfo, emit: &mut Emit) -> Option<usize> {
    const GATE: i32 = 15;
    let product_shift = u32::try_from(xi.frac_bits + GATE - y.frac_bits).ok().filter(|s| (1..=48).contains(s))?;
    // The gate's slope 2^(GATE + s - fx)/6 with about 23 bits (weights stay below 2^24), its
    // offset 2^(GATE + s - 1) below 2^48.
    let shift = (xi.frac_bits + 8).clamp(1, 48 - GATE);
    let weight = (2f64.powi(GATE + shift - xi.frac_bits) / 6.0).round() as i64;
    if weight.unsigned_abs() >= 1 << 24 {
        return None;
    }
    let gate = TensorInfo { name: format!("{}/gate", y.name), shape: y.shape.clone(), frac_bits: GATE, lo: 0, hi: 1 << GATE };
    let geometry = Geometry::Sum { operands: 1, len: xi.len() };
    let gate = emit("gate", Op::Linear { geometry, weights: vec![weight], bias: vec![1 << (GATE + shift - 1)], shift: shift as u32 }, vec![x], gate);
    Some(emit("", Op::Mul { shift: product_shift }, vec![x, gate], y.clone()))
}

/// Largest |result − f(x)| over the inputs `q` of `x16` in `[lo, hi]`, for a result function.
fn largest_error(f: Func, x16: &TensorInfo, lo: i64, hi: i64, result: impl Fn(i64) -> f64) -> f64 {
    (lo..=hi)
        .filter_map(|q| {
            let want = f.apply(x16.dequantize(q));
            want.is_finite().then(|| (result(q) - want).abs())
        })
        .fold(0f64, f64::max)
}

/// Whether interpolation at 16 bits (`x16 → y16`) beats an 8-bit table (`x8 → y8`) on the
/// input's calibrated range `[min, max]`, by the largest error against `f`.
pub fn prefers(f: Func, (min, max): (f64, f64), x16: &TensorInfo, y16: &TensorInfo, x8: &TensorInfo, y8: &TensorInfo) -> bool {
    if f == Func::HardSwish {
        // Exact (see `lower`).
        return true;
    }
    let Some(chords) = Interpolation::new(f, x16, y16) else { return false };
    let (lo, hi) = (x16.quantize(min), x16.quantize(max));
    let interpolated = largest_error(f, x16, lo, hi, |q| y16.dequantize(chords.eval(q, y16)));
    let table = largest_error(f, x16, lo, hi, |q| {
        let x = x8.dequantize(x8.quantize(x16.dequantize(q)));
        y8.dequantize(y8.quantize(f.apply(x)))
    });
    interpolated < table
}
