//! KZG parameters (the structured reference string).
//!
//! Files are the standard halo2 params format: `k` (u32 little-endian), `2^k` G1 points in
//! monomial form, `2^k` in Lagrange form, then `g2` and `s·g2` — with points either
//! compressed (halo2's `Processed` format, as written by `ParamsKZG::write`) or uncompressed
//! (`RawBytes`). The format is recognised from the file length, and a larger SRS is
//! downsized to the circuit's `k`, as with the Perpetual Powers of Tau conversions.
//!
//! Compressed points are decompressed in parallel (one square root each): 0.9 s → 0.45 s for
//! k = 16 on 2 cores natively, and the browser downloads the compressed file (4.2 MB for
//! k = 16, half the raw size) rather than recomputing the Lagrange form, which costs an FFT
//! over G1 (40 s natively at k = 16).
//!
//! [`dev_srs`] generates an *insecure* SRS from a fixed seed: anyone can forge proofs against
//! it. It exists so a fresh checkout works offline; every command using it says so, and
//! [`is_dev`] recognises it (also in a params file) so it is never taken for a real one.
//! Real parameters come from a Powers-of-Tau ceremony file: see [`super::ptau`].

use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine, G2Affine};
use halo2_proofs::halo2curves::ff::Field as _;
use halo2_proofs::halo2curves::group::prime::PrimeCurveAffine as _;
use halo2_proofs::halo2curves::group::{Curve as _, Group as _};
use halo2_proofs::SerdeCurveAffine as _;
use halo2_proofs::poly::commitment::{Params, ParamsProver};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_proofs::SerdeFormat;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

/// Largest `k` a params file may claim (2^28 points is already a 16 GiB file).
pub const MAX_K: u32 = 28;

/// The seed of the development SRS. Public, hence insecure.
pub const DEV_SEED: [u8; 32] = *b"section9 insecure development 01";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SrsError {
    #[error("params file too short: {len} bytes")]
    TooShort { len: usize },
    #[error("params file claims k = {k}, above the supported {MAX_K}")]
    KTooLarge { k: u32 },
    #[error(
        "params file has {len} bytes, which is neither the compressed ({compressed}) nor the \
         raw ({raw}) size for k = {k} (truncated or not a halo2 KZG params file?)"
    )]
    Size { len: usize, k: u32, compressed: usize, raw: usize },
    #[error("params file has an invalid curve point")]
    Points(#[source] std::io::Error),
    #[error("the SRS has k = {have}, the circuit needs k = {need}")]
    TooSmall { have: u32, need: u32 },
}

fn sizes(k: u32) -> (usize, usize) {
    let n = 1usize << k;
    (4 + 2 * n * 32 + 2 * 64, 4 + 2 * n * 64 + 2 * 128)
}

/// Reads a halo2 KZG params file and downsizes it to `k`.
pub fn read(bytes: &[u8], k: u32) -> Result<ParamsKZG<Bn256>, SrsError> {
    let header: [u8; 4] = bytes.get(..4).and_then(|b| b.try_into().ok()).ok_or(SrsError::TooShort { len: bytes.len() })?;
    let file_k = u32::from_le_bytes(header);
    if file_k > MAX_K {
        return Err(SrsError::KTooLarge { k: file_k });
    }
    let (compressed, raw) = sizes(file_k);
    let format = match bytes.len() {
        l if l == compressed => SerdeFormat::Processed,
        l if l == raw => SerdeFormat::RawBytes,
        len => return Err(SrsError::Size { len, k: file_k, compressed, raw }),
    };
    if file_k < k {
        return Err(SrsError::TooSmall { have: file_k, need: k });
    }
    let mut params = match format {
        SerdeFormat::Processed => read_compressed(bytes, file_k)?,
        _ => ParamsKZG::<Bn256>::read_custom(&mut &bytes[..], format).map_err(SrsError::Points)?,
    };
    if params.k() > k {
        params.downsize(k);
    }
    Ok(params)
}

/// Writes params in the raw (uncompressed, fastest to load) format.
pub fn write(params: &ParamsKZG<Bn256>) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = params.write_custom(&mut out, SerdeFormat::RawBytes);
    out
}

/// Writes params in halo2's compressed format (half the size; what the browser downloads).
pub fn write_compressed(params: &ParamsKZG<Bn256>) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = params.write_custom(&mut out, SerdeFormat::Processed);
    out
}

/// Decodes a compressed params file of exactly `k` (length already checked), decompressing
/// the G1 points in parallel.
fn read_compressed(bytes: &[u8], k: u32) -> Result<ParamsKZG<Bn256>, SrsError> {
    use halo2_proofs::halo2curves::bn256::Fq;
    use halo2_proofs::halo2curves::group::GroupEncoding;
    use rayon::prelude::*;
    let n = 1usize << k;
    let invalid = || SrsError::Points(std::io::Error::new(std::io::ErrorKind::InvalidData, "not a compressed curve point"));
    let g1: Vec<G1Affine> = bytes[4..4 + 2 * n * 32]
        .par_chunks_exact(32)
        .map(|chunk| {
            let mut repr = <G1Affine as GroupEncoding>::Repr::default();
            repr.as_mut().copy_from_slice(chunk);
            Option::from(G1Affine::from_bytes(&repr)).ok_or_else(invalid)
        })
        .collect::<Result<_, _>>()?;
    // halo2curves' `Fq2::from_bytes` unwraps its halves (a coordinate ≥ q panics), and so does
    // everything built on it: check both halves are canonical first (the top two bits of the
    // last byte are flags, as `from_bytes` reads them).
    let g2_point = |chunk: &[u8]| {
        let mut x = [0u8; 64];
        x.copy_from_slice(chunk);
        x[63] &= 0b0011_1111;
        let canonical = |half: &[u8]| half.try_into().ok().is_some_and(|b: [u8; 32]| bool::from(Fq::from_bytes(&b).is_some()));
        if !(canonical(&x[..32]) && canonical(&x[32..])) {
            return Err(invalid());
        }
        let mut repr = <G2Affine as GroupEncoding>::Repr::default();
        repr.as_mut().copy_from_slice(chunk);
        Option::from(G2Affine::from_bytes(&repr)).ok_or_else(invalid)
    };
    let rest = &bytes[4 + 2 * n * 32..];
    let (g2, s_g2) = (g2_point(&rest[..64])?, g2_point(&rest[64..128])?);
    let (g, g_lagrange) = (g1[..n].to_vec(), g1[n..].to_vec());
    // `from_parts` is a method; any instance will do as the receiver.
    let shell = ParamsKZG::<Bn256>::setup(1, ChaCha20Rng::from_seed([0; 32]));
    Ok(shell.from_parts(k, g, Some(g_lagrange), g2, s_g2))
}

/// The insecure, deterministic development SRS for `k`: the same points as
/// `ParamsKZG::setup(k, ChaCha20Rng::from_seed(DEV_SEED))`, computed faster.
///
/// `setup` multiplies the generator by each `s^i` and each Lagrange value `L_i(s)` with a
/// general scalar multiplication and inverts one field element per Lagrange point. Both sets
/// are multiples of one fixed point, so here every point is a sum of 32 entries of a table of
/// `b·2^(8j)·G` (one mixed addition per scalar byte) and the `s - ω^i` are inverted as one
/// batch. At k = 20 on 2 cores: 21 s, against 243 s for `setup` (see the README).
pub fn dev_srs(k: u32) -> ParamsKZG<Bn256> {
    let s = Fr::random(ChaCha20Rng::from_seed(DEV_SEED));
    srs_for_secret(k, s)
}

/// The SRS of secret `s` at `k` (the development SRS's construction; `s` must not be an
/// `n`-th root of unity, which a random `s` is not except with negligible probability).
fn srs_for_secret(k: u32, s: Fr) -> ParamsKZG<Bn256> {
    use halo2_proofs::halo2curves::ff::{BatchInvert as _, PrimeField as _};
    use rayon::prelude::*;
    let n = 1usize << k;
    let table = FixedBase::new(G1Affine::generator());

    // g_i = s^i·G; chunks start from their own power so they run in parallel.
    let chunk = n.div_ceil(rayon::current_num_threads().max(1) * 4).max(1);
    let mut powers = vec![Fr::ONE; n];
    powers.par_chunks_mut(chunk).enumerate().for_each(|(c, out)| {
        let mut p = s.pow_vartime([(c * chunk) as u64]);
        for v in out {
            *v = p;
            p *= s;
        }
    });
    let g = table.mul_all(&powers);

    // L_i(s) = (s^n - 1)/n · ω^i / (s - ω^i), ω the n-th root of unity halo2's domain uses.
    let mut omega = Fr::ROOT_OF_UNITY;
    for _ in k..Fr::S {
        omega = omega.square();
    }
    let mut omegas = powers; // reused buffer
    omegas.par_chunks_mut(chunk).enumerate().for_each(|(c, out)| {
        let mut p = omega.pow_vartime([(c * chunk) as u64]);
        for v in out {
            *v = p;
            p *= omega;
        }
    });
    let mut denominators: Vec<Fr> = omegas.par_iter().map(|w| s - w).collect();
    denominators.par_chunks_mut(chunk).for_each(|c| {
        c.iter_mut().batch_invert();
    });
    let n_inv = Fr::from(n as u64).invert().unwrap_or(Fr::ZERO);
    let multiplier = (s.pow_vartime([n as u64]) - Fr::ONE) * n_inv;
    let lagrange: Vec<Fr> = omegas.par_iter().zip(&denominators).map(|(w, d)| multiplier * w * d).collect();
    let g_lagrange = table.mul_all(&lagrange);

    let g2 = G2Affine::generator();
    let s_g2 = (g2 * s).to_affine();
    // `from_parts` is a method; any instance will do as the receiver.
    let shell = ParamsKZG::<Bn256>::setup(1, ChaCha20Rng::from_seed([0; 32]));
    shell.from_parts(k, g, Some(g_lagrange), g2, s_g2)
}

/// Multiples of one point by scalars: a table of `b·2^(8j)·P` for every byte `b` and byte
/// position `j`, so a product is 32 mixed additions.
struct FixedBase {
    table: Vec<G1Affine>,
}

impl FixedBase {
    fn new(point: G1Affine) -> Self {
        use halo2_proofs::halo2curves::bn256::G1;
        let mut projective = Vec::with_capacity(32 * 256);
        let mut base = G1::from(point);
        for _ in 0..32 {
            let mut acc = G1::identity();
            for _ in 0..256 {
                projective.push(acc);
                acc += base;
            }
            base = acc;
        }
        let mut table = vec![G1Affine::identity(); projective.len()];
        G1::batch_normalize(&projective, &mut table);
        FixedBase { table }
    }

    fn mul_all(&self, scalars: &[Fr]) -> Vec<G1Affine> {
        use halo2_proofs::halo2curves::bn256::G1;
        use halo2_proofs::halo2curves::ff::PrimeField as _;
        use rayon::prelude::*;
        let projective: Vec<G1> = scalars
            .par_iter()
            .map(|x| {
                let repr = x.to_repr();
                let mut acc = G1::identity();
                for (j, &b) in repr.as_ref().iter().enumerate() {
                    if b != 0 {
                        acc += self.table[j * 256 + usize::from(b)];
                    }
                }
                acc
            })
            .collect();
        let mut affine = vec![G1Affine::identity(); projective.len()];
        affine.par_chunks_mut(4096).zip(projective.par_chunks(4096)).for_each(|(out, p)| G1::batch_normalize(p, out));
        affine
    }
}

/// Verification's part of an SRS: `k`, the first G1 point, `g2` and `[s]g2` — all a SHPLONK
/// verifier, the EVM verifier's generator and [`fingerprint`] read. No `2^k` points.
pub fn verifier_params(k: u32, g0: G1Affine, g2: G2Affine, s_g2: G2Affine) -> ParamsKZG<Bn256> {
    let shell = ParamsKZG::<Bn256>::setup(1, ChaCha20Rng::from_seed([0; 32]));
    shell.from_parts(k, vec![g0], Some(Vec::new()), g2, s_g2)
}

/// Verification's part of the development SRS at `k` (see [`verifier_params`]).
pub fn dev_verifier_params(k: u32) -> ParamsKZG<Bn256> {
    verifier_params(k, G1Affine::generator(), G2Affine::generator(), dev_s_g2())
}

/// Verification's part of a params file for a circuit of size `k` (see [`verifier_params`]):
/// reads the header, the first point of each half and the two G2 points, whatever the file's
/// size — a k = 20 file is 128 MB, of which verification needs 300 bytes.
pub fn read_verifier<R: std::io::Read + std::io::Seek>(mut file: R, k: u32) -> Result<ParamsKZG<Bn256>, SrsError> {
    use std::io::SeekFrom;
    let io = SrsError::Points;
    let len = usize::try_from(file.seek(SeekFrom::End(0)).map_err(io)?).unwrap_or(usize::MAX);
    let mut header = [0u8; 4];
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    file.read_exact(&mut header).map_err(|_| SrsError::TooShort { len })?;
    let file_k = u32::from_le_bytes(header);
    if file_k > MAX_K {
        return Err(SrsError::KTooLarge { k: file_k });
    }
    let (compressed, raw) = sizes(file_k);
    let point = match len {
        l if l == compressed => 32,
        l if l == raw => 64,
        len => return Err(SrsError::Size { len, k: file_k, compressed, raw }),
    };
    if file_k < k {
        return Err(SrsError::TooSmall { have: file_k, need: k });
    }
    // The same format at k = 0: the first point of each half, then both G2 points.
    let n = 1u64 << file_k;
    let mut small = 0u32.to_le_bytes().to_vec();
    for (offset, size) in [(4, point), (4 + n * point as u64, point), (4 + 2 * n * point as u64, 4 * point)] {
        let mut buf = vec![0u8; size];
        file.seek(SeekFrom::Start(offset)).map_err(io)?;
        file.read_exact(&mut buf).map_err(io)?;
        small.extend(buf);
    }
    let params = read(&small, 0)?;
    Ok(verifier_params(k, params.get_g()[0], params.g2(), params.s_g2()))
}

/// `[s]G2` of the development SRS. `setup` draws its secret `s` first from the seeded stream,
/// so it is the same for every `k`: one point tells a development SRS (and a verifier built on
/// one, which embeds it) from a real one, whatever its size.
pub fn dev_s_g2() -> G2Affine {
    let s = Fr::random(ChaCha20Rng::from_seed(DEV_SEED));
    (G2Affine::generator() * s).to_affine()
}

/// True when `params` is (a downsized copy of) the development SRS: anyone can forge proofs.
pub fn is_dev(params: &ParamsKZG<Bn256>) -> bool {
    params.s_g2() == dev_s_g2()
}

/// A fingerprint of the SRS: SHA-256 over `k`, the first G1 point, `g2` and `s·g2`.
pub fn fingerprint(params: &ParamsKZG<Bn256>) -> [u8; 32] {
    let mut bytes = params.k().to_le_bytes().to_vec();
    // Only the points named above: serializing the whole SRS would cost 2^k points per call.
    let _ = params.get_g()[0].write(&mut bytes, SerdeFormat::RawBytes);
    let _ = params.g2().write(&mut bytes, SerdeFormat::RawBytes);
    let _ = params.s_g2().write(&mut bytes, SerdeFormat::RawBytes);
    Sha256::digest(bytes).into()
}
