//! The command groups, one module each: [`mint`] (the generator's pictures and proofs),
//! [`model`] (any compiled model), [`collection`] (what a creator deploys),
//! [`trusted_setup`] (`.ptau` import). Shared here: progress and measurement helpers.

pub mod collection;
pub mod keys;
pub mod mint;
pub mod model;
pub mod trusted_setup;

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use section9::graph::import;

/// True when `path` holds a compiled model rather than an ONNX file.
pub fn is_compiled(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| b.first() == Some(&b'{'))
}

/// True when `path` holds a compiled model that is a generator (one int8 input, a picture out).
pub fn is_generator(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| section9::Generator::from_json(&text).is_ok())
}

/// Reads an ONNX file; weights in a side file (`model.onnx.data`, as recent PyTorch exports
/// them) are read from the model's directory and put inline.
pub fn read_onnx(onnx: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(onnx).with_context(|| format!("cannot read the model {}", onnx.display()))?;
    let dir = onnx.parent().unwrap_or(Path::new("")).to_path_buf();
    import::inline_external_data(&bytes, |location| std::fs::read(dir.join(location))).with_context(|| format!("cannot load the model {}", onnx.display()))
}

/// A circuit's layout in words: `W = 11, 2 range lanes` (and `, 3 accumulators` when a dot row
/// computes several outputs).
fn layout_text(params: &section9::circuit::graph::GraphParams) -> String {
    let accumulators = if params.accumulators > 1 { format!(", {} accumulators", params.accumulators) } else { String::new() };
    format!("W = {}, {} range lane{}{accumulators}", params.width, params.lanes, if params.lanes == 1 { "" } else { "s" })
}

/// Writes `bytes` to `path`, creating its directory.
fn write_creating_dir(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
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

/// Peak resident memory of this process so far (Linux), in bytes.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

