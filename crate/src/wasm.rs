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
//! const prover = new Prover(modelJson, paramsBytes, manifest.width, (phase, ms) => …);  // keys
//! const mint = prover.prove(prompt, seed, minter, (phase, ms) => …);
//! ```

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

/// The latent a prompt maps to under a seed: `len` int8 values (`crate::prompt`).
#[wasm_bindgen(js_name = latentOf)]
pub fn latent_js(prompt: &str, seed_hex: &str, len: usize) -> Result<Vec<i8>, JsError> {
    Ok(seed(seed_hex)?.latent(prompt, len))
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
        let latent = seed(seed_hex)?.latent(prompt, self.0.latent_len());
        let picture = self.0.picture(&latent).map_err(|e| js_error("inference failed", e))?;
        to_js(&PictureJs { width: picture.width, height: picture.height, rgb: picture.rgb })
    }

    /// The model id (SHA-256 of the compiled graph), 64 hex digits.
    pub fn id(&self) -> String {
        hex_string(&self.0.id())
    }

    /// The commitment `Poseidon(salt, latent chunks)` of a prompt and seed, `0x` + 64 hex.
    pub fn commitment(&self, prompt: &str, seed_hex: &str) -> Result<String, JsError> {
        let seed = seed(seed_hex)?;
        Ok(fr_to_hex(&statement::commitment(&seed.latent(prompt, self.0.latent_len()), seed.salt())))
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
    instances: Vec<String>,
    proof: String,
    #[serde(with = "serde_bytes_js")]
    rgb: Vec<u8>,
    prove_ms: f64,
}

/// The proving key, built once from the model and the params file and kept for the session.
#[wasm_bindgen]
pub struct Prover {
    model: Generator,
    circuit: GraphParams,
    params: ParamsKZG<Bn256>,
    pk: ProvingKey<G1Affine>,
}

#[wasm_bindgen]
impl Prover {
    /// Reads the params (a halo2 KZG params file, e.g. `section9 export-web`'s compressed
    /// params.bin, downsized to the circuit's `k`) and generates
    /// the keys for dot rows of `width` terms (the manifest's; the CLI's default is
    /// `DEFAULT_WIDTH`). `progress(phase, ms)` hears "params", "keys" and "ready".
    #[wasm_bindgen(constructor)]
    pub fn new(model_json: &str, params: &[u8], width: usize, progress: &js_sys::Function) -> Result<Prover, JsError> {
        let start = now();
        let model = read_model(model_json)?;
        let circuit = GraphParams::mint(model.graph().clone(), width).map_err(|e| js_error("the model cannot be minted", e))?;
        report(progress, "params", now() - start);
        let params = srs::read(params, circuit.k()).map_err(|e| js_error("bad params file", e))?;
        report(progress, "keys", now() - start);
        let pk = keys::generate(&params, &circuit).map_err(|e| js_error("key generation failed", e))?;
        report(progress, "ready", now() - start);
        Ok(Prover { model, circuit, params, pk })
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
        let latent = seed.latent(prompt, self.model.latent_len());
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
