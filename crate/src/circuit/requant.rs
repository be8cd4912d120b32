//! Requantization: `y = clamp((acc + 2^(s-1)) >> s, lo, hi)`, stored as `y' = y - lo`.
//!
//! One gate per distinct shape of [`RequantKind`] (shift, clamp range and limb counts are
//! constants of the gate; kinds that differ only in the bit width of their top limb share a
//! gate, the width lives in the fixed `bits` column). A block
//! of rows per output, starting at the gate's row:
//!
//! ```text
//! | range (lookup) | bits            | aux    | q_requant |
//! | rem_0          | min(8, s)       | acc    |     1     |
//! | … rem limbs    | …               |        |           |
//! | y'             | 8               |        |           |
//! | dist_0 …       | 8 … (top: rest) |        |           |
//! | b_lo           | 1               |        |           |
//! | b_hi           | 1               |        |           |
//! | hi-lo-y'       | 8  (only when the clamp range is narrower than 256 values)
//! ```
//!
//! A 16-bit output (a clamp range of more than 256 values, general models only) takes two
//! limbs `y_0, y_1`, composed into `y' = y_0 + 256·y_1` in `aux` one row down, and keeps its
//! clamp flags in `aux` two and three rows down, boolean by `b·(1 - b) = 0` instead of by a
//! 1-bit lookup: two range rows fewer per output.
//!
//! With `t = acc + 2^(s-1)`, `rem = Σ 2^(8i)·rem_i`, `X = t - rem` (= `2^s·r`, `r` the rounded
//! value) and `dist = Σ 2^(8j)·dist_j`:
//!
//! - `(1 - b_lo - b_hi)·(X - 2^s·(y' + lo)) = 0` — unclamped: `y = r`;
//! - `2^s·dist = b_lo·(2^s·lo - X) + b_hi·(X - 2^s·hi)` — clamped low: `r = lo - dist ≤ lo`;
//!   clamped high: `r = hi + dist ≥ hi`; unclamped: `dist = 0`;
//! - `b_lo·y' + b_hi·(y' - (hi - lo)) = 0` — a clamped output is the bound it was clamped to.
//!
//! The flags sit in the range column with a width of 1 bit, so the lookup makes them boolean;
//! and the block's only cell outside it is `acc` (a copy), so `aux` is read at one rotation.
//!
//! Soundness: the limbs are range-checked to their exact bit widths, so `rem ∈ [0, 2^s)` and `X`
//! is `t` rounded down to a multiple of `2^s`: the only `r` with `t - rem = 2^s·r`. Both flags
//! set would need `2^s·dist = 2^s·(lo - hi) < 0`, out of range, so at most one is set and the
//! third equation then pins `y'` to that flag's bound. Every branch so pins `y` to
//! `clamp(r, lo, hi)`: a wrong `y` either breaks the first equation or needs a negative (out of
//! range) distance.

use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Selector};
use halo2_proofs::poly::Rotation;

use super::dot::Wire;
use super::graph_plan::RequantKind;
use super::range::RangeConfig;
use super::{fr_from_i64, pow2};
use super::witness::Block;

#[derive(Clone, Debug)]
pub struct RequantConfig {
    pub kinds: Vec<(GateShape, Selector)>,
    pub range: RangeConfig,
    pub aux: Column<Advice>,
}

impl RequantConfig {
    pub fn configure(meta: &mut ConstraintSystem<Fr>, kinds: &[RequantKind], range: RangeConfig, aux: Column<Advice>) -> Self {
        let mut shapes: Vec<(GateShape, RequantKind)> = Vec::new();
        for &kind in kinds {
            if !shapes.iter().any(|(s, _)| *s == GateShape::of(kind)) {
                shapes.push((GateShape::of(kind), kind));
            }
        }
        let kinds = shapes
            .into_iter()
            .map(|(shape, kind)| {
                let q = meta.selector();
                let name = format!("requant s={} [{}, {}] {}+{} limbs", kind.shift, kind.lo, kind.hi, kind.rem_limbs, kind.dist_limbs());
                let name = if kind.y_limbs() > 1 { format!("{name}, 16-bit output") } else { name };
                meta.create_gate(name, |meta| {
                    let q = meta.query_selector(q);
                    let cells: Vec<Expression<Fr>> =
                        (0..kind.height()).map(|i| meta.query_advice(range.range, Rotation(i as i32))).collect();
                    let r = |i: u32| cells[i as usize].clone();
                    let acc = meta.query_advice(aux, Rotation(0));
                    let yl = kind.y_limbs();
                    let flags = kind.rem_limbs + yl + kind.dist_limbs();
                    // 16-bit outputs keep the flags in `aux` (rows 2 and 3 of the block),
                    // boolean by their own constraints, to save two range rows per output.
                    let wide = yl > 1;
                    let (b_lo, b_hi) = if wide {
                        (meta.query_advice(aux, Rotation(2)), meta.query_advice(aux, Rotation(3)))
                    } else {
                        (r(flags), r(flags + 1))
                    };
                    let top_at = if wide { flags } else { flags + 2 };
                    let c = |v: i64| Expression::Constant(fr_from_i64(v));
                    let n = Expression::Constant(pow2(kind.shift));
                    let limbs = |first: u32, count: u32| {
                        (0..count).fold(c(0), |s, i| s + r(first + i) * Expression::Constant(pow2(8 * i)))
                    };
                    let rem = limbs(0, kind.rem_limbs);
                    // One limb: the stored output is that cell (the mint circuit's shape, kept
                    // verbatim); two: the limbs compose it, and it lives in `aux` one row down.
                    let y = if yl == 1 { r(kind.rem_limbs) } else { limbs(kind.rem_limbs, yl) };
                    let dist = limbs(kind.rem_limbs + yl, kind.dist_limbs());
                    let x = acc + Expression::Constant(pow2(kind.shift - 1)) - rem;
                    let one = c(1);
                    let mut constraints = vec![
                        (
                            "unclamped: X = 2^s·(y' + lo)",
                            q.clone()
                                * (one.clone() - b_lo.clone() - b_hi.clone())
                                * (x.clone() - n.clone() * (y.clone() + c(kind.lo))),
                        ),
                        (
                            "clamped: 2^s·dist = b_lo·(2^s·lo - X) + b_hi·(X - 2^s·hi)",
                            q.clone()
                                * (n.clone() * dist
                                    - b_lo.clone() * (n.clone() * c(kind.lo) - x.clone())
                                    - b_hi.clone() * (x - n * c(kind.hi))),
                        ),
                        (
                            "clamped: b_lo·y' + b_hi·(y' - (hi - lo)) = 0",
                            q.clone() * (b_lo * y.clone() + b_hi * (y.clone() - c(kind.hi - kind.lo))),
                        ),
                    ];
                    if kind.narrow() {
                        let top = if yl == 1 { r(top_at) } else { limbs(top_at, yl) };
                        constraints.push(("y' ≤ hi - lo", q.clone() * (top - (c(kind.hi - kind.lo) - y.clone()))));
                    }
                    if wide {
                        let (b_lo, b_hi) = (meta.query_advice(aux, Rotation(2)), meta.query_advice(aux, Rotation(3)));
                        constraints.push(("b_lo ∈ {0, 1}", q.clone() * b_lo.clone() * (c(1) - b_lo)));
                        constraints.push(("b_hi ∈ {0, 1}", q.clone() * b_hi.clone() * (c(1) - b_hi)));
                        constraints.push(("y' = Σ 256^i·y_i", q * (meta.query_advice(aux, Rotation(1)) - y)));
                    }
                    constraints
                });
                (shape, q)
            })
            .collect();
        RequantConfig { kinds, range, aux }
    }

    fn selector(&self, kind: RequantKind) -> Result<Selector, Error> {
        self.kinds.iter().find(|(k, _)| *k == GateShape::of(kind)).map(|(_, q)| *q).ok_or(Error::Synthesis)
    }

    /// Lays out the requantization of `acc` at `row`; returns the stored output `y'`.
    /// `block` holds the integers of the witness (none at key generation).
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        kind: RequantKind,
        acc: &Wire,
        block: Option<&Block>,
    ) -> Result<Wire, Error> {
        self.selector(kind)?.enable(region, row)?;
        let s = kind.shift;
        let known = |f: &dyn Fn(&Block) -> i64| block.map_or(Value::unknown(), |p| Value::known(fr_from_i64(f(p))));

        let acc_copy = region.assign_advice(self.aux, row, acc.value);
        region.constrain_equal(acc_copy.cell(), acc.cell);

        let mut at = row;
        let mut put = |region: &mut Region<'_, Fr>, v: Value<Fr>, bits: u32| {
            region.assign_fixed(self.range.bits, at, Fr::from(u64::from(bits)));
            let cell = region.assign_advice(self.range.range, at, v);
            at += 1;
            cell.cell()
        };
        for i in 0..kind.rem_limbs {
            put(region, known(&|p| limb(p.rem, i, kind.rem_limbs)), RequantKind::limb_bits(s, i));
        }
        let y = known(&|p| p.y);
        let yl = kind.y_limbs();
        let mut y_cell = None;
        for i in 0..yl {
            let cell = put(region, known(&|p| limb(p.y, i, yl)), 8);
            y_cell.get_or_insert(cell);
        }
        for j in 0..kind.dist_limbs() {
            put(region, known(&|p| limb(p.dist, j, kind.dist_limbs())), RequantKind::limb_bits(kind.dist_bits, j));
        }
        if yl == 1 {
            put(region, known(&|p| i64::from(p.b_lo)), 1);
            put(region, known(&|p| i64::from(p.b_hi)), 1);
        } else {
            region.assign_advice(self.aux, row + 2, known(&|p| i64::from(p.b_lo)));
            region.assign_advice(self.aux, row + 3, known(&|p| i64::from(p.b_hi)));
        }
        if kind.narrow() {
            for i in 0..yl {
                put(region, known(&|p| limb(kind.hi - kind.lo - p.y, i, yl)), 8);
            }
        }
        let y_cell = if yl == 1 { y_cell.ok_or(Error::Synthesis)? } else { region.assign_advice(self.aux, row + 1, y).cell() };
        Ok(Wire { cell: y_cell, value: y })
    }
}


/// What a requantization gate's polynomials depend on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GateShape {
    shift: u32,
    lo: i64,
    hi: i64,
    rem_limbs: u32,
    dist_limbs: u32,
}

impl GateShape {
    fn of(kind: RequantKind) -> Self {
        GateShape { shift: kind.shift, lo: kind.lo, hi: kind.hi, rem_limbs: kind.rem_limbs, dist_limbs: kind.dist_limbs() }
    }
}

/// Limb `i` of `v` in base 256; the top limb keeps everything above (so a value too large
/// for its limbs shows up as a range failure, not as a silently truncated limb).
fn limb(v: i64, i: u32, limbs: u32) -> i64 {
    let shifted = v >> (8 * i);
    if i + 1 == limbs { shifted } else { shifted & 0xff }
}
