//! Elementwise functions by lookup: `y' = T_tag(x')` for the ≤ 256 stored values of the input.
//!
//! ```text
//! | x_0 (advice) | x_1 (advice) | w_0 (fixed) | q_table |      table: | tag | x'  | y'        |
//! |  x' (copy)   |  y'          |  tag        |    1    |             |  0  | 0   | 0         |
//! |                                                                   |  1  | 0…  | T_1(x')   |
//! ```
//!
//! One lookup `(q·tag, q·x', q·y') ∈ T`; rows without `q_table` look up `(0, 0, 0)`, the
//! table's first row. Soundness: the table is fixed and each tag's rows list every input of
//! that function exactly once, so the only `y'` that matches `(tag, x')` is `T_tag(x')`; `x'`
//! is a copy of the producing cell and `tag` is fixed.

use halo2_proofs::circuit::{Layouter, Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Fixed, Selector, TableColumn};
use halo2_proofs::poly::Rotation;

use super::dot::Wire;

#[derive(Clone, Debug)]
pub struct TableConfig {
    pub q_table: Selector,
    x: Column<Advice>,
    y: Column<Advice>,
    tag: Column<Fixed>,
    t_tag: TableColumn,
    t_x: TableColumn,
    t_y: TableColumn,
}

impl TableConfig {
    pub fn configure(meta: &mut ConstraintSystem<Fr>, x: Column<Advice>, y: Column<Advice>, tag: Column<Fixed>) -> Self {
        let q_table = meta.complex_selector();
        let (t_tag, t_x, t_y) = (meta.lookup_table_column(), meta.lookup_table_column(), meta.lookup_table_column());
        meta.lookup("table: (tag, x', y') ∈ T", |meta| {
            let q = meta.query_selector(q_table);
            vec![
                (q.clone() * meta.query_fixed(tag, Rotation::cur()), t_tag),
                (q.clone() * meta.query_advice(x, Rotation::cur()), t_x),
                (q * meta.query_advice(y, Rotation::cur()), t_y),
            ]
        });
        TableConfig { q_table, x, y, tag, t_tag, t_x, t_y }
    }

    /// Loads the functions: `tables[i]` is the stored output for each stored input, tag `i + 1`.
    pub fn load(&self, layouter: &mut impl Layouter<Fr>, tables: &[Vec<u64>]) -> Result<(), Error> {
        layouter.assign_table(
            || "function tables",
            |mut table| {
                let mut row = 0;
                let mut put = |tag: u64, x: u64, y: u64| -> Result<(), Error> {
                    table.assign_cell(|| "tag", self.t_tag, row, || Value::known(Fr::from(tag)))?;
                    table.assign_cell(|| "x", self.t_x, row, || Value::known(Fr::from(x)))?;
                    table.assign_cell(|| "y", self.t_y, row, || Value::known(Fr::from(y)))?;
                    row += 1;
                    Ok(())
                };
                put(0, 0, 0)?;
                for (i, values) in tables.iter().enumerate() {
                    for (x, &y) in values.iter().enumerate() {
                        put(i as u64 + 1, x as u64, y)?;
                    }
                }
                Ok(())
            },
        )
    }

    /// `y' = T_tag(x')` at `row`; returns the output cell.
    pub fn assign(&self, region: &mut Region<'_, Fr>, row: usize, tag: u64, x: &Wire, y: Value<Fr>) -> Result<Wire, Error> {
        self.q_table.enable(region, row)?;
        region.assign_fixed(self.tag, row, Fr::from(tag));
        let xc = region.assign_advice(self.x, row, x.value);
        region.constrain_equal(xc.cell(), x.cell);
        let yc = region.assign_advice(self.y, row, y);
        Ok(Wire { cell: yc.cell(), value: y })
    }
}
