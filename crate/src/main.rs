//! The `section9` command line: parse arguments, call the library, print results.
//!
//! Exit codes: 0 success, 1 failure (the error and its causes are printed), 2 bad usage.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::plonk::{ProvingKey, VerifyingKey};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use indicatif::{ProgressBar, ProgressStyle};
use section9::circuit::graph::{GraphParams, GraphWitness, Visibility};
use section9::circuit::graph_plan::GraphTrace;
use section9::circuit::DEFAULT_WIDTH;
use section9::prompt::Seed;
use section9::prover::{self, keys, proof::ProofFile, srs};
use section9::{hex_string, Generator};

mod cli;

/// The committed generator, built into the binary so `generate` works from anywhere.
const BUILTIN_MODEL: &[u8] = include_bytes!("../../model/gan.onnx");

#[derive(Parser)]
#[command(name = "section9", version, about = "Provable AI art: generate, prove and mint pictures from a private prompt")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Trusted setup: import a Powers-of-Tau ceremony file as halo2 params, describe params.
    Srs {
        #[command(subcommand)]
        command: cli::trusted_setup::SrsCommand,
    },
    /// Generate the picture for a prompt with the integer-only generator.
    Generate {
        #[command(flatten)]
        secret: SecretArgs,
        /// Where to write the PNG.
        #[arg(long, default_value = "art.png")]
        out: PathBuf,
        /// Each pixel becomes a scale × scale block (1–64).
        #[arg(long, default_value_t = 8)]
        scale: u32,
        #[command(flatten)]
        model: ModelArg,
    },
    /// Describe the generator: its nodes, shapes, ranges, MACs, identifier.
    Info {
        #[command(flatten)]
        model: ModelArg,
    },
    /// Generate (or check) the proving and verifying keys for the model's mint circuit.
    Setup {
        #[command(flatten)]
        model: ModelArg,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Compile a float ONNX model into an integer graph (`.s9`), calibrating its scales.
    Compile {
        /// The ONNX model (opset 11–18, float32, static shapes).
        onnx: PathBuf,
        /// Sample inputs for calibration (EZKL's shape: {"input_data": [[...], ...]}; an
        /// input's list may hold several samples back to back).
        #[arg(long)]
        calibrate: Option<PathBuf>,
        /// Signed bits per weight (2–16): fewer bits zero more weights, which the circuit skips.
        #[arg(long, default_value_t = 16)]
        weight_bits: u32,
        /// Bits per activation, 8 or 16: 16 is about 100× more accurate and takes about half
        /// again as many rows per output (tables and max pooling read 8-bit values either way).
        #[arg(long, default_value_t = 16)]
        activation_bits: u32,
        /// Where to write the compiled model.
        #[arg(long, default_value = "model.s9")]
        out: PathBuf,
    },
    /// Run a compiled model on an input file; prints {"outputs": [[...], ...]} (dequantized).
    Run {
        /// The compiled model (`section9 compile`).
        #[arg(long)]
        model: PathBuf,
        /// The input file (EZKL's shape: {"input_data": [[...], ...]}).
        #[arg(long)]
        input: PathBuf,
    },
    /// Prove that a picture comes from the model for a private prompt and a named minter; or,
    /// with `--input` and a compiled model, that a model's outputs come from an input.
    Prove {
        #[command(flatten)]
        secret: SecretArgs,
        /// The Ethereum address allowed to mint with this proof (0x + 40 hex digits).
        #[arg(long, required_unless_present = "input")]
        minter: Option<String>,
        /// Prove a compiled model (`--model model.s9`) on this input file instead of a mint.
        #[arg(long, conflicts_with_all = ["prompt", "prompt_file", "seed", "minter"])]
        input: Option<PathBuf>,
        /// How the verifier sees the model's inputs: private, public or hashed (Poseidon).
        #[arg(long, default_value = "private", requires = "input")]
        input_visibility: Visibility,
        /// How the verifier sees the model's outputs: public, private or hashed (Poseidon).
        #[arg(long, default_value = "public", requires = "input")]
        output_visibility: Visibility,
        /// The proof file to write (JSON).
        #[arg(long, default_value = "proof.json")]
        out: PathBuf,
        /// Where the prompt and seed are kept for proving authorship later (private! written
        /// readable by its owner only; default: next to the proof, `*.secret.json`).
        #[arg(long)]
        secret_out: Option<PathBuf>,
        #[command(flatten)]
        model: ModelArg,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Verify a proof file.
    Verify {
        /// The proof file (JSON).
        proof: PathBuf,
        #[command(flatten)]
        model: ModelArg,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Generate the Solidity verifier of the mint circuit (snark-verifier, SHPLONK).
    ExportVerifier {
        /// Where to write the Solidity source.
        #[arg(long, default_value = "contracts/generated/Halo2Verifier.sol")]
        out: PathBuf,
        #[command(flatten)]
        model: ModelArg,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Write what the mint page's prover loads: the model as JSON, the params file (halo2's
    /// compressed format, downsized to the circuit's k) and a manifest.
    ExportWeb {
        /// The directory to write model.json, params.bin and manifest.json into.
        #[arg(long, default_value = "web/static")]
        out_dir: PathBuf,
        #[command(flatten)]
        model: ModelArg,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Measure the mint circuit (or, given a compiled model, its model circuit): size, key
    /// generation, witness, proving, verification, memory.
    Bench {
        #[command(flatten)]
        model: ModelArg,
        #[command(flatten)]
        keys: KeyArgs,
        /// Also write the numbers as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Proofs to time (the median is reported).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// For a compiled model: the input to prove (default: all zeros).
        #[arg(long)]
        input: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct KeyArgs {
    /// A halo2 KZG params file (raw or compressed points, k at least the circuit's).
    #[arg(long, conflicts_with = "dev_srs")]
    params: Option<PathBuf>,
    /// Use the INSECURE deterministic development SRS (anyone can forge proofs against it).
    #[arg(long)]
    dev_srs: bool,
    /// Directory of the key cache.
    #[arg(long, default_value = "keys")]
    keys_dir: PathBuf,
    /// Terms per dot-product row of the mint circuit (model proofs choose theirs).
    #[arg(long, default_value_t = DEFAULT_WIDTH)]
    width: usize,
}

/// The artist's secret: the prompt and the seed that, together, select the latent.
#[derive(clap::Args)]
struct SecretArgs {
    /// The private prompt. A command line is visible to every user of this machine (`ps`):
    /// prefer --prompt-file.
    #[arg(long, conflicts_with = "prompt_file")]
    prompt: Option<String>,
    /// Read the prompt from a file (`-`: standard input); one trailing newline is dropped.
    #[arg(long)]
    prompt_file: Option<PathBuf>,
    /// The secret seed, 0x + 64 hex digits, to reproduce a variation (default: a fresh random
    /// one, written to the secret file). The same prompt with another seed is another picture.
    #[arg(long)]
    seed: Option<String>,
}

impl SecretArgs {
    fn prompt(&self) -> Result<String> {
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
    fn seed(&self) -> Result<(Seed, bool)> {
        match &self.seed {
            Some(hex) => Ok((Seed::from_hex(hex).context("--seed")?, false)),
            None => Ok((Seed::random(rand::rngs::OsRng), true)),
        }
    }
}

/// Writes a file only its owner can read (the prompt and seed are the artist's secret).
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
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
fn write_secret(path: &Path, prompt: &str, seed: &Seed, commitment: &str) -> Result<()> {
    let secret = serde_json::json!({
        "note": "PRIVATE. The prompt and seed reproduce the picture and open the commitment (proving authorship): keep them safe and never publish them before you mean to.",
        "prompt": prompt,
        "seed": seed.to_hex(),
        "commitment": commitment,
    });
    write_private(path, serde_json::to_string_pretty(&secret)?.as_bytes())
}

#[derive(clap::Args)]
struct ModelArg {
    /// The generator: a compiled model (`.s9`) or an ONNX file trained on the power-of-two grid
    /// (default: the committed generator, built in).
    #[arg(long)]
    model: Option<PathBuf>,
}

impl ModelArg {
    fn load(&self) -> Result<Generator> {
        match &self.model {
            None => compile_generator(BUILTIN_MODEL).context("the built-in model is invalid"),
            Some(path) if cli::is_compiled(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the model {}", path.display()))?;
                Generator::from_json(&text).with_context(|| format!("cannot use the model {}", path.display()))
            }
            Some(path) => {
                let bytes = cli::read_onnx(path)?;
                compile_generator(&bytes).with_context(|| format!("cannot load the model {}", path.display()))
            }
        }
    }
}

fn compile_generator(bytes: &[u8]) -> Result<Generator> {
    Ok(section9::generator::compile_trained(bytes)?)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    #[cfg(target_arch = "x86_64")]
    if !(std::arch::is_x86_feature_detected!("bmi2") && std::arch::is_x86_feature_detected!("adx")) {
        eprintln!("error: this build's field arithmetic uses BMI2 and ADX instructions, which this CPU lacks");
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        Command::Srs { command } => cli::trusted_setup::run(command, || {
            let generator = compile_generator(BUILTIN_MODEL).context("the built-in model is invalid")?;
            Ok(GraphParams::mint(generator.into_graph(), DEFAULT_WIDTH)?.k())
        }),
        Command::Generate { secret, out, scale, model } => generate(&secret, &out, scale, &model),
        Command::Info { model } => info(&model),
        Command::Setup { model, keys } => setup(&model, &keys),
        Command::Compile { onnx, calibrate, weight_bits, activation_bits, out } => {
            cli::compile(&onnx, calibrate.as_deref(), section9::graph::quantize::Options { weight_bits, activation_bits }, &out)
        }
        Command::Run { model, input } => cli::run(&model, &input),
        Command::Prove { input: Some(input), input_visibility, output_visibility, out, model, keys, .. } => match &model.model {
            Some(path) => cli::prove(cli::ModelProve {
                model: path,
                input: &input,
                inputs: input_visibility,
                outputs: output_visibility,
                out: &out,
                params: keys.params.as_deref(),
                dev_srs: keys.dev_srs,
            }),
            None => Err(anyhow::anyhow!("--input proves a compiled model: pass --model model.s9")),
        },
        Command::Prove { secret, minter, out, secret_out, model, keys, .. } => match minter {
            Some(minter) => prove(&secret, &minter, &out, secret_out.as_deref(), &model, &keys),
            None => Err(anyhow::anyhow!("a mint proof names its minter: pass --minter 0x…")),
        },
        Command::Verify { proof, model, keys } => verify(&proof, &model, &keys),
        Command::ExportVerifier { out, model, keys } => export_verifier(&out, &model, &keys),
        Command::ExportWeb { out_dir, model, keys } => export_web(&out_dir, &model, &keys),
        Command::Bench { model: ModelArg { model: Some(path) }, input, json, repeat, .. } if cli::is_compiled(&path) => {
            cli::bench(&path, input.as_deref(), repeat, json.as_deref())
        }
        Command::Bench { model, keys, json, repeat, .. } => bench(&model, &keys, json.as_deref(), repeat),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

fn generate(secret: &SecretArgs, out: &Path, scale: u32, model: &ModelArg) -> Result<()> {
    let model = model.load()?;
    let text = secret.prompt()?;
    let (seed, fresh) = secret.seed()?;
    let start = Instant::now();
    let latent = seed.latent(&text, model.latent_len());
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
    if fresh {
        let path = out.with_extension("secret.json");
        let commitment = prover::proof::fr_to_hex(&section9::circuit::statement::commitment(&latent, seed.salt()));
        write_secret(&path, &text, &seed, &commitment)?;
        println!("secret   {} (prompt and seed: `prove --seed` with them proves this picture)", path.display());
    }
    Ok(())
}

fn info(model: &ModelArg) -> Result<()> {
    let model = model.load()?;
    let graph = model.graph();
    let tensors = graph.tensors();
    let latent = &tensors[graph.inputs()[0]];
    let (c, h, w) = model.shape();
    println!("model    {}", hex_string(&model.id()));
    println!("latent   `{}`: {} × int8 at 2^-{}", latent.name, latent.len(), latent.frac_bits);
    println!("picture  {w}×{h}, {}", if c == 1 { "grey (shown as RGB)" } else { "RGB" });
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

/// Runs `f` behind a spinner named `what`; prints how long it took.
fn step<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<(T, f64)> {
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}").unwrap_or_else(|_| ProgressStyle::default_spinner()));
    bar.set_message(what.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let start = Instant::now();
    let out = f();
    let secs = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let out = out?;
    eprintln!("{what}: {secs:.2} s");
    Ok((out, secs))
}

/// Everything needed to prove or verify for one model.
struct Setup {
    model: Generator,
    circuit: GraphParams,
    params: ParamsKZG<Bn256>,
    digest: [u8; 32],
    dev: bool,
}

impl KeyArgs {
    fn load(&self, model: &ModelArg) -> Result<Setup> {
        let model = model.load()?;
        if !(section9::circuit::MIN_WIDTH..=section9::circuit::MAX_WIDTH).contains(&self.width) {
            bail!("--width must be between {} and {}", section9::circuit::MIN_WIDTH, section9::circuit::MAX_WIDTH);
        }
        let circuit = GraphParams::mint(model.graph().clone(), self.width)?;
        let k = circuit.k();
        let params = match (&self.params, self.dev_srs) {
            (Some(path), _) => {
                let bytes = std::fs::read(path).with_context(|| format!("cannot read the params file {}", path.display()))?;
                step("loading the SRS", || srs::read(&bytes, k).with_context(|| format!("cannot use the params file {}", path.display())))?.0
            }
            (None, true) => {
                eprintln!("WARNING: using the INSECURE development SRS (public seed). Anyone can forge proofs");
                eprintln!("         against it: use it for local testing only, never for a deployed verifier.");
                step(&format!("generating the development SRS (k = {k})"), || Ok(srs::dev_srs(k)))?.0
            }
            (None, false) => bail!("no SRS given: pass --params <halo2 KZG params file> (or --dev-srs for local testing)"),
        };
        let digest = keys::circuit_digest(&circuit, &params);
        // A params file can hold the development SRS too (an `export-web` params.bin, say).
        let dev = srs::is_dev(&params);
        if dev && !self.dev_srs {
            eprintln!("WARNING: this params file is the INSECURE development SRS (public seed): local testing only.");
        }
        Ok(Setup { model, circuit, params, digest, dev })
    }
}

impl Setup {
    fn pk_path(&self, dir: &Path) -> PathBuf {
        dir.join(format!("mint-{}.pk", &section9::hex_string(&self.digest)[..16]))
    }

    fn vk_path(&self, dir: &Path) -> PathBuf {
        dir.join(format!("mint-{}.vk", &section9::hex_string(&self.digest)[..16]))
    }

    /// The cached proving key, or a new one (then cached).
    fn proving_key(&self, dir: &Path) -> Result<ProvingKey<G1Affine>> {
        let path = self.pk_path(dir);
        if let Ok(bytes) = std::fs::read(&path) {
            match keys::read_pk(&bytes, &self.digest, &self.circuit) {
                Ok(pk) => {
                    eprintln!("proving key: {} (cached)", path.display());
                    return Ok(pk);
                }
                Err(e) => eprintln!("ignoring {}: {e}", path.display()),
            }
        }
        let (pk, _) = step(&format!("generating keys (k = {})", self.circuit.k()), || Ok(keys::generate(&self.params, &self.circuit)?))?;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        std::fs::write(&path, keys::write_pk(&pk, &self.digest)).with_context(|| format!("cannot write {}", path.display()))?;
        std::fs::write(self.vk_path(dir), keys::write_vk(pk.get_vk(), &self.digest))
            .with_context(|| format!("cannot write {}", self.vk_path(dir).display()))?;
        Ok(pk)
    }

    /// The verifying key, always derived from the circuit (never read from the cache: see
    /// `keys::verifying_key`).
    fn verifying_key(&self) -> Result<VerifyingKey<G1Affine>> {
        Ok(step("deriving the verifying key", || Ok(keys::verifying_key(&self.params, &self.circuit)?))?.0)
    }
}

fn setup(model: &ModelArg, args: &KeyArgs) -> Result<()> {
    let s = args.load(model)?;
    let pk = s.proving_key(&args.keys_dir)?;
    let (dot, range, _) = s.circuit.rows();
    println!("model    {}", hex_string(&s.model.id()));
    println!("circuit  k = {}, {} rows (dot group {dot}, range group {range}), W = {}", s.circuit.k(), dot.max(range), s.circuit.width);
    println!("digest   {}", section9::hex_string(&s.digest));
    println!("keys     {} , {}", s.pk_path(&args.keys_dir).display(), s.vk_path(&args.keys_dir).display());
    let cs = pk.get_vk().cs();
    println!("columns  {} advice, {} fixed, {} lookup", cs.num_advice_columns(), cs.num_fixed_columns(), cs.lookups().len());
    Ok(())
}

fn prove(secret: &SecretArgs, minter: &str, out: &Path, secret_out: Option<&Path>, model: &ModelArg, args: &KeyArgs) -> Result<()> {
    let minter = prover::proof::parse_address(minter).context("--minter must be an address: 0x followed by 40 hex digits")?;
    let text = secret.prompt()?;
    let (seed, _) = secret.seed()?;
    let s = args.load(model)?;
    let pk = s.proving_key(&args.keys_dir)?;
    let latent = seed.latent(&text, s.model.latent_len());
    let picture = s.model.picture(&latent)?;
    let witness = GraphWitness::mint(&latent, seed.salt(), minter);
    let ((instances, proof), _) = step("proving", || Ok(prover::prove(&s.params, &pk, &s.circuit, witness, rand::rngs::OsRng)?))?;
    let file = ProofFile::new(&s.model.id(), s.circuit.k(), s.dev, &minter, &picture, &instances, &proof);
    std::fs::write(out, file.to_json()).with_context(|| format!("cannot write {}", out.display()))?;
    let secret_path = secret_out.map(Path::to_path_buf).unwrap_or_else(|| out.with_extension("secret.json"));
    write_secret(&secret_path, &text, &seed, &file.commitment)?;
    println!("proof    {} ({} bytes of proof, {} public inputs)", out.display(), proof.len(), instances.len());
    println!("secret   {} (prompt and seed: keep private, readable by you only)", secret_path.display());
    println!("commit   {}", file.commitment);
    Ok(())
}

fn verify(path: &Path, model: &ModelArg, args: &KeyArgs) -> Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    if text.contains(section9::prover::graph::FORMAT) {
        let model = model.model.as_deref().context("this is a model proof: pass the compiled model with --model model.s9")?;
        return cli::verify(&text, model, args.params.as_deref(), args.dev_srs).with_context(|| format!("{} does not verify", path.display()));
    }
    let file = ProofFile::from_json(&text).with_context(|| format!("cannot read the proof file {}", path.display()))?;
    let parsed = file.parse().with_context(|| format!("invalid proof file {}", path.display()))?;
    let s = args.load(model)?;
    let id = hex_string(&s.model.id());
    if file.model_id != id {
        bail!("the proof is for model {}, this model is {id}", file.model_id);
    }
    let vk = s.verifying_key()?;
    step("verifying", || Ok(prover::verify(&s.params, &vk, &parsed.instances, &parsed.proof)?))?;
    println!("valid: the picture comes from model {} for minter {}", &file.model_id[..16], file.minter);
    Ok(())
}

fn export_verifier(out: &Path, model: &ModelArg, args: &KeyArgs) -> Result<()> {
    let s = args.load(model)?;
    let vk = s.verifying_key()?;
    let instances = section9::circuit::statement::INSTANCES;
    let (code, _) = step("generating the verifier", || Ok(prover::evm::solidity_verifier(&s.params, &vk, instances)?))?;
    let code = prover::evm::with_header(&code, &hex_string(&s.model.id()), s.circuit.k(), &srs::fingerprint(&s.params), s.dev);
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(out, &code).with_context(|| format!("cannot write {}", out.display()))?;
    println!("verifier {} ({} bytes of Solidity, {instances} public inputs)", out.display(), code.len());
    if s.dev {
        println!("WARNING  this verifier trusts the INSECURE development SRS: never deploy it outside a local chain");
    }
    Ok(())
}

fn export_web(dir: &Path, model: &ModelArg, args: &KeyArgs) -> Result<()> {
    let s = args.load(model)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let params = srs::write_compressed(&s.params);
    let files = [
        ("model.json", s.model.graph().to_json().into_bytes()),
        ("params.bin", params.clone()),
        (
            "manifest.json",
            serde_json::to_vec_pretty(&serde_json::json!({
                "format": "section9-web-v1",
                "model_id": hex_string(&s.model.id()),
                "picture": { "channels": s.model.shape().0, "height": s.model.shape().1, "width": s.model.shape().2 },
                "k": s.circuit.k(),
                "width": s.circuit.width,
                "dev_srs": s.dev,
                "srs_fingerprint": section9::hex_string(&srs::fingerprint(&s.params)),
                "params_bytes": params.len(),
                "params_sha256": section9::hex_string(&<sha2::Sha256 as sha2::Digest>::digest(&params)),
            }))?,
        ),
    ];
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote    {}", path.display());
    }
    if s.dev {
        println!("WARNING  these params are the INSECURE development SRS: for a local chain only");
    }
    Ok(())
}

/// Peak resident memory of this process so far (Linux), in bytes.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn bench(model: &ModelArg, args: &KeyArgs, json: Option<&Path>, repeat: usize) -> Result<()> {
    let s = args.load(model)?;
    let (pk, keygen_s) = step("key generation", || Ok(keys::generate(&s.params, &s.circuit)?))?;
    let latent = Seed([0x5e; 32]).latent("bench", s.model.latent_len());
    let minter = [0x11u8; 20];
    let witness = GraphWitness::mint(&latent, Fr::from(7), minter);
    let (_, witness_s) = step("witness (integer inference + trace)", || Ok(GraphTrace::new(&s.circuit.plan, s.model.graph(), &witness.inputs, None)))?;
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
        "width": s.circuit.width,
        "advice_columns": cs.num_advice_columns(),
        "fixed_columns": cs.num_fixed_columns(),
        "selectors": cs.num_selectors(),
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

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

