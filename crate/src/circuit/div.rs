//! Division by a computed, positive tensor: `q = floor(a·2^(s+1) / b)`, for `b ≥ 1`. The
//! requantization that follows (shift 1, the output's clamp) turns `q` into
//! `clamp(round(a·2^s / b))`, so a quotient is rounded to nearest like every other value.
//!
//! One gate per [`DivKind`] (shift, the operands' low ends and the remainder's width are
//! constants of the gate). A block in the range group, then the requantization block of `q`:
//!
//! ```text
//! | range (lookup) | bits           | aux        | q_div |
//! | r_0            | 8 (top: rest)  | a' (copy)  |   1   |
//! | … r limbs      |                | b' (copy)  |       |
//! | d_0 …          | 8 (top: rest)  | q          |       |
//! ```
//!
//! With `a = a' + lo_a`, `b = b' + lo_b`, `r = Σ 256^i·r_i`, `d = Σ 256^i·d_i`:
//!
//! - `a·2^(s+1) = q·b + r` — the division identity;
//! - `b - 1 - r = d` — the remainder is below the divisor.
//!
//! Soundness: `r` and `d` are range-checked to the bits of `hi_b - 1`, so `0 ≤ r` and
//! `r ≤ b - 1`; together `b = r + d + 1 ≥ 1`: a divisor of 0 or below has no witness at all
//! (it is not silently read as anything). `q` is the requantization's accumulator, so its
//! magnitude is bounded by that block's range-checked distance limbs; with `b < 2^17`,
//! `r < 2^16` and `|a·2^(s+1)| < 2^62` nothing wraps around the field, and the identity holds
//! over the integers: `q` is the floor of `a·2^(s+1) / b`, the only one with `0 ≤ r < b`.
//!
//! Cost per quotient (measured by `tests/circuit_shapes.rs`): no dot rows; `max(3, 2·L)` range
//! rows with `L` the remainder's byte limbs (1 for 8-bit, 2 for 16-bit divisors) plus the
//! requantization block of `q` (6 rows for 8-bit outputs, 5–6 for 16-bit ones).

use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Selector};
use halo2_proofs::poly::Rotation;

use super::dot::Wire;
use super::range::{compose_limbs, RangeConfig};
use super::{fr_from_i64, pow2};

/// What a division gate's polynomials depend on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DivKind {
    pub shift: u32,
    pub lo_a: i64,
    pub lo_b: i64,
    /// Bits of the remainder and of `b - 1 - r`: those of `hi_b - 1`.
    pub bits: u32,
}

impl DivKind {
    pub fn new(shift: u32, lo_a: i64, lo_b: i64, hi_b: i64) -> DivKind {
        DivKind { shift, lo_a, lo_b, bits: (64 - (hi_b - 1).max(1).leading_zeros()).max(1) }
    }

    pub fn limbs(&self) -> u32 {
        self.bits.div_ceil(8)
    }

    /// Range rows of the division block (the requantization of `q` follows it).
    pub fn height(&self) -> usize {
        (2 * self.limbs() as usize).max(3)
    }
}

/// The integers of one division block: the divisor as written (a copy of `b'`, unless a test
/// lies), the quotient, the remainder and `b - 1 - r`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DivCells {
    pub b: i64,
    pub q: i64,
    pub r: i64,
    pub d: i64,
}

impl DivCells {
    /// The honest cells for true values `a` and `b ≥ 1`; `lo_b` is the divisor's low end.
    pub fn honest(kind: DivKind, a: i64, b: i64) -> DivCells {
        let q = crate::graph::div_floor2(a, b, kind.shift);
        let r = (a << (kind.shift + 1)) - q * b;
        DivCells { b: b - kind.lo_b, q, r, d: b - 1 - r }
    }
}

#[derive(Clone, Debug)]
pub struct DivConfig {
    pub kinds: Vec<(DivKind, Selector)>,
    range: RangeConfig,
    aux: Column<Advice>,
}

impl DivConfig {
    pub fn configure(meta: &mut ConstraintSystem<Fr>, kinds: &[DivKind], range: &RangeConfig, aux: Column<Advice>) -> Self {
        let kinds = kinds
            .iter()
            .map(|&kind| {
                let q_div = meta.selector();
                let name = format!("div s={} lo_a={} lo_b={} {} bits", kind.shift, kind.lo_a, kind.lo_b, kind.bits);
                meta.create_gate(name, |meta| {
                    let q = meta.query_selector(q_div);
                    let limbs = kind.limbs();
                    let (r, d) = (compose_limbs(meta, range.range, 0, limbs), compose_limbs(meta, range.range, limbs, limbs));
                    let [a, b, quotient] = [0, 1, 2].map(|i| meta.query_advice(aux, Rotation(i)));
                    let c = |v: i64| Expression::Constant(fr_from_i64(v));
                    let (a, b) = (a + c(kind.lo_a), b + c(kind.lo_b));
                    vec![
                        ("div: a·2^(s+1) = q·b + r", q.clone() * (a * Expression::Constant(pow2(kind.shift + 1)) - quotient * b.clone() - r.clone())),
                        ("div: b - 1 - r = d", q * (b - c(1) - r - d)),
                    ]
                });
                (kind, q_div)
            })
            .collect();
        DivConfig { kinds, range: range.clone(), aux }
    }

    /// Lays out the division of `a` by `b` at range row `row`; returns the quotient `q`.
    /// `cells` holds the integers of the witness (none at key generation).
    pub fn assign(&self, region: &mut Region<'_, Fr>, row: usize, kind: DivKind, a: &Wire, b: &Wire, cells: Option<DivCells>) -> Result<Wire, Error> {
        let q_div = self.kinds.iter().find(|(k, _)| *k == kind).map(|(_, q)| *q).ok_or(Error::Synthesis)?;
        q_div.enable(region, row)?;
        let known = |f: &dyn Fn(&DivCells) -> i64| cells.as_ref().map_or(Value::unknown(), |c| Value::known(fr_from_i64(f(c))));
        let ac = region.assign_advice(self.aux, row, a.value);
        region.constrain_equal(ac.cell(), a.cell);
        let bc = region.assign_advice(self.aux, row + 1, known(&|c| c.b));
        region.constrain_equal(bc.cell(), b.cell);
        let q = known(&|c| c.q);
        let qc = region.assign_advice(self.aux, row + 2, q);
        let at = row + self.range.assign_limbs(region, row, kind.bits, cells.map(|c| c.r));
        self.range.assign_limbs(region, at, kind.bits, cells.map(|c| c.d));
        Ok(Wire { cell: qc.cell(), value: q })
    }
}
