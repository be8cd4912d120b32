//! Requantization: `y = clamp((acc + 2^(s-1)) >> s, lo, hi)`, stored as `y' = y - lo`.
//!
//! One gate per block layout (the limb counts of the remainder, the output and the clamp
//! distance, and whether the output needs an upper-bound check); the bit width of each top
//! limb lives in the fixed `bits` column. A layout used by a single kind writes that kind's
//! shift and clamp range into its polynomials as constants (so does every kind of the mint
//! circuit, one gate each: its EVM verifier is measured column by column); a layout several
//! kinds share reads them from the fixed column `konst` at the block's first four rows
//! (`2^s`, `2^s·lo`, `2^s·hi`, `hi - lo`; `2^(s-1)` is `2^s / 2` in the field). Fixed values
//! are part of the verifying key, so both forms constrain the same thing; the shared one keeps a
//! transformer (about thirty kinds) at a handful of gates, and every gate costs the prover an
//! evaluation over the whole extended domain. A block of rows per output, starting at the
//! gate's row:
//!
//! ```text
//! | range (lookup) | bits            | aux    | konst     | q_requant |
//! | rem_0          | min(8, s)       | acc    | 2^s       |     1     |
//! | … rem limbs    | …               |        | 2^s·lo    |           |
//! | y'             | 8               |        | 2^s·hi    |           |
//! | dist_0 …       | 8 … (top: rest) |        | hi - lo   |           |
//! | b_lo           | 1               |        |           |           |
//! | b_hi           | 1               |        |           |           |
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
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector};
use halo2_proofs::poly::Rotation;

use super::dot::Wire;
use super::graph_plan::RequantKind;
use super::range::RangeConfig;
use super::{fr_from_i64, pow2};
use super::witness::Block;

#[derive(Clone, Debug)]
pub struct RequantConfig {
    gates: Vec<RequantGate>,
    pub range: RangeConfig,
    pub aux: Column<Advice>,
    /// The per-block constants of shared gates (`2^s`, `2^s·lo`, `2^s·hi`, `hi - lo` at the
    /// block's first four rows); absent when every gate serves one kind.
    konst: Option<Column<Fixed>>,
}

/// One gate: the block layout it checks and, when it serves a single kind, that kind (its
/// constants are then written into the polynomials instead of read from `konst`).
#[derive(Clone, Debug)]
struct RequantGate {
    layout: Layout,
    only: Option<RequantKind>,
    q: Selector,
}

/// Where a kind's cells are within its block: what a gate's polynomials depend on besides the
/// constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Layout {
    rem_limbs: u32,
    y_limbs: u32,
    dist_limbs: u32,
    narrow: bool,
}

impl Layout {
    fn of(kind: RequantKind) -> Self {
        Layout { rem_limbs: kind.rem_limbs, y_limbs: kind.y_limbs(), dist_limbs: kind.dist_limbs(), narrow: kind.narrow() }
    }
}

/// The constants of a kind as the shared gates read them from `konst`, in row order. A block
/// (`RequantKind::height`) is at least 4 rows: a remainder limb, a distance limb and either the
/// two flags beside an 8-bit output or a 16-bit output's two limbs; so a block's four constants
/// never reach into the next block.
fn constants(kind: RequantKind) -> [Fr; 4] {
    let n = pow2(kind.shift);
    [n, n * fr_from_i64(kind.lo), n * fr_from_i64(kind.hi), fr_from_i64(kind.hi - kind.lo)]
}

impl RequantConfig {
    /// One gate per block layout when `share` (a layout used by one kind keeps that kind's
    /// constants in its polynomials; one shared by several reads them from a fixed column), so a
    /// network with many shifts and clamp ranges (a transformer has about thirty) pays for a
    /// handful of gates, not one per kind: every gate is evaluated over the whole extended
    /// domain when proving. Without `share`, one gate per kind (the mint circuit, whose EVM
    /// verifier is measured column by column: see the table in [`super`]).
    pub fn configure(meta: &mut ConstraintSystem<Fr>, kinds: &[RequantKind], range: RangeConfig, aux: Column<Advice>, share: bool) -> Self {
        let mut groups: Vec<(Layout, Vec<RequantKind>)> = Vec::new();
        for &kind in kinds {
            match groups.iter_mut().find(|(l, ks)| *l == Layout::of(kind) && (share || ks.contains(&kind))) {
                Some((_, ks)) => {
                    if !ks.contains(&kind) {
                        ks.push(kind);
                    }
                }
                None => groups.push((Layout::of(kind), vec![kind])),
            }
        }
        let konst = groups.iter().any(|(_, ks)| ks.len() > 1).then(|| meta.fixed_column());
        let gates = groups
            .into_iter()
            .map(|(layout, ks)| {
                let only = (ks.len() == 1).then(|| ks[0]);
                let q = meta.selector();
                let wide = layout.y_limbs > 1;
                let name = match only {
                    Some(kind) => format!("requant s={} [{}, {}] {}+{} limbs", kind.shift, kind.lo, kind.hi, layout.rem_limbs, layout.dist_limbs),
                    None => format!("requant {}+{} limbs, shift and clamp from fixed", layout.rem_limbs, layout.dist_limbs),
                };
                let name = if wide { format!("{name}, 16-bit output") } else { name };
                let name = if layout.narrow && only.is_none() { format!("{name}, narrow") } else { name };
                // Every kind of a group has the layout's height.
                let height = ks[0].height();
                meta.create_gate(name, |meta| {
                    let q = meta.query_selector(q);
                    let cells: Vec<Expression<Fr>> = (0..height).map(|i| meta.query_advice(range.range, Rotation(i as i32))).collect();
                    let r = |i: u32| cells[i as usize].clone();
                    let c = |v: i64| Expression::Constant(fr_from_i64(v));
                    // 2^s, 2^s·lo, 2^s·hi, hi - lo: the kind's, or the block's from `konst`.
                    let [n, n_lo, n_hi, span] = match (only, konst) {
                        (Some(kind), _) => constants(kind).map(Expression::Constant),
                        (None, Some(konst)) => [0, 1, 2, 3].map(|i| meta.query_fixed(konst, Rotation(i))),
                        (None, None) => unreachable!("a shared layout always has the constants column"),
                    };
                    let half = n.clone() * Expression::Constant(Fr::from(2).invert().unwrap_or(Fr::zero()));
                    let acc = meta.query_advice(aux, Rotation(0));
                    let yl = layout.y_limbs;
                    let flags = layout.rem_limbs + yl + layout.dist_limbs;
                    // 16-bit outputs keep the flags in `aux` (rows 2 and 3 of the block),
                    // boolean by their own constraints, to save two range rows per output.
                    let (b_lo, b_hi) = if wide {
                        (meta.query_advice(aux, Rotation(2)), meta.query_advice(aux, Rotation(3)))
                    } else {
                        (r(flags), r(flags + 1))
                    };
                    let top_at = if wide { flags } else { flags + 2 };
                    let limbs = |first: u32, count: u32| {
                        (0..count).fold(c(0), |s, i| s + r(first + i) * Expression::Constant(pow2(8 * i)))
                    };
                    let rem = limbs(0, layout.rem_limbs);
                    // One limb: the stored output is that cell (the mint circuit's shape, kept
                    // verbatim); two: the limbs compose it, and it lives in `aux` one row down.
                    let y = if yl == 1 { r(layout.rem_limbs) } else { limbs(layout.rem_limbs, yl) };
                    let dist = limbs(layout.rem_limbs + yl, layout.dist_limbs);
                    let x = acc + half - rem;
                    let one = c(1);
                    let mut constraints = vec![
                        (
                            "unclamped: X = 2^s·(y' + lo)",
                            q.clone() * (one.clone() - b_lo.clone() - b_hi.clone()) * (x.clone() - n.clone() * y.clone() - n_lo.clone()),
                        ),
                        (
                            "clamped: 2^s·dist = b_lo·(2^s·lo - X) + b_hi·(X - 2^s·hi)",
                            q.clone() * (n * dist - b_lo.clone() * (n_lo - x.clone()) - b_hi.clone() * (x - n_hi)),
                        ),
                        ("clamped: b_lo·y' + b_hi·(y' - (hi - lo)) = 0", q.clone() * (b_lo * y.clone() + b_hi * (y.clone() - span.clone()))),
                    ];
                    if layout.narrow {
                        let top = if yl == 1 { r(top_at) } else { limbs(top_at, yl) };
                        constraints.push(("y' ≤ hi - lo", q.clone() * (top - (span - y.clone()))));
                    }
                    if wide {
                        let (b_lo, b_hi) = (meta.query_advice(aux, Rotation(2)), meta.query_advice(aux, Rotation(3)));
                        constraints.push(("b_lo ∈ {0, 1}", q.clone() * b_lo.clone() * (c(1) - b_lo)));
                        constraints.push(("b_hi ∈ {0, 1}", q.clone() * b_hi.clone() * (c(1) - b_hi)));
                        constraints.push(("y' = Σ 256^i·y_i", q * (meta.query_advice(aux, Rotation(1)) - y)));
                    }
                    constraints
                });
                RequantGate { layout, only, q }
            })
            .collect();
        RequantConfig { gates, range, aux, konst }
    }

    fn gate(&self, kind: RequantKind) -> Result<&RequantGate, Error> {
        self.gates.iter().find(|g| g.layout == Layout::of(kind) && g.only.is_none_or(|k| k == kind)).ok_or(Error::Synthesis)
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
        let gate = self.gate(kind)?;
        gate.q.enable(region, row)?;
        if gate.only.is_none() {
            let konst = self.konst.ok_or(Error::Synthesis)?;
            for (i, v) in constants(kind).into_iter().enumerate() {
                region.assign_fixed(konst, row + i, v);
            }
        }
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


/// Limb `i` of `v` in base 256; the top limb keeps everything above (so a value too large
/// for its limbs shows up as a range failure, not as a silently truncated limb).
fn limb(v: i64, i: u32, limbs: u32) -> i64 {
    let shifted = v >> (8 * i);
    if i + 1 == limbs { shifted } else { shifted & 0xff }
}
