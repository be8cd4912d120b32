//! The integer cells of a requantization block, computed natively before any cell is
//! assigned (see [`graph_plan::GraphTrace`](super::graph_plan::GraphTrace)), so tests can replay
//! exactly what the circuit holds.

use super::graph_plan::RequantKind;
use crate::graph::round_shift;

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
