//! The Rust integer inference against the test vectors written by the training code's own
//! integer simulation (`model/intsim.py`): bit for bit, prompts and random latents.

mod common;

use section9::prompt::Seed;
use serde::Deserialize;

#[derive(Deserialize)]
struct Vectors {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    prompt: Option<String>,
    seed: Option<String>,
    latent: Vec<i8>,
    pixels: String,
}

fn vectors() -> Vectors {
    let text = std::fs::read_to_string(common::repo_path("tests/vectors/gan.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn prompts_and_seeds_derive_the_python_latents() {
    let cases = vectors().cases;
    let with_prompt: Vec<&Case> = cases.iter().filter(|c| c.prompt.is_some()).collect();
    assert!(with_prompt.len() >= 8, "the vectors should include prompt cases");
    for case in with_prompt {
        let prompt = case.prompt.as_deref().unwrap();
        let seed = Seed::from_hex(case.seed.as_deref().expect("a prompt case names its seed")).unwrap();
        assert_eq!(seed.latent(prompt, 32), case.latent, "prompt {prompt:?}");
    }
}

#[test]
fn integer_inference_matches_python_bit_for_bit() {
    let model = common::gan();
    let cases = vectors().cases;
    assert!(cases.len() >= 32);
    for (i, case) in cases.iter().enumerate() {
        let picture = model.picture(&case.latent).unwrap();
        let expected = hex::decode(&case.pixels).unwrap();
        assert_eq!((picture.width, picture.height), (32, 32));
        if picture.rgb != expected {
            let first = picture.rgb.iter().zip(&expected).position(|(a, b)| a != b).unwrap();
            panic!(
                "case {i} ({:?}): byte {first} is {} but Python computed {}",
                case.prompt, picture.rgb[first], expected[first]
            );
        }
    }
}

#[test]
fn the_generator_has_the_documented_shape() {
    use section9::graph::Op;
    let model = common::gan();
    let graph = model.graph();
    let latent = &graph.tensors()[graph.inputs()[0]];
    assert_eq!((latent.len(), latent.frac_bits, latent.lo, latent.hi), (32, 7, -128, 127));
    assert_eq!(model.shape(), (3, 32, 32));
    let linear: Vec<&str> = graph.nodes().iter().filter(|n| matches!(n.op, Op::Linear { .. })).map(|n| n.name.as_str()).collect();
    assert_eq!(linear, ["fc", "up1", "up2", "up3"]);
    // Transposed convolutions 4×4, stride 2, pad 1: along a side of n inputs, the 4n taps
    // minus the 2 that fall off the padded border land, so 4×4 → 8×8 has 14·14 per channel pair.
    assert_eq!(graph.macs(), 32 * 512 + 32 * 16 * 14 * 14 + 16 * 8 * 30 * 30 + 8 * 3 * 62 * 62);
    let ranges: Vec<(i64, i64)> = graph
        .nodes()
        .iter()
        .filter(|n| matches!(n.op, Op::Linear { .. }))
        .map(|n| (graph.tensors()[n.output].lo, graph.tensors()[n.output].hi))
        .collect();
    assert_eq!(ranges, [(0, 255), (0, 255), (0, 255), (-128, 127)]);
}

#[test]
fn wrong_latent_length_is_an_error() {
    let model = common::gan();
    let err = model.picture(&[0i8; 31]).unwrap_err();
    assert!(
        matches!(err, section9::generator::GeneratorError::Graph(section9::graph::GraphError::InputLength { expected: 32, got: 31, .. })),
        "{err}"
    );
}
