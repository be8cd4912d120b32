//! What every proving command shares: the SRS (`--params FILE` or the development SRS, cached
//! per `k` in the key directory) and the proving and verifying keys of a circuit, cached there
//! under its digest.
//!
//! Verification needs neither `2^k` points nor key generation once the verifying key is
//! cached: it reads four points of the SRS (`srs::read_verifier`) and the cached key. The key
//! directory is trusted like the binary itself (whoever can write it can make a forged key
//! decide); `verify --derive-vk` ignores the cache and derives the key from the circuit and
//! the whole SRS.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::{ProvingKey, VerifyingKey};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use section9::circuit::graph::GraphParams;
use section9::circuit::DEFAULT_WIDTH;
use section9::prover::{keys, srs};

use super::step;

#[derive(clap::Args, Clone)]
pub struct KeyArgs {
    /// A halo2 KZG params file (raw or compressed points, k at least the circuit's).
    #[arg(long, conflicts_with = "dev_srs")]
    pub params: Option<PathBuf>,
    /// Use the INSECURE deterministic development SRS (anyone can forge proofs against it).
    #[arg(long)]
    pub dev_srs: bool,
    /// Directory of the key cache (and of the development SRS, one file per k).
    #[arg(long, default_value = "keys")]
    pub keys_dir: PathBuf,
    /// Terms per dot-product row of the mint circuit (model proofs choose theirs).
    #[arg(long, default_value_t = DEFAULT_WIDTH)]
    pub width: usize,
    /// Range lanes of the mint circuit, 1 to 4 (model proofs choose theirs). One is the fewest
    /// columns (the least verification gas); `collection new --optimize prover` picks the
    /// layout with the smallest `k` (the fastest proof).
    #[arg(long, default_value_t = 1)]
    pub lanes: usize,
    /// Outputs each dot row of the mint circuit computes over the same inputs, 1 to 4 (a
    /// convolution's channels at one position): fewer rows, one advice and `W + 1` fixed
    /// columns more per accumulator.
    #[arg(long, default_value_t = 1)]
    pub accumulators: usize,
    /// The learned weights: `fixed` (constants of the circuit: the verifier knows the model) or
    /// `committed` (private witnesses; the last public value is their Poseidon commitment, and
    /// the keys and verifier are the model's shape's, shared by every model of that shape).
    #[arg(long, default_value = "fixed")]
    pub weights: section9::circuit::graph::Weights,
}

/// An SRS and whether it is the (insecure) development one.
pub struct Srs {
    pub params: ParamsKZG<Bn256>,
    pub dev: bool,
}

impl KeyArgs {
    /// The whole SRS at `k`: what key generation and proving need.
    pub fn srs(&self, k: u32) -> Result<Srs> {
        let params = match (&self.params, self.dev_srs) {
            (Some(path), _) => {
                let bytes = std::fs::read(path).with_context(|| format!("cannot read the params file {}", path.display()))?;
                step("loading the SRS", || srs::read(&bytes, k).with_context(|| format!("cannot use the params file {}", path.display())))?.0
            }
            (None, true) => {
                warn_dev();
                self.dev_srs_cached(k)?
            }
            (None, false) => bail!("no SRS given: pass --params <halo2 KZG params file> (or --dev-srs for local testing)"),
        };
        Ok(self.checked(params))
    }

    /// Verification's part of the SRS at `k`: four points, whatever the file's size.
    pub fn verifier_srs(&self, k: u32) -> Result<Srs> {
        let params = match (&self.params, self.dev_srs) {
            (Some(path), _) => {
                let file = std::fs::File::open(path).with_context(|| format!("cannot read the params file {}", path.display()))?;
                srs::read_verifier(std::io::BufReader::new(file), k).with_context(|| format!("cannot use the params file {}", path.display()))?
            }
            (None, true) => {
                warn_dev();
                srs::dev_verifier_params(k)
            }
            (None, false) => bail!("no SRS given: pass --params <halo2 KZG params file> (or --dev-srs for local testing)"),
        };
        Ok(self.checked(params))
    }

    fn checked(&self, params: ParamsKZG<Bn256>) -> Srs {
        // A params file can hold the development SRS too (an `export-web` params.bin, say).
        let dev = srs::is_dev(&params);
        if dev && !self.dev_srs {
            eprintln!("WARNING: this params file is the INSECURE development SRS (public seed): local testing only.");
        }
        Srs { params, dev }
    }

    /// The development SRS at `k`, from the key directory or generated once and written there.
    fn dev_srs_cached(&self, k: u32) -> Result<ParamsKZG<Bn256>> {
        let path = self.keys_dir.join(format!("dev-srs-k{k}.params"));
        if let Ok(bytes) = std::fs::read(&path) {
            match srs::read(&bytes, k) {
                Ok(params) if srs::is_dev(&params) => {
                    eprintln!("development SRS: {} (cached)", path.display());
                    return Ok(params);
                }
                Ok(_) => eprintln!("ignoring {}: not the development SRS", path.display()),
                Err(e) => eprintln!("ignoring {}: {e}", path.display()),
            }
        }
        let (params, _) = step(&format!("generating the development SRS (k = {k})"), || Ok(srs::dev_srs(k)))?;
        std::fs::create_dir_all(&self.keys_dir).with_context(|| format!("cannot create {}", self.keys_dir.display()))?;
        // Written aside and renamed: a concurrent reader never sees half a file.
        let partial = path.with_extension("partial");
        std::fs::write(&partial, srs::write(&params)).with_context(|| format!("cannot write {}", partial.display()))?;
        std::fs::rename(&partial, &path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(params)
    }
}

fn warn_dev() {
    eprintln!("WARNING: using the INSECURE development SRS (public seed). Anyone can forge proofs");
    eprintln!("         against it: use it for local testing only, never for a deployed verifier.");
}

/// The key files of one circuit: `<dir>/<kind>-<digest prefix>.pk` and `.vk`.
pub struct KeyCache<'a> {
    pub dir: &'a Path,
    pub kind: &'static str,
    pub circuit: &'a GraphParams,
    /// The circuit digest with the SRS (`keys::circuit_digest`).
    pub digest: [u8; 32],
}

impl<'a> KeyCache<'a> {
    /// `params` may be the whole SRS or verification's part: the digest reads four points.
    pub fn new(dir: &'a Path, kind: &'static str, circuit: &'a GraphParams, params: &ParamsKZG<Bn256>) -> Self {
        KeyCache { dir, kind, circuit, digest: keys::circuit_digest(circuit, params) }
    }

    pub fn pk_path(&self) -> PathBuf {
        self.dir.join(format!("{}-{}.pk", self.kind, &section9::hex_string(&self.digest)[..16]))
    }

    pub fn vk_path(&self) -> PathBuf {
        self.dir.join(format!("{}-{}.vk", self.kind, &section9::hex_string(&self.digest)[..16]))
    }

    /// The cached proving key, or a new one (then cached with its verifying key).
    pub fn proving_key(&self, params: &ParamsKZG<Bn256>) -> Result<ProvingKey<G1Affine>> {
        let path = self.pk_path();
        if let Ok(bytes) = std::fs::read(&path) {
            match keys::read_pk(&bytes, &self.digest, self.circuit) {
                Ok(pk) => {
                    eprintln!("proving key: {} (cached)", path.display());
                    return Ok(pk);
                }
                Err(e) => eprintln!("ignoring {}: {e}", path.display()),
            }
        }
        let (pk, _) = step(&format!("generating keys (k = {})", self.circuit.k()), || Ok(keys::generate(params, self.circuit)?))?;
        self.write(&path, &keys::write_pk(&pk, &self.digest))?;
        self.write(&self.vk_path(), &keys::write_vk(pk.get_vk(), &self.digest))?;
        Ok(pk)
    }

    /// The cached verifying key, if there is a valid one for this digest.
    pub fn cached_vk(&self) -> Option<VerifyingKey<G1Affine>> {
        let path = self.vk_path();
        let bytes = std::fs::read(&path).ok()?;
        match keys::read_vk(&bytes, &self.digest, self.circuit) {
            Ok(vk) => {
                eprintln!("verifying key: {} (cached)", path.display());
                Some(vk)
            }
            Err(e) => {
                eprintln!("ignoring {}: {e}", path.display());
                None
            }
        }
    }

    /// The verifying key derived from the circuit and the whole SRS, then cached.
    pub fn derive_vk(&self, params: &ParamsKZG<Bn256>) -> Result<VerifyingKey<G1Affine>> {
        let (vk, _) = step("deriving the verifying key", || Ok(keys::verifying_key(params, self.circuit)?))?;
        self.write(&self.vk_path(), &keys::write_vk(&vk, &self.digest))?;
        Ok(vk)
    }

    /// The cached verifying key or, without one (or with `derive`), the derived one; the whole
    /// SRS is loaded (`full`) only then.
    pub fn verifying_key(&self, derive: bool, full: impl FnOnce() -> Result<ParamsKZG<Bn256>>) -> Result<VerifyingKey<G1Affine>> {
        match (!derive).then(|| self.cached_vk()).flatten() {
            Some(vk) => Ok(vk),
            None => self.derive_vk(&full()?),
        }
    }

    fn write(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        std::fs::create_dir_all(self.dir).with_context(|| format!("cannot create {}", self.dir.display()))?;
        std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
    }
}
