//! The public statement of a mint proof, computed natively — what the contract rebuilds.
//!
//! One instance column of four values, in this order:
//!
//! 1. `minter`: the 20-byte Ethereum address as an integer (the contract passes `msg.sender`).
//! 2. `commitment`: Poseidon(`salt`, latent chunks…) — see [`commitment`].
//! 3. `challenge`: `γ = keccak256(image ‖ commitment) mod r`, where `image` is the picture bytes
//!    (RGB8, row-major, `(y·W + x)·3 + c`, 3,072 bytes for 32×32) and `commitment` its 32-byte
//!    big-endian encoding; `r` is the BN254 scalar modulus.
//! 4. `evaluation`: the picture's chunks evaluated at `γ` by Horner's rule,
//!    `((c_0·γ + c_1)·γ + …)·γ + c_{n-1} mod r`. The chunks `c_i` are the picture bytes cut into
//!    31-byte pieces, each read as a **big-endian** integer; the last holds the remaining bytes
//!    (3 of them for 32×32 RGB: 3,072 = 99·31 + 3, so `n = 100`).
//!
//! The contract computes `challenge` and `evaluation` from the image it receives (a keccak over
//! 3 KB and 100 multiply-adds), so the verifier checks four public inputs instead of the 100
//! chunks — each public input costs the generated verifier about 160 bytes of code.
//!
//! Why this binds the picture: the commitment fixes the latent (Poseidon is collision
//! resistant), hence the model's picture `P`, before `γ` exists; `γ` is a hash of the submitted
//! image `P'` and the commitment. The circuit proves `Σ P_i γ^(n-1-i) = Σ P'_i γ^(n-1-i)`, so a
//! proof for `P' ≠ P` needs `γ` to be a root of a fixed nonzero polynomial of degree `< n`:
//! probability at most `(n - 1)/r ≈ 2^-247` per keccak query (Schwartz–Zippel, keccak as a
//! random oracle).
//!
//! Latent chunks use the same 31-byte packing over the *offset* latent bytes `latent_i + 128`.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::{FromUniformBytes, PrimeField};
use sha3::{Digest, Keccak256};

use super::poseidon;

/// Bytes per packed field element: 31 bytes always fit below the BN254 scalar modulus.
pub const CHUNK_BYTES: usize = 31;

/// Packs bytes into big-endian 31-byte chunks.
pub fn pack_bytes(bytes: &[u8]) -> Vec<Fr> {
    pack_values(&bytes.iter().map(|&b| i64::from(b)).collect::<Vec<_>>())
}

/// [`pack_bytes`] over integers (the circuit's view, where a cheating "byte" may be anything).
pub fn pack_values(values: &[i64]) -> Vec<Fr> {
    values
        .chunks(CHUNK_BYTES)
        .map(|chunk| chunk.iter().fold(Fr::zero(), |acc, &b| acc * Fr::from(256) + super::fr_from_i64(b)))
        .collect()
}

/// The weight of byte `i` of a `len`-byte chunk: `256^(len-1-i)`.
pub fn chunk_weights(len: usize) -> Vec<Fr> {
    let mut w = vec![Fr::one(); len];
    for i in (0..len.saturating_sub(1)).rev() {
        w[i] = w[i + 1] * Fr::from(256);
    }
    w
}

/// The offset latent bytes `latent_i + 128`.
pub fn latent_bytes(latent: &[i8]) -> Vec<u8> {
    latent.iter().map(|&v| (i16::from(v) + 128) as u8).collect()
}

/// The prompt commitment: Poseidon(`salt`, pack(latent bytes)…).
pub fn commitment(latent: &[i8], salt: Fr) -> Fr {
    commitment_of_values(&latent_bytes(latent).iter().map(|&b| i64::from(b)).collect::<Vec<_>>(), salt)
}

/// [`commitment`] over the stored latent values.
pub fn commitment_of_values(latent_bytes: &[i64], salt: Fr) -> Fr {
    let mut message = vec![salt];
    message.extend(pack_values(latent_bytes));
    poseidon::hash(&message)
}

/// An Ethereum address as a field element.
pub fn address_to_fr(address: &[u8; 20]) -> Fr {
    let mut repr = [0u8; 32];
    for (i, b) in address.iter().rev().enumerate() {
        repr[i] = *b;
    }
    // 160 bits is always below the modulus.
    Fr::from_repr(repr).unwrap_or(Fr::zero())
}

/// `keccak256(image ‖ commitment)` as a big-endian integer, reduced modulo `r`.
pub fn challenge(picture_rgb: &[u8], commitment: Fr) -> Fr {
    let mut hasher = Keccak256::new();
    hasher.update(picture_rgb);
    hasher.update(fr_to_be(&commitment));
    let digest = hasher.finalize();
    let mut wide = [0u8; 64];
    for (i, b) in digest.iter().rev().enumerate() {
        wide[i] = *b;
    }
    Fr::from_uniform_bytes(&wide)
}

/// Horner's rule: `((c_0·x + c_1)·x + …)·x + c_{n-1}`.
pub fn horner(coefficients: &[Fr], x: Fr) -> Fr {
    coefficients.iter().fold(Fr::zero(), |acc, c| acc * x + c)
}

/// A field element as 32 big-endian bytes (the EVM's word order).
pub fn fr_to_be(v: &Fr) -> [u8; 32] {
    let mut out = v.to_repr();
    out.reverse();
    out
}

/// The instance column: minter, commitment, challenge, evaluation. The mint statement is the
/// graph circuit of a generator with its latent [committed](super::graph::Visibility::Committed)
/// and its output a [picture](super::graph::Visibility::Picture).
pub fn instances(minter: &[u8; 20], commitment: Fr, picture_rgb: &[u8]) -> Vec<Fr> {
    instances_of_values(minter, commitment, &picture_rgb.iter().map(|&b| i64::from(b)).collect::<Vec<_>>())
}

/// [`instances`] over the circuit's picture values (in a tampered witness a "byte" may be
/// anything; the challenge then hashes its low 8 bits).
pub fn instances_of_values(minter: &[u8; 20], commitment: Fr, picture: &[i64]) -> Vec<Fr> {
    let bytes: Vec<u8> = picture.iter().map(|&v| v as u8).collect();
    let gamma = challenge(&bytes, commitment);
    vec![address_to_fr(minter), commitment, gamma, horner(&pack_values(picture), gamma)]
}

/// Number of instance values.
pub const INSTANCES: usize = 4;
