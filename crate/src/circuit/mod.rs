//! The mint circuit, compiled from a [`QuantModel`]: the public picture is exactly what the
//! model computes from a private latent, the latent is bound by a public Poseidon commitment,
//! and the proof names its minter.
//!
//! Chips: [`dot`] (fixed-weight dot products: dense layers, transposed convolutions and the
//! byte packing of public values), [`requant`] (rounding shift + clamp, one gate per kind),
//! [`range`] (the 8-bit lookup every stored value passes through), [`poseidon`] (the
//! commitment). [`plan`] turns the model into dot products; [`statement`] computes the public
//! inputs natively.
//!
//! # Layout
//!
//! Two column groups fill rows side by side, from row 0:
//!
//! ```text
//! | x_0 … x_{W-1} | acc | w_0 … w_{W-1} | bias |   ‖   | range | bits | aux |
//! | dot products of every layer, then     |   ‖   | latent bytes (8-bit)       |
//! | the picture and latent packing, the   |   ‖   | requantization blocks of   |
//! | Poseidon rounds (x_0…x_4, acc), then  |   ‖   | every output of every layer|
//! | the Horner evaluation (x_0…x_2)       |   ‖   |                            |
//! ```
//!
//! `aux` rows 0–2 hold the minter, the salt and the challenge; the instance column holds the
//! four public values of [`statement`]. Selectors are compressed into 4 fixed columns at key
//! generation (`keygen_vk_custom(.., true)`), and the constraint system is held at degree 5:
//! the extended domain stays `4·2^k` as at degree 4, while the permutation takes 3 columns per
//! product and more selectors share a column.
//!
//! # Choosing `W` (measured on this 2-core machine; `section9 bench --width W` for prove time
//! and memory, `section9 export-verifier --width W` compiled with solc 0.8.19 for the size)
//!
//! | W  | k  | rows   | advice / fixed cols | prove  | peak mem | verifier (deployed) |
//! |----|----|--------|---------------------|--------|----------|---------------------|
//! | 5  | 16 | 64,810 | 8 / 13              | 5.46 s | 436 MB   | 23,351 B            |
//! | 6  | 16 | 54,602 | 9 / 14              | 6.2 s  | 414 MB   | 24,711 B (too big)  |
//!
//! (Prove times without the x86-64 assembly field arithmetic and LTO the release build now
//! uses; with them `W = 5` proves in 4.70 s.)
//!
//! The verifier is the binding constraint. EIP-170 caps deployed code at 24,576 bytes, and the
//! code snark-verifier generates grows with every commitment it multiplies (each fixed,
//! advice and permutation column is one elliptic-curve multiplication, ≈ 6k gas and ≈ 300
//! bytes), every queried rotation and every gate polynomial. An earlier layout (`W = 12`,
//! 100 picture chunks as public inputs, one gate per requantization kind and per Poseidon
//! round type, uncompressed selectors) proved in 4.75 s at k = 15 but compiled to 51.3 KB;
//! the picture's 100 public inputs alone cost ≈ 16 KB. The choices that brought it down:
//! four public inputs (the picture enters through a challenge, see [`statement`]), selector
//! compression, one gate per requantization shape with the clamp flags range-checked in the
//! lookup column, one Poseidon round gate and one absorb gate driven by fixed flags in idle
//! weight columns, and `W = 5`. With the requantization blocks 6 rows tall the range group
//! alone needs 39,968 rows, so every `W` lands on k = 16 and wider rows only add columns:
//! `W = 5` is both the fastest and the only one that fits. Memory stays far inside the
//! browser's 4 GiB.

pub mod dot;
pub mod graph;
pub mod graph_plan;
pub mod horner;
pub mod max;
pub mod mul;
pub mod plan;
pub mod poseidon;
pub mod range;
pub mod requant;
pub mod statement;
pub mod table;
pub mod witness;

use std::sync::Arc;

use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{Advice, Circuit, Column, ConstraintSystem, Error, Instance};

use dot::{DotConfig, DotJob, Wire};
use horner::HornerConfig;
use plan::Plan;
use poseidon::PoseidonConfig;
use range::RangeConfig;
use requant::RequantConfig;
use witness::{Tamper, Trace};

/// The narrowest dot row: the Poseidon rounds need 6 advice columns (`W` inputs and `acc`)
/// and 3 fixed ones.
pub const MIN_WIDTH: usize = 5;

/// The widest dot row a model circuit may use: the compiler's width search stops here (wider
/// rows stopped lowering `k` on every model measured), and a proof file naming a wider one is
/// refused before any column is allocated.
pub const MAX_WIDTH: usize = 16;

/// Default number of terms per dot-product row.
pub const DEFAULT_WIDTH: usize = 5;

/// The smallest `k` whose columns fit `rows` rows (never below 4). halo2 keeps the last
/// `blinding_factors() + 1` rows of every column for blinding; how many depends on the
/// constraint system (the most rotations at which any advice column is queried, so a tall
/// requantization block raises it), hence it is read from `cs`, not assumed.
pub(crate) fn k_for_rows(rows: usize, cs: &ConstraintSystem<Fr>) -> u32 {
    let need = rows + cs.blinding_factors() + 1;
    (usize::BITS - (need - 1).leading_zeros()).max(4)
}

pub(crate) fn fr_from_i64(v: i64) -> Fr {
    if v >= 0 {
        Fr::from(v as u64)
    } else {
        -Fr::from(v.unsigned_abs())
    }
}

pub(crate) fn pow2(e: u32) -> Fr {
    Fr::from(2).pow_vartime([u64::from(e)])
}

/// The columns both circuits lay out, created in this order (the order is part of the keys):
/// `W` inputs, `acc`, `range`, `aux` (advice, copy-enabled); `W` weights, `bias`, `bits`
/// (fixed); one copy-enabled instance column. The constraint system is held at degree 5:
/// that keeps the extended domain at 4·2^k (like degree 4) but lets the permutation argument
/// take 3 columns per product and the selector compression pack tighter.
pub(crate) struct Columns {
    pub inputs: Vec<Column<Advice>>,
    pub acc: Column<Advice>,
    pub range: Column<Advice>,
    pub aux: Column<Advice>,
    pub weights: Vec<Column<halo2_proofs::plonk::Fixed>>,
    pub bias: Column<halo2_proofs::plonk::Fixed>,
    pub bits: Column<halo2_proofs::plonk::Fixed>,
    pub instance: Column<Instance>,
}

impl Columns {
    pub(crate) fn configure(meta: &mut ConstraintSystem<Fr>, width: usize) -> Columns {
        meta.set_minimum_degree(5);
        let mut advice = || {
            let c: Column<Advice> = meta.advice_column();
            meta.enable_equality(c);
            c
        };
        let inputs: Vec<Column<Advice>> = (0..width).map(|_| advice()).collect();
        let acc = advice();
        let range = advice();
        let aux = advice();
        let weights = (0..width).map(|_| meta.fixed_column()).collect();
        let bias = meta.fixed_column();
        let bits = meta.fixed_column();
        let instance = meta.instance_column();
        meta.enable_equality(instance);
        Columns { inputs, acc, range, aux, weights, bias, bits, instance }
    }
}

/// What `configure` needs to know: the plan (its requant kinds and message length) and `W`.
#[derive(Clone, Debug)]
pub struct CircuitParams {
    pub plan: Arc<Plan>,
    pub width: usize,
}

impl Default for CircuitParams {
    fn default() -> Self {
        CircuitParams { plan: Arc::new(Plan { latent_len: 32, layers: Vec::new(), channels: 3 }), width: DEFAULT_WIDTH }
    }
}

impl CircuitParams {
    pub fn new(plan: Plan, width: usize) -> Self {
        CircuitParams { plan: Arc::new(plan), width: width.max(MIN_WIDTH) }
    }

    /// Words the commitment hashes: the salt and the packed latent.
    pub fn message_len(&self) -> usize {
        1 + self.plan.latent_len.div_ceil(statement::CHUNK_BYTES)
    }

    /// Rows used by the dot group and by the range group.
    pub fn rows(&self) -> (usize, usize) {
        let plan = &self.plan;
        let w = self.width;
        let mut dot = 0;
        for layer in &plan.layers {
            dot += DotConfig::rows_for(w, layer.dots.iter().map(|d| d.terms.len())) + 1;
        }
        let chunks = |n: usize| (0..n.div_ceil(statement::CHUNK_BYTES)).map(move |i| (n - i * statement::CHUNK_BYTES).min(statement::CHUNK_BYTES));
        dot += DotConfig::rows_for(w, chunks(plan.picture_bytes())) + 1;
        dot += DotConfig::rows_for(w, chunks(plan.latent_len)) + 1;
        dot += PoseidonConfig::rows(self.message_len());
        dot += HornerConfig::rows(plan.picture_bytes().div_ceil(statement::CHUNK_BYTES));
        let range = Self::range_start(plan)
            + plan.layers.iter().map(|l| l.dots.len() * l.kind.height()).sum::<usize>();
        (dot, range)
    }

    /// The first row of the requantization blocks: the latent bytes come first, and `aux`
    /// holds the minter, salt and challenge in rows 0–2.
    pub fn range_start(plan: &Plan) -> usize {
        plan.latent_len.max(3)
    }

    /// Advice cells the layout assigns (inputs, running sums, requantization, hash).
    pub fn advice_cells(&self) -> usize {
        let plan = &self.plan;
        let w = self.width;
        let dots: usize = plan
            .layers
            .iter()
            .flat_map(|l| &l.dots)
            .map(|d| d.terms.len() + d.terms.len().div_ceil(w).max(1))
            .sum();
        let packed = plan.picture_bytes() + plan.latent_len + 2 * (plan.picture_bytes() + plan.latent_len).div_ceil(statement::CHUNK_BYTES);
        let requant: usize = plan
            .layers
            .iter()
            .map(|l| l.dots.len() * (l.kind.rem_limbs + 1 + l.kind.dist_limbs() + u32::from(l.kind.narrow()) + 3) as usize)
            .sum();
        let horner = 3 * plan.picture_bytes().div_ceil(statement::CHUNK_BYTES);
        dots + packed + requant + plan.latent_len + 3 + PoseidonConfig::rows(self.message_len()) * 6 + horner
    }

    /// The smallest `k` whose `2^k` rows fit the circuit and the 511-row range table.
    pub fn k(&self) -> u32 {
        let (dot, range) = self.rows();
        k_for_rows(dot.max(range).max(511), &self.constraint_system())
    }

    /// The constraint system this circuit configures (what key generation will see).
    pub fn constraint_system(&self) -> ConstraintSystem<Fr> {
        let mut cs = ConstraintSystem::default();
        MintCircuit::configure_with_params(&mut cs, self.clone());
        cs
    }
}

/// The private part of a mint statement.
#[derive(Clone, Debug)]
pub struct MintWitness {
    pub latent: Vec<i8>,
    pub salt: Fr,
    pub minter: [u8; 20],
    /// A deliberate lie, for negative tests only; `None` in every real proof.
    pub tamper: Option<Tamper>,
}

impl MintWitness {
    pub fn new(latent: Vec<i8>, salt: Fr, minter: [u8; 20]) -> Self {
        MintWitness { latent, salt, minter, tamper: None }
    }
}

/// The circuit. Without a witness it is the shape used for key generation.
#[derive(Clone, Debug)]
pub struct MintCircuit {
    pub params: CircuitParams,
    pub witness: Option<MintWitness>,
}

#[derive(Clone, Debug)]
pub struct MintConfig {
    dot: DotConfig,
    requant: RequantConfig,
    poseidon: PoseidonConfig,
    horner: HornerConfig,
    instance: Column<Instance>,
}

impl Circuit<Fr> for MintCircuit {
    type Config = MintConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = CircuitParams;

    fn without_witnesses(&self) -> Self {
        MintCircuit { params: self.params.clone(), witness: None }
    }

    fn params(&self) -> CircuitParams {
        self.params.clone()
    }

    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, params: CircuitParams) -> MintConfig {
        let Columns { inputs, acc, range: range_col, aux, weights, bias, bits, instance } = Columns::configure(meta, params.width);

        let dot = DotConfig::configure(meta, inputs.clone(), acc, weights.clone(), bias);
        let range = RangeConfig::configure(meta, range_col, bits);
        let requant = RequantConfig::configure(meta, &params.plan.kinds(), range, aux);
        // The hash and the evaluation borrow the dot group's columns (inputs, then `acc`).
        let pool: Vec<Column<Advice>> = inputs.iter().copied().chain([acc]).collect();
        let poseidon = PoseidonConfig::configure(meta, &pool, &weights);
        let horner = HornerConfig::configure(meta, &pool);
        MintConfig { dot, requant, poseidon, horner, instance }
    }

    fn configure(_meta: &mut ConstraintSystem<Fr>) -> MintConfig {
        unreachable!("the mint circuit is configured with its parameters")
    }

    fn synthesize(&self, config: MintConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        config.requant.range.load_table(&mut layouter)?;
        let plan = &self.params.plan;
        let w = self.witness.as_ref();
        let trace = w.map(|w| Trace::new(plan, &w.latent, w.tamper));
        let range = &config.requant.range;
        let aux = config.requant.aux;

        // Inputs: minter and salt in `aux`, the offset latent bytes in the range column.
        let (minter, latent) = layouter.assign_region(
            || "latent",
            |mut region| {
                let minter = w.map_or(Value::unknown(), |w| Value::known(statement::address_to_fr(&w.minter)));
                let minter = region.assign_advice(aux, 0, minter).cell();
                let latent: Vec<Wire> = (0..plan.latent_len)
                    .map(|i| {
                        region.assign_fixed(range.bits, i, Fr::from(8));
                        let value = trace.as_ref().map_or(Value::unknown(), |t| Value::known(fr_from_i64(t.latent[i])));
                        Wire { cell: region.assign_advice(range.range, i, value).cell(), value }
                    })
                    .collect();
                Ok((minter, latent))
            },
        )?;
        let salt_value = w.map_or(Value::unknown(), |w| Value::known(w.salt));
        let salt = layouter.assign_region(
            || "salt",
            |mut region| Ok(Wire { cell: region.assign_advice(aux, 1, salt_value).cell(), value: salt_value }),
        )?;

        let mut dot_row = 0;
        let mut range_row = CircuitParams::range_start(plan);
        let mut x = latent.clone();
        for (l, layer) in plan.layers.iter().enumerate() {
            let blocks = trace.as_ref().map(|t| &t.layers[l]);
            let (y, next_dot, next_range) = layouter.assign_region(
                || format!("layer {}", layer.name),
                |mut region| {
                    let jobs: Vec<DotJob> = layer
                        .dots
                        .iter()
                        .enumerate()
                        .map(|(o, d)| DotJob {
                            bias: fr_from_i64(d.bias),
                            terms: d.terms.iter().map(|&(i, wt)| (fr_from_i64(wt), &x[i])).collect(),
                            lie: match w.and_then(|w| w.tamper) {
                                Some(Tamper::DotResult { layer, output, delta }) if (layer, output) == (l, o) => fr_from_i64(delta),
                                _ => Fr::zero(),
                            },
                        })
                        .collect();
                    let (accs, next_dot) = config.dot.assign(&mut region, dot_row, &jobs)?;
                    let mut row = range_row;
                    let mut y = Vec::with_capacity(accs.len());
                    for (o, acc) in accs.iter().enumerate() {
                        y.push(config.requant.assign(&mut region, row, layer.kind, acc, blocks.map(|b| &b[o]))?);
                        row += layer.kind.height();
                    }
                    Ok((y, next_dot, row))
                },
            )?;
            x = y;
            dot_row = next_dot;
            range_row = next_range;
        }

        // Public picture: CHW outputs reordered to RGB8 HWC (grey repeated in R, G, B), packed
        // big-endian in 31-byte chunks.
        let picture: Vec<&Wire> = plan.picture_sources().into_iter().filter_map(|i| x.get(i)).collect();
        let (chunks, next_dot) = layouter.assign_region(|| "pack picture", |mut region| config.dot.assign(&mut region, dot_row, &pack_jobs(&picture)))?;
        dot_row = next_dot;
        let latent_refs: Vec<&Wire> = latent.iter().collect();
        let (latent_chunks, next_dot) = layouter.assign_region(|| "pack latent", |mut region| config.dot.assign(&mut region, dot_row, &pack_jobs(&latent_refs)))?;
        dot_row = next_dot;
        let mut message = vec![salt];
        message.extend(latent_chunks);
        let commitment = layouter.assign_region(|| "commitment", |mut region| {
            let lie = match w.and_then(|w| w.tamper) {
                Some(Tamper::PoseidonSquare { round }) => Some(round),
                _ => None,
            };
            config.poseidon.assign(&mut region, dot_row, &message, lie)
        })?;

        dot_row += PoseidonConfig::rows(message.len());

        // The challenge hashes the picture and the commitment (the contract recomputes it);
        // the circuit evaluates its own picture chunks there.
        let gamma_value = trace.as_ref().zip(w).map_or(Value::unknown(), |(t, w)| {
            if let Some(Tamper::Challenge { gamma }) = w.tamper {
                return Value::known(gamma);
            }
            let commitment = statement::commitment_of_values(&t.latent, w.salt);
            Value::known(statement::instances_of_values(&w.minter, commitment, &statement::chw_to_rgb(&t.output(), plan.channels))[2])
        });
        let lie = match w.and_then(|w| w.tamper) {
            Some(Tamper::EvaluationStep { step }) => Some(step),
            _ => None,
        };
        let gamma = layouter.assign_region(
            || "challenge",
            |mut region| Ok(Wire { cell: region.assign_advice(aux, 2, gamma_value).cell(), value: gamma_value }),
        )?;
        let evaluation = layouter.assign_region(|| "evaluate picture", |mut region| config.horner.assign(&mut region, dot_row, &chunks, &gamma, lie))?;

        layouter.constrain_instance(minter, config.instance, 0);
        layouter.constrain_instance(commitment.cell, config.instance, 1);
        layouter.constrain_instance(gamma.cell, config.instance, 2);
        layouter.constrain_instance(evaluation.cell, config.instance, 3);
        Ok(())
    }
}

/// Dot products that pack bytes into big-endian 31-byte chunks.
fn pack_jobs<'a>(bytes: &[&'a Wire]) -> Vec<DotJob<'a>> {
    bytes
        .chunks(statement::CHUNK_BYTES)
        .map(|chunk| DotJob {
            bias: Fr::zero(),
            terms: statement::chunk_weights(chunk.len()).into_iter().zip(chunk.iter().copied()).collect(),
            lie: Fr::zero(),
        })
        .collect()
}
