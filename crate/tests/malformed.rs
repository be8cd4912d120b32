//! Bad generator files give a clear error, never a panic: the committed ONNX generator damaged
//! in every way its import can meet, and compiled generator files with hostile sizes.

mod common;

use prost::Message;
use proptest::prelude::*;
use section9::generator::{compile_trained, GeneratorError};
use section9::graph::import::{ImportError, HINTS_KEY, PROMPT_KEY};
use tract_onnx::pb::{ModelProto, NodeProto};

fn proto() -> ModelProto {
    ModelProto::decode(&common::gan_bytes()[..]).unwrap()
}

fn compile_proto(p: &ModelProto) -> Result<section9::Generator, GeneratorError> {
    compile_trained(&p.encode_to_vec())
}

fn node<'a>(p: &'a mut ModelProto, name: &str) -> &'a mut NodeProto {
    p.graph.as_mut().unwrap().node.iter_mut().find(|n| n.name == name).unwrap()
}

fn initializer<'a>(p: &'a mut ModelProto, of_node: &str, input: usize) -> &'a mut tract_onnx::pb::TensorProto {
    let name = node(p, of_node).input[input].clone();
    p.graph.as_mut().unwrap().initializer.iter_mut().find(|t| t.name == name).unwrap()
}

fn set_metadata(p: &mut ModelProto, value: &str) {
    p.metadata_props.iter_mut().find(|m| m.key == HINTS_KEY).unwrap().value = value.into();
}

fn prompt_metadata(p: &mut ModelProto) -> &mut String {
    &mut p.metadata_props.iter_mut().find(|m| m.key == PROMPT_KEY).expect("the committed generator carries its vocabulary").value
}

#[test]
fn a_broken_prompt_vocabulary_is_reported() {
    let mut p = proto();
    *prompt_metadata(&mut p) = "{\"format\": \"section9-words-v1\", \"offset\": ".into();
    let err = compile_proto(&p).unwrap_err();
    assert!(matches!(err, GeneratorError::Import(ImportError::Prompt(section9::prompt::WordsError::Json(_)))), "{err}");
    assert!(err.to_string().contains(PROMPT_KEY), "{err}");
}

#[test]
fn a_prompt_vocabulary_that_does_not_fit_the_latent_is_refused() {
    // The condition would end past the latent's 32 values.
    let mut p = proto();
    let meta = prompt_metadata(&mut p);
    *meta = meta.replacen("\"offset\":23", "\"offset\":24", 1);
    let err = compile_proto(&p).unwrap_err();
    assert!(err.to_string().contains("fills latent values 24..33, but the latent holds 32"), "{err}");
    // A word the tokenizer can never produce, and a vector of the wrong length.
    let mut p = proto();
    let meta = prompt_metadata(&mut p);
    *meta = meta.replacen("\"words\":{", "\"words\":{\"Cat\":[0,0,127,0,0,0,0,0,0],", 1);
    let err = compile_proto(&p).unwrap_err();
    assert!(err.to_string().contains("prompt word `Cat` is not"), "{err}");
    let mut p = proto();
    let meta = prompt_metadata(&mut p);
    *meta = meta.replacen("\"words\":{", "\"words\":{\"0cat\":[0,0,128,0,0,0,0,0,0],", 1);
    let err = compile_proto(&p).unwrap_err();
    assert!(err.to_string().contains("prompt word `0cat` has 9 values for 9 classes, or one above 127"), "{err}");
}

#[test]
fn the_committed_model_roundtrips_through_protobuf() {
    assert!(compile_proto(&proto()).is_ok());
}

#[test]
fn garbage_is_not_an_onnx_model() {
    let err = compile_trained(b"\xff\xff\xff\xff this is not protobuf").unwrap_err();
    assert!(matches!(err, GeneratorError::Import(ImportError::Parse(_))), "{err}");
}

#[test]
fn a_truncated_file_is_not_an_onnx_model() {
    let bytes = common::gan_bytes();
    let err = compile_trained(&bytes[..bytes.len() / 2]).unwrap_err();
    assert!(matches!(err, GeneratorError::Import(ImportError::Parse(_))), "{err}");
}

#[test]
fn an_empty_file_has_no_graph() {
    let err = compile_trained(b"").unwrap_err();
    assert!(matches!(err, GeneratorError::Import(ImportError::NoGraph)), "{err}");
}

#[test]
fn a_float_model_without_trained_scales_is_sent_to_compile() {
    let mut p = proto();
    p.metadata_props.clear();
    let err = compile_proto(&p).unwrap_err();
    assert!(matches!(err, GeneratorError::Untrained(_)), "{err}");
    assert!(err.to_string().contains("section9 compile"), "{err}");
}

#[test]
fn broken_metadata_json_is_reported() {
    let mut p = proto();
    set_metadata(&mut p, "{\"format\": ");
    let err = compile_proto(&p).unwrap_err();
    assert!(matches!(err, GeneratorError::Import(ImportError::Hints(_))), "{err}");
}

#[test]
fn an_unknown_format_is_reported() {
    let mut p = proto();
    let meta = p.metadata_props[0].value.replace("section9-pow2-v1", "section9-pow2-v9");
    set_metadata(&mut p, &meta);
    let err = compile_proto(&p).unwrap_err();
    assert!(err.to_string().contains("format `section9-pow2-v9`"), "{err}");
}

#[test]
fn a_weight_off_the_grid_names_node_and_index() {
    let mut p = proto();
    let t = initializer(&mut p, "up2", 1);
    // Add a quarter of a grid step to weight 5.
    let mut w: Vec<f32> = t.raw_data.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
    w[5] += 2f32.powi(-12);
    t.raw_data = w.iter().flat_map(|v| v.to_le_bytes()).collect();
    let err = compile_proto(&p).unwrap_err();
    assert!(matches!(err, GeneratorError::OffGrid { ref node, index: 5, .. } if node == "up2"), "{err}");
}

#[test]
fn an_unsupported_operator_is_named() {
    let mut p = proto();
    node(&mut p, "up1_relu").op_type = "Celu".into();
    let err = compile_proto(&p).unwrap_err();
    assert!(matches!(err, GeneratorError::Import(ImportError::Unsupported { ref node, ref op, .. }) if node == "up1_relu" && op == "Celu"), "{err}");
}

#[test]
fn a_layer_missing_from_the_metadata_is_named() {
    let mut p = proto();
    let meta = p.metadata_props[0].value.replace("\"up3\"", "\"up4\"");
    set_metadata(&mut p, &meta);
    let err = compile_proto(&p).unwrap_err();
    assert!(matches!(err, GeneratorError::UntrainedNode(ref node) if node == "up3"), "{err}");
}

#[test]
fn an_unknown_tensor_type_is_an_error_not_a_panic() {
    let mut p = proto();
    initializer(&mut p, "up1", 1).data_type = 999;
    let err = compile_proto(&p).unwrap_err();
    assert!(matches!(err, GeneratorError::Import(_)), "{err}");
}

#[test]
fn truncated_weight_data_is_reported() {
    let mut p = proto();
    initializer(&mut p, "fc", 1).raw_data.truncate(100);
    let err = compile_proto(&p).unwrap_err();
    assert!(matches!(err, GeneratorError::Import(_)), "{err}");
}

#[test]
fn a_second_output_is_not_a_generator() {
    let mut p = proto();
    let side = node(&mut p, "up1").output[0].clone();
    let info = tract_onnx::pb::ValueInfoProto { name: side, ..Default::default() };
    p.graph.as_mut().unwrap().output.push(info);
    let err = compile_proto(&p).unwrap_err();
    assert!(matches!(err, GeneratorError::Arity { inputs: 1, outputs: 2 }), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Random corruption of the committed file: an error or a valid model, never a panic.
    #[test]
    fn corrupted_files_never_panic(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = common::gan_bytes();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let _ = compile_trained(&bytes);
    }
}

#[test]
fn a_transposed_convolution_weight_with_a_zero_dim_and_a_huge_kernel_is_refused() {
    // Zero values, so the data matches the shape; the kernel products used to overflow.
    let mut p = proto();
    let t = initializer(&mut p, "up2", 1);
    t.dims = vec![t.dims[0], 0, i64::MAX, i64::MAX];
    t.float_data.clear();
    t.raw_data.clear();
    let n = node(&mut p, "up2");
    n.attribute.retain(|a| a.name != "kernel_shape");
    n.input.truncate(2);
    let err = compile_proto(&p).unwrap_err();
    assert!(matches!(err, GeneratorError::Import(ImportError::Unsupported { .. })), "{err}");
}

#[test]
fn a_compiled_generator_with_sizes_that_overflow_is_refused() {
    // A picture of 2^62 values and a shift past 64 bits: errors, not panics.
    let json = common::gan().graph().to_json();
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let tensors = v["graph"]["tensors"].as_array().unwrap().len();
    v["graph"]["tensors"][tensors - 1]["shape"] = serde_json::json!([1, 3, 1u64 << 31, 1u64 << 31]);
    assert!(section9::Generator::from_json(&v.to_string()).is_err());
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["graph"]["nodes"][0]["op"]["Linear"]["shift"] = serde_json::json!(u32::MAX);
    assert!(section9::Generator::from_json(&v.to_string()).is_err());
}

/// A development params file (k = 6), raw and compressed.
fn params_files() -> &'static [Vec<u8>; 2] {
    static FILES: std::sync::OnceLock<[Vec<u8>; 2]> = std::sync::OnceLock::new();
    FILES.get_or_init(|| {
        let params = section9::prover::srs::dev_srs(6);
        [section9::prover::srs::write(&params), section9::prover::srs::write_compressed(&params)]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// A params file with bytes changed or cut short (the header's k among them), read whole
    /// or only for verification at any k: an error or params, never a panic.
    #[test]
    fn corrupted_params_files_never_panic(
        compressed in any::<bool>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        cut in prop::option::of(any::<prop::sample::Index>()),
        k in 0u32..10,
    ) {
        let mut bytes = params_files()[usize::from(compressed)].clone();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len()));
        }
        let _ = section9::prover::srs::read(&bytes, k);
        let _ = section9::prover::srs::read_verifier(std::io::Cursor::new(&bytes), k);
    }

    /// Arbitrary bytes are not a params file: an error, never a panic.
    #[test]
    fn arbitrary_bytes_are_refused_as_params(bytes in prop::collection::vec(any::<u8>(), 0..700), k in 0u32..30) {
        prop_assert!(section9::prover::srs::read(&bytes, k).is_err());
        prop_assert!(section9::prover::srs::read_verifier(std::io::Cursor::new(&bytes), k).is_err());
    }
}
