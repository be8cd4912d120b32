//! Square root of a computed, non-negative tensor: `q = ⌊√(a·2^(s+2))⌋`. The requantization
//! that follows (shift 1, the output's clamp) turns `q` into `clamp(round(√(a·2^s)))`
//! (`⌊(⌊2√A⌋ + 1)/2⌋ = ⌊√A + 1/2⌋`).
//!
//! One gate per [`SqrtKind`]. A block in the range group, then the requantization block of `q`:
//!
//! ```text
//! | range (lookup) | bits           | aux        | q_sqrt |
//! | e_0 …          | 8 (top: rest)  | a' (copy)  |   1    |
//! | f_0 …          | 8 (top: rest)  | q          |        |
//! ```
//!
//! With `A = (a' + lo_a)·2^(s+2)`, `e = Σ 256^i·e_i`, `f = Σ 256^i·f_i`:
//!
//! - `A - q² = e` — the root is not too large;
//! - `(q + 1)² - 1 - A = f` — nor too small.
//!
//! Soundness: `e, f ≥ 0` (range-checked to the bits of `2·q_max`), so `q² ≤ A < (q + 1)²`, and
//! `e + f = 2q` makes `q ≥ 0`: `q` is the only non-negative integer root, `⌊√A⌋`. `q` is the
//! requantization's accumulator (bounded by its range-checked limbs) and `A < 2^62`: nothing
//! wraps around the field.
//!
//! Cost per root: no dot rows; `max(2, 2·L)` range rows (`L` limbs of `2·q_max`: 2 for a
//! 16-bit radicand at LayerNorm's shifts) plus the requantization block of `q`.

use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Selector};
use halo2_proofs::poly::Rotation;

use super::dot::Wire;
use super::range::{compose_limbs, RangeConfig};
use super::{fr_from_i64, pow2};

/// What a square-root gate's polynomials depend on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SqrtKind {
    pub shift: u32,
    pub lo_a: i64,
    /// Bits of `e` and `f`: those of `2·q_max`.
    pub bits: u32,
}

impl SqrtKind {
    pub fn new(shift: u32, lo_a: i64, hi_a: i64) -> SqrtKind {
        let q_max = crate::graph::sqrt_floor2(hi_a.max(0), shift);
        SqrtKind { shift, lo_a, bits: (64 - (2 * q_max).max(1).leading_zeros()).max(1) }
    }

    pub fn limbs(&self) -> u32 {
        self.bits.div_ceil(8)
    }

    /// Range rows of the root block (the requantization of `q` follows it).
    pub fn height(&self) -> usize {
        (2 * self.limbs() as usize).max(2)
    }
}

/// The integers of one root block: `q`, `e = A - q²` and `f = (q + 1)² - 1 - A`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SqrtCells {
    pub q: i64,
    pub e: i64,
    pub f: i64,
}

impl SqrtCells {
    /// The cells for the true value `a ≥ 0` and the root `q` (honest: `⌊√A⌋`).
    pub fn with_root(kind: SqrtKind, a: i64, q: i64) -> SqrtCells {
        let big = a << (kind.shift + 2);
        SqrtCells { q, e: big - q * q, f: (q + 1) * (q + 1) - 1 - big }
    }
}

#[derive(Clone, Debug)]
pub struct SqrtConfig {
    pub kinds: Vec<(SqrtKind, Selector)>,
    range: RangeConfig,
    aux: Column<Advice>,
}

impl SqrtConfig {
    pub fn configure(meta: &mut ConstraintSystem<Fr>, kinds: &[SqrtKind], range: &RangeConfig, aux: Column<Advice>) -> Self {
        let kinds = kinds
            .iter()
            .map(|&kind| {
                let q_sqrt = meta.selector();
                meta.create_gate(format!("sqrt s={} lo_a={} {} bits", kind.shift, kind.lo_a, kind.bits), |meta| {
                    let s = meta.query_selector(q_sqrt);
                    let limbs = kind.limbs();
                    let (e, f) = (compose_limbs(meta, range.range, 0, limbs), compose_limbs(meta, range.range, limbs, limbs));
                    let (a, q) = (meta.query_advice(aux, Rotation::cur()), meta.query_advice(aux, Rotation::next()));
                    let one = Expression::Constant(Fr::one());
                    let big = (a + Expression::Constant(fr_from_i64(kind.lo_a))) * Expression::Constant(pow2(kind.shift + 2));
                    vec![
                        ("sqrt: A - q² = e", s.clone() * (big.clone() - q.clone() * q.clone() - e)),
                        ("sqrt: (q + 1)² - 1 - A = f", s * ((q.clone() + one.clone()) * (q + one.clone()) - one - big - f)),
                    ]
                });
                (kind, q_sqrt)
            })
            .collect();
        SqrtConfig { kinds, range: range.clone(), aux }
    }

    /// Lays out the root of `a` at range row `row`; returns `q`. `cells` holds the integers of
    /// the witness (none at key generation).
    pub fn assign(&self, region: &mut Region<'_, Fr>, row: usize, kind: SqrtKind, a: &Wire, cells: Option<SqrtCells>) -> Result<Wire, Error> {
        let q_sqrt = self.kinds.iter().find(|(k, _)| *k == kind).map(|(_, q)| *q).ok_or(Error::Synthesis)?;
        q_sqrt.enable(region, row)?;
        let ac = region.assign_advice(self.aux, row, a.value);
        region.constrain_equal(ac.cell(), a.cell);
        let q = cells.map_or(Value::unknown(), |c| Value::known(fr_from_i64(c.q)));
        let qc = region.assign_advice(self.aux, row + 1, q);
        let at = row + self.range.assign_limbs(region, row, kind.bits, cells.map(|c| c.e));
        self.range.assign_limbs(region, at, kind.bits, cells.map(|c| c.f));
        Ok(Wire { cell: qc.cell(), value: q })
    }
}
