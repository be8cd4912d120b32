//! Windows over `[1, C, H, W]` (or `[1, C, L]`): Conv, ConvTranspose, MaxPool, AveragePool,
//! GlobalAveragePool. Every attribute is checked before it enters an output-size formula, so
//! a hostile file (stride 0, kernel 0, sizes that overflow) gets an error naming the node.

use super::*;

impl Reader {
    /// Conv, ConvTranspose and the pools: a 2-D window over `[1, C, H, W]`, or a 1-D one over
    /// `[1, C, L]` (read as `H = 1`).
    pub(super) fn window(&mut self, node: &NodeProto, name: &str, out_name: &str, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
        let op = node.op_type.as_str();
        let x = node.input.first().and_then(|n| self.names.get(n)).copied().ok_or_else(|| err("the input must be a computed tensor"))?;
        let s = self.shape(x);
        let (c, h, w, one_d) = match s[..] {
            [1, c, h, w] => (c, h, w, false),
            [1, c, l] => (c, 1, l, true),
            _ => return Err(err(&format!("input shape {s:?} is not [1, C, H, W] or [1, C, L] (3-D windows and batches above 1 are not supported)"))),
        };
        // Every size that enters the formulas below is at most MAX_ELEMENTS (2^22): sums and
        // products of two of them cannot overflow a 64-bit usize (the importer is native-only),
        // and anything larger than that could not be proved anyway.
        let size = |v: i64, min: usize| usize::try_from(v).ok().filter(|&v| v >= min && v <= MAX_ELEMENTS);
        // Attributes as two values (H, W); a 1-D window's single value is W, H gets `h_default`.
        let pair = |key: &str, d: usize, h_default: usize, min: usize| -> Result<[usize; 2], ImportError> {
            let bad = || err(&format!("`{key}` needs {} value(s), each in [{min}, {MAX_ELEMENTS}]", if one_d { 1 } else { 2 }));
            match (attr_ints(node, key), one_d) {
                (None, _) => Ok([if one_d { h_default } else { d }, d]),
                (Some(v), true) => match v[..] {
                    [x] => Ok([h_default, size(x, min).ok_or_else(bad)?]),
                    _ => Err(bad()),
                },
                (Some(v), false) => match v[..] {
                    [y, x] => Ok([size(y, min).ok_or_else(bad)?, size(x, min).ok_or_else(bad)?]),
                    _ => Err(bad()),
                },
            }
        };
        let weight = node.input.get(1).and_then(|n| self.constants.get(n)).cloned();
        let kernel = match op {
            "GlobalAveragePool" => [h, w],
            "Conv" | "ConvTranspose" => {
                let wt = weight.as_ref().ok_or_else(|| err("the weight must be a constant"))?;
                match wt.dims[..] {
                    [_, _, kh, kw] if !one_d => [kh, kw],
                    [_, _, kw] if one_d => [1, kw],
                    _ => return Err(err("the weight's rank does not match the input")),
                }
            }
            _ => pair("kernel_shape", 0, 1, 1)?,
        };
        if kernel.contains(&0) {
            return Err(err("kernel_shape is required"));
        }
        // A weight with a zero dimension elsewhere holds no values whatever its kernel says.
        if elements(&kernel).is_none() {
            return Err(err(&format!("kernel {kernel:?} has more than {MAX_ELEMENTS} values")));
        }
        let stride = pair("strides", 1, 1, 1)?;
        let dilation = pair("dilations", 1, 1, 1)?;
        let groups = size(attr_int(node, "group", 1), 1).ok_or_else(|| err(&format!("group must be in [1, {MAX_ELEMENTS}]")))?;
        let bad_pads = || err(&format!("`pads` has the wrong number of values or one outside [0, {MAX_ELEMENTS}]"));
        let pads = match (attr_ints(node, "pads"), one_d) {
            (None, _) => [0; 4],
            (Some(p), false) => match p[..] {
                [a, b, c, d] => [size(a, 0).ok_or_else(bad_pads)?, size(b, 0).ok_or_else(bad_pads)?, size(c, 0).ok_or_else(bad_pads)?, size(d, 0).ok_or_else(bad_pads)?],
                _ => return Err(bad_pads()),
            },
            (Some(p), true) => match p[..] {
                [a, b] => [0, size(a, 0).ok_or_else(bad_pads)?, 0, size(b, 0).ok_or_else(bad_pads)?],
                _ => return Err(bad_pads()),
            },
        };
        let auto_pad = attr_str(node, "auto_pad", "NOTSET");
        let ceil = attr_int(node, "ceil_mode", 0) != 0;
        let shape_of = |c: usize, oh: usize, ow: usize| if one_d { vec![1, c, ow] } else { vec![1, c, oh, ow] };
        if op == "ConvTranspose" {
            let wt = weight.ok_or_else(|| err("the weight must be a constant"))?;
            if wt.dims[0] != c {
                return Err(err("weight channels do not match the input"));
            }
            let cout = wt.dims[1].checked_mul(groups).filter(|&c| c <= MAX_ELEMENTS).ok_or_else(|| err("weight channels × groups overflow"))?;
            let out_pad = pair("output_padding", 0, 0, 0)?;
            let full: Vec<usize> = (0..2).map(|a| ([h, w][a] - 1) * stride[a] + (kernel[a] - 1) * dilation[a] + 1 + out_pad[a]).collect();
            let (out, begin) = if let Some(given) = attr_ints(node, "output_shape") {
                // The spatial sizes are the last one (1-D) or two (2-D) values.
                let spatial = if one_d { 1 } else { 2 };
                let tail = given.len().checked_sub(spatial).map(|from| &given[from..]).ok_or_else(|| err(&format!("output_shape {given:?} needs {spatial} spatial size(s)")))?;
                let tail: Vec<usize> = tail.iter().map(|&v| size(v, 1)).collect::<Option<_>>().ok_or_else(|| err(&format!("output_shape {given:?} has a size outside [1, {MAX_ELEMENTS}]")))?;
                let os: Vec<usize> = if one_d { vec![1, tail[0]] } else { tail };
                let begin: Vec<usize> = (0..2)
                    .map(|a| {
                        let total = full[a].saturating_sub(os[a]);
                        if auto_pad == "SAME_UPPER" { total / 2 } else { total - total / 2 }
                    })
                    .collect();
                ([os[0], os[1]], [begin[0], begin[1]])
            } else if auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER" {
                let os = [h * stride[0], w * stride[1]];
                let total = [full[0].saturating_sub(os[0]), full[1].saturating_sub(os[1])];
                let begin = if auto_pad == "SAME_UPPER" { [total[0] / 2, total[1] / 2] } else { [total[0] - total[0] / 2, total[1] - total[1] / 2] };
                (os, begin)
            } else {
                let out = [full[0].checked_sub(pads[0] + pads[2]), full[1].checked_sub(pads[1] + pads[3])];
                let [Some(oh), Some(ow)] = out else { return Err(err("padding larger than the output")) };
                ([oh, ow], [pads[0], pads[1]])
            };
            let bias = self.bias(node, cout, err)?;
            let geometry = Geometry::ConvTranspose { input: [c, h, w], output: [cout, out[0], out[1]], kernel, stride, pad: begin, dilation, groups };
            geometry.check().map_err(|e| err(&e))?;
            self.push(node, name, FloatOp::Linear { geometry, weights: wt.floats, bias, clamp: None }, vec![x], out_name, shape_of(cout, out[0], out[1]))?;
            return Ok(());
        }
        // Output size and padding of a forward window.
        let mut out = [0usize; 2];
        let mut pad = pads;
        for a in 0..2 {
            let n = [h, w][a];
            let reach = (kernel[a] - 1) * dilation[a] + 1;
            match auto_pad.as_str() {
                "SAME_UPPER" | "SAME_LOWER" => {
                    out[a] = n.div_ceil(stride[a]);
                    let total = ((out[a] - 1) * stride[a] + reach).saturating_sub(n);
                    let small = total / 2;
                    (pad[a], pad[a + 2]) = if auto_pad == "SAME_UPPER" { (small, total - small) } else { (total - small, small) };
                }
                "VALID" | "NOTSET" => {
                    if auto_pad == "VALID" {
                        (pad[a], pad[a + 2]) = (0, 0);
                    }
                    let span = (n + pad[a] + pad[a + 2]).checked_sub(reach).ok_or_else(|| err("the window is larger than the padded input"))?;
                    out[a] = if ceil { span.div_ceil(stride[a]) + 1 } else { span / stride[a] + 1 };
                    // With ceil_mode the last window must still start inside the input or the
                    // leading padding.
                    if ceil && (out[a] - 1) * stride[a] >= n + pad[a] {
                        out[a] -= 1;
                    }
                }
                other => return Err(err(&format!("auto_pad `{other}` is not supported"))),
            }
        }
        let shape;
        let op = match op {
            "Conv" => {
                let wt = weight.ok_or_else(|| err("the weight must be a constant"))?;
                let cout = wt.dims[0];
                if wt.dims[1].checked_mul(groups) != Some(c) {
                    return Err(err("weight channels × groups do not match the input channels"));
                }
                let geometry = Geometry::Conv { input: [c, h, w], output: [cout, out[0], out[1]], kernel, stride, dilation, pad: [pad[0], pad[1]], groups };
                geometry.check().map_err(|e| err(&e))?;
                shape = shape_of(cout, out[0], out[1]);
                FloatOp::Linear { geometry, weights: wt.floats, bias: self.bias(node, cout, err)?, clamp: None }
            }
            "MaxPool" => {
                if node.output.len() > 1 && !node.output[1].is_empty() {
                    return Err(err("the Indices output is not supported"));
                }
                let geometry = Geometry::Conv { input: [c, h, w], output: [c, out[0], out[1]], kernel, stride, dilation, pad: [pad[0], pad[1]], groups: c };
                geometry.check().map_err(|e| err(&e))?;
                shape = shape_of(c, out[0], out[1]);
                FloatOp::Max { geometry }
            }
            _ => {
                let count_include_pad = attr_int(node, "count_include_pad", 0) != 0;
                let geometry = Geometry::Pool { input: [c, h, w], output: [c, out[0], out[1]], kernel, stride, dilation, pad, count_include_pad };
                geometry.check().map_err(|e| err(&e))?;
                shape = shape_of(c, out[0], out[1]);
                let weights = (1..=kernel[0] * kernel[1]).map(|n| 1.0 / n as f32).collect();
                FloatOp::Linear { geometry, weights, bias: vec![0.0], clamp: None }
            }
        };
        self.push(node, name, op, vec![x], out_name, shape)?;
        Ok(())
    }

    pub(super) fn bias(&self, node: &NodeProto, n: usize, err: &dyn Fn(&str) -> ImportError) -> Result<Vec<f32>, ImportError> {
        match node.input.get(2).filter(|s| !s.is_empty()) {
            None => Ok(vec![0.0; n]),
            Some(b) => {
                let b = self.constants.get(b).ok_or_else(|| err("the bias must be a constant"))?;
                if b.floats.len() != n {
                    return Err(err("the bias must have one value per output channel"));
                }
                Ok(b.floats.clone())
            }
        }
    }

}
