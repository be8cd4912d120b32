//! Shared by the integration tests: the committed artifacts.
#![allow(dead_code)]

use std::path::PathBuf;

pub fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

pub fn gan_bytes() -> Vec<u8> {
    std::fs::read(repo_path("model/gan.onnx")).expect("model/gan.onnx is committed")
}

pub fn gan() -> section9::QuantModel {
    section9::model::onnx::import(&gan_bytes()).expect("the committed model imports")
}
pub mod onnx;
