//! Poseidon over BN254 (x^5, width 3, rate 2, 8 full and 57 partial rounds, the constants of
//! `poseidon-primitives`' Grain generator with the first secure MDS), as a constant-length
//! sponge: the capacity starts at `L·2^64`, the message is zero-padded to a multiple of 2,
//! the digest is the first state word. [`hash`] is the native side; [`PoseidonConfig`] the
//! chip. Both follow `poseidon_primitives::poseidon::primitives::Hash<_, _, ConstantLength<L>, 3, 2>`.
//!
//! ```text
//! | x_0 x_1 x_2 (advice) | sq_0 sq_1 sq_2 (advice) | c_0 c_1 c_2 (fixed) | selector          |
//! |  –                   |  m_0  m_1               |                     | q_init            |  state' = (m_0, m_1, L·2^64)
//! |  state               |  (x_i + c_i)^2          |  round constants    | q_full/q_partial  |  state' = M·sbox(state + c)
//! |  state               |  m_0  m_1               |                     | q_absorb          |  state' = state + (m_0, m_1, 0)
//! ```
//!
//! The S-box `(x + c)^5` is split as `sq = (x + c)^2`, `sq^2·(x + c)` so no gate exceeds degree
//! 4 (the lookup already needs 4, so this costs no extra domain size).
//!
//! Soundness: each row's successor state is a fixed polynomial function of the row (the
//! squares are pinned by their own constraints), round constants are fixed, and the message
//! cells are copies, so the final state is exactly the permutation of the absorbed message.

use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::{Field, PrimeField};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector};
use halo2_proofs::poly::Rotation;
use poseidon_primitives::poseidon::primitives::Spec;

use super::dot::Wire;

const FULL_ROUNDS: usize = 8;
const PARTIAL_ROUNDS: usize = 57;

/// The Poseidon instance (BN254, t = 3, rate 2).
#[derive(Debug)]
pub struct Section9Poseidon;

impl Spec<Fr, 3, 2> for Section9Poseidon {
    fn full_rounds() -> usize {
        FULL_ROUNDS
    }
    fn partial_rounds() -> usize {
        PARTIAL_ROUNDS
    }
    fn sbox(val: Fr) -> Fr {
        val.pow_vartime([5])
    }
    fn secure_mds() -> usize {
        0
    }
}

type Mds = [[Fr; 3]; 3];

fn constants() -> (Vec<[Fr; 3]>, Mds) {
    let (rc, mds, _) = Section9Poseidon::constants();
    (rc, mds)
}

fn round(state: &mut [Fr; 3], rc: &[Fr; 3], mds: &Mds, full: bool) {
    for (i, (x, c)) in state.iter_mut().zip(rc).enumerate() {
        *x += c;
        if full || i == 0 {
            *x = x.pow_vartime([5]);
        }
    }
    *state = [0, 1, 2].map(|i| (0..3).map(|j| mds[i][j] * state[j]).sum());
}

fn is_full(round: usize) -> bool {
    !(FULL_ROUNDS / 2..FULL_ROUNDS / 2 + PARTIAL_ROUNDS).contains(&round)
}

/// Native constant-length Poseidon hash of `message`.
pub fn hash(message: &[Fr]) -> Fr {
    let (rc, mds) = constants();
    let mut state = [Fr::zero(), Fr::zero(), capacity(message.len())];
    for chunk in message.chunks(2) {
        for (x, m) in state.iter_mut().zip(chunk) {
            *x += m;
        }
        for (r, c) in rc.iter().enumerate() {
            round(&mut state, c, &mds, is_full(r));
        }
    }
    state[0]
}

fn capacity(len: usize) -> Fr {
    Fr::from_u128((len as u128) << 64)
}

#[derive(Clone, Debug)]
pub struct PoseidonConfig {
    state: [Column<Advice>; 3],
    aux: [Column<Advice>; 3],
    rc: [Column<Fixed>; 3],
    q_full: Selector,
    q_partial: Selector,
    q_init: Selector,
    q_absorb: Selector,
    q_absorb_one: Selector,
    message_len: usize,
    rc_values: Vec<[Fr; 3]>,
    mds: Mds,
}

impl PoseidonConfig {
    /// Messages have at least 2 words (the first chunk fills the rate).
    /// `advice` needs 6 columns (state, squares/message), `fixed` 3 (round constants).
    pub fn configure(meta: &mut ConstraintSystem<Fr>, advice: &[Column<Advice>], fixed: &[Column<Fixed>], message_len: usize) -> Self {
        let state = [advice[0], advice[1], advice[2]];
        let aux = [advice[3], advice[4], advice[5]];
        let rc = [fixed[0], fixed[1], fixed[2]];
        let (rc_values, mds) = constants();
        let q_full = meta.selector();
        let q_partial = meta.selector();
        let q_init = meta.selector();
        let q_absorb = meta.selector();
        let q_absorb_one = meta.selector();
        let c = |v: Fr| Expression::Constant(v);

        for (name, sel, full) in [("poseidon full round", q_full, true), ("poseidon partial round", q_partial, false)] {
            meta.create_gate(name, |meta| {
                let q = meta.query_selector(sel);
                let x: Vec<Expression<Fr>> = state.iter().map(|&col| meta.query_advice(col, Rotation::cur())).collect();
                let k: Vec<Expression<Fr>> = rc.iter().map(|&col| meta.query_fixed(col, Rotation::cur())).collect();
                let sq: Vec<Expression<Fr>> = aux.iter().map(|&col| meta.query_advice(col, Rotation::cur())).collect();
                let next: Vec<Expression<Fr>> = state.iter().map(|&col| meta.query_advice(col, Rotation::next())).collect();
                let xc: Vec<Expression<Fr>> = (0..3).map(|i| x[i].clone() + k[i].clone()).collect();
                let sboxed: Vec<Expression<Fr>> = (0..3)
                    .map(|i| if full || i == 0 { sq[i].clone() * sq[i].clone() * xc[i].clone() } else { xc[i].clone() })
                    .collect();
                let mut out = Vec::new();
                for i in 0..3 {
                    if full || i == 0 {
                        out.push(q.clone() * (sq[i].clone() - xc[i].clone() * xc[i].clone()));
                    }
                }
                for i in 0..3 {
                    let mixed = (0..3).fold(c(Fr::zero()), |s, j| s + c(mds[i][j]) * sboxed[j].clone());
                    out.push(q.clone() * (next[i].clone() - mixed));
                }
                out
            });
        }
        let cap = capacity(message_len);
        meta.create_gate("poseidon init: state' = (m_0, m_1, L·2^64)", |meta| {
            let q = meta.query_selector(q_init);
            let next: Vec<Expression<Fr>> = state.iter().map(|&col| meta.query_advice(col, Rotation::next())).collect();
            let m0 = meta.query_advice(aux[0], Rotation::cur());
            let m1 = meta.query_advice(aux[1], Rotation::cur());
            vec![q.clone() * (next[0].clone() - m0), q.clone() * (next[1].clone() - m1), q * (next[2].clone() - c(cap))]
        });
        for (name, sel, words) in [
            ("poseidon absorb: state' = state + (m_0, m_1, 0)", q_absorb, 2),
            ("poseidon absorb last: state' = state + (m_0, 0, 0)", q_absorb_one, 1),
        ] {
            meta.create_gate(name, |meta| {
                let q = meta.query_selector(sel);
                let x: Vec<Expression<Fr>> = state.iter().map(|&col| meta.query_advice(col, Rotation::cur())).collect();
                let next: Vec<Expression<Fr>> = state.iter().map(|&col| meta.query_advice(col, Rotation::next())).collect();
                (0..3)
                    .map(|i| {
                        let added = if i < words { meta.query_advice(aux[i], Rotation::cur()) } else { c(Fr::zero()) };
                        q.clone() * (next[i].clone() - x[i].clone() - added)
                    })
                    .collect::<Vec<_>>()
            });
        }
        PoseidonConfig { state, aux, rc, q_full, q_partial, q_init, q_absorb, q_absorb_one, message_len, rc_values, mds }
    }

    /// Rows the hash takes.
    pub fn rows(message_len: usize) -> usize {
        message_len.div_ceil(2) * (1 + FULL_ROUNDS + PARTIAL_ROUNDS) + 1
    }

    /// Hashes `message` (copied in) from `row` on; returns the digest cell.
    /// `lie`: a round of the first permutation whose first square is off by one (tests only).
    pub fn assign(&self, region: &mut Region<'_, Fr>, mut row: usize, message: &[Wire], lie: Option<usize>) -> Result<Wire, Error> {
        if message.len() != self.message_len || message.len() < 2 {
            return Err(Error::Synthesis);
        }
        let zero = Value::known(Fr::zero());
        let mut state = [zero, zero, Value::known(capacity(self.message_len))];
        for (n, chunk) in message.chunks(2).enumerate() {
            if n == 0 {
                self.q_init.enable(region, row)?;
            } else {
                let q = if chunk.len() == 2 { self.q_absorb } else { self.q_absorb_one };
                q.enable(region, row)?;
                for (col, v) in self.state.iter().zip(&state) {
                    region.assign_advice(*col, row, *v);
                }
            }
            for (i, m) in chunk.iter().enumerate() {
                let cell = region.assign_advice(self.aux[i], row, m.value);
                region.constrain_equal(cell.cell(), m.cell);
                state[i] = state[i] + m.value;
            }
            row += 1;
            for r in 0..FULL_ROUNDS + PARTIAL_ROUNDS {
                let full = is_full(r);
                if full { self.q_full.enable(region, row)? } else { self.q_partial.enable(region, row)? };
                let rc = self.rc_values[r];
                for i in 0..3 {
                    region.assign_fixed(self.rc[i], row, rc[i]);
                    region.assign_advice(self.state[i], row, state[i]);
                    if full || i == 0 {
                        let off = if n == 0 && i == 0 && lie == Some(r) { Fr::one() } else { Fr::zero() };
                        region.assign_advice(self.aux[i], row, state[i].map(|x| (x + rc[i]).square() + off));
                    }
                }
                let mds = self.mds;
                state = {
                    let s = state;
                    let joined = s[0].zip(s[1]).zip(s[2]).map(|((a, b), c)| {
                        let mut v = [a, b, c];
                        round(&mut v, &rc, &mds, full);
                        v
                    });
                    [joined.map(|v| v[0]), joined.map(|v| v[1]), joined.map(|v| v[2])]
                };
                row += 1;
            }
        }
        let mut out = None;
        for (i, col) in self.state.iter().enumerate() {
            let cell = region.assign_advice(*col, row, state[i]);
            if i == 0 {
                out = Some(Wire { cell: cell.cell(), value: state[0] });
            }
        }
        out.ok_or(Error::Synthesis)
    }
}
