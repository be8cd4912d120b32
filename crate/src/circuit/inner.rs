//! Inner products of two computed vectors, `P = ⌊W/2⌋` pairs a row: `acc' = Σ w_i·(a_i + lo_a)·
//! (b_i + lo_b)` on an output's first row (`q_first`), `acc' = acc + Σ …` on the next ones
//! (`q_next`); the requantization of the result follows in the range group. Attention's
//! `Q·Kᵀ` and `weights·V` are these (the importer rewires both operands to rows of `K`).
//!
//! ```text
//! | x_0 | x_1 | … | x_{2P-2} | x_{2P-1} | acc     | w_0 … w_{P-1} (fixed) | q_first | q_next |
//! | a_0 | b_0 | … | a_{P-1}  | b_{P-1}  | (none)  | 1 per used pair       |    1    |        |
//! | a_P | b_P | … |          |          | partial | 1 per used pair       |         |   1    |
//! |     |     |   |          |          | result  |                       |         |        |
//! ```
//!
//! One gate pair per `(lo_a, lo_b)` (the operands' low ends are constants of the gate; stored
//! values are `q - lo`). Soundness: every `a_i`, `b_i` is copy-constrained to the
//! range-checked cell that produced it, and the flags `w_i` are fixed (an unused pair's cells
//! are multiplied by 0 and read by nothing), so the gate forces each partial sum and the result.
//!
//! # Why a chip of its own (measured on the attention head of `tests/graph.rs`, `[1, 4, 8]`,
//! one head, `W = 5`, and on `model/zoo/torch_transformer`, 16-bit)
//!
//! The first lowering used the existing nodes: an elementwise product per term (one `mul`
//! row and one requantization block each) and a pool summing them over `K`. Every term paid a
//! requantization block (5–7 range rows) and a rounding; the inner product pays one per
//! output and rounds once.
//!
//! | lowering           | attention 8-bit: dot, range rows, k | transformer 16-bit: dot, range rows, k |
//! |--------------------|-------------------------------------|----------------------------------------|
//! | product + pool sum | 584, 2,880, k = 12                  | 18,290, 82,248, k = 17                 |
//! | inner-product chip | 392, 1,296, k = 11                  | 15,218, 56,392, k = 16                 |
//!
//! The chip also rounds once per output instead of once per term: the attention head's worst
//! error at 8 bits fell from 0.073 to 0.057 (the transformer's from 4.25% to 3.09%).

use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector, VirtualCells};
use halo2_proofs::poly::Rotation;

use super::dot::Wire;
use super::fr_from_i64;

/// The operands' low ends: what an inner-product gate depends on.
pub type InnerKind = (i64, i64);

#[derive(Clone, Debug)]
pub struct InnerConfig {
    /// Per kind: `q_first`, `q_next`.
    pub kinds: Vec<(InnerKind, Selector, Selector)>,
    inputs: Vec<Column<Advice>>,
    acc: Column<Advice>,
    flags: Vec<Column<Fixed>>,
}

impl InnerConfig {
    pub fn configure(meta: &mut ConstraintSystem<Fr>, kinds: &[InnerKind], inputs: &[Column<Advice>], acc: Column<Advice>, weights: &[Column<Fixed>]) -> Self {
        let pairs = inputs.len() / 2;
        let (inputs, flags) = (inputs[..2 * pairs].to_vec(), weights[..pairs].to_vec());
        let kinds = kinds
            .iter()
            .map(|&(lo_a, lo_b)| {
                let (q_first, q_next) = (meta.selector(), meta.selector());
                let sum = |meta: &mut VirtualCells<'_, Fr>| {
                    (0..pairs).fold(Expression::Constant(Fr::zero()), |s, i| {
                        let a = meta.query_advice(inputs[2 * i], Rotation::cur()) + Expression::Constant(fr_from_i64(lo_a));
                        let b = meta.query_advice(inputs[2 * i + 1], Rotation::cur()) + Expression::Constant(fr_from_i64(lo_b));
                        s + meta.query_fixed(flags[i], Rotation::cur()) * a * b
                    })
                };
                meta.create_gate(format!("inner first row: acc' = Σ w·(a + {lo_a})·(b + {lo_b})"), |meta| {
                    let q = meta.query_selector(q_first);
                    vec![q * (meta.query_advice(acc, Rotation::next()) - sum(meta))]
                });
                meta.create_gate(format!("inner next row: acc' = acc + Σ w·(a + {lo_a})·(b + {lo_b})"), |meta| {
                    let q = meta.query_selector(q_next);
                    let step = meta.query_advice(acc, Rotation::next()) - meta.query_advice(acc, Rotation::cur());
                    vec![q * (step - sum(meta))]
                });
                ((lo_a, lo_b), q_first, q_next)
            })
            .collect();
        InnerConfig { kinds, inputs, acc, flags }
    }

    /// Pairs per row for a dot-row width `W`.
    pub fn pairs(width: usize) -> usize {
        width / 2
    }

    /// Rows one inner product of `k` terms takes, its result row not counted.
    pub fn rows_for(width: usize, k: usize) -> usize {
        k.div_ceil(Self::pairs(width)).max(1)
    }

    /// Lays out one inner product from `row`; `lie` is added to the result (negative tests).
    /// Returns the result and the first free row (the result's row, which the next product's
    /// first row shares).
    pub fn assign(&self, region: &mut Region<'_, Fr>, mut row: usize, kind: InnerKind, terms: &[(Wire, Wire)], lie: Fr) -> Result<(Wire, usize), Error> {
        let (_, q_first, q_next) = self.kinds.iter().find(|(k, _, _)| *k == kind).copied().ok_or(Error::Synthesis)?;
        let (lo_a, lo_b) = (fr_from_i64(kind.0), fr_from_i64(kind.1));
        let mut acc = Value::known(Fr::zero());
        let chunks: Vec<&[(Wire, Wire)]> = terms.chunks(self.flags.len()).collect();
        let mut result = None;
        for (i, chunk) in chunks.iter().enumerate() {
            if i == 0 { q_first.enable(region, row)? } else { q_next.enable(region, row)? }
            for (slot, (a, b)) in chunk.iter().enumerate() {
                region.assign_fixed(self.flags[slot], row, Fr::one());
                for (col, w) in [(self.inputs[2 * slot], a), (self.inputs[2 * slot + 1], b)] {
                    let c = region.assign_advice(col, row, w.value);
                    region.constrain_equal(c.cell(), w.cell);
                }
                acc = acc + a.value.zip(b.value).map(|(a, b)| (a + lo_a) * (b + lo_b));
            }
            if i + 1 == chunks.len() {
                acc = acc.map(|v| v + lie);
            }
            let cell = region.assign_advice(self.acc, row + 1, acc);
            row += 1;
            result = Some(Wire { cell: cell.cell(), value: acc });
        }
        Ok((result.ok_or(Error::Synthesis)?, row))
    }
}
