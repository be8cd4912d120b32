//! Rewiring: Identity, Dropout, Cast (to a float type), Reshape, Flatten, Squeeze, Unsqueeze,
//! Transpose, Concat, Pad, nearest Resize / Upsample. Each becomes a [`FloatOp::Gather`]: its outputs name the values of
//! its inputs (or the value 0 for padding), so in the circuit it costs nothing.

use super::*;

impl Reader {
    /// A rewiring node: which input value each output value is.
    pub(super) fn rewire(&mut self, node: &NodeProto, name: &str, out_name: &str, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
        let op = node.op_type.as_str();
        let x = self.var(node, 0);
        let (name, out_name) = (name.to_string(), out_name.to_string());
        match op {
            "Identity" | "Dropout" | "Cast" | "Reshape" | "Flatten" | "Squeeze" | "Unsqueeze" => {
                let x = x.ok_or_else(|| err("the data input must be a computed tensor"))?;
                if op == "Dropout" && self.cst(node, 2).is_some_and(|t| t.ints.iter().any(|&v| v != 0)) {
                    return Err(err("training mode is not supported"));
                }
                // Graph inputs are float32; a cast to another float type keeps the values.
                if op == "Cast" && !matches!(attr_int(node, "to", 0), 1 | 10 | 11 | 16) {
                    return Err(err("only casts of a computed tensor to a float type are supported"));
                }
                let s = self.shape(x);
                let n: usize = s.iter().product();
                let shape = self.reshaped(node, &s, err)?;
                let sources = (0..n).map(|i| Some((0, i))).collect();
                self.push(node, &name, FloatOp::Gather { sources }, vec![x], &out_name, shape)?;
            }
            "Transpose" => {
                let x = x.ok_or_else(|| err("the input must be a computed tensor"))?;
                let s = self.shape(x);
                let perm: Vec<usize> = attr_ints(node, "perm").map_or_else(|| (0..s.len()).rev().collect(), |p| p.iter().map(|&v| usize::try_from(v).unwrap_or(usize::MAX)).collect());
                // A permutation: every axis exactly once (a repeated axis would change the size).
                if perm.len() != s.len() || (0..s.len()).any(|a| !perm.contains(&a)) {
                    return Err(err("perm is not a permutation of the input axes"));
                }
                let shape: Vec<usize> = perm.iter().map(|&p| s[p]).collect();
                let sources = (0..shape.iter().product())
                    .map(|i| {
                        let c = unflat(i, &shape);
                        let mut src = vec![0; s.len()];
                        for (a, &p) in perm.iter().enumerate() {
                            src[p] = c[a];
                        }
                        Some((0, flat(&src, &s)))
                    })
                    .collect();
                self.push(node, &name, FloatOp::Gather { sources }, vec![x], &out_name, shape)?;
            }
            "Concat" => {
                let ins: Vec<usize> = (0..node.input.len()).map(|i| self.var(node, i).ok_or_else(|| err("constant operands are not supported"))).collect::<Result<_, _>>()?;
                let shapes: Vec<Vec<usize>> = ins.iter().map(|&i| self.shape(i)).collect();
                let first = shapes.first().ok_or_else(|| err("has no inputs"))?;
                let raw_axis = attr_int(node, "axis", 0);
                let axis = axis_index(raw_axis, first.len()).ok_or_else(|| err(&format!("axis {raw_axis} is outside rank {}", first.len())))?;
                if shapes.iter().any(|s| s.len() != first.len() || (0..s.len()).any(|a| a != axis && s[a] != first[a])) {
                    return Err(err("operand shapes differ off the concatenation axis"));
                }
                let mut shape = first.clone();
                shape[axis] = shapes.iter().try_fold(0usize, |n, s| n.checked_add(s[axis])).ok_or_else(|| err("the concatenated size overflows"))?;
                let sources = (0..count(node, &name, &shape)?)
                    .map(|i| {
                        let mut c = unflat(i, &shape);
                        let mut j = 0;
                        while c[axis] >= shapes[j][axis] {
                            c[axis] -= shapes[j][axis];
                            j += 1;
                        }
                        Some((j, flat(&c, &shapes[j])))
                    })
                    .collect();
                self.push(node, &name, FloatOp::Gather { sources }, ins, &out_name, shape)?;
            }
            "Pad" => {
                let x = x.ok_or_else(|| err("the input must be a computed tensor"))?;
                let s = self.shape(x);
                if attr_str(node, "mode", "constant") != "constant" {
                    return Err(err("only mode `constant` is supported"));
                }
                let value = self.cst(node, 2).map_or(attr_float(node, "value", 0.0), |c| c.floats.first().copied().unwrap_or(0.0));
                let pads = attr_ints(node, "pads").or_else(|| self.cst(node, 1).map(|c| c.ints.clone())).ok_or_else(|| err("pads are required"))?;
                let rank = s.len();
                let axes: Vec<usize> = match self.cst(node, 3) {
                    None => (0..rank).collect(),
                    Some(c) => c.ints.iter().map(|&a| axis_index(a, rank)).collect::<Option<_>>().ok_or_else(|| err(&format!("axes {:?} are outside rank {rank}", c.ints)))?,
                };
                if pads.len() != 2 * axes.len() {
                    return Err(err("pads do not match the axes"));
                }
                let mut begin = vec![0i64; rank];
                let mut end = vec![0i64; rank];
                for (k, &a) in axes.iter().enumerate() {
                    begin[a] = pads[k];
                    end[a] = pads[k + axes.len()];
                }
                // Negative pads crop; a result below one value per axis is refused by `count`.
                let padded = |a: usize| i64::try_from(s[a]).ok()?.checked_add(begin[a])?.checked_add(end[a]);
                let shape: Vec<usize> = (0..rank).map(|a| padded(a).map(|v| usize::try_from(v).unwrap_or(0))).collect::<Option<_>>().ok_or_else(|| err(&format!("pads {pads:?} overflow")))?;
                let sources = (0..count(node, &name, &shape)?)
                    .map(|i| {
                        let c = unflat(i, &shape);
                        let src: Option<Vec<usize>> = (0..rank).map(|a| usize::try_from(c[a] as i64 - begin[a]).ok().filter(|&v| v < s[a])).collect();
                        src.map(|src| (0, flat(&src, &s)))
                    })
                    .collect();
                if value == 0.0 {
                    self.push(node, &name, FloatOp::Gather { sources }, vec![x], &out_name, shape)?;
                } else {
                    // Padding holds the real value 0: pad `x - v` with zeros, then add `v` back.
                    let shifted = self.scalar_affine(node, &format!("{name}/shift"), &format!("{out_name}/shift"), x, 1.0, -value)?;
                    let padded = self.push(node, &format!("{name}/pad"), FloatOp::Gather { sources }, vec![shifted], &format!("{out_name}/pad"), shape)?;
                    self.scalar_affine(node, &name, &out_name, padded, 1.0, value)?;
                }
            }
            "Resize" | "Upsample" => {
                let x = x.ok_or_else(|| err("the input must be a computed tensor"))?;
                let s = self.shape(x);
                if attr_str(node, "mode", "nearest") != "nearest" {
                    return Err(err("only mode `nearest` is supported"));
                }
                let (scale, shape) = self.resize_target(node, &s, err)?;
                count(node, &name, &shape)?;
                let (ctm, nearest) = if op == "Upsample" { ("asymmetric".to_string(), "floor".to_string()) } else { (attr_str(node, "coordinate_transformation_mode", "half_pixel"), attr_str(node, "nearest_mode", "round_prefer_floor")) };
                let mut maps: Vec<Vec<usize>> = Vec::new();
                for a in 0..s.len() {
                    let (n_in, n_out, f) = (s[a], shape[a], scale[a]);
                    let mut m = Vec::with_capacity(n_out);
                    for o in 0..n_out {
                        let o = o as f64;
                        let x = source_coordinate(&ctm, o, f, n_in, n_out).ok_or_else(|| err(&format!("coordinate_transformation_mode `{ctm}` is not supported")))?;
                        let i = match nearest.as_str() {
                            "floor" => x.floor(),
                            "ceil" => x.ceil(),
                            "round_prefer_ceil" => (x + 0.5).floor(),
                            "round_prefer_floor" => if x.fract() == 0.5 { x.floor() } else { x.round() },
                            other => return Err(err(&format!("nearest_mode `{other}` is not supported"))),
                        };
                        m.push((i.max(0.0) as usize).min(n_in - 1));
                    }
                    maps.push(m);
                }
                let sources = (0..shape.iter().product())
                    .map(|i| {
                        let c = unflat(i, &shape);
                        let src: Vec<usize> = c.iter().enumerate().map(|(a, &v)| maps[a][v]).collect();
                        Some((0, flat(&src, &s)))
                    })
                    .collect();
                self.push(node, &name, FloatOp::Gather { sources }, vec![x], &out_name, shape)?;
            }
            _ => return Err(err("operator not supported")),
        }
        Ok(())
    }

    /// The output shape of a node that keeps the values and their order (Identity, Reshape,
    /// Flatten, Squeeze, Unsqueeze) for an input of shape `s`; constants and computed tensors
    /// alike.
    pub(super) fn reshaped(&self, node: &NodeProto, s: &[usize], err: &dyn Fn(&str) -> ImportError) -> Result<Vec<usize>, ImportError> {
        let n: usize = s.iter().product();
        let op = node.op_type.as_str();
        Ok(match op {
            "Reshape" => {
                let target = self.cst(node, 1).ok_or_else(|| err("the target shape must be a constant"))?.ints.clone();
                let mut known = 1usize;
                let mut dims: Vec<Option<usize>> = Vec::new();
                for (i, &d) in target.iter().enumerate() {
                    let v = match d {
                        0 => Some(*s.get(i).ok_or_else(|| err("0 in the target shape refers to a missing dimension"))?),
                        -1 => None,
                        d if d > 0 => Some(usize::try_from(d).map_err(|_| err("target dimension too large"))?),
                        _ => return Err(err("negative target dimension")),
                    };
                    // Above `n` the reshape cannot hold: stop before the product overflows.
                    known = known.checked_mul(v.unwrap_or(1)).filter(|&k| k <= n).ok_or_else(|| err(&format!("cannot reshape {s:?} to {target:?}")))?;
                    dims.push(v);
                }
                let shape: Vec<usize> = dims.iter().map(|d| d.unwrap_or(n / known.max(1))).collect();
                if elements(&shape) != Some(n) || dims.iter().filter(|d| d.is_none()).count() > 1 {
                    return Err(err(&format!("cannot reshape {s:?} to {target:?}")));
                }
                shape
            }
            "Flatten" => {
                // Axis `rank` is allowed: everything goes into the first dimension.
                let axis = axis_index(attr_int(node, "axis", 1), s.len() + 1).ok_or_else(|| err(&format!("axis is outside rank {}", s.len())))?;
                let a: usize = s[..axis].iter().product();
                vec![a, n / a.max(1)]
            }
            "Squeeze" | "Unsqueeze" => {
                let axes = attr_ints(node, "axes").or_else(|| self.cst(node, 1).map(|c| c.ints.clone()));
                if op == "Squeeze" {
                    let axes: Vec<usize> = match axes {
                        None => (0..s.len()).filter(|&a| s[a] == 1).collect(),
                        Some(axes) => axes.iter().map(|&a| axis_index(a, s.len()).filter(|&a| s[a] == 1)).collect::<Option<_>>().ok_or_else(|| err(&format!("axes {axes:?} name a dimension of {s:?} that is missing or not 1")))?,
                    };
                    s.iter().enumerate().filter(|(i, _)| !axes.contains(i)).map(|(_, &d)| d).collect()
                } else {
                    let axes = axes.ok_or_else(|| err("axes are required"))?;
                    let rank = s.len() + axes.len();
                    let mut axes: Vec<usize> = axes.iter().map(|&a| axis_index(a, rank)).collect::<Option<_>>().ok_or_else(|| err(&format!("axes {axes:?} are outside the output rank {rank}")))?;
                    axes.sort();
                    let mut out = s.to_vec();
                    for a in axes {
                        out.insert(a.min(out.len()), 1);
                    }
                    out
                }
            }
            _ => s.to_vec(),
        })
    }

    /// Resize/Upsample's per-axis scale and output shape, from constant scales or sizes.
    pub(super) fn resize_target(&self, node: &NodeProto, s: &[usize], err: &dyn Fn(&str) -> ImportError) -> Result<(Vec<f64>, Vec<usize>), ImportError> {
        let op = node.op_type.as_str();
        let (scales, sizes) = if op == "Upsample" {
            (attr(node, "scales").map(|a| a.floats.clone()).or_else(|| self.cst(node, 1).map(|c| c.floats.clone())), None)
        } else {
            (self.cst(node, 2).map(|c| c.floats.clone()).filter(|v| !v.is_empty()), self.cst(node, 3).map(|c| c.ints.clone()).filter(|v| !v.is_empty()))
        };
        // `axes` names the dimensions scales/sizes cover; the others keep their size.
        let rank = s.len();
        let axes: Vec<usize> = match attr_ints(node, "axes") {
            None => (0..rank).collect(),
            Some(a) => a.iter().map(|&x| axis_index(x, rank)).collect::<Option<_>>().ok_or_else(|| err("`axes` names a dimension the input does not have"))?,
        };
        let mut scale = vec![1f64; rank];
        let mut shape = s.to_vec();
        match (scales, sizes) {
            (_, Some(sz)) if sz.len() == axes.len() => {
                let policy = attr_str(node, "keep_aspect_ratio_policy", "stretch");
                let ratios: Vec<f64> = axes.iter().zip(&sz).map(|(&a, &o)| o as f64 / s[a] as f64).collect();
                let common = match policy.as_str() {
                    "stretch" => None,
                    "not_larger" => ratios.iter().copied().reduce(f64::min),
                    "not_smaller" => ratios.iter().copied().reduce(f64::max),
                    other => return Err(err(&format!("keep_aspect_ratio_policy `{other}` is not supported"))),
                };
                for (i, &a) in axes.iter().enumerate() {
                    scale[a] = common.unwrap_or(ratios[i]);
                    shape[a] = match common {
                        None => usize::try_from(sz[i]).map_err(|_| err(&format!("negative size {}", sz[i])))?,
                        Some(r) => (r * s[a] as f64).round() as usize,
                    };
                }
            }
            (Some(sc), None) if sc.len() == axes.len() => {
                for (&a, &f) in axes.iter().zip(&sc) {
                    scale[a] = f64::from(f);
                    shape[a] = (f64::from(f) * s[a] as f64).floor() as usize;
                }
            }
            _ => return Err(err("needs constant scales or sizes, one per resized axis")),
        }
        if shape.contains(&0) {
            return Err(err("resizes a dimension to zero"));
        }
        Ok((scale, shape))
    }
}

/// The input coordinate output coordinate `o` reads along an axis resized by `f` from `n_in`
/// to `n_out` values; None for a mode this importer does not know.
pub(super) fn source_coordinate(mode: &str, o: f64, f: f64, n_in: usize, n_out: usize) -> Option<f64> {
    Some(match mode {
        "asymmetric" => o / f,
        "half_pixel" => (o + 0.5) / f - 0.5,
        // ONNX measures the output length as `f · n_in` unrounded (2.4 for 4 values scaled by 0.6).
        "pytorch_half_pixel" => if f * n_in as f64 > 1.0 { (o + 0.5) / f - 0.5 } else { 0.0 },
        "align_corners" => if f * n_in as f64 > 1.0 { o * (n_in as f64 - 1.0) / (f * n_in as f64 - 1.0) } else { 0.0 },
        "tf_half_pixel_for_nn" => (o + 0.5) / f,
        // half_pixel about the centre when the output size was rounded down from `f · n_in`.
        "half_pixel_symmetric" => {
            let adjustment = n_out as f64 / (f * n_in as f64);
            n_in as f64 / 2.0 * (1.0 - adjustment) + (o + 0.5) / f - 0.5
        }
        _ => return None,
    })
}
