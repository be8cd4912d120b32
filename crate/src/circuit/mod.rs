//! The circuit of a compiled [`Graph`](crate::graph::Graph): [`graph::GraphCircuit`]. One
//! circuit for every model: an ML engineer's network proves its outputs with its sides
//! private, public or hashed, and an art generator proves the mint statement ([`statement`]):
//! the public picture is exactly what the model computes from a private latent, the latent is
//! bound by a public Poseidon commitment, and the proof names its minter.
//!
//! Chips: [`dot`] (fixed-weight dot products: every linear node, and the byte packing of public
//! values), [`requant`] (rounding shift + clamp, one gate per kind), [`range`] (the 8-bit lookup
//! every stored value passes through), [`table`], [`max`], [`mul`] (functions, pooling,
//! products), [`inner`] (inner products of two computed vectors: attention's `Q·Kᵀ` and
//! `weights·V`), [`div`] (division by a positive computed tensor: Softmax, LayerNorm), [`sqrt`]
//! (square roots: LayerNorm's standard deviation), [`poseidon`] (hashes and commitments),
//! [`horner`] (the picture's evaluation). [`graph_plan`] turns the graph into wires and steps;
//! [`statement`] computes the mint's public inputs natively. Every chip but `dot`, `requant`
//! and `range` is configured only when the graph uses it, so the mint circuit's keys do not
//! change with chips it does not use (`tests/prover.rs` pins them).
//!
//! Costs per value of the chips the transformer operators added (rows of the dot group, rows
//! of the range group; `R` is the requantization block of the output, 5–7 rows):
//!
//! | chip    | per output                      | range rows                          |
//! |---------|---------------------------------|-------------------------------------|
//! | `inner` | `⌈K / ⌊W/2⌋⌉` dot rows          | `R`                                 |
//! | `div`   | none                            | `max(3, 2·L) + R` (`L` = 1 or 2)    |
//! | `sqrt`  | none                            | `max(2, 2·L) + R` (`L` = 2 or 3)    |
//!
//! # Layout
//!
//! Two column groups fill rows side by side, from row 0:
//!
//! ```text
//! | x_0 … x_{W-1} | acc | w_0 … w_{W-1} | bias |   ‖   | range | bits | aux |
//! | dot products of every node, then      |   ‖   | input bytes (8-bit)        |
//! | the packing of hashed, committed and  |   ‖   | requantization blocks of   |
//! | public-picture values, the Poseidon   |   ‖   | every output of every node |
//! | rounds (x_0…x_4, acc), the Horner     |   ‖   |                            |
//! | evaluation (x_0…x_2)                  |   ‖   |                            |
//! ```
//!
//! A model circuit whose range group is much taller than its dot group (a transformer's
//! divisions, roots and 16-bit requantizations: about four times) splits it into *lanes*:
//! `range | bits | aux` repeated side by side, each output's blocks placed in the lane with the
//! fewest rows so far, each lane with its own lookup into the one range table and the gates of
//! the kinds it holds. [`graph::GraphParams::auto_layout`] adds a lane only when it lowers `k`
//! (measured on PyTorch's transformer encoder: one lane k = 16, 12.5 s; two lanes k = 15, 6.9 s;
//! four lanes with `W = 6`, what the compiler picks, k = 14, 5.2 s; its character LM: one lane
//! k = 17, 25 s; three lanes k = 15, 8.6 s). The mint circuit keeps one unless laid out for the
//! prover (below).
//!
//! For the mint statement `aux` rows 0–2 hold the minter, the salt and the challenge; the
//! instance column holds the four public values of [`statement`]. Selectors are compressed
//! into a few fixed columns at key generation (`keygen_vk_custom(.., true)`), and the
//! constraint system is held at degree 5: the extended domain stays `4·2^k` as at degree 4,
//! while the permutation takes 3 columns per product and more selectors share a column.
//!
//! # Choosing the mint statement's layout (measured on this 2-core machine; `section9 bench
//! --width W --lanes L --accumulators M` for prove time and memory, `bash scripts/contracts.sh
//! gas` for gas)
//!
//! | W  | lanes | M | k  | rows   | advice / fixed cols | prove  | verification gas | verifier (deployed)   |
//! |----|-------|---|----|--------|---------------------|--------|------------------|-----------------------|
//! | 5  | 1     | 1 | 16 | 64,793 | 8 / 13              | 5.95 s | 449,902          | 23,593 B              |
//! | 6  | 1     | 1 | 16 | 54,553 | 9 / 14              | 6.2 s  |                  | 24,711 B in one: over |
//! | 11 | 2     | 1 | 15 | 31,020 | 16 / 21             | 4.64 s | 692,791          | 17,758 + 17,796 B     |
//! | 12 | 2     | 1 | 15 | 29,998 | 17 / 22             | 5.06 s |                  |                       |
//! | 16 | 2     | 1 | 15 | 20,703 | 21 / 26             | 6.48 s |                  |                       |
//! | 5  | 2     | 3 | 15 | 24,152 | 12 / 27             | 0.75×  |                  |                       |
//! | 6  | 3     | 4 | 14 | 15,349 | 16 / 40             | 0.58×  | 892,218          | 14,762 + 14,039 + 16,756 B |
//!
//! (The `W` = 5, 11, 12 and 16 prove times with one accumulator in one sitting, medians of 3;
//! `W` = 6 from an earlier one; the rows with `M` accumulators as a fraction of the default's
//! time in a later, slower sitting: 6.73 s against 8.97 s, and 4.56 and 5.08 s against 7.90 and
//! 8.69 s.) The range group alone needs 39,968 rows, so with one lane every `W` lands on k = 16
//! and wider rows only add columns; a second lane halves it, and from `W` = 11 the dot group fits
//! k = 15 too. With several accumulators ([`dot`]) the outputs that read the same inputs share
//! their rows: the generator's transposed convolutions have 3 to 16 output channels at each
//! position, so 4 accumulators cut the dot group by 4×, and with a third lane the circuit fits
//! k = 14 — what `--optimize prover` picks.
//!
//! Prover work follows cells (columns × 2^k) and verification gas follows columns: the
//! generated verifier multiplies one elliptic-curve point per commitment (≈ 6k gas and ≈ 300
//! bytes each — every advice, fixed and permutation column, lookup and quotient piece), so
//! each layout trades one for the other. EIP-170's 24,576 bytes once decided it (an earlier
//! layout, `W` = 12 with 100 picture chunks as public inputs and uncompressed selectors,
//! compiled to 51.3 KB); since verifiers too large for one contract are split across several
//! (`prover::evm`), the layout is a choice: `W` = 5 with one lane, the default, for the least
//! gas per mint; `collection new --optimize prover` for the smallest `k`
//! ([`graph::GraphParams::auto_layout`]: `W` = 6, three lanes, four accumulators). What brought the single
//! contract under the limit stays: four public inputs (the picture enters through a
//! challenge, see [`statement`]), selector compression, one gate per requantization shape with
//! the clamp flags range-checked in the lookup column, one Poseidon round gate and one absorb
//! gate driven by fixed flags in idle weight columns. Memory stays far inside the browser's
//! 4 GiB.

pub mod div;
pub mod dot;
pub mod graph;
pub mod graph_plan;
pub mod horner;
pub mod inner;
pub mod max;
pub mod mul;
pub mod poseidon;
pub mod range;
pub mod requant;
pub mod sqrt;
pub mod statement;
pub mod table;
pub mod witness;

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Instance};

/// The narrowest dot row: the Poseidon rounds need 6 advice columns (`W` inputs and `acc`)
/// and 3 fixed ones.
pub const MIN_WIDTH: usize = 5;

/// The widest dot row a model circuit may use: the compiler's width search stops here (wider
/// rows stopped lowering `k` on every model measured), and a proof file naming a wider one is
/// refused before any column is allocated.
pub const MAX_WIDTH: usize = 16;

/// The most range lanes a model circuit may use (see [`graph::GraphParams::auto_layout`]; a
/// proof file naming more is refused before any column exists). PyTorch's transformer encoder
/// takes two, its character LM and a LayerNorm over 256 positions three.
pub const MAX_LANES: usize = 4;

/// The most outputs a dot row computes ([`dot`]'s `M`): each one more advice column, `W + 1`
/// more fixed columns.
pub const MAX_ACCUMULATORS: usize = 4;

/// Terms per dot-product row of the mint statement by default (see the table above); model
/// proofs and collections laid out for the prover choose their own
/// ([`graph::GraphParams::auto_layout`]).
pub const DEFAULT_WIDTH: usize = 5;

/// The smallest `k` whose columns fit `rows` rows (never below 4). halo2 keeps the last
/// `blinding_factors() + 1` rows of every column for blinding; how many depends on the
/// constraint system (the most rotations at which any advice column is queried, so a tall
/// requantization block raises it), hence it is read from `cs`, not assumed.
pub(crate) fn k_for_rows(rows: usize, cs: &ConstraintSystem<Fr>) -> u32 {
    let need = rows + cs.blinding_factors() + 1;
    (usize::BITS - (need - 1).leading_zeros()).max(4)
}

pub(crate) fn fr_from_i64(v: i64) -> Fr {
    if v >= 0 {
        Fr::from(v as u64)
    } else {
        -Fr::from(v.unsigned_abs())
    }
}

pub(crate) fn pow2(e: u32) -> Fr {
    Fr::from(2).pow_vartime([u64::from(e)])
}

/// The columns the circuit lays out, created in this order (the order is part of the keys):
/// `W` inputs, `acc`, `range`, `aux` (advice, copy-enabled); `W` weights, `bias`, `bits`
/// (fixed); one copy-enabled instance column; then per extra range lane its `range`, `aux`
/// (advice, copy-enabled) and `bits` (fixed). The constraint system is held at degree 5:
/// that keeps the extended domain at 4·2^k (like degree 4) but lets the permutation argument
/// take 3 columns per product and the selector compression pack tighter.
pub(crate) struct Columns {
    pub inputs: Vec<Column<Advice>>,
    pub acc: Column<Advice>,
    pub range: Column<Advice>,
    pub aux: Column<Advice>,
    pub weights: Vec<Column<halo2_proofs::plonk::Fixed>>,
    pub bias: Column<halo2_proofs::plonk::Fixed>,
    pub bits: Column<halo2_proofs::plonk::Fixed>,
    pub instance: Column<Instance>,
    /// `(range, aux, bits)` of each range lane after the first.
    pub lanes: Vec<(Column<Advice>, Column<Advice>, Column<halo2_proofs::plonk::Fixed>)>,
}

impl Columns {
    pub(crate) fn configure(meta: &mut ConstraintSystem<Fr>, width: usize, lanes: usize) -> Columns {
        meta.set_minimum_degree(5);
        let mut advice = || {
            let c: Column<Advice> = meta.advice_column();
            meta.enable_equality(c);
            c
        };
        let inputs: Vec<Column<Advice>> = (0..width).map(|_| advice()).collect();
        let acc = advice();
        let range = advice();
        let aux = advice();
        let weights = (0..width).map(|_| meta.fixed_column()).collect();
        let bias = meta.fixed_column();
        let bits = meta.fixed_column();
        let instance = meta.instance_column();
        meta.enable_equality(instance);
        let lanes = (1..lanes)
            .map(|_| {
                let (range, aux) = (meta.advice_column(), meta.advice_column());
                meta.enable_equality(range);
                meta.enable_equality(aux);
                (range, aux, meta.fixed_column())
            })
            .collect();
        Columns { inputs, acc, range, aux, weights, bias, bits, instance, lanes }
    }
}
