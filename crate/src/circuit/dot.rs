//! The fixed-weight dot product, `W` terms a row: `acc' = bias + Σ w_i·x_i` on an output's
//! first row (`q_first`), `acc' = acc + Σ w_i·x_i` on the next ones (`q_next`).
//!
//! ```text
//! | x_0 … x_{W-1} (advice) | acc (advice) | w_0 … w_{W-1} (fixed) | bias | q_first | q_next |
//! |  inputs, copied        | a_j          | weights of the row    | b_j  |    1    |        |  first row of output j
//! |  inputs, copied        | partial      | weights of the row    |      |         |   1    |  next rows
//! |  …                     | A_j = result |                       |      |         |        |  (first row of j+1)
//! ```
//!
//! One output's terms fill consecutive rows; its result lands in the `acc` cell of the row
//! after its last row, which is also the first row of the next output (whose `q_first` gate
//! ignores it). Two selectors rather than a fixed `chain` column: selectors are compressed
//! into shared fixed columns at key generation, and every fixed column is a commitment the
//! on-chain verifier pays for. So an output costs `⌈terms / W⌉` rows and about one advice cell per
//! multiply-accumulate, plus `1/W` for the running sum.
//!
//! With `M` accumulators ([`DotConfig::add_accumulators`]) a row computes `M` outputs over the
//! same inputs — the output channels of a convolution at one position, the outputs of a dense
//! layer — each with its own `acc`, weight and bias columns:
//!
//! ```text
//! | x_0 … x_{W-1} | acc | w_0 … w_{W-1} | bias | acc_2 | w_{2,0} … w_{2,W-1} | bias_2 | … | acc_M | …
//! ```
//!
//! so `W + M` advice cells serve `M·W` multiply-accumulates, and the copies of the inputs are
//! shared too. The outputs of a row share their sources; a weight that is zero for one of them
//! is a term of it all the same (the compiler groups outputs by their patch,
//! [`super::graph_plan::shared_groups`]).
//!
//! Soundness: weights, biases and selectors are fixed columns — part of the verifying key — and
//! every `x_i` is copy-constrained to the cell that produced it (a range-checked activation),
//! so the prover chooses nothing in a dot row; the gate forces each partial sum and therefore
//! the result.

use halo2_proofs::circuit::{Cell, Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector, VirtualCells};
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

/// Up to `M` dot products over the same sources, laid out in the same rows, one accumulator
/// each: output `m` is `bias_m + Σ_i weights_m[i] · sources[i]`.
pub struct SharedJob<'a> {
    pub sources: Vec<&'a Wire>,
    pub outputs: &'a [SharedOutput],
}

/// One output of a [`SharedJob`].
#[derive(Clone, Debug)]
pub struct SharedOutput {
    pub bias: Fr,
    /// Its weight for each source.
    pub weights: Vec<Fr>,
    /// Added to the result cell: zero except in negative tests.
    pub lie: Fr,
}

/// A dot row's second to `M`-th accumulator: its own `acc`, weight and bias columns, computing
/// another output from the same inputs in the same rows.
#[derive(Clone, Debug)]
pub struct Accumulator {
    pub acc: Column<Advice>,
    pub weights: Vec<Column<Fixed>>,
    pub bias: Column<Fixed>,
}

#[derive(Clone, Debug)]
pub struct DotConfig {
    pub q_first: Selector,
    pub q_next: Selector,
    pub inputs: Vec<Column<Advice>>,
    pub acc: Column<Advice>,
    pub weights: Vec<Column<Fixed>>,
    pub bias: Column<Fixed>,
    /// The accumulators beyond the first ([`DotConfig::add_accumulators`]).
    pub more: Vec<Accumulator>,
}

/// The two gates of one accumulator: `acc' = bias + Σ w·x` on a first row, `acc' = acc + Σ w·x`
/// on the next ones.
fn accumulator_gates(meta: &mut ConstraintSystem<Fr>, (q_first, q_next): (Selector, Selector), inputs: &[Column<Advice>], acc: Column<Advice>, weights: &[Column<Fixed>], bias: Column<Fixed>, name: &str) {
    let sum = |meta: &mut VirtualCells<'_, Fr>| {
        inputs.iter().zip(weights).fold(Expression::Constant(Fr::zero()), |s, (&x, &w)| {
            s + meta.query_fixed(w, Rotation::cur()) * meta.query_advice(x, Rotation::cur())
        })
    };
    meta.create_gate(format!("{name} first row: acc' = bias + Σ w·x"), |meta| {
        let q = meta.query_selector(q_first);
        let acc_next = meta.query_advice(acc, Rotation::next());
        let bias = meta.query_fixed(bias, Rotation::cur());
        vec![q * (acc_next - bias - sum(meta))]
    });
    meta.create_gate(format!("{name} next row: acc' = acc + Σ w·x"), |meta| {
        let q = meta.query_selector(q_next);
        let acc_cur = meta.query_advice(acc, Rotation::cur());
        let acc_next = meta.query_advice(acc, Rotation::next());
        vec![q * (acc_next - acc_cur - sum(meta))]
    });
}

impl DotConfig {
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        inputs: Vec<Column<Advice>>,
        acc: Column<Advice>,
        weights: Vec<Column<Fixed>>,
        bias: Column<Fixed>,
    ) -> Self {
        let selectors = (meta.selector(), meta.selector());
        accumulator_gates(meta, selectors, &inputs, acc, &weights, bias, "dot");
        DotConfig { q_first: selectors.0, q_next: selectors.1, inputs, acc, weights, bias, more: Vec::new() }
    }

    /// Gives the rows `count` more accumulators (`M = count + 1`), each with new columns: its
    /// `acc` (advice), `W` weights and a bias (fixed). Called after every other column is
    /// created, so that a circuit with one accumulator keeps its keys.
    pub fn add_accumulators(&mut self, meta: &mut ConstraintSystem<Fr>, count: usize) {
        for m in 0..count {
            let acc = meta.advice_column();
            meta.enable_equality(acc);
            let weights: Vec<Column<Fixed>> = self.inputs.iter().map(|_| meta.fixed_column()).collect();
            let bias = meta.fixed_column();
            accumulator_gates(meta, (self.q_first, self.q_next), &self.inputs, acc, &weights, bias, &format!("dot accumulator {}", m + 2));
            self.more.push(Accumulator { acc, weights, bias });
        }
    }

    pub fn width(&self) -> usize {
        self.inputs.len()
    }

    /// Outputs a row computes: `M`.
    pub fn accumulators(&self) -> usize {
        1 + self.more.len()
    }

    /// Rows `jobs` take (the result row of the last job not counted).
    pub fn rows_for(width: usize, term_counts: impl IntoIterator<Item = usize>) -> usize {
        term_counts.into_iter().map(|n| n.div_ceil(width).max(1)).sum()
    }

    /// Lays out `jobs` from `row` on, one a row group; returns each job's result and the first
    /// free row.
    pub fn assign(&self, region: &mut Region<'_, Fr>, row: usize, jobs: &[DotJob<'_>]) -> Result<(Vec<Wire>, usize), Error> {
        let outputs: Vec<[SharedOutput; 1]> =
            jobs.iter().map(|job| [SharedOutput { bias: job.bias, weights: job.terms.iter().map(|&(w, _)| w).collect(), lie: job.lie }]).collect();
        let shared: Vec<SharedJob> =
            jobs.iter().zip(&outputs).map(|(job, outputs)| SharedJob { sources: job.terms.iter().map(|&(_, x)| x).collect(), outputs }).collect();
        self.assign_shared(region, row, &shared)
    }

    /// Lays out `jobs` from `row` on (a job's outputs in the first accumulators, any left over
    /// computing zero); returns the results, job by job, output by output, and the first free
    /// row.
    pub fn assign_shared(&self, region: &mut Region<'_, Fr>, mut row: usize, jobs: &[SharedJob<'_>]) -> Result<(Vec<Wire>, usize), Error> {
        let w = self.width();
        let first = Accumulator { acc: self.acc, weights: self.weights.clone(), bias: self.bias };
        let accs: Vec<&Accumulator> = std::iter::once(&first).chain(&self.more).collect();
        let mut results = Vec::with_capacity(jobs.len());
        // The acc cells of the first row belong to no output (`q_first` ignores them) and stay
        // unassigned: a cell no constraint reads is one a prover could fill with anything, and
        // the tamper sweep (tests/tamper_sweep.rs) finds every such cell.
        for job in jobs {
            if job.outputs.len() > accs.len() || job.outputs.iter().any(|o| o.weights.len() != job.sources.len()) {
                return Err(Error::Synthesis);
            }
            let mut sums: Vec<Value<Fr>> = job.outputs.iter().map(|o| Value::known(o.bias)).collect();
            let starts: Vec<usize> = if job.sources.is_empty() { vec![0] } else { (0..job.sources.len()).step_by(w).collect() };
            for (i, &start) in starts.iter().enumerate() {
                let (first, last) = (i == 0, i + 1 == starts.len());
                if first {
                    self.q_first.enable(region, row)?;
                    for (output, acc) in job.outputs.iter().zip(&accs) {
                        region.assign_fixed(acc.bias, row, output.bias);
                    }
                } else {
                    self.q_next.enable(region, row)?;
                }
                let end = (start + w).min(job.sources.len());
                for (slot, source) in job.sources[start..end].iter().enumerate() {
                    let cell = region.assign_advice(self.inputs[slot], row, source.value);
                    region.constrain_equal(cell.cell(), source.cell);
                    for (output, (acc, sum)) in job.outputs.iter().zip(accs.iter().zip(sums.iter_mut())) {
                        let weight = output.weights[start + slot];
                        region.assign_fixed(acc.weights[slot], row, weight);
                        *sum = *sum + source.value.map(|x| x * weight);
                    }
                }
                for (m, acc) in accs.iter().enumerate() {
                    let Some(output) = job.outputs.get(m) else {
                        region.assign_advice(acc.acc, row + 1, Value::known(Fr::zero()));
                        continue;
                    };
                    let value = if last { sums[m].map(|v| v + output.lie) } else { sums[m] };
                    let cell = region.assign_advice(acc.acc, row + 1, value);
                    if last {
                        results.push(Wire { cell: cell.cell(), value });
                    }
                }
                row += 1;
            }
        }
        Ok((results, row + 1))
    }
}

/// One dot product over committed weights: `b + Σ (w + WEIGHT_LO)·(x + lo)`, the bias `b` and
/// the stored weights `w` copied from the cells the weight commitment hashes.
pub struct CommittedJob<'a> {
    pub bias: &'a Wire,
    /// Per term: its stored weight, its source and the source's low end.
    pub terms: Vec<(&'a Wire, &'a Wire, i64)>,
    /// Added to the result cell: zero except in negative tests.
    pub lie: Fr,
    /// Added to the first term's weight in its row: zero except in negative tests.
    pub copy_lie: Fr,
}

/// The dot product of committed weights, `W` terms a row beside the fixed-weight one:
///
/// ```text
/// | x_0 … x_{W-1} | acc | lo_0 … lo_{W-1} (fixed) | w_0 … w_{W-1} | bias (advice) |
/// ```
///
/// `acc' = bias + Σ (w_i + WEIGHT_LO)·(x_i + lo_i)` on an output's first row, `acc' = acc + …`
/// on the next ones. The fixed columns hold only the operands' low ends, which the shape
/// decides, so the verifying key does not depend on the weights.
///
/// Soundness: every `w_i` and the bias are copy-constrained to the cells the commitment
/// hashes, and every `x_i` to the cell that produced it; a position no term uses copies the
/// constant zero weight (stored 128), so whatever its `x_i`, it adds nothing.
#[derive(Clone, Debug)]
pub struct CommittedDotConfig {
    q_first: Selector,
    q_next: Selector,
    inputs: Vec<Column<Advice>>,
    acc: Column<Advice>,
    lo: Vec<Column<Fixed>>,
    weights: Vec<Column<Advice>>,
    bias: Column<Advice>,
}

impl CommittedDotConfig {
    /// `weights` (as many as `inputs`) and `bias` are copy-enabled advice columns; `lo` the
    /// fixed-weight dot's weight columns, idle on these rows.
    pub fn configure(meta: &mut ConstraintSystem<Fr>, dot: &DotConfig, weights: Vec<Column<Advice>>, bias: Column<Advice>) -> Self {
        let (inputs, acc, lo) = (dot.inputs.clone(), dot.acc, dot.weights.clone());
        let q_first = meta.selector();
        let q_next = meta.selector();
        let offset = Expression::Constant(super::fr_from_i64(super::graph_plan::WEIGHT_LO));
        let sum = |meta: &mut VirtualCells<'_, Fr>| {
            inputs.iter().zip(&lo).zip(&weights).fold(Expression::Constant(Fr::zero()), |s, ((&x, &l), &w)| {
                let weight = meta.query_advice(w, Rotation::cur()) + offset.clone();
                s + weight * (meta.query_advice(x, Rotation::cur()) + meta.query_fixed(l, Rotation::cur()))
            })
        };
        meta.create_gate("committed dot first row: acc' = bias + Σ (w - 128)·(x + lo)", |meta| {
            let q = meta.query_selector(q_first);
            let acc_next = meta.query_advice(acc, Rotation::next());
            let bias = meta.query_advice(bias, Rotation::cur());
            vec![q * (acc_next - bias - sum(meta))]
        });
        meta.create_gate("committed dot next row: acc' = acc + Σ (w - 128)·(x + lo)", |meta| {
            let q = meta.query_selector(q_next);
            let acc_cur = meta.query_advice(acc, Rotation::cur());
            let acc_next = meta.query_advice(acc, Rotation::next());
            vec![q * (acc_next - acc_cur - sum(meta))]
        });
        CommittedDotConfig { q_first, q_next, inputs, acc, lo, weights, bias }
    }

    /// Lays out `jobs` from `row` on (rows as [`DotConfig::rows_for`]); `zero` is the constant
    /// zero weight. Returns each job's result and the first free row.
    pub fn assign(&self, region: &mut Region<'_, Fr>, mut row: usize, jobs: &[CommittedJob<'_>], zero: &Wire) -> Result<(Vec<Wire>, usize), Error> {
        let w = self.inputs.len();
        let offset = super::fr_from_i64(super::graph_plan::WEIGHT_LO);
        let mut results = Vec::with_capacity(jobs.len());
        for job in jobs {
            let mut acc = job.bias.value;
            let chunks: Vec<&[(&Wire, &Wire, i64)]> = if job.terms.is_empty() { vec![&[]] } else { job.terms.chunks(w).collect() };
            for (i, chunk) in chunks.iter().enumerate() {
                if i == 0 {
                    self.q_first.enable(region, row)?;
                    let cell = region.assign_advice(self.bias, row, job.bias.value);
                    region.constrain_equal(cell.cell(), job.bias.cell);
                } else {
                    self.q_next.enable(region, row)?;
                }
                for slot in 0..w {
                    let Some(&(weight, source, lo)) = chunk.get(slot) else {
                        let cell = region.assign_advice(self.weights[slot], row, zero.value);
                        region.constrain_equal(cell.cell(), zero.cell);
                        continue;
                    };
                    let lie = if i == 0 && slot == 0 { job.copy_lie } else { Fr::zero() };
                    let wv = weight.value.map(|v| v + lie);
                    let cell = region.assign_advice(self.weights[slot], row, wv);
                    region.constrain_equal(cell.cell(), weight.cell);
                    let lo = super::fr_from_i64(lo);
                    region.assign_fixed(self.lo[slot], row, lo);
                    let cell = region.assign_advice(self.inputs[slot], row, source.value);
                    region.constrain_equal(cell.cell(), source.cell);
                    acc = acc + wv.zip(source.value).map(|(w, x)| (w + offset) * (x + lo));
                }
                if i + 1 == chunks.len() {
                    acc = acc.map(|v| v + job.lie);
                }
                let cell = region.assign_advice(self.acc, row + 1, acc);
                row += 1;
                if i + 1 == chunks.len() {
                    results.push(Wire { cell: cell.cell(), value: acc });
                }
            }
        }
        Ok((results, row + 1))
    }
}
