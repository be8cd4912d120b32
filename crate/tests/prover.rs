//! Real keys and proofs for the committed generator at its real k (development SRS):
//! a proof verifies; another minter, a changed pixel, a changed commitment or a flipped proof
//! byte do not; bad params, key and proof files are clear errors.

mod common;

use std::sync::OnceLock;

use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::plonk::ProvingKey;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_proofs::SerdeFormat;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use section9::circuit::graph::{GraphParams, GraphWitness};
use section9::circuit::{statement, DEFAULT_WIDTH};
use section9::prover::keys::{self, KeyError};
use section9::prover::proof::{ProofError, ProofFile};
use section9::prover::srs::{self, SrsError};
use section9::prover::{prove, verify, ProverError};
use section9::prompt::Seed;
use section9::Generator;

const MINTER: [u8; 20] = [0x5e; 20];

struct Fixture {
    model: Generator,
    circuit: GraphParams,
    params: ParamsKZG<Bn256>,
    pk: ProvingKey<G1Affine>,
    instances: Vec<Fr>,
    proof: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let model = common::gan();
        let circuit = GraphParams::mint(model.graph().clone(), DEFAULT_WIDTH).unwrap();
        let params = srs::dev_srs(circuit.k());
        let pk = keys::generate(&params, &circuit).unwrap();
        let latent = Seed([7; 32]).latent("a fox in the snow", 32);
        let witness = GraphWitness::mint(&latent, Fr::from(1234), MINTER);
        let (instances, proof) = prove(&params, &pk, &circuit, witness, ChaCha20Rng::from_seed([1; 32])).unwrap();
        Fixture { model, circuit, params, pk, instances, proof }
    })
}

#[test]
fn a_real_proof_verifies_at_the_real_k() {
    let f = fixture();
    assert!(f.circuit.k() <= 16, "k = {}", f.circuit.k());
    verify(&f.params, f.pk.get_vk(), &f.instances, &f.proof).unwrap();
}

#[test]
fn the_public_inputs_are_the_documented_statement() {
    let f = fixture();
    let latent = Seed([7; 32]).latent("a fox in the snow", 32);
    let picture = f.model.picture(&latent).unwrap();
    let expected = statement::instances(&MINTER, statement::commitment(&latent, Fr::from(1234)), &picture.rgb);
    assert_eq!(f.instances, expected);
    assert_eq!(f.instances.len(), statement::INSTANCES);
}

#[test]
fn another_minter_cannot_use_the_proof() {
    let f = fixture();
    let mut instances = f.instances.clone();
    instances[0] = statement::address_to_fr(&[0x77; 20]);
    assert!(matches!(verify(&f.params, f.pk.get_vk(), &instances, &f.proof), Err(ProverError::Invalid)));
}

#[test]
fn a_changed_pixel_does_not_verify() {
    let f = fixture();
    let latent = Seed([7; 32]).latent("a fox in the snow", 32);
    let mut rgb = f.model.picture(&latent).unwrap().rgb;
    rgb[1000] ^= 1;
    let instances = statement::instances(&MINTER, f.instances[1], &rgb);
    assert!(matches!(verify(&f.params, f.pk.get_vk(), &instances, &f.proof), Err(ProverError::Invalid)));
}

#[test]
fn a_changed_commitment_does_not_verify() {
    let f = fixture();
    let mut instances = f.instances.clone();
    instances[1] += Fr::one();
    assert!(matches!(verify(&f.params, f.pk.get_vk(), &instances, &f.proof), Err(ProverError::Invalid)));
}

#[test]
fn a_flipped_proof_byte_does_not_verify() {
    let f = fixture();
    for at in [0, 100, f.proof.len() / 2, f.proof.len() - 1] {
        let mut proof = f.proof.clone();
        proof[at] ^= 0x01;
        assert!(matches!(verify(&f.params, f.pk.get_vk(), &f.instances, &proof), Err(ProverError::Invalid)), "byte {at}");
    }
}

#[test]
fn a_truncated_or_empty_proof_is_an_error_not_a_panic() {
    let f = fixture();
    for len in [0, 31, f.proof.len() / 2, f.proof.len() - 1] {
        assert!(matches!(verify(&f.params, f.pk.get_vk(), &f.instances, &f.proof[..len]), Err(ProverError::Invalid)), "len {len}");
    }
}

#[test]
fn proof_size_and_layout_are_pinned() {
    // A deliberate circuit change shows up here: update on purpose, together with the
    // verifier contract and the README numbers.
    let f = fixture();
    assert_eq!(f.circuit.k(), 16);
    assert_eq!(f.proof.len(), 3040);
    let cs = f.pk.get_vk().cs();
    assert_eq!((cs.num_advice_columns(), cs.num_instance_columns(), cs.lookups().len()), (8, 1, 1));
    // 9 fixed columns of the layout and 4 of compressed selectors.
    assert_eq!((cs.num_fixed_columns(), cs.degree()), (13, 5));
}

#[test]
fn the_proof_file_roundtrips_and_checks_its_instances() {
    let f = fixture();
    let latent = Seed([7; 32]).latent("a fox in the snow", 32);
    let picture = f.model.picture(&latent).unwrap();
    let file = ProofFile::new(&f.model.id(), f.circuit.k(), true, &MINTER, &picture, &f.instances, &f.proof);
    let parsed = ProofFile::from_json(&file.to_json()).unwrap().parse().unwrap();
    assert_eq!(parsed.instances, f.instances);
    assert_eq!(parsed.proof, f.proof);
    verify(&f.params, f.pk.get_vk(), &parsed.instances, &parsed.proof).unwrap();

    let mut lying = file.clone();
    lying.minter = format!("0x{}", "77".repeat(20));
    assert!(matches!(lying.parse(), Err(ProofError::InstancesMismatch)));
    let mut odd = file.clone();
    odd.proof.pop();
    assert!(matches!(odd.parse(), Err(ProofError::Hex { field: "proof" })));
    let mut small = file.clone();
    small.picture.rgb.truncate(100);
    assert!(matches!(small.parse(), Err(ProofError::PictureSize { .. })));
    assert!(matches!(ProofFile::from_json("{\"format\": 1}"), Err(ProofError::Json(_))));
    let other = file.to_json().replace("section9-proof-v2", "section9-proof-v0");
    assert!(matches!(ProofFile::from_json(&other), Err(ProofError::Format { .. })));
}

#[test]
fn keys_roundtrip_and_stale_or_corrupted_keys_are_refused() {
    let f = fixture();
    let digest = keys::circuit_digest(&f.circuit, &f.params);
    let vk_file = keys::write_vk(f.pk.get_vk(), &digest);
    let vk = keys::read_vk(&vk_file, &digest, &f.circuit).unwrap();
    verify(&f.params, &vk, &f.instances, &f.proof).unwrap();

    let mut other = digest;
    other[0] ^= 1;
    assert!(matches!(keys::read_vk(&vk_file, &other, &f.circuit), Err(KeyError::Stale { .. })));
    assert!(matches!(keys::read_vk(&vk_file[..vk_file.len() - 7], &digest, &f.circuit), Err(KeyError::Corrupted)));
    let mut flipped = vk_file.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x80;
    assert!(matches!(keys::read_vk(&flipped, &digest, &f.circuit), Err(KeyError::Corrupted)));
    assert!(matches!(keys::read_vk(b"garbage", &digest, &f.circuit), Err(KeyError::NotAKeyFile)));
    // Another SRS gives another digest: a key for it is stale here.
    let wider = GraphParams::mint(f.model.graph().clone(), DEFAULT_WIDTH + 2).unwrap();
    assert_ne!(keys::circuit_digest(&wider, &f.params), digest);
}

/// The browser caches proving keys in this file format (IndexedDB): a read-back key proves,
/// and a damaged or stale file is an error before halo2's deserializer (which panics on short
/// input) sees it.
#[test]
fn a_proving_key_file_roundtrips_and_damaged_ones_are_refused_without_a_panic() {
    let f = fixture();
    let digest = keys::circuit_digest(&f.circuit, &f.params);
    let pk_file = keys::write_pk(&f.pk, &digest);
    // The CLI's format: an 80-byte header, then halo2's own serialization; one buffer of the
    // exact size (the browser keeps whatever the wasm memory grew to).
    assert_eq!(pk_file[80..], f.pk.to_bytes(SerdeFormat::RawBytes)[..]);
    assert_eq!(pk_file.capacity(), pk_file.len());
    let pk = keys::read_pk(&pk_file, &digest, &f.circuit).unwrap();
    let latent = Seed([9; 32]).latent("a heron at dusk", 32);
    let (instances, proof) =
        prove(&f.params, &pk, &f.circuit, GraphWitness::mint(&latent, Fr::from(99), MINTER), ChaCha20Rng::from_seed([2; 32])).unwrap();
    // Checked against the verifying key derived from the circuit, not the one read back.
    verify(&f.params, f.pk.get_vk(), &instances, &proof).unwrap();

    let mut other = digest;
    other[31] ^= 1;
    assert!(matches!(keys::read_pk(&pk_file, &other, &f.circuit), Err(KeyError::Stale { .. })));
    for len in [pk_file.len() - 1, pk_file.len() / 2, 81] {
        assert!(matches!(keys::read_pk(&pk_file[..len], &digest, &f.circuit), Err(KeyError::Corrupted)), "truncated to {len}");
    }
    let mut flipped = pk_file.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    assert!(matches!(keys::read_pk(&flipped, &digest, &f.circuit), Err(KeyError::Corrupted)));
    assert!(matches!(keys::read_pk(&[0x5a; 4096], &digest, &f.circuit), Err(KeyError::NotAKeyFile)));
    assert!(matches!(keys::read_pk(&[], &digest, &f.circuit), Err(KeyError::NotAKeyFile)));
}

#[test]
fn params_files_roundtrip_downsize_and_bad_ones_are_refused() {
    let small = srs::dev_srs(5);
    let bytes = srs::write(&small);
    let read = srs::read(&bytes, 4).unwrap();
    assert_eq!(halo2_proofs::poly::commitment::Params::k(&read), 4);
    assert_eq!(srs::fingerprint(&srs::read(&bytes, 5).unwrap()), srs::fingerprint(&small));

    assert!(matches!(srs::read(&bytes[..bytes.len() - 1], 5), Err(SrsError::Size { .. })));
    assert!(matches!(srs::read(&bytes[..3], 5), Err(SrsError::TooShort { .. })));
    assert!(matches!(srs::read(&bytes, 6), Err(SrsError::TooSmall { have: 5, need: 6 })));
    let mut huge = bytes.clone();
    huge[..4].copy_from_slice(&40u32.to_le_bytes());
    assert!(matches!(srs::read(&huge, 5), Err(SrsError::KTooLarge { k: 40 })));
    let mut bad_point = bytes.clone();
    for b in &mut bad_point[4..4 + 64] {
        *b = 0xff;
    }
    assert!(srs::read(&bad_point, 5).is_err());
}

#[test]
fn compressed_params_decode_in_parallel_to_the_same_srs_and_bad_ones_are_refused() {
    let params = srs::dev_srs(6);
    let bytes = srs::write_compressed(&params);
    // The parallel decoder must agree with halo2's own reader, point for point.
    let reference = ParamsKZG::<Bn256>::read_custom(&mut &bytes[..], SerdeFormat::Processed).unwrap();
    assert_eq!(srs::write(&srs::read(&bytes, 6).unwrap()), srs::write(&reference));
    assert_eq!(srs::write(&reference), srs::write(&params));
    assert_eq!(srs::fingerprint(&srs::read(&bytes, 5).unwrap()), srs::fingerprint(&srs::read(&srs::write(&params), 5).unwrap()));

    assert!(matches!(srs::read(&bytes[..bytes.len() - 1], 6), Err(SrsError::Size { .. })));
    let mut bad_point = bytes.clone();
    // An x coordinate above the field modulus is no point at all.
    for b in &mut bad_point[4 + 32..4 + 64] {
        *b = 0xff;
    }
    assert!(matches!(srs::read(&bad_point, 6), Err(SrsError::Points(_))));
}

#[test]
fn the_fast_development_srs_is_halo2s_setup_point_for_point() {
    for k in [1, 4, 7] {
        let reference = ParamsKZG::<Bn256>::setup(k, ChaCha20Rng::from_seed(srs::DEV_SEED));
        assert_eq!(srs::write(&srs::dev_srs(k)), srs::write(&reference), "k = {k}");
    }
}

#[test]
fn verification_reads_four_points_of_a_params_file_and_verifies_with_them() {
    let f = fixture();
    let k = f.circuit.k();
    let verifier = srs::dev_verifier_params(k);
    assert_eq!(srs::fingerprint(&verifier), srs::fingerprint(&f.params));
    verify(&verifier, f.pk.get_vk(), &f.instances, &f.proof).unwrap();
    let mut other = f.instances.clone();
    other[0] += Fr::one();
    assert!(matches!(verify(&verifier, f.pk.get_vk(), &other, &f.proof), Err(ProverError::Invalid)));

    // From a larger file, raw or compressed: the same four points as the SRS downsized to k.
    let big = srs::dev_srs(7);
    for bytes in [srs::write(&big), srs::write_compressed(&big)] {
        let read = srs::read_verifier(std::io::Cursor::new(&bytes), 5).unwrap();
        assert_eq!(srs::fingerprint(&read), srs::fingerprint(&srs::read(&bytes, 5).unwrap()));
        assert!(matches!(srs::read_verifier(std::io::Cursor::new(&bytes[..bytes.len() - 1]), 5), Err(SrsError::Size { .. })));
        assert!(matches!(srs::read_verifier(std::io::Cursor::new(&bytes), 8), Err(SrsError::TooSmall { have: 7, need: 8 })));
        assert!(matches!(srs::read_verifier(std::io::Cursor::new(&bytes[..2]), 5), Err(SrsError::TooShort { .. })));
    }
    let mut bad = srs::write_compressed(&big);
    let tail = bad.len() - 128;
    for b in &mut bad[tail..tail + 32] {
        *b = 0xff;
    }
    assert!(matches!(srs::read_verifier(std::io::Cursor::new(&bad), 5), Err(SrsError::Points(_))));
}

#[test]
fn a_too_small_srs_is_refused_by_key_generation() {
    let f = fixture();
    let small = srs::dev_srs(f.circuit.k() - 1);
    assert!(matches!(keys::generate(&small, &f.circuit), Err(ProverError::SrsTooSmall { .. })));
}

#[test]
fn the_solidity_verifier_is_generated_for_the_real_circuit() {
    let f = fixture();
    let code = section9::prover::evm::solidity_verifier(&f.params, f.pk.get_vk(), f.instances.len()).unwrap();
    assert!(code.contains("pragma solidity 0.8.19"), "{}", &code[..200.min(code.len())]);
    let calldata = section9::prover::evm::calldata(&f.instances, &f.proof);
    // 32-byte big-endian instances, then the proof, no selector.
    assert_eq!(calldata.len(), 32 * f.instances.len() + f.proof.len());
    assert_eq!(&calldata[..32], section9::prover::proof::fr_to_hex(&f.instances[0]).trim_start_matches("0x").as_bytes().chunks(2).map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap()).collect::<Vec<_>>().as_slice());
    // A verifier for another k is refused, not miscompiled.
    let other = srs::dev_srs(f.circuit.k() + 1);
    assert!(section9::prover::evm::solidity_verifier(&other, f.pk.get_vk(), f.instances.len()).is_err());
}
