//! Pairwise maximum, chained over a pooling window: `m = max(a, b)`, for 8- and 16-bit values.
//!
//! ```text
//! | x_0 (advice) | x_1 (advice) | x_2 (advice) | x_3 | x_4 | q_max |
//! |  a (copy)    |  b (copy)    |  m           | d_0 | d_1 |   1   |
//! ```
//!
//! `(m - a)·(m - b) = 0`, `2m - a - b = d_0 + 256·d_1`, and lookups put `d_0` and `d_1` in
//! `[0, 256)`. Soundness: `m` is one of the operands, so `2m - a - b` is the difference to the
//! other one; it is a range-checked 16-bit number, so (values being below 2^16, nothing wraps
//! around the field) `m` is at least the other operand: `m` is the maximum.

use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Selector};
use halo2_proofs::poly::Rotation;

use super::dot::Wire;
use super::fr_from_i64;
use super::range::RangeConfig;

#[derive(Clone, Debug)]
pub struct MaxConfig {
    pub q_max: Selector,
    cols: [Column<Advice>; 5],
}

impl MaxConfig {
    pub fn configure(meta: &mut ConstraintSystem<Fr>, cols: [Column<Advice>; 5], range: &RangeConfig) -> Self {
        let q_max = meta.complex_selector();
        meta.create_gate("max", |meta| {
            let q = meta.query_selector(q_max);
            let [a, b, m, d0, d1] = cols.map(|c| meta.query_advice(c, Rotation::cur()));
            let two = Expression::Constant(Fr::from(2));
            let base = Expression::Constant(Fr::from(256));
            vec![
                ("max: (m - a)·(m - b) = 0", q.clone() * (m.clone() - a.clone()) * (m.clone() - b.clone())),
                ("max: 2m - a - b = d_0 + 256·d_1", q * (two * m - a - b - d0 - d1 * base)),
            ]
        });
        for (i, name) in [(3, "max: d_0 ∈ [0, 256)"), (4, "max: d_1 ∈ [0, 256)")] {
            range.lookup_byte(meta, name, |meta| (meta.query_selector(q_max), meta.query_advice(cols[i], Rotation::cur())));
        }
        MaxConfig { q_max, cols }
    }

    /// `max(a, b)` at `row`; `m` and `d = 2m - a - b` are the witness (honest or not).
    pub fn assign(&self, region: &mut Region<'_, Fr>, row: usize, a: &Wire, b: &Wire, m: Value<Fr>, d: Option<i64>) -> Result<Wire, Error> {
        self.q_max.enable(region, row)?;
        for (col, w) in self.cols.iter().zip([a, b]) {
            let c = region.assign_advice(*col, row, w.value);
            region.constrain_equal(c.cell(), w.cell);
        }
        let mc = region.assign_advice(self.cols[2], row, m);
        let limb = |v: i64| Value::known(fr_from_i64(v));
        region.assign_advice(self.cols[3], row, d.map_or(Value::unknown(), |d| limb(d & 0xff)));
        region.assign_advice(self.cols[4], row, d.map_or(Value::unknown(), |d| limb(d >> 8)));
        Ok(Wire { cell: mc.cell(), value: m })
    }
}
