//! Powers-of-Tau ceremony files (`.ptau`, the snarkjs / Hermez format) → halo2 KZG params.
//!
//! The files every circom and snarkjs project holds (`powersOfTau28_hez_final_NN.ptau`, or one
//! made with `snarkjs powersoftau new / contribute / beacon`) carry exactly what halo2's KZG
//! needs: `[τ^i]G1` and `[τ]G2`. Layout (all integers little-endian):
//!
//! ```text
//! "ptau"  version:u32 (= 1)  n_sections:u32
//! n_sections × ( id:u32  size:u64  data[size] )
//!   1 header     n8:u32 (= 32)  q[n8] (the BN254 base field modulus)  power:u32  ceremony_power:u32
//!   2 tauG1      (2·2^power − 1) G1 points  [τ^i]G1    x, y   (n8 bytes each)
//!   3 tauG2      2^power G2 points          [τ^i]G2    x.c0, x.c1, y.c0, y.c1
//!   4 alphaTauG1, 5 betaTauG1, 6 betaG2, 7 contributions
//!   12 Lagrange tauG1 (prepared files): for each size 2^0 … 2^(power+1), [L_i(τ)]G1
//!   13–15 the other Lagrange forms
//! ```
//!
//! Coordinates are in Montgomery form with R = 2^256, which is halo2curves' own in-memory
//! representation, so a coordinate is read with `SerdeObject::from_raw_bytes` (which also
//! refuses a value ≥ q).
//!
//! Only what halo2 uses is read — the first `2^k` G1 powers and the first two G2 powers — and
//! all of it is checked before params are written:
//! - every point is on its curve, `[τ]G2` is in the prime-order subgroup (G1 has cofactor 1);
//! - `[τ^0]G1` and `[τ^0]G2` are the standard generators, and `[τ]G1` is neither the identity
//!   (τ = 0) nor the generator (τ = 1: a file no one contributed to);
//! - the powers form one geometric sequence with the ratio in G2: for random 128-bit `r_i`,
//!   `e(Σ r_i·P_i, [τ]G2) = e(Σ r_i·P_(i+1), G2)` with `P_i = [τ^i]G1`. One multi-pairing and two
//!   MSMs instead of `2^k` pairings; a file that is off anywhere passes with probability
//!   at most 2^-127.
//!
//! halo2 also needs the Lagrange form `[L_i(τ)]G1`. A prepared file (`snarkjs powersoftau
//! prepare phase2`, as the downloadable `_final_` files are) carries it in section 12, for every
//! domain size up to its power. snarkjs's domain is halo2's but enumerated by another root of
//! unity (5^t rather than 7^t, `t` the odd part of `r − 1`), so its `i`-th point is halo2's
//! `(i·j mod 2^k)`-th, `j` the discrete logarithm of one root to the other (Pohlig–Hellman: `k`
//! steps). The reordered points are checked against the checked powers with one more random
//! combination: `Σ r_i·L_i = Σ c_i·[τ^i]G1` with `c` the inverse FFT of `r` — if it fails (or the
//! file is not prepared), the Lagrange form is computed from the powers (an FFT over G1: ≈ 40 s
//! at k = 16 on 2 cores instead of ≈ 1 s). Either way `section9 srs import` writes a params file
//! once rather than importing at every use.

use std::io::{Read, Seek, SeekFrom};

use halo2_proofs::arithmetic::best_multiexp;
use halo2_proofs::halo2curves::bn256::{Bn256, Fq, Fq2, Fr, G1Affine, G2Affine, G2Prepared, Gt};
use halo2_proofs::halo2curves::group::cofactor::CofactorGroup;
use halo2_proofs::halo2curves::group::prime::PrimeCurveAffine;
use halo2_proofs::halo2curves::group::{Curve, Group};
use halo2_proofs::halo2curves::pairing::{MillerLoopResult, MultiMillerLoop};
use halo2_proofs::halo2curves::serde::SerdeObject;
use halo2_proofs::halo2curves::CurveAffine;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rand_core::RngCore;
use rayon::prelude::*;

use super::srs::MAX_K;

const MAGIC: &[u8; 4] = b"ptau";
const N8: usize = 32;
const G1_BYTES: usize = 2 * N8;
const G2_BYTES: usize = 4 * N8;
/// More sections than any writer produces (snarkjs writes at most 15): a bound on the scan.
const MAX_SECTIONS: u32 = 64;
/// The BN254 base field modulus, little-endian, as the header must state it.
const Q_LE: [u8; 32] = {
    // 0x30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47
    let be: [u8; 32] = [
        0x30, 0x64, 0x4e, 0x72, 0xe1, 0x31, 0xa0, 0x29, 0xb8, 0x50, 0x45, 0xb6, 0x81, 0x81, 0x58, 0x5d, 0x97, 0x81, 0x6a,
        0x91, 0x68, 0x71, 0xca, 0x8d, 0x3c, 0x20, 0x8c, 0x16, 0xd8, 0x7c, 0xfd, 0x47,
    ];
    let mut le = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        le[i] = be[31 - i];
        i += 1;
    }
    le
};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PtauError {
    #[error("cannot read the .ptau file")]
    Io(#[source] std::io::Error),
    #[error("not a .ptau file (it does not start with \"ptau\")")]
    NotPtau,
    #[error("unsupported .ptau version {0} (this reader knows version 1)")]
    Version(u32),
    #[error("the .ptau file lists {0} sections (at most {MAX_SECTIONS} are expected): corrupted?")]
    TooManySections(u32),
    #[error("the .ptau file is truncated: section {id} needs {need} bytes at offset {offset}, the file has {len}")]
    Truncated { id: u32, offset: u64, need: u64, len: u64 },
    #[error("the .ptau file has a section with id {0}, which no writer produces: corrupted?")]
    UnknownSection(u32),
    #[error("the .ptau file has section {0} twice")]
    DuplicateSection(u32),
    #[error("the .ptau file has no section {id} ({what})")]
    MissingSection { id: u32, what: &'static str },
    #[error("the .ptau header is {0} bytes, not 44")]
    Header(u64),
    #[error("the .ptau file is not over BN254 (field element size {n8}, or another modulus)")]
    Curve { n8: u32 },
    #[error("the .ptau file claims power {0}, outside 1..={MAX_K}")]
    Power(u32),
    #[error("the .ptau section {id} ({what}) is {have} bytes; power {power} needs {need}")]
    SectionSize { id: u32, what: &'static str, power: u32, have: u64, need: u64 },
    #[error("the .ptau file holds 2^{have} powers; k = {need} needs 2^{need}")]
    TooSmall { have: u32, need: u32 },
    #[error("k = {0} is outside 1..={MAX_K}")]
    K(u32),
    #[error("{what} point {index} is not a valid curve point (coordinate ≥ q, or not on the curve)")]
    Point { what: &'static str, index: usize },
    #[error("[τ^0]{0} is not the standard generator: not a BN254 ceremony file, or corrupted")]
    Generator(&'static str),
    #[error("[τ]G1 is the identity: τ = 0 would make every commitment trivial")]
    ZeroTau,
    #[error("[τ]G1 is the generator: τ = 1, the file has no contribution (a `powersoftau new` output, not a ceremony's)")]
    NoContribution,
    #[error("[τ]G2 is not in the prime-order subgroup")]
    Subgroup,
    #[error("the tau powers are not one geometric sequence with [τ]G2 (pairing check failed): the file is corrupted or was tampered with")]
    Inconsistent,
}

/// What a `.ptau` file says about itself, and the params made from it.
pub struct Imported {
    pub params: ParamsKZG<Bn256>,
    /// The file's power: it holds `2^power` powers of τ.
    pub power: u32,
    /// The power of the ceremony the file was cut from.
    pub ceremony_power: u32,
    /// How many contributions the file records (section 7), if it has that section.
    pub contributions: Option<u32>,
    /// Where the Lagrange form came from: the file's own (checked), or computed.
    pub lagrange: LagrangeSource,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LagrangeSource {
    /// Section 12 of a prepared file, reordered to halo2's root of unity and checked.
    File,
    /// Computed from the powers (the file is not prepared, or its section did not check out).
    Computed,
}

struct Section {
    offset: u64,
    size: u64,
}

/// Reads a `.ptau` file, checks it, and makes halo2 KZG params with `2^k` points (`k` defaults
/// to the file's power). `rng` draws the coefficients of the random linear combination.
pub fn import<R: Read + Seek>(mut file: R, k: Option<u32>, mut rng: impl RngCore) -> Result<Imported, PtauError> {
    let sections = read_sections(&mut file)?;
    let (power, ceremony_power) = read_header(&mut file, &sections)?;
    let k = k.unwrap_or(power);
    if k == 0 || k > MAX_K {
        return Err(PtauError::K(k));
    }
    if k > power {
        return Err(PtauError::TooSmall { have: power, need: k });
    }
    let n = 1usize << k;
    let g1_len = (2u64 << power) - 1;
    let tau_g1 = section(&sections, 2, "tauG1")?;
    expect_size(2, "tauG1", tau_g1, power, g1_len * G1_BYTES as u64)?;
    let tau_g2 = section(&sections, 3, "tauG2")?;
    expect_size(3, "tauG2", tau_g2, power, (1u64 << power) * G2_BYTES as u64)?;

    let g = read_g1(&mut file, tau_g1.offset, n, "tauG1")?;
    let g2s = read_g2(&mut file, tau_g2.offset, 2)?;
    let (g2, s_g2) = (g2s[0], g2s[1]);
    check(&g, g2, s_g2, &mut rng)?;

    let contributions = match sections[7].as_ref() {
        Some(s) if s.size >= 4 => Some(read_u32_at(&mut file, s.offset)?),
        _ => None,
    };
    let lagrange = match sections[12].as_ref() {
        // Domains 2^0 … 2^(power+1) back to back (snarkjs prepares one size beyond the powers).
        Some(s) if s.size == ((4u64 << power) - 1) * G1_BYTES as u64 => {
            let points = read_g1(&mut file, s.offset + (n as u64 - 1) * G1_BYTES as u64, n, "Lagrange tauG1")?;
            reorder_and_check(points, &g, k, &mut rng)
        }
        _ => None,
    };
    let source = if lagrange.is_some() { LagrangeSource::File } else { LagrangeSource::Computed };
    // `from_parts` is a method; any instance will do as the receiver. `None` computes the
    // Lagrange form from `g`.
    let shell = ParamsKZG::<Bn256>::setup(1, ChaCha20Rng::from_seed([0; 32]));
    let params = shell.from_parts(k, g, lagrange, g2, s_g2);
    Ok(Imported { params, power, ceremony_power, contributions, lagrange: source })
}

/// The section table: for each id below `MAX_SECTIONS`, where its data starts and its size.
fn read_sections<R: Read + Seek>(file: &mut R) -> Result<Vec<Option<Section>>, PtauError> {
    let len = file.seek(SeekFrom::End(0)).map_err(PtauError::Io)?;
    file.seek(SeekFrom::Start(0)).map_err(PtauError::Io)?;
    let mut magic = [0u8; 4];
    read_exact(file, &mut magic).map_err(|_| PtauError::NotPtau)?;
    if &magic != MAGIC {
        return Err(PtauError::NotPtau);
    }
    let version = read_u32(file)?;
    if version != 1 {
        return Err(PtauError::Version(version));
    }
    let count = read_u32(file)?;
    if count > MAX_SECTIONS {
        return Err(PtauError::TooManySections(count));
    }
    let mut sections: Vec<Option<Section>> = (0..MAX_SECTIONS).map(|_| None).collect();
    let mut offset = 12u64;
    for _ in 0..count {
        let truncated = |id, need| PtauError::Truncated { id, offset, need, len };
        if offset + 12 > len {
            return Err(truncated(0, 12));
        }
        let id = read_u32(file)?;
        let size = read_u64(file)?;
        let start = offset + 12;
        if size > len.saturating_sub(start) {
            return Err(PtauError::Truncated { id, offset: start, need: size, len });
        }
        let slot = sections.get_mut(id as usize).ok_or(PtauError::UnknownSection(id))?;
        if slot.is_some() {
            return Err(PtauError::DuplicateSection(id));
        }
        *slot = Some(Section { offset: start, size });
        offset = start + size;
        file.seek(SeekFrom::Start(offset)).map_err(PtauError::Io)?;
    }
    Ok(sections)
}

fn section<'a>(sections: &'a [Option<Section>], id: u32, what: &'static str) -> Result<&'a Section, PtauError> {
    sections[id as usize].as_ref().ok_or(PtauError::MissingSection { id, what })
}

fn expect_size(id: u32, what: &'static str, s: &Section, power: u32, need: u64) -> Result<(), PtauError> {
    if s.size != need {
        return Err(PtauError::SectionSize { id, what, power, have: s.size, need });
    }
    Ok(())
}

/// The header: returns `(power, ceremony_power)` after checking the curve.
fn read_header<R: Read + Seek>(file: &mut R, sections: &[Option<Section>]) -> Result<(u32, u32), PtauError> {
    let header = section(sections, 1, "header")?;
    if header.size != 4 + N8 as u64 + 8 {
        return Err(PtauError::Header(header.size));
    }
    file.seek(SeekFrom::Start(header.offset)).map_err(PtauError::Io)?;
    let n8 = read_u32(file)?;
    if n8 as usize != N8 {
        return Err(PtauError::Curve { n8 });
    }
    let mut q = [0u8; N8];
    read_exact(file, &mut q)?;
    if q != Q_LE {
        return Err(PtauError::Curve { n8 });
    }
    let power = read_u32(file)?;
    let ceremony_power = read_u32(file)?;
    if power == 0 || power > MAX_K {
        return Err(PtauError::Power(power));
    }
    Ok((power, ceremony_power))
}

fn coordinate(bytes: &[u8]) -> Option<Fq> {
    Fq::from_raw_bytes(bytes)
}

/// `n` G1 points from `offset`, decoded in parallel.
fn read_g1<R: Read + Seek>(file: &mut R, offset: u64, n: usize, what: &'static str) -> Result<Vec<G1Affine>, PtauError> {
    let bytes = read_at(file, offset, n * G1_BYTES)?;
    bytes
        .par_chunks_exact(G1_BYTES)
        .enumerate()
        .map(|(index, p)| {
            let invalid = || PtauError::Point { what, index };
            let (x, y) = (coordinate(&p[..N8]).ok_or_else(invalid)?, coordinate(&p[N8..]).ok_or_else(invalid)?);
            Option::from(G1Affine::from_xy(x, y)).ok_or_else(invalid)
        })
        .collect()
}

fn read_g2<R: Read + Seek>(file: &mut R, offset: u64, n: usize) -> Result<Vec<G2Affine>, PtauError> {
    let bytes = read_at(file, offset, n * G2_BYTES)?;
    bytes
        .chunks_exact(G2_BYTES)
        .enumerate()
        .map(|(index, p)| {
            let invalid = || PtauError::Point { what: "tauG2", index };
            let c: Vec<Fq> = p.chunks_exact(N8).map(coordinate).collect::<Option<_>>().ok_or_else(invalid)?;
            let (x, y) = (Fq2 { c0: c[0], c1: c[1] }, Fq2 { c0: c[2], c1: c[3] });
            Option::from(G2Affine::from_xy(x, y)).ok_or_else(invalid)
        })
        .collect()
}

/// The checks of the module doc, on the points halo2 will use.
fn check(g: &[G1Affine], g2: G2Affine, s_g2: G2Affine, mut rng: impl RngCore) -> Result<(), PtauError> {
    if g[0] != G1Affine::generator() {
        return Err(PtauError::Generator("G1"));
    }
    if g2 != G2Affine::generator() {
        return Err(PtauError::Generator("G2"));
    }
    if g.len() > 1 && bool::from(g[1].is_identity()) {
        return Err(PtauError::ZeroTau);
    }
    if g.len() > 1 && g[1] == g[0] {
        return Err(PtauError::NoContribution);
    }
    let s = s_g2.to_curve();
    if bool::from(s.is_identity()) || !bool::from(s.is_torsion_free()) {
        return Err(PtauError::Subgroup);
    }
    if g.len() < 2 {
        return Ok(());
    }
    let r: Vec<Fr> = (0..g.len() - 1)
        .map(|_| {
            let (lo, hi) = (rng.next_u64(), rng.next_u64());
            Fr::from_raw([lo, hi, 0, 0])
        })
        .collect();
    let (a, b) = rayon::join(|| best_multiexp(&r, &g[..g.len() - 1]), || best_multiexp(&r, &g[1..]));
    // e(A, [τ]G2) · e(−B, G2) = 1  ⇔  Σ r_i·τ^(i+1) = Σ r_i·τ^(i+1) in the exponent.
    let (a, minus_b) = (a.to_affine(), (-b).to_affine());
    let (s_prepared, g2_prepared) = (G2Prepared::from(s_g2), G2Prepared::from(g2));
    let result = Bn256::multi_miller_loop(&[(&a, &s_prepared), (&minus_b, &g2_prepared)]).final_exponentiation();
    if result != Gt::identity() {
        return Err(PtauError::Inconsistent);
    }
    Ok(())
}

/// The odd part `t` of `r − 1 = 2^28·t` (BN254's scalar field), little-endian limbs.
const T: [u64; 4] = [0x9b97_0914_3e1f_593f, 0x1815_85d2_833e_8487, 0x131a_029b_8504_5b68, 0x3_0644_e72e];
/// snarkjs's (ffjavascript's) root of unity is 5^t: 5 is the field's smallest non-residue.
const SNARKJS_GENERATOR: u64 = 5;

/// The file's Lagrange points in halo2's order, if they are the Lagrange form of `g`.
fn reorder_and_check(points: Vec<G1Affine>, g: &[G1Affine], k: u32, mut rng: impl RngCore) -> Option<Vec<G1Affine>> {
    use halo2_proofs::halo2curves::ff::{Field, PrimeField};
    use halo2_proofs::poly::EvaluationDomain;
    let n = g.len();
    let squarings = Fr::S - k;
    let root = |base: Fr| (0..squarings).fold(base, |w, _| w.square());
    let halo2 = root(Fr::ROOT_OF_UNITY);
    let snarkjs = root(Fr::from(SNARKJS_GENERATOR).pow_vartime(T));
    let j = discrete_log(snarkjs, halo2, k)?;
    let mut ordered = vec![G1Affine::identity(); n];
    for (i, p) in points.into_iter().enumerate() {
        ordered[(i as u64 * j % n as u64) as usize] = p;
    }
    let r: Vec<Fr> = (0..n).map(|_| Fr::from_raw([rng.next_u64(), rng.next_u64(), 0, 0])).collect();
    let domain = EvaluationDomain::<Fr>::new(1, k);
    let coefficients = domain.lagrange_to_coeff(domain.lagrange_from_vec(r.clone()));
    let (lhs, rhs) = rayon::join(|| best_multiexp(&r, &ordered), || best_multiexp(&coefficients[..], g));
    (lhs == rhs).then_some(ordered)
}

/// `j` with `base^j = target`, both of order dividing `2^k` (Pohlig–Hellman, one bit a step).
fn discrete_log(target: Fr, base: Fr, k: u32) -> Option<u64> {
    use halo2_proofs::halo2curves::ff::Field;
    let mut j = 0u64;
    for bit in 0..k {
        // (target·base^-j)^(2^(k-1-bit)) is 1 when bit `bit` of j is 0, −1 when it is 1.
        let rest = target * Option::<Fr>::from(base.pow_vartime([j]).invert())?;
        let probe = (0..k - 1 - bit).fold(rest, |x, _| x.square());
        if probe != Fr::ONE {
            j |= 1 << bit;
        }
    }
    (base.pow_vartime([j]) == target).then_some(j)
}

fn read_exact<R: Read>(file: &mut R, buf: &mut [u8]) -> Result<(), PtauError> {
    file.read_exact(buf).map_err(PtauError::Io)
}

fn read_u32<R: Read>(file: &mut R) -> Result<u32, PtauError> {
    let mut b = [0u8; 4];
    read_exact(file, &mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn read_u64<R: Read>(file: &mut R) -> Result<u64, PtauError> {
    let mut b = [0u8; 8];
    read_exact(file, &mut b)?;
    Ok(u64::from_le_bytes(b))
}

fn read_u32_at<R: Read + Seek>(file: &mut R, offset: u64) -> Result<u32, PtauError> {
    file.seek(SeekFrom::Start(offset)).map_err(PtauError::Io)?;
    read_u32(file)
}

fn read_at<R: Read + Seek>(file: &mut R, offset: u64, len: usize) -> Result<Vec<u8>, PtauError> {
    file.seek(SeekFrom::Start(offset)).map_err(PtauError::Io)?;
    let mut buf = vec![0u8; len];
    read_exact(file, &mut buf)?;
    Ok(buf)
}
