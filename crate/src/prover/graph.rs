//! Keys, proofs and the proof file of general model circuits ([`GraphCircuit`]).
//!
//! ```json
//! {
//!   "format": "section9-model-proof-v1",
//!   "model_id": "<64 hex: SHA-256 of the compiled graph>",
//!   "k": 12, "dev_srs": true, "width": 5,
//!   "visibility": {"inputs": "private", "outputs": "public"},
//!   "weights": "committed",                  (absent when the weights are fixed)
//!   "inputs": [[...dequantized, when public...]], "outputs": [[...dequantized, when public...]],
//!   "instances": ["0x<64 hex, big-endian>", ...],
//!   "proof": "0x<hex>"
//! }
//! ```
//!
//! Reading a file re-derives the public values from `inputs`/`outputs` (at the graph's scales)
//! and refuses it when `instances` says something else, or when a stated value is not exactly
//! one the tensor can hold (a value that merely rounds to the proven one is refused). The dot-row
//! `width` it names is bounded by [`MAX_WIDTH`](crate::circuit::MAX_WIDTH) before any key is made.
//!
//! With committed weights `model_id` is the [shape id](crate::circuit::graph_plan::shape_id)
//! (the weights are not the verifier's to know: it checks against the shape file, or the model
//! itself) and the last public value is the weight commitment.

use halo2_proofs::halo2curves::bn256::Fr;
use serde::{Deserialize, Serialize};

use super::proof::{fr_to_hex, hex_to_fr, parse_hex, ProofError};
use crate::circuit::graph::{GraphParams, Visibility, Weights};
use crate::circuit::graph_plan::shape_id;
use crate::graph::Graph;
use crate::hex_string;

pub const FORMAT: &str = "section9-model-proof-v1";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisibilityJson {
    pub inputs: Visibility,
    pub outputs: Visibility,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelProofFile {
    pub format: String,
    pub model_id: String,
    pub k: u32,
    pub dev_srs: bool,
    pub width: usize,
    /// Range lanes of the circuit (files written before lanes existed had one).
    #[serde(default = "one_lane")]
    pub lanes: usize,
    /// Outputs a dot row computes (files written before accumulators existed had one).
    #[serde(default = "one_lane", skip_serializing_if = "is_one")]
    pub accumulators: usize,
    pub visibility: VisibilityJson,
    /// Whether the learned weights were constants of the circuit or committed.
    #[serde(default, skip_serializing_if = "is_fixed")]
    pub weights: Weights,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Vec<Vec<f64>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Vec<Vec<f64>>>,
    pub instances: Vec<String>,
    pub proof: String,
}

/// Errors reading a model proof file against its model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelProofError {
    #[error("not a model proof file")]
    Json(#[source] serde_json::Error),
    #[error("proof format `{found}` is not `{FORMAT}`")]
    Format { found: String },
    #[error("the proof is for model {found}, this model is {expected}")]
    Model { found: String, expected: String },
    #[error("the file lists public {side} but its visibility says otherwise, or omits them")]
    Side { side: &'static str },
    #[error("the public {side} have the wrong shape for the model")]
    Shape { side: &'static str },
    #[error("the listed instances do not match the file's public inputs and outputs")]
    InstancesMismatch,
    #[error("public {side} {tensor}, value {index}: {value} is not exactly a value of the tensor (a multiple of 2^-{frac_bits} within its range)")]
    Inexact { side: &'static str, tensor: usize, index: usize, value: f64, frac_bits: i32 },
    #[error("a picture is proven and verified as a mint (`section9 prove` / `verify` without `--model … --input`), not as a model proof")]
    Picture,
    #[error(transparent)]
    Proof(#[from] ProofError),
}

fn one_lane() -> usize {
    1
}

fn is_one(n: &usize) -> bool {
    *n == 1
}

fn is_fixed(w: &Weights) -> bool {
    *w == Weights::Fixed
}

/// What a proof names its model by: the graph's id, or its shape's when the weights are
/// committed.
fn model_id(graph: &Graph, weights: Weights) -> String {
    hex_string(&if weights == Weights::Committed { shape_id(graph) } else { graph.id() })
}

impl ModelProofFile {
    /// The file for a proof of `graph` with `inputs` (real integer values).
    #[allow(clippy::too_many_arguments)]
    pub fn new(graph: &Graph, circuit: &GraphParams, k: u32, dev_srs: bool, inputs: &[Vec<i64>], outputs: &[Vec<i64>], instances: &[Fr], proof: &[u8]) -> Self {
        let deq = |ts: &[usize], vs: &[Vec<i64>]| -> Vec<Vec<f64>> {
            ts.iter().zip(vs).map(|(&t, v)| v.iter().map(|&q| graph.tensors()[t].dequantize(q)).collect()).collect()
        };
        ModelProofFile {
            format: FORMAT.into(),
            model_id: model_id(graph, circuit.weights()),
            k,
            dev_srs,
            width: circuit.width,
            lanes: circuit.lanes,
            accumulators: circuit.accumulators,
            visibility: VisibilityJson { inputs: circuit.inputs, outputs: circuit.outputs },
            weights: circuit.weights(),
            inputs: (circuit.inputs == Visibility::Public).then(|| deq(graph.inputs(), inputs)),
            outputs: (circuit.outputs == Visibility::Public).then(|| deq(graph.outputs(), outputs)),
            instances: instances.iter().map(fr_to_hex).collect(),
            proof: format!("0x{}", hex_string(proof)),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Self, ModelProofError> {
        let file: ModelProofFile = serde_json::from_str(text).map_err(ModelProofError::Json)?;
        if file.format != FORMAT {
            return Err(ModelProofError::Format { found: file.format });
        }
        Ok(file)
    }

    /// Checks the file against `graph` and `circuit`; returns the instances and proof bytes.
    pub fn check(&self, graph: &Graph, circuit: &GraphParams) -> Result<(Vec<Fr>, Vec<u8>), ModelProofError> {
        let expected = model_id(graph, self.weights);
        if self.model_id != expected {
            return Err(ModelProofError::Model { found: self.model_id.clone(), expected });
        }
        let instances: Vec<Fr> = self.instances.iter().map(|s| hex_to_fr(s, "instances")).collect::<Result<_, _>>()?;
        let proof = parse_hex(&self.proof, "proof")?;
        if proof.is_empty() {
            return Err(ProofError::EmptyProof.into());
        }
        // Re-derive the public bytes the file claims.
        let mut claimed = Vec::new();
        for (side, vis, values, tensors) in [("inputs", circuit.inputs, &self.inputs, graph.inputs()), ("outputs", circuit.outputs, &self.outputs, graph.outputs())] {
            match (vis, values) {
                (Visibility::Public, Some(vs)) => {
                    if vs.len() != tensors.len() {
                        return Err(ModelProofError::Shape { side });
                    }
                    for (tensor, (&t, v)) in tensors.iter().zip(vs).enumerate() {
                        let info = &graph.tensors()[t];
                        if v.len() != info.len() {
                            return Err(ModelProofError::Shape { side });
                        }
                        // Exactly the proven value, not one that rounds to it: the file states
                        // what was proven, so a second spelling of it is a false statement.
                        for (index, &value) in v.iter().enumerate() {
                            let q = info.exact(value).ok_or(ModelProofError::Inexact { side, tensor, index, value, frac_bits: info.frac_bits })?;
                            claimed.push(crate::circuit::fr_from_i64(q - info.lo));
                        }
                    }
                }
                (Visibility::Public, None) | (_, Some(_)) => return Err(ModelProofError::Side { side }),
                _ => {}
            }
        }
        // Public values must appear where the layout puts them; hashes are taken as listed.
        let mut at = 0;
        let mut claimed = claimed.into_iter();
        for (vis, wires) in circuit.inputs_outputs() {
            match vis {
                Visibility::Public => {
                    for _ in 0..wires {
                        if instances.get(at) != claimed.next().as_ref() {
                            return Err(ModelProofError::InstancesMismatch);
                        }
                        at += 1;
                    }
                }
                Visibility::Hashed | Visibility::Committed => at += 1,
                Visibility::Private => {}
                Visibility::Picture => return Err(ModelProofError::Picture),
            }
        }
        if self.weights == Weights::Committed {
            at += 1;
        }
        if at != instances.len() {
            return Err(ModelProofError::InstancesMismatch);
        }
        Ok((instances, proof))
    }
}
