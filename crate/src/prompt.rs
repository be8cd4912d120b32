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
//!
//! # The prompt's words
//!
//! A generator trained with a condition carries its text encoder, [`Words`] (from the ONNX
//! model's `section9.prompt` metadata, kept in the compiled model and hashed into its id): a
//! vocabulary that maps each word to an integer vector over the training set's categories.
//! Its latent is then `noise ‖ condition`: the first [`Words::offset`] values come from the hash
//! above, the rest from the prompt's words ([`Words::condition`]):
//!
//! ```text
//! tokens       = the maximal runs of ASCII letters and digits, lower-cased (any other character
//!                separates words)
//! vector(t)    = words[t], else words[t without a final "s"], else words[t without a final "es"];
//!                a token none of these finds is ignored
//! condition[c] = round_half_up(Σ vector(t)[c] / n) over the n tokens found; all zeros when n = 0
//! ```
//!
//! The condition is a function of the prompt alone, but it is part of the committed latent: the
//! salt keeps the commitment hiding, and the picture shows no more of the prompt than what it
//! visibly depicts.

use std::collections::BTreeMap;

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::FromUniformBytes;
use serde::{Deserialize, Serialize};
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

/// File format tag of [`Words`].
pub const WORDS_FORMAT: &str = "section9-words-v1";
/// Largest vocabulary read (words), and longest word.
const MAX_WORDS: usize = 100_000;
const MAX_WORD_LEN: usize = 64;

/// A generator's text encoder: the prompt's words → the last values of its latent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Words {
    pub format: String,
    /// Index of the latent's first condition value (the noise fills `0..offset`).
    pub offset: usize,
    /// What each condition value stands for (the training set's categories).
    pub classes: Vec<String>,
    /// Word → one value in `[0, 127]` per class.
    pub words: BTreeMap<String, Vec<u8>>,
}

/// Why a text encoder cannot serve a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WordsError {
    #[error("the prompt vocabulary is not valid JSON of the expected shape: {0}")]
    Json(String),
    #[error("prompt vocabulary format `{0}`, this version reads `{WORDS_FORMAT}`")]
    Format(String),
    #[error("the prompt's condition fills latent values {offset}..{end}, but the latent holds {len}")]
    Length { offset: usize, end: usize, len: usize },
    #[error("the prompt vocabulary has no classes, or more than 127 of them, or more than {MAX_WORDS} words")]
    Size,
    #[error("prompt word `{0}` is not 1 to {MAX_WORD_LEN} lower-case ASCII letters and digits")]
    Word(String),
    #[error("prompt word `{word}` has {got} values for {classes} classes, or one above 127")]
    Vector { word: String, got: usize, classes: usize },
}

impl Words {
    pub fn from_json(text: &str) -> Result<Words, WordsError> {
        let words: Words = serde_json::from_str(text).map_err(|e| WordsError::Json(e.to_string()))?;
        if words.format != WORDS_FORMAT {
            return Err(WordsError::Format(words.format));
        }
        Ok(words)
    }

    /// Checks the vocabulary against a latent of `latent_len` values.
    pub fn check(&self, latent_len: usize) -> Result<(), WordsError> {
        if self.format != WORDS_FORMAT {
            return Err(WordsError::Format(self.format.clone()));
        }
        let classes = self.classes.len();
        if classes == 0 || classes > 127 || self.words.len() > MAX_WORDS {
            return Err(WordsError::Size);
        }
        let end = self.offset.saturating_add(classes);
        if end != latent_len {
            return Err(WordsError::Length { offset: self.offset, end, len: latent_len });
        }
        for (word, vector) in &self.words {
            if word.is_empty() || word.len() > MAX_WORD_LEN || !word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
                return Err(WordsError::Word(word.chars().take(MAX_WORD_LEN).collect()));
            }
            if vector.len() != classes || vector.iter().any(|&v| v > 127) {
                return Err(WordsError::Vector { word: word.clone(), got: vector.len(), classes });
            }
        }
        Ok(())
    }

    /// The vector of one token (see the module docs for the plural rule).
    fn lookup(&self, token: &str) -> Option<&[u8]> {
        let stems = [Some(token), token.strip_suffix('s'), token.strip_suffix("es")];
        stems.into_iter().flatten().filter(|t| !t.is_empty()).find_map(|t| self.words.get(t)).map(Vec::as_slice)
    }

    /// Whether a token of [`tokens`] is in the vocabulary (by the plural rule too).
    pub fn knows(&self, token: &str) -> bool {
        self.lookup(token).is_some()
    }

    /// The condition of `prompt`: one value in `[0, 127]` per class.
    pub fn condition(&self, prompt: &str) -> Vec<i8> {
        let mut sums = vec![0u64; self.classes.len()];
        let mut n = 0u64;
        for vector in tokens(prompt).filter_map(|t| self.lookup(&t)) {
            n += 1;
            for (s, &v) in sums.iter_mut().zip(vector) {
                *s += u64::from(v);
            }
        }
        // Each value is a mean of values ≤ 127, so it fits an int8.
        sums.into_iter().map(|s| if n == 0 { 0 } else { ((2 * s + n) / (2 * n)) as i8 }).collect()
    }

    /// The latent of `prompt` under `seed`: noise from the hash, then the condition.
    pub fn latent(&self, seed: &Seed, prompt: &str) -> Vec<i8> {
        let mut latent = seed.latent(prompt, self.offset);
        latent.extend(self.condition(prompt));
        latent
    }
}

/// The maximal runs of ASCII letters and digits of `text`, lower-cased.
pub fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|t| !t.is_empty()).map(str::to_ascii_lowercase)
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

    fn words() -> Words {
        let words = [("cat", vec![100, 27]), ("fox", vec![0, 127]), ("red", vec![64, 63])];
        Words {
            format: WORDS_FORMAT.into(),
            offset: 3,
            classes: vec!["animal".into(), "thing".into()],
            words: words.into_iter().map(|(w, v)| (w.to_string(), v)).collect(),
        }
    }

    #[test]
    fn the_condition_is_the_rounded_mean_of_the_known_words() {
        let w = words();
        assert!(w.check(5).is_ok());
        assert_eq!(w.condition("cat"), [100, 27]);
        // (100 + 0 + 64) / 3 = 54.67 → 55; (27 + 127 + 63) / 3 = 72.33 → 72.
        assert_eq!(w.condition("a red fox and a cat"), [55, 72]);
        // (100 + 0) / 2 = 50 exactly; (27 + 127) / 2 = 77 exactly.
        assert_eq!(w.condition("Cats & FOXES"), [50, 77]);
        // A half rounds up: (100 + 64) / 2 = 82, (27 + 63) / 2 = 45; then (0 + 63)/2 = 31.5 → 32.
        assert_eq!(w.condition("red-cat"), [82, 45]);
        assert_eq!(w.condition("red fox"), [32, 95]);
        assert_eq!(w.condition("the dog"), [0, 0]);
        assert_eq!(w.condition("s es"), [0, 0]);
        // Any non-ASCII character separates words, as punctuation does.
        assert_eq!(w.condition("cat·fox"), [50, 77]);
        assert_eq!(w.condition("cätfox"), [0, 0]);
    }

    #[test]
    fn the_latent_is_noise_then_condition() {
        let w = words();
        let latent = w.latent(&SEED, "a fox");
        assert_eq!(latent[..3], SEED.latent("a fox", 3)[..]);
        assert_eq!(latent[3..], [0, 127]);
    }

    #[test]
    fn a_vocabulary_that_cannot_serve_the_latent_is_refused() {
        assert!(matches!(words().check(6), Err(WordsError::Length { offset: 3, end: 5, len: 6 })));
        let mut w = words();
        w.words.insert("Fox".into(), vec![0, 1]);
        assert!(matches!(w.check(5), Err(WordsError::Word(ref t)) if t == "Fox"));
        let mut w = words();
        w.words.insert("owl".into(), vec![1]);
        assert!(matches!(w.check(5), Err(WordsError::Vector { got: 1, classes: 2, .. })));
        let mut w = words();
        w.words.insert("owl".into(), vec![1, 128]);
        assert!(matches!(w.check(5), Err(WordsError::Vector { .. })));
        let mut w = words();
        w.classes.clear();
        assert!(matches!(w.check(3), Err(WordsError::Size)));
        let mut w = words();
        w.offset = usize::MAX;
        assert!(matches!(w.check(5), Err(WordsError::Length { .. })));
        let mut w = words();
        w.format = "section9-words-v0".into();
        assert!(matches!(w.check(5), Err(WordsError::Format(_))));
        assert!(matches!(Words::from_json("[1, 2]"), Err(WordsError::Json(_))));
    }

    proptest::proptest! {
        /// Arbitrary text as a vocabulary file is read or refused, never a panic; any prompt
        /// gives one int8 value in [0, 127] per class, and the same one every time.
        #[test]
        fn arbitrary_vocabularies_and_prompts_never_panic(text in ".{0,200}", bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200), prompt in proptest::prelude::any::<String>()) {
            if let Ok(w) = Words::from_json(&text) {
                let _ = w.check(32);
            }
            let _ = Words::from_json(&String::from_utf8_lossy(&bytes));
            let w = words();
            let condition = w.condition(&prompt);
            proptest::prop_assert_eq!(condition.len(), 2);
            proptest::prop_assert!(condition.iter().all(|&v| (0..=127).contains(&v)));
            proptest::prop_assert_eq!(condition, w.condition(&prompt));
        }
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
