//! The `section9` binary as a user runs it.

mod common;

use std::process::Command;

fn section9() -> Command {
    Command::new(env!("CARGO_BIN_EXE_section9"))
}

#[test]
fn generate_writes_a_png_and_prints_the_model_id() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("art.png");
    let run = section9().args(["generate", "--prompt", "a cat in space", "--scale", "4", "--out"]).arg(&out).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let stdout = String::from_utf8(run.stdout).unwrap();
    assert!(stdout.contains(&common::gan().id_hex()), "{stdout}");
    let png = std::fs::read(&out).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR: width and height, big-endian, at bytes 16..24.
    assert_eq!(&png[16..24], &[0, 0, 0, 128, 0, 0, 0, 128]);
    assert!(!stdout.contains("a cat in space"), "the prompt must not be printed");
}

#[test]
fn the_same_prompt_gives_the_same_picture_and_another_prompt_another() {
    let dir = tempfile::tempdir().unwrap();
    let run = |prompt: &str, name: &str| {
        let out = dir.path().join(name);
        let s = section9().args(["generate", "--prompt", prompt, "--out"]).arg(&out).output().unwrap();
        assert!(s.status.success());
        std::fs::read(out).unwrap()
    };
    assert_eq!(run("moon", "a.png"), run("moon", "b.png"));
    assert_ne!(run("moon", "a.png"), run("sun", "c.png"));
}

#[test]
fn a_missing_model_file_is_a_clear_error() {
    let run = section9().args(["generate", "--prompt", "x", "--model", "no/such/model.onnx"]).output().unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8(run.stderr).unwrap();
    assert!(stderr.contains("cannot read the model no/such/model.onnx"), "{stderr}");
}

#[test]
fn a_malformed_model_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.onnx");
    std::fs::write(&bad, b"\x08\x07garbage\xff\xff").unwrap();
    let run = section9().args(["info", "--model"]).arg(&bad).output().unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8(run.stderr).unwrap();
    assert!(stderr.contains("cannot load the model"), "{stderr}");
    assert!(stderr.contains("not a readable ONNX model"), "{stderr}");
}

#[test]
fn a_bad_scale_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = section9().args(["generate", "--prompt", "x", "--scale", "0", "--out"]).arg(dir.path().join("a.png")).output().unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("scale must be between 1 and 64"));
}

#[test]
fn info_lists_the_layers() {
    let run = section9().arg("info").output().unwrap();
    assert!(run.status.success());
    let stdout = String::from_utf8(run.stdout).unwrap();
    for name in ["fc", "up1", "up2", "up3", "324192 MACs"] {
        assert!(stdout.contains(name), "{name} missing from\n{stdout}");
    }
}

/// The whole proving flow as a user runs it: setup, prove, verify, and a tampered file.
#[test]
fn setup_prove_verify_with_the_development_srs() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let run = |args: &[&str]| section9().args(args).arg("--keys-dir").arg(&keys).current_dir(dir.path()).output().unwrap();

    let setup = run(&["setup", "--dev-srs"]);
    assert!(setup.status.success(), "{}", String::from_utf8_lossy(&setup.stderr));
    assert!(String::from_utf8_lossy(&setup.stderr).contains("INSECURE development SRS"));
    assert!(String::from_utf8_lossy(&setup.stdout).contains("k = 16"));

    let minter = format!("0x{}", "ab".repeat(20));
    let prove = run(&["prove", "--dev-srs", "--prompt", "a paper crane", "--minter", &minter, "--out", "proof.json"]);
    assert!(prove.status.success(), "{}", String::from_utf8_lossy(&prove.stderr));
    assert!(String::from_utf8_lossy(&prove.stderr).contains("(cached)"), "setup's key should be reused");
    let proof = std::fs::read_to_string(dir.path().join("proof.json")).unwrap();
    assert!(!proof.contains("paper crane"), "the prompt must not be in the proof file");
    let secret = std::fs::read_to_string(dir.path().join("proof.secret.json")).unwrap();
    assert!(secret.contains("a paper crane"));

    let verify = run(&["verify", "proof.json", "--dev-srs"]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
    assert!(String::from_utf8_lossy(&verify.stdout).contains("valid"));

    // Change one pixel and its instance consistently: the file parses, the proof fails.
    let mut file: serde_json::Value = serde_json::from_str(&proof).unwrap();
    let rgb = file["picture"]["rgb"].as_str().unwrap().to_string();
    let flipped = format!("{}{}", if &rgb[..1] == "0" { "1" } else { "0" }, &rgb[1..]);
    file["picture"]["rgb"] = flipped.clone().into();
    let bytes = hex::decode(&flipped).unwrap();
    let commitment = section9::prover::proof::hex_to_fr(file["commitment"].as_str().unwrap(), "commitment").unwrap();
    let instances = section9::circuit::statement::instances(&[0xab; 20], commitment, &bytes);
    file["instances"][2] = section9::prover::proof::fr_to_hex(&instances[2]).into();
    file["instances"][3] = section9::prover::proof::fr_to_hex(&instances[3]).into();
    std::fs::write(dir.path().join("tampered.json"), file.to_string()).unwrap();
    let verify = run(&["verify", "tampered.json", "--dev-srs"]);
    assert_eq!(verify.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&verify.stderr).contains("does not verify"), "{}", String::from_utf8_lossy(&verify.stderr));

    // No SRS at all, a bad minter, a missing proof file: clear errors.
    let no_srs = run(&["verify", "proof.json"]);
    assert!(String::from_utf8_lossy(&no_srs.stderr).contains("no SRS given"));
    let bad_minter = run(&["prove", "--dev-srs", "--prompt", "x", "--minter", "0x1234"]);
    assert!(String::from_utf8_lossy(&bad_minter.stderr).contains("--minter must be an address"));
    let missing = run(&["verify", "nope.json", "--dev-srs"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read nope.json"));
}
