//! A sweep over the whole mint witness (and over an attention block's: inner products,
//! Softmax, LayerNorm's division and square root): every advice cell the circuit assigns is sorted into a
//! class (its column and the region it lies in), cells are sampled from every class, and each
//! sampled cell alone is changed by +1 under MockProver. Every change must be rejected: a cell
//! a cheating prover could change freely is an under-constrained circuit.
//!
//! The change is made below the circuit, by a floor planner that wraps halo2's `Assignment`:
//! no hook in the production circuit is needed, and no cell can escape the sweep by not
//! having one.

mod common;

use std::cell::RefCell;
use std::collections::BTreeMap;

use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_proofs::dev::MockProver;
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{Advice, Any, Assigned, Assignment, Challenge, Circuit, Column, ConstraintSystem, Error, FloorPlanner, Fixed, Instance, Selector};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use section9::circuit::graph::{GraphCircuit, GraphConfig, GraphParams, GraphWitness};
use section9::circuit::{statement, DEFAULT_WIDTH};

/// What the wrapper does to advice assignments: record where they go, or change one.
#[derive(Default)]
struct Sweep {
    region: String,
    /// (column, row) → region name, of every advice assignment.
    cells: BTreeMap<(usize, usize), String>,
    target: Option<(usize, usize)>,
}

thread_local! {
    static SWEEP: RefCell<Sweep> = RefCell::new(Sweep::default());
}

/// halo2's `Assignment`, forwarded, with the advice cell under test changed by +1.
struct Tampering<'a, CS>(&'a mut CS);

impl<'a, F: Field, CS: Assignment<F>> Assignment<F> for Tampering<'a, CS> {
    fn enter_region<NR: Into<String>, N: FnOnce() -> NR>(&mut self, name: N) {
        let name: String = name().into();
        SWEEP.with(|s| s.borrow_mut().region = name.clone());
        self.0.enter_region(|| name)
    }
    fn annotate_column<A: FnOnce() -> AR, AR: Into<String>>(&mut self, annotation: A, column: Column<Any>) {
        self.0.annotate_column(annotation, column)
    }
    fn exit_region(&mut self) {
        self.0.exit_region()
    }
    fn enable_selector<A: FnOnce() -> AR, AR: Into<String>>(&mut self, annotation: A, selector: &Selector, row: usize) -> Result<(), Error> {
        self.0.enable_selector(annotation, selector, row)
    }
    fn query_instance(&self, column: Column<Instance>, row: usize) -> Result<Value<F>, Error> {
        self.0.query_instance(column, row)
    }
    fn assign_advice<'v>(&mut self, column: Column<Advice>, row: usize, to: Value<Assigned<F>>) -> Value<&'v Assigned<F>> {
        let hit = SWEEP.with(|s| {
            let mut s = s.borrow_mut();
            let region = s.region.clone();
            s.cells.insert((column.index(), row), region);
            s.target == Some((column.index(), row))
        });
        let to = if hit { to.map(|v| v + Assigned::from(F::ONE)) } else { to };
        self.0.assign_advice(column, row, to)
    }
    fn assign_fixed(&mut self, column: Column<Fixed>, row: usize, to: Assigned<F>) {
        self.0.assign_fixed(column, row, to)
    }
    fn copy(&mut self, left_column: Column<Any>, left_row: usize, right_column: Column<Any>, right_row: usize) {
        self.0.copy(left_column, left_row, right_column, right_row)
    }
    fn fill_from_row(&mut self, column: Column<Fixed>, row: usize, to: Value<Assigned<F>>) -> Result<(), Error> {
        self.0.fill_from_row(column, row, to)
    }
    fn get_challenge(&self, challenge: Challenge) -> Value<F> {
        self.0.get_challenge(challenge)
    }
    fn push_namespace<NR: Into<String>, N: FnOnce() -> NR>(&mut self, name: N) {
        self.0.push_namespace(name)
    }
    fn pop_namespace(&mut self, gadget_name: Option<String>) {
        self.0.pop_namespace(gadget_name)
    }
    fn next_phase(&mut self) {
        self.0.next_phase()
    }
}

struct TamperingPlanner;

impl FloorPlanner for TamperingPlanner {
    fn synthesize<F: Field, CS: Assignment<F> + halo2_proofs::circuit::layouter::SyncDeps, C: Circuit<F>>(cs: &mut CS, circuit: &C, config: C::Config, constants: Vec<Column<Fixed>>) -> Result<(), Error> {
        SimpleFloorPlanner::synthesize(&mut Tampering(cs), circuit, config, constants)
    }
}

/// The mint circuit, laid out through [`TamperingPlanner`].
#[derive(Clone)]
struct Swept(GraphCircuit);

impl Circuit<Fr> for Swept {
    type Config = GraphConfig;
    type FloorPlanner = TamperingPlanner;
    type Params = GraphParams;

    fn without_witnesses(&self) -> Self {
        Swept(self.0.without_witnesses())
    }
    fn params(&self) -> GraphParams {
        self.0.params()
    }
    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, params: GraphParams) -> GraphConfig {
        GraphCircuit::configure_with_params(meta, params)
    }
    fn configure(_meta: &mut ConstraintSystem<Fr>) -> GraphConfig {
        unreachable!("configured with its parameters")
    }
    fn synthesize(&self, config: GraphConfig, layouter: impl Layouter<Fr>) -> Result<(), Error> {
        self.0.synthesize(config, layouter)
    }
}

/// Cells sampled per class (all of a class when it has fewer).
const PER_CLASS: usize = 12;

/// A tampered cell (column, row) whose change verified, and its region.
type Accepted = ((usize, usize), String);

/// Lays out `circuit` honestly (recording every advice cell), then changes sampled cells one at
/// a time (`per_class` of each column × region class) by +1; returns the number of advice
/// columns touched and the cells whose change still verified, with their regions.
fn sweep(circuit: Swept, k: u32, instances: Vec<Fr>, per_class: usize, what: &str) -> (usize, Vec<Accepted>) {
    let run = |target: Option<(usize, usize)>| {
        SWEEP.with(|s| *s.borrow_mut() = Sweep { target, ..Sweep::default() });
        MockProver::run(k, &circuit, vec![instances.clone()]).unwrap().verify()
    };

    // The honest witness, recording every advice cell.
    run(None).unwrap();
    let cells = SWEEP.with(|s| std::mem::take(&mut s.borrow_mut().cells));
    let mut classes: BTreeMap<(usize, String), Vec<(usize, usize)>> = BTreeMap::new();
    for (&(column, row), region) in &cells {
        classes.entry((column, region.clone())).or_default().push((column, row));
    }
    let columns: std::collections::BTreeSet<usize> = cells.keys().map(|&(c, _)| c).collect();

    // Sample each class and tamper each sampled cell alone.
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut tampered = 0;
    let mut accepted = Vec::new();
    for ((_, region), members) in &classes {
        let mut picks: Vec<(usize, usize)> = members.clone();
        while picks.len() > per_class {
            picks.swap_remove(rng.next_u32() as usize % picks.len());
        }
        for cell in picks {
            tampered += 1;
            if run(Some(cell)).is_ok() {
                accepted.push((cell, region.clone()));
            }
        }
    }
    println!(
        "tamper sweep ({what}): {} advice cells in {} columns and {} classes (column × region); {tampered} sampled cells tampered, {} accepted",
        cells.len(),
        columns.len(),
        classes.len(),
        accepted.len()
    );
    (columns.len(), accepted)
}

/// Sweeps the tiny generator's mint witness laid out by `layout` (from the default layout):
/// the advice columns swept and the tampered cells accepted.
fn sweep_tiny_mint(layout: impl FnOnce(GraphParams) -> GraphParams, what: &str) -> (usize, Vec<Accepted>) {
    let model = common::fixed_tiny();
    let latent = [-128i8, 5, 90, 127];
    let minter = [0x42; 20];
    let salt = Fr::from(77);
    let params = layout(GraphParams::mint(model.graph().clone(), DEFAULT_WIDTH).unwrap());
    let k = params.k();
    let picture = model.picture(&latent).unwrap();
    let instances = statement::instances(&minter, statement::commitment(&latent, salt), &picture.rgb);
    let circuit = Swept(GraphCircuit { params, witness: Some(GraphWitness::mint(&latent, salt, minter)) });
    sweep(circuit, k, instances, PER_CLASS, what)
}

#[test]
fn every_sampled_advice_cell_of_the_mint_witness_is_constrained() {
    // A small generator with every part of the mint circuit: latent 4 → dense 12 (ReLU, some
    // outputs clamped low and high) → [3, 2, 2] → ConvT 4×4/2 → [3, 4, 4] int8.
    let (columns, accepted) = sweep_tiny_mint(|p| p, "mint");
    assert!(accepted.is_empty(), "under-constrained cells (column, row) and region: {accepted:?}");
    assert_eq!(columns, DEFAULT_WIDTH + 3, "every advice column (W inputs, acc, range, aux) was swept");
}

#[test]
fn every_sampled_advice_cell_of_a_mint_witness_with_shared_dot_rows_is_constrained() {
    // The tiny generator's dense layer shares rows three outputs at a time (its 12 outputs
    // read the same 4 inputs), and so do its transposed convolution's channels at each
    // position; two range lanes.
    let (columns, accepted) = sweep_tiny_mint(|p| p.with_lanes(2).unwrap().with_accumulators(3).unwrap(), "mint, 3 accumulators");
    assert!(accepted.is_empty(), "under-constrained cells (column, row) and region: {accepted:?}");
    assert_eq!(columns, DEFAULT_WIDTH + 3 + 2 + 2, "every advice column (W inputs, acc, range, aux, a second lane's two, two more accumulators) was swept");
}

/// A transformer block's witness: one attention head (inner products, Softmax's exp table and
/// division) and a LayerNorm (mean, variance, square root, division), 16-bit activations.
#[test]
fn every_sampled_advice_cell_of_an_attention_block_witness_is_constrained() {
    use common::onnx::{af, ai, Builder};
    use section9::circuit::graph::Visibility;
    use section9::circuit::graph_plan::GraphTrace;
    use section9::graph::import::import;
    use section9::graph::quantize::{quantize, Options};

    let mut b = Builder::new(31);
    b.opset = 17;
    let x = b.input("x", &[1, 4, 4]);
    let h = common::onnx::attention_head(&mut b, &x, 4);
    let (g, beta) = (b.random(&[4], 1.0), b.random(&[4], 0.5));
    let y = b.node("LayerNormalization", &[&h, &g, &beta], vec![ai("axis", -1), af("epsilon", 1e-5)]);
    let imported = import(&b.finish(&[&y])).unwrap();
    let mut rng = Builder::new(32);
    let samples: Vec<Vec<Vec<f64>>> = (0..8).map(|_| vec![(0..16).map(|_| f64::from(rng.uniform())).collect()]).collect();
    let (graph, _) = quantize(&imported.graph, &samples, &Options::accurate(), &imported.hints).unwrap();
    let inputs = graph.quantize_inputs(&samples[0]).unwrap();
    let params = GraphParams::new(graph.clone(), DEFAULT_WIDTH, Visibility::Private, Visibility::Public).unwrap();
    let trace = GraphTrace::new(&params.plan, &graph, &inputs);
    let instances = params.instances_of(&trace.wires, Fr::zero(), &[0; 20]);
    let k = params.k();
    let circuit = Swept(GraphCircuit { params, witness: Some(GraphWitness::new(inputs)) });
    let (columns, accepted) = sweep(circuit, k, instances, 6, "attention block");
    assert!(accepted.is_empty(), "under-constrained cells (column, row) and region: {accepted:?}");
    assert_eq!(columns, DEFAULT_WIDTH + 3, "every advice column (W inputs, acc, range, aux) was swept");
}

/// The mint witness with the generator's weights committed: the weight bytes, the bias cells,
/// the committed dot rows (weights, biases, padding copies) and the weight commitment's hash.
#[test]
fn every_sampled_advice_cell_of_a_committed_weights_mint_witness_is_constrained() {
    use section9::circuit::graph::{weight_commitment, Weights};
    let model = common::fixed_tiny();
    let latent = [-128i8, 5, 90, 127];
    let minter = [0x42; 20];
    let salt = Fr::from(77);
    let params = GraphParams::mint(model.graph().clone(), DEFAULT_WIDTH).unwrap().with_weights(Weights::Committed).unwrap();
    let k = params.k();
    let picture = model.picture(&latent).unwrap();
    let mut instances = statement::instances(&minter, statement::commitment(&latent, salt), &picture.rgb);
    instances.push(weight_commitment(model.graph()).unwrap());
    let circuit = Swept(GraphCircuit { params, witness: Some(GraphWitness::mint(&latent, salt, minter)) });
    let (columns, accepted) = sweep(circuit, k, instances, 8, "committed weights");
    assert!(accepted.is_empty(), "under-constrained cells (column, row) and region: {accepted:?}");
    assert_eq!(columns, 2 * DEFAULT_WIDTH + 4, "every advice column (W inputs, acc, range, aux, W weights, bias) was swept");
}
