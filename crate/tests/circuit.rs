//! The mint statement (a generator's graph circuit, latent committed, picture public) under
//! halo2's MockProver: the whole committed generator, the chips on small generators, and a
//! negative test per constraint that tampers one witness and names the exact failure.

mod common;

use common::{block_row, fixed_tiny, linear_outputs, tiny_generator};
use halo2_proofs::dev::MockProver;
use halo2_proofs::halo2curves::bn256::Fr;
use proptest::prelude::*;
use section9::circuit::graph::{GraphCircuit, GraphParams, GraphWitness};
use section9::circuit::graph_plan::{GraphTamper, GraphTrace};
use section9::circuit::{statement, DEFAULT_WIDTH};
use section9::prompt::Seed;
use section9::Generator;

const MINTER: [u8; 20] = [0xab; 20];

/// Public inputs from the reference model (an independent path from the circuit's witness).
fn reference_instances(model: &Generator, latent: &[i8], salt: Fr, minter: &[u8; 20]) -> Vec<Fr> {
    // The picture as the prover states it: RGB, a grey model's value in all three channels.
    let picture = model.picture(latent).unwrap();
    statement::instances(minter, statement::commitment(latent, salt), &picture.rgb)
}

fn params(model: &Generator) -> GraphParams {
    GraphParams::mint(model.graph().clone(), DEFAULT_WIDTH).unwrap()
}

fn mock(model: &Generator, latent: &[i8], instances: Vec<Fr>, tamper: Option<GraphTamper>) -> Result<(), Vec<String>> {
    let params = params(model);
    let k = params.k();
    let mut witness = GraphWitness::mint(latent, Fr::from(42), MINTER);
    witness.tamper = tamper;
    let circuit = GraphCircuit { params, witness: Some(witness) };
    let prover = MockProver::run(k, &circuit, vec![instances]).unwrap();
    prover.verify().map_err(|fs| fs.iter().map(|f| f.to_string()).collect())
}

const TINY_LATENT: [i8; 4] = [-128, 5, 90, 127];

/// Runs the tiny generator with `tamper`, public inputs matching the tampered witness (so only
/// the lie itself fails).
fn tampered(tamper: GraphTamper) -> (GraphParams, Result<(), Vec<String>>) {
    let model = fixed_tiny();
    let params = params(&model);
    let mut witness = GraphWitness::mint(&TINY_LATENT, Fr::from(42), MINTER);
    witness.tamper = Some(tamper);
    let instances = witness.instances(&params).unwrap();
    let result = mock(&model, &TINY_LATENT, instances, Some(tamper));
    (params, result)
}

/// The honest stored values and blocks of the tiny generator.
fn honest_trace(params: &GraphParams) -> GraphTrace {
    let latent: Vec<i64> = TINY_LATENT.iter().map(|&v| i64::from(v)).collect();
    GraphTrace::new(&params.plan, params.graph.as_deref().unwrap(), &[latent])
}

/// The wire of output `o` of linear step `l`.
fn wire(params: &GraphParams, l: usize, o: usize) -> usize {
    linear_outputs(params)[l][o]
}

/// The requantization blocks of linear step `l` (the reshape between the two is free: no step).
fn blocks(trace: &GraphTrace, l: usize) -> &[section9::circuit::witness::Block] {
    &trace.blocks[l]
}

/// Asserts that there are failures and every one names all of `what`: the gate and
/// constraint (or lookup, or copy), and where (region or absolute row, column).
fn assert_fails(result: Result<(), Vec<String>>, what: &[&str]) {
    let failures = result.expect_err("the tampered witness must not verify");
    for f in &failures {
        for w in what {
            assert!(f.contains(w), "expected {w:?} in failure: {f}\nall: {failures:#?}");
        }
    }
}

// Column indices with W = 5: inputs 0–4, acc 5, range 6, aux 7. The Poseidon state and the
// Horner running value live in column 0.
const AUX: &str = "Column('Advice', 7";
const COL0: &str = "Column('Advice', 0 ";

/// Broken copies between instance rows and advice cells: both ends of each are reported, and
/// nothing else fails.
fn assert_copies_fail(result: Result<(), Vec<String>>, copies: &[(usize, &str)]) {
    let failures = result.expect_err("a wrong public input must not verify");
    assert_eq!(failures.len(), 2 * copies.len(), "{failures:#?}");
    assert!(failures.iter().all(|f| f.contains("Equality constraint not satisfied")), "{failures:#?}");
    for (row, advice) in copies {
        let instance = format!("Column('Instance', 0 - ), outside any region, on row {row})");
        assert!(failures.iter().any(|f| f.contains(&instance)), "no failure at instance row {row}: {failures:#?}");
        assert!(failures.iter().any(|f| f.contains(advice)), "no failure in {advice}: {failures:#?}");
    }
}

#[test]
fn the_tiny_generator_is_satisfied() {
    assert_eq!(DEFAULT_WIDTH, 5, "the column indices above assume W = 5");
    let model = fixed_tiny();
    let instances = reference_instances(&model, &TINY_LATENT, Fr::from(42), &MINTER);
    assert_eq!(mock(&model, &TINY_LATENT, instances, None), Ok(()));
}

#[test]
fn the_committed_generator_is_satisfied_and_matches_the_reference() {
    let model = common::gan();
    let latent = Seed([7; 32]).latent("a lighthouse at dusk", 32);
    let instances = reference_instances(&model, &latent, Fr::from(42), &MINTER);
    assert_eq!(instances.len(), statement::INSTANCES);
    assert_eq!(mock(&model, &latent, instances.clone(), None), Ok(()));
    // Claim the picture with the blue of pixel (31, 31) one higher, taking that picture's
    // public challenge: the circuit's own picture evaluates to something else there.
    let mut rgb = model.picture(&latent).unwrap().rgb;
    rgb[3071] ^= 1;
    let claimed = statement::instances(&MINTER, instances[1], &rgb);
    let tamper = GraphTamper::Challenge { gamma: claimed[2] };
    assert_copies_fail(mock(&model, &latent, claimed, Some(tamper)), &[(3, COL0)]);
}

#[test]
fn a_wrong_pixel_in_the_public_picture_fails_challenge_and_evaluation() {
    let model = fixed_tiny();
    let mut rgb = model.picture(&TINY_LATENT).unwrap().rgb;
    rgb[0] = rgb[0].wrapping_add(1);
    let instances = statement::instances(&MINTER, statement::commitment(&TINY_LATENT, Fr::from(42)), &rgb);
    assert_copies_fail(mock(&model, &TINY_LATENT, instances, None), &[(2, AUX), (3, COL0)]);
}

#[test]
fn a_wrong_running_evaluation_fails_the_horner_gate() {
    let (_, result) = tampered(GraphTamper::EvaluationStep { step: 0 });
    // The lie breaks the gate on the first step's row; the evaluation it carries to the end no
    // longer matches the public one, so that copy fails too (and nothing else).
    let failures = result.unwrap_err();
    assert_eq!(failures.len(), 3, "{failures:#?}");
    assert!(failures[0].starts_with("Constraint 0 in gate") && failures[0].contains("'horner: acc' = acc·γ + c'"), "{failures:#?}");
    assert!(failures[1..].iter().all(|f| f.contains("Equality constraint not satisfied")), "{failures:#?}");
    assert!(failures.iter().any(|f| f.contains("Column('Instance', 0 - ), outside any region, on row 3)")), "{failures:#?}");
}

#[test]
fn a_wrong_commitment_fails_the_copy() {
    let model = fixed_tiny();
    let mut instances = reference_instances(&model, &TINY_LATENT, Fr::from(42), &MINTER);
    instances[1] += Fr::one();
    assert_copies_fail(mock(&model, &TINY_LATENT, instances, None), &[(1, COL0)]);
}

#[test]
fn another_minter_fails_the_copy() {
    let model = fixed_tiny();
    let mut instances = reference_instances(&model, &TINY_LATENT, Fr::from(42), &MINTER);
    instances[0] = statement::address_to_fr(&[0xcd; 20]);
    assert_copies_fail(mock(&model, &TINY_LATENT, instances, None), &[(0, AUX)]);
}

#[test]
fn a_remainder_out_of_range_fails_the_lookup() {
    let p = params(&fixed_tiny());
    let (params, result) = tampered(GraphTamper::Remainder { wire: wire(&p, 0, 3) });
    // The remainder is the first cell of the block.
    let at = format!("at offset {}", block_row(&params, 0, 3));
    assert_fails(result, &["Lookup range", "'dense'", &at]);
}

#[test]
fn a_wrong_relu_output_fails_the_requant_gate() {
    let p = params(&fixed_tiny());
    let output = blocks(&honest_trace(&p), 0).iter().position(|b| b.y > 0 && b.y < 255).unwrap();
    let (params, result) = tampered(GraphTamper::Wire { wire: wire(&p, 0, output), delta: 1 });
    let at = format!("on row {}", block_row(&params, 0, output));
    assert_fails(result, &["unclamped: X = 2^s·(y' + lo)", "requant s=7 [0, 255]", &at]);
}

#[test]
fn a_wrong_output_pixel_fails_the_requant_gate() {
    let p = params(&fixed_tiny());
    let output = blocks(&honest_trace(&p), 1).iter().position(|b| b.y > 0 && b.y < 255).unwrap();
    let (params, result) = tampered(GraphTamper::Wire { wire: wire(&p, 1, output), delta: -1 });
    let at = format!("on row {}", block_row(&params, 1, output));
    assert_fails(result, &["unclamped", "requant s=4 [-128, 127]", &at]);
}

#[test]
fn a_false_clamp_claim_needs_a_negative_distance_and_fails_the_lookup() {
    let p = params(&fixed_tiny());
    let output = blocks(&honest_trace(&p), 0).iter().position(|b| b.y > 3 && b.y < 255).unwrap();
    let (params, result) = tampered(GraphTamper::ClampLow { wire: wire(&p, 0, output) });
    // Claiming "clamped low" for r > lo satisfies every gate only with dist = lo - r < 0, which
    // the range lookup refuses at the distance limb (after remainder and output).
    let section9::circuit::graph_plan::Step::Linear { kind, .. } = &params.plan.steps[0] else { panic!("step 0 is linear") };
    let top_dist_limb = block_row(&params, 0, output) + (kind.rem_limbs + kind.dist_limbs()) as usize;
    let at = format!("at offset {top_dist_limb}");
    assert_fails(result, &["Lookup range", "'dense'", &at]);
}

#[test]
fn a_latent_outside_int8_fails_the_lookup() {
    // Latent value 90 stored as 218; 218 + 55 = 273 is outside [0, 256).
    let (_, result) = tampered(GraphTamper::Wire { wire: 2, delta: 55 });
    assert_fails(result, &["Lookup range", "'inputs'", "at offset 2"]);
}

#[test]
fn the_native_poseidon_is_the_reference_sponge() {
    use poseidon_primitives::poseidon::primitives::{ConstantLength, Hash};
    use section9::circuit::poseidon::{hash, Section9Poseidon};
    let message = [Fr::from(7), Fr::from(1 << 40), -Fr::from(3)];
    let reference = Hash::<Fr, Section9Poseidon, ConstantLength<3>, 3, 2>::init().hash(message);
    assert_eq!(hash(&message), reference);
    let two = [Fr::from(1), Fr::from(2)];
    assert_eq!(hash(&two), Hash::<Fr, Section9Poseidon, ConstantLength<2>, 3, 2>::init().hash(two));
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 12,
        failure_persistence: Some(Box::new(prop::test_runner::FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    /// Circuit output == integer reference, bit for bit, over random models and latents.
    #[test]
    fn random_tiny_generators_prove_their_reference_output(
        w1 in prop::collection::vec(-128i64..128, 48),
        b1 in prop::collection::vec(-20_000i64..20_000, 12),
        w2 in prop::collection::vec(-128i64..128, 144),
        b2 in prop::collection::vec(-5_000i64..5_000, 3),
        latent in prop::collection::vec(any::<i8>(), 4),
        salt in any::<u64>(),
    ) {
        let model = tiny_generator(4, 3, 2, w1, b1, w2, b2);
        let instances = reference_instances(&model, &latent, Fr::from(salt), &MINTER);
        let params = params(&model);
        let circuit = GraphCircuit { params: params.clone(), witness: Some(GraphWitness::mint(&latent, Fr::from(salt), MINTER)) };
        let prover = MockProver::run(params.k(), &circuit, vec![instances]).unwrap();
        prop_assert_eq!(prover.verify(), Ok(()));
    }
}

#[test]
fn a_clamped_low_output_that_is_not_lo_fails_its_flag_constraint() {
    let p = params(&fixed_tiny());
    let output = blocks(&honest_trace(&p), 0).iter().position(|b| b.b_lo).expect("some ReLU input is negative");
    let (params, result) = tampered(GraphTamper::Wire { wire: wire(&p, 0, output), delta: 1 });
    let at = format!("on row {}", block_row(&params, 0, output));
    assert_fails(result, &["clamped: b_lo·y' + b_hi·(y' - (hi - lo)) = 0", &at]);
}

#[test]
fn a_clamped_high_output_that_is_not_hi_fails_its_flag_constraint() {
    let p = params(&fixed_tiny());
    let trace = honest_trace(&p);
    let (layer, output) = (0..2)
        .find_map(|l| blocks(&trace, l).iter().position(|b| b.b_hi).map(|o| (l, o)))
        .expect("some output saturates high");
    let (params, result) = tampered(GraphTamper::Wire { wire: wire(&p, layer, output), delta: -1 });
    let at = format!("on row {}", block_row(&params, layer, output));
    assert_fails(result, &["clamped: b_lo·y' + b_hi·(y' - (hi - lo)) = 0", &at]);
}

#[test]
fn a_wrong_dot_product_result_fails_the_dot_gate() {
    let p = params(&fixed_tiny());
    let (_, result) = tampered(GraphTamper::DotResult { wire: wire(&p, 1, 5), delta: 16 });
    assert_fails(result, &["dot next row: acc' = acc + Σ w·x"]);
}

#[test]
fn a_wrong_poseidon_square_fails_the_round_gate() {
    let model = fixed_tiny();
    let instances = reference_instances(&model, &TINY_LATENT, Fr::from(42), &MINTER);
    // Round 10 is partial. Its square no longer equals (x + c)^2 (constraint 0), and the next
    // state, computed from the true square, no longer follows from the lied one (3–5).
    let failures = mock(&model, &TINY_LATENT, instances, Some(GraphTamper::PoseidonSquare { round: 10 })).unwrap_err();
    assert!(failures.iter().any(|f| f.starts_with("Constraint 0 in gate") && f.contains("'poseidon round")), "{failures:#?}");
    let offset = failures[0].split(" at offset ").nth(1).and_then(|r| r.split_whitespace().next()).unwrap().to_string();
    for f in &failures {
        assert!(f.contains("'poseidon round") && f.contains(&format!("at offset {offset}")), "{failures:#?}");
    }
}

/// The second generator (model/sprite: nearest upsampling, convolutions, a Clip output, a
/// 16×16 grey picture), calibrated as `collection new` does: the same mint statement holds, and
/// a claimed picture one grey level off fails exactly the challenge and evaluation copies.
#[test]
fn an_upsampling_generator_with_a_grey_picture_is_a_mint_statement() {
    use section9::graph::quantize::{quantize, Options};
    let bytes = std::fs::read(common::repo_path("model/sprite/sprite.onnx")).unwrap();
    let mut imported = section9::graph::import::import(&bytes).unwrap();
    section9::generator::picture_hints(&imported.graph, &mut imported.hints);
    let samples: Vec<Vec<Vec<f64>>> = (0..8).map(|s| vec![(0..16).map(|i| ((s * 16 + i) as f64 * 0.61).sin()).collect()]).collect();
    let (graph, _) = quantize(&imported.graph, &samples, &Options::default(), &imported.hints).unwrap();
    let model = Generator::new(graph).unwrap();
    assert_eq!(model.shape(), (1, 16, 16));
    let latent = Seed([3; 32]).latent("a lantern in the fog", 16);
    let instances = reference_instances(&model, &latent, Fr::from(42), &MINTER);
    assert_eq!(mock(&model, &latent, instances.clone(), None), Ok(()));
    let mut rgb = model.picture(&latent).unwrap().rgb;
    let grey = rgb[40] ^ 1;
    rgb[39..42].copy_from_slice(&[grey; 3]);
    let claimed = statement::instances(&MINTER, instances[1], &rgb);
    assert_copies_fail(mock(&model, &latent, claimed, None), &[(2, AUX), (3, COL0)]);
}
