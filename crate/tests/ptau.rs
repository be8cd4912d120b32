//! Powers-of-Tau import against real ceremony files made by the `snarkjs` npm package
//! (`scripts/ptau.sh`: `powersoftau new`, two `contribute`s with fixed entropy, a `beacon`,
//! `prepare phase2` — the layout of the downloadable Hermez files): the imported params prove
//! and verify, and every kind of damage is refused with its own error.

mod common;

use std::io::Cursor;
use std::path::PathBuf;
use std::process::Command;

use halo2_proofs::halo2curves::bn256::G2Affine;
use halo2_proofs::halo2curves::bn256::Bn256;
use halo2_proofs::halo2curves::group::Curve as _;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_proofs::halo2curves::serde::SerdeObject as _;
use halo2_proofs::poly::commitment::{Params as _, ParamsProver as _};
use rand_chacha::rand_core::SeedableRng as _;
use rand_chacha::ChaCha20Rng;
use section9::prover::ptau::{self, PtauError};
use section9::prover::srs;

fn dir() -> PathBuf {
    let dir = std::env::var_os("SECTION9_PTAU_DIR").map(PathBuf::from).unwrap_or_else(|| common::repo_path("target/ptau"));
    assert!(dir.join("small.ptau").exists(), "{} has no small.ptau: run `bash scripts/ptau.sh` (the test command does)", dir.display());
    dir
}

fn small() -> Vec<u8> {
    std::fs::read(dir().join("small.ptau")).unwrap()
}

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::from_seed([3; 32])
}

fn import(bytes: &[u8], k: Option<u32>) -> Result<ptau::Imported, PtauError> {
    ptau::import(Cursor::new(bytes), k, rng())
}

/// (offset, size) of section `id`'s data.
fn section(bytes: &[u8], id: u32) -> (usize, usize) {
    let count = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
    let mut at = 12;
    for _ in 0..count {
        let sid = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let size = u64::from_le_bytes(bytes[at + 4..at + 12].try_into().unwrap()) as usize;
        if sid == id {
            return (at + 12, size);
        }
        at += 12 + size;
    }
    panic!("no section {id}");
}

/// Replaces the y coordinate (Montgomery form, little-endian) of G1 point `index` of tauG1 by
/// q − y: the negated point, still on the curve, no longer τ^index·G.
fn negate_g1(bytes: &mut [u8], index: usize) {
    let (offset, _) = section(bytes, 2);
    let at = offset + index * 64 + 32;
    let y = halo2_proofs::halo2curves::bn256::Fq::from_raw_bytes(&bytes[at..at + 32]).unwrap();
    bytes[at..at + 32].copy_from_slice(&(-y).to_raw_bytes());
}

/// The same powers with the Lagrange form computed from them (halo2's FFT over G1).
fn computed_lagrange(params: &ParamsKZG<Bn256>) -> ParamsKZG<Bn256> {
    srs::dev_srs(1).from_parts(params.k(), params.get_g().to_vec(), None, params.g2(), params.s_g2())
}

#[test]
fn a_snarkjs_ceremony_file_imports_and_its_params_prove_and_verify() {
    let imported = import(&small(), None).unwrap();
    assert_eq!((imported.power, imported.ceremony_power), (12, 12));
    assert_eq!(imported.contributions, Some(3), "two contributions and the beacon");
    assert_eq!(imported.params.k(), 12);
    assert!(!srs::is_dev(&imported.params));
    // A prepared file's own Lagrange points, reordered and checked, are halo2's: the same as
    // computing them from the powers by an FFT over G1.
    assert_eq!(imported.lagrange, ptau::LagrangeSource::File);
    assert_eq!(srs::write(&imported.params), srs::write(&computed_lagrange(&imported.params)));

    // Downsized at import: the same powers, fewer of them.
    let smaller = import(&small(), Some(10)).unwrap();
    assert_eq!(smaller.params.k(), 10);
    assert_eq!(smaller.lagrange, ptau::LagrangeSource::File);
    assert_eq!(smaller.params.get_g()[..], imported.params.get_g()[..1024]);
    assert_eq!(smaller.params.s_g2(), imported.params.s_g2());

    // Written as halo2 params, read back by what `--params` uses, identical.
    let bytes = srs::write(&imported.params);
    let read = srs::read(&bytes, 12).unwrap();
    assert_eq!(read.get_g(), imported.params.get_g());
    assert_eq!(srs::fingerprint(&read), srs::fingerprint(&imported.params));
}

#[test]
fn the_cli_imports_a_ceremony_file_and_a_model_proves_and_verifies_with_it() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_section9")).args(args).current_dir(tmp.path()).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let ptau = dir().join("small.ptau");
    let (code, stdout, stderr) = run(&["srs", "import", ptau.to_str().unwrap(), "--k", "12", "--out", "small.srs"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("3 contributions recorded"), "{stdout}");
    assert!(stdout.contains("lagrange  the file's own (prepared)"), "{stdout}");
    let (_, info, _) = run(&["srs", "info", "small.srs"]);
    assert!(info.contains("not the development SRS"), "{info}");

    let zoo = |f: &str| common::repo_path(&format!("model/zoo/{f}")).to_str().unwrap().to_string();
    let (code, _, stderr) = run(&["compile", &zoo("mlp.onnx"), "--calibrate", &zoo("mlp.calibration.json"), "--out", "mlp.s9"]);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, _, stderr) = run(&["prove", "--params", "small.srs", "--model", "mlp.s9", "--input", &zoo("mlp.input.json"), "--out", "p.json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, stdout, stderr) = run(&["verify", "--params", "small.srs", "--model", "mlp.s9", "p.json"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");

    // The same proof against other params (the development SRS) does not verify.
    let (code, _, _) = run(&["verify", "--dev-srs", "--model", "mlp.s9", "p.json"]);
    assert_eq!(code, Some(1));

    // A damaged file is refused by the CLI with the reason, and nothing is written.
    let mut bytes = small();
    negate_g1(&mut bytes, 700);
    std::fs::write(tmp.path().join("bad.ptau"), &bytes).unwrap();
    let (code, _, stderr) = run(&["srs", "import", "bad.ptau", "--k", "12", "--out", "bad.srs"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("refusing bad.ptau") && stderr.contains("pairing check failed"), "{stderr}");
    assert!(!tmp.path().join("bad.srs").exists());
}

#[test]
fn a_damaged_lagrange_section_is_not_used_the_basis_is_computed() {
    let good = import(&small(), Some(8)).unwrap();
    let mut bytes = small();
    let (offset, _) = section(&bytes, 12);
    // Section 12 holds 2^p points for p = 0, 1, …: k = 8's start after 2^8 − 1 points. Swap two.
    let at = offset + 255 * 64;
    let first: Vec<u8> = bytes[at..at + 64].to_vec();
    bytes.copy_within(at + 64..at + 128, at);
    bytes[at + 64..at + 128].copy_from_slice(&first);
    let imported = import(&bytes, Some(8)).unwrap();
    assert_eq!(imported.lagrange, ptau::LagrangeSource::Computed);
    assert_eq!(srs::write(&imported.params), srs::write(&good.params));
    // A file that is not prepared (no section 12) computes it too.
    let unprepared = import(&std::fs::read(dir().join("mint.ptau")).unwrap(), Some(6)).unwrap();
    assert_eq!(unprepared.lagrange, ptau::LagrangeSource::Computed);
}

#[test]
fn one_wrong_point_anywhere_fails_the_pairing_check() {
    for index in [1, 2, 1000, 4095] {
        let mut bytes = small();
        negate_g1(&mut bytes, index);
        let err = import(&bytes, None).err().unwrap();
        assert!(matches!(err, PtauError::Inconsistent), "point {index}: {err}");
    }
    // Swapping two (valid) powers breaks the sequence too.
    let mut bytes = small();
    let (offset, _) = section(&bytes, 2);
    let (a, b) = (offset + 5 * 64, offset + 9 * 64);
    let tmp: Vec<u8> = bytes[a..a + 64].to_vec();
    bytes.copy_within(b..b + 64, a);
    bytes[b..b + 64].copy_from_slice(&tmp);
    assert!(matches!(import(&bytes, None), Err(PtauError::Inconsistent)));
    // A point past the 2^k that are kept is not read: downsizing does not need it.
    let mut bytes = small();
    negate_g1(&mut bytes, 3000);
    assert!(import(&bytes, Some(11)).is_ok());
}

#[test]
fn a_wrong_tau_g2_is_refused() {
    let mut bytes = small();
    let (offset, _) = section(&bytes, 3);
    // [τ]G2 := 2·G2: on the curve, in the subgroup, but not τ.
    let two_g2 = (G2Affine::generator() + G2Affine::generator()).to_affine();
    let mut point = Vec::new();
    for c in [two_g2.x.c0, two_g2.x.c1, two_g2.y.c0, two_g2.y.c1] {
        point.extend(c.to_raw_bytes());
    }
    bytes[offset + 128..offset + 256].copy_from_slice(&point);
    assert!(matches!(import(&bytes, None), Err(PtauError::Inconsistent)));
}

#[test]
fn flipped_bytes_truncation_and_other_files_are_clear_errors() {
    let good = small();
    let (g1, _) = section(&good, 2);

    let mut flipped = good.clone();
    flipped[g1 + 64 * 321 + 7] ^= 0x01;
    let err = import(&flipped, None).err().unwrap();
    assert!(matches!(err, PtauError::Point { what: "tauG1", index: 321 }), "{err}");
    assert!(err.to_string().contains("tauG1 point 321"));

    let mut generator = good.clone();
    negate_g1(&mut generator, 0);
    assert!(matches!(import(&generator, None), Err(PtauError::Generator("G1"))));

    for len in [0, 3, 11, 30, g1 + 1000, good.len() / 2, good.len() - 1] {
        let err = import(&good[..len], None).err().unwrap();
        assert!(matches!(err, PtauError::NotPtau | PtauError::Truncated { .. } | PtauError::Io(_)), "length {len}: {err}");
    }
    assert!(matches!(import(&good[..good.len() / 2], None), Err(PtauError::Truncated { .. })));

    let mut other = good.clone();
    other[..4].copy_from_slice(b"zkey");
    assert!(matches!(import(&other, None), Err(PtauError::NotPtau)));
    let params = srs::write(&srs::dev_srs(4));
    assert!(matches!(import(&params, None), Err(PtauError::NotPtau)));

    let (header, _) = section(&good, 1);
    let mut modulus = good.clone();
    modulus[header + 4] ^= 0x01;
    assert!(matches!(import(&modulus, None), Err(PtauError::Curve { n8: 32 })));
    let mut power = good.clone();
    power[header + 36..header + 40].copy_from_slice(&13u32.to_le_bytes());
    assert!(matches!(import(&power, None), Err(PtauError::SectionSize { id: 2, .. })));

    assert!(matches!(import(&good, Some(13)), Err(PtauError::TooSmall { have: 12, need: 13 })));
    assert!(matches!(import(&good, Some(0)), Err(PtauError::K(0))));
}

#[test]
fn a_file_nobody_contributed_to_is_refused() {
    let fresh = std::fs::read(dir().join("fresh.ptau")).unwrap();
    assert!(matches!(import(&fresh, None), Err(PtauError::NoContribution)));
}

#[test]
fn the_development_srs_is_recognised_at_any_k_and_its_point_is_the_deploy_scripts() {
    for k in [4, 7] {
        assert!(srs::is_dev(&srs::dev_srs(k)));
    }
    let point = srs::dev_s_g2();
    assert_eq!(point, srs::dev_srs(3).s_g2());
    // contracts/scripts/dev-srs.json: what deploy.js looks for in a verifier's bytecode.
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(common::repo_path("contracts/scripts/dev-srs.json")).unwrap()).unwrap();
    let hex = |c: &halo2_proofs::halo2curves::bn256::Fq| {
        let mut be = halo2_proofs::halo2curves::ff::PrimeField::to_repr(c).as_ref().to_vec();
        be.reverse();
        format!("0x{}", hex::encode(be))
    };
    let s = &json["s_g2"];
    assert_eq!(s["x"], serde_json::json!([hex(&point.x.c0), hex(&point.x.c1)]));
    assert_eq!(s["y"], serde_json::json!([hex(&point.y.c0), hex(&point.y.c1)]));
}
