//! The picture's evaluation at the public challenge: `((c_0·γ + c_1)·γ + …)·γ + c_{n-1}`.
//!
//! Three advice columns of the dot group; one row per step, the result one row below the last:
//!
//! ```text
//! | x_0 (acc)       | x_1 | x_2     | q_horner |
//! | c_0 (copy)      | γ   | c_1     |    1     |  acc' = acc·γ + c
//! | c_0·γ + c_1     | γ   | c_2     |    1     |
//! | …               | …   | …       |          |
//! | evaluation      |     |         |          |  (copied to the instance)
//! ```
//!
//! Soundness: the first `acc`, every `c_i` and every `γ` are copies (of the packed chunks and
//! of the instance), and the gate pins each next `acc`, so the last one is the evaluation of
//! exactly the circuit's chunks at exactly the public `γ`. Why that binds the picture is in
//! [`super::statement`].

use halo2_proofs::circuit::Region;
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Selector};
use halo2_proofs::poly::Rotation;

use super::dot::Wire;

#[derive(Clone, Debug)]
pub struct HornerConfig {
    q_horner: Selector,
    acc: Column<Advice>,
    x: Column<Advice>,
    coefficient: Column<Advice>,
}

impl HornerConfig {
    /// `advice` needs 3 equality-enabled columns.
    pub fn configure(meta: &mut ConstraintSystem<Fr>, advice: &[Column<Advice>]) -> Self {
        let (acc, x, coefficient) = (advice[0], advice[1], advice[2]);
        let q_horner = meta.selector();
        meta.create_gate("horner: acc' = acc·γ + c", |meta| {
            let q = meta.query_selector(q_horner);
            let cur = meta.query_advice(acc, Rotation::cur());
            let next = meta.query_advice(acc, Rotation::next());
            let x = meta.query_advice(x, Rotation::cur());
            let c = meta.query_advice(coefficient, Rotation::cur());
            vec![q * (next - cur * x - c)]
        });
        HornerConfig { q_horner, acc, x, coefficient }
    }

    /// Rows the evaluation of `n` coefficients takes (the result row included).
    pub fn rows(n: usize) -> usize {
        n.max(1)
    }

    /// Evaluates `coefficients` at `x` from `row` on; returns the result. `lie`: a step after
    /// which the running value is off by one (tests only).
    pub fn assign(&self, region: &mut Region<'_, Fr>, mut row: usize, coefficients: &[Wire], x: &Wire, lie: Option<usize>) -> Result<Wire, Error> {
        let (first, rest) = coefficients.split_first().ok_or(Error::Synthesis)?;
        let copy = |region: &mut Region<'_, Fr>, column, row, wire: &Wire| {
            let cell = region.assign_advice(column, row, wire.value);
            region.constrain_equal(cell.cell(), wire.cell);
            cell.cell()
        };
        let mut acc = first.value;
        let mut acc_cell = copy(region, self.acc, row, first);
        for (step, c) in rest.iter().enumerate() {
            self.q_horner.enable(region, row)?;
            copy(region, self.x, row, x);
            copy(region, self.coefficient, row, c);
            acc = acc * x.value + c.value;
            if lie == Some(step) {
                acc = acc.map(|v| v + Fr::one());
            }
            row += 1;
            acc_cell = region.assign_advice(self.acc, row, acc).cell();
        }
        Ok(Wire { cell: acc_cell, value: acc })
    }
}
