//! The `section9` command line: parse arguments, call the library, print results.
//!
//! Exit codes: 0 success, 1 failure (the error and its causes are printed), 2 bad usage.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use section9::circuit::graph::{GraphParams, Optimize, Visibility, Weights};
use section9::circuit::DEFAULT_WIDTH;

mod cli;

use cli::keys::KeyArgs;
use cli::mint::{self, ModelArg, SecretArgs};

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
    /// Creator collections: from an ONNX generator to what a deployed collection needs.
    Collection {
        #[command(subcommand)]
        command: cli::collection::CollectionCommand,
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
        /// The ONNX model (opset 11–21, IR up to 10, float32, static shapes; weights inline or
        /// in an external data file beside it).
        onnx: PathBuf,
        /// Sample inputs for calibration (EZKL's shape: {"input_data": [[...], ...]}; an
        /// input's list may hold several samples back to back).
        #[arg(long)]
        calibrate: Option<PathBuf>,
        /// Signed bits per weight (2–16): fewer bits zero more weights, which the circuit skips.
        /// Default 16, or 8 with `--weights committed` (committed weights are bytes).
        #[arg(long)]
        weight_bits: Option<u32>,
        /// Bits per activation, 8 or 16: 16 is about 100× more accurate and takes about half
        /// again as many rows per output (tables and max pooling read 8-bit values either way).
        #[arg(long, default_value_t = 16)]
        activation_bits: u32,
        /// `committed`: the learned weights will be private behind a public Poseidon commitment
        /// (printed); also writes the public shape (`*.shape.s9`, weights zeroed) that verifiers
        /// use. Committed weights are 8-bit (`--weight-bits` 8 or fewer; 8 by default).
        #[arg(long, default_value = "fixed")]
        weights: Weights,
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
        /// A model circuit's layout: `prover` (the fastest proof) or `verifier` (the smallest
        /// proof and Solidity verifier, the least gas). The proof file records it.
        #[arg(long, default_value = "prover", requires = "input")]
        optimize: Optimize,
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
    /// Verify a proof file. Reads four points of the SRS and the cached verifying key (derived
    /// and cached on first use).
    Verify {
        /// The proof file (JSON).
        proof: PathBuf,
        /// Ignore the cached verifying key: derive it from the circuit and the whole SRS.
        #[arg(long)]
        derive_vk: bool,
        #[command(flatten)]
        model: ModelArg,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Generate the Solidity verifier (snark-verifier, SHPLONK) of a generator's mint circuit,
    /// or, for a compiled model that is not a generator or with a visibility flag, of its
    /// model circuit (the statement `prove --input` proves with the same flags).
    ExportVerifier {
        /// Where to write the Solidity source.
        #[arg(long, default_value = "contracts/generated/Halo2Verifier.sol")]
        out: PathBuf,
        /// A model circuit: how the verifier sees the inputs (default private).
        #[arg(long)]
        input_visibility: Option<Visibility>,
        /// A model circuit: how the verifier sees the outputs (default public).
        #[arg(long)]
        output_visibility: Option<Visibility>,
        /// A model circuit's layout, as `prove --optimize` made the proofs it will check:
        /// `prover` (default) or `verifier` (fewer columns: a smaller verifier, less gas).
        #[arg(long)]
        optimize: Option<Optimize>,
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
        /// For a compiled model: the layout, `prover` (default) or `verifier`.
        #[arg(long, default_value = "prover")]
        optimize: Optimize,
    },
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
            let generator = mint::compile_generator(mint::BUILTIN_MODEL).context("the built-in model is invalid")?;
            Ok(GraphParams::mint(generator.into_graph(), DEFAULT_WIDTH)?.k())
        }),
        Command::Collection { command } => cli::collection::run(command),
        Command::Generate { secret, out, scale, model } => mint::generate(&secret, &out, scale, &model),
        Command::Info { model } => mint::info(&model),
        Command::Setup { model, keys } => mint::setup(&model, &keys),
        Command::Compile { onnx, calibrate, weight_bits, activation_bits, weights, out } => {
            cli::model::compile(&onnx, calibrate.as_deref(), weight_bits, activation_bits, weights, &out)
        }
        Command::Run { model, input } => cli::model::run(&model, &input),
        Command::Prove { input: Some(input), input_visibility, output_visibility, optimize, out, model, keys, .. } => match &model.model {
            Some(path) => cli::model::prove(cli::model::ModelProve {
                model: path,
                input: &input,
                inputs: input_visibility,
                outputs: output_visibility,
                weights: keys.weights,
                optimize,
                out: &out,
                keys: &keys,
            }),
            None => Err(anyhow::anyhow!("--input proves a compiled model: pass --model model.s9")),
        },
        Command::Prove { secret, minter, out, secret_out, model, keys, .. } => match minter {
            Some(minter) => mint::prove(&secret, &minter, &out, secret_out.as_deref(), &model, &keys),
            None => Err(anyhow::anyhow!("a mint proof names its minter: pass --minter 0x…")),
        },
        Command::Verify { proof, derive_vk, model, keys } => mint::verify(&proof, &model, &keys, derive_vk),
        Command::ExportVerifier { out, input_visibility, output_visibility, optimize, model, keys } => match &model.model {
            Some(path) if cli::is_compiled(path) && (input_visibility.is_some() || output_visibility.is_some() || optimize.is_some() || !cli::is_generator(path)) => {
                let (inputs, outputs) = (input_visibility.unwrap_or_default(), output_visibility.unwrap_or(Visibility::Public));
                cli::model::export_verifier(path, inputs, outputs, keys.weights, optimize.unwrap_or_default(), &keys, &out)
            }
            _ if input_visibility.is_some() || output_visibility.is_some() || optimize.is_some() => {
                Err(anyhow::anyhow!("--input-visibility, --output-visibility and --optimize are for a compiled model's circuit: pass --model model.s9"))
            }
            _ => mint::export_verifier(&out, &model, &keys),
        },
        Command::ExportWeb { out_dir, model, keys } => mint::export_web(&out_dir, &model, &keys),
        Command::Bench { model: ModelArg { model: Some(path) }, input, optimize, keys, json, repeat } if cli::is_compiled(&path) && (input.is_some() || !cli::is_generator(&path)) => {
            cli::model::bench(&path, input.as_deref(), keys.weights, optimize, &keys, repeat, json.as_deref())
        }
        Command::Bench { model, keys, json, repeat, .. } => mint::bench(&model, &keys, json.as_deref(), repeat),
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
