//! Keys, proofs and their files: KZG on BN254, SHPLONK, and snark-verifier's `EvmTranscript`
//! (Keccak challenges), so the same proof verifies natively and in the generated on-chain
//! verifier.
//!
//! - [`srs`]: KZG parameters — standard halo2 params files (raw or compressed points), or an
//!   insecure deterministic development SRS.
//! - [`ptau`]: Powers-of-Tau ceremony files (snarkjs / Hermez `.ptau`), checked and turned
//!   into halo2 params.
//! - [`keys`]: key generation and the on-disk key cache, bound to a digest of the circuit and
//!   the SRS so a stale key is detected, never used.
//! - [`proof`]: the JSON proof file of a mint.
//! - [`graph`]: the JSON proof file of a model proof.
//!
//! No file system access here: functions take and return bytes; the CLI does the I/O.

pub mod evm;
pub mod graph;
pub mod keys;
pub mod proof;
pub mod ptau;
pub mod srs;

use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::plonk::{create_proof, verify_proof, ProvingKey, VerifyingKey};
use halo2_proofs::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_proofs::poly::kzg::multiopen::{ProverSHPLONK, VerifierSHPLONK};
use halo2_proofs::poly::kzg::strategy::SingleStrategy;
use halo2_proofs::transcript::{TranscriptReadBuffer, TranscriptWriterBuffer};
use rand_core::RngCore;
use snark_verifier::loader::native::NativeLoader;
use snark_verifier::system::halo2::transcript::evm::EvmTranscript;

use crate::circuit::graph::{GraphCircuit, GraphParams, GraphWitness};

/// What can go wrong while setting up, proving or verifying.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProverError {
    #[error(transparent)]
    Srs(#[from] srs::SrsError),
    #[error(transparent)]
    Keys(#[from] keys::KeyError),
    #[error(transparent)]
    Proof(#[from] proof::ProofError),
    #[error("the circuit needs k = {need} but the SRS only has k = {have}")]
    SrsTooSmall { need: u32, have: u32 },
    #[error("key generation failed")]
    Keygen(#[source] halo2_proofs::plonk::Error),
    #[error("proving failed (is the witness consistent with the model?)")]
    Prove(#[source] halo2_proofs::plonk::Error),
    #[error("the proof does not verify for these public inputs")]
    Invalid,
    #[error(transparent)]
    Graph(crate::graph::GraphError),
    #[error("the circuit was made without its model")]
    NoModel,
}

/// Proves `witness` for the circuit of `pk`; returns the public inputs and the proof bytes.
/// The inputs are checked against the model first (count, length, range), so a bad input is
/// an error here rather than a failed proof.
pub fn prove(
    params: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    circuit: &GraphParams,
    witness: GraphWitness,
    rng: impl RngCore,
) -> Result<(Vec<Fr>, Vec<u8>), ProverError> {
    let graph = circuit.graph.as_deref().ok_or(ProverError::NoModel)?;
    graph.run(&witness.inputs).map_err(ProverError::Graph)?;
    let instances = witness.instances(circuit).ok_or(ProverError::NoModel)?;
    let circuit = GraphCircuit { params: circuit.clone(), witness: Some(witness) };
    let mut transcript =
        <EvmTranscript<G1Affine, NativeLoader, Vec<u8>, Vec<u8>> as TranscriptWriterBuffer<_, _, _>>::init(Vec::new());
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
        params,
        pk,
        &[circuit],
        &[&[&instances]],
        rng,
        &mut transcript,
    )
    .map_err(ProverError::Prove)?;
    Ok((instances, transcript.finalize()))
}

/// Verifies `proof` against `instances` with the verifying key.
pub fn verify(params: &ParamsKZG<Bn256>, vk: &VerifyingKey<G1Affine>, instances: &[Fr], proof: &[u8]) -> Result<(), ProverError> {
    let mut transcript = <EvmTranscript<G1Affine, NativeLoader, &[u8], Vec<u8>> as TranscriptReadBuffer<_, _, _>>::init(proof);
    let strategy = SingleStrategy::new(params);
    verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, _, _, _>(
        params,
        vk,
        strategy,
        &[&[instances]],
        &mut transcript,
    )
    .map_err(|_| ProverError::Invalid)
}
