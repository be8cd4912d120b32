//! Elementwise product of two stored tensors: `p = (a' + lo_a)·(b' + lo_b)`, the true product
//! of the values the stored cells stand for; requantization follows.
//!
//! ```text
//! | x_0 (advice) | x_1 (advice) | x_2 (advice) | w_0   | w_1   | bias        | q_mul |
//! |  a' (copy)   |  b' (copy)   |  p           | lo_b  | lo_a  | lo_a·lo_b   |   1   |
//! ```
//!
//! `a'·b' + w_0·a' + w_1·b' + bias - p = 0`. Soundness: everything but `p` is a copy or fixed,
//! so the gate leaves the prover no choice of `p`.

use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Fixed, Selector};
use halo2_proofs::poly::Rotation;

use super::dot::Wire;
use super::fr_from_i64;

#[derive(Clone, Debug)]
pub struct MulConfig {
    pub q_mul: Selector,
    cols: [Column<Advice>; 3],
    fixed: [Column<Fixed>; 3],
}

impl MulConfig {
    pub fn configure(meta: &mut ConstraintSystem<Fr>, cols: [Column<Advice>; 3], fixed: [Column<Fixed>; 3]) -> Self {
        let q_mul = meta.selector();
        meta.create_gate("mul: a'·b' + lo_b·a' + lo_a·b' + lo_a·lo_b = p", |meta| {
            let q = meta.query_selector(q_mul);
            let [a, b, p] = cols.map(|c| meta.query_advice(c, Rotation::cur()));
            let [w0, w1, k] = fixed.map(|c| meta.query_fixed(c, Rotation::cur()));
            vec![q * (a.clone() * b.clone() + w0 * a + w1 * b + k - p)]
        });
        MulConfig { q_mul, cols, fixed }
    }

    /// The product at `row`; `p` is the witness.
    pub fn assign(&self, region: &mut Region<'_, Fr>, row: usize, a: &Wire, b: &Wire, lo: (i64, i64), p: Value<Fr>) -> Result<Wire, Error> {
        self.q_mul.enable(region, row)?;
        for (col, w) in self.cols.iter().zip([a, b]) {
            let c = region.assign_advice(*col, row, w.value);
            region.constrain_equal(c.cell(), w.cell);
        }
        region.assign_fixed(self.fixed[0], row, fr_from_i64(lo.1));
        region.assign_fixed(self.fixed[1], row, fr_from_i64(lo.0));
        region.assign_fixed(self.fixed[2], row, fr_from_i64(lo.0 * lo.1));
        let pc = region.assign_advice(self.cols[2], row, p);
        Ok(Wire { cell: pc.cell(), value: p })
    }
}
