//! The integer forward pass: the single source of truth for what a proof proves.
//!
//! Everything is exact integer arithmetic on `i64` (accumulators of int8 × 8-bit products over a
//! few thousand terms plus a 40-bit bias cannot overflow). The circuit compiler replays
//! [`QuantModel::trace`] as its witness, so the two cannot drift apart.

use super::{in_range, Error, Layer, LinearOp, Picture, QuantModel};

/// Rounding right shift, round half up: `floor(a / 2^s + 1/2)` for `s ≥ 1`.
pub fn round_shift(a: i64, s: u32) -> i64 {
    (a + (1i64 << (s - 1))) >> s
}

/// The values one layer computed: accumulators before and outputs after requantization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerTrace {
    pub acc: Vec<i64>,
    pub output: Vec<i64>,
}

impl Layer {
    /// Exact accumulators `bias + Σ w·x` for one input vector.
    pub fn accumulate(&self, x: &[i64]) -> Vec<i64> {
        match self.op {
            LinearOp::Dense { inputs, outputs } => (0..outputs)
                .map(|o| {
                    let row = &self.weights[o * inputs..(o + 1) * inputs];
                    self.bias[o] + row.iter().zip(x).map(|(&w, &v)| i64::from(w) * v).sum::<i64>()
                })
                .collect(),
            LinearOp::ConvTranspose { input, output, kernel, stride, pad } => {
                let (cin, ih, iw) = input;
                let (cout, oh, ow) = output;
                let (kh, kw) = kernel;
                let mut acc: Vec<i64> =
                    (0..cout).flat_map(|co| std::iter::repeat_n(self.bias[co], oh * ow)).collect();
                for ci in 0..cin {
                    for iy in 0..ih {
                        for ix in 0..iw {
                            let v = x[(ci * ih + iy) * iw + ix];
                            if v == 0 {
                                continue;
                            }
                            for co in 0..cout {
                                let w = &self.weights[(ci * cout + co) * kh * kw..][..kh * kw];
                                for ky in 0..kh {
                                    let py = iy * stride.0 + ky;
                                    if !in_range(py, pad.0, oh) {
                                        continue;
                                    }
                                    for kx in 0..kw {
                                        let px = ix * stride.1 + kx;
                                        if in_range(px, pad.1, ow) {
                                            let at = (co * oh + py - pad.0) * ow + px - pad.1;
                                            acc[at] += i64::from(w[ky * kw + kx]) * v;
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                acc
            }
        }
    }

    /// Requantizes one accumulator: rounding shift, then clamp.
    pub fn requantize(&self, acc: i64) -> i64 {
        round_shift(acc, self.shift()).clamp(self.clamp.0, self.clamp.1)
    }
}

impl QuantModel {
    /// Runs the model and returns every layer's accumulators and outputs.
    pub fn trace(&self, latent: &[i8]) -> Result<Vec<LayerTrace>, Error> {
        if latent.len() != self.input.len {
            return Err(Error::LatentLength { expected: self.input.len, got: latent.len() });
        }
        let mut x: Vec<i64> = latent.iter().map(|&v| i64::from(v)).collect();
        let mut traces = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let acc = layer.accumulate(&x);
            let output: Vec<i64> = acc.iter().map(|&a| layer.requantize(a)).collect();
            x = output.clone();
            traces.push(LayerTrace { acc, output });
        }
        Ok(traces)
    }

    /// The output layer's values, CHW.
    pub fn forward(&self, latent: &[i8]) -> Result<Vec<i64>, Error> {
        let mut traces = self.trace(latent)?;
        Ok(traces.pop().map(|t| t.output).unwrap_or_default())
    }

    /// Maps output values (CHW) to picture bytes: subtract the low end of the output clamp
    /// range and store RGB8 row-major (HWC). A one-channel output becomes grey.
    pub fn picture_from_output(&self, output: &[i64]) -> Picture {
        let (c, h, w) = self.picture_shape();
        let lo = self.layers.last().map_or(0, |l| l.clamp.0);
        let mut rgb = vec![0u8; h * w * 3];
        for y in 0..h {
            for x in 0..w {
                for k in 0..3 {
                    let ch = if c == 1 { 0 } else { k };
                    // In [0, 255] because the output clamp spans exactly 256 values.
                    rgb[(y * w + x) * 3 + k] = (output[(ch * h + y) * w + x] - lo) as u8;
                }
            }
        }
        Picture { width: w, height: h, rgb }
    }

    /// Generates the picture for a latent.
    pub fn picture(&self, latent: &[i8]) -> Result<Picture, Error> {
        Ok(self.picture_from_output(&self.forward(latent)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_shift_rounds_half_up() {
        assert_eq!(round_shift(5, 1), 3); // 2.5 → 3
        assert_eq!(round_shift(-5, 1), -2); // -2.5 → -2
        assert_eq!(round_shift(-6, 2), -1); // -1.5 → -1
        assert_eq!(round_shift(-7, 2), -2); // -1.75 → -2
        assert_eq!(round_shift(6, 2), 2); // 1.5 → 2
        assert_eq!(round_shift(5, 2), 1); // 1.25 → 1
    }
}
