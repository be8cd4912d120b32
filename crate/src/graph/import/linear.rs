//! The linear operators that are not windows: Gemm, MatMul, and the elementwise affine maps
//! (BatchNormalization, Add/Sub/Mul/Div with a constant or a second tensor).
//!
//! A constant operand broadcasts by numpy's rules along any axes, in either operand order
//! (`c - x` too; `x / c` is `x · (1/c)`): a scalar is one affine map, one value per channel
//! (axis 1) a depthwise 1×1 convolution that folds into the convolution before it, anything
//! else (a Linear layer's bias along the last axis of `[batch, seq, features]`) one weight and
//! bias per value. `c / x` is refused (a constant dividend has no calibrated scale to divide);
//! `a / b` of two computed tensors is a division node (its divisor must be positive, see
//! [`quantize`](crate::graph::quantize)); `x ^ 2` is the product `x·x`, `x ^ c` for any other
//! constant `c` a function.
//!
//! MatMul (and Gemm) of two computed tensors (attention's `Q·Kᵀ` and `weights·V`): both operands are
//! rewired (free) to `[batch, M, N, K]` and an inner-product node sums `a·b` over `K`, one
//! requantization per output (see [`circuit::inner`](crate::circuit::inner) for why not a
//! product per term and a sum).

use super::*;

impl Reader {
    pub(super) fn gemm(&mut self, node: &NodeProto, name: &str, out_name: &str, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
        let mut x = node.input.first().and_then(|n| self.names.get(n)).copied().ok_or_else(|| err("A must be a computed tensor"))?;
        let computed_b = self.var(node, 1);
        let b = match computed_b {
            Some(_) => None,
            None => Some(node.input.get(1).and_then(|n| self.constants.get(n)).cloned().ok_or_else(|| err("B must be a computed tensor or a constant"))?),
        };
        let b_dims = computed_b.map_or_else(|| b.as_ref().map(|b| b.dims.clone()).unwrap_or_default(), |y| self.shape(y));
        let mut s = self.shape(x);
        if b_dims.len() != 2 || s.len() != 2 {
            return Err(err("A and B must be 2-D"));
        }
        if attr_int(node, "transA", 0) != 0 {
            let sources = (0..s[0] * s[1]).map(|i| Some((0, (i % s[0]) * s[1] + i / s[0]))).collect();
            s = vec![s[1], s[0]];
            x = self.push(node, &format!("{name}/transA"), FloatOp::Gather { sources }, vec![x], &format!("{out_name}/transA"), s.clone())?;
        }
        let trans_b = attr_int(node, "transB", 0) != 0;
        let (k, n) = if trans_b { (b_dims[1], b_dims[0]) } else { (b_dims[0], b_dims[1]) };
        let m = s[0];
        if s[1] != k {
            return Err(err(&format!("A of shape {s:?} does not meet B of shape {b_dims:?}")));
        }
        count(node, name, &[m, n])?;
        let (alpha, beta) = (attr_float(node, "alpha", 1.0), attr_float(node, "beta", 1.0));
        // beta·C broadcast to [M, N], if there is a C.
        let c = match node.input.get(2).filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => {
                let c = self.constants.get(c).ok_or_else(|| err("C must be a constant"))?;
                if broadcast(&c.dims, &[m, n]).as_deref() != Some(&[m, n][..]) {
                    return Err(err(&format!("C of shape {:?} does not broadcast to [{m}, {n}]", c.dims)));
                }
                Some(broadcast_sources(&c.dims, &[m, n]).iter().map(|src| beta * src.map_or(0.0, |(_, i)| c.floats[i])).collect::<Vec<f32>>())
            }
        };
        if let Some(y) = computed_b {
            // A·B of two computed tensors: MatMul's inner products over K (both operands rewired
            // to [M, N, K]), then alpha and C as one weight and bias per value.
            count(node, name, &[m, n, k])?;
            let (mut left, mut right) = (Vec::with_capacity(m * n * k), Vec::with_capacity(m * n * k));
            for i in 0..m {
                for j in 0..n {
                    for t in 0..k {
                        left.push(Some((0, i * k + t)));
                        right.push(Some((0, if trans_b { j * k + t } else { t * n + j })));
                    }
                }
            }
            let l = self.push(node, &format!("{name}/left"), FloatOp::Gather { sources: left }, vec![x], &format!("{out_name}/left"), vec![m, n, k])?;
            let r = self.push(node, &format!("{name}/right"), FloatOp::Gather { sources: right }, vec![y], &format!("{out_name}/right"), vec![m, n, k])?;
            if alpha == 1.0 && c.is_none() {
                self.push(node, name, FloatOp::Inner { k }, vec![l, r], out_name, vec![m, n])?;
            } else {
                let p = self.push(node, &format!("{name}/product"), FloatOp::Inner { k }, vec![l, r], &format!("{out_name}/product"), vec![m, n])?;
                self.element_affine(node, name, out_name, p, vec![alpha; m * n], c.unwrap_or_else(|| vec![0.0; m * n]))?;
            }
            return Ok(());
        }
        let b = b.ok_or_else(|| err("B must be a computed tensor or a constant"))?;
        let mut weights = vec![0f32; k * n];
        for o in 0..n {
            for i in 0..k {
                weights[o * k + i] = alpha * if trans_b { b.floats[o * k + i] } else { b.floats[i * n + o] };
            }
        }
        // One bias per output unless C varies by row.
        let (bias, row_bias) = match c {
            None => (vec![0.0; n], false),
            Some(full) if (0..m).all(|r| full[r * n..(r + 1) * n] == full[..n]) => (full[..n].to_vec(), false),
            Some(full) => (full, true),
        };
        let geometry = Geometry::Dense { rows: m, inputs: k, outputs: n, row_bias };
        self.push(node, name, FloatOp::Linear { geometry, weights, bias, clamp: None }, vec![x], out_name, vec![m, n])?;
        Ok(())
    }

    /// MatMul, numpy semantics (1-D operands, broadcast batches): a linear node when the right
    /// side is a constant, an inner-product node when both sides are computed.
    pub(super) fn matmul(&mut self, node: &NodeProto, name: &str, out_name: &str, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
        let x = node.input.first().and_then(|n| self.names.get(n)).copied().ok_or_else(|| err("the left operand must be a computed tensor"))?;
        let (y, b) = match self.var(node, 1) {
            Some(y) => (Some(y), None),
            None => (None, Some(node.input.get(1).and_then(|n| self.constants.get(n)).cloned().ok_or_else(|| err("the right operand must be a computed tensor or a constant"))?)),
        };
        let sb = y.map_or_else(|| b.as_ref().map(|b| b.dims.clone()).unwrap_or_default(), |y| self.shape(y));
        let d = MatMulDims::new(&self.shape(x), &sb).map_err(|e| err(&e))?;
        count(node, name, &d.shape)?;
        let (m, k, n) = (d.m, d.k, d.n);
        match (y, b) {
            (Some(y), _) => {
                // Both operands rewired (free) to [batch, M, N, K]; an inner product over K.
                let wide = [d.a_batch.len(), m, n, k];
                count(node, name, &wide)?;
                let (mut left, mut right) = (Vec::new(), Vec::new());
                for (&ba, &bb) in d.a_batch.iter().zip(&d.b_batch) {
                    for i in 0..m {
                        for j in 0..n {
                            for t in 0..k {
                                left.push(Some((0, (ba * m + i) * k + t)));
                                right.push(Some((0, (bb * k + t) * n + j)));
                            }
                        }
                    }
                }
                let l = self.push(node, &format!("{name}/left"), FloatOp::Gather { sources: left }, vec![x], &format!("{out_name}/left"), wide.to_vec())?;
                let r = self.push(node, &format!("{name}/right"), FloatOp::Gather { sources: right }, vec![y], &format!("{out_name}/right"), wide.to_vec())?;
                self.push(node, name, FloatOp::Inner { k }, vec![l, r], out_name, d.shape)?;
            }
            (None, Some(b)) => {
                let geometry = Geometry::MatMul { m, k, n, a_batch: d.a_batch, b_batch: d.b_batch };
                geometry.check().map_err(|e| err(&e))?;
                self.push(node, name, FloatOp::Linear { geometry, weights: b.floats, bias: vec![0.0], clamp: None }, vec![x], out_name, d.shape)?;
            }
            (None, None) => return Err(err("the right operand must be a computed tensor or a constant")),
        }
        Ok(())
    }

    /// `x + mask` for a constant mask of −∞ and finite values (a causal or padding attention
    /// mask): the finite part is added as usual, and the positions the mask hides are recorded
    /// for the Softmax that must read the result (see `normalize`), where they become exact
    /// zeros; −∞ itself has no calibrated scale.
    fn attention_mask(&mut self, node: &NodeProto, name: &str, out_name: &str, x: usize, k: Const, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
        let s = self.shape(x);
        if broadcast(&s, &k.dims).as_deref() != Some(&s[..]) {
            return Err(err(&format!("a −∞ mask of shape {:?} must broadcast to the scores' shape {s:?}", k.dims)));
        }
        let at: Vec<f32> = broadcast_sources(&k.dims, &s).iter().map(|o| k.floats[o.map_or(0, |(_, i)| i)]).collect();
        let hidden: Vec<bool> = at.iter().map(|&v| v == f32::NEG_INFINITY).collect();
        let finite: Vec<f32> = at.iter().map(|&v| if v == f32::NEG_INFINITY { 0.0 } else { v }).collect();
        let masked = if finite.iter().all(|&v| v == 0.0) {
            // A distinct tensor (rewiring is free), so `x` itself stays unmasked for other readers.
            let sources = (0..hidden.len()).map(|i| Some((0, i))).collect();
            self.push(node, name, FloatOp::Gather { sources }, vec![x], out_name, s)?
        } else {
            self.element_affine(node, name, out_name, x, vec![1.0; finite.len()], finite)?
        };
        self.masks.insert(masked, hidden);
        Ok(())
    }

    /// A divisor that calibration can clamp to at least one step: one computed by a sum, product
    /// or function is; anything else (a graph input, a rewiring of one, a max) passes through an
    /// identity sum first (one requantization per divisor value), whose clamp calibration raises.
    fn clampable_divisor(&mut self, node: &NodeProto, name: &str, out_name: &str, b: usize) -> Result<usize, ImportError> {
        let mut t = b;
        while let Some(p) = self.graph.nodes.iter().find(|m| m.output == t && matches!(m.op, FloatOp::Gather { .. }) && m.inputs.len() == 1) {
            t = p.inputs[0];
        }
        let computed = self.graph.nodes.iter().any(|m| m.output == t && matches!(m.op, FloatOp::Linear { .. } | FloatOp::Mul { .. } | FloatOp::Func(_)));
        if computed {
            return Ok(b);
        }
        self.scalar_affine(node, &format!("{name}/divisor"), &format!("{out_name}/divisor"), b, 1.0, 0.0)
    }

    /// `y[n, c, ·] = w[c]·x[n, c, ·] + b[c]` on `[N, C, …]` (a `[N, C]` input has one value
    /// per channel): a depthwise 1×1 convolution.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn channel_affine(&mut self, node: &NodeProto, name: &str, out_name: &str, x: usize, w: Vec<f32>, b: Vec<f32>, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
        let s = self.shape(x);
        if s.len() < 2 {
            return Err(err(&format!("input shape {s:?} has no channel axis")));
        }
        let (batch, c) = (s[0], s[1]);
        let hw: usize = s[2..].iter().product();
        let expand = |v: Vec<f32>| if v.len() == 1 { vec![v[0]; c] } else { v };
        let (w, b) = (expand(w), expand(b));
        if w.len() != c || b.len() != c {
            return Err(err("per-channel parameters do not match the channel count"));
        }
        // Each (sample, channel) plane is its own group; the parameters repeat per sample.
        let groups = batch * c;
        let tile = |v: &[f32]| v.iter().copied().cycle().take(groups).collect::<Vec<f32>>();
        let geometry = Geometry::Conv { input: [groups, hw, 1], output: [groups, hw, 1], kernel: [1, 1], stride: [1, 1], dilation: [1, 1], pad: [0, 0], groups };
        self.push(node, name, FloatOp::Linear { geometry, weights: tile(&w), bias: tile(&b), clamp: None }, vec![x], out_name, s)?;
        Ok(())
    }

    /// `y[i] = w[i]·x[i] + b[i]`, one weight and bias per value: a depthwise 1×1 convolution
    /// with one group per value.
    pub(super) fn element_affine(&mut self, node: &NodeProto, name: &str, out_name: &str, x: usize, w: Vec<f32>, b: Vec<f32>) -> Result<usize, ImportError> {
        let s = self.shape(x);
        let n = w.len();
        let geometry = Geometry::Conv { input: [n, 1, 1], output: [n, 1, 1], kernel: [1, 1], stride: [1, 1], dilation: [1, 1], pad: [0, 0], groups: n };
        self.push(node, name, FloatOp::Linear { geometry, weights: w, bias: b, clamp: None }, vec![x], out_name, s)
    }

    /// `y = w·x + b` elementwise with scalars, on any shape.
    pub(super) fn scalar_affine(&mut self, node: &NodeProto, name: &str, out_name: &str, x: usize, w: f32, b: f32) -> Result<usize, ImportError> {
        let s = self.shape(x);
        let geometry = Geometry::Sum { operands: 1, len: s.iter().product() };
        self.push(node, name, FloatOp::Linear { geometry, weights: vec![w], bias: vec![b], clamp: None }, vec![x], out_name, s)
    }

    pub(super) fn binary(&mut self, node: &NodeProto, name: &str, out_name: &str, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
        let op = node.op_type.as_str();
        let var = |i: usize| node.input.get(i).and_then(|n| self.names.get(n)).copied();
        let cst = |i: usize| node.input.get(i).and_then(|n| self.constants.get(n)).cloned();
        match (var(0), var(1)) {
            (Some(_), Some(_)) if op == "Pow" => return Err(err("a computed exponent is not supported")),
            (Some(a), Some(b)) => {
                let b = if op == "Div" { self.clampable_divisor(node, name, out_name, b)? } else { b };
                let (sa, sb) = (self.shape(a), self.shape(b));
                let shape = broadcast(&sa, &sb).ok_or_else(|| err(&format!("shapes {sa:?} and {sb:?} do not broadcast")))?;
                count(node, name, &shape)?;
                let mut operands = Vec::new();
                for (j, (t, s)) in [(a, sa), (b, sb)].into_iter().enumerate() {
                    if s == shape {
                        operands.push(t);
                    } else {
                        let sources = broadcast_sources(&s, &shape);
                        operands.push(self.push(node, &format!("{name}/broadcast{j}"), FloatOp::Gather { sources }, vec![t], &format!("{out_name}/broadcast{j}"), shape.clone())?);
                    }
                }
                let len = shape.iter().product();
                let fop = match op {
                    "Mul" => FloatOp::Mul { clamp: None },
                    "Div" => FloatOp::Div { clamp: None },
                    _ => FloatOp::Linear { geometry: Geometry::Sum { operands: 2, len }, weights: vec![1.0, if op == "Sub" { -1.0 } else { 1.0 }], bias: vec![0.0], clamp: None },
                };
                self.push(node, name, fop, operands, out_name, shape)?;
            }
            (Some(x), None) if op == "Pow" => {
                // `x²` (LayerNorm's variance) is the product of `x` with itself, exact; any
                // other constant exponent is a function (a table, interpolated at 16 bits).
                let e = cst(1).ok_or_else(|| err("the exponent must be a constant"))?;
                let (&first, s) = (e.floats.first().ok_or_else(|| err("the exponent is empty"))?, self.shape(x));
                if e.floats.iter().any(|&v| v != first) || !first.is_finite() {
                    return Err(err("the exponent must be one finite value for every element (an exponent per element is not supported)"));
                }
                if first == 2.0 {
                    self.push(node, name, FloatOp::Mul { clamp: None }, vec![x, x], out_name, s)?;
                } else {
                    self.push(node, name, FloatOp::Func(Func::Pow(first)), vec![x], out_name, s)?;
                }
            }
            (Some(x), None) | (None, Some(x)) => {
                let constant_first = var(0).is_none();
                let k = cst(usize::from(!constant_first)).ok_or_else(|| err("the other operand is neither computed nor constant"))?;
                let v = k.floats.clone();
                let (w, b): (Vec<f32>, Vec<f32>) = match (op, constant_first) {
                    ("Add", _) => (vec![1.0; v.len()], v.clone()),
                    ("Sub", false) => (vec![1.0; v.len()], v.iter().map(|c| -c).collect()),
                    ("Sub", true) => (vec![-1.0; v.len()], v.clone()),
                    ("Mul", _) => (v.clone(), vec![0.0; v.len()]),
                    // Division by a constant is a product with its reciprocal.
                    ("Div", false) => (v.iter().map(|c| 1.0 / c).collect(), vec![0.0; v.len()]),
                    ("Pow", _) => return Err(err("a constant raised to a computed power is not supported")),
                    _ => return Err(err("dividing a constant by a computed tensor is not supported")),
                };
                if op == "Add" && b.contains(&f32::NEG_INFINITY) && b.iter().all(|p| !p.is_nan() && *p != f32::INFINITY) {
                    return self.attention_mask(node, name, out_name, x, k, err);
                }
                if w.iter().chain(&b).any(|p| !p.is_finite()) {
                    return Err(err("the constant makes a weight or bias infinite (division by zero)"));
                }
                let mut s = self.shape(x);
                let shape = broadcast(&s, &k.dims).ok_or_else(|| err(&format!("shapes {s:?} and {:?} do not broadcast", k.dims)))?;
                count(node, name, &shape)?;
                // The constant may also broadcast the tensor (`x[1, 4] + c[3, 4]`): repeat `x` first.
                let mut x = x;
                if shape != s {
                    let sources = broadcast_sources(&s, &shape);
                    x = self.push(node, &format!("{name}/broadcast"), FloatOp::Gather { sources }, vec![x], &format!("{out_name}/broadcast"), shape.clone())?;
                    s = shape.clone();
                }
                if v.len() == 1 {
                    self.scalar_affine(node, name, out_name, x, w[0], b[0])?;
                    return Ok(());
                }
                // One value per channel (axis 1), broadcast over the rest: a depthwise 1×1
                // convolution, which `simplify` folds into a convolution before it.
                let lead = s.len().saturating_sub(k.dims.len());
                let per_channel = s.len() >= 2 && v.len() == s[1] && k.dims.iter().enumerate().all(|(i, &d)| d == 1 || i + lead == 1);
                if per_channel {
                    self.channel_affine(node, name, out_name, x, w, b, err)?;
                } else {
                    // Any other broadcast: one weight and bias per value.
                    let src = broadcast_sources(&k.dims, &s);
                    let at = |p: &[f32]| src.iter().map(|o| p[o.map_or(0, |(_, i)| i)]).collect::<Vec<f32>>();
                    self.element_affine(node, name, out_name, x, at(&w), at(&b))?;
                }
            }
            (None, None) => return Err(err("constant folding of constant-only nodes is not supported")),
        }
        Ok(())
    }
}

/// The shapes of a MatMul of `sa` by `sb` (numpy semantics): `[…, M, K] · […, K, N]`, a 1-D
/// left operand a row and a 1-D right one a column; per output batch, the batch each operand
/// reads (broadcast axes read index 0).
struct MatMulDims {
    m: usize,
    k: usize,
    n: usize,
    shape: Vec<usize>,
    a_batch: Vec<usize>,
    b_batch: Vec<usize>,
}

impl MatMulDims {
    fn new(sa: &[usize], sb: &[usize]) -> Result<MatMulDims, String> {
        if sa.is_empty() || sb.is_empty() {
            return Err("operands must have rank 1 or more".into());
        }
        let a2 = if sa.len() == 1 { vec![1, sa[0]] } else { sa.to_vec() };
        let b2 = if sb.len() == 1 { vec![sb[0], 1] } else { sb.to_vec() };
        let (m, k) = (a2[a2.len() - 2], a2[a2.len() - 1]);
        let (k2, n) = (b2[b2.len() - 2], b2[b2.len() - 1]);
        if k != k2 {
            return Err(format!("shapes {sa:?} and {sb:?} do not multiply"));
        }
        let (ba, bb) = (&a2[..a2.len() - 2], &b2[..b2.len() - 2]);
        let batch = broadcast(ba, bb).ok_or("batch dimensions do not broadcast")?;
        let mut shape = batch.clone();
        if sa.len() > 1 {
            shape.push(m);
        }
        if sb.len() > 1 {
            shape.push(n);
        }
        elements(&shape).ok_or_else(|| format!("output shape {shape:?} has more than {MAX_ELEMENTS} values"))?;
        let count: usize = batch.iter().product();
        let map = |from: &[usize]| -> Vec<usize> {
            let lead = batch.len() - from.len();
            (0..count)
                .map(|i| {
                    let c = unflat(i, &batch);
                    let src: Vec<usize> = from.iter().enumerate().map(|(a, &d)| if d == 1 { 0 } else { c[a + lead] }).collect();
                    flat(&src, from)
                })
                .collect()
        };
        Ok(MatMulDims { m, k, n, a_batch: map(ba), b_batch: map(bb), shape })
    }
}
