//! ONNX external data: weights in a side file beside the model, as recent PyTorch exports them
//! (`model.onnx` + `model.onnx.data`). Read inline from the model's directory; a missing or
//! truncated side file, a location outside the directory, and an external model given as bare
//! bytes are clear errors.

mod common;

use std::path::Path;
use std::process::Command;

use common::onnx::Builder;
use prost::Message as _;
use section9::graph::import::{import, inline_external_data};
use tract_onnx::pb::tensor_proto::DataLocation;
use tract_onnx::pb::{ModelProto, StringStringEntryProto};

/// A small MLP (Gemm → Relu → Gemm), inline.
fn mlp() -> Vec<u8> {
    let mut b = Builder::new(11);
    let x = b.input("x", &[1, 6]);
    let (w1, b1) = (b.random(&[8, 6], 0.5), b.random(&[8], 0.1));
    let h = b.node("Gemm", &[&x, &w1, &b1], vec![common::onnx::ai("transB", 1)]);
    let r = b.node("Relu", &[&h], vec![]);
    let (w2, b2) = (b.random(&[3, 8], 0.5), b.random(&[3], 0.1));
    let y = b.node("Gemm", &[&r, &w2, &b2], vec![common::onnx::ai("transB", 1)]);
    b.finish(&[&y])
}

/// The model with every float initializer moved to `location` (one file, back to back, as
/// `onnx.save(..., all_tensors_to_one_file=True)` writes it); returns (model, side file).
fn externalize(bytes: &[u8], location: &str) -> (Vec<u8>, Vec<u8>) {
    let mut model = ModelProto::decode(bytes).unwrap();
    let mut side = Vec::new();
    for t in &mut model.graph.as_mut().unwrap().initializer {
        let raw: Vec<u8> = t.float_data.iter().flat_map(|f| f.to_le_bytes()).collect();
        let entry = |key: &str, value: String| StringStringEntryProto { key: key.into(), value };
        t.external_data = vec![
            entry("location", location.into()),
            entry("offset", side.len().to_string()),
            entry("length", raw.len().to_string()),
        ];
        t.data_location = Some(DataLocation::External as i32);
        t.float_data.clear();
        side.extend(raw);
    }
    (model.encode_to_vec(), side)
}

fn read_from(dir: &Path) -> impl FnMut(&Path) -> std::io::Result<Vec<u8>> + '_ {
    move |location| std::fs::read(dir.join(location))
}

#[test]
fn weights_in_a_side_file_are_read_inline_and_give_the_same_graph() {
    let dir = tempfile::tempdir().unwrap();
    let inline = mlp();
    let (model, side) = externalize(&inline, "model.onnx.data");
    std::fs::write(dir.path().join("model.onnx.data"), &side).unwrap();

    let err = import(&model).err().unwrap().to_string();
    assert!(err.contains("external data file"), "{err}");

    let read = inline_external_data(&model, read_from(dir.path())).unwrap();
    let (a, b) = (import(&inline).unwrap().graph, import(&read).unwrap().graph);
    let x = vec![vec![0.3, -0.2, 0.9, 0.1, -0.7, 0.5]];
    assert_eq!(a.forward(&x), b.forward(&x));
    // A model without external data passes through untouched.
    assert_eq!(inline_external_data(&inline, |_| panic!("nothing to read")).unwrap(), inline);
}

#[test]
fn a_missing_short_or_escaping_side_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (model, side) = externalize(&mlp(), "model.onnx.data");
    let err = |model: &[u8]| inline_external_data(model, read_from(dir.path())).err().unwrap().to_string();

    assert!(err(&model).contains("cannot read model.onnx.data"), "{}", err(&model));
    std::fs::write(dir.path().join("model.onnx.data"), &side[..side.len() - 5]).unwrap();
    let short = err(&model);
    assert!(short.contains("truncated side file") && short.contains(&format!("holds {} bytes", side.len() - 5)), "{short}");

    for location in ["../model.onnx.data", "/etc/passwd", ""] {
        let (model, _) = externalize(&mlp(), location);
        assert!(err(&model).contains("not a relative path inside the model's directory"), "{location}: {}", err(&model));
    }
}

#[test]
fn the_cli_compiles_a_model_whose_weights_are_in_a_side_file() {
    let dir = tempfile::tempdir().unwrap();
    let (model, side) = externalize(&mlp(), "mlp.onnx.data");
    std::fs::write(dir.path().join("mlp.onnx"), model).unwrap();
    std::fs::write(dir.path().join("mlp.onnx.data"), side).unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_section9")).args(["compile", "mlp.onnx", "--out", "mlp.s9"]).current_dir(dir.path()).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(dir.path().join("mlp.s9").exists());
    std::fs::remove_file(dir.path().join("mlp.onnx.data")).unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_section9")).args(["compile", "mlp.onnx", "--out", "mlp.s9"]).current_dir(dir.path()).output().unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("cannot read mlp.onnx.data"), "{}", String::from_utf8_lossy(&run.stderr));
}
