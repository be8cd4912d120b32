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
    assert!(stdout.contains(&section9::hex_string(&common::gan().id())), "{stdout}");
    let png = std::fs::read(&out).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR: width and height, big-endian, at bytes 16..24.
    assert_eq!(&png[16..24], &[0, 0, 0, 128, 0, 0, 0, 128]);
    assert!(!stdout.contains("a cat in space"), "the prompt must not be printed");
    // What the words steer toward is: the categories of the model's vocabulary, not the words.
    assert!(stdout.contains("steering toward ") && stdout.contains("Animals & Nature"), "{stdout}");
    let free = section9().args(["generate", "--prompt", "xyzzy plugh", "--out"]).arg(dir.path().join("free.png")).output().unwrap();
    assert!(String::from_utf8_lossy(&free.stdout).contains("steering none: no word of the prompt"), "{}", String::from_utf8_lossy(&free.stdout));
}

#[test]
fn the_same_prompt_and_seed_give_the_same_picture_another_seed_another() {
    let dir = tempfile::tempdir().unwrap();
    let seed = format!("0x{}", "5a".repeat(32));
    let run = |prompt: &str, seed: Option<&str>, name: &str| {
        let out = dir.path().join(name);
        let mut cmd = section9();
        cmd.args(["generate", "--prompt", prompt, "--out"]).arg(&out);
        if let Some(seed) = seed {
            cmd.args(["--seed", seed]);
        }
        let s = cmd.output().unwrap();
        assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
        std::fs::read(out).unwrap()
    };
    assert_eq!(run("moon", Some(&seed), "a.png"), run("moon", Some(&seed), "b.png"));
    assert_ne!(run("moon", Some(&seed), "a.png"), run("sun", Some(&seed), "c.png"));
    // Without --seed, a fresh secret seed each time: the same prompt, another variation, and the
    // seed kept in a file only the owner can read — from which the picture is reproduced.
    let fresh = run("moon", None, "d.png");
    assert_ne!(fresh, run("moon", None, "e.png"));
    let secret_path = dir.path().join("d.secret.json");
    #[cfg(unix)]
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&secret_path).unwrap().permissions()) & 0o777, 0o600);
    let secret: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&secret_path).unwrap()).unwrap();
    assert_eq!(secret["prompt"], "moon");
    assert_eq!(run("moon", secret["seed"].as_str(), "f.png"), fresh);

    let bad = section9().args(["generate", "--prompt", "x", "--seed", "0x12", "--out"]).arg(dir.path().join("g.png")).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("a seed is 64 hex digits"), "{}", String::from_utf8_lossy(&bad.stderr));
}

#[test]
fn the_prompt_can_come_from_a_file_or_standard_input() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let seed = format!("0x{}", "07".repeat(32));
    std::fs::write(dir.path().join("prompt.txt"), "a heron at dawn\n").unwrap();
    let from_file = section9().args(["generate", "--prompt-file", "prompt.txt", "--seed", &seed, "--out", "a.png"]).current_dir(dir.path()).output().unwrap();
    assert!(from_file.status.success(), "{}", String::from_utf8_lossy(&from_file.stderr));
    let mut child = section9()
        .args(["generate", "--prompt-file", "-", "--seed", &seed, "--out", "b.png"])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a heron at dawn\n").unwrap();
    assert!(child.wait().unwrap().success());
    let inline = section9().args(["generate", "--prompt", "a heron at dawn", "--seed", &seed, "--out", "c.png"]).current_dir(dir.path()).output().unwrap();
    assert!(inline.status.success());
    let read = |f: &str| std::fs::read(dir.path().join(f)).unwrap();
    assert_eq!(read("a.png"), read("c.png"), "one trailing newline is not part of the prompt");
    assert_eq!(read("b.png"), read("c.png"));
    let none = section9().args(["generate", "--out", "d.png"]).current_dir(dir.path()).output().unwrap();
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("--prompt-file"));
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
    std::fs::write(dir.path().join("prompt.txt"), "a paper crane").unwrap();
    let prove = run(&["prove", "--dev-srs", "--prompt-file", "prompt.txt", "--minter", &minter, "--out", "proof.json"]);
    assert!(prove.status.success(), "{}", String::from_utf8_lossy(&prove.stderr));
    assert!(String::from_utf8_lossy(&prove.stderr).contains("(cached)"), "setup's key should be reused");
    let proof = std::fs::read_to_string(dir.path().join("proof.json")).unwrap();
    assert!(!proof.contains("paper crane"), "the prompt must not be in the proof file");
    let secret_path = dir.path().join("proof.secret.json");
    let secret: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&secret_path).unwrap()).unwrap();
    assert_eq!(secret["prompt"], "a paper crane");
    #[cfg(unix)]
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&secret_path).unwrap().permissions()) & 0o777, 0o600);
    // The secret opens the public commitment: prompt and seed give the same latent and salt.
    let seed = section9::prompt::Seed::from_hex(secret["seed"].as_str().unwrap()).unwrap();
    let commitment = section9::circuit::statement::commitment(&common::gan().latent(&seed, "a paper crane"), seed.salt());
    let file: serde_json::Value = serde_json::from_str(&proof).unwrap();
    assert_eq!(file["commitment"], section9::prover::proof::fr_to_hex(&commitment));
    assert_eq!(secret["commitment"], file["commitment"]);

    let verify = run(&["verify", "proof.json", "--dev-srs"]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
    assert!(String::from_utf8_lossy(&verify.stdout).contains("valid"));

    // `verify` reads the cached verifying key (the key directory is trusted like the binary):
    // one replaced by another circuit's (here W = 6's, wrapped under this circuit's digest and
    // checksum) decides — the proof fails — and `--derive-vk` derives the key afresh.
    let other = run(&["setup", "--dev-srs", "--width", "6"]);
    assert!(other.status.success(), "{}", String::from_utf8_lossy(&other.stderr));
    let vk_files = |dir: &std::path::Path| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "vk")).collect()
    };
    let ours = String::from_utf8_lossy(&setup.stdout).lines().find_map(|l| l.strip_prefix("digest   ").map(str::to_string)).unwrap();
    let (mine, theirs): (Vec<_>, Vec<_>) = vk_files(&keys).into_iter().partition(|p| p.to_string_lossy().contains(&ours[..16]));
    let genuine = std::fs::read(&mine[0]).unwrap();
    let payload = std::fs::read(&theirs[0]).unwrap()[80..].to_vec();
    let mut forged = b"S9KEYS01".to_vec();
    forged.extend(hex::decode(&ours).unwrap());
    forged.extend((payload.len() as u64).to_le_bytes());
    forged.extend(<sha2::Sha256 as sha2::Digest>::digest(&payload));
    forged.extend(&payload);
    std::fs::write(&mine[0], forged).unwrap();
    let verify = run(&["verify", "proof.json", "--dev-srs"]);
    assert_eq!(verify.status.code(), Some(1), "the cached key decides");
    assert!(String::from_utf8_lossy(&verify.stderr).contains("verifying key") && String::from_utf8_lossy(&verify.stderr).contains("(cached)"));
    let verify = run(&["verify", "proof.json", "--dev-srs", "--derive-vk"]);
    assert!(verify.status.success(), "--derive-vk ignores the cache: {}", String::from_utf8_lossy(&verify.stderr));
    assert_eq!(std::fs::read(&mine[0]).unwrap(), genuine, "and caches the derived key");
    // A corrupted key file is ignored with a message, never trusted.
    let mut corrupted = genuine.clone();
    let last = corrupted.len() - 1;
    corrupted[last] ^= 1;
    std::fs::write(&mine[0], corrupted).unwrap();
    let verify = run(&["verify", "proof.json", "--dev-srs"]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
    assert!(String::from_utf8_lossy(&verify.stderr).contains("checksum mismatch"), "{}", String::from_utf8_lossy(&verify.stderr));
    // The development SRS was generated once and read from the key directory since.
    assert!(String::from_utf8_lossy(&prove.stderr).contains("development SRS: ") && String::from_utf8_lossy(&prove.stderr).contains("(cached)"));

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

/// `compile` → `run` → `prove --input` → `verify` on the zoo MLP, as an ML engineer runs it.
#[test]
fn compile_run_prove_verify_a_float_model() {
    let dir = tempfile::tempdir().unwrap();
    let zoo = |f: &str| common::repo_path(&format!("model/zoo/{f}"));
    let model = dir.path().join("mlp.s9");
    let run = section9().arg("compile").arg(zoo("mlp.onnx")).arg("--calibrate").arg(zoo("mlp.calibration.json")).arg("--out").arg(&model).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let stdout = String::from_utf8(run.stdout).unwrap();
    assert!(stdout.contains("max |err| steps") && stdout.contains("k = 10, W = "), "{stdout}");

    let run = section9().args(["run", "--model"]).arg(&model).arg("--input").arg(zoo("mlp.input.json")).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let outputs: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(outputs["outputs"][0].as_array().unwrap().len(), 10);

    let proof = dir.path().join("proof.json");
    let run = section9()
        .args(["prove", "--dev-srs", "--output-visibility", "public", "--input-visibility", "hashed", "--model"])
        .arg(&model)
        .arg("--keys-dir")
        .arg(dir.path().join("keys"))
        .arg("--input")
        .arg(zoo("mlp.input.json"))
        .arg("--out")
        .arg(&proof)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&proof).unwrap()).unwrap();
    assert_eq!(file["outputs"], outputs["outputs"], "the proof file states the outputs `run` printed");
    assert_eq!(file["instances"].as_array().unwrap().len(), 1 + 10, "input hash, then 10 outputs");

    let keys = dir.path().join("keys");
    let verify = |path: &std::path::Path| section9().args(["verify", "--dev-srs", "--model"]).arg(&model).arg(path).arg("--keys-dir").arg(&keys).output().unwrap();
    let ok = verify(&proof);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    // The first verification derived the verifying key; the next reads it, and four SRS points.
    let again = verify(&proof);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("verifying key: ") && stderr.contains("(cached)") && !stderr.contains("generating"), "{stderr}");

    // Its Solidity verifier: the same statement (hashed inputs, public outputs), over EIP-170
    // in one contract, so split; its header says what it checks.
    let sol = dir.path().join("mlp.sol");
    let run = section9().args(["export-verifier", "--dev-srs", "--input-visibility", "hashed", "--model"]).arg(&model).arg("--out").arg(&sol).arg("--keys-dir").arg(&keys).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let code = std::fs::read_to_string(&sol).unwrap();
    for line in ["// Section 9 model verifier", "// inputs: hashed", "// outputs: public", "// instances: 11", "// k: 10", "contract Halo2VerifierPart2 {"] {
        assert!(code.contains(line), "{line}");
    }
    assert!(String::from_utf8_lossy(&run.stderr).contains("(cached)"), "the key verification cached is reused");
    let refused = section9().args(["export-verifier", "--dev-srs", "--input-visibility", "hashed"]).output().unwrap();
    assert!(String::from_utf8_lossy(&refused.stderr).contains("pass --model model.s9"));

    // Laid out for the verifier: W = 5, one lane, one accumulator (the default chose more), recorded in
    // the proof file, which `verify` follows; its Solidity verifier is smaller.
    assert!(file["width"].as_u64().unwrap() > 5, "the default layout of the MLP has wider rows: {}", file["width"]);
    assert!(file["accumulators"].as_u64().is_some_and(|m| m > 1), "and dot rows of several outputs: {}", file["accumulators"]);
    let small = dir.path().join("small.json");
    let run = section9()
        .args(["prove", "--dev-srs", "--input-visibility", "hashed", "--optimize", "verifier", "--model"])
        .arg(&model)
        .args(["--keys-dir"])
        .arg(&keys)
        .arg("--input")
        .arg(zoo("mlp.input.json"))
        .arg("--out")
        .arg(&small)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let small_file: serde_json::Value = serde_json::from_slice(&std::fs::read(&small).unwrap()).unwrap();
    assert_eq!((small_file["width"].as_u64(), small_file["lanes"].as_u64()), (Some(5), Some(1)));
    assert!(small_file.get("accumulators").is_none(), "one accumulator: the field is left out, as in files written before it");
    assert_eq!(small_file["outputs"], file["outputs"]);
    let ok = verify(&small);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let small_sol = dir.path().join("small.sol");
    let run = section9()
        .args(["export-verifier", "--dev-srs", "--input-visibility", "hashed", "--optimize", "verifier", "--model"])
        .arg(&model)
        .arg("--out")
        .arg(&small_sol)
        .arg("--keys-dir")
        .arg(&keys)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(std::fs::metadata(&small_sol).unwrap().len() < std::fs::metadata(&sol).unwrap().len(), "fewer columns, a smaller verifier");
    let bad = section9().args(["prove", "--dev-srs", "--optimize", "size", "--model"]).arg(&model).arg("--input").arg(zoo("mlp.input.json")).output().unwrap();
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a layout goal (prover, verifier)"), "{}", String::from_utf8_lossy(&bad.stderr));

    // Claiming another output: the file no longer matches its instances.
    let mut lie = file.clone();
    lie["outputs"][0][0] = serde_json::json!(lie["outputs"][0][0].as_f64().unwrap() + 0.5);
    let forged = dir.path().join("forged.json");
    std::fs::write(&forged, lie.to_string()).unwrap();
    let run = verify(&forged);
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("instances do not match"), "{}", String::from_utf8_lossy(&run.stderr));

    // Changing output and instance together: the proof no longer verifies.
    let mut lie = file.clone();
    lie["outputs"][0][0] = serde_json::json!(lie["outputs"][0][0].as_f64().unwrap() + 2f64.powi(-7));
    let bumped = section9::prover::proof::hex_to_fr(lie["instances"][1].as_str().unwrap(), "i").unwrap() + halo2_proofs::halo2curves::bn256::Fr::one();
    lie["instances"][1] = serde_json::json!(section9::prover::proof::fr_to_hex(&bumped));
    std::fs::write(&forged, lie.to_string()).unwrap();
    let run = verify(&forged);
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("does not verify"), "{}", String::from_utf8_lossy(&run.stderr));
}

#[test]
fn compile_refuses_an_unsupported_operator_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = common::onnx::Builder::new(1);
    let x = b.input("x", &[1, 4]);
    let y = b.node("Det", &[&x], vec![]);
    let path = dir.path().join("det.onnx");
    std::fs::write(&path, b.finish(&[&y])).unwrap();
    let run = section9().arg("compile").arg(&path).arg("--out").arg(dir.path().join("m.s9")).output().unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8(run.stderr).unwrap();
    assert!(stderr.contains("node `Det_1` (Det): operator not supported"), "{stderr}");
}

#[test]
fn run_rejects_an_input_of_the_wrong_size() {
    let dir = tempfile::tempdir().unwrap();
    let zoo = |f: &str| common::repo_path(&format!("model/zoo/{f}"));
    let model = dir.path().join("lenet.s9");
    let run = section9().arg("compile").arg(zoo("lenet.onnx")).arg("--out").arg(&model).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stderr).contains("no --calibrate file"));
    let input = dir.path().join("in.json");
    std::fs::write(&input, r#"{"input_data": [[0.5, 0.25, 1.0]]}"#).unwrap();
    let run = section9().args(["run", "--model"]).arg(&model).arg("--input").arg(&input).output().unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8(run.stderr).unwrap();
    assert!(stderr.contains("input 0 has 3 values, not a multiple of the model's 256"), "{stderr}");
}

/// `collection new` on the second generator (an untrained ONNX file it calibrates), laid out
/// for the prover: the compiled model, the verifier with its header, the page's files and the
/// settings, all naming the same model and layout; then the collection's model proves and
/// verifies with the CLI at that layout (and not at the default one).
#[test]
fn collection_new_makes_a_collection_that_proves() {
    use section9::circuit::graph::{GraphParams, Optimize, Visibility, Weights};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sprites");
    let run = section9()
        .args(["collection", "new", "--model"])
        .arg(common::repo_path("model/sprite/sprite.onnx"))
        .args(["--name", "Sprites", "--symbol", "SPR", "--royalty-bps", "250", "--optimize", "prover", "--dev-srs", "--out"])
        .arg(&out)
        .arg("--keys-dir")
        .arg(dir.path().join("keys"))
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let collection: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("collection.json")).unwrap()).unwrap();
    assert_eq!(collection["name"], "Sprites");
    assert_eq!(collection["symbol"], "SPR");
    assert_eq!(collection["royalty_bps"], 250);
    assert_eq!(collection["picture"], serde_json::json!({ "channels": 1, "height": 16, "width": 16 }));
    let model = section9::Generator::from_json(&std::fs::read_to_string(out.join("model.s9")).unwrap()).unwrap();
    let id = section9::hex_string(&model.id());
    assert_eq!(collection["model_id"], id.as_str());
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("static/manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["model_id"], id.as_str());
    assert_eq!(manifest["collection"]["name"], "Sprites");
    assert_eq!(std::fs::read(out.join("static/model.json")).unwrap(), std::fs::read(out.join("model.s9")).unwrap());
    let verifier = std::fs::read_to_string(out.join("Halo2Verifier.sol")).unwrap();
    for line in [format!("// model: 0x{id}"), "// picture-width: 16".into(), "// picture-height: 16".into(), "// srs: development".into()] {
        assert!(verifier.contains(&line), "the verifier header lacks {line:?}");
    }
    // The layout with the smallest k, recorded where the page and the CLI read it.
    let layout = |goal| GraphParams::layout_for(model.graph().clone(), Visibility::Committed, Visibility::Picture, Weights::Fixed, goal).unwrap();
    let (fast, small) = (layout(Optimize::Prover), layout(Optimize::Verifier));
    assert!(fast.k() < small.k(), "the prover's layout has the smaller k ({} against {})", fast.k(), small.k());
    let (width, lanes, accumulators) = (fast.width.to_string(), fast.lanes.to_string(), fast.accumulators.to_string());
    for settings in [&collection, &manifest] {
        let recorded = ["width", "lanes", "accumulators", "k"].map(|key| settings[key].as_u64());
        assert_eq!(recorded, [fast.width as u64, fast.lanes as u64, fast.accumulators as u64, u64::from(fast.k())].map(Some));
    }
    let header = format!("// k: {}\n// layout: W = {}, {} range lanes, {} accumulators\n", fast.k(), fast.width, fast.lanes, fast.accumulators);
    assert!(verifier.contains(&header), "the verifier header names its layout: {header:?}");

    let proof = dir.path().join("proof.json");
    let prove = section9()
        .args(["prove", "--dev-srs", "--prompt", "a lantern in the fog", "--minter", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "--model"])
        .arg(out.join("model.s9"))
        .args(["--width", &width, "--lanes", &lanes, "--accumulators", &accumulators, "--keys-dir"])
        .arg(dir.path().join("keys"))
        .arg("--out")
        .arg(&proof)
        .output()
        .unwrap();
    assert!(prove.status.success(), "{}", String::from_utf8_lossy(&prove.stderr));
    let verify = |layout: &[&str]| section9().args(["verify", "--dev-srs", "--model"]).arg(out.join("model.s9")).arg(&proof).args(layout).arg("--keys-dir").arg(dir.path().join("keys")).output().unwrap();
    let verified = verify(&["--width", &width, "--lanes", &lanes, "--accumulators", &accumulators]);
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));
    // The same proof against the default layout's circuit: another verifying key, refused.
    let other = verify(&[]);
    assert_eq!(other.status.code(), Some(1), "a proof verifies only against its own layout");
    // The proof file states the 16×16 grey picture, as RGB.
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&proof).unwrap()).unwrap();
    assert_eq!(file["model_id"], id.as_str());
}

#[test]
fn collection_new_refuses_a_model_that_is_not_a_generator_and_bad_settings() {
    let dir = tempfile::tempdir().unwrap();
    let new = |model: &str, extra: &[&str]| {
        let run = section9()
            .args(["collection", "new", "--model"])
            .arg(common::repo_path(model))
            .args(["--name", "X", "--symbol", "X", "--dev-srs", "--out"])
            .arg(dir.path().join("out"))
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(1));
        String::from_utf8(run.stderr).unwrap()
    };
    // A classifier: its output [1, 10] is no picture.
    let err = new("model/zoo/mlp.onnx", &[]);
    assert!(err.contains("is not a picture") && err.contains("[1, 10]"), "{err}");
    let err = new("model/sprite/sprite.onnx", &["--royalty-bps", "10001"]);
    assert!(err.contains("--royalty-bps is at most 10000"), "{err}");
    let err = new("model/sprite/sprite.onnx", &["--royalty-receiver", "0x1234"]);
    assert!(err.contains("--royalty-receiver"), "{err}");
    let err = new("model/sprite/sprite.onnx", &["--lanes", "5"]);
    assert!(err.contains("--lanes must be between 1 and 4"), "{err}");
    let err = new("model/sprite/sprite.onnx", &["--accumulators", "5"]);
    assert!(err.contains("--accumulators must be between 1 and 4"), "{err}");
    // A layout is chosen or given, not both (a usage error).
    let both = section9()
        .args(["collection", "new", "--model"])
        .arg(common::repo_path("model/sprite/sprite.onnx"))
        .args(["--name", "X", "--symbol", "X", "--dev-srs", "--optimize", "prover", "--width", "6", "--out"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&both.stderr).contains("'--optimize <OPTIMIZE>' cannot be used with '--width <WIDTH>'"));
    assert!(!dir.path().join("out").exists(), "nothing is written for a refused collection");
}

#[test]
fn committed_weights_prove_with_the_model_and_verify_with_its_public_shape() {
    let dir = tempfile::tempdir().unwrap();
    let zoo = |f: &str| common::repo_path(&format!("model/zoo/{f}"));
    let model = dir.path().join("mlp.s9");
    let compile = |bits: &[&str]| {
        section9()
            .arg("compile")
            .arg(zoo("mlp.onnx"))
            .arg("--calibrate")
            .arg(zoo("mlp.calibration.json"))
            .args(["--weights", "committed"])
            .args(bits)
            .arg("--out")
            .arg(&model)
            .output()
            .unwrap()
    };
    // 16-bit weights cannot be committed as bytes: a clear error, and nothing written.
    let refused = compile(&["--weight-bits", "16"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--weight-bits 16 with --weights committed: committed weights are bytes"), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(!model.exists());

    // Without --weight-bits, committed weights are quantized to bytes.
    let run = compile(&[]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let stdout = String::from_utf8(run.stdout).unwrap();
    let commitment = stdout.lines().find_map(|l| l.strip_prefix("commitment   ")).expect("the commitment is printed").split(' ').next().unwrap().to_string();
    let shape = dir.path().join("mlp.shape.s9");
    // The shape: the same graph with every learned weight zero.
    let zero = |path: &std::path::Path| {
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        v["graph"]["nodes"].as_array().unwrap().iter().filter_map(|n| n["op"]["Linear"]["weights"].as_array().cloned()).flatten().all(|w| w == 0)
    };
    assert!(zero(&shape) && !zero(&model));

    let keys = dir.path().join("keys");
    let proof = dir.path().join("proof.json");
    let run = section9()
        .args(["prove", "--dev-srs", "--weights", "committed", "--model"])
        .arg(&model)
        .arg("--keys-dir")
        .arg(&keys)
        .arg("--input")
        .arg(zoo("mlp.input.json"))
        .arg("--out")
        .arg(&proof)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&proof).unwrap()).unwrap();
    assert_eq!(file["weights"], "committed");
    let instances = file["instances"].as_array().unwrap();
    assert_eq!(instances.len(), 10 + 1, "10 public outputs, then the weight commitment");
    assert_eq!(instances[10], commitment.as_str());

    // The verifier holds only the shape (weights zeroed): enough to rebuild the key.
    let verify = |path: &std::path::Path| section9().args(["verify", "--dev-srs", "--model"]).arg(&shape).arg(path).arg("--keys-dir").arg(&keys).output().unwrap();
    let ok = verify(&proof);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains(&format!("the model committed to {commitment}")), "{}", String::from_utf8_lossy(&ok.stdout));

    // Another commitment in the file: the proof does not verify.
    let mut other = file.clone();
    let last = if commitment.ends_with('1') { '2' } else { '1' };
    other["instances"][10] = serde_json::json!(format!("0x{}{last}", &commitment[2..65]));
    let other_path = dir.path().join("other.json");
    std::fs::write(&other_path, other.to_string()).unwrap();
    let bad = verify(&other_path);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("does not verify"), "{}", String::from_utf8_lossy(&bad.stderr));
}
