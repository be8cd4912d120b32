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
    let model = common::gan();
    let cases = vectors().cases;
    let with_prompt: Vec<&Case> = cases.iter().filter(|c| c.prompt.is_some()).collect();
    assert!(with_prompt.len() >= 8, "the vectors should include prompt cases");
    for case in with_prompt {
        let prompt = case.prompt.as_deref().unwrap();
        let seed = Seed::from_hex(case.seed.as_deref().expect("a prompt case names its seed")).unwrap();
        assert_eq!(model.latent(&seed, prompt), case.latent, "prompt {prompt:?}");
    }
}

#[test]
fn the_prompt_words_fill_the_end_of_the_latent() {
    let model = common::gan();
    let words = model.graph().prompt().expect("the committed generator is conditioned on its prompt");
    assert_eq!((words.offset, words.classes.len()), (23, 9));
    let class = |name: &str| words.classes.iter().position(|c| c == name).unwrap();
    let argmax = |v: &[i8]| v.iter().enumerate().max_by_key(|&(_, x)| *x).map(|(i, _)| i).unwrap();
    let seed = Seed([3; 32]);
    for (prompt, category) in [("a pizza slice", "Food & Drink"), ("a flag", "Flags"), ("a rocket", "Travel & Places"), ("a guitar", "Objects")] {
        let latent = model.latent(&seed, prompt);
        assert_eq!(argmax(&latent[23..]), class(category), "{prompt}");
        // The noise is the prompt's hash under the seed, as for any generator.
        assert_eq!(latent[..23], seed.latent(prompt, 23)[..]);
    }
    // Plurals, case and punctuation find the same words; unknown words are ignored; nothing
    // known (or nothing at all) is the all-zero condition the generator was trained on.
    assert_eq!(words.condition("PIZZAS!"), words.condition("pizza"));
    assert_eq!(words.condition("a pizza, xyzzy"), words.condition("pizza"));
    assert_eq!(words.condition(""), vec![0; 9]);
    assert_eq!(words.condition("東京 xyzzy"), vec![0; 9]);
    // Another seed: the same condition, other noise.
    let (a, b) = (model.latent(&seed, "a flag"), model.latent(&Seed([4; 32]), "a flag"));
    assert_eq!(a[23..], b[23..]);
    assert_ne!(a[..23], b[..23]);
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
