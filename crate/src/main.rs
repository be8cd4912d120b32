//! The `section9` command line: parse arguments, call the library, print results.
//!
//! Exit codes: 0 success, 1 failure (the error and its causes are printed), 2 bad usage.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use section9::model::onnx;
use section9::{prompt, QuantModel};

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
    /// Generate the picture for a prompt with the integer-only generator.
    Generate {
        /// The prompt; it selects the private latent and is never printed or stored.
        #[arg(long)]
        prompt: String,
        /// Where to write the PNG.
        #[arg(long, default_value = "art.png")]
        out: PathBuf,
        /// Each pixel becomes a scale × scale block (1–64).
        #[arg(long, default_value_t = 8)]
        scale: u32,
        #[command(flatten)]
        model: ModelArg,
    },
    /// Describe the quantized model: layers, shapes, shifts, MACs, identifier.
    Info {
        #[command(flatten)]
        model: ModelArg,
    },
}

#[derive(clap::Args)]
struct ModelArg {
    /// A quantized ONNX model (default: the committed generator, built in).
    #[arg(long)]
    model: Option<PathBuf>,
}

impl ModelArg {
    fn load(&self) -> Result<QuantModel> {
        match &self.model {
            None => onnx::import(BUILTIN_MODEL).context("the built-in model is invalid"),
            Some(path) => load_model(path),
        }
    }
}

fn load_model(path: &Path) -> Result<QuantModel> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read the model {}", path.display()))?;
    onnx::import(&bytes).with_context(|| format!("cannot load the model {}", path.display()))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate { prompt, out, scale, model } => generate(&prompt, &out, scale, &model),
        Command::Info { model } => info(&model),
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

fn generate(text: &str, out: &Path, scale: u32, model: &ModelArg) -> Result<()> {
    let model = model.load()?;
    let start = Instant::now();
    let latent = prompt::latent_from_prompt(text, model.input().len);
    let picture = model.picture(&latent)?;
    let elapsed = start.elapsed();
    let png = picture.to_png(scale)?;
    std::fs::write(out, png).with_context(|| format!("cannot write {}", out.display()))?;
    println!("model    {}", model.id_hex());
    println!(
        "picture  {}×{} in {:.2} ms (integer inference, {} MACs)",
        picture.width,
        picture.height,
        elapsed.as_secs_f64() * 1e3,
        model.macs()
    );
    println!(
        "wrote    {} ({}×{}, scale {scale})",
        out.display(),
        picture.width * scale as usize,
        picture.height * scale as usize
    );
    Ok(())
}

fn info(model: &ModelArg) -> Result<()> {
    let model = model.load()?;
    let input = model.input();
    println!("model   {}", model.id_hex());
    println!("input   `{}`: {} × int8 at 2^-{}", input.name, input.len, input.frac_bits);
    println!("{:<8} {:<14} {:>12} {:>12} {:>8} {:>6} {:>11}", "layer", "op", "input", "output", "MACs", "shift", "clamp");
    for layer in model.layers() {
        let op = match layer.op {
            section9::model::LinearOp::Dense { .. } => "Dense".to_string(),
            section9::model::LinearOp::ConvTranspose { kernel, stride, .. } => {
                format!("ConvT {}x{}/{}", kernel.0, kernel.1, stride.0)
            }
        };
        println!(
            "{:<8} {:<14} {:>12} {:>12} {:>8} {:>6} {:>11}",
            layer.name,
            op,
            format!("{:?}", layer.op.input_shape().dims()),
            format!("{:?}", layer.op.output_shape().dims()),
            layer.op.macs(),
            layer.shift(),
            format!("[{}, {}]", layer.clamp.0, layer.clamp.1)
        );
    }
    println!("total   {} MACs, {} parameters", model.macs(), model.params());
    Ok(())
}
