//! The model circuit of a general [`Graph`]: its outputs are what the graph computes from its
//! inputs, with each side private, public or committed by a Poseidon hash.
//!
//! Chips: [`dot`](super::dot) and [`requant`](super::requant) (linear nodes), [`table`](super::table)
//! (elementwise functions), [`max`](super::max) (max pooling), [`mul`](super::mul) (products),
//! [`poseidon`](super::poseidon) (hashed inputs or outputs). The layout is the mint circuit's:
//!
//! ```text
//! | x_0 … x_{W-1} | acc | w_0 … w_{W-1} | bias |   ‖   | range | bits | aux |
//! | constants, then per node its dot products, | ‖   | input bytes, then the        |
//! | table / max / product rows; then packing   | ‖   | requantization blocks        |
//! | and hashing of committed tensors           | ‖   |                              |
//! ```
//!
//! Public values, in order: for each input (if public: its stored values `q - lo`; if hashed:
//! `Poseidon(len, words of 15 values of 16 bits)`), then the same for each output. Chips a graph does not use
//! are not configured, so an MLP pays for no table or max lookups.

use std::sync::Arc;

use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Circuit, Column, ConstraintSystem, Error, Instance};
use serde::{Deserialize, Serialize};

use super::dot::{DotConfig, DotJob, Wire};
use super::graph_plan::{GraphPlan, GraphTamper, GraphTrace, PlanError, Step};
use super::max::MaxConfig;
use super::mul::MulConfig;
use super::poseidon::{self, PoseidonConfig};
use super::range::{RangeConfig, WideConfig};
use super::requant::RequantConfig;
use super::table::TableConfig;
use super::{fr_from_i64, k_for_rows, Columns, MAX_WIDTH, MIN_WIDTH};
use crate::graph::Graph;

/// How a side of the statement appears to the verifier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    #[default]
    Private,
    Public,
    /// Poseidon hash of the stored bytes (length first, then 31-byte chunks).
    Hashed,
}

impl std::str::FromStr for Visibility {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "private" => Ok(Visibility::Private),
            "public" => Ok(Visibility::Public),
            "hashed" => Ok(Visibility::Hashed),
            other => Err(format!("`{other}` is not a visibility (private, public, hashed)")),
        }
    }
}

/// What `configure` needs: the graph, its plan, `W` and the visibilities.
#[derive(Clone, Debug)]
pub struct GraphParams {
    pub graph: Option<Arc<Graph>>,
    pub plan: Arc<GraphPlan>,
    pub width: usize,
    pub inputs: Visibility,
    pub outputs: Visibility,
}

impl Default for GraphParams {
    fn default() -> Self {
        let plan = GraphPlan { wires: 0, inputs: Vec::new(), input_limbs: Vec::new(), constants: Vec::new(), steps: Vec::new(), outputs: Vec::new(), tables: Vec::new() };
        GraphParams { graph: None, plan: Arc::new(plan), width: MIN_WIDTH, inputs: Visibility::Private, outputs: Visibility::Public }
    }
}

/// Stored values per hashed word: 15 values of 16 bits fit below the BN254 scalar modulus.
pub const CHUNK_VALUES: usize = 15;

fn message_len(values: usize) -> usize {
    1 + values.div_ceil(CHUNK_VALUES)
}

/// The weight of value `i` of a `len`-value chunk: `65536^(len-1-i)`.
fn chunk_weights(len: usize) -> Vec<Fr> {
    let mut w = vec![Fr::one(); len];
    for i in (0..len.saturating_sub(1)).rev() {
        w[i] = w[i + 1] * Fr::from(65536);
    }
    w
}

/// The message a hashed side commits to: its length, then its values packed 15 to a word.
pub fn hash_message(values: &[i64]) -> Vec<Fr> {
    let mut message = vec![Fr::from(values.len() as u64)];
    message.extend(values.chunks(CHUNK_VALUES).map(|c| c.iter().fold(Fr::zero(), |acc, &v| acc * Fr::from(65536) + fr_from_i64(v))));
    message
}

impl GraphParams {
    /// The parameters for `graph` with `W = width` (at least [`MIN_WIDTH`]). A width above
    /// [`MAX_WIDTH`] is refused: it comes from proof files too, and every column costs memory.
    pub fn new(graph: Graph, width: usize, inputs: Visibility, outputs: Visibility) -> Result<Self, PlanError> {
        if width > MAX_WIDTH {
            return Err(PlanError::Width { width, max: MAX_WIDTH });
        }
        let plan = GraphPlan::new(&graph)?;
        Ok(GraphParams { graph: Some(Arc::new(graph)), plan: Arc::new(plan), width: width.max(MIN_WIDTH), inputs, outputs })
    }

    /// The parameters with the dot-row width `W ∈ [5, MAX_WIDTH]` that gives the smallest `k` (the
    /// narrowest among equals: every column costs a commitment). Model proofs are verified
    /// natively, so unlike the mint circuit they need not keep `W = 5` for the EVM verifier.
    pub fn auto_width(graph: Graph, inputs: Visibility, outputs: Visibility) -> Result<Self, PlanError> {
        let mut best = GraphParams::new(graph, MIN_WIDTH, inputs, outputs)?;
        for width in MIN_WIDTH + 1..=MAX_WIDTH {
            let candidate = GraphParams { width, ..best.clone() };
            if candidate.k() < best.k() {
                best = candidate;
            }
        }
        Ok(best)
    }

    fn sides(&self) -> impl Iterator<Item = (Visibility, &Vec<usize>)> {
        let (i, o) = (self.inputs, self.outputs);
        self.plan.inputs.iter().map(move |w| (i, w)).chain(self.plan.outputs.iter().map(move |w| (o, w)))
    }

    /// Each input then each output: its visibility and number of values.
    pub fn inputs_outputs(&self) -> Vec<(Visibility, usize)> {
        self.sides().map(|(v, w)| (v, w.len())).collect()
    }

    /// Rows used by the dot group, the range group and the function tables.
    pub fn rows(&self) -> (usize, usize, usize) {
        let plan = &self.plan;
        let w = self.width;
        let mut dot = DotConfig::rows_for(w, plan.constants.iter().map(|_| 0)) + 1;
        let mut range = plan.input_rows();
        for step in &plan.steps {
            match step {
                Step::Linear { dots, kind, .. } => {
                    dot += DotConfig::rows_for(w, dots.iter().map(|d| d.terms.len())) + 1;
                    range += dots.len() * kind.height();
                }
                Step::Table { inputs, .. } => dot += inputs.len(),
                Step::Max { rows, .. } => dot += rows.len(),
                Step::Mul { rows, kind, .. } => {
                    dot += rows.len();
                    range += rows.len() * kind.height();
                }
            }
        }
        for (vis, wires) in self.sides() {
            if vis == Visibility::Hashed {
                let chunks = (0..wires.len().div_ceil(CHUNK_VALUES)).map(|i| (wires.len() - i * CHUNK_VALUES).min(CHUNK_VALUES));
                dot += DotConfig::rows_for(w, chunks.chain([0])) + 1;
                dot += PoseidonConfig::rows(message_len(wires.len()));
            }
        }
        let tables = 1 + plan.tables.iter().map(Vec::len).sum::<usize>();
        (dot, range, tables)
    }

    /// The smallest `k` that fits the circuit and its lookup tables.
    pub fn k(&self) -> u32 {
        let (dot, range, tables) = self.rows();
        k_for_rows(dot.max(range).max(tables).max(511), &self.constraint_system())
    }

    /// The constraint system this circuit configures (what key generation will see).
    pub fn constraint_system(&self) -> ConstraintSystem<Fr> {
        let mut cs = ConstraintSystem::default();
        GraphCircuit::configure_with_params(&mut cs, self.clone());
        cs
    }

    /// The public values for the stored wire values of a trace.
    pub fn instances_of(&self, wires: &[i64]) -> Vec<Fr> {
        let mut out = Vec::new();
        for (vis, ws) in self.sides() {
            let bytes: Vec<i64> = ws.iter().map(|&w| wires[w]).collect();
            match vis {
                Visibility::Private => {}
                Visibility::Public => out.extend(bytes.iter().map(|&b| fr_from_i64(b))),
                Visibility::Hashed => out.push(poseidon::hash(&hash_message(&bytes))),
            }
        }
        out
    }
}

/// The private part: the real input values (already checked against the graph).
#[derive(Clone, Debug)]
pub struct GraphWitness {
    pub inputs: Vec<Vec<i64>>,
    /// A deliberate lie, for negative tests only.
    pub tamper: Option<GraphTamper>,
}

#[derive(Clone, Debug)]
pub struct GraphCircuit {
    pub params: GraphParams,
    pub witness: Option<GraphWitness>,
}

#[derive(Clone, Debug)]
pub struct GraphConfig {
    dot: DotConfig,
    requant: RequantConfig,
    table: Option<TableConfig>,
    max: Option<MaxConfig>,
    mul: Option<MulConfig>,
    poseidon: Option<PoseidonConfig>,
    wide: Option<WideConfig>,
    instance: Column<Instance>,
}

impl Circuit<Fr> for GraphCircuit {
    type Config = GraphConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = GraphParams;

    fn without_witnesses(&self) -> Self {
        GraphCircuit { params: self.params.clone(), witness: None }
    }

    fn params(&self) -> GraphParams {
        self.params.clone()
    }

    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, params: GraphParams) -> GraphConfig {
        let Columns { inputs, acc, range: range_col, aux, weights, bias, bits, instance } = Columns::configure(meta, params.width);

        let plan = &params.plan;
        let dot = DotConfig::configure(meta, inputs.clone(), acc, weights.clone(), bias);
        let range = RangeConfig::configure(meta, range_col, bits);
        let max = plan.has_max().then(|| MaxConfig::configure(meta, [inputs[0], inputs[1], inputs[2], inputs[3], inputs[4]], &range));
        let wide = plan.input_limbs.contains(&2).then(|| WideConfig::configure(meta, &range, aux));
        let requant = RequantConfig::configure(meta, &plan.kinds(), range, aux);
        let table = (!plan.tables.is_empty()).then(|| TableConfig::configure(meta, inputs[0], inputs[1], weights[0]));
        let mul = plan.has_mul().then(|| MulConfig::configure(meta, [inputs[0], inputs[1], inputs[2]], [weights[0], weights[1], bias]));
        let hashed = params.inputs == Visibility::Hashed || params.outputs == Visibility::Hashed;
        let pool: Vec<Column<Advice>> = inputs.iter().copied().chain([acc]).collect();
        let poseidon = hashed.then(|| PoseidonConfig::configure(meta, &pool, &weights));
        GraphConfig { dot, requant, table, max, mul, poseidon, wide, instance }
    }

    fn configure(_meta: &mut ConstraintSystem<Fr>) -> GraphConfig {
        unreachable!("the model circuit is configured with its parameters")
    }

    fn synthesize(&self, config: GraphConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        let range = &config.requant.range;
        range.load_table(&mut layouter)?;
        let plan = &self.params.plan;
        if let Some(table) = &config.table {
            table.load(&mut layouter, &plan.tables)?;
        }
        let graph = self.params.graph.as_deref();
        let trace = self.witness.as_ref().zip(graph).map(|(w, g)| GraphTrace::new(plan, g, &w.inputs, w.tamper));
        let val = |w: usize| trace.as_ref().map_or(Value::unknown(), |t| Value::known(fr_from_i64(t.wires[w])));
        let mut wires: Vec<Option<Wire>> = vec![None; plan.wires];
        let get = |wires: &[Option<Wire>], w: usize| wires[w].ok_or(Error::Synthesis);

        // Inputs, range-checked: a byte each, or two limbs composed in `aux`.
        layouter.assign_region(
            || "inputs",
            |mut region| {
                let mut row = 0;
                for (ws, &limbs) in plan.inputs.iter().zip(&plan.input_limbs) {
                    for &w in ws {
                        if limbs == 1 {
                            region.assign_fixed(range.bits, row, Fr::from(8));
                            let cell = region.assign_advice(range.range, row, val(w));
                            wires[w] = Some(Wire { cell: cell.cell(), value: val(w) });
                        } else {
                            let wide = config.wide.as_ref().ok_or(Error::Synthesis)?;
                            wires[w] = Some(wide.assign(&mut region, row, trace.as_ref().map(|t| t.wires[w]))?);
                        }
                        row += limbs as usize;
                    }
                }
                Ok(())
            },
        )?;
        let mut range_row = plan.input_rows();
        let mut dot_row = 0;
        // Constants: dot products with no terms, `acc' = bias`.
        let jobs: Vec<DotJob> = plan.constants.iter().map(|&(_, v)| DotJob { bias: fr_from_i64(v), terms: Vec::new(), lie: Fr::zero() }).collect();
        let (consts, next) = layouter.assign_region(|| "constants", |mut region| config.dot.assign(&mut region, dot_row, &jobs))?;
        dot_row = next;
        for (&(w, _), c) in plan.constants.iter().zip(consts) {
            wires[w] = Some(c);
        }

        for (s, step) in plan.steps.iter().enumerate() {
            let blocks = trace.as_ref().map(|t| &t.blocks[s]);
            let name = match step {
                Step::Linear { node, .. } | Step::Table { node, .. } | Step::Max { node, .. } | Step::Mul { node, .. } => {
                    graph.map_or_else(|| format!("node {node}"), |g| g.nodes()[*node].name.clone())
                }
            };
            (dot_row, range_row) = layouter.assign_region(
                || name.clone(),
                |mut region| {
                    let (mut d, mut r) = (dot_row, range_row);
                    match step {
                        Step::Linear { dots, kind, outputs, .. } => {
                            let ins: Vec<Vec<(Fr, Wire)>> = dots
                                .iter()
                                .map(|dt| dt.terms.iter().map(|&(i, wt)| Ok((fr_from_i64(wt), get(&wires, i)?))).collect::<Result<_, Error>>())
                                .collect::<Result<_, Error>>()?;
                            let jobs: Vec<DotJob> = dots
                                .iter()
                                .zip(&ins)
                                .map(|(dt, terms)| DotJob { bias: fr_from_i64(dt.bias), terms: terms.iter().map(|(w, x)| (*w, x)).collect(), lie: Fr::zero() })
                                .collect();
                            let (accs, next) = config.dot.assign(&mut region, d, &jobs)?;
                            d = next;
                            for (o, (acc, &w)) in accs.iter().zip(outputs).enumerate() {
                                wires[w] = Some(config.requant.assign(&mut region, r, *kind, acc, blocks.map(|b| &b[o]))?);
                                r += kind.height();
                            }
                        }
                        Step::Table { tag, inputs, outputs, .. } => {
                            let table = config.table.as_ref().ok_or(Error::Synthesis)?;
                            for (&x, &y) in inputs.iter().zip(outputs) {
                                wires[y] = Some(table.assign(&mut region, d, *tag, &get(&wires, x)?, val(y))?);
                                d += 1;
                            }
                        }
                        Step::Max { rows, .. } => {
                            let max = config.max.as_ref().ok_or(Error::Synthesis)?;
                            for &(a, b, m) in rows {
                                let diff = trace.as_ref().map(|t| 2 * t.wires[m] - t.wires[a] - t.wires[b]);
                                wires[m] = Some(max.assign(&mut region, d, &get(&wires, a)?, &get(&wires, b)?, val(m), diff)?);
                                d += 1;
                            }
                        }
                        Step::Mul { rows, lo, kind, outputs, .. } => {
                            let mul = config.mul.as_ref().ok_or(Error::Synthesis)?;
                            for (o, (&(a, b, p), &y)) in rows.iter().zip(outputs).enumerate() {
                                let prod = mul.assign(&mut region, d, &get(&wires, a)?, &get(&wires, b)?, *lo, val(p))?;
                                d += 1;
                                wires[y] = Some(config.requant.assign(&mut region, r, *kind, &prod, blocks.map(|b| &b[o]))?);
                                r += kind.height();
                            }
                        }
                    }
                    Ok((d, r))
                },
            )?;
        }

        // The public side.
        let mut row = 0;
        for (vis, ws) in self.params.sides() {
            match vis {
                Visibility::Private => {}
                Visibility::Public => {
                    for &w in ws {
                        layouter.constrain_instance(get(&wires, w)?.cell, config.instance, row);
                        row += 1;
                    }
                }
                Visibility::Hashed => {
                    let poseidon = config.poseidon.as_ref().ok_or(Error::Synthesis)?;
                    let bytes: Vec<Wire> = ws.iter().map(|&w| get(&wires, w)).collect::<Result<_, _>>()?;
                    let digest = layouter.assign_region(
                        || "hash",
                        |mut region| {
                            let mut jobs = vec![DotJob { bias: Fr::from(bytes.len() as u64), terms: Vec::new(), lie: Fr::zero() }];
                            jobs.extend(bytes.chunks(CHUNK_VALUES).map(|chunk| DotJob {
                                bias: Fr::zero(),
                                terms: chunk_weights(chunk.len()).into_iter().zip(chunk.iter()).collect(),
                                lie: Fr::zero(),
                            }));
                            let (message, next) = config.dot.assign(&mut region, dot_row, &jobs)?;
                            let digest = poseidon.assign(&mut region, next, &message, None)?;
                            dot_row = next + PoseidonConfig::rows(message.len());
                            Ok(digest)
                        },
                    )?;
                    layouter.constrain_instance(digest.cell, config.instance, row);
                    row += 1;
                }
            }
        }
        Ok(())
    }
}
