//! The integer witness of the mint circuit, computed natively before any cell is assigned,
//! so tests can replay exactly what the circuit holds (and tamper with it on purpose).

use halo2_proofs::halo2curves::bn256::Fr;

use super::plan::{Plan, RequantKind};
use crate::model::round_shift;

/// The cells of one requantization block, as integers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub acc: i64,
    pub rem: i64,
    /// The stored output `y - lo`.
    pub y: i64,
    pub b_lo: bool,
    pub b_hi: bool,
    pub dist: i64,
}

impl Block {
    /// The honest block for accumulator `acc`.
    pub fn honest(kind: RequantKind, acc: i64) -> Block {
        let r = round_shift(acc, kind.shift);
        let rem = acc + (1 << (kind.shift - 1)) - (r << kind.shift);
        let b_lo = r <= kind.lo;
        let b_hi = !b_lo && r >= kind.hi;
        let dist = if b_lo { kind.lo - r } else if b_hi { r - kind.hi } else { 0 };
        Block { acc, rem, y: r.clamp(kind.lo, kind.hi) - kind.lo, b_lo, b_hi, dist }
    }
}

/// A deliberate lie in the witness, for negative tests. Each names the cell it changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tamper {
    /// Round one step lower and carry the difference in the remainder (out of its range).
    Remainder { layer: usize, output: usize },
    /// Add `delta` to a stored output, keeping everything else (a wrong ReLU / pixel).
    Output { layer: usize, output: usize, delta: i64 },
    /// Claim the low clamp bit on an output that is not clamped.
    ClampLow { layer: usize, output: usize },
    /// Store a latent byte outside `[0, 256)`.
    LatentByte { index: usize, value: i64 },
    /// Add `delta` to the result of one output's dot product (its last running sum).
    DotResult { layer: usize, output: usize, delta: i64 },
    /// Add 1 to the square of state word 0 in Poseidon round `round` of the first permutation.
    PoseidonSquare { round: usize },
    /// Evaluate the circuit's picture at this challenge instead of the one it hashes to (what
    /// a prover does to claim another picture: take that picture's public challenge).
    Challenge { gamma: Fr },
    /// Add 1 to the running evaluation after Horner step `step`.
    EvaluationStep { step: usize },
}

/// Everything the circuit assigns, as integers.
#[derive(Clone, Debug)]
pub struct Trace {
    /// Offset latent bytes `latent + 128` (as stored in the range column).
    pub latent: Vec<i64>,
    pub layers: Vec<Vec<Block>>,
}

impl Trace {
    pub fn new(plan: &Plan, latent: &[i8], tamper: Option<Tamper>) -> Trace {
        let mut bytes: Vec<i64> = latent.iter().map(|&v| i64::from(v) + 128).collect();
        if let Some(Tamper::LatentByte { index, value }) = tamper {
            if let Some(b) = bytes.get_mut(index) {
                *b = value;
            }
        }
        let mut x = bytes.clone();
        let mut layers = Vec::with_capacity(plan.layers.len());
        for (l, layer) in plan.layers.iter().enumerate() {
            let kind = layer.kind;
            let blocks: Vec<Block> = layer
                .dots
                .iter()
                .enumerate()
                .map(|(o, d)| {
                    let mut acc = d.bias + d.terms.iter().map(|&(i, w)| w * x[i]).sum::<i64>();
                    if let Some(Tamper::DotResult { layer, output, delta }) = tamper {
                        if (layer, output) == (l, o) {
                            acc += delta;
                        }
                    }
                    let mut block = Block::honest(kind, acc);
                    match tamper {
                        Some(Tamper::Remainder { layer, output }) if (layer, output) == (l, o) => {
                            let r = round_shift(acc, kind.shift) - 1;
                            block = Block { rem: block.rem + (1 << kind.shift), ..Block::honest(kind, r << kind.shift) };
                            block.acc = acc;
                        }
                        Some(Tamper::Output { layer, output, delta }) if (layer, output) == (l, o) => block.y += delta,
                        Some(Tamper::ClampLow { layer, output }) if (layer, output) == (l, o) => {
                            let r = round_shift(acc, kind.shift);
                            block = Block { b_lo: true, b_hi: false, y: 0, dist: kind.lo - r, ..block };
                        }
                        _ => {}
                    }
                    block
                })
                .collect();
            x = blocks.iter().map(|b| b.y).collect();
            layers.push(blocks);
        }
        Trace { latent: bytes, layers }
    }

    /// The stored outputs of the last layer (CHW).
    pub fn output(&self) -> Vec<i64> {
        self.layers.last().map(|l| l.iter().map(|b| b.y).collect()).unwrap_or_default()
    }
}
