//! The browser bindings: thin `Result<_, JsError>` wrappers over the library, for the mint
//! page's Web Worker. Values cross the boundary through `serde-wasm-bindgen`; timing and the
//! console come from `web-sys`; randomness from `getrandom`'s `js` backend.
//!
//! ```js
//! import init, { initThreadPool, Model, Prover } from 'section9';
//! await init();
//! await initThreadPool(navigator.hardwareConcurrency);   // threaded build only
//! const seed = randomSeed();                                    // the artist's secret
//! const picture = new Model(modelJson).generate(prompt, seed);  // { width, height, rgb }
//! const setup = new ProverSetup(modelJson, paramsBytes, manifest.width, manifest.lanes ?? 1, manifest.accumulators ?? 1, manifest.weights ?? 'fixed', (phase, ms) => …);
//! const cached = await keyCache.get(setup.digest());           // a key file, or undefined
//! const prover = setup.prover(cached, (phase, ms) => …);       // reads it, or generates keys
//! if (prover.keySource() === 'generated') await keyCache.put(setup.digest(), prover.keyFile());
//! const mint = prover.prove(prompt, seed, minter, (phase, ms) => …);
//! ```
//!
//! The proving key is cached by the page (IndexedDB) in the CLI's key file format
//! (`prover::keys`): the circuit digest (model, statement, layout with `k` and `W`, SRS), the
//! payload's length and SHA-256, then halo2's raw serialization. A cached file is used only when
//! all of that checks; otherwise the reason is kept (`keyRefused`) and the keys are generated,
//! so a stale or damaged cache costs a key generation, never a panic or a proof that fails.

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::ProvingKey;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand_core::OsRng;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::circuit::graph::{GraphParams, GraphWitness};
use crate::circuit::statement;
use crate::hex_string;
use crate::prompt::Seed;
use crate::prover::proof::{fr_to_hex, hex_to_fr, parse_address};
use crate::prover::{keys, prove, srs, verify};
use crate::Generator;

#[cfg(target_feature = "atomics")]
pub use wasm_bindgen_rayon::init_thread_pool;

/// Milliseconds since the worker started (`performance.now()`).
fn now() -> f64 {
    js_sys::global()
        .dyn_into::<web_sys::WorkerGlobalScope>()
        .ok()
        .and_then(|scope| scope.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

fn js_error(context: &str, e: impl std::fmt::Display) -> JsError {
    JsError::new(&format!("{context}: {e}"))
}

fn to_js(value: &impl Serialize) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::new().serialize_large_number_types_as_bigints(false))
        .map_err(|e| js_error("cannot pass the result to JavaScript", e))
}

/// Reports `(phase, elapsed ms)` to the page; a throwing callback does not stop the work.
fn report(progress: &js_sys::Function, phase: &str, ms: f64) {
    let _ = progress.call2(&JsValue::NULL, &JsValue::from_str(phase), &JsValue::from_f64(ms));
}

/// Reads a model exported by `section9 export-web` (its JSON form, validated again here).
fn read_model(json: &str) -> Result<Generator, JsError> {
    Generator::from_json(json).map_err(|e| js_error("the model file is not a valid Section 9 model", e))
}

#[derive(Serialize)]
struct PictureJs {
    width: usize,
    height: usize,
    #[serde(with = "serde_bytes_js")]
    rgb: Vec<u8>,
}

/// Serializes bytes as a `Uint8Array`.
mod serde_bytes_js {
    pub fn serialize<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(bytes)
    }
}

fn seed(hex: &str) -> Result<Seed, JsError> {
    Seed::from_hex(hex).map_err(|e| js_error("bad seed", e))
}

/// A fresh secret seed from the browser's cryptographic randomness, `0x` + 64 hex digits.
#[wasm_bindgen(js_name = randomSeed)]
pub fn random_seed() -> String {
    Seed::random(OsRng).to_hex()
}

/// A model read once (the page keeps it for the session: `generate` runs on every keystroke).
#[wasm_bindgen(js_name = Model)]
pub struct ModelJs(Generator);

#[wasm_bindgen(js_class = Model)]
impl ModelJs {
    /// Reads a model exported by `section9 export-web`.
    #[wasm_bindgen(constructor)]
    pub fn new(model_json: &str) -> Result<ModelJs, JsError> {
        read_model(model_json).map(ModelJs)
    }

    /// The picture the model makes from a prompt and seed: `{ width, height, rgb: Uint8Array }`.
    pub fn generate(&self, prompt: &str, seed_hex: &str) -> Result<JsValue, JsError> {
        let latent = self.0.latent(&seed(seed_hex)?, prompt);
        let picture = self.0.picture(&latent).map_err(|e| js_error("inference failed", e))?;
        to_js(&PictureJs { width: picture.width, height: picture.height, rgb: picture.rgb })
    }

    /// The prompt's words this model knows (empty when it has no vocabulary): the page shows
    /// which words steer the picture.
    #[wasm_bindgen(js_name = knownWords)]
    pub fn known_words(&self, prompt: &str) -> Vec<String> {
        let Some(words) = self.0.graph().prompt() else { return Vec::new() };
        crate::prompt::tokens(prompt).filter(|t| words.knows(t)).collect()
    }

    /// The model id (SHA-256 of the compiled graph), 64 hex digits.
    pub fn id(&self) -> String {
        hex_string(&self.0.id())
    }

    /// The id of the model's shape (its graph with the learned weights zeroed), 64 hex digits:
    /// what a collection of private weights names.
    #[wasm_bindgen(js_name = shapeId)]
    pub fn shape_id(&self) -> String {
        hex_string(&crate::circuit::graph_plan::shape_id(self.0.graph()))
    }

    /// The Poseidon commitment to the model's weights and biases, `0x` + 64 hex (an error for
    /// weights that cannot be committed: wider than 8 bits).
    #[wasm_bindgen(js_name = weightCommitment)]
    pub fn weight_commitment(&self) -> Result<String, JsError> {
        let c = crate::circuit::graph::weight_commitment(self.0.graph()).map_err(|e| js_error("the weights cannot be committed", e))?;
        Ok(fr_to_hex(&c))
    }

    /// The commitment `Poseidon(salt, latent chunks)` of a prompt and seed, `0x` + 64 hex.
    pub fn commitment(&self, prompt: &str, seed_hex: &str) -> Result<String, JsError> {
        let seed = seed(seed_hex)?;
        Ok(fr_to_hex(&statement::commitment(&self.0.latent(&seed, prompt), seed.salt())))
    }
}

/// Threads the prover's rayon pool runs on.
#[wasm_bindgen(js_name = proverThreads)]
pub fn prover_threads() -> usize {
    rayon::current_num_threads()
}

#[derive(Serialize)]
struct MintJs {
    minter: String,
    commitment: String,
    /// The weight commitment, for private weights.
    weights: Option<String>,
    instances: Vec<String>,
    proof: String,
    #[serde(with = "serde_bytes_js")]
    rgb: Vec<u8>,
    prove_ms: f64,
}

/// The first step of a [`Prover`]: the model and the params read, and the digest a proving key
/// must carry to serve their circuit — the page's cache key.
#[wasm_bindgen]
pub struct ProverSetup {
    model: Generator,
    circuit: GraphParams,
    params: ParamsKZG<Bn256>,
    digest: [u8; 32],
}

#[wasm_bindgen]
impl ProverSetup {
    /// Reads the params (a halo2 KZG params file, e.g. `section9 export-web`'s compressed
    /// params.bin, downsized to the circuit's `k`) for dot rows of `width` terms and
    /// `accumulators` outputs, and `lanes` range lanes (the manifest's layout; the CLI's
    /// defaults are `DEFAULT_WIDTH`, 1 and 1), the
    /// learned weights `"fixed"` or `"committed"` (the manifest's). `progress(phase, ms)` hears
    /// "params".
    #[wasm_bindgen(constructor)]
    pub fn new(model_json: &str, params: &[u8], width: usize, lanes: usize, accumulators: usize, weights: &str, progress: &js_sys::Function) -> Result<ProverSetup, JsError> {
        let start = now();
        let model = read_model(model_json)?;
        let weights: crate::circuit::graph::Weights = weights.parse().map_err(|e: String| JsError::new(&e))?;
        let circuit = GraphParams::mint(model.graph().clone(), width)
            .and_then(|c| c.with_lanes(lanes))
            .and_then(|c| c.with_accumulators(accumulators))
            .and_then(|c| c.with_weights(weights))
            .map_err(|e| js_error("the model cannot be minted", e))?;
        report(progress, "params", now() - start);
        let params = srs::read(params, circuit.k()).map_err(|e| js_error("bad params file", e))?;
        let digest = keys::circuit_digest(&circuit, &params);
        Ok(ProverSetup { model, circuit, params, digest })
    }

    /// The circuit digest, 64 hex digits: a proving key is valid for exactly this circuit (model,
    /// statement, layout with `k`, `W` and the lanes) and SRS.
    pub fn digest(&self) -> String {
        hex_string(&self.digest)
    }

    /// The prover, with its proving key read from `cached` (a `Prover.keyFile()` of an earlier
    /// session) when that is a key file for this digest whose checksum holds, else generated.
    /// `progress(phase, ms)` hears "cache" (reading the cached key), "keygen" (generating)
    /// and "ready".
    pub fn prover(self, cached: Option<Vec<u8>>, progress: &js_sys::Function) -> Result<Prover, JsError> {
        let start = now();
        let ProverSetup { model, circuit, params, digest } = self;
        let read = cached.map(|bytes| {
            report(progress, "cache", now() - start);
            keys::read_pk(&bytes, &digest, &circuit)
        });
        let (pk, key_source, key_refused) = match read {
            Some(Ok(pk)) => (pk, KeySource::Cache, None),
            refused => {
                report(progress, "keygen", now() - start);
                let pk = keys::generate(&params, &circuit).map_err(|e| js_error("key generation failed", e))?;
                (pk, KeySource::Generated, refused.and_then(Result::err).map(|e| e.to_string()))
            }
        };
        report(progress, "ready", now() - start);
        Ok(Prover { model, circuit, params, pk, digest, key_source, key_refused })
    }
}

#[derive(Clone, Copy)]
enum KeySource {
    Cache,
    Generated,
}

/// The proving key, read from the page's cache or built from the model and the params file,
/// and kept for the session.
#[wasm_bindgen]
pub struct Prover {
    model: Generator,
    circuit: GraphParams,
    params: ParamsKZG<Bn256>,
    pk: ProvingKey<G1Affine>,
    digest: [u8; 32],
    key_source: KeySource,
    key_refused: Option<String>,
}

#[wasm_bindgen]
impl Prover {
    /// Where the proving key came from: "cache" or "generated".
    #[wasm_bindgen(js_name = keySource)]
    pub fn key_source(&self) -> String {
        match self.key_source {
            KeySource::Cache => "cache",
            KeySource::Generated => "generated",
        }
        .to_string()
    }

    /// Why a cached key was given and not used (stale digest, truncated or corrupted bytes), if
    /// one was.
    #[wasm_bindgen(js_name = keyRefused)]
    pub fn key_refused(&self) -> Option<String> {
        self.key_refused.clone()
    }

    /// The proving key as a key file bound to the circuit digest, for the page's cache.
    #[wasm_bindgen(js_name = keyFile)]
    pub fn key_file(&self) -> Vec<u8> {
        keys::write_pk(&self.pk, &self.digest)
    }

    /// The circuit's `k`.
    pub fn k(&self) -> u32 {
        self.circuit.k()
    }

    /// Proves that the model makes the picture of the prompt and the secret seed (`0x` + 64
    /// hex, from `randomSeed`), for `minter` (`0x` + 40 hex). Returns `{ minter, commitment,
    /// instances, proof, rgb, prove_ms }`; `progress(phase, ms)` hears "witness", "proving"
    /// and "done".
    pub fn prove(&self, prompt: &str, seed_hex: &str, minter: &str, progress: &js_sys::Function) -> Result<JsValue, JsError> {
        let start = now();
        let minter = parse_address(minter).map_err(|e| js_error("bad minter address", e))?;
        let seed = seed(seed_hex)?;
        let salt = seed.salt();
        report(progress, "witness", now() - start);
        let latent = self.model.latent(&seed, prompt);
        let picture = self.model.picture(&latent).map_err(|e| js_error("inference failed", e))?;
        report(progress, "proving", now() - start);
        let witness = GraphWitness::mint(&latent, salt, minter);
        let (instances, proof) = prove(&self.params, &self.pk, &self.circuit, witness, OsRng)
            .map_err(|e| js_error("proving failed", e))?;
        let prove_ms = now() - start;
        report(progress, "done", prove_ms);
        to_js(&MintJs {
            minter: format!("0x{}", hex_string(&minter)),
            commitment: fr_to_hex(&instances[1]),
            weights: instances.get(statement::INSTANCES).map(fr_to_hex),
            instances: instances.iter().map(fr_to_hex).collect(),
            proof: format!("0x{}", hex_string(&proof)),
            rgb: picture.rgb,
            prove_ms,
        })
    }

    /// Checks a proof (`0x` hex) against its public inputs (`0x` hex each).
    pub fn verify(&self, instances: Vec<String>, proof: &str) -> Result<bool, JsError> {
        let instances = instances
            .iter()
            .map(|s| hex_to_fr(s, "instances"))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| js_error("bad public inputs", e))?;
        let proof = crate::prover::proof::parse_hex(proof, "proof").map_err(|e| js_error("bad proof", e))?;
        Ok(verify(&self.params, self.pk.get_vk(), &instances, &proof).is_ok())
    }
}
