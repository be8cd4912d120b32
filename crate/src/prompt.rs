//! Prompt → latent: the deterministic, documented map from an artist's text to the private
//! int8 latent vector.
//!
//! ```text
//! block_0     = SHA-256("section9/latent/v1" ‖ 0x00 ‖ UTF-8(prompt))
//! block_(i+1) = SHA-256(block_i)
//! latent      = the first `len` bytes of block_0 ‖ block_1 ‖ …, each read as two's-complement int8
//! ```
//!
//! Hash bytes are uniform, so the latent is uniform over int8 — the distribution the generator
//! was trained on. The prompt never leaves the prover: only `Poseidon(latent, salt)` is public.

use sha2::{Digest, Sha256};

/// Domain separator, so the latent never equals a hash used elsewhere.
pub const DOMAIN: &[u8] = b"section9/latent/v1\0";

/// The latent of `len` int8 values for `prompt`.
pub fn latent_from_prompt(prompt: &str, len: usize) -> Vec<i8> {
    let mut block: [u8; 32] = Sha256::new()
        .chain_update(DOMAIN)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longer_latents_extend_shorter_ones() {
        let short = latent_from_prompt("a cat", 32);
        let long = latent_from_prompt("a cat", 80);
        assert_eq!(long.len(), 80);
        assert_eq!(&long[..32], &short[..]);
        assert_ne!(&long[32..64], &short[..]);
    }

    #[test]
    fn prompts_differ() {
        assert_ne!(latent_from_prompt("a cat", 32), latent_from_prompt("a cat ", 32));
    }
}
