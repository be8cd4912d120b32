//! Section 9: provable AI art.
//!
//! - [`model`]: the generator's integer-only layer chain, its reference inference and ONNX import.
//! - [`graph`]: the general integer graph any small float ONNX model compiles to, with
//!   calibration and its bit-exact reference.
//! - [`prompt`]: the deterministic prompt → latent derivation.
//! - `picture` (feature `png`): PNG output.
//! - `wasm` (wasm32 only): the browser bindings the mint page's worker uses.
//!
//! Dependencies point one way: `model` knows nothing of circuits or I/O; the CLI (`main.rs`)
//! and the wasm bindings are thin layers over this library.

pub mod circuit;
pub mod graph;
pub mod model;
#[cfg(feature = "png")]
pub mod picture;
pub mod prompt;
pub mod prover;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use model::{Picture, QuantModel};
