//! The proof file: JSON, everything a verifier (or the mint page, or a contract call) needs.
//!
//! ```json
//! {
//!   "format": "section9-proof-v2",
//!   "model_id": "<64 hex: SHA-256 of the quantized model>",
//!   "k": 16,
//!   "dev_srs": true,
//!   "minter": "0x<40 hex>",
//!   "commitment": "0x<64 hex, big-endian>",
//!   "picture": { "width": 32, "height": 32, "rgb": "<hex, RGB8 row-major>" },
//!   "instances": ["0x<64 hex, big-endian>", ... 4 of them: minter, commitment, challenge, evaluation],
//!   "proof": "0x<hex>"
//! }
//! ```
//!
//! `instances` is redundant by design (it is what the verifier contract receives); reading a
//! file checks it against `minter`, `commitment` and `picture`.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::PrimeField;
use serde::{Deserialize, Serialize};

use crate::circuit::statement;
use crate::hex_string;

pub const FORMAT: &str = "section9-proof-v2";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    #[error("not a proof file")]
    Json(#[source] serde_json::Error),
    #[error("proof format `{found}` is not `{FORMAT}`")]
    Format { found: String },
    #[error("field `{field}` is not valid hex of the right length")]
    Hex { field: &'static str },
    #[error("field `{field}` is not a canonical BN254 scalar")]
    NotAScalar { field: &'static str },
    #[error("the picture has {len} bytes, {width}×{height} RGB needs {}", width * height * 3)]
    PictureSize { len: usize, width: usize, height: usize },
    #[error("the listed instances do not match the minter, commitment and picture")]
    InstancesMismatch,
    #[error("the proof is empty")]
    EmptyProof,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PictureJson {
    pub width: usize,
    pub height: usize,
    pub rgb: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofFile {
    pub format: String,
    pub model_id: String,
    pub k: u32,
    pub dev_srs: bool,
    pub minter: String,
    pub commitment: String,
    pub picture: PictureJson,
    pub instances: Vec<String>,
    pub proof: String,
    /// The weight commitment, when the model's weights are committed (the last instance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<String>,
}

/// A parsed and checked proof file.
#[derive(Clone, Debug)]
pub struct ParsedProof {
    pub minter: [u8; 20],
    pub commitment: Fr,
    pub rgb: Vec<u8>,
    pub instances: Vec<Fr>,
    pub proof: Vec<u8>,
    /// The weight commitment of a committed-weights mint.
    pub weights: Option<Fr>,
}

impl ProofFile {
    #[allow(clippy::too_many_arguments)]
    pub fn new(model_id: &[u8; 32], k: u32, dev_srs: bool, minter: &[u8; 20], picture: &crate::Picture, instances: &[Fr], proof: &[u8]) -> Self {
        ProofFile {
            format: FORMAT.into(),
            model_id: hex_string(model_id),
            k,
            dev_srs,
            minter: format!("0x{}", hex_string(minter)),
            commitment: fr_to_hex(&instances[1]),
            picture: PictureJson { width: picture.width, height: picture.height, rgb: hex_string(&picture.rgb) },
            instances: instances.iter().map(fr_to_hex).collect(),
            proof: format!("0x{}", hex_string(proof)),
            weights: instances.get(statement::INSTANCES).map(fr_to_hex),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<ProofFile, ProofError> {
        let file: ProofFile = serde_json::from_str(text).map_err(ProofError::Json)?;
        if file.format != FORMAT {
            return Err(ProofError::Format { found: file.format });
        }
        Ok(file)
    }

    /// Decodes every field and checks that the instances are the statement of the other fields.
    pub fn parse(&self) -> Result<ParsedProof, ProofError> {
        let minter: [u8; 20] = parse_hex(&self.minter, "minter")?.try_into().map_err(|_| ProofError::Hex { field: "minter" })?;
        let commitment = hex_to_fr(&self.commitment, "commitment")?;
        let rgb = parse_hex(&self.picture.rgb, "picture.rgb")?;
        let (width, height) = (self.picture.width, self.picture.height);
        if width.checked_mul(height).and_then(|n| n.checked_mul(3)) != Some(rgb.len()) {
            return Err(ProofError::PictureSize { len: rgb.len(), width, height });
        }
        let instances = self.instances.iter().map(|s| hex_to_fr(s, "instances")).collect::<Result<Vec<_>, _>>()?;
        let weights = self.weights.as_deref().map(|w| hex_to_fr(w, "weights")).transpose()?;
        let mut expected = statement::instances(&minter, commitment, &rgb);
        expected.extend(weights);
        if instances != expected {
            return Err(ProofError::InstancesMismatch);
        }
        let proof = parse_hex(&self.proof, "proof")?;
        if proof.is_empty() {
            return Err(ProofError::EmptyProof);
        }
        Ok(ParsedProof { minter, commitment, rgb, instances, proof, weights })
    }
}

/// Parses an Ethereum address `0x` + 40 hex digits.
pub fn parse_address(text: &str) -> Result<[u8; 20], ProofError> {
    parse_hex(text, "minter")?.try_into().map_err(|_| ProofError::Hex { field: "minter" })
}

/// `0x`-prefixed (or bare) hex as bytes.
pub fn parse_hex(text: &str, field: &'static str) -> Result<Vec<u8>, ProofError> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if !digits.len().is_multiple_of(2) {
        return Err(ProofError::Hex { field });
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| digits.get(i..i + 2).and_then(|d| u8::from_str_radix(d, 16).ok()).ok_or(ProofError::Hex { field }))
        .collect()
}

/// A scalar as `0x` + 64 hex digits, big-endian (the EVM's word order).
pub fn fr_to_hex(v: &Fr) -> String {
    let mut bytes = v.to_repr();
    bytes.as_mut().reverse();
    format!("0x{}", hex_string(bytes.as_ref()))
}

/// Inverse of [`fr_to_hex`]; refuses values at or above the modulus.
pub fn hex_to_fr(text: &str, field: &'static str) -> Result<Fr, ProofError> {
    let mut bytes: [u8; 32] = parse_hex(text, field)?.try_into().map_err(|_| ProofError::Hex { field })?;
    bytes.reverse();
    Option::from(Fr::from_repr(bytes)).ok_or(ProofError::NotAScalar { field })
}
