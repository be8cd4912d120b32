//! Bad model files give the exact error, never a panic.

mod common;

use prost::Message;
use proptest::prelude::*;
use section9::model::onnx::{import, OnnxError, METADATA_KEY};
use tract_onnx::pb::{ModelProto, NodeProto};

fn proto() -> ModelProto {
    ModelProto::decode(&common::gan_bytes()[..]).unwrap()
}

fn import_proto(p: &ModelProto) -> Result<section9::QuantModel, OnnxError> {
    import(&p.encode_to_vec())
}

fn node<'a>(p: &'a mut ModelProto, name: &str) -> &'a mut NodeProto {
    p.graph.as_mut().unwrap().node.iter_mut().find(|n| n.name == name).unwrap()
}

fn initializer<'a>(p: &'a mut ModelProto, of_node: &str, input: usize) -> &'a mut tract_onnx::pb::TensorProto {
    let name = node(p, of_node).input[input].clone();
    p.graph.as_mut().unwrap().initializer.iter_mut().find(|t| t.name == name).unwrap()
}

fn set_metadata(p: &mut ModelProto, value: &str) {
    p.metadata_props.iter_mut().find(|m| m.key == METADATA_KEY).unwrap().value = value.into();
}

#[test]
fn the_committed_model_roundtrips_through_protobuf() {
    assert!(import_proto(&proto()).is_ok());
}

#[test]
fn garbage_is_not_an_onnx_model() {
    let err = import(b"\xff\xff\xff\xff this is not protobuf").unwrap_err();
    assert!(matches!(err, OnnxError::Parse(_)), "{err}");
}

#[test]
fn a_truncated_file_is_not_an_onnx_model() {
    let bytes = common::gan_bytes();
    let err = import(&bytes[..bytes.len() / 2]).unwrap_err();
    assert!(matches!(err, OnnxError::Parse(_)), "{err}");
}

#[test]
fn an_empty_file_has_no_quantization() {
    let err = import(b"").unwrap_err();
    assert!(matches!(err, OnnxError::MissingMetadata), "{err}");
}

#[test]
fn a_float_model_without_metadata_is_refused() {
    let mut p = proto();
    p.metadata_props.clear();
    let err = import_proto(&p).unwrap_err();
    assert!(matches!(err, OnnxError::MissingMetadata), "{err}");
}

#[test]
fn broken_metadata_json_is_reported() {
    let mut p = proto();
    set_metadata(&mut p, "{\"format\": ");
    assert!(matches!(import_proto(&p).unwrap_err(), OnnxError::BadMetadata(_)));
}

#[test]
fn an_unknown_format_is_reported() {
    let mut p = proto();
    let meta = p.metadata_props[0].value.replace("section9-pow2-v1", "section9-pow2-v9");
    set_metadata(&mut p, &meta);
    let err = import_proto(&p).unwrap_err();
    assert!(matches!(err, OnnxError::UnknownFormat { ref found } if found == "section9-pow2-v9"), "{err}");
}

#[test]
fn a_weight_off_the_grid_names_node_and_index() {
    let mut p = proto();
    let t = initializer(&mut p, "up2", 1);
    // Add a quarter of a grid step to weight 5.
    let mut w: Vec<f32> = t.raw_data.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
    w[5] += 2f32.powi(-12);
    t.raw_data = w.iter().flat_map(|v| v.to_le_bytes()).collect();
    let err = import_proto(&p).unwrap_err();
    assert!(
        matches!(err, OnnxError::OffGrid { ref node, ref tensor, index: 5, .. } if node == "up2" && tensor == "weight"),
        "{err}"
    );
}

#[test]
fn an_unsupported_operator_is_named() {
    let mut p = proto();
    node(&mut p, "up1_relu").op_type = "Sigmoid".into();
    let err = import_proto(&p).unwrap_err();
    assert!(
        matches!(err, OnnxError::Unsupported { ref node, ref op, .. } if node == "up1_relu" && op == "Sigmoid"),
        "{err}"
    );
    assert!(err.to_string().contains("operator not supported"), "{err}");
}

#[test]
fn a_layer_missing_from_the_metadata_is_named() {
    let mut p = proto();
    let meta = p.metadata_props[0].value.replace("\"up3\"", "\"up4\"");
    set_metadata(&mut p, &meta);
    let err = import_proto(&p).unwrap_err();
    assert!(matches!(err, OnnxError::NoQuantization { ref node, .. } if node == "up3"), "{err}");
}

#[test]
fn an_unknown_tensor_type_is_an_error_not_a_panic() {
    let mut p = proto();
    initializer(&mut p, "up1", 1).data_type = 999;
    let err = import_proto(&p).unwrap_err();
    assert!(matches!(err, OnnxError::BadTensor { ref node, .. } if node == "up1"), "{err}");
}

#[test]
fn truncated_weight_data_is_reported() {
    let mut p = proto();
    initializer(&mut p, "fc", 1).raw_data.truncate(100);
    let err = import_proto(&p).unwrap_err();
    assert!(matches!(err, OnnxError::BadTensor { ref node, .. } if node == "fc"), "{err}");
}

#[test]
fn a_branching_graph_is_not_a_chain() {
    let mut p = proto();
    let extra = NodeProto {
        name: "side".into(),
        op_type: "Relu".into(),
        input: vec![node(&mut p, "up1").output[0].clone()],
        output: vec!["side_out".into()],
        ..Default::default()
    };
    p.graph.as_mut().unwrap().node.push(extra);
    let err = import_proto(&p).unwrap_err();
    assert!(matches!(err, OnnxError::NotAChain { .. }), "{err}");
}

#[test]
fn a_grouped_transposed_convolution_is_refused_with_the_attribute() {
    let mut p = proto();
    let n = node(&mut p, "up2");
    n.attribute.retain(|a| a.name != "group");
    n.attribute.push(tract_onnx::pb::AttributeProto { name: "group".into(), i: 2, r#type: 2, ..Default::default() });
    let err = import_proto(&p).unwrap_err();
    assert!(err.to_string().contains("group"), "{err}");
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
        let _ = import(&bytes);
    }
}

/// The first node of `op`.
fn node_of<'a>(p: &'a mut ModelProto, op: &str) -> &'a mut NodeProto {
    p.graph.as_mut().unwrap().node.iter_mut().find(|n| n.op_type == op).unwrap()
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
    let message = import_proto(&p).unwrap_err().to_string();
    // `up2` now makes zero channels, which the next layer names.
    assert_eq!(message, "node `up3` (ConvTranspose): weights expect 8 input channels, input has 0");
}

#[test]
fn a_reshape_target_whose_product_overflows_is_refused() {
    let mut p = proto();
    let target = node_of(&mut p, "Reshape").input[1].clone();
    let graph = p.graph.as_mut().unwrap();
    let huge = vec![1, 1 << 32, 1 << 32, 1 << 32];
    match graph.initializer.iter_mut().find(|t| t.name == target) {
        Some(t) => {
            t.dims = vec![4];
            t.raw_data = huge.iter().flat_map(|v: &i64| v.to_le_bytes()).collect();
            t.int64_data.clear();
        }
        None => {
            let c = graph.node.iter_mut().find(|n| n.output.first() == Some(&target)).unwrap();
            let t = c.attribute[0].t.as_mut().unwrap();
            t.dims = vec![4];
            t.raw_data = huge.iter().flat_map(|v: &i64| v.to_le_bytes()).collect();
            t.int64_data.clear();
        }
    }
    let err = import_proto(&p).unwrap_err();
    assert!(matches!(err, OnnxError::Unsupported { ref op, ref what, .. } if op == "Reshape" && what.starts_with("cannot reshape to [1, 4294967296")), "{err}");
}

#[test]
fn a_model_json_with_sizes_that_overflow_is_refused() {
    // Frac bits that overflow their sum, and a layer of 2^62 outputs: errors, not panics.
    let json = common::gan().to_json();
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["layers"][0]["input_frac_bits"] = serde_json::json!(u32::MAX);
    let err = section9::QuantModel::from_json(&v.to_string()).unwrap_err();
    assert!(err.to_string().contains("requantization shift"), "{err}");
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let last = v["layers"].as_array().unwrap().len() - 1;
    v["layers"][last]["op"]["ConvTranspose"]["output"] = serde_json::json!([3, 1u64 << 31, 1u64 << 31]);
    let err = section9::QuantModel::from_json(&v.to_string()).unwrap_err();
    assert!(err.to_string().contains("more than 4194304 values"), "{err}");
}
