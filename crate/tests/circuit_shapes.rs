//! Circuit shapes the committed generator does not exercise: a requantization block tall
//! enough to raise halo2's blinding rows, and a one-channel (grey) generator.

mod common;

use common::{reshape, tensor};
use halo2_proofs::dev::MockProver;
use halo2_proofs::halo2curves::bn256::Fr;
use section9::circuit::graph::{GraphCircuit, GraphParams, GraphWitness};
use section9::circuit::graph_plan::Step;
use section9::circuit::{statement, DEFAULT_WIDTH};
use section9::graph::{Geometry, Graph, Node, Op};
use section9::Generator;

const MINTER: [u8; 20] = [0x5e; 20];

fn params(model: &Generator) -> GraphParams {
    GraphParams::mint(model.graph().clone(), DEFAULT_WIDTH).unwrap()
}

/// MockProver on the model with the public inputs the prover states (from the reference
/// picture, RGB).
fn mock(model: &Generator, latent: &[i8]) -> Result<(), String> {
    let params = params(model);
    let salt = Fr::from(9);
    let picture = model.picture(latent).map_err(|e| e.to_string())?;
    let instances = statement::instances(&MINTER, statement::commitment(latent, salt), &picture.rgb);
    let circuit = GraphCircuit { params: params.clone(), witness: Some(GraphWitness::mint(latent, salt, MINTER)) };
    let prover = MockProver::run(params.k(), &circuit, vec![instances]).map_err(|e| format!("synthesis at k = {}: {e:?}", params.k()))?;
    prover.verify().map_err(|fs| format!("{} failures, first: {}", fs.len(), fs[0]))
}

fn weights(n: usize, seed: i64) -> Vec<i64> {
    (0..n as i64).map(|i| (i * 37 + seed * 11) % 200 - 100).collect()
}

/// A linear node.
fn linear(name: &str, geometry: Geometry, weights: Vec<i64>, bias: Vec<i64>, shift: u32, input: usize, output: usize) -> Node {
    Node { name: name.into(), op: Op::Linear { geometry, weights, bias, shift }, inputs: vec![input], output }
}

/// latent `l` → dense `n` with shift 40 and a narrow clamp [0, 100] (a 10-row requantization
/// block: 5 remainder limbs, the output, a distance limb, two flags, the upper bound) →
/// ConvTranspose 1×1 to a 3-channel 1×1 picture.
fn tall(l: usize, n: usize) -> Generator {
    let tensors = vec![
        tensor("z", &[1, l], 7, -128, 127),
        tensor("tall", &[1, n], 0, 0, 100),
        tensor("tall4", &[1, n, 1, 1], 0, 0, 100),
        tensor("picture", &[1, 3, 1, 1], 0, -128, 127),
    ];
    let dense = Geometry::Dense { rows: 1, inputs: l, outputs: n, row_bias: false };
    let out = Geometry::ConvTranspose { input: [n, 1, 1], output: [3, 1, 1], kernel: [1, 1], stride: [1, 1], pad: [0, 0], dilation: [1, 1], groups: 1 };
    let nodes = vec![
        // Frac bits 7 (latent) + 33 (weights) - 0 (output): shift 40.
        linear("tall", dense, weights(l * n, 1), (0..n as i64).map(|i| (i % 2) << 39).collect(), 40, 0, 1),
        reshape("reshape", 1, 2, n),
        // 0 + 1 - 0: shift 1.
        linear("out", out, weights(3 * n, 2), vec![1, -2, 3], 1, 2, 3),
    ];
    Generator::new(Graph::new(tensors, vec![0], vec![3], nodes).unwrap()).unwrap()
}

#[test]
fn the_tall_block_is_ten_rows() {
    let params = params(&tall(4, 90));
    let Step::Linear { kind, .. } = &params.plan.steps[0] else { panic!("step 0 is the dense node") };
    assert_eq!((kind.shift, kind.lo, kind.hi, kind.rem_limbs), (40, 0, 100, 5));
    assert_eq!(kind.height(), 10);
}

#[test]
fn k_reserves_the_blinding_rows_of_the_constraint_system() {
    // Find a height of the range column that fits 2^k with 10 rows kept (the old constant)
    // but not with the `blinding_factors() + 1` the tall block makes halo2 keep.
    // The range column holds the latent, then 10 rows per dense output: both sizes vary.
    let sizes = (4..14).flat_map(|l| (90..110).map(move |n| (l, n)));
    let found = sizes.into_iter().find_map(|(l, n)| {
        let params = params(&tall(l, n));
        let (dot, range, tables) = params.rows();
        let used = dot.max(range).max(tables).max(511);
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

/// A grey generator: latent 4 → dense 3·s·s (ReLU) → [3, s, s] → ConvT 4×4/2 → [1, 2s, 2s]
/// int8. With s = 3, 36 grey values: a multiple of 3, which the circuit once mistook for RGB.
fn grey(side_in: usize) -> Generator {
    let c = 3 * side_in * side_in;
    let side_out = 2 * side_in;
    let tensors = vec![
        tensor("z", &[1, 4], 7, -128, 127),
        tensor("dense", &[1, c], 6, 0, 255),
        tensor("dense4", &[1, 3, side_in, side_in], 6, 0, 255),
        tensor("picture", &[1, 1, side_out, side_out], 7, -128, 127),
    ];
    let dense = Geometry::Dense { rows: 1, inputs: 4, outputs: c, row_bias: false };
    let up = Geometry::ConvTranspose {
        input: [3, side_in, side_in],
        output: [1, side_out, side_out],
        kernel: [4, 4],
        stride: [2, 2],
        pad: [1, 1],
        dilation: [1, 1],
        groups: 1,
    };
    let nodes = vec![
        // Frac bits 7 + 6 - 6: shift 7.
        linear("dense", dense, weights(4 * c, 3), (0..c as i64).map(|i| (i - 6) * 900).collect(), 7, 0, 1),
        reshape("reshape", 1, 2, c),
        // 6 + 5 - 7: shift 4.
        linear("up", up, weights(3 * 16, 4), vec![-300], 4, 2, 3),
    ];
    Generator::new(Graph::new(tensors, vec![0], vec![3], nodes).unwrap()).unwrap()
}

#[test]
fn a_grey_generator_proves_its_rgb_picture() {
    for side_in in [2, 3] {
        // 4×4 = 16 grey values (not a multiple of 3) and 6×6 = 36 (a multiple of 3).
        let model = grey(side_in);
        assert_eq!(model.shape().0, 1);
        let params = params(&model);
        assert_eq!(params.picture, Some((1, 2 * side_in, 2 * side_in)));
        assert_eq!(params.picture_bytes(), 3 * 4 * side_in * side_in);
        let latent = [-128, 5, 90, 127];
        let picture = model.picture(&latent).unwrap();
        assert_eq!(picture.rgb.len(), params.picture_bytes());
        assert!(picture.rgb.chunks(3).all(|p| p[0] == p[1] && p[1] == p[2]), "grey in R, G and B");
        mock(&model, &latent).unwrap_or_else(|e| panic!("{}×{} grey: {e}", 2 * side_in, 2 * side_in));
    }
}

#[test]
fn a_grey_picture_with_one_changed_channel_fails() {
    let model = grey(3);
    let latent = [1, -2, 3, -4];
    let params = params(&model);
    let salt = Fr::from(9);
    let mut rgb = model.picture(&latent).unwrap().rgb;
    rgb[1] ^= 1; // the green of pixel 0 no longer equals its grey value
    let instances = statement::instances(&MINTER, statement::commitment(&latent, salt), &rgb);
    let circuit = GraphCircuit { params: params.clone(), witness: Some(GraphWitness::mint(&latent, salt, MINTER)) };
    let failures = MockProver::run(params.k(), &circuit, vec![instances]).unwrap().verify().expect_err("a picture the model did not make");
    // The circuit's own (grey) picture hashes to another challenge and evaluates to another
    // value: the copies of γ (instance row 2, `aux`) and of the evaluation (row 3) fail, both
    // ends each, and nothing else.
    let failures: Vec<String> = failures.iter().map(|f| f.to_string()).collect();
    assert_eq!(failures.len(), 4, "{failures:#?}");
    assert!(failures.iter().all(|f| f.contains("Equality constraint not satisfied")), "{failures:#?}");
    for row in [2, 3] {
        let instance = format!("Column('Instance', 0 - ), outside any region, on row {row})");
        assert!(failures.iter().any(|f| f.contains(&instance)), "no failure at instance row {row}: {failures:#?}");
    }
    assert!(failures.iter().any(|f| f.contains("Column('Advice', 7")), "the challenge's cell in aux: {failures:#?}");
}

/// Division and square root on hand-built graphs: `x / clamp(2x, 1, hi)` with an 8-bit and a
/// 16-bit divisor and `√clamp(x, 0, 255)`: the blocks are as tall as the chips' module docs say
/// (division `max(3, 2·L)`, root `max(2, 2·L)` rows before the requantization of the result),
/// and the circuit's outputs are the integer reference's under MockProver.
#[test]
fn division_and_square_root_blocks_have_their_documented_heights() {
    use section9::circuit::graph::Visibility;
    use section9::circuit::graph_plan::GraphTrace;
    let sum = |weight: i64, shift: u32, input: usize, output: usize| Node {
        name: format!("sum{output}"),
        op: Op::Linear { geometry: Geometry::Sum { operands: 1, len: 4 }, weights: vec![weight], bias: vec![0], shift },
        inputs: vec![input],
        output,
    };
    for (divisor_hi, div_height) in [(255, 3), (65535, 4)] {
        let tensors = vec![
            tensor("x", &[1, 4], 4, -128, 127),
            tensor("divisor", &[1, 4], 4, 1, divisor_hi),
            tensor("quotient", &[1, 4], 6, -128, 127),
            tensor("radicand", &[1, 4], 4, 0, 255),
            tensor("root", &[1, 4], 3, 0, 255),
        ];
        let nodes = vec![
            sum(4, 1, 0, 1),
            // 2^-4 x / 2^-4 d at 2^-6: shift 6.
            Node { name: "div".into(), op: Op::Div { shift: 6 }, inputs: vec![0, 1], output: 2 },
            sum(2, 1, 0, 3),
            // √(2^-4 r) at 2^-3: √(r·2^(6 - 4)), shift 2.
            Node { name: "sqrt".into(), op: Op::Sqrt { shift: 2 }, inputs: vec![3], output: 4 },
        ];
        let graph = Graph::new(tensors, vec![0], vec![2, 4], nodes).unwrap();
        let params = GraphParams::new(graph.clone(), DEFAULT_WIDTH, Visibility::Private, Visibility::Public).unwrap();
        let heights: Vec<usize> = params
            .plan
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Div { div, .. } => Some(div.height()),
                Step::Sqrt { sqrt, .. } => Some(sqrt.height()),
                _ => None,
            })
            .collect();
        assert_eq!(heights, vec![div_height, 2], "divisor up to {divisor_hi}");
        let q = vec![vec![-128, -3, 5, 127]];
        let values = graph.run(&q).unwrap();
        let trace = GraphTrace::new(&params.plan, &graph, &q);
        for (i, &o) in graph.outputs().iter().enumerate() {
            let lo = graph.tensors()[o].lo;
            assert_eq!(trace.output(&params.plan, i), values[o].iter().map(|v| v - lo).collect::<Vec<_>>());
        }
        let instances = params.instances_of(&trace.wires, Fr::zero(), &[0; 20]);
        let circuit = GraphCircuit { params: params.clone(), witness: Some(GraphWitness::new(q)) };
        MockProver::run(params.k(), &circuit, vec![instances]).unwrap().verify().unwrap();
    }
}
