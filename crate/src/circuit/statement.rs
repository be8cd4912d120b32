//! The public statement of a mint proof, computed natively — what the contract rebuilds.
//!
//! One instance column, in this order:
//!
//! 1. `minter`: the 20-byte Ethereum address as an integer (the contract passes `msg.sender`).
//! 2. `commitment`: Poseidon(`salt`, latent chunks…) — see [`commitment`].
//! 3. `image`: the picture bytes (RGB8, row-major, `(y·W + x)·3 + c`) cut into 31-byte chunks,
//!    each read as a **big-endian** integer; the last chunk holds the remaining bytes
//!    (3 of them for a 32×32 RGB picture: 3,072 = 99·31 + 3, so 100 field elements).
//!
//! Latent chunks use the same packing over the *offset* latent bytes `latent_i + 128`.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::PrimeField;

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

/// CHW output values (already offset to `[0, 256)`) in picture byte order, HWC.
pub fn chw_to_hwc(output: &[i64], channels: usize) -> Vec<i64> {
    let hw = output.len() / channels.max(1);
    (0..output.len()).map(|b| output[(b % channels) * hw + b / channels]).collect()
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

/// The instance column: minter, commitment, picture chunks.
pub fn instances(minter: &[u8; 20], commitment: Fr, picture_rgb: &[u8]) -> Vec<Fr> {
    let mut out = vec![address_to_fr(minter), commitment];
    out.extend(pack_bytes(picture_rgb));
    out
}

/// Number of instance values for a picture of `bytes` bytes.
pub fn instance_len(bytes: usize) -> usize {
    2 + bytes.div_ceil(CHUNK_BYTES)
}
