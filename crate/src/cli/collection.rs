//! `section9 collection new`: everything a creator's collection needs, from a generator.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use section9::graph::quantize::Options;
use section9::generator::{compile_trained, GeneratorError};
use section9::circuit::graph::{weight_commitment, GraphParams, Optimize, Visibility, Weights};
use section9::prover::proof::fr_to_hex;
use section9::{hex_string, Generator};

use super::keys::KeyArgs;
use super::{is_compiled, model, read_onnx};

#[derive(clap::Subcommand)]
pub enum CollectionCommand {
    /// Make a collection from a generator: the compiled model, the verifier, the mint page's
    /// files and a manifest, in one directory (`bash scripts/start.sh DIR` deploys and serves it).
    New(NewArgs),
}

#[derive(clap::Args)]
pub struct NewArgs {
    /// The generator: an ONNX file (one input, the latent; one output, the picture: [1, C, H, W]
    /// with C = 1 or 3 and a bounded range such as Tanh, Sigmoid or Clip), or a compiled `.s9`.
    #[arg(long)]
    pub model: PathBuf,
    /// Calibration latents (EZKL's input shape). Default: 16 latents uniform in [-1, 1] — the
    /// range the page's latents have (int8 at 2^-7). A model with trained scales needs none.
    #[arg(long)]
    pub calibrate: Option<PathBuf>,
    /// The collection's name (the token's ERC-721 name).
    #[arg(long)]
    pub name: String,
    /// The token symbol.
    #[arg(long)]
    pub symbol: String,
    /// Royalty on secondary sales (ERC-2981), in basis points: 500 is 5 %.
    #[arg(long, default_value_t = 500)]
    pub royalty_bps: u32,
    /// Who receives royalties (0x + 40 hex; default: the deploying account).
    #[arg(long)]
    pub royalty_receiver: Option<String>,
    /// The directory to write the collection into.
    #[arg(long)]
    pub out: PathBuf,
    /// Keep the weights the artist's own (`--weights committed`): the verifier is the model's
    /// shape's, the collection registers the weights' Poseidon commitment, the page and its
    /// files hold only the shape, and only the holder of `model.s9` can prove.
    #[arg(long)]
    pub private_weights: bool,
    /// The mint circuit's layout: `verifier` (default: `W = 5`, one range lane — the fewest
    /// columns, the least verification gas per mint) or `prover` (the width, lanes and
    /// accumulators with the smallest `k` — a faster proof in the browser, dearer
    /// verification). `collection.json` and the page's manifest record the layout (`width`,
    /// `lanes`, `accumulators`); CLI proofs for the collection pass the same `--width`,
    /// `--lanes` and `--accumulators`.
    #[arg(long, conflicts_with_all = ["width", "lanes", "accumulators"])]
    pub optimize: Option<Optimize>,
    #[command(flatten)]
    pub keys: KeyArgs,
}

pub fn run(command: CollectionCommand) -> Result<()> {
    match command {
        CollectionCommand::New(args) => new(&args),
    }
}

/// The contract stores each picture as one contract's code (EIP-170: 24,576 bytes), so a
/// picture without a single repeated pixel must pack into that: at most 8,100 pixels.
const MAX_PIXELS: usize = 8100;

fn load(path: &Path, calibrate: Option<&Path>) -> Result<Generator> {
    if is_compiled(path) {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        return Generator::from_json(&text).with_context(|| format!("{} is not a generator", path.display()));
    }
    // Trained scales (the committed generator's training code writes them) are kept exactly; a
    // trained model that fails their checks (an off-grid weight…) is refused, not recalibrated.
    match compile_trained(&read_onnx(path)?) {
        Ok(generator) => {
            if calibrate.is_some() {
                eprintln!("note: {} carries trained scales; --calibrate is not needed and was not used", path.display());
            }
            return Ok(generator);
        }
        Err(GeneratorError::Untrained(_)) => {}
        Err(e) => return Err(e).with_context(|| format!("cannot load the model {}", path.display())),
    }
    let (graph, report) = model::compile_graph(path, calibrate, &Options::default(), true)?;
    model::print_report(&report);
    Generator::new(graph).with_context(|| format!("{} cannot be minted", path.display()))
}

fn new(a: &NewArgs) -> Result<()> {
    if a.name.trim().is_empty() || a.symbol.trim().is_empty() {
        bail!("--name and --symbol must not be empty");
    }
    if a.royalty_bps > 10_000 {
        bail!("--royalty-bps is at most 10000 (100 %)");
    }
    let receiver = match &a.royalty_receiver {
        Some(r) => Some(format!("0x{}", hex_string(&section9::prover::proof::parse_address(r).context("--royalty-receiver must be 0x and 40 hex digits")?))),
        None => None,
    };
    let generator = load(&a.model, a.calibrate.as_deref())?;
    let (channels, height, width) = generator.shape();
    if width * height > MAX_PIXELS {
        bail!("a {width}×{height} picture is over the {MAX_PIXELS} pixels a contract can store in one blob (EIP-170): make the generator's picture smaller");
    }
    let committed = a.private_weights || a.keys.weights == Weights::Committed;
    let weights = if committed { Weights::Committed } else { a.keys.weights };
    let (row_width, lanes, accumulators) = match a.optimize {
        Some(goal) => {
            let p = GraphParams::layout_for(generator.graph().clone(), Visibility::Committed, Visibility::Picture, weights, goal)?;
            (p.width, p.lanes, p.accumulators)
        }
        None => (a.keys.width, a.keys.lanes, a.keys.accumulators),
    };
    let s = KeyArgs { weights, width: row_width, lanes, accumulators, ..a.keys.clone() }.setup(generator)?;
    let weight_commitment = if committed { Some(fr_to_hex(&weight_commitment(s.model.graph())?)) } else { None };
    let model_id = hex_string(&s.model_id());
    std::fs::create_dir_all(&a.out).with_context(|| format!("cannot create {}", a.out.display()))?;
    let model_path = a.out.join("model.s9");
    std::fs::write(&model_path, s.model.graph().to_json()).with_context(|| format!("cannot write {}", model_path.display()))?;
    println!("model    {}{}", model_path.display(), if committed { " (holds the weights: keep it private)" } else { "" });
    let verifier = a.out.join("Halo2Verifier.sol");
    s.write_verifier(&verifier)?;
    check_size(&verifier, &a.out.join("build"))?;
    let collection = serde_json::json!({
        "format": "section9-collection-v1",
        "name": a.name,
        "symbol": a.symbol,
        "royalty_bps": a.royalty_bps,
        "royalty_receiver": receiver,
        "model_id": model_id,
        "weights": s.circuit.weights().to_string(),
        "weight_commitment": weight_commitment,
        "picture": { "channels": channels, "height": height, "width": width },
        "k": s.circuit.k(),
        "width": s.circuit.width,
        "lanes": s.circuit.lanes,
        "accumulators": s.circuit.accumulators,
        "circuit_digest": hex_string(&s.digest),
        "dev_srs": s.dev,
    });
    let extra = serde_json::json!({ "collection": { "name": a.name, "symbol": a.symbol }, "weights": s.circuit.weights().to_string(), "weight_commitment": weight_commitment });
    s.write_web(&a.out.join("static"), extra)?;
    let path = a.out.join("collection.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&collection)?).with_context(|| format!("cannot write {}", path.display()))?;
    println!("wrote    {}", path.display());
    println!(
        "\n{} ({}): {width}×{height} {}, model {}…, mint circuit k = {} ({}).\nDeploy it and serve its mint page: bash scripts/start.sh {}",
        a.name,
        a.symbol,
        if channels == 1 { "grey" } else { "RGB" },
        &model_id[..16],
        s.circuit.k(),
        super::layout_text(&s.circuit),
        a.out.display()
    );
    if let Some(c) = &weight_commitment {
        println!("Private weights: the collection registers the commitment {c}; its page and files hold only the shape, and only the holder of model.s9 can prove (`section9 prove --weights committed --model model.s9`).");
    }
    if s.dev {
        println!("WARNING  built on the INSECURE development SRS: for a local chain only (--params FILE.srs from `section9 srs import`)");
    }
    Ok(())
}

/// Compiles the verifier (and the art contract) with the repository's solc-js, which refuses a
/// contract over EIP-170's 24,576 deployed bytes and says what to change. Run from a checkout
/// whose `contracts/` packages are installed (`scripts/start.sh` installs them); elsewhere the
/// check happens when `scripts/start.sh DIR` compiles the collection.
fn check_size(verifier: &Path, build: &Path) -> Result<()> {
    let script = Path::new("contracts/scripts/compile.js");
    if !script.exists() || !Path::new("contracts/node_modules/solc").exists() {
        println!("note     the verifier's deployed size (EIP-170) is checked when `bash scripts/start.sh DIR` compiles it");
        return Ok(());
    }
    let absolute = |p: &Path| std::path::absolute(p).with_context(|| format!("cannot resolve {}", p.display()));
    let run = std::process::Command::new("node")
        .arg(script)
        .env("VERIFIER_SOL", absolute(verifier)?)
        .env("BUILD_DIR", absolute(build)?)
        .output();
    match run {
        Ok(out) if out.status.success() => {
            print!("{}", String::from_utf8_lossy(&out.stdout));
            Ok(())
        }
        Ok(out) => bail!("the collection's contracts do not compile to deployable code:\n{}", String::from_utf8_lossy(&out.stderr).trim()),
        Err(_) => {
            println!("note     node is not installed: the verifier's deployed size (EIP-170) is checked when `bash scripts/start.sh DIR` compiles it");
            Ok(())
        }
    }
}
