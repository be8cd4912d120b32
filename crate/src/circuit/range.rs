//! The range column: every cell of it is an unsigned value of at most 8 bits, and the fixed
//! `bits` column says how many bits each row may use.
//!
//! ```text
//! | range (advice) | bits (fixed) |        table: | value | bits |
//! |  v             |  b           |  (v, b) ∈ T   |  0    |  0   |
//! |                |              |               |  0, 1 |  1   |
//! |                |              |               |  …    |  …   |
//! |                |              |               | 0…255 |  8   |
//! ```
//!
//! One lookup argument, no selector: `(range, bits) ∈ {(v, b) : 0 ≤ b ≤ 8, 0 ≤ v < 2^b}`
//! (511 rows). Unused rows hold `(0, 0)`, which is in the table. Exact bit widths let a limb
//! hold fewer than 8 bits (the top limb of a remainder `< 2^s`) without a second lookup.
//!
//! Soundness: the table is fixed, so a value outside `[0, 2^bits)` has no matching row and the
//! lookup argument fails; the prover cannot move a value out of the column since all
//! consumers copy from it or read it by rotation.

use halo2_proofs::circuit::{Layouter, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, TableColumn, VirtualCells};
use halo2_proofs::poly::Rotation;

#[derive(Clone, Debug)]
pub struct RangeConfig {
    pub range: Column<Advice>,
    pub bits: Column<Fixed>,
    table_value: TableColumn,
    table_bits: TableColumn,
}

impl RangeConfig {
    pub fn configure(meta: &mut ConstraintSystem<Fr>, range: Column<Advice>, bits: Column<Fixed>) -> Self {
        let table_value = meta.lookup_table_column();
        let table_bits = meta.lookup_table_column();
        meta.lookup("range: (v, bits) ∈ {v < 2^bits}", |meta| {
            vec![
                (meta.query_advice(range, Rotation::cur()), table_value),
                (meta.query_fixed(bits, Rotation::cur()), table_bits),
            ]
        });
        RangeConfig { range, bits, table_value, table_bits }
    }

    /// Another range lane: the columns `range` and `bits` looked up in this lane's table (one
    /// more lookup argument, no more table rows).
    pub fn lane(&self, meta: &mut ConstraintSystem<Fr>, range: Column<Advice>, bits: Column<Fixed>) -> Self {
        let (table_value, table_bits) = (self.table_value, self.table_bits);
        meta.lookup("range (another lane): (v, bits) ∈ {v < 2^bits}", |meta| {
            vec![(meta.query_advice(range, Rotation::cur()), table_value), (meta.query_fixed(bits, Rotation::cur()), table_bits)]
        });
        RangeConfig { range, bits, table_value, table_bits }
    }

    /// Adds a lookup that an expression is a byte wherever `q` is set: `(q·v, q·8) ∈ T`
    /// (rows where `q = 0` look up `(0, 0)`, which is in the table).
    pub fn lookup_byte(
        &self,
        meta: &mut ConstraintSystem<Fr>,
        name: &'static str,
        expr: impl FnOnce(&mut VirtualCells<'_, Fr>) -> (Expression<Fr>, Expression<Fr>),
    ) {
        let (value, bits) = (self.table_value, self.table_bits);
        meta.lookup(name, |meta| {
            let (q, v) = expr(meta);
            vec![(q.clone() * v, value), (q * Expression::Constant(Fr::from(8)), bits)]
        });
    }

    pub fn load_table(&self, layouter: &mut impl Layouter<Fr>) -> Result<(), Error> {
        layouter.assign_table(
            || "range table",
            |mut table| {
                let mut row = 0;
                for bits in 0..=8u64 {
                    for v in 0..(1u64 << bits) {
                        table.assign_cell(|| "value", self.table_value, row, || Value::known(Fr::from(v)))?;
                        table.assign_cell(|| "bits", self.table_bits, row, || Value::known(Fr::from(bits)))?;
                        row += 1;
                    }
                }
                Ok(())
            },
        )
    }
}

/// `Σ 256^i·limb_i` over `limbs` consecutive range cells from rotation `first`: how a chip
/// composes a value it range-checked in the range column.
pub fn compose_limbs(meta: &mut VirtualCells<'_, Fr>, range: Column<Advice>, first: u32, limbs: u32) -> Expression<Fr> {
    (0..limbs).fold(Expression::Constant(Fr::zero()), |s, i| {
        s + meta.query_advice(range, Rotation((first + i) as i32)) * Expression::Constant(super::pow2(8 * i))
    })
}

impl RangeConfig {
    /// Writes `v` as `bits.div_ceil(8)` limbs of the range column from `row`, each with its exact
    /// width in `bits` (the top one takes the rest); returns the rows used. The top limb keeps
    /// everything above, so a value too large (or negative) fails the lookup instead of being
    /// silently truncated.
    pub fn assign_limbs(&self, region: &mut halo2_proofs::circuit::Region<'_, Fr>, row: usize, bits: u32, v: Option<i64>) -> usize {
        let limbs = bits.div_ceil(8);
        for i in 0..limbs {
            region.assign_fixed(self.bits, row + i as usize, Fr::from(u64::from((bits - 8 * i).min(8))));
            let limb = v.map(|v| if i + 1 == limbs { v >> (8 * i) } else { (v >> (8 * i)) & 0xff });
            region.assign_advice(self.range, row + i as usize, limb.map_or(Value::unknown(), |l| Value::known(super::fr_from_i64(l))));
        }
        limbs as usize
    }
}

/// A 16-bit value held as two byte limbs of the range column and their composition in `aux`:
///
/// ```text
/// | range (lookup) | bits | aux | q_wide |
/// |  l_0           |  8   |  v  |   1    |
/// |  l_1           |  8   |     |        |
/// ```
///
/// `v = l_0 + 256·l_1`. Soundness: both limbs are range-checked bytes, so `v ∈ [0, 2^16)`.
#[derive(Clone, Debug)]
pub struct WideConfig {
    pub q_wide: halo2_proofs::plonk::Selector,
    range: RangeConfig,
    aux: Column<Advice>,
}

impl WideConfig {
    pub fn configure(meta: &mut ConstraintSystem<Fr>, range: &RangeConfig, aux: Column<Advice>) -> Self {
        let q_wide = meta.selector();
        let col = range.range;
        meta.create_gate("wide value: v = l_0 + 256·l_1", |meta| {
            let q = meta.query_selector(q_wide);
            let (l0, l1) = (meta.query_advice(col, Rotation::cur()), meta.query_advice(col, Rotation::next()));
            let v = meta.query_advice(aux, Rotation::cur());
            vec![q * (v - l0 - l1 * Expression::Constant(Fr::from(256)))]
        });
        WideConfig { q_wide, range: range.clone(), aux }
    }

    /// Lays out `v` (stored value, < 2^16) at `row` and `row + 1`; returns the `aux` cell.
    pub fn assign(&self, region: &mut halo2_proofs::circuit::Region<'_, Fr>, row: usize, v: Option<i64>) -> Result<super::dot::Wire, Error> {
        self.q_wide.enable(region, row)?;
        let known = |x: i64| Value::known(super::fr_from_i64(x));
        for (i, limb) in [v.map(|v| v & 0xff), v.map(|v| v >> 8)].into_iter().enumerate() {
            region.assign_fixed(self.range.bits, row + i, Fr::from(8));
            region.assign_advice(self.range.range, row + i, limb.map_or(Value::unknown(), known));
        }
        let value = v.map_or(Value::unknown(), known);
        let cell = region.assign_advice(self.aux, row, value);
        Ok(super::dot::Wire { cell: cell.cell(), value })
    }
}
