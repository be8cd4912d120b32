//! Linear Resize (`mode = "linear"`: bilinear on images, n-linear in general) with the
//! coordinate modes half_pixel, half_pixel_symmetric, pytorch_half_pixel, align_corners and
//! asymmetric. Interpolation is separable: each resized axis is one dense layer whose constant
//! weights `[n_out, n_in]` hold the two interpolation weights of every output (the axis is
//! rewired to the end and back around it, free). Refused: antialiasing, tf_crop_and_resize
//! (a region of interest and an extrapolation value), cubic.

use super::rewire::source_coordinate;
use super::*;

/// The interpolation weights `[n_out, n_in]` along one axis.
fn interpolation(mode: &str, f: f64, n_in: usize, n_out: usize) -> Option<Vec<f32>> {
    let mut w = vec![0f32; n_out * n_in];
    for o in 0..n_out {
        // Clamping to the edge is ONNX's edge padding of the neighbours.
        let x = source_coordinate(mode, o as f64, f, n_in, n_out)?.clamp(0.0, (n_in - 1) as f64);
        let i0 = x.floor() as usize;
        let i1 = (i0 + 1).min(n_in - 1);
        let r = (x - i0 as f64) as f32;
        w[o * n_in + i0] += 1.0 - r;
        w[o * n_in + i1] += r;
    }
    Some(w)
}

impl Reader {
    pub(super) fn resize_linear(&mut self, node: &NodeProto, name: &str, out_name: &str, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
        let x = self.var(node, 0).ok_or_else(|| err("the input must be a computed tensor"))?;
        let s = self.shape(x);
        if attr_int(node, "antialias", 0) != 0 {
            return Err(err("antialiasing is not supported"));
        }
        let mode = attr_str(node, "coordinate_transformation_mode", "half_pixel");
        if !matches!(mode.as_str(), "half_pixel" | "half_pixel_symmetric" | "pytorch_half_pixel" | "align_corners" | "asymmetric") {
            return Err(err(&format!("coordinate_transformation_mode `{mode}` is not supported with mode `linear`")));
        }
        let (scale, shape) = self.resize_target(node, &s, err)?;
        count(node, name, &shape)?;
        let (mut t, mut cur) = (x, s.clone());
        let rank = s.len();
        for a in 0..rank {
            let (n_in, n_out) = (s[a], shape[a]);
            let weights = interpolation(&mode, scale[a], n_in, n_out).ok_or_else(|| err("unknown coordinate mode"))?;
            let identity = n_in == n_out && (0..n_out).all(|o| weights[o * n_in + o] == 1.0);
            if identity {
                continue;
            }
            // Axis `a` last, interpolate its rows, put it back.
            let perm: Vec<i64> = (0..rank).filter(|&b| b != a).chain([a]).map(|b| b as i64).collect();
            let moved = a + 1 != rank;
            if moved {
                let (shape_t, src) = super::gather::transpose_map(&cur, Some(perm.clone())).map_err(|w| err(&w))?;
                t = self.push(node, &format!("{name}/axis{a}/in"), FloatOp::Gather { sources: src.into_iter().map(|i| Some((0, i))).collect() }, vec![t], &format!("{out_name}/axis{a}/in"), shape_t)?;
            }
            let rows = cur.iter().product::<usize>() / n_in;
            let geometry = Geometry::Dense { rows, inputs: n_in, outputs: n_out, row_bias: false };
            let mut out_shape: Vec<usize> = perm.iter().map(|&b| cur[b as usize]).collect();
            out_shape[rank - 1] = n_out;
            t = self.push(node, &format!("{name}/axis{a}"), FloatOp::Linear { geometry, weights, bias: vec![0.0; n_out], clamp: None }, vec![t], &format!("{out_name}/axis{a}"), out_shape.clone())?;
            cur[a] = n_out;
            if moved {
                // The inverse permutation: axis `a` back from the end.
                let back: Vec<i64> = (0..rank).map(|b| if b == a { rank - 1 } else if b < a { b } else { b - 1 } as i64).collect();
                let (shape_t, src) = super::gather::transpose_map(&out_shape, Some(back)).map_err(|w| err(&w))?;
                t = self.push(node, &format!("{name}/axis{a}/out"), FloatOp::Gather { sources: src.into_iter().map(|i| Some((0, i))).collect() }, vec![t], &format!("{out_name}/axis{a}/out"), shape_t)?;
            }
        }
        if t == x {
            // Nothing to interpolate: the same values under the output's name.
            let sources = (0..s.iter().product()).map(|i| Some((0, i))).collect();
            self.push(node, name, FloatOp::Gather { sources }, vec![x], out_name, s)?;
        } else {
            // The last step writes the node's output.
            self.graph.tensors[t].name = out_name.to_string();
            self.names.insert(out_name.to_string(), t);
            if let Some(last) = self.graph.nodes.last_mut() {
                last.name = name.to_string();
            }
        }
        Ok(())
    }
}
