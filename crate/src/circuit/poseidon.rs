//! Poseidon over BN254 (x^5, width 3, rate 2, 8 full and 57 partial rounds, the constants of
//! `poseidon-primitives`' Grain generator with the first secure MDS), as a constant-length
//! sponge: the capacity starts at `L·2^64`, the message is zero-padded to a multiple of 2,
//! the digest is the first state word. [`hash`] is the native side; [`PoseidonConfig`] the
//! chip. Both follow `poseidon_primitives::poseidon::primitives::Hash<_, _, ConstantLength<L>, 3, 2>`.
//!
//! ```text
//! | x_0 x_1 x_2 (advice) | a_0 a_1 a_2 (advice) | c_0 c_1 c_2 (fixed) | f_3    f_4   (fixed) | selector |
//! |  state (or –)        |  m_0  m_1            |  –    –   cap/0     | keep   take  |  q_absorb | state' = keep·state + (m_0, take·m_1, c_2)
//! |  state               |  (x_i + c_i)^2       |  round constants    | full         |  q_round  | state' = M·sbox(state + c)
//! ```
//!
//! One round gate serves full and partial rounds: the fixed flag `full` (1 in the first and
//! last 4 rounds) switches the S-box of words 1 and 2 between `(x + c)^5` and the identity.
//! One absorb gate serves the first chunk (`keep = 0`, `c_2 = L·2^64`: the initial state), the
//! following chunks (`keep = 1`) and a last chunk of one word (`take = 0`). Flags and constants
//! live in the dot group's weight columns, idle on these rows, so the hash adds two selectors
//! and no column: every column (and every gate polynomial) costs the on-chain verifier bytes.
//!
//! The S-box `(x + c)^5` is split as `sq = (x + c)^2`, `sq^2·(x + c)`, keeping the round gate
//! at degree 5 with its selector and the flag.
//!
//! Soundness: each row's successor state is a fixed polynomial function of the row (the
//! squares are pinned by their own constraints, the flags and round constants are fixed), and
//! the message cells are copies, so the final state is exactly the permutation of the absorbed
//! message.

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

/// The native Poseidon permutation (8 full and 57 partial rounds, x⁵, the S-box of a partial
/// round on word 0): what the chip's rounds constrain, and what the published test vectors of
/// `poseidonperm_x5_254_3` pin (see the known-answer test in `tests/poseidon_kat.rs`).
pub fn permute(state: &mut [Fr; 3]) {
    let (rc, mds) = constants();
    for (r, c) in rc.iter().enumerate() {
        round(state, c, &mds, is_full(r));
    }
}

/// Native constant-length Poseidon hash of `message`.
pub fn hash(message: &[Fr]) -> Fr {
    let mut state = [Fr::zero(), Fr::zero(), capacity(message.len())];
    for chunk in message.chunks(2) {
        for (x, m) in state.iter_mut().zip(chunk) {
            *x += m;
        }
        permute(&mut state);
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
    /// `full` on round rows, `keep` on absorb rows.
    flag: Column<Fixed>,
    /// `take` (the second message word) on absorb rows.
    take: Column<Fixed>,
    q_round: Selector,
    q_absorb: Selector,
    rc_values: Vec<[Fr; 3]>,
    mds: Mds,
}

impl PoseidonConfig {
    /// Messages have at least 2 words (the first chunk fills the rate).
    /// `advice` needs 6 columns (state, squares/message), `fixed` 5 (round constants, flags).
    pub fn configure(meta: &mut ConstraintSystem<Fr>, advice: &[Column<Advice>], fixed: &[Column<Fixed>]) -> Self {
        let state = [advice[0], advice[1], advice[2]];
        let aux = [advice[3], advice[4], advice[5]];
        let rc = [fixed[0], fixed[1], fixed[2]];
        let (flag, take) = (fixed[3], fixed[4]);
        let (rc_values, mds) = constants();
        let q_round = meta.selector();
        let q_absorb = meta.selector();
        let c = |v: Fr| Expression::Constant(v);

        meta.create_gate("poseidon round: state' = M·sbox(state + c)", |meta| {
            let q = meta.query_selector(q_round);
            let full = meta.query_fixed(flag, Rotation::cur());
            let x: Vec<Expression<Fr>> = state.iter().map(|&col| meta.query_advice(col, Rotation::cur())).collect();
            let k: Vec<Expression<Fr>> = rc.iter().map(|&col| meta.query_fixed(col, Rotation::cur())).collect();
            let sq: Vec<Expression<Fr>> = aux.iter().map(|&col| meta.query_advice(col, Rotation::cur())).collect();
            let next: Vec<Expression<Fr>> = state.iter().map(|&col| meta.query_advice(col, Rotation::next())).collect();
            let xc: Vec<Expression<Fr>> = (0..3).map(|i| x[i].clone() + k[i].clone()).collect();
            let pow5 = |i: usize| sq[i].clone() * sq[i].clone() * xc[i].clone();
            let sboxed: Vec<Expression<Fr>> = (0..3)
                .map(|i| if i == 0 { pow5(0) } else { xc[i].clone() + full.clone() * (pow5(i) - xc[i].clone()) })
                .collect();
            let mut out = vec![q.clone() * (sq[0].clone() - xc[0].clone() * xc[0].clone())];
            for i in 1..3 {
                out.push(q.clone() * full.clone() * (sq[i].clone() - xc[i].clone() * xc[i].clone()));
            }
            for i in 0..3 {
                let mixed = (0..3).fold(c(Fr::zero()), |s, j| s + c(mds[i][j]) * sboxed[j].clone());
                out.push(q.clone() * (next[i].clone() - mixed));
            }
            out
        });
        meta.create_gate("poseidon absorb: state' = keep·state + (m_0, take·m_1, c_2)", |meta| {
            let q = meta.query_selector(q_absorb);
            let keep = meta.query_fixed(flag, Rotation::cur());
            let take = meta.query_fixed(take, Rotation::cur());
            let init = meta.query_fixed(rc[2], Rotation::cur());
            let x: Vec<Expression<Fr>> = state.iter().map(|&col| meta.query_advice(col, Rotation::cur())).collect();
            let next: Vec<Expression<Fr>> = state.iter().map(|&col| meta.query_advice(col, Rotation::next())).collect();
            let added = [meta.query_advice(aux[0], Rotation::cur()), take * meta.query_advice(aux[1], Rotation::cur()), init];
            (0..3).map(|i| q.clone() * (next[i].clone() - keep.clone() * x[i].clone() - added[i].clone())).collect::<Vec<_>>()
        });
        PoseidonConfig { state, aux, rc, flag, take, q_round, q_absorb, rc_values, mds }
    }

    /// Rows the hash takes.
    pub fn rows(message_len: usize) -> usize {
        message_len.div_ceil(2) * (1 + FULL_ROUNDS + PARTIAL_ROUNDS) + 1
    }

    /// Hashes `message` (copied in) from `row` on; returns the digest cell.
    /// `lie`: a round of the first permutation whose first square is off by one (tests only).
    pub fn assign(&self, region: &mut Region<'_, Fr>, mut row: usize, message: &[Wire], lie: Option<usize>) -> Result<Wire, Error> {
        if message.len() < 2 {
            return Err(Error::Synthesis);
        }
        let message_len = message.len();
        let zero = Value::known(Fr::zero());
        let mut state = [zero, zero, Value::known(capacity(message_len))];
        for (n, chunk) in message.chunks(2).enumerate() {
            self.q_absorb.enable(region, row)?;
            if n == 0 {
                region.assign_fixed(self.rc[2], row, capacity(message_len));
            } else {
                region.assign_fixed(self.flag, row, Fr::one());
                for (col, v) in self.state.iter().zip(&state) {
                    region.assign_advice(*col, row, *v);
                }
            }
            if chunk.len() == 2 {
                region.assign_fixed(self.take, row, Fr::one());
            }
            for (i, m) in chunk.iter().enumerate() {
                let cell = region.assign_advice(self.aux[i], row, m.value);
                region.constrain_equal(cell.cell(), m.cell);
                state[i] = state[i] + m.value;
            }
            row += 1;
            for r in 0..FULL_ROUNDS + PARTIAL_ROUNDS {
                let full = is_full(r);
                self.q_round.enable(region, row)?;
                if full {
                    region.assign_fixed(self.flag, row, Fr::one());
                }
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
