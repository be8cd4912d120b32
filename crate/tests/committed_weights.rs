//! Committed weights: the learned weights and biases are private witnesses behind a public
//! Poseidon commitment (the last public value). MockProver runs of the mint statement on the
//! tiny generator, one negative test per way a prover could use weights other than the
//! committed ones (each names its exact failure), the commitment's inputs, and real keys: one
//! verifying key for every model of a shape, a proof checked from the shape alone.

mod common;

use common::{fixed_tiny, linear_outputs, tiny_generator};
use halo2_proofs::dev::MockProver;
use halo2_proofs::halo2curves::bn256::Fr;
use rand_chacha::rand_core::SeedableRng;
use section9::circuit::graph::{weight_commitment, GraphCircuit, GraphParams, GraphWitness, Visibility, Weights};
use section9::circuit::graph_plan::{shape, shape_id, GraphTamper, PlanError, Step, WEIGHT_LO};
use section9::circuit::{statement, DEFAULT_WIDTH};
use section9::graph::{Graph, Op};
use section9::Generator;

const MINTER: [u8; 20] = [0xab; 20];
const LATENT: [i8; 4] = [-128, 5, 90, 127];

fn committed(model: &Generator) -> GraphParams {
    GraphParams::mint(model.graph().clone(), DEFAULT_WIDTH).unwrap().with_weights(Weights::Committed).unwrap()
}

/// The tiny generator with other weights and biases of the same shape.
fn other_tiny() -> Generator {
    let w1 = (0..48).map(|i| (i * 11 % 200) as i64 - 90).collect();
    let b1 = (0..12).map(|i| (i as i64 - 3) * 700).collect();
    let w2 = (0..144).map(|i| (i * 29 % 180) as i64 - 95).collect();
    tiny_generator(4, 3, 2, w1, b1, w2, vec![100, -200, 0])
}

/// The public values the artist registered: the mint statement of the honest model, then the
/// commitment to its weights (computed from the graph, independently of any trace).
fn registered(model: &Generator) -> Vec<Fr> {
    let picture = model.picture(&LATENT).unwrap();
    let mut instances = statement::instances(&MINTER, statement::commitment(&LATENT, Fr::from(42)), &picture.rgb);
    instances.push(weight_commitment(model.graph()).unwrap());
    instances
}

fn mock(params: GraphParams, instances: Vec<Fr>, tamper: Option<GraphTamper>) -> Result<(), Vec<String>> {
    let k = params.k();
    let mut witness = GraphWitness::mint(&LATENT, Fr::from(42), MINTER);
    witness.tamper = tamper;
    let circuit = GraphCircuit { params, witness: Some(witness) };
    MockProver::run(k, &circuit, vec![instances]).unwrap().verify().map_err(|fs| fs.iter().map(|f| f.to_string()).collect())
}

/// The public values a tampered witness itself implies (so that only the lie fails).
fn implied(params: &GraphParams, tamper: GraphTamper) -> Vec<Fr> {
    let mut witness = GraphWitness::mint(&LATENT, Fr::from(42), MINTER);
    witness.tamper = Some(tamper);
    witness.instances(params).unwrap()
}

// Advice columns with W = 5: inputs 0–4, acc 5, range 6, aux 7, then the committed dot's
// weights 8–12 and bias 13.
const FIRST_WEIGHT: &str = "Column('Advice', 8 ";
const LAST_INSTANCE: &str = "Column('Instance', 0 - ), outside any region, on row 4)";

/// Exactly one broken copy: both ends of it are reported (the changed cell and its neighbour in
/// the weight's copy cycle: another use, or the committed cell), the first naming `cell`, and
/// nothing else fails.
fn assert_one_copy_fails(result: Result<(), Vec<String>>, cell: &str) {
    let failures = result.expect_err("the tampered witness must not verify");
    assert_eq!(failures.len(), 2, "{failures:#?}");
    assert!(failures.iter().all(|f| f.contains("Equality constraint not satisfied")), "{failures:#?}");
    assert!(failures.iter().any(|f| f.contains(cell)), "no failure naming {cell}: {failures:#?}");
}

/// The row of the first dot row of output `o` of linear step `l` (a single-row output each in
/// the dense layer: 4 terms; the transposed convolution's outputs take 4 taps per channel).
fn first_weight_cell(params: &GraphParams, step: usize, o: usize) -> String {
    let biases = params.plan.committed.as_ref().unwrap().biases.len().div_ceil(DEFAULT_WIDTH);
    let constants = params.plan.constants.len() + 1;
    let mut row = biases + constants;
    for (s, st) in params.plan.steps.iter().enumerate() {
        if let Step::Linear { dots, .. } = st {
            let rows = |d: &section9::circuit::graph_plan::Dot| d.terms.len().div_ceil(DEFAULT_WIDTH).max(1);
            if s == step {
                row += dots[..o].iter().map(rows).sum::<usize>();
                break;
            }
            row += dots.iter().map(rows).sum::<usize>() + 1;
        }
    }
    format!("{FIRST_WEIGHT}- ), outside any region, on row {row})")
}

#[test]
fn the_committed_generator_is_satisfied_with_its_registered_commitment() {
    let model = fixed_tiny();
    let params = committed(&model);
    assert_eq!(params.num_instances(), statement::INSTANCES + 1);
    let instances = registered(&model);
    assert_eq!(GraphWitness::mint(&LATENT, Fr::from(42), MINTER).instances(&params).unwrap(), instances);
    assert_eq!(mock(params, instances, None), Ok(()));
    // The same model with the other weights proves its own commitment.
    let other = other_tiny();
    assert_eq!(mock(committed(&other), registered(&other), None), Ok(()));
}

#[test]
fn a_proof_with_other_weights_fails_against_the_registered_commitment() {
    // Another model of the same shape: its picture, the first model's commitment.
    let (model, other) = (fixed_tiny(), other_tiny());
    let mut instances = registered(&other);
    instances[4] = weight_commitment(model.graph()).unwrap();
    assert_ne!(instances[4], registered(&other)[4]);
    let failures = mock(committed(&other), instances, None).unwrap_err();
    assert_eq!(failures.len(), 2, "{failures:#?}");
    assert!(failures.iter().any(|f| f.contains(LAST_INSTANCE)), "{failures:#?}");
    // The other end: the digest, the Poseidon state's word 0.
    assert!(failures.iter().any(|f| f.contains("Column('Advice', 0 - )")), "{failures:#?}");
}

#[test]
fn a_weight_changed_after_commitment_fails_the_commitment() {
    // The committed cell of weight 7 one higher, every use of it honest: the picture changes
    // and so does the hash, which no longer matches the registered commitment.
    let model = fixed_tiny();
    let params = committed(&model);
    let wire = params.plan.committed.as_ref().unwrap().weights[7];
    let mut instances = implied(&params, GraphTamper::Wire { wire, delta: 1 });
    let registered = registered(&model);
    assert_ne!(instances[4], registered[4], "the hash covers the weight");
    instances[4] = registered[4];
    let failures = mock(params, instances, Some(GraphTamper::Wire { wire, delta: 1 })).unwrap_err();
    assert_eq!(failures.len(), 2, "{failures:#?}");
    assert!(failures.iter().any(|f| f.contains(LAST_INSTANCE)), "{failures:#?}");
}

#[test]
fn a_bias_changed_after_commitment_fails_the_commitment() {
    let model = fixed_tiny();
    let params = committed(&model);
    let wire = params.plan.committed.as_ref().unwrap().biases[2];
    let tamper = GraphTamper::Wire { wire, delta: -1 };
    let mut instances = implied(&params, tamper);
    instances[4] = registered(&model)[4];
    let failures = mock(params, instances, Some(tamper)).unwrap_err();
    assert_eq!(failures.len(), 2, "{failures:#?}");
    assert!(failures.iter().any(|f| f.contains(LAST_INSTANCE)), "{failures:#?}");
}

#[test]
fn a_dot_row_weight_other_than_its_committed_cell_fails_the_copy() {
    let model = fixed_tiny();
    let params = committed(&model);
    let out = linear_outputs(&params)[1][5];
    let tamper = GraphTamper::WeightCopy { wire: out, delta: 1 };
    // The picture the changed product gives, the registered weight commitment: only the copy
    // from the committed cell into the dot row can fail.
    let instances = implied(&params, tamper);
    assert_eq!(instances[4], registered(&model)[4]);
    let cell = first_weight_cell(&params, 1, 5);
    assert_one_copy_fails(mock(params, instances, Some(tamper)), &cell);
}

#[test]
fn a_weight_read_from_the_wrong_position_fails_the_copy() {
    // The dot row of output 3 of the dense layer holds the weight of the next tap instead of
    // its own (as a circuit wired to the wrong weight would compute).
    let model = fixed_tiny();
    let params = committed(&model);
    let Step::Linear { dots, outputs, .. } = &params.plan.steps[0] else { panic!("step 0 is linear") };
    // The plan's dots name weight wires; their values are the committed ones.
    let c = params.plan.committed.as_ref().unwrap();
    let weight = |tap: usize| {
        let wire = dots[3].committed.as_ref().unwrap().weights[tap].0;
        c.weight_values[c.weights.iter().position(|&w| w == wire).unwrap()] + WEIGHT_LO
    };
    let (own, next) = (weight(0), weight(1));
    assert_ne!(own, next);
    let tamper = GraphTamper::WeightCopy { wire: outputs[3], delta: next - own };
    let instances = implied(&params, tamper);
    let cell = first_weight_cell(&params, 0, 3);
    assert_one_copy_fails(mock(params, instances, Some(tamper)), &cell);
}

#[test]
fn bytes_out_of_range_that_pack_to_the_committed_word_fail_the_lookup() {
    // Weight 4 one lower and weight 5 256 higher: the same 31-byte word, so the same
    // commitment, but "byte" 5 is outside [0, 256).
    let model = fixed_tiny();
    let params = committed(&model);
    let c = params.plan.committed.as_ref().unwrap();
    let tamper = GraphTamper::WeightCarry { index: 4 };
    let instances = implied(&params, tamper);
    assert_eq!(instances[4], registered(&model)[4], "the packed word is unchanged");
    let row = params.plan.input_rows() + 5;
    assert!(c.weight_values[5] + 256 > 255);
    let failures = mock(params, instances, Some(tamper)).unwrap_err();
    assert!(!failures.is_empty());
    for f in &failures {
        assert!(f.contains("Lookup range") && f.contains("'inputs'") && f.contains(&format!("at offset {row}")), "{failures:#?}");
    }
}

#[test]
fn a_wrong_committed_dot_result_fails_its_gate() {
    let model = fixed_tiny();
    let params = committed(&model);
    let out = linear_outputs(&params)[0][2];
    let tamper = GraphTamper::DotResult { wire: out, delta: 1 };
    let instances = implied(&params, tamper);
    let failures = mock(params, instances, Some(tamper)).unwrap_err();
    assert!(!failures.is_empty());
    assert!(failures.iter().all(|f| f.contains("committed dot")), "{failures:#?}");
}

#[test]
fn the_commitment_covers_the_shape_the_weights_and_the_biases() {
    let model = fixed_tiny();
    let graph = model.graph();
    let base = weight_commitment(graph).unwrap();
    assert_eq!(weight_commitment(&graph.clone()).unwrap(), base, "deterministic");
    // Every learned node's weights and biases, one value at a time.
    let tweak = |f: &dyn Fn(&mut Vec<i64>, &mut Vec<i64>)| -> Fr {
        let mut first = true;
        weight_commitment(&graph.map_learned(|w, b| {
            if std::mem::take(&mut first) {
                f(w, b)
            }
        }))
        .unwrap()
    };
    assert_ne!(tweak(&|w, _| w[0] += 1), base);
    assert_ne!(tweak(&|w, _| w[47] -= 1), base);
    assert_ne!(tweak(&|_, b| b[11] += 1), base);
    // The same weights under another architecture: the second layer's shift.
    let mut other: serde_json::Value = serde_json::from_str(&graph.to_json()).unwrap();
    let shift = other.pointer_mut("/graph/nodes/2/op/Linear/shift").expect("the transposed convolution's shift");
    *shift = serde_json::json!(5);
    let other = Graph::from_json(&other.to_string()).unwrap();
    assert_ne!(shape_id(&other), shape_id(graph));
    assert_ne!(weight_commitment(&other).unwrap(), base);
    // The shape forgets the weights and keeps its own id.
    assert_eq!(shape_id(&shape(graph)), shape_id(graph));
    assert_eq!(shape_id(other_tiny().graph()), shape_id(graph));
    assert!(shape(graph).nodes().iter().all(|n| match &n.op {
        Op::Linear { weights, bias, .. } => weights.iter().chain(bias).all(|&v| v == 0),
        _ => true,
    }));
}

#[test]
fn committed_weights_must_be_bytes_and_biases_within_the_shapes_bound() {
    let wide = tiny_generator(4, 3, 2, vec![200; 48], vec![0; 12], vec![1; 144], vec![0; 3]);
    let err = GraphParams::mint(wide.graph().clone(), DEFAULT_WIDTH).unwrap().with_weights(Weights::Committed).unwrap_err();
    assert!(matches!(&err, PlanError::Committed { node, .. } if node == "dense"), "{err}");
    assert!(err.to_string().contains("weight 200 is not a signed byte"), "{err}");
    let biased = tiny_generator(4, 3, 2, vec![1; 48], vec![1 << 30; 12], vec![1; 144], vec![0; 3]);
    let err = GraphParams::mint(biased.graph().clone(), DEFAULT_WIDTH).unwrap().with_weights(Weights::Committed).unwrap_err();
    assert!(err.to_string().contains("exceeds"), "{err}");
    // Fixed weights take both.
    assert!(GraphParams::mint(wide.graph().clone(), DEFAULT_WIDTH).is_ok());
    assert_eq!(WEIGHT_LO, -128);
}

#[test]
fn a_graph_without_learned_weights_has_nothing_to_commit() {
    let tensors = vec![common::tensor("x", &[1, 4], 7, -128, 127), common::tensor("y", &[4], 7, -128, 127)];
    let graph = Graph::new(tensors, vec![0], vec![1], vec![common::reshape("flatten", 0, 1, 4)]).unwrap();
    let params = GraphParams::new(graph, DEFAULT_WIDTH, Visibility::Private, Visibility::Public).unwrap();
    assert!(matches!(params.with_weights(Weights::Committed), Err(PlanError::NothingToCommit)));
}

/// Real keys (development SRS): the verifying key of committed weights is the shape's — the
/// same for two models and for the shape file — while fixed weights give each model its own;
/// a proof verifies with the key derived from the shape alone, and not with another commitment.
#[test]
fn one_verifying_key_serves_every_model_of_a_shape() {
    let (model, other) = (fixed_tiny(), other_tiny());
    let vk_bytes = |params: &GraphParams| {
        let srs = section9::prover::srs::dev_srs(params.k());
        let pk = section9::prover::keys::generate(&srs, params).unwrap();
        (srs, pk)
    };
    let fixed = |g: &Generator| GraphParams::mint(g.graph().clone(), DEFAULT_WIDTH).unwrap();
    let bytes = |pk: &halo2_proofs::plonk::ProvingKey<halo2_proofs::halo2curves::bn256::G1Affine>| pk.get_vk().to_bytes(halo2_proofs::SerdeFormat::RawBytes);
    let (_, a) = vk_bytes(&fixed(&model));
    let (_, b) = vk_bytes(&fixed(&other));
    assert_ne!(bytes(&a), bytes(&b), "fixed weights are in the key");

    let params = committed(&model);
    let (srs, pk) = vk_bytes(&params);
    let (_, pk_other) = vk_bytes(&committed(&other));
    let shape_params = GraphParams::mint(shape(model.graph()), DEFAULT_WIDTH).unwrap().with_weights(Weights::Committed).unwrap();
    let (_, pk_shape) = vk_bytes(&shape_params);
    assert_eq!(bytes(&pk), bytes(&pk_other));
    assert_eq!(bytes(&pk), bytes(&pk_shape));

    let witness = GraphWitness::mint(&LATENT, Fr::from(42), MINTER);
    let (instances, proof) = section9::prover::prove(&srs, &pk, &params, witness, rand_chacha::ChaCha8Rng::seed_from_u64(3)).unwrap();
    assert_eq!(instances, registered(&model));
    section9::prover::verify(&srs, pk_shape.get_vk(), &instances, &proof).expect("verifies with the shape's key");
    let mut other_commitment = instances.clone();
    other_commitment[4] = weight_commitment(other.graph()).unwrap();
    assert!(section9::prover::verify(&srs, pk_shape.get_vk(), &other_commitment, &proof).is_err());
}

#[test]
fn a_committed_plan_holds_no_weight_outside_the_committed_values() {
    // Everything the circuit lays out (steps, wires, tables) is the shape's; the weights and
    // biases appear only as the committed wires' values.
    let (model, other) = (fixed_tiny(), other_tiny());
    let plan = |g: Graph| GraphParams::mint(g, DEFAULT_WIDTH).unwrap().with_weights(Weights::Committed).unwrap().plan;
    let (a, b, s) = (plan(model.graph().clone()), plan(other.graph().clone()), plan(shape(model.graph())));
    let layout = |p: &section9::circuit::graph_plan::GraphPlan| {
        let c = p.committed.as_ref().unwrap();
        (p.wires, p.steps.clone(), p.constants.clone(), p.tables.clone(), c.weights.clone(), c.biases.clone(), c.zero_weight)
    };
    assert_eq!(layout(&a), layout(&s));
    assert_eq!(layout(&b), layout(&s));
    let values = |p: &section9::circuit::graph_plan::GraphPlan| {
        let c = p.committed.as_ref().unwrap();
        (c.weight_values.clone(), c.bias_values.clone())
    };
    assert_ne!(values(&a), values(&b));
    assert!(values(&s).0.iter().all(|&v| v == -WEIGHT_LO) && values(&s).1.iter().all(|&v| v == 0), "the shape commits zeros");
    // And the planned dots name their committed wires, not values.
    for step in &a.steps {
        if let Step::Linear { dots, .. } = step {
            for d in dots.iter().filter(|d| d.committed.is_some()) {
                assert_eq!(d.bias, 0);
                assert!(d.terms.iter().all(|&(_, w)| w == 0));
            }
        }
    }
}
