//! Known answers for the Poseidon instance the commitment uses (BN254, width 3, x⁵, 8 full and
//! 57 partial rounds, the round constants and MDS matrix of `poseidon-primitives`): the
//! reference implementation's permutation vector `poseidonperm_x5_254_3` (hadeshash
//! `code/test_vectors.txt`; also circomlibjs `poseidon([1, 2])`, state `[0, 1, 2]`). If the
//! constants drifted, the commitment the contract and the page recompute would silently differ.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::PrimeField;
use section9::circuit::poseidon::permute;

fn fr(hex_be: &str) -> Fr {
    let mut bytes: [u8; 32] = hex::decode(hex_be).unwrap().try_into().unwrap();
    bytes.reverse();
    Fr::from_repr(bytes).unwrap()
}

#[test]
fn the_permutation_matches_the_reference_vector_x5_254_3() {
    let mut state = [Fr::from(0), Fr::from(1), Fr::from(2)];
    permute(&mut state);
    assert_eq!(
        state,
        [
            fr("115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a"),
            fr("0fca49b798923ab0239de1c9e7a4a9a2210312b6a2f616d18b5a87f9b628ae29"),
            fr("0e7ae82e40091e63cbd4f16a6d16310b3729d4b6e138fcf54110e2867045a30c"),
        ]
    );
}

#[test]
fn the_sponge_is_the_permutation_with_the_length_in_the_capacity() {
    // `hash` absorbs two words into the rate, the length · 2^64 sits in the capacity (word 2):
    // one permutation for a two-word message.
    let mut state = [Fr::from(1), Fr::from(2), Fr::from_u128(2 << 64)];
    permute(&mut state);
    assert_eq!(section9::circuit::poseidon::hash(&[Fr::from(1), Fr::from(2)]), state[0]);
}
