//! The fixed-weight dot product: `acc' = chain·acc + bias + Σ w_i·x_i`, `W` terms a row.
//!
//! ```text
//! | x_0 … x_{W-1} (advice) | acc (advice) | w_0 … w_{W-1} (fixed) | bias | chain | q_dot |
//! |  inputs, copied        | a_j          | weights of the row    | b_j  |   0   |   1   |  first row of output j
//! |  inputs, copied        | partial      | weights of the row    |  0   |   1   |   1   |  next rows
//! |  …                     | A_j = result |                       |      |       |       |  (first row of j+1)
//! ```
//!
//! One output's terms fill consecutive rows; its result lands in the `acc` cell of the row
//! after its last row, which is also the first row of the next output (whose `chain = 0`
//! ignores it). So an output costs `⌈terms / W⌉` rows and about one advice cell per
//! multiply-accumulate, plus `1/W` for the running sum.
//!
//! Soundness: weights, biases and `chain` are fixed columns — part of the verifying key — and
//! every `x_i` is copy-constrained to the cell that produced it (a range-checked activation),
//! so the prover chooses nothing in a dot row; the gate forces each partial sum and therefore
//! the result.

use halo2_proofs::circuit::{Cell, Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector};
use halo2_proofs::poly::Rotation;

/// A value the circuit already holds: where it is and what it is.
#[derive(Clone, Copy, Debug)]
pub struct Wire {
    pub cell: Cell,
    pub value: Value<Fr>,
}

/// One dot product to lay out: `bias + Σ weight · source`.
pub struct DotJob<'a> {
    pub bias: Fr,
    pub terms: Vec<(Fr, &'a Wire)>,
    /// Added to the result cell: zero except in negative tests.
    pub lie: Fr,
}

#[derive(Clone, Debug)]
pub struct DotConfig {
    pub q_dot: Selector,
    pub inputs: Vec<Column<Advice>>,
    pub acc: Column<Advice>,
    pub weights: Vec<Column<Fixed>>,
    pub bias: Column<Fixed>,
    pub chain: Column<Fixed>,
}

impl DotConfig {
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        inputs: Vec<Column<Advice>>,
        acc: Column<Advice>,
        weights: Vec<Column<Fixed>>,
        bias: Column<Fixed>,
        chain: Column<Fixed>,
    ) -> Self {
        let q_dot = meta.selector();
        meta.create_gate("acc' = chain·acc + bias + Σ w·x", |meta| {
            let q = meta.query_selector(q_dot);
            let acc_cur = meta.query_advice(acc, Rotation::cur());
            let acc_next = meta.query_advice(acc, Rotation::next());
            let chain = meta.query_fixed(chain, Rotation::cur());
            let bias = meta.query_fixed(bias, Rotation::cur());
            let sum = inputs.iter().zip(&weights).fold(Expression::Constant(Fr::zero()), |s, (&x, &w)| {
                s + meta.query_fixed(w, Rotation::cur()) * meta.query_advice(x, Rotation::cur())
            });
            vec![("dot row", q * (acc_next - chain * acc_cur - bias - sum))]
        });
        DotConfig { q_dot, inputs, acc, weights, bias, chain }
    }

    pub fn width(&self) -> usize {
        self.inputs.len()
    }

    /// Rows `jobs` take (the result row of the last job not counted).
    pub fn rows_for(width: usize, term_counts: impl IntoIterator<Item = usize>) -> usize {
        term_counts.into_iter().map(|n| n.div_ceil(width).max(1)).sum()
    }

    /// Lays out `jobs` from `row` on; returns each job's result and the first free row.
    pub fn assign(&self, region: &mut Region<'_, Fr>, mut row: usize, jobs: &[DotJob<'_>]) -> Result<(Vec<Wire>, usize), Error> {
        let w = self.width();
        let mut results = Vec::with_capacity(jobs.len());
        // The acc cell of the first row belongs to no output (chain = 0 there).
        region.assign_advice(self.acc, row, Value::known(Fr::zero()));
        for job in jobs {
            let mut acc = Value::known(Fr::zero());
            let chunks: Vec<&[(Fr, &Wire)]> =
                if job.terms.is_empty() { vec![&[]] } else { job.terms.chunks(w).collect() };
            for (i, chunk) in chunks.iter().enumerate() {
                self.q_dot.enable(region, row)?;
                let first = i == 0;
                region.assign_fixed(self.chain, row, if first { Fr::zero() } else { Fr::one() });
                region.assign_fixed(self.bias, row, if first { job.bias } else { Fr::zero() });
                let mut next = if first { Value::known(job.bias) } else { acc };
                for (slot, &(weight, source)) in chunk.iter().enumerate() {
                    region.assign_fixed(self.weights[slot], row, weight);
                    let cell = region.assign_advice(self.inputs[slot], row, source.value);
                    region.constrain_equal(cell.cell(), source.cell);
                    next = next + source.value.map(|x| x * weight);
                }
                if i + 1 == chunks.len() {
                    next = next.map(|v| v + job.lie);
                }
                let cell = region.assign_advice(self.acc, row + 1, next);
                acc = next;
                row += 1;
                if i + 1 == chunks.len() {
                    results.push(Wire { cell: cell.cell(), value: acc });
                }
            }
        }
        Ok((results, row + 1))
    }
}
