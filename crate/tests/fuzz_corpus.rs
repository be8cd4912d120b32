//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/`) through the same entry
//! points the cargo-fuzz targets call (`fuzz/src/lib.rs`), on stable and with overflow checks:
//! a crash the fuzzer once found, fixed and committed, stays fixed.

#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod targets;

use std::path::PathBuf;

#[test]
fn every_corpus_file_replays_without_a_panic() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let mut replayed = 0;
    for &(name, target) in targets::TARGETS {
        let dir = root.join(name);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("fuzz/corpus/{name} is committed: {e}"))
            .map(|entry| entry.unwrap().path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "fuzz/corpus/{name} has no files");
        for file in files {
            let bytes = std::fs::read(&file).unwrap();
            // A panic here names the file: `cargo +nightly fuzz run <target> <file>` replays it.
            eprintln!("{name}: {}", file.display());
            target(&bytes);
            replayed += 1;
        }
    }
    println!("replayed {replayed} corpus files through {} targets", targets::TARGETS.len());
}
