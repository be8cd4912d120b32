//! The mint commands of the committed (or any) generator: `generate`, `info`, `setup`,
//! `prove`, `verify`, `export-verifier`, `export-web` and `bench` without `--input`. Parse,
//! call the library, print.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::plonk::{ProvingKey, VerifyingKey};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use section9::circuit::graph::{GraphParams, GraphWitness, Weights};
use section9::circuit::graph_plan::GraphTrace;
use section9::circuit::DEFAULT_WIDTH;
use section9::prompt::Seed;
use section9::prover::{self, keys, proof::ProofFile, srs};
use section9::{hex_string, Generator};

use super::keys::{KeyArgs, KeyCache, Srs};
use super::{peak_memory, rayon_threads, step};

/// The committed generator, built into the binary so `generate` works from anywhere.
pub const BUILTIN_MODEL: &[u8] = include_bytes!("../../../model/gan.onnx");

/// The artist's secret: the prompt and the seed that, together, select the latent.
#[derive(clap::Args)]
pub struct SecretArgs {
    /// The private prompt. A command line is visible to every user of this machine (`ps`):
    /// prefer --prompt-file.
    #[arg(long, conflicts_with = "prompt_file")]
    pub prompt: Option<String>,
    /// Read the prompt from a file (`-`: standard input); one trailing newline is dropped.
    #[arg(long)]
    pub prompt_file: Option<PathBuf>,
    /// The secret seed, 0x + 64 hex digits, to reproduce a variation (default: a fresh random
    /// one, written to the secret file). The same prompt with another seed is another picture.
    #[arg(long)]
    pub seed: Option<String>,
}

impl SecretArgs {
    pub fn prompt(&self) -> Result<String> {
        let mut text = match (&self.prompt, &self.prompt_file) {
            (Some(text), _) => return Ok(text.clone()),
            (None, Some(path)) if path.as_os_str() == "-" => {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).context("cannot read the prompt from standard input")?;
                text
            }
            (None, Some(path)) => std::fs::read_to_string(path).with_context(|| format!("cannot read the prompt file {}", path.display()))?,
            (None, None) => bail!("give the prompt with --prompt-file FILE (or `-` for standard input) or --prompt"),
        };
        if text.ends_with('\n') {
            text.pop();
            if text.ends_with('\r') {
                text.pop();
            }
        }
        Ok(text)
    }

    /// The given seed, or a fresh one (then `true`).
    pub fn seed(&self) -> Result<(Seed, bool)> {
        match &self.seed {
            Some(hex) => Ok((Seed::from_hex(hex).context("--seed")?, false)),
            None => Ok((Seed::random(rand::rngs::OsRng), true)),
        }
    }
}

/// Writes a file only its owner can read (the prompt and seed are the artist's secret).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| format!("cannot write {}", path.display()))?;
    // An existing file keeps its mode through `open`: narrow it too.
    #[cfg(unix)]
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).with_context(|| format!("cannot restrict {}", path.display()))?;
    std::io::Write::write_all(&mut file, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// The secret file: what opens the commitment later (authorship) and reproduces the picture.
pub fn write_secret(path: &Path, prompt: &str, seed: &Seed, commitment: &str) -> Result<()> {
    let secret = serde_json::json!({
        "note": "PRIVATE. The prompt and seed reproduce the picture and open the commitment (proving authorship): keep them safe and never publish them before you mean to.",
        "prompt": prompt,
        "seed": seed.to_hex(),
        "commitment": commitment,
    });
    write_private(path, serde_json::to_string_pretty(&secret)?.as_bytes())
}

#[derive(clap::Args)]
pub struct ModelArg {
    /// The generator: a compiled model (`.s9`) or an ONNX file trained on the power-of-two grid
    /// (default: the committed generator, built in).
    #[arg(long)]
    pub model: Option<PathBuf>,
}

impl ModelArg {
    pub fn load(&self) -> Result<Generator> {
        match &self.model {
            None => compile_generator(BUILTIN_MODEL).context("the built-in model is invalid"),
            Some(path) if super::is_compiled(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the model {}", path.display()))?;
                Generator::from_json(&text).with_context(|| format!("cannot use the model {}", path.display()))
            }
            Some(path) => {
                let bytes = super::read_onnx(path)?;
                compile_generator(&bytes).with_context(|| format!("cannot load the model {}", path.display()))
            }
        }
    }
}

pub fn compile_generator(bytes: &[u8]) -> Result<Generator> {
    Ok(section9::generator::compile_trained(bytes)?)
}

pub fn generate(secret: &SecretArgs, out: &Path, scale: u32, model: &ModelArg) -> Result<()> {
    let model = model.load()?;
    let text = secret.prompt()?;
    let (seed, fresh) = secret.seed()?;
    let start = Instant::now();
    let latent = model.latent(&seed, &text);
    let picture = model.picture(&latent)?;
    let elapsed = start.elapsed();
    let png = picture.to_png(scale)?;
    std::fs::write(out, png).with_context(|| format!("cannot write {}", out.display()))?;
    println!("model    {}", hex_string(&model.id()));
    println!(
        "picture  {}×{} in {:.2} ms (integer inference, {} MACs)",
        picture.width,
        picture.height,
        elapsed.as_secs_f64() * 1e3,
        model.graph().macs()
    );
    println!(
        "wrote    {} ({}×{}, scale {scale})",
        out.display(),
        picture.width * scale as usize,
        picture.height * scale as usize
    );
    if let Some(words) = model.graph().prompt() {
        println!("steering {}", steering(words, &latent[words.offset..]));
    }
    if fresh {
        let path = out.with_extension("secret.json");
        let commitment = prover::proof::fr_to_hex(&section9::circuit::statement::commitment(&latent, seed.salt()));
        write_secret(&path, &text, &seed, &commitment)?;
        println!("secret   {} (prompt and seed: `prove --seed` with them proves this picture)", path.display());
    }
    Ok(())
}

/// The classes a condition leans to, strongest first (the prompt itself is never printed).
fn steering(words: &section9::prompt::Words, condition: &[i8]) -> String {
    let total: i64 = condition.iter().map(|&v| i64::from(v)).sum();
    if total == 0 {
        return "none: no word of the prompt is in the model's vocabulary, so the picture is free".into();
    }
    let mut shares: Vec<(i64, &str)> = condition.iter().zip(&words.classes).map(|(&v, c)| (i64::from(v), c.as_str())).filter(|&(v, _)| v > 0).collect();
    shares.sort_by_key(|s| std::cmp::Reverse(s.0));
    let parts: Vec<String> = shares.iter().take(3).map(|&(v, c)| format!("{c} {}%", (100 * v + total / 2) / total)).collect();
    format!("toward {}", parts.join(", "))
}

pub fn info(model: &ModelArg) -> Result<()> {
    let model = model.load()?;
    let graph = model.graph();
    let tensors = graph.tensors();
    let latent = &tensors[graph.inputs()[0]];
    let (c, h, w) = model.shape();
    println!("model    {}", hex_string(&model.id()));
    println!("latent   `{}`: {} × int8 at 2^-{}", latent.name, latent.len(), latent.frac_bits);
    println!("picture  {w}×{h}, {}", if c == 1 { "grey (shown as RGB)" } else { "RGB" });
    if let Some(words) = graph.prompt() {
        println!(
            "prompt   {} words steer latent values {}..{} toward: {}",
            words.words.len(),
            words.offset,
            latent.len(),
            words.classes.join(", ")
        );
    }
    println!("{:<16} {:<8} {:>16} {:>10} {:>14} {:>7}", "node", "op", "output", "MACs", "range", "scale");
    for node in graph.nodes() {
        let out = &tensors[node.output];
        let macs = match &node.op {
            section9::graph::Op::Linear { geometry, .. } => geometry.macs(),
            _ => 0,
        };
        println!(
            "{:<16} {:<8} {:>16} {:>10} {:>14} {:>7}",
            node.name,
            node.op.kind(),
            format!("{:?}", out.shape),
            macs,
            format!("[{}, {}]", out.lo, out.hi),
            format!("2^-{}", out.frac_bits)
        );
    }
    let circuit = GraphParams::mint(graph.clone(), DEFAULT_WIDTH)?;
    println!("total    {} MACs, {} in the circuit (zero weights cost nothing); mint circuit k = {}", graph.macs(), circuit.plan.terms(), circuit.k());
    Ok(())
}

/// Everything needed to prove for one generator's mint circuit.
pub struct Setup {
    pub model: Generator,
    pub circuit: GraphParams,
    pub params: ParamsKZG<Bn256>,
    pub digest: [u8; 32],
    pub dev: bool,
    pub keys_dir: PathBuf,
}

/// The mint circuit of `model` with these keys' layout (width, range lanes, accumulators).
pub fn mint_circuit(model: &Generator, args: &KeyArgs) -> Result<GraphParams> {
    if !(section9::circuit::MIN_WIDTH..=section9::circuit::MAX_WIDTH).contains(&args.width) {
        bail!("--width must be between {} and {}", section9::circuit::MIN_WIDTH, section9::circuit::MAX_WIDTH);
    }
    if !(1..=section9::circuit::MAX_LANES).contains(&args.lanes) {
        bail!("--lanes must be between 1 and {}", section9::circuit::MAX_LANES);
    }
    if !(1..=section9::circuit::MAX_ACCUMULATORS).contains(&args.accumulators) {
        bail!("--accumulators must be between 1 and {}", section9::circuit::MAX_ACCUMULATORS);
    }
    Ok(GraphParams::mint(model.graph().clone(), args.width)?.with_lanes(args.lanes)?.with_accumulators(args.accumulators)?.with_weights(args.weights)?)
}

impl KeyArgs {
    pub fn load(&self, model: &ModelArg) -> Result<Setup> {
        self.setup(model.load()?)
    }

    /// The mint circuit of `model` with these keys' SRS and width.
    pub fn setup(&self, model: Generator) -> Result<Setup> {
        let circuit = mint_circuit(&model, self)?;
        let Srs { params, dev } = self.srs(circuit.k())?;
        let digest = keys::circuit_digest(&circuit, &params);
        Ok(Setup { model, circuit, params, digest, dev, keys_dir: self.keys_dir.clone() })
    }
}

/// What a mint proof names its model by: the model's id, or its shape's when the weights are
/// committed (the verifier need not hold the weights).
pub fn mint_model_id(circuit: &GraphParams) -> [u8; 32] {
    match (circuit.weights(), circuit.graph.as_deref()) {
        (Weights::Committed, Some(g)) => section9::circuit::graph_plan::shape_id(g),
        (_, Some(g)) => g.id(),
        (_, None) => [0; 32],
    }
}

impl Setup {
    /// The id proofs and verifiers of this circuit name ([`mint_model_id`]).
    pub fn model_id(&self) -> [u8; 32] {
        mint_model_id(&self.circuit)
    }

    pub fn keys(&self) -> KeyCache<'_> {
        KeyCache { dir: &self.keys_dir, kind: "mint", circuit: &self.circuit, digest: self.digest }
    }

    /// The cached proving key, or a new one (then cached).
    pub fn proving_key(&self) -> Result<ProvingKey<G1Affine>> {
        self.keys().proving_key(&self.params)
    }

    /// The cached verifying key, or one derived from the circuit (then cached).
    pub fn verifying_key(&self) -> Result<VerifyingKey<G1Affine>> {
        let keys = self.keys();
        keys.cached_vk().map_or_else(|| keys.derive_vk(&self.params), Ok)
    }
}

pub fn setup(model: &ModelArg, args: &KeyArgs) -> Result<()> {
    let s = args.load(model)?;
    let pk = s.proving_key()?;
    let (dot, range, _) = s.circuit.rows();
    println!("model    {}", hex_string(&s.model.id()));
    println!("circuit  k = {}, {} rows (dot group {dot}, range group {range}), {}", s.circuit.k(), dot.max(range), super::layout_text(&s.circuit));
    println!("digest   {}", section9::hex_string(&s.digest));
    println!("keys     {} , {}", s.keys().pk_path().display(), s.keys().vk_path().display());
    let cs = pk.get_vk().cs();
    println!("columns  {} advice, {} fixed, {} lookup", cs.num_advice_columns(), cs.num_fixed_columns(), cs.lookups().len());
    Ok(())
}

pub fn prove(secret: &SecretArgs, minter: &str, out: &Path, secret_out: Option<&Path>, model: &ModelArg, args: &KeyArgs) -> Result<()> {
    let minter = prover::proof::parse_address(minter).context("--minter must be an address: 0x followed by 40 hex digits")?;
    let text = secret.prompt()?;
    let (seed, _) = secret.seed()?;
    let s = args.load(model)?;
    let pk = s.proving_key()?;
    let latent = s.model.latent(&seed, &text);
    let picture = s.model.picture(&latent)?;
    let witness = GraphWitness::mint(&latent, seed.salt(), minter);
    let ((instances, proof), _) = step("proving", || Ok(prover::prove(&s.params, &pk, &s.circuit, witness, rand::rngs::OsRng)?))?;
    let file = ProofFile::new(&s.model_id(), s.circuit.k(), s.dev, &minter, &picture, &instances, &proof);
    std::fs::write(out, file.to_json()).with_context(|| format!("cannot write {}", out.display()))?;
    let secret_path = secret_out.map(Path::to_path_buf).unwrap_or_else(|| out.with_extension("secret.json"));
    write_secret(&secret_path, &text, &seed, &file.commitment)?;
    println!("proof    {} ({} bytes of proof, {} public inputs)", out.display(), proof.len(), instances.len());
    println!("secret   {} (prompt and seed: keep private, readable by you only)", secret_path.display());
    println!("commit   {}", file.commitment);
    Ok(())
}

pub fn verify(path: &Path, model: &ModelArg, args: &KeyArgs, derive_vk: bool) -> Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    if text.contains(section9::prover::graph::FORMAT) {
        let model = model.model.as_deref().context("this is a model proof: pass the compiled model with --model model.s9")?;
        return super::model::verify(&text, model, args, derive_vk).with_context(|| format!("{} does not verify", path.display()));
    }
    let file = ProofFile::from_json(&text).with_context(|| format!("cannot read the proof file {}", path.display()))?;
    let parsed = file.parse().with_context(|| format!("invalid proof file {}", path.display()))?;
    let model = model.load()?;
    let weights = if parsed.weights.is_some() { Weights::Committed } else { Weights::Fixed };
    let circuit = mint_circuit(&model, args)?.with_weights(weights)?;
    let id = hex_string(&mint_model_id(&circuit));
    if file.model_id != id {
        bail!("the proof is for model {}, this model is {id}", file.model_id);
    }
    let k = circuit.k();
    let verifier = args.verifier_srs(k)?.params;
    let vk = KeyCache::new(&args.keys_dir, "mint", &circuit, &verifier).verifying_key(derive_vk, || Ok(args.srs(k)?.params))?;
    step("verifying", || Ok(prover::verify(&verifier, &vk, &parsed.instances, &parsed.proof)?))?;
    match &file.weights {
        Some(c) => println!("valid: the picture comes from the model committed to {c} (shape {}) for minter {}", &file.model_id[..16], file.minter),
        None => println!("valid: the picture comes from model {} for minter {}", &file.model_id[..16], file.minter),
    }
    Ok(())
}

pub fn export_verifier(out: &Path, model: &ModelArg, args: &KeyArgs) -> Result<()> {
    let s = args.load(model)?;
    s.write_verifier(out)?;
    if s.dev {
        println!("WARNING  this verifier trusts the INSECURE development SRS: never deploy it outside a local chain");
    }
    Ok(())
}

pub fn export_web(dir: &Path, model: &ModelArg, args: &KeyArgs) -> Result<()> {
    let s = args.load(model)?;
    s.write_web(dir, serde_json::json!({}))?;
    if s.dev {
        println!("WARNING  these params are the INSECURE development SRS: for a local chain only");
    }
    Ok(())
}

impl Setup {
    /// Writes the Solidity verifier of this circuit, with its header (model, picture size, k,
    /// SRS); returns its source length.
    pub fn write_verifier(&self, out: &Path) -> Result<usize> {
        let vk = self.verifying_key()?;
        let instances = self.circuit.num_instances();
        let (code, _) = step("generating the verifier", || Ok(prover::evm::solidity_verifier(&self.params, &vk, instances)?))?;
        let (_, h, w) = self.model.shape();
        let statement = prover::evm::Statement::Mint { picture: (w, h), weights: self.circuit.weights() };
        let code = prover::evm::with_header(&code, &hex_string(&self.model_id()), &statement, (self.circuit.k(), &super::layout_text(&self.circuit)), &srs::fingerprint(&self.params), self.dev);
        super::write_creating_dir(out, code.as_bytes())?;
        println!("verifier {} ({} bytes of Solidity, {instances} public inputs)", out.display(), code.len());
        Ok(code.len())
    }

    /// Writes what the mint page loads: the compiled model, the params (compressed, at the
    /// circuit's k) and a manifest, with `extra` fields merged into the manifest.
    pub fn write_web(&self, dir: &Path, extra: serde_json::Value) -> Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let params = srs::write_compressed(&self.params);
        let (channels, height, width) = self.model.shape();
        // With committed weights the page gets the shape only: the weights stay with the artist.
        let committed = self.circuit.weights() == Weights::Committed;
        let model = if committed { section9::circuit::graph_plan::shape(self.model.graph()) } else { self.model.graph().clone() };
        let mut manifest = serde_json::json!({
            "format": "section9-web-v1",
            "model_id": hex_string(&self.model_id()),
            "picture": { "channels": channels, "height": height, "width": width },
            "k": self.circuit.k(),
            "width": self.circuit.width,
            "lanes": self.circuit.lanes,
            "accumulators": self.circuit.accumulators,
            "dev_srs": self.dev,
            "srs_fingerprint": hex_string(&srs::fingerprint(&self.params)),
            "params_bytes": params.len(),
            "params_sha256": hex_string(&<sha2::Sha256 as sha2::Digest>::digest(&params)),
        });
        if let (Some(m), serde_json::Value::Object(extra)) = (manifest.as_object_mut(), extra) {
            m.extend(extra);
        }
        let files = [
            ("model.json", model.to_json().into_bytes()),
            ("params.bin", params),
            ("manifest.json", serde_json::to_vec_pretty(&manifest)?),
        ];
        for (name, bytes) in files {
            let path = dir.join(name);
            std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
            println!("wrote    {}", path.display());
        }
        Ok(())
    }
}

pub fn bench(model: &ModelArg, args: &KeyArgs, json: Option<&Path>, repeat: usize) -> Result<()> {
    let s = args.load(model)?;
    let (pk, keygen_s) = step("key generation", || Ok(keys::generate(&s.params, &s.circuit)?))?;
    let latent = s.model.latent(&Seed([0x5e; 32]), "bench");
    let minter = [0x11u8; 20];
    let witness = GraphWitness::mint(&latent, Fr::from(7), minter);
    let (_, witness_s) = step("witness (integer inference + trace)", || Ok(GraphTrace::new(&s.circuit.plan, s.model.graph(), &witness.inputs)))?;
    let mut times = Vec::new();
    let mut last = None;
    for i in 0..repeat.max(1) {
        let (out, secs) = step(&format!("prove {}/{}", i + 1, repeat.max(1)), || Ok(prover::prove(&s.params, &pk, &s.circuit, witness.clone(), rand::rngs::OsRng)?))?;
        times.push(secs);
        last = Some(out);
    }
    times.sort_by(f64::total_cmp);
    let prove_s = times[times.len() / 2];
    let (instances, proof) = last.context("no proof was made")?;
    let (_, verify_s) = step("verify", || Ok(prover::verify(&s.params, pk.get_vk(), &instances, &proof)?))?;

    let cs = pk.get_vk().cs();
    let (dot, range, _) = s.circuit.rows();
    let macs = s.circuit.plan.terms();
    let pk_bytes = pk.to_bytes(halo2_proofs::SerdeFormat::RawBytes).len();
    let numbers = serde_json::json!({
        "model_id": hex_string(&s.model.id()),
        "k": s.circuit.k(),
        "rows": dot.max(range),
        "dot_rows": dot,
        "range_rows": range,
        "lanes": s.circuit.lanes,
        "accumulators": s.circuit.accumulators,
        "weight_count": s.circuit.plan.committed.as_ref().map_or(0, |c| c.weights.len() + c.biases.len()),
        "width": s.circuit.width,
        "advice_columns": cs.num_advice_columns(),
        "fixed_columns": cs.num_fixed_columns(),
        "selectors": cs.num_selectors(),
        "weights": s.circuit.weights().to_string(),
        "lookups": cs.lookups().len(),
        "macs": macs,
        "keygen_s": keygen_s,
        "witness_s": witness_s,
        "prove_s": prove_s,
        "verify_s": verify_s,
        "peak_memory_bytes": peak_memory(),
        "proof_bytes": proof.len(),
        "proving_key_bytes": pk_bytes,
        "threads": rayon_threads(),
    });
    println!("{}", serde_json::to_string_pretty(&numbers)?);
    if let Some(path) = json {
        std::fs::write(path, serde_json::to_string_pretty(&numbers)?).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

