//! `section9 srs …`: trusted-setup files. `import` turns a Powers-of-Tau ceremony file into the
//! halo2 params every other command takes with `--params`; `info` says what a params file is.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use halo2_proofs::poly::commitment::Params as _;
use section9::prover::{ptau, srs};

use super::step;

#[derive(Subcommand)]
pub enum SrsCommand {
    /// Check a Powers-of-Tau ceremony file (snarkjs / Hermez `.ptau`, e.g.
    /// powersOfTau28_hez_final_16.ptau) and write halo2 KZG params from it.
    Import {
        /// The `.ptau` file.
        ptau: PathBuf,
        /// Where to write the params (halo2's raw format, what `--params` reads).
        #[arg(long)]
        out: PathBuf,
        /// Keep 2^k powers (default: the mint circuit's k). Params of a larger k serve every
        /// smaller circuit; model circuits may need more (`section9 bench --model` prints k).
        #[arg(long)]
        k: Option<u32>,
    },
    /// Describe a params file: k, its fingerprint, and whether it is the development SRS.
    Info {
        /// The params file.
        params: PathBuf,
    },
}

pub fn run(command: SrsCommand, mint_k: impl FnOnce() -> Result<u32>) -> Result<()> {
    match command {
        SrsCommand::Import { ptau, out, k } => {
            let k = match k {
                Some(k) => k,
                None => mint_k()?,
            };
            import(&ptau, &out, k)
        }
        SrsCommand::Info { params } => info(&params),
    }
}

fn import(path: &Path, out: &Path, k: u32) -> Result<()> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let reader = std::io::BufReader::new(file);
    let (imported, _) = step(&format!("checking {} and converting it (k = {k})", path.display()), || {
        ptau::import(reader, Some(k), rand::rngs::OsRng).with_context(|| format!("refusing {}", path.display()))
    })?;
    if srs::is_dev(&imported.params) {
        bail!("{} holds the INSECURE development SRS (public secret): not a ceremony file", path.display());
    }
    let bytes = srs::write(&imported.params);
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
    let contributions = imported.contributions.map_or("unknown".to_string(), |c| c.to_string());
    println!("ceremony  power {} (file holds 2^{} powers), {contributions} contributions recorded", imported.ceremony_power, imported.power);
    println!("checked   generators, curve and subgroup membership, and the pairing check that the 2^{k} powers are one geometric sequence");
    let lagrange = match imported.lagrange {
        ptau::LagrangeSource::File => "the file's own (prepared), reordered for halo2 and checked against the powers",
        _ => "computed from the powers (the file is not prepared)",
    };
    println!("lagrange  {lagrange}");
    println!("params    {} (k = {k}, {} bytes)", out.display(), bytes.len());
    println!("srs       {}", section9::hex_string(&srs::fingerprint(&imported.params)));
    println!("use it    section9 export-verifier --params {}   (and prove / verify / export-web)", out.display());
    Ok(())
}

fn info(path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let k = bytes.get(..4).and_then(|b| b.try_into().ok()).map(u32::from_le_bytes).context("not a params file")?;
    let params = srs::read(&bytes, k.min(srs::MAX_K)).with_context(|| format!("cannot read {}", path.display()))?;
    println!("params    {} (k = {})", path.display(), params.k());
    println!("srs       {}", section9::hex_string(&srs::fingerprint(&params)));
    if srs::is_dev(&params) {
        println!("WARNING   the INSECURE development SRS: anyone can forge proofs against it");
    } else {
        println!("kind      not the development SRS (its soundness is that of the ceremony it came from)");
    }
    Ok(())
}
