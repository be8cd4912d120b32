//! Proving and verifying keys, and their cache files.
//!
//! A key file is `"S9KEYS01"`, the 32-byte circuit digest, the payload length (u64 LE), the
//! SHA-256 of the payload, then the payload (halo2's raw key serialization). The digest covers
//! the model (its compiled graph's id), the statement (the sides' visibilities), the circuit
//! layout (`W`, `k`, every column, gate and lookup of the constraint system) and the SRS
//! fingerprint, so a key made for another model, statement, layout or SRS is reported as stale
//! instead of producing proofs that cannot verify; the checksum turns a truncated or corrupted
//! file into an error rather than a crash inside the deserializer.

use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::plonk::{keygen_pk, keygen_vk_custom, Circuit, ConstraintSystem, ProvingKey, VerifyingKey};
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_proofs::SerdeFormat;
use sha2::{Digest, Sha256};

use super::{srs, ProverError};
use crate::circuit::graph::{GraphCircuit, GraphParams};

const MAGIC: &[u8; 8] = b"S9KEYS01";
const HEADER: usize = 8 + 32 + 8 + 32;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("not a Section 9 key file (bad magic or shorter than its header)")]
    NotAKeyFile,
    #[error("the key was made for another circuit or SRS (digest {found}, expected {expected}); run `section9 setup` again")]
    Stale { found: String, expected: String },
    #[error("the key file is truncated or corrupted (checksum mismatch)")]
    Corrupted,
    #[error("the key file could not be decoded")]
    Decode(#[source] std::io::Error),
}

/// The digest a key must carry to be used for `circuit` (its model, statement and layout)
/// with `params`.
pub fn circuit_digest(circuit: &GraphParams, params: &ParamsKZG<Bn256>) -> [u8; 32] {
    let mut cs = ConstraintSystem::<Fr>::default();
    let _ = GraphCircuit::configure_with_params(&mut cs, circuit.clone());
    let mut h = Sha256::new();
    h.update(b"section9-circuit-v3");
    // Every column, gate, lookup and copy-enabled column; the fixed values come from the model.
    h.update(format!("{:?}", cs.pinned()).as_bytes());
    // Committed weights: the key is the shape's, whoever holds the weights.
    let committed = circuit.weights() == crate::circuit::graph::Weights::Committed;
    let id = |g: &crate::graph::Graph| if committed { crate::circuit::graph_plan::shape_id(g) } else { g.id() };
    h.update(circuit.graph.as_deref().map(id).unwrap_or_default());
    h.update(format!("{}/{}", circuit.inputs, circuit.outputs).as_bytes());
    if committed {
        h.update(b"/committed weights");
    }
    h.update((circuit.width as u64).to_le_bytes());
    h.update(circuit.k().to_le_bytes());
    h.update(srs::fingerprint(params));
    h.finalize().into()
}

/// Generates the verifying and proving keys.
pub fn generate(params: &ParamsKZG<Bn256>, circuit: &GraphParams) -> Result<ProvingKey<G1Affine>, ProverError> {
    let shape = GraphCircuit { params: circuit.clone(), witness: None };
    let have = Params::k(params);
    if have < circuit.k() {
        return Err(ProverError::SrsTooSmall { need: circuit.k(), have });
    }
    // Selector compression folds the gates' selectors into a few fixed columns: every fixed
    // column is a commitment the on-chain verifier multiplies by a scalar.
    let vk = keygen_vk_custom(params, &shape, true).map_err(ProverError::Keygen)?;
    keygen_pk(params, vk, &shape).map_err(ProverError::Keygen)
}

/// The verifying key, derived from the circuit and the whole SRS (key generation without the
/// proving key). The CLI caches it: a key file names the digest it claims and carries a
/// checksum, so a stale or damaged file is refused, but one deliberately replaced under the
/// same digest would decide — the key directory is trusted like the binary, and `verify
/// --derive-vk` derives afresh.
pub fn verifying_key(params: &ParamsKZG<Bn256>, circuit: &GraphParams) -> Result<VerifyingKey<G1Affine>, ProverError> {
    let have = Params::k(params);
    if have < circuit.k() {
        return Err(ProverError::SrsTooSmall { need: circuit.k(), have });
    }
    let shape = GraphCircuit { params: circuit.clone(), witness: None };
    keygen_vk_custom(params, &shape, true).map_err(ProverError::Keygen)
}

/// Serializes a proving key into a key file bound to `digest`, in one buffer of the exact size:
/// a mint key at k = 16 is about 100 MB, and in the browser (which caches it) every extra copy
/// would stay in the wasm memory for the rest of the session. Counting the bytes first costs
/// one more pass over the key; a growing buffer would cost up to twice its size at once.
pub fn write_pk(pk: &ProvingKey<G1Affine>, digest: &[u8; 32]) -> Vec<u8> {
    let mut size = ByteCount(0);
    pk.write(&mut size, SerdeFormat::RawBytes).expect("counting bytes cannot fail");
    let mut file = Vec::with_capacity(HEADER + size.0);
    file.resize(HEADER, 0);
    pk.write(&mut file, SerdeFormat::RawBytes).expect("writing to memory cannot fail");
    seal(&mut file, digest);
    file
}

/// Serializes a verifying key into a key file bound to `digest`.
pub fn write_vk(vk: &VerifyingKey<G1Affine>, digest: &[u8; 32]) -> Vec<u8> {
    let mut file = vec![0; HEADER];
    file.extend_from_slice(&vk.to_bytes(SerdeFormat::RawBytes));
    seal(&mut file, digest);
    file
}

/// A writer that only counts.
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads a proving key written by [`write_pk`] for `digest`.
pub fn read_pk(bytes: &[u8], digest: &[u8; 32], circuit: &GraphParams) -> Result<ProvingKey<G1Affine>, KeyError> {
    let payload = unwrap(bytes, digest)?;
    ProvingKey::read::<_, GraphCircuit>(&mut &payload[..], SerdeFormat::RawBytes, circuit.clone()).map_err(KeyError::Decode)
}

/// Reads a verifying key written by [`write_vk`] for `digest`.
pub fn read_vk(bytes: &[u8], digest: &[u8; 32], circuit: &GraphParams) -> Result<VerifyingKey<G1Affine>, KeyError> {
    let payload = unwrap(bytes, digest)?;
    VerifyingKey::read::<_, GraphCircuit>(&mut &payload[..], SerdeFormat::RawBytes, circuit.clone()).map_err(KeyError::Decode)
}

/// Fills in the header of a key file whose payload follows `HEADER` placeholder bytes.
fn seal(file: &mut [u8], digest: &[u8; 32]) {
    let (header, payload) = file.split_at_mut(HEADER);
    header[..8].copy_from_slice(MAGIC);
    header[8..40].copy_from_slice(digest);
    header[40..48].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    header[48..80].copy_from_slice(&Sha256::digest(payload));
}

fn unwrap<'a>(bytes: &'a [u8], digest: &[u8; 32]) -> Result<&'a [u8], KeyError> {
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return Err(KeyError::NotAKeyFile);
    }
    if &bytes[8..40] != digest {
        return Err(KeyError::Stale { found: crate::hex_string(&bytes[8..40]), expected: crate::hex_string(digest) });
    }
    let len = u64::from_le_bytes(bytes[40..48].try_into().map_err(|_| KeyError::NotAKeyFile)?);
    let payload = &bytes[HEADER..];
    if payload.len() as u64 != len || Sha256::digest(payload).as_slice() != &bytes[48..80] {
        return Err(KeyError::Corrupted);
    }
    Ok(payload)
}
