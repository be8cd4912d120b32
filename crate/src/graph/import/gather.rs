//! Indexing: Gather (constant indices, any axis, negative indices), Slice, Split and Expand of a
//! computed tensor. Each is a [`FloatOp::Gather`] (free in the circuit). The index maps here are
//! also what constant folding applies to constants, so both readings agree.
//!
//! An embedding — Gather from a constant table at indices computed at run time (an int64 or
//! int32 graph input of token ids, or a tensor computed from one), any axis, indices of any
//! shape — is one [`FloatOp::Lookup`] per table column (each maps an index to that column's
//! value in its row) and a [`FloatOp::Gather`] that interleaves the columns into ONNX's layout
//! `out[a.., i.., b..] = table[a.., ids[i..], b..]`. In the circuit each column is a lookup
//! table of the index, so the table may have at most 256 rows on the gathered axis (a
//! lookup reads an 8-bit value); larger vocabularies are refused naming the node. Calibration
//! gives the indices scale `2^0` and the range of the rows (see `quantize`). An input of ids is
//! then checked exactly when it is read; ids computed from an input (`ids + offset`) are
//! activations like any other, clamped to the 8-bit range and read at the nearest row.
//!
//! | table `[V, d]`, `n` indices | circuit cost |
//! |---|---|
//! | per column | one table of `V` rows (`2V` with negative indices) |
//! | per index | `d` lookups, one per column; the interleaving is free |
//!
//! Refused: a computed tensor indexed by computed indices (no constant table to look up).

use super::*;

/// An output shape and, for every output value, the flat index of the input value it is.
pub(super) type IndexMap = (Vec<usize>, Vec<usize>);

/// Slice's starts, ends, and optional axes and steps.
pub(super) type SliceArgs = (Vec<i64>, Vec<i64>, Option<Vec<i64>>, Option<Vec<i64>>);

/// The most rows a looked-up table may have on the gathered axis: a circuit table reads an
/// 8-bit index.
pub(super) const MAX_TABLE_ROWS: usize = 256;

/// The number of values of `shape` as an error message when it is above [`MAX_ELEMENTS`].
fn checked(shape: &[usize]) -> Result<usize, String> {
    elements(shape).ok_or_else(|| format!("output shape {shape:?} has more than {MAX_ELEMENTS} values"))
}

/// ONNX Gather: `out[a.., i.., b..] = data[a.., indices[i..], b..]`.
pub(super) fn gather_map(data: &[usize], axis: i64, indices: &Const) -> Result<IndexMap, String> {
    let ax = axis_index(axis, data.len()).ok_or_else(|| format!("axis {axis} is outside rank {}", data.len()))?;
    let d = data[ax];
    let idx: Vec<usize> = indices
        .ints
        .iter()
        .map(|&i| {
            let r = i64::try_from(d).ok()?;
            let j = if i < 0 { i.checked_add(r)? } else { i };
            usize::try_from(j).ok().filter(|&j| j < d)
        })
        .collect::<Option<_>>()
        .ok_or_else(|| format!("an index in {:?} is outside [-{d}, {d})", indices.ints))?;
    let shape: Vec<usize> = data[..ax].iter().chain(&indices.dims).chain(&data[ax + 1..]).copied().collect();
    let q = indices.dims.len();
    let sources = (0..checked(&shape)?)
        .map(|o| {
            let c = unflat(o, &shape);
            let mut src: Vec<usize> = c[..ax].to_vec();
            src.push(idx[flat(&c[ax..ax + q], &indices.dims)]);
            src.extend_from_slice(&c[ax + q..]);
            flat(&src, data)
        })
        .collect();
    Ok((shape, sources))
}

/// Per-axis index lists to an index map: output coordinate `c` reads `picks[a][c[a]]` on axis `a`.
fn product_map(data: &[usize], picks: &[Vec<usize>]) -> Result<IndexMap, String> {
    let shape: Vec<usize> = picks.iter().map(Vec::len).collect();
    let sources = (0..checked(&shape)?)
        .map(|o| {
            let c = unflat(o, &shape);
            let src: Vec<usize> = c.iter().enumerate().map(|(a, &v)| picks[a][v]).collect();
            flat(&src, data)
        })
        .collect();
    Ok((shape, sources))
}

/// ONNX Slice with the given starts, ends, axes and steps (clamped as the operator specifies).
pub(super) fn slice_map(data: &[usize], starts: &[i64], ends: &[i64], axes: Option<&[i64]>, steps: Option<&[i64]>) -> Result<IndexMap, String> {
    let rank = data.len();
    let axes: Vec<usize> = match axes {
        None => (0..starts.len()).collect(),
        Some(a) => a.iter().map(|&a| axis_index(a, rank)).collect::<Option<_>>().ok_or_else(|| format!("axes {a:?} are outside rank {rank}"))?,
    };
    let steps: Vec<i64> = steps.map_or_else(|| vec![1; axes.len()], <[i64]>::to_vec);
    if starts.len() != axes.len() || ends.len() != axes.len() || steps.len() != axes.len() || axes.iter().enumerate().any(|(i, a)| axes[..i].contains(a)) {
        return Err("starts, ends, axes and steps must have one value per distinct axis".into());
    }
    let mut picks: Vec<Vec<usize>> = data.iter().map(|&d| (0..d).collect()).collect();
    for (k, &a) in axes.iter().enumerate() {
        // i128: starts and ends may be i64::MIN or i64::MAX ("to the end").
        let d = data[a] as i128;
        let step = i128::from(steps[k]);
        let norm = |v: i64| if v < 0 { i128::from(v) + d } else { i128::from(v) };
        let (start, end) = match step {
            0 => return Err("a step is 0".into()),
            s if s > 0 => (norm(starts[k]).clamp(0, d), norm(ends[k]).clamp(0, d)),
            _ => (norm(starts[k]).clamp(0, d - 1), norm(ends[k]).clamp(-1, d - 1)),
        };
        let mut p = Vec::new();
        let mut i = start;
        while (step > 0 && i < end) || (step < 0 && i > end) {
            p.push(i as usize);
            i += step;
        }
        picks[a] = p;
    }
    product_map(data, &picks)
}

/// ONNX Split into `parts` pieces along `axis`: explicit sizes, or equal pieces (the last
/// smaller when the size does not divide).
pub(super) fn split_maps(data: &[usize], axis: i64, sizes: Option<&[i64]>, parts: usize) -> Result<Vec<IndexMap>, String> {
    let ax = axis_index(axis, data.len()).ok_or_else(|| format!("axis {axis} is outside rank {}", data.len()))?;
    let d = data[ax];
    let sizes: Vec<usize> = match sizes {
        Some(s) => s.iter().map(|&v| usize::try_from(v).ok()).collect::<Option<_>>().ok_or_else(|| format!("split sizes {s:?} are negative"))?,
        None if parts > 0 => {
            let each = d.div_ceil(parts);
            (0..parts).map(|k| each.min(d.saturating_sub(k * each))).collect()
        }
        None => return Err("has no outputs".into()),
    };
    if sizes.len() != parts || sizes.iter().try_fold(0usize, |n, &s| n.checked_add(s)) != Some(d) {
        return Err(format!("split sizes {sizes:?} do not cut dimension {d} into {parts} pieces"));
    }
    let mut at = 0;
    sizes
        .iter()
        .map(|&n| {
            let mut picks: Vec<Vec<usize>> = data.iter().map(|&d| (0..d).collect()).collect();
            picks[ax] = (at..at + n).collect();
            at += n;
            product_map(data, &picks)
        })
        .collect()
}

/// ONNX Expand: numpy broadcasting of `data` and `target` (either may be the larger).
pub(super) fn expand_map(data: &[usize], target: &[i64]) -> Result<IndexMap, String> {
    let target: Vec<usize> = target.iter().map(|&v| usize::try_from(v).ok()).collect::<Option<_>>().ok_or_else(|| format!("shape {target:?} has a negative dimension"))?;
    let shape = broadcast(data, &target).ok_or_else(|| format!("{data:?} does not broadcast to {target:?}"))?;
    checked(&shape)?;
    let sources = broadcast_sources(data, &shape).into_iter().map(|s| s.map_or(0, |(_, i)| i)).collect();
    Ok((shape, sources))
}

/// ONNX Transpose (`perm` reverses the axes when absent).
pub(super) fn transpose_map(data: &[usize], perm: Option<Vec<i64>>) -> Result<IndexMap, String> {
    let perm: Vec<usize> = perm.map_or_else(|| (0..data.len()).rev().collect(), |p| p.iter().map(|&v| usize::try_from(v).unwrap_or(usize::MAX)).collect());
    if perm.len() != data.len() || (0..data.len()).any(|a| !perm.contains(&a)) {
        return Err("perm is not a permutation of the input axes".into());
    }
    let picks: Vec<Vec<usize>> = perm.iter().map(|&p| (0..data[p]).collect()).collect();
    let shape: Vec<usize> = picks.iter().map(Vec::len).collect();
    let sources = (0..checked(&shape)?)
        .map(|o| {
            let c = unflat(o, &shape);
            let mut src = vec![0; data.len()];
            for (a, &p) in perm.iter().enumerate() {
                src[p] = c[a];
            }
            flat(&src, data)
        })
        .collect();
    Ok((shape, sources))
}

impl Reader {
    /// Slice's starts, ends, axes and steps: inputs from opset 10, attributes before.
    pub(super) fn slice_args(&self, node: &NodeProto) -> Option<SliceArgs> {
        if let (Some(s), Some(e)) = (attr_ints(node, "starts"), attr_ints(node, "ends")) {
            return Some((s, e, attr_ints(node, "axes"), None));
        }
        let given = |i: usize| node.input.get(i).is_some_and(|n| !n.is_empty());
        let arg = |i: usize| if given(i) { self.cst(node, i).map(|c| Some(c.ints.clone())) } else { Some(None) };
        Some((self.cst(node, 1)?.ints.clone(), self.cst(node, 2)?.ints.clone(), arg(3)?, arg(4)?))
    }

    /// The index map of Gather, Slice or Expand on an input of shape `s`.
    pub(super) fn index_map(&self, node: &NodeProto, s: &[usize], err: &dyn Fn(&str) -> ImportError) -> Result<IndexMap, ImportError> {
        match node.op_type.as_str() {
            "Gather" => {
                let indices = self.cst(node, 1).ok_or_else(|| err("the indices are computed at run time and so is the data: only a constant table (an embedding) can be indexed at run time"))?;
                gather_map(s, attr_int(node, "axis", 0), indices)
            }
            "Slice" => {
                let (starts, ends, axes, steps) = self.slice_args(node).ok_or_else(|| err("starts, ends, axes and steps must be constants"))?;
                slice_map(s, &starts, &ends, axes.as_deref(), steps.as_deref())
            }
            "Expand" => expand_map(s, &self.cst(node, 1).ok_or_else(|| err("the target shape must be a constant"))?.ints),
            _ => Err("operator not supported".into()),
        }
        .map_err(|what| err(&what))
    }

    /// Gather, Slice or Expand of a computed tensor: a rewiring; Gather from a constant table at
    /// computed indices: a lookup.
    pub(super) fn gather(&mut self, node: &NodeProto, name: &str, out_name: &str, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
        if let (None, Some(table), Some(ids), "Gather") = (self.var(node, 0), self.cst(node, 0), self.var(node, 1), node.op_type.as_str()) {
            return self.lookup(node, name, out_name, table.clone(), ids, err);
        }
        let x = self.var(node, 0).ok_or_else(|| err("the data input must be a computed tensor"))?;
        let (shape, sources) = self.index_map(node, &self.shape(x), err)?;
        let sources = sources.into_iter().map(|i| Some((0, i))).collect();
        self.push(node, name, FloatOp::Gather { sources }, vec![x], out_name, shape)?;
        Ok(())
    }

    /// Gather from the constant `table` at the computed indices `ids`: one lookup per column
    /// (all values of the table but the gathered axis), then one rewiring into ONNX's layout.
    fn lookup(&mut self, node: &NodeProto, name: &str, out_name: &str, table: Const, ids: usize, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
        let data = &table.dims;
        let axis = attr_int(node, "axis", 0);
        let ax = axis_index(axis, data.len()).ok_or_else(|| err(&format!("axis {axis} is outside the table's rank {}", data.len())))?;
        let rows = data[ax];
        if rows > MAX_TABLE_ROWS {
            return Err(err(&format!(
                "the table has {rows} rows on axis {ax}, indexed at run time: a lookup reads an 8-bit index, so at most {MAX_TABLE_ROWS} rows (feed the embedded vectors instead)"
            )));
        }
        if rows == 0 || table.floats.iter().any(|v| !v.is_finite()) {
            return Err(err("the table is empty or holds a non-finite value"));
        }
        let idx = self.shape(ids);
        let shape: Vec<usize> = data[..ax].iter().chain(&idx).chain(&data[ax + 1..]).copied().collect();
        count(node, name, &shape)?;
        // Column (a, b): the values table[a, ·, b] for a before the axis and b after it.
        let (before, after): (usize, usize) = (data[..ax].iter().product(), data[ax + 1..].iter().product());
        let n: usize = idx.iter().product();
        let mut columns = Vec::with_capacity(before * after);
        for c in 0..before * after {
            let (a, b) = (c / after, c % after);
            let values = (0..rows).map(|r| table.floats[(a * rows + r) * after + b]).collect();
            columns.push(self.push(node, &format!("{name}/column{c}"), FloatOp::Lookup { values }, vec![ids], &format!("{out_name}/column{c}"), idx.clone())?);
        }
        // Output (a, i, b) is value i of column (a, b).
        let sources = (0..before * n * after).map(|o| Some(((o / (n * after)) * after + o % after, o / after % n))).collect();
        self.push(node, name, FloatOp::Gather { sources }, columns, out_name, shape)?;
        Ok(())
    }

    /// Split of a computed tensor: one rewiring per output.
    pub(super) fn split(&mut self, node: &NodeProto, name: &str, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
        let x = self.var(node, 0).ok_or_else(|| err("the input must be a computed tensor"))?;
        let sizes = self.split_sizes(node, err)?;
        let maps = split_maps(&self.shape(x), attr_int(node, "axis", 0), sizes.as_deref(), node.output.len()).map_err(|what| err(&what))?;
        for (k, (shape, sources)) in maps.into_iter().enumerate() {
            let out = &node.output[k];
            if out.is_empty() {
                continue;
            }
            let sources = sources.into_iter().map(|i| Some((0, i))).collect();
            self.push(node, &format!("{name}/{k}"), FloatOp::Gather { sources }, vec![x], out, shape)?;
        }
        Ok(())
    }

    /// Split's sizes: the `split` input (opset 13) or attribute, or none (equal pieces).
    pub(super) fn split_sizes(&self, node: &NodeProto, err: &dyn Fn(&str) -> ImportError) -> Result<Option<Vec<i64>>, ImportError> {
        if let Some(s) = attr_ints(node, "split") {
            return Ok(Some(s));
        }
        match node.input.get(1).filter(|n| !n.is_empty()) {
            None => Ok(None),
            Some(_) => Ok(Some(self.cst(node, 1).ok_or_else(|| err("split sizes must be constants"))?.ints.clone())),
        }
    }
}
