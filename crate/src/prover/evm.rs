//! The on-chain verifier: snark-verifier's EVM loader replays the SHPLONK verifier of exactly
//! this circuit and emits it as Solidity (one `assembly` block, `pragma solidity 0.8.19`, a
//! fallback entry point). Calldata is the instances as 32-byte big-endian words followed by the
//! proof, no selector; a call that does not revert accepts.

use std::rc::Rc;

use halo2_proofs::halo2curves::bn256::{Bn256, Fq, Fr, G1Affine};
use halo2_proofs::plonk::VerifyingKey;
use halo2_proofs::poly::commitment::ParamsProver;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use snark_verifier::loader::evm::EvmLoader;
use snark_verifier::pcs::kzg::{Bdfg21, KzgAs, KzgDecidingKey};
use snark_verifier::system::halo2::transcript::evm::EvmTranscript;
use snark_verifier::system::halo2::{compile, Config};
use snark_verifier::verifier::plonk::PlonkVerifier;
use snark_verifier::verifier::SnarkVerifier;

type Verifier = PlonkVerifier<KzgAs<Bn256, Bdfg21>>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvmError {
    #[error("the verifying key's k ({vk}) differs from the SRS's ({srs})")]
    KMismatch { vk: u32, srs: u32 },
    #[error("snark-verifier could not build the verifier: {0:?}")]
    Build(snark_verifier::Error),
}

/// The Solidity source of the verifier for `vk` with `num_instances` public inputs.
pub fn solidity_verifier(params: &ParamsKZG<Bn256>, vk: &VerifyingKey<G1Affine>, num_instances: usize) -> Result<String, EvmError> {
    let (vk_k, srs_k) = (vk.get_domain().k(), halo2_proofs::poly::commitment::Params::k(params));
    if vk_k != srs_k {
        return Err(EvmError::KMismatch { vk: vk_k, srs: srs_k });
    }
    let protocol = compile(params, vk, Config::kzg().with_num_instance(vec![num_instances]));
    let deciding: KzgDecidingKey<Bn256> = (params.get_g()[0], params.g2(), params.s_g2()).into();
    let loader = EvmLoader::new::<Fq, Fr>();
    let protocol = protocol.loaded(&loader);
    let mut transcript = EvmTranscript::<_, Rc<EvmLoader>, _, _>::new(&loader);
    let instances = transcript.load_instances(vec![num_instances]);
    let proof = Verifier::read_proof(&deciding, &protocol, &instances, &mut transcript).map_err(EvmError::Build)?;
    Verifier::verify(&deciding, &protocol, &instances, &proof).map_err(EvmError::Build)?;
    Ok(loader.solidity_code())
}

/// The verifier's calldata: instances as 32-byte big-endian words, then the proof.
pub fn calldata(instances: &[Fr], proof: &[u8]) -> Vec<u8> {
    snark_verifier::loader::evm::encode_calldata(&[instances.to_vec()], proof)
}
