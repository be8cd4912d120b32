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
//! with the range group in one lane or more (`| range | bits | aux |` repeated, see
//! [`GraphParams::range_layout`]) when that lowers `k`.
//!
//! Public values, in order: for each input (if public: its stored values `q - lo`; if hashed:
//! `Poseidon(len, words of 15 values of 16 bits)`; if committed: `Poseidon(salt, words)`), then
//! the same for each output. Chips a graph does not use are not configured, so an MLP pays for
//! no table or max lookups.
//!
//! # The mint statement
//!
//! A generator's input *committed* and its output a *picture* is the mint statement of
//! [`statement`]: four public values `minter, commitment, γ, evaluation`. The minter, the salt
//! and `γ` sit in `aux` rows 0–2 (the inputs' range rows beside them hold bytes, which never use
//! `aux`); the picture's bytes are packed into 31-byte chunks and evaluated at `γ` by the
//! [`horner`](super::horner) chip. See [`crate::generator`] for what counts as a picture.

use std::sync::Arc;

use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Circuit, Column, ConstraintSystem, Error, Instance};
use serde::{Deserialize, Serialize};

use super::div::DivConfig;
use super::inner::InnerConfig;
use super::sqrt::SqrtConfig;
use super::dot::{CommittedDotConfig, CommittedJob, DotConfig, DotJob, SharedJob, SharedOutput, Wire};
pub use super::graph_plan::Weights;
use super::graph_plan::{group_len, group_terms, shared_groups, CommittedWeights, GraphPlan, GraphTamper, GraphTrace, PlanError, Step};
use super::horner::HornerConfig;
use super::max::MaxConfig;
use super::mul::MulConfig;
use super::poseidon::{self, PoseidonConfig};
use super::range::{RangeConfig, WideConfig};
use super::requant::RequantConfig;
use super::table::TableConfig;
use super::{fr_from_i64, k_for_rows, statement, Columns, MAX_ACCUMULATORS, MAX_LANES, MAX_WIDTH, MIN_WIDTH};
use crate::generator::{picture_shape, rgb_sources};
use crate::graph::Graph;

/// How a side of the statement appears to the verifier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    #[default]
    Private,
    Public,
    /// Poseidon hash of the stored values (length first, then words of 15 16-bit values).
    Hashed,
    /// Inputs only: `Poseidon(salt, words)` with a private salt — the values stay hidden even
    /// when they could be guessed (a hash of a guessable input can be checked against a
    /// dictionary; a salted commitment cannot). Words hold 31 bytes (8-bit inputs) or 15 16-bit
    /// values.
    Committed,
    /// Outputs only: the picture of the mint statement ([`statement`]): the minter, `γ` and the
    /// evaluation of the picture's bytes at `γ` are public, the picture itself is what the
    /// verifier (the contract) hashes into `γ`. Needs committed inputs and a generator's shape.
    Picture,
}

impl std::fmt::Display for Visibility {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Visibility::Private => "private",
            Visibility::Public => "public",
            Visibility::Hashed => "hashed",
            Visibility::Committed => "committed",
            Visibility::Picture => "picture",
        })
    }
}

impl std::str::FromStr for Visibility {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "private" => Ok(Visibility::Private),
            "public" => Ok(Visibility::Public),
            "hashed" => Ok(Visibility::Hashed),
            "committed" => Ok(Visibility::Committed),
            "picture" => Ok(Visibility::Picture),
            other => Err(format!("`{other}` is not a visibility (private, public, hashed, committed, picture)")),
        }
    }
}

/// What a circuit's layout is chosen for ([`GraphParams::layout_for`]): a model circuit's
/// (the prover by default) or a collection's mint circuit (`collection new --optimize`, the
/// verifier by default: its verification gas is paid on every mint).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Optimize {
    /// The `W` and range lanes with the smallest `k`: the fastest proof.
    #[default]
    Prover,
    /// `W = 5` and one range lane, the fewest columns: the smallest proof and verifier and the
    /// least verification gas, at a `k` that may be larger.
    Verifier,
}

impl std::fmt::Display for Optimize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Optimize::Prover => "prover",
            Optimize::Verifier => "verifier",
        })
    }
}

impl std::str::FromStr for Optimize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "prover" => Ok(Optimize::Prover),
            "verifier" => Ok(Optimize::Verifier),
            other => Err(format!("`{other}` is not a layout goal (prover, verifier)")),
        }
    }
}

/// What `configure` needs: the graph, its plan, `W` and the visibilities.
#[derive(Clone, Debug)]
pub struct GraphParams {
    pub graph: Option<Arc<Graph>>,
    pub plan: Arc<GraphPlan>,
    pub width: usize,
    /// Range lanes: columns `range | bits | aux` side by side, each output's range blocks in
    /// the lane with the fewest rows so far ([`GraphParams::range_layout`]).
    pub lanes: usize,
    /// Outputs a dot row computes over the same inputs (`M`, [`super::dot`]): the output
    /// channels of a convolution at one position, a dense layer's outputs.
    pub accumulators: usize,
    pub inputs: Visibility,
    pub outputs: Visibility,
    /// `(channels, height, width)` when the outputs are a picture.
    pub picture: Option<(usize, usize, usize)>,
}

impl Default for GraphParams {
    fn default() -> Self {
        let plan = GraphPlan { wires: 0, inputs: Vec::new(), input_limbs: Vec::new(), constants: Vec::new(), steps: Vec::new(), outputs: Vec::new(), tables: Vec::new(), committed: None };
        GraphParams { graph: None, plan: Arc::new(plan), width: MIN_WIDTH, lanes: 1, accumulators: 1, inputs: Visibility::Private, outputs: Visibility::Public, picture: None }
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

/// The message a weight commitment hashes: the [shape id](super::graph_plan::shape_id) (its
/// first 31 bytes, big-endian), the stored weights `w + 128` packed 31 to a word (big-endian),
/// then each bias as one word (a signed integer in the field). `wires` are the stored values
/// of a trace.
pub fn weight_message(committed: &CommittedWeights, wires: &[i64]) -> Vec<Fr> {
    let mut message = statement::pack_bytes(&committed.shape[..statement::CHUNK_BYTES]);
    message.extend(statement::pack_values(&committed.weights.iter().map(|&w| wires[w]).collect::<Vec<_>>()));
    message.extend(committed.biases.iter().map(|&b| fr_from_i64(wires[b])));
    message
}

/// The weight commitment of `graph`: Poseidon over [`weight_message`] of its learned weights.
/// Unsalted: the weights are tens of thousands of values, and anyone holding the model file
/// can check that it is the committed one.
pub fn weight_commitment(graph: &Graph) -> Result<Fr, PlanError> {
    let plan = GraphPlan::new(graph, Weights::Committed)?;
    let c = plan.committed.as_ref().ok_or_else(|| PlanError::Statement("no committed weights".into()))?;
    let mut wires = vec![0i64; plan.wires];
    for (&w, &v) in c.weights.iter().zip(&c.weight_values).chain(c.biases.iter().zip(&c.bias_values)) {
        wires[w] = v;
    }
    Ok(poseidon::hash(&weight_message(c, &wires)))
}

/// Values per word of a committed input with `limbs` bytes per value: 31 bytes, or 15 16-bit
/// values (both fit below the BN254 scalar modulus).
fn committed_chunk(limbs: u32) -> usize {
    if limbs == 1 { statement::CHUNK_BYTES } else { CHUNK_VALUES }
}

/// The weight of value `i` of a `len`-value word of `limbs`-byte values.
fn committed_weights(len: usize, limbs: u32) -> Vec<Fr> {
    if limbs == 1 { statement::chunk_weights(len) } else { chunk_weights(len) }
}

/// The message a committed input's commitment hashes: the salt, then its stored values packed
/// big-endian into words ([`committed_chunk`]). For 8-bit inputs this is
/// [`statement::commitment_of_values`]'s message.
pub fn commitment_message(values: &[i64], limbs: u32, salt: Fr) -> Vec<Fr> {
    let base = Fr::from(1u64 << (8 * limbs));
    let mut message = vec![salt];
    message.extend(values.chunks(committed_chunk(limbs)).map(|c| c.iter().fold(Fr::zero(), |acc, &v| acc * base + fr_from_i64(v))));
    message
}

impl GraphParams {
    /// The parameters for `graph` with `W = width` (at least [`MIN_WIDTH`]). A width above
    /// [`MAX_WIDTH`] is refused: it comes from proof files too, and every column costs memory.
    pub fn new(graph: Graph, width: usize, inputs: Visibility, outputs: Visibility) -> Result<Self, PlanError> {
        if width > MAX_WIDTH {
            return Err(PlanError::Width { width, max: MAX_WIDTH });
        }
        if matches!(inputs, Visibility::Picture) {
            return Err(PlanError::Statement("`picture` is a visibility of outputs, not of inputs".into()));
        }
        if matches!(outputs, Visibility::Committed) {
            return Err(PlanError::Statement("`committed` is a visibility of inputs; a hidden output is `hashed` or `private`".into()));
        }
        let picture = if outputs == Visibility::Picture {
            if inputs != Visibility::Committed {
                return Err(PlanError::Statement(
                    "a public picture needs committed inputs: its challenge hashes their commitment, which must fix the picture before the challenge exists".into(),
                ));
            }
            Some(picture_shape(&graph)?)
        } else {
            None
        };
        let plan = GraphPlan::new(&graph, Weights::Fixed)?;
        Ok(GraphParams { graph: Some(Arc::new(graph)), plan: Arc::new(plan), width: width.max(MIN_WIDTH), lanes: 1, accumulators: 1, inputs, outputs, picture })
    }

    /// The same parameters with the learned weights fixed or committed (re-planned: committed
    /// weights keep zero weights and size accumulators from the shape).
    pub fn with_weights(self, weights: Weights) -> Result<Self, PlanError> {
        if weights == self.weights() {
            return Ok(self);
        }
        let graph = self.graph.as_deref().ok_or_else(|| PlanError::Statement("parameters without a graph".into()))?;
        let plan = GraphPlan::new(graph, weights)?;
        Ok(GraphParams { plan: Arc::new(plan), ..self })
    }

    /// Whether the learned weights are fixed or committed.
    pub fn weights(&self) -> Weights {
        if self.plan.committed.is_some() { Weights::Committed } else { Weights::Fixed }
    }

    /// Range-column rows the committed weights take (a byte each).
    fn weight_rows(&self) -> usize {
        self.plan.committed.as_ref().map_or(0, |c| c.weights.len())
    }

    /// The mint statement for a generator at `W = width`: the latent committed, the picture
    /// public, the minter named.
    pub fn mint(graph: Graph, width: usize) -> Result<Self, PlanError> {
        GraphParams::new(graph, width, Visibility::Committed, Visibility::Picture)
    }

    /// `aux` rows 0–2 hold the minter, the salt and `γ` when the statement has any of them.
    fn reserved_aux(&self) -> usize {
        if self.inputs == Visibility::Committed || self.outputs == Visibility::Picture { 3 } else { 0 }
    }

    /// The first range row of the inputs: 16-bit inputs compose their limbs in `aux`, so they
    /// start below the reserved rows.
    fn input_start(&self) -> usize {
        if self.plan.input_limbs.contains(&2) { self.reserved_aux() } else { 0 }
    }

    /// The first row of the requantization blocks.
    pub fn range_start(&self) -> usize {
        (self.input_start() + self.plan.input_rows() + self.weight_rows()).max(self.reserved_aux())
    }

    /// Bytes of the public RGB picture.
    pub fn picture_bytes(&self) -> usize {
        self.picture.map_or(0, |(_, h, w)| h * w * 3)
    }

    /// The same parameters with `lanes` range lanes (1 to [`MAX_LANES`]; proof files name it).
    pub fn with_lanes(self, lanes: usize) -> Result<Self, PlanError> {
        if !(1..=MAX_LANES).contains(&lanes) {
            return Err(PlanError::Lanes { lanes, max: MAX_LANES });
        }
        Ok(GraphParams { lanes, ..self })
    }

    /// The same parameters with `M = accumulators` outputs a dot row (1 to
    /// [`MAX_ACCUMULATORS`]; proof files name it).
    pub fn with_accumulators(self, accumulators: usize) -> Result<Self, PlanError> {
        if !(1..=MAX_ACCUMULATORS).contains(&accumulators) {
            return Err(PlanError::Accumulators { accumulators, max: MAX_ACCUMULATORS });
        }
        Ok(GraphParams { accumulators, ..self })
    }

    /// The parameters with the dot-row width `W ∈ [5, MAX_WIDTH]`, the range lanes
    /// (`1..=MAX_LANES`) and the accumulators (`1..=MAX_ACCUMULATORS`) that give the smallest
    /// `k`: fewest lanes, then fewest advice columns, then fewest fixed ones among equals, as
    /// every column costs a commitment and every lane a lookup. Halving `k` halves
    /// the proving time; a transformer's range group is four times its dot group, so its second
    /// lane is what lowers `k`. Model proofs are verified natively or by a generated verifier
    /// of their own, so unlike the mint circuit they need not keep the mint's layout.
    pub fn auto_layout(graph: Graph, inputs: Visibility, outputs: Visibility, weights: Weights) -> Result<Self, PlanError> {
        let first = GraphParams::new(graph, MIN_WIDTH, inputs, outputs)?.with_weights(weights)?;
        // Smallest k, then fewest lanes, then fewest advice columns (what the prover commits to),
        // then fewest fixed ones.
        let cost = |p: &GraphParams, k: u32| {
            let cs = p.constraint_system();
            (k, p.lanes, cs.num_advice_columns(), cs.num_fixed_columns())
        };
        let mut best = (cost(&first, first.k()), first.clone());
        let group_lens: Vec<Vec<Vec<usize>>> = (1..=MAX_ACCUMULATORS).map(|m| first.group_lens(m)).collect();
        for lanes in 1..=MAX_LANES {
            for (accumulators, lens) in (1..=MAX_ACCUMULATORS).zip(&group_lens) {
                for width in MIN_WIDTH..=MAX_WIDTH {
                    let candidate = GraphParams { width, lanes, accumulators, ..first.clone() };
                    let k = candidate.k_grouped(lens);
                    if k > best.0 .0 {
                        continue;
                    }
                    let c = cost(&candidate, k);
                    if c < best.0 {
                        best = (c, candidate);
                    }
                }
            }
        }
        Ok(best.1)
    }

    /// The parameters laid out for `goal`: [`GraphParams::auto_layout`] for the prover, the
    /// narrowest single-lane layout for the verifier.
    pub fn layout_for(graph: Graph, inputs: Visibility, outputs: Visibility, weights: Weights, goal: Optimize) -> Result<Self, PlanError> {
        match goal {
            Optimize::Prover => GraphParams::auto_layout(graph, inputs, outputs, weights),
            Optimize::Verifier => GraphParams::new(graph, MIN_WIDTH, inputs, outputs)?.with_weights(weights),
        }
    }

    /// Where each output's range blocks (a division's or root's block, then its
    /// requantization) start: per step, per output, `(lane, row)`; each output goes to the lane
    /// with the fewest rows so far (the first among equals). Also the rows of the tallest lane.
    pub fn range_layout(&self) -> (Vec<Vec<(usize, usize)>>, usize) {
        let mut next = vec![0; self.lanes.max(1)];
        next[0] = self.range_start();
        let at = self
            .plan
            .steps
            .iter()
            .map(|step| {
                let (count, height) = step.range_blocks();
                (0..count)
                    .map(|_| {
                        let lane = (0..next.len()).min_by_key(|&l| next[l]).unwrap_or(0);
                        let row = next[lane];
                        next[lane] += height;
                        (lane, row)
                    })
                    .collect()
            })
            .collect();
        (at, next.into_iter().max().unwrap_or(0))
    }

    /// Each input then each output: its visibility, wires and bytes per value.
    fn sides(&self) -> impl Iterator<Item = (Visibility, &Vec<usize>, u32)> {
        let (i, o) = (self.inputs, self.outputs);
        let limbs = &self.plan.input_limbs;
        self.plan.inputs.iter().zip(limbs).map(move |(w, &l)| (i, w, l)).chain(self.plan.outputs.iter().map(move |w| (o, w, 1)))
    }

    /// Each input then each output: its visibility and number of values.
    pub fn inputs_outputs(&self) -> Vec<(Visibility, usize)> {
        self.sides().map(|(v, w, _)| (v, w.len())).collect()
    }

    /// Rows used by the dot group, the range group and the function tables.
    pub fn rows(&self) -> (usize, usize, usize) {
        self.rows_grouped(&self.group_lens(self.accumulators))
    }

    /// Per linear step, the sources of each dot row group at `accumulators` outputs a row
    /// (what the layout needs of [`shared_groups`], which depends on the width not at all).
    fn group_lens(&self, accumulators: usize) -> Vec<Vec<usize>> {
        let linear = self.plan.steps.iter().filter_map(|step| match step {
            Step::Linear { dots, .. } => Some(dots),
            _ => None,
        });
        linear.map(|dots| shared_groups(dots, accumulators).iter().map(|g| group_len(dots, g)).collect()).collect()
    }

    /// [`GraphParams::rows`] given the linear steps' [`GraphParams::group_lens`].
    fn rows_grouped(&self, group_lens: &[Vec<usize>]) -> (usize, usize, usize) {
        let plan = &self.plan;
        let w = self.width;
        let mut dot = if plan.constants.is_empty() { 0 } else { DotConfig::rows_for(w, plan.constants.iter().map(|_| 0)) + 1 };
        let (_, range) = self.range_layout();
        let mut linear = group_lens.iter();
        for step in &plan.steps {
            match step {
                Step::Linear { .. } => dot += DotConfig::rows_for(w, linear.next().into_iter().flatten().copied()) + 1,
                Step::Table { inputs, .. } => dot += inputs.len(),
                Step::Max { rows, .. } | Step::Mul { rows, .. } => dot += rows.len(),
                Step::Div { .. } | Step::Sqrt { .. } => {}
                Step::Inner { dots, .. } => dot += dots.iter().map(|d| InnerConfig::rows_for(w, d.len())).sum::<usize>() + 1,
            }
        }
        let chunks = |n: usize, size: usize| (0..n.div_ceil(size)).map(move |i| (n - i * size).min(size));
        for (vis, wires, limbs) in self.sides() {
            match vis {
                Visibility::Hashed => {
                    dot += DotConfig::rows_for(w, chunks(wires.len(), CHUNK_VALUES).chain([0])) + 1;
                    dot += PoseidonConfig::rows(message_len(wires.len()));
                }
                Visibility::Committed => {
                    let size = committed_chunk(limbs);
                    dot += DotConfig::rows_for(w, chunks(wires.len(), size)) + 1;
                    dot += PoseidonConfig::rows(1 + wires.len().div_ceil(size));
                }
                Visibility::Picture => {
                    let bytes = self.picture_bytes();
                    dot += DotConfig::rows_for(w, chunks(bytes, statement::CHUNK_BYTES)) + 1;
                    dot += HornerConfig::rows(bytes.div_ceil(statement::CHUNK_BYTES));
                }
                Visibility::Private | Visibility::Public => {}
            }
        }
        if let Some(c) = &plan.committed {
            let (words, biases) = (c.weights.len().div_ceil(statement::CHUNK_BYTES), c.biases.len());
            dot += biases.div_ceil(w);
            dot += DotConfig::rows_for(w, std::iter::once(0).chain(chunks(c.weights.len(), statement::CHUNK_BYTES))) + 1;
            dot += PoseidonConfig::rows(1 + words + biases);
        }
        let tables = 1 + plan.tables.iter().map(Vec::len).sum::<usize>();
        (dot, range, tables)
    }

    /// The smallest `k` that fits the circuit and its lookup tables.
    pub fn k(&self) -> u32 {
        self.k_grouped(&self.group_lens(self.accumulators))
    }

    fn k_grouped(&self, group_lens: &[Vec<usize>]) -> u32 {
        let (dot, range, tables) = self.rows_grouped(group_lens);
        k_for_rows(dot.max(range).max(tables).max(511), &self.constraint_system())
    }

    /// The constraint system this circuit configures (what key generation will see).
    pub fn constraint_system(&self) -> ConstraintSystem<Fr> {
        let mut cs = ConstraintSystem::default();
        GraphCircuit::configure_with_params(&mut cs, self.clone());
        cs
    }

    /// How many public values the statement has (`instances_of`'s length).
    pub fn num_instances(&self) -> usize {
        let minter = usize::from(self.outputs == Visibility::Picture);
        let weights = usize::from(self.plan.committed.is_some());
        minter
            + weights
            + self
                .sides()
                .map(|(vis, wires, _)| match vis {
                    Visibility::Private => 0,
                    Visibility::Public => wires.len(),
                    Visibility::Hashed | Visibility::Committed => 1,
                    // γ and the evaluation (the minter is counted above).
                    Visibility::Picture => 2,
                })
                .sum::<usize>()
    }

    /// The public values for the stored wire values of a trace; `salt` and `minter` matter
    /// only to committed inputs and pictures.
    pub fn instances_of(&self, wires: &[i64], salt: Fr, minter: &[u8; 20]) -> Vec<Fr> {
        let mut out = Vec::new();
        if self.outputs == Visibility::Picture {
            out.push(statement::address_to_fr(minter));
        }
        let mut commitment = Fr::zero();
        for (vis, ws, limbs) in self.sides() {
            let values: Vec<i64> = ws.iter().map(|&w| wires[w]).collect();
            match vis {
                Visibility::Private => {}
                Visibility::Public => out.extend(values.iter().map(|&b| fr_from_i64(b))),
                Visibility::Hashed => out.push(poseidon::hash(&hash_message(&values))),
                Visibility::Committed => {
                    commitment = poseidon::hash(&commitment_message(&values, limbs, salt));
                    out.push(commitment);
                }
                Visibility::Picture => {
                    let picture = self.picture_values(&values);
                    out.extend_from_slice(&statement::instances_of_values(minter, commitment, &picture)[2..]);
                }
            }
        }
        if let Some(c) = &self.plan.committed {
            out.push(poseidon::hash(&weight_message(c, wires)));
        }
        out
    }

    /// The public RGB picture's values from the output's stored values (CHW).
    fn picture_values<T: Copy>(&self, output: &[T]) -> Vec<T> {
        let channels = self.picture.map_or(3, |(c, _, _)| c);
        rgb_sources(output.len(), channels).into_iter().map(|i| output[i]).collect()
    }
}

/// The private part: the real input values (already checked against the graph).
#[derive(Clone, Debug)]
pub struct GraphWitness {
    pub inputs: Vec<Vec<i64>>,
    /// The salt of committed inputs.
    pub salt: Fr,
    /// The address a picture is proven for.
    pub minter: [u8; 20],
    /// A deliberate lie, for negative tests only: exists with the `test-support` feature alone,
    /// so no production build can carry one.
    #[cfg(feature = "test-support")]
    pub tamper: Option<GraphTamper>,
}

impl GraphWitness {
    /// A witness of real input values, for statements without committed inputs or a picture.
    pub fn new(inputs: Vec<Vec<i64>>) -> Self {
        GraphWitness {
            inputs,
            salt: Fr::zero(),
            minter: [0; 20],
            #[cfg(feature = "test-support")]
            tamper: None,
        }
    }

    /// A mint witness: the latent, the salt of its commitment and the minter.
    pub fn mint(latent: &[i8], salt: Fr, minter: [u8; 20]) -> Self {
        GraphWitness {
            inputs: vec![latent.iter().map(|&v| i64::from(v)).collect()],
            salt,
            minter,
            #[cfg(feature = "test-support")]
            tamper: None,
        }
    }

    /// The lie this witness carries (always none without the `test-support` feature).
    fn tamper(&self) -> Option<GraphTamper> {
        #[cfg(feature = "test-support")]
        return self.tamper;
        #[cfg(not(feature = "test-support"))]
        None
    }

    /// The public values this witness gives `params`.
    pub fn instances(&self, params: &GraphParams) -> Option<Vec<Fr>> {
        let graph = params.graph.as_deref()?;
        let trace = GraphTrace::with_tamper(&params.plan, graph, &self.inputs, self.tamper());
        Some(params.instances_of(&trace.wires, self.salt, &self.minter))
    }
}

/// The cells of a dot product over committed weights: its bias, and per term its weight, its
/// source and the source's low end.
type CommittedCells = (Wire, Vec<(Wire, Wire, i64)>);

#[derive(Clone, Debug)]
pub struct GraphCircuit {
    pub params: GraphParams,
    pub witness: Option<GraphWitness>,
}

/// The chips of one range lane, each configured for the kinds its blocks use.
#[derive(Clone, Debug)]
struct Lane {
    requant: RequantConfig,
    div: Option<DivConfig>,
    sqrt: Option<SqrtConfig>,
}

#[derive(Clone, Debug)]
pub struct GraphConfig {
    dot: DotConfig,
    lanes: Vec<Lane>,
    table: Option<TableConfig>,
    max: Option<MaxConfig>,
    mul: Option<MulConfig>,
    inner: Option<InnerConfig>,
    poseidon: Option<PoseidonConfig>,
    horner: Option<HornerConfig>,
    wide: Option<WideConfig>,
    committed: Option<CommittedDotConfig>,
    aux: Column<Advice>,
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
        let Columns { inputs, acc, range: range_col, aux, weights, bias, bits, instance, lanes: lane_columns } =
            Columns::configure(meta, params.width, params.lanes);

        let plan = &params.plan;
        let mut dot = DotConfig::configure(meta, inputs.clone(), acc, weights.clone(), bias);
        let range = RangeConfig::configure(meta, range_col, bits);
        let max = plan.has_max().then(|| MaxConfig::configure(meta, [inputs[0], inputs[1], inputs[2], inputs[3], inputs[4]], &range));
        let wide = plan.input_limbs.contains(&2).then(|| WideConfig::configure(meta, &range, aux));
        let inner_kinds = plan.inner_kinds();
        let inner = (!inner_kinds.is_empty()).then(|| InnerConfig::configure(meta, &inner_kinds, &inputs, acc, &weights));
        // Each lane gets the gates of the kinds its blocks use (a gate costs the prover over the
        // whole extended domain whether or not a lane has rows for it).
        let (at, _) = params.range_layout();
        let mut lane_ranges = vec![(range.clone(), aux)];
        lane_ranges.extend(lane_columns.iter().map(|&(r, a, b)| (range.lane(meta, r, b), a)));
        let lanes = lane_ranges
            .into_iter()
            .enumerate()
            .map(|(l, (range, aux))| {
                let (kinds, divs, sqrts) = plan.kinds_where(|s| at[s].iter().any(|&(lane, _)| lane == l));
                let div = (!divs.is_empty()).then(|| DivConfig::configure(meta, &divs, &range, aux));
                let sqrt = (!sqrts.is_empty()).then(|| SqrtConfig::configure(meta, &sqrts, &range, aux));
                let share = params.outputs != Visibility::Picture;
                Lane { requant: RequantConfig::configure(meta, &kinds, range, aux, share), div, sqrt }
            })
            .collect();
        let table = (!plan.tables.is_empty()).then(|| TableConfig::configure(meta, inputs[0], inputs[1], weights[0]));
        let mul = plan.has_mul().then(|| MulConfig::configure(meta, [inputs[0], inputs[1], inputs[2]], [weights[0], weights[1], bias]));
        let hashed = plan.committed.is_some() || [params.inputs, params.outputs].iter().any(|v| matches!(v, Visibility::Hashed | Visibility::Committed));
        // The hash and the evaluation borrow the dot group's columns (inputs, then `acc`).
        let pool: Vec<Column<Advice>> = inputs.iter().copied().chain([acc]).collect();
        let poseidon = hashed.then(|| PoseidonConfig::configure(meta, &pool, &weights));
        let horner = (params.outputs == Visibility::Picture).then(|| HornerConfig::configure(meta, &pool));
        // Committed weights: their own advice columns, created last so that circuits of fixed
        // weights keep their keys.
        let committed = plan.committed.is_some().then(|| {
            let mut advice = || {
                let c = meta.advice_column();
                meta.enable_equality(c);
                c
            };
            let weights = (0..params.width).map(|_| advice()).collect();
            let bias = advice();
            CommittedDotConfig::configure(meta, &dot, weights, bias)
        });
        // The dot rows' further accumulators, last of all: one accumulator keeps the keys.
        dot.add_accumulators(meta, params.accumulators.saturating_sub(1));
        GraphConfig { dot, lanes, table, max, mul, inner, poseidon, horner, wide, committed, aux, instance }
    }

    fn configure(_meta: &mut ConstraintSystem<Fr>) -> GraphConfig {
        unreachable!("the model circuit is configured with its parameters")
    }

    fn synthesize(&self, config: GraphConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        let range = &config.lanes[0].requant.range;
        range.load_table(&mut layouter)?;
        let plan = &self.params.plan;
        if let Some(table) = &config.table {
            table.load(&mut layouter, &plan.tables)?;
        }
        let graph = self.params.graph.as_deref();
        let trace = self.witness.as_ref().zip(graph).map(|(w, g)| GraphTrace::with_tamper(plan, g, &w.inputs, w.tamper()));
        let val = |w: usize| trace.as_ref().map_or(Value::unknown(), |t| Value::known(fr_from_i64(t.wires[w])));
        let mut wires: Vec<Option<Wire>> = vec![None; plan.wires];
        let get = |wires: &[Option<Wire>], w: usize| wires[w].ok_or(Error::Synthesis);

        let w = self.witness.as_ref();
        let tamper = w.and_then(GraphWitness::tamper);
        let minter_value = w.map_or(Value::unknown(), |w| Value::known(statement::address_to_fr(&w.minter)));
        let salt_value = w.map_or(Value::unknown(), |w| Value::known(w.salt));
        let input_start = self.params.input_start();
        // Inputs, range-checked: a byte each, or two limbs composed in `aux`; the minter and
        // the salt in `aux` rows 0 and 1 when the statement has them.
        let (minter, salt) = layouter.assign_region(
            || "inputs",
            |mut region| {
                let mut row = input_start;
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
                // Committed weights, a byte each (stored `w + 128`).
                for &w in plan.committed.as_ref().map_or(&[][..], |c| &c.weights[..]) {
                    region.assign_fixed(range.bits, row, Fr::from(8));
                    let cell = region.assign_advice(range.range, row, val(w));
                    wires[w] = Some(Wire { cell: cell.cell(), value: val(w) });
                    row += 1;
                }
                let minter = (self.params.outputs == Visibility::Picture).then(|| region.assign_advice(config.aux, 0, minter_value).cell());
                let salt = (self.params.inputs == Visibility::Committed)
                    .then(|| Wire { cell: region.assign_advice(config.aux, 1, salt_value).cell(), value: salt_value });
                Ok((minter, salt))
            },
        )?;
        let (range_at, _) = self.params.range_layout();
        let mut dot_row = 0;
        // Committed biases: free cells, fixed by the commitment they are copied into.
        if let Some(c) = &plan.committed {
            let width = config.dot.width();
            dot_row = layouter.assign_region(
                || "committed biases",
                |mut region| {
                    for (i, &b) in c.biases.iter().enumerate() {
                        let cell = region.assign_advice(config.dot.inputs[i % width], dot_row + i / width, val(b));
                        wires[b] = Some(Wire { cell: cell.cell(), value: val(b) });
                    }
                    Ok(dot_row + c.biases.len().div_ceil(width))
                },
            )?;
        }
        // Constants: dot products with no terms, `acc' = bias`.
        let jobs: Vec<DotJob> = plan.constants.iter().map(|&(_, v)| DotJob { bias: fr_from_i64(v), terms: Vec::new(), lie: Fr::zero() }).collect();
        if !jobs.is_empty() {
            let (consts, next) = layouter.assign_region(|| "constants", |mut region| config.dot.assign(&mut region, dot_row, &jobs))?;
            dot_row = next;
            for (&(w, _), c) in plan.constants.iter().zip(consts) {
                wires[w] = Some(c);
            }
        }

        for (s, step) in plan.steps.iter().enumerate() {
            let blocks = trace.as_ref().map(|t| &t.blocks[s]);
            let node = step.node();
            let name = graph.map_or_else(|| format!("node {node}"), |g| g.nodes()[node].name.clone());
            let at = &range_at[s];
            // A linear step's dot rows, grouped and their weights converted once (the floor
            // planner runs the region twice).
            let shared = match step {
                Step::Linear { dots, outputs, .. } if dots.first().is_none_or(|d| d.committed.is_none()) => {
                    let groups = shared_groups(dots, config.dot.accumulators());
                    let laid: Vec<(Vec<Wire>, Vec<SharedOutput>)> = groups
                        .iter()
                        .map(|g| {
                            let (sources, weights) = group_terms(dots, g);
                            let sources = sources.iter().map(|&i| get(&wires, i)).collect::<Result<_, Error>>()?;
                            let lie = |out: usize| match tamper {
                                Some(GraphTamper::DotResult { wire, delta }) if wire == out => fr_from_i64(delta),
                                _ => Fr::zero(),
                            };
                            let outs = g
                                .iter()
                                .zip(weights)
                                .map(|(&i, ws)| SharedOutput { bias: fr_from_i64(dots[i].bias), weights: ws.into_iter().map(fr_from_i64).collect(), lie: lie(outputs[i]) })
                                .collect();
                            Ok((sources, outs))
                        })
                        .collect::<Result<_, Error>>()?;
                    Some((groups, laid))
                }
                _ => None,
            };
            let lane = |o: usize| -> Result<(&Lane, usize), Error> {
                let &(l, row) = at.get(o).ok_or(Error::Synthesis)?;
                Ok((config.lanes.get(l).ok_or(Error::Synthesis)?, row))
            };
            dot_row = layouter.assign_region(
                || name.clone(),
                |mut region| {
                    let mut d = dot_row;
                    match step {
                        Step::Linear { dots, kind, outputs, .. } if dots.first().is_some_and(|d| d.committed.is_some()) => {
                            let chip = config.committed.as_ref().ok_or(Error::Synthesis)?;
                            let zero = get(&wires, plan.committed.as_ref().ok_or(Error::Synthesis)?.zero_weight)?;
                            let cells: Vec<CommittedCells> = dots
                                .iter()
                                .map(|dt| {
                                    let c = dt.committed.as_ref().ok_or(Error::Synthesis)?;
                                    let terms = dt.terms.iter().zip(&c.weights).map(|(&(x, _), &(wt, lo))| Ok((get(&wires, wt)?, get(&wires, x)?, lo))).collect::<Result<_, Error>>()?;
                                    Ok((get(&wires, c.bias)?, terms))
                                })
                                .collect::<Result<_, Error>>()?;
                            let jobs: Vec<CommittedJob> = cells
                                .iter()
                                .zip(outputs)
                                .map(|((bias, terms), &out)| CommittedJob {
                                    bias,
                                    terms: terms.iter().map(|(w, x, lo)| (w, x, *lo)).collect(),
                                    lie: match tamper {
                                        Some(GraphTamper::DotResult { wire, delta }) if wire == out => fr_from_i64(delta),
                                        _ => Fr::zero(),
                                    },
                                    copy_lie: match tamper {
                                        Some(GraphTamper::WeightCopy { wire, delta }) if wire == out => fr_from_i64(delta),
                                        _ => Fr::zero(),
                                    },
                                })
                                .collect();
                            let (accs, next) = chip.assign(&mut region, d, &jobs, &zero)?;
                            d = next;
                            for (o, (acc, &w)) in accs.iter().zip(outputs).enumerate() {
                                let (lane, r) = lane(o)?;
                                wires[w] = Some(lane.requant.assign(&mut region, r, *kind, acc, blocks.map(|b| &b[o]))?);
                            }
                        }
                        Step::Linear { dots, kind, outputs, .. } => {
                            let (groups, laid) = shared.as_ref().ok_or(Error::Synthesis)?;
                            let jobs: Vec<SharedJob> = laid.iter().map(|(sources, outs)| SharedJob { sources: sources.iter().collect(), outputs: outs }).collect();
                            let (results, next) = config.dot.assign_shared(&mut region, d, &jobs)?;
                            d = next;
                            let mut accs: Vec<Option<Wire>> = vec![None; dots.len()];
                            for (&i, acc) in groups.iter().flatten().zip(results) {
                                accs[i] = Some(acc);
                            }
                            for (o, (acc, &w)) in accs.iter().zip(outputs).enumerate() {
                                let (lane, r) = lane(o)?;
                                let acc = acc.ok_or(Error::Synthesis)?;
                                wires[w] = Some(lane.requant.assign(&mut region, r, *kind, &acc, blocks.map(|b| &b[o]))?);
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
                                let (lane, r) = lane(o)?;
                                wires[y] = Some(lane.requant.assign(&mut region, r, *kind, &prod, blocks.map(|b| &b[o]))?);
                            }
                        }
                        Step::Div { rows, div, kind, outputs, .. } => {
                            let cells = trace.as_ref().map(|t| &t.divisions[s]);
                            for (o, (&(a, b, _), &y)) in rows.iter().zip(outputs).enumerate() {
                                let (lane, r) = lane(o)?;
                                let chip = lane.div.as_ref().ok_or(Error::Synthesis)?;
                                let q = chip.assign(&mut region, r, *div, &get(&wires, a)?, &get(&wires, b)?, cells.map(|c| c[o]))?;
                                wires[y] = Some(lane.requant.assign(&mut region, r + div.height(), *kind, &q, blocks.map(|b| &b[o]))?);
                            }
                        }
                        Step::Inner { dots, lo, kind, outputs, .. } => {
                            let chip = config.inner.as_ref().ok_or(Error::Synthesis)?;
                            for (o, (terms, &y)) in dots.iter().zip(outputs).enumerate() {
                                let terms: Vec<(Wire, Wire)> = terms.iter().map(|&(a, b)| Ok((get(&wires, a)?, get(&wires, b)?))).collect::<Result<_, Error>>()?;
                                let lie = match tamper {
                                    Some(GraphTamper::DotResult { wire, delta }) if wire == y => fr_from_i64(delta),
                                    _ => Fr::zero(),
                                };
                                let (acc, next) = chip.assign(&mut region, d, *lo, &terms, lie)?;
                                d = next;
                                let (lane, r) = lane(o)?;
                                wires[y] = Some(lane.requant.assign(&mut region, r, *kind, &acc, blocks.map(|b| &b[o]))?);
                            }
                            d += 1;
                        }
                        Step::Sqrt { rows, sqrt, kind, outputs, .. } => {
                            let cells = trace.as_ref().map(|t| &t.roots[s]);
                            for (o, (&(a, _), &y)) in rows.iter().zip(outputs).enumerate() {
                                let (lane, r) = lane(o)?;
                                let chip = lane.sqrt.as_ref().ok_or(Error::Synthesis)?;
                                let q = chip.assign(&mut region, r, *sqrt, &get(&wires, a)?, cells.map(|c| c[o]))?;
                                wires[y] = Some(lane.requant.assign(&mut region, r + sqrt.height(), *kind, &q, blocks.map(|b| &b[o]))?);
                            }
                        }
                    }
                    Ok(d)
                },
            )?;
        }

        // The public side: the minter first when the statement has one.
        let mut row = 0;
        if let Some(minter) = minter {
            layouter.constrain_instance(minter, config.instance, row);
            row += 1;
        }
        let mut commitment_value = Value::unknown();
        for (vis, ws, limbs) in self.params.sides() {
            match vis {
                Visibility::Private => {}
                Visibility::Public => {
                    for &w in ws {
                        layouter.constrain_instance(get(&wires, w)?.cell, config.instance, row);
                        row += 1;
                    }
                }
                Visibility::Hashed | Visibility::Committed => {
                    let poseidon = config.poseidon.as_ref().ok_or(Error::Synthesis)?;
                    let values: Vec<Wire> = ws.iter().map(|&w| get(&wires, w)).collect::<Result<_, _>>()?;
                    let lie = match tamper {
                        Some(GraphTamper::PoseidonSquare { round }) => Some(round),
                        _ => None,
                    };
                    let digest = layouter.assign_region(
                        || format!("{vis} input"),
                        |mut region| {
                            let (mut message, jobs) = if vis == Visibility::Hashed {
                                let mut jobs = vec![DotJob { bias: Fr::from(values.len() as u64), terms: Vec::new(), lie: Fr::zero() }];
                                jobs.extend(values.chunks(CHUNK_VALUES).map(|chunk| DotJob {
                                    bias: Fr::zero(),
                                    terms: chunk_weights(chunk.len()).into_iter().zip(chunk.iter()).collect(),
                                    lie: Fr::zero(),
                                }));
                                (Vec::new(), jobs)
                            } else {
                                let jobs = values
                                    .chunks(committed_chunk(limbs))
                                    .map(|chunk| DotJob { bias: Fr::zero(), terms: committed_weights(chunk.len(), limbs).into_iter().zip(chunk.iter()).collect(), lie: Fr::zero() })
                                    .collect();
                                (vec![salt.ok_or(Error::Synthesis)?], jobs)
                            };
                            let (words, next) = config.dot.assign(&mut region, dot_row, &jobs)?;
                            message.extend(words);
                            let digest = poseidon.assign(&mut region, next, &message, lie)?;
                            dot_row = next + PoseidonConfig::rows(message.len());
                            Ok(digest)
                        },
                    )?;
                    if vis == Visibility::Committed {
                        commitment_value = digest.value;
                    }
                    layouter.constrain_instance(digest.cell, config.instance, row);
                    row += 1;
                }
                Visibility::Picture => {
                    let horner = config.horner.as_ref().ok_or(Error::Synthesis)?;
                    let output: Vec<Wire> = ws.iter().map(|&w| get(&wires, w)).collect::<Result<_, _>>()?;
                    let picture = self.params.picture_values(&output);
                    // The challenge hashes the picture and the commitment (the verifier
                    // recomputes it from the picture it is given); the circuit evaluates its own
                    // picture's chunks there.
                    let gamma_value = match (tamper, &trace) {
                        (Some(GraphTamper::Challenge { gamma }), _) => Value::known(gamma),
                        (_, Some(t)) => {
                            // In a tampered witness a picture "byte" may be anything; the
                            // challenge hashes its low 8 bits, as the verifier would.
                            let values: Vec<i64> = ws.iter().map(|&w| t.wires[w]).collect();
                            let bytes: Vec<u8> = self.params.picture_values(&values).into_iter().map(|v| v as u8).collect();
                            commitment_value.map(|c| statement::challenge(&bytes, c))
                        }
                        _ => Value::unknown(),
                    };
                    let lie = match tamper {
                        Some(GraphTamper::EvaluationStep { step }) => Some(step),
                        _ => None,
                    };
                    let (gamma, evaluation) = layouter.assign_region(
                        || "picture",
                        |mut region| {
                            let jobs: Vec<DotJob> = picture
                                .chunks(statement::CHUNK_BYTES)
                                .map(|chunk| DotJob { bias: Fr::zero(), terms: statement::chunk_weights(chunk.len()).into_iter().zip(chunk.iter()).collect(), lie: Fr::zero() })
                                .collect();
                            let (chunks, next) = config.dot.assign(&mut region, dot_row, &jobs)?;
                            let gamma = Wire { cell: region.assign_advice(config.aux, 2, gamma_value).cell(), value: gamma_value };
                            let evaluation = horner.assign(&mut region, next, &chunks, &gamma, lie)?;
                            dot_row = next + HornerConfig::rows(chunks.len());
                            Ok((gamma, evaluation))
                        },
                    )?;
                    layouter.constrain_instance(gamma.cell, config.instance, row);
                    layouter.constrain_instance(evaluation.cell, config.instance, row + 1);
                    row += 2;
                }
            }
        }
        // The weight commitment, the last public value: the shape word, the weight bytes
        // packed 31 to a word, the biases.
        if let Some(c) = &plan.committed {
            let poseidon = config.poseidon.as_ref().ok_or(Error::Synthesis)?;
            let weights: Vec<Wire> = c.weights.iter().map(|&w| get(&wires, w)).collect::<Result<_, _>>()?;
            let biases: Vec<Wire> = c.biases.iter().map(|&w| get(&wires, w)).collect::<Result<_, _>>()?;
            let shape = statement::pack_bytes(&c.shape[..statement::CHUNK_BYTES]);
            let digest = layouter.assign_region(
                || "weight commitment",
                |mut region| {
                    let mut jobs: Vec<DotJob> = shape.iter().map(|&word| DotJob { bias: word, terms: Vec::new(), lie: Fr::zero() }).collect();
                    jobs.extend(weights.chunks(statement::CHUNK_BYTES).map(|chunk| DotJob {
                        bias: Fr::zero(),
                        terms: statement::chunk_weights(chunk.len()).into_iter().zip(chunk.iter()).collect(),
                        lie: Fr::zero(),
                    }));
                    let (mut message, next) = config.dot.assign(&mut region, dot_row, &jobs)?;
                    message.extend(biases.iter().copied());
                    let lie = match tamper {
                        Some(GraphTamper::PoseidonSquare { round }) => Some(round),
                        _ => None,
                    };
                    let digest = poseidon.assign(&mut region, next, &message, lie)?;
                    dot_row = next + PoseidonConfig::rows(message.len());
                    Ok(digest)
                },
            )?;
            layouter.constrain_instance(digest.cell, config.instance, row);
        }
        Ok(())
    }
}
