//! Where every output of a linear operation takes its inputs from.
//!
//! One description serves three readers: the float forward pass (calibration and the check
//! against tract), the integer reference and the circuit plan. Each enumerates the same
//! [`Geometry::taps`], so the three cannot disagree about which input meets which weight.

use serde::{Deserialize, Serialize};

/// The wiring of a linear operation. Weight layouts are those of ONNX, flattened row-major.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Geometry {
    /// `y[r, o] = b[o] + Σ_i w[o, i] · x[r, i]`: weights `[outputs, inputs]`, `rows` independent
    /// rows; with `row_bias` one bias per output value (`b[r, o]`).
    Dense {
        rows: usize,
        inputs: usize,
        outputs: usize,
        #[serde(default)]
        row_bias: bool,
    },
    /// Batched matrix product with a constant right side: `y[b, m, n] = Σ_k x[a_batch[b], m, k] ·
    /// w[b_batch[b], k, n]` (the batch maps carry numpy broadcasting). No bias.
    MatMul { m: usize, k: usize, n: usize, a_batch: Vec<usize>, b_batch: Vec<usize> },
    /// ONNX Conv: weights `[Cout, Cin / groups, kH, kW]`, one bias per output channel.
    Conv {
        input: [usize; 3],
        output: [usize; 3],
        kernel: [usize; 2],
        stride: [usize; 2],
        dilation: [usize; 2],
        /// Padding at the top and left (the bottom and right follow from the output size).
        pad: [usize; 2],
        groups: usize,
    },
    /// ONNX ConvTranspose: weights `[Cin, Cout / groups, kH, kW]`.
    ConvTranspose {
        input: [usize; 3],
        output: [usize; 3],
        kernel: [usize; 2],
        stride: [usize; 2],
        /// Padding cut from the top and left of the full output.
        pad: [usize; 2],
        dilation: [usize; 2],
        groups: usize,
    },
    /// Average pooling per channel: output `o` weighs its `n` counted inputs by `w[n - 1]`
    /// (so `w[n - 1] = 1/n`); padding counts when `count_include_pad`, up to the padded edge.
    Pool {
        input: [usize; 3],
        output: [usize; 3],
        kernel: [usize; 2],
        stride: [usize; 2],
        dilation: [usize; 2],
        /// Top, left, bottom, right.
        pad: [usize; 4],
        count_include_pad: bool,
    },
    /// Elementwise `y[i] = b + Σ_j w[j] · x_j[i]` over `operands` tensors of `len` values.
    Sum { operands: usize, len: usize },
}

/// One input of one output: operand, index into that operand, index into the weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tap {
    pub operand: usize,
    pub index: usize,
    pub weight: usize,
}

impl Geometry {
    /// Number of operands (input tensors).
    pub fn operands(&self) -> usize {
        match *self {
            Geometry::Sum { operands, .. } => operands,
            _ => 1,
        }
    }

    /// Values each operand must have.
    pub fn operand_len(&self) -> usize {
        match *self {
            Geometry::Dense { rows, inputs, .. } => rows * inputs,
            Geometry::MatMul { m, k, ref a_batch, .. } => (a_batch.iter().max().map_or(0, |b| b + 1)) * m * k,
            Geometry::Conv { input, .. } | Geometry::ConvTranspose { input, .. } | Geometry::Pool { input, .. } => input.iter().product(),
            Geometry::Sum { len, .. } => len,
        }
    }

    pub fn output_len(&self) -> usize {
        match *self {
            Geometry::Dense { rows, outputs, .. } => rows * outputs,
            Geometry::MatMul { m, n, ref a_batch, .. } => a_batch.len() * m * n,
            Geometry::Conv { output, .. } | Geometry::ConvTranspose { output, .. } | Geometry::Pool { output, .. } => output.iter().product(),
            Geometry::Sum { len, .. } => len,
        }
    }

    pub fn weight_count(&self) -> usize {
        match *self {
            Geometry::Dense { inputs, outputs, .. } => inputs * outputs,
            Geometry::Conv { input, output, kernel, groups, .. } => output[0] * (input[0] / groups.max(1)) * kernel[0] * kernel[1],
            Geometry::ConvTranspose { input, output, kernel, groups, .. } => input[0] * (output[0] / groups.max(1)) * kernel[0] * kernel[1],
            Geometry::MatMul { k, n, ref b_batch, .. } => (b_batch.iter().max().map_or(0, |b| b + 1)) * k * n,
            Geometry::Pool { kernel, .. } => kernel[0] * kernel[1],
            Geometry::Sum { operands, .. } => operands,
        }
    }

    pub fn bias_count(&self) -> usize {
        match *self {
            Geometry::Dense { rows, outputs, row_bias, .. } => if row_bias { rows * outputs } else { outputs },
            Geometry::Conv { output, .. } | Geometry::ConvTranspose { output, .. } => output[0],
            Geometry::MatMul { .. } | Geometry::Pool { .. } | Geometry::Sum { .. } => 1,
        }
    }

    /// True when the weights are learned (and so committed when a model's weights are):
    /// pooling and sums weigh by `1/n` or 1, part of the architecture.
    pub fn learned(&self) -> bool {
        !matches!(self, Geometry::Pool { .. } | Geometry::Sum { .. })
    }

    /// The bias of output `out`.
    pub fn bias_index(&self, out: usize) -> usize {
        match *self {
            Geometry::Dense { outputs, row_bias, .. } => if row_bias { out } else { out % outputs },
            Geometry::Conv { output, .. } | Geometry::ConvTranspose { output, .. } => out / (output[1] * output[2]),
            Geometry::MatMul { .. } | Geometry::Pool { .. } | Geometry::Sum { .. } => 0,
        }
    }

    /// What is wrong with the dimensions, if anything.
    pub fn check(&self) -> Result<(), String> {
        let positive = |v: &[usize]| v.iter().all(|&d| d > 0);
        match *self {
            Geometry::Dense { rows, inputs, outputs, .. } if positive(&[rows, inputs, outputs]) => Ok(()),
            Geometry::MatMul { m, k, n, ref a_batch, ref b_batch } => {
                if !positive(&[m, k, n, a_batch.len()]) || a_batch.len() != b_batch.len() {
                    return Err("has a zero dimension or mismatched batch maps".into());
                }
                Ok(())
            }
            Geometry::Pool { input, output, kernel, stride, dilation, pad, .. } => {
                if !positive(&input) || !positive(&output) || !positive(&kernel) || !positive(&stride) || !positive(&dilation) || input[0] != output[0] {
                    return Err("has a zero dimension or changes the channel count".into());
                }
                for a in 0..2 {
                    if (output[a + 1] - 1) * stride[a] >= input[a + 1] + pad[a] + pad[a + 2] {
                        return Err(format!("output size {:?} does not follow from input {:?}", output, input));
                    }
                }
                Ok(())
            }
            Geometry::Conv { input, output, kernel, stride, dilation, pad, groups } => {
                if !positive(&input) || !positive(&output) || !positive(&kernel) || !positive(&stride) || !positive(&dilation) || groups == 0 {
                    return Err("has a zero dimension".into());
                }
                if input[0] % groups != 0 || output[0] % groups != 0 {
                    return Err(format!("channels {} → {} are not divisible by {groups} groups", input[0], output[0]));
                }
                for a in 0..2 {
                    // Every window starts inside the padded input and padding is narrower than a window.
                    let last_start = (output[a + 1] - 1) * stride[a];
                    if last_start >= input[a + 1] + pad[a] || pad[a] > (kernel[a] - 1) * dilation[a] {
                        return Err(format!("output size {:?} does not follow from input {:?}", output, input));
                    }
                }
                Ok(())
            }
            Geometry::ConvTranspose { input, output, kernel, stride, pad, dilation, groups } => {
                if !positive(&input) || !positive(&output) || !positive(&kernel) || !positive(&stride) || !positive(&dilation) || groups == 0 {
                    return Err("has a zero dimension".into());
                }
                if input[0] % groups != 0 || output[0] % groups != 0 {
                    return Err(format!("channels {} → {} are not divisible by {groups} groups", input[0], output[0]));
                }
                // Output padding may add rows past the kernel's reach (they hold the bias only).
                for a in 0..2 {
                    if pad[a] > (input[a + 1] - 1) * stride[a] + (kernel[a] - 1) * dilation[a] {
                        return Err(format!("padding {:?} cuts away the whole output", pad));
                    }
                }
                Ok(())
            }
            Geometry::Sum { operands, len } if operands > 0 && len > 0 => Ok(()),
            _ => Err("has a zero dimension".into()),
        }
    }

    /// Calls `tap` for every input of output `out` (positions in padding are skipped).
    pub fn taps(&self, out: usize, mut tap: impl FnMut(Tap)) {
        match *self {
            Geometry::Dense { inputs, outputs, .. } => {
                let (r, o) = (out / outputs, out % outputs);
                for i in 0..inputs {
                    tap(Tap { operand: 0, index: r * inputs + i, weight: o * inputs + i });
                }
            }
            Geometry::MatMul { m, k, n, ref a_batch, ref b_batch } => {
                let (b, row, col) = (out / (m * n), out / n % m, out % n);
                for i in 0..k {
                    tap(Tap { operand: 0, index: (a_batch[b] * m + row) * k + i, weight: (b_batch[b] * k + i) * n + col });
                }
            }
            Geometry::Pool { input: [_, ih, iw], output: [_, oh, ow], kernel: [kh, kw], stride, dilation, pad, count_include_pad } => {
                let (c, oy, ox) = (out / (oh * ow), out / ow % oh, out % ow);
                let mut inside = Vec::new();
                let mut counted = 0usize;
                for ky in 0..kh {
                    let py = oy * stride[0] + ky * dilation[0];
                    for kx in 0..kw {
                        let px = ox * stride[1] + kx * dilation[1];
                        let in_padded = py < ih + pad[0] + pad[2] && px < iw + pad[1] + pad[3];
                        match (py.checked_sub(pad[0]).filter(|&y| y < ih), px.checked_sub(pad[1]).filter(|&x| x < iw)) {
                            (Some(iy), Some(ix)) => {
                                inside.push((c * ih + iy) * iw + ix);
                                counted += 1;
                            }
                            _ if count_include_pad && in_padded => counted += 1,
                            _ => {}
                        }
                    }
                }
                // A window with nothing counted has no taps (the graph check refuses it).
                for index in inside {
                    tap(Tap { operand: 0, index, weight: counted.saturating_sub(1) });
                }
            }
            Geometry::Conv { input: [cin, ih, iw], output: [cout, oh, ow], kernel: [kh, kw], stride, dilation, pad, groups } => {
                let (co, oy, ox) = (out / (oh * ow), out / ow % oh, out % ow);
                let (cin_g, cout_g) = (cin / groups, cout / groups);
                let g = co / cout_g;
                for c in 0..cin_g {
                    let ci = g * cin_g + c;
                    for ky in 0..kh {
                        let Some(iy) = (oy * stride[0] + ky * dilation[0]).checked_sub(pad[0]).filter(|&y| y < ih) else { continue };
                        for kx in 0..kw {
                            let Some(ix) = (ox * stride[1] + kx * dilation[1]).checked_sub(pad[1]).filter(|&x| x < iw) else { continue };
                            tap(Tap { operand: 0, index: (ci * ih + iy) * iw + ix, weight: ((co * cin_g + c) * kh + ky) * kw + kx });
                        }
                    }
                }
            }
            Geometry::ConvTranspose { input: [cin, ih, iw], output: [cout, oh, ow], kernel: [kh, kw], stride, pad, dilation, groups } => {
                let (co, oy, ox) = (out / (oh * ow), out / ow % oh, out % ow);
                let (cin_g, cout_g) = (cin / groups, cout / groups);
                let (g, co_local) = (co / cout_g, co % cout_g);
                // Input i meets kernel position t at output o when i·stride + t·dilation = o + pad.
                let along = |o: usize, n_in: usize, k: usize, s: usize, p: usize, d: usize| {
                    (0..k).filter_map(move |t| {
                        let at = (o + p).checked_sub(t * d)?;
                        (at % s == 0 && at / s < n_in).then_some((at / s, t))
                    })
                };
                for ci in g * cin_g..(g + 1) * cin_g {
                    for (iy, ky) in along(oy, ih, kh, stride[0], pad[0], dilation[0]) {
                        for (ix, kx) in along(ox, iw, kw, stride[1], pad[1], dilation[1]) {
                            tap(Tap { operand: 0, index: (ci * ih + iy) * iw + ix, weight: ((ci * cout_g + co_local) * kh + ky) * kw + kx });
                        }
                    }
                }
            }
            Geometry::Sum { operands, .. } => {
                for j in 0..operands {
                    tap(Tap { operand: j, index: out, weight: j });
                }
            }
        }
    }

    /// Multiply-accumulates of one evaluation (padding skipped).
    pub fn macs(&self) -> usize {
        let mut n = 0;
        for out in 0..self.output_len() {
            self.taps(out, |_| n += 1);
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taps_of(g: &Geometry, out: usize) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        g.taps(out, |t| v.push((t.index, t.weight)));
        v
    }

    #[test]
    fn conv_padding_stride_and_dilation() {
        // 1 channel 4×4, 3×3 kernel, stride 2, pad 1, dilation 1 → 2×2.
        let g = Geometry::Conv { input: [1, 4, 4], output: [1, 2, 2], kernel: [3, 3], stride: [2, 2], dilation: [1, 1], pad: [1, 1], groups: 1 };
        g.check().unwrap();
        // Output (0,0) sees input rows/cols -1..=1: only (0..=1)×(0..=1) are inside.
        assert_eq!(taps_of(&g, 0), vec![(0, 4), (1, 5), (4, 7), (5, 8)]);
        // Dilation 2 on a 5×5 input, no pad: output (0,0) reads inputs 0, 2, 4 of rows 0, 2, 4.
        let g = Geometry::Conv { input: [1, 5, 5], output: [1, 1, 1], kernel: [3, 3], stride: [1, 1], dilation: [2, 2], pad: [0, 0], groups: 1 };
        let idx: Vec<usize> = taps_of(&g, 0).into_iter().map(|t| t.0).collect();
        assert_eq!(idx, vec![0, 2, 4, 10, 12, 14, 20, 22, 24]);
    }

    #[test]
    fn depthwise_conv_reads_its_own_channel() {
        let g = Geometry::Conv { input: [3, 2, 2], output: [3, 2, 2], kernel: [1, 1], stride: [1, 1], dilation: [1, 1], pad: [0, 0], groups: 3 };
        assert_eq!(g.weight_count(), 3);
        assert_eq!(taps_of(&g, 9), vec![(9, 2)]);
    }

    #[test]
    fn conv_transpose_taps_match_scatter() {
        let g = Geometry::ConvTranspose { input: [2, 3, 3], output: [1, 6, 6], kernel: [4, 4], stride: [2, 2], pad: [1, 1], dilation: [1, 1], groups: 1 };
        g.check().unwrap();
        // Scatter form: input (ci, iy, ix) lands on output (iy·2 - 1 + ky, ix·2 - 1 + kx).
        let mut scatter = vec![Vec::new(); 36];
        for ci in 0..2 {
            for iy in 0..3 {
                for ix in 0..3 {
                    for ky in 0..4 {
                        for kx in 0..4 {
                            let (py, px) = ((iy * 2 + ky) as i64 - 1, (ix * 2 + kx) as i64 - 1);
                            if (0..6).contains(&py) && (0..6).contains(&px) {
                                scatter[(py * 6 + px) as usize].push(((ci * 3 + iy) * 3 + ix, (ci * 4 + ky) * 4 + kx));
                            }
                        }
                    }
                }
            }
        }
        for (out, mut want) in scatter.into_iter().enumerate() {
            let mut got = taps_of(&g, out);
            got.sort();
            want.sort();
            assert_eq!(got, want, "output {out}");
        }
    }

    #[test]
    fn inconsistent_sizes_are_refused() {
        let g = Geometry::Conv { input: [4, 4, 4], output: [2, 4, 4], kernel: [3, 3], stride: [1, 1], dilation: [1, 1], pad: [1, 1], groups: 3 };
        assert!(g.check().unwrap_err().contains("divisible"));
    }
}
