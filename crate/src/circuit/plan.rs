//! The compile step from a [`QuantModel`] to what the circuit lays out: for every output value
//! of every layer, the dot product that produces it (input indices and constant weights) and
//! the requantization that follows. Integer-only; no halo2 here.
//!
//! Every activation is stored *offset* in the circuit: `v' = v - lo ∈ [0, 256)`, where `lo` is
//! the low end of the producing layer's clamp range (`-128` for the int8 latent and int8
//! outputs, `0` after ReLU). The dot product over stored values then needs the bias
//! `bias + lo · Σ w` — folded in here, per output, so the gate never sees the offset.
//! Weights that are zero are dropped: they are constants, so skipping them proves the same sum.

use super::statement;
use crate::model::{Layer, LinearOp, QuantModel};

/// One output value of a layer: `acc = bias + Σ weights[i] · input'[inputs[i]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dot {
    pub bias: i64,
    pub terms: Vec<(usize, i64)>,
}

/// How a layer's accumulators become stored outputs (one requantization gate per kind).
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

/// One layer as the circuit sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerPlan {
    pub name: String,
    pub dots: Vec<Dot>,
    pub kind: RequantKind,
}

/// The whole model as the circuit sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub latent_len: usize,
    pub layers: Vec<LayerPlan>,
    /// Channels of the picture (the last layer's output): 3 (RGB) or 1 (grey). Grey pictures
    /// are public as RGB like every other, each value repeated in R, G and B, so the statement
    /// the contract checks does not depend on the model.
    pub channels: usize,
}

impl Plan {
    pub fn new(model: &QuantModel) -> Plan {
        let mut lo_in = -128; // the latent is int8
        let mut max_in = 255i64; // stored inputs are in [0, 256)
        let layers = model
            .layers()
            .iter()
            .map(|layer| {
                let plan = plan_layer(layer, lo_in, max_in);
                lo_in = layer.clamp.0;
                max_in = layer.clamp.1 - layer.clamp.0;
                plan
            })
            .collect();
        Plan { latent_len: model.input().len, layers, channels: model.picture_shape().0 }
    }

    /// Multiply-accumulates the circuit proves (zero weights dropped).
    pub fn terms(&self) -> usize {
        self.layers.iter().flat_map(|l| &l.dots).map(|d| d.terms.len()).sum()
    }

    /// The distinct requantization kinds, sorted (one gate each).
    pub fn kinds(&self) -> Vec<RequantKind> {
        let mut kinds: Vec<RequantKind> = self.layers.iter().map(|l| l.kind).collect();
        kinds.sort();
        kinds.dedup();
        kinds
    }

    /// Number of output pixels (bytes) of the last layer.
    pub fn picture_len(&self) -> usize {
        self.layers.last().map_or(0, |l| l.dots.len())
    }

    /// Bytes of the public RGB picture: three per pixel, whatever the channel count.
    pub fn picture_bytes(&self) -> usize {
        self.picture_len() / self.channels.max(1) * 3
    }

    /// Where each public picture byte comes from: the index of an output value (CHW) for each
    /// byte of the RGB8 row-major picture; a grey value fills R, G and B.
    pub fn picture_sources(&self) -> Vec<usize> {
        statement::rgb_sources(self.picture_len(), self.channels)
    }
}

fn plan_layer(layer: &Layer, lo_in: i64, max_in: i64) -> LayerPlan {
    let dots: Vec<Dot> = gather(layer)
        .into_iter()
        .map(|(bias, terms)| {
            let terms: Vec<(usize, i64)> = terms.into_iter().filter(|&(_, w)| w != 0).collect();
            let bias = bias + lo_in * terms.iter().map(|&(_, w)| w).sum::<i64>();
            Dot { bias, terms }
        })
        .collect();
    // Worst case |acc| over all inputs in [0, max_in]: bounds r and so the clamp distance.
    let max_acc = dots
        .iter()
        .map(|d| {
            let pos: i64 = d.terms.iter().map(|&(_, w)| w.max(0)).sum::<i64>() * max_in;
            let neg: i64 = d.terms.iter().map(|&(_, w)| (-w).max(0)).sum::<i64>() * max_in;
            (d.bias + pos).abs().max((d.bias - neg).abs())
        })
        .max()
        .unwrap_or(0);
    let kind = RequantKind::for_bound(layer.shift(), layer.clamp.0, layer.clamp.1, max_acc);
    LayerPlan { name: layer.name.clone(), dots, kind }
}

/// For every output: its bias and (input index, weight) terms, zero weights included.
fn gather(layer: &Layer) -> Vec<(i64, Vec<(usize, i64)>)> {
    match layer.op {
        LinearOp::Dense { inputs, outputs } => (0..outputs)
            .map(|o| {
                let row = &layer.weights[o * inputs..(o + 1) * inputs];
                (layer.bias[o], row.iter().enumerate().map(|(i, &w)| (i, i64::from(w))).collect())
            })
            .collect(),
        LinearOp::ConvTranspose { input: (cin, ih, iw), output: (cout, oh, ow), kernel: (kh, kw), stride, pad } => {
            let mut out = Vec::with_capacity(cout * oh * ow);
            for co in 0..cout {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut terms = Vec::new();
                        for ci in 0..cin {
                            for (iy, ky) in taps(oy, ih, kh, stride.0, pad.0) {
                                for (ix, kx) in taps(ox, iw, kw, stride.1, pad.1) {
                                    let w = layer.weights[((ci * cout + co) * kh + ky) * kw + kx];
                                    terms.push(((ci * ih + iy) * iw + ix, i64::from(w)));
                                }
                            }
                        }
                        out.push((layer.bias[co], terms));
                    }
                }
            }
            out
        }
    }
}

/// The (input position, kernel position) pairs that land on output position `o` along one
/// axis of a transposed convolution: `i·stride + k = o + pad`.
fn taps(o: usize, n_in: usize, k: usize, stride: usize, pad: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..k).filter_map(move |t| {
        let at = (o + pad).checked_sub(t)?;
        (at % stride == 0 && at / stride < n_in).then_some((at / stride, t))
    })
}
