//! Section 9: provable AI art.
//!
//! - [`graph`]: the integer graph every model compiles to — an ML engineer's float ONNX model
//!   and the art generators alike — with calibration and its bit-exact reference.
//! - [`generator`]: a graph read as "latent in, picture out": what a collection mints from.
//! - [`circuit`]: the one circuit of a compiled graph, whose sides are private, public, hashed,
//!   committed or a picture (the mint statement).
//! - [`prover`]: keys, proofs, trusted setups and the EVM verifier.
//! - [`prompt`]: the deterministic prompt → latent derivation.
//! - `picture` (feature `png`): PNG output.
//! - `wasm` (wasm32 only): the browser bindings the mint page's worker uses.
//!
//! Dependencies point one way: `graph` knows nothing of circuits or I/O; the CLI (`main.rs`,
//! `cli/`) and the wasm bindings are thin layers over this library.

pub mod circuit;
pub mod generator;
pub mod graph;
#[cfg(feature = "png")]
pub mod picture;
pub mod prompt;
pub mod prover;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use generator::{Generator, Picture};

/// Bytes as lowercase hex.
pub fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
