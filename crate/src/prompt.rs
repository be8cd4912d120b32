//! Prompt + secret seed → latent and salt: the deterministic, documented map from what an
//! artist keeps to the private int8 latent vector and the commitment's salt.
//!
//! ```text
//! block_0     = SHA-256("section9/latent/v2" ‖ 0x00 ‖ seed (32 bytes) ‖ UTF-8(prompt))
//! block_(i+1) = SHA-256(block_i)
//! latent      = the first `len` bytes of block_0 ‖ block_1 ‖ …, each read as two's-complement int8
//! salt        = the 64 bytes SHA-256("section9/salt/v1" ‖ 0x00 ‖ seed ‖ 0x00) ‖ SHA-256(… ‖ 0x01),
//!               reduced modulo the BN254 scalar field (uniform: 512 bits for a 254-bit field)
//! ```
//!
//! Why a seed: the model and the picture are public and inference takes a millisecond, so a
//! latent derived from the prompt alone could be found by trying a dictionary of prompts
//! against a minted (or pending) picture — revealing the prompt and letting anyone re-prove the
//! picture for their own address. With 256 secret random bits in the hash, the picture says
//! nothing about the prompt beyond what it visibly shows. The same prompt with another seed is
//! another variation; (prompt, seed) together reproduce the picture and open the commitment,
//! which is how authorship is proved later.
//!
//! Hash bytes are uniform, so the latent is uniform over int8 — the distribution the generator
//! was trained on.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::FromUniformBytes;
use sha2::{Digest, Sha256};

/// Domain separator of the latent, so it never equals a hash used elsewhere.
pub const DOMAIN: &[u8] = b"section9/latent/v2\0";
/// Domain separator of the salt.
pub const SALT_DOMAIN: &[u8] = b"section9/salt/v1\0";

/// The artist's secret: 32 random bytes, kept with the prompt.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Seed(pub [u8; 32]);

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeedError {
    #[error("a seed is 64 hex digits (32 bytes), optionally after 0x; got {0} characters")]
    Length(usize),
    #[error("a seed is 64 hex digits; found a character that is not one")]
    Hex,
}

impl Seed {
    /// A fresh seed from the operating system's (or, on wasm, the browser's) randomness.
    pub fn random(mut rng: impl rand_core::RngCore + rand_core::CryptoRng) -> Self {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        Seed(bytes)
    }

    /// Parses `0x` + 64 hex digits (the `0x` is optional).
    pub fn from_hex(text: &str) -> Result<Self, SeedError> {
        let digits = text.trim().strip_prefix("0x").unwrap_or(text.trim());
        if digits.len() != 64 || !digits.is_ascii() {
            return Err(SeedError::Length(digits.chars().count()));
        }
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SeedError::Hex);
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).map_err(|_| SeedError::Hex)?;
        }
        Ok(Seed(bytes))
    }

    /// `0x` + 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        format!("0x{}", crate::hex_string(&self.0))
    }

    /// The latent of `len` int8 values for `prompt` under this seed.
    pub fn latent(&self, prompt: &str, len: usize) -> Vec<i8> {
        let mut block: [u8; 32] = Sha256::new()
            .chain_update(DOMAIN)
            .chain_update(self.0)
            .chain_update(prompt.as_bytes())
            .finalize()
            .into();
        let mut latent = Vec::with_capacity(len);
        while latent.len() < len {
            let take = (len - latent.len()).min(block.len());
            latent.extend(block[..take].iter().map(|&b| b as i8));
            block = Sha256::digest(block).into();
        }
        latent
    }

    /// The commitment's salt.
    pub fn salt(&self) -> Fr {
        let mut wide = [0u8; 64];
        for (i, half) in wide.chunks_exact_mut(32).enumerate() {
            let digest = Sha256::new().chain_update(SALT_DOMAIN).chain_update(self.0).chain_update([i as u8]).finalize();
            half.copy_from_slice(&digest);
        }
        Fr::from_uniform_bytes(&wide)
    }
}

impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A seed is a secret: never print it by accident (logs, panics, error chains).
        f.write_str("Seed(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: Seed = Seed([7; 32]);

    #[test]
    fn longer_latents_extend_shorter_ones() {
        let short = SEED.latent("a cat", 32);
        let long = SEED.latent("a cat", 80);
        assert_eq!(long.len(), 80);
        assert_eq!(&long[..32], &short[..]);
        assert_ne!(&long[32..64], &short[..]);
    }

    #[test]
    fn prompts_and_seeds_differ() {
        assert_ne!(SEED.latent("a cat", 32), SEED.latent("a cat ", 32));
        assert_ne!(SEED.latent("a cat", 32), Seed([8; 32]).latent("a cat", 32));
        assert_ne!(SEED.salt(), Seed([8; 32]).salt());
    }

    #[test]
    fn the_latent_is_the_documented_hash() {
        let mut preimage = DOMAIN.to_vec();
        preimage.extend([7u8; 32]);
        preimage.extend(b"a cat");
        let block: Vec<i8> = Sha256::digest(&preimage).iter().map(|&b| b as i8).collect();
        assert_eq!(SEED.latent("a cat", 32), block);
    }

    #[test]
    fn seeds_roundtrip_through_hex_and_bad_ones_are_refused() {
        let seed = Seed::from_hex(&SEED.to_hex()).unwrap();
        assert!(seed == SEED);
        assert!(Seed::from_hex(&SEED.to_hex()[2..]).is_ok());
        assert!(matches!(Seed::from_hex("0x12"), Err(SeedError::Length(2))));
        assert!(matches!(Seed::from_hex(&"g".repeat(64)), Err(SeedError::Hex)));
        assert!(matches!(Seed::from_hex(&format!("+f{}", "0".repeat(62))), Err(SeedError::Hex)));
        assert!(matches!(Seed::from_hex(&"é".repeat(32)), Err(SeedError::Length(32))));
        assert_eq!(format!("{SEED:?}"), "Seed(…)");
    }
}
