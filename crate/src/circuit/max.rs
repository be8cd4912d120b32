//! Pairwise maximum, chained over a pooling window: `m = max(a, b)`.
//!
//! ```text
//! | x_0 (advice) | x_1 (advice) | x_2 (advice) | q_max |
//! |  a (copy)    |  b (copy)    |  m           |   1   |
//! ```
//!
//! `(m - a)·(m - b) = 0`, and lookups put `m - a` and `m - b` in `[0, 256)`. Soundness: the
//! values are stored bytes, so the differences cannot wrap around the field; `m` is at least
//! both operands and equal to one of them, which is the maximum.

use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Selector};
use halo2_proofs::poly::Rotation;

use super::dot::Wire;
use super::range::RangeConfig;

#[derive(Clone, Debug)]
pub struct MaxConfig {
    pub q_max: Selector,
    cols: [Column<Advice>; 3],
}

impl MaxConfig {
    pub fn configure(meta: &mut ConstraintSystem<Fr>, cols: [Column<Advice>; 3], range: &RangeConfig) -> Self {
        let q_max = meta.complex_selector();
        meta.create_gate("max: (m - a)·(m - b) = 0", |meta| {
            let q = meta.query_selector(q_max);
            let [a, b, m] = cols.map(|c| meta.query_advice(c, Rotation::cur()));
            vec![q * (m.clone() - a) * (m - b)]
        });
        for (i, name) in [(0, "max: m - a ∈ [0, 256)"), (1, "max: m - b ∈ [0, 256)")] {
            range.lookup_byte(meta, name, |meta| {
                let q = meta.query_selector(q_max);
                (q, meta.query_advice(cols[2], Rotation::cur()) - meta.query_advice(cols[i], Rotation::cur()))
            });
        }
        MaxConfig { q_max, cols }
    }

    /// `max(a, b)` at `row`; `m` is the witness (honest or not).
    pub fn assign(&self, region: &mut Region<'_, Fr>, row: usize, a: &Wire, b: &Wire, m: Value<Fr>) -> Result<Wire, Error> {
        self.q_max.enable(region, row)?;
        for (col, w) in self.cols.iter().zip([a, b]) {
            let c = region.assign_advice(*col, row, w.value);
            region.constrain_equal(c.cell(), w.cell);
        }
        let mc = region.assign_advice(self.cols[2], row, m);
        Ok(Wire { cell: mc.cell(), value: m })
    }
}
