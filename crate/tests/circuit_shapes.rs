//! Circuit shapes the committed generator does not exercise: a requantization block tall
//! enough to raise halo2's blinding rows, and a one-channel (grey) generator.

use halo2_proofs::dev::MockProver;
use halo2_proofs::halo2curves::bn256::Fr;
use section9::circuit::plan::Plan;
use section9::circuit::statement;
use section9::circuit::{CircuitParams, MintCircuit, MintWitness, DEFAULT_WIDTH};
use section9::model::{InputSpec, Layer, LinearOp, QuantModel};

const MINTER: [u8; 20] = [0x5e; 20];

/// MockProver on the model with the public inputs the prover states (from the reference
/// picture, RGB).
fn mock(model: &QuantModel, latent: &[i8]) -> Result<(), String> {
    let params = CircuitParams::new(Plan::new(model), DEFAULT_WIDTH);
    let salt = Fr::from(9);
    let picture = model.picture(latent).map_err(|e| e.to_string())?;
    let instances = statement::instances(&MINTER, statement::commitment(latent, salt), &picture.rgb);
    let circuit = MintCircuit { params: params.clone(), witness: Some(MintWitness::new(latent.to_vec(), salt, MINTER)) };
    let prover = MockProver::run(params.k(), &circuit, vec![instances]).map_err(|e| format!("synthesis at k = {}: {e:?}", params.k()))?;
    prover.verify().map_err(|fs| format!("{} failures, first: {}", fs.len(), fs[0]))
}

fn weights(n: usize, seed: i64) -> Vec<i8> {
    (0..n as i64).map(|i| ((i * 37 + seed * 11) % 200 - 100) as i8).collect()
}

/// latent `l` → dense `n` with shift 40 and a narrow clamp [0, 100] (a 10-row requantization
/// block: 5 remainder limbs, the output, a distance limb, two flags, the upper bound) →
/// ConvTranspose 1×1 to a 3-channel 1×1 picture.
fn tall(l: usize, n: usize) -> QuantModel {
    let dense = Layer {
        name: "tall".into(),
        op: LinearOp::Dense { inputs: l, outputs: n },
        weights: weights(l * n, 1),
        bias: (0..n as i64).map(|i| (i % 2) << 39).collect(),
        input_frac_bits: 7,
        weight_frac_bits: 33,
        output_frac_bits: 0,
        clamp: (0, 100),
    };
    let out = Layer {
        name: "out".into(),
        op: LinearOp::ConvTranspose { input: (n, 1, 1), output: (3, 1, 1), kernel: (1, 1), stride: (1, 1), pad: (0, 0) },
        weights: weights(3 * n, 2),
        bias: vec![1, -2, 3],
        input_frac_bits: 0,
        weight_frac_bits: 1,
        output_frac_bits: 0,
        clamp: (-128, 127),
    };
    QuantModel::new(InputSpec { name: "z".into(), len: l, frac_bits: 7 }, vec![dense, out]).unwrap()
}

#[test]
fn k_reserves_the_blinding_rows_of_the_constraint_system() {
    // Find a height of the range column that fits 2^k with 10 rows kept (the old constant)
    // but not with the `blinding_factors() + 1` the tall block makes halo2 keep.
    // The range column holds the latent, then 10 rows per dense output: both sizes vary.
    let sizes = (4..14).flat_map(|l| (90..110).map(move |n| (l, n)));
    let found = sizes.into_iter().find_map(|(l, n)| {
        let params = CircuitParams::new(Plan::new(&tall(l, n)), DEFAULT_WIDTH);
        let (dot, range) = params.rows();
        let used = dot.max(range).max(511);
        let reserved = params.constraint_system().blinding_factors() + 1;
        let old_k = usize::BITS - (used + 10 - 1).leading_zeros();
        (used + reserved > 1 << old_k).then_some((l, n, used, reserved, old_k, params.k()))
    });
    let (l, n, used, reserved, old_k, k) = found.expect("a model whose rows land between the old and the true reservation");
    println!("latent {l}, {n} outputs: {used} rows used, {reserved} reserved, k = {k} (was {old_k})");
    assert!(reserved > 10, "the tall block raises the blinding rows above the old constant");
    assert_eq!(k, old_k + 1);
    assert!(used + reserved <= 1 << k);
    // Synthesis at the new k succeeds and the witness satisfies every constraint (at the old
    // k MockProver refuses: not enough rows).
    let latent: Vec<i8> = (0..l as i32).map(|i| (i * 53 % 256 - 128) as i8).collect();
    mock(&tall(l, n), &latent).unwrap();
}

/// A grey generator: latent 4 → dense 27 (ReLU) → [3, 3, 3] → ConvT 4×4/2 → [1, 6, 6] int8.
/// 36 grey values: a multiple of 3, which the circuit once mistook for RGB.
fn grey(side_in: usize) -> QuantModel {
    let c = 3 * side_in * side_in;
    let side_out = 2 * side_in;
    let dense = Layer {
        name: "dense".into(),
        op: LinearOp::Dense { inputs: 4, outputs: c },
        weights: weights(4 * c, 3),
        bias: (0..c as i64).map(|i| (i - 6) * 900).collect(),
        input_frac_bits: 7,
        weight_frac_bits: 6,
        output_frac_bits: 6,
        clamp: (0, 255),
    };
    let up = Layer {
        name: "up".into(),
        op: LinearOp::ConvTranspose { input: (3, side_in, side_in), output: (1, side_out, side_out), kernel: (4, 4), stride: (2, 2), pad: (1, 1) },
        weights: weights(3 * 16, 4),
        bias: vec![-300],
        input_frac_bits: 6,
        weight_frac_bits: 5,
        output_frac_bits: 7,
        clamp: (-128, 127),
    };
    QuantModel::new(InputSpec { name: "z".into(), len: 4, frac_bits: 7 }, vec![dense, up]).unwrap()
}

#[test]
fn a_grey_generator_proves_its_rgb_picture() {
    for side_in in [2, 3] {
        // 4×4 = 16 grey values (not a multiple of 3) and 6×6 = 36 (a multiple of 3).
        let model = grey(side_in);
        assert_eq!(model.picture_shape().0, 1);
        let plan = Plan::new(&model);
        assert_eq!((plan.channels, plan.picture_bytes()), (1, 3 * 4 * side_in * side_in));
        let latent = [-128, 5, 90, 127];
        let picture = model.picture(&latent).unwrap();
        assert!(picture.rgb.chunks(3).all(|p| p[0] == p[1] && p[1] == p[2]), "grey in R, G and B");
        mock(&model, &latent).unwrap_or_else(|e| panic!("{}×{} grey: {e}", 2 * side_in, 2 * side_in));
    }
}

#[test]
fn a_grey_picture_with_one_changed_channel_fails() {
    let model = grey(3);
    let latent = [1, -2, 3, -4];
    let params = CircuitParams::new(Plan::new(&model), DEFAULT_WIDTH);
    let salt = Fr::from(9);
    let mut rgb = model.picture(&latent).unwrap().rgb;
    rgb[1] ^= 1; // the green of pixel 0 no longer equals its grey value
    let instances = statement::instances(&MINTER, statement::commitment(&latent, salt), &rgb);
    let circuit = MintCircuit { params: params.clone(), witness: Some(MintWitness::new(latent.to_vec(), salt, MINTER)) };
    assert!(MockProver::run(params.k(), &circuit, vec![instances]).unwrap().verify().is_err());
}
