//! The quantized graph: the integer-only model every other part of Section 9 agrees on.
//!
//! A [`QuantModel`] is a chain of [`Layer`]s. Each layer is one linear operation with integer
//! weights and biases (a dense product or a transposed convolution), followed by a
//! requantization that is a rounding right shift and a clamp (ReLU and the output range are
//! clamps). Every value is an integer with a power-of-two scale: a tensor with `frac_bits = f`
//! holds `q` for the real number `q · 2^-f`.
//!
//! For layer `L` with input frac bits `fx`, weight frac bits `fw` and output frac bits `fy`:
//!
//! ```text
//! acc = bias + Σ w · x                       (exact, i64; scale 2^-(fx+fw))
//! s   = fx + fw - fy                         (≥ 1)
//! y   = clamp((acc + 2^(s-1)) >> s, lo, hi)  (arithmetic shift: round half up)
//! ```
//!
//! The output layer's values are mapped to picture bytes by subtracting the low end of its
//! clamp range (`-128 → 0` for int8 outputs), see [`QuantModel::picture`].
//!
//! This module owns the IR, its validation, the integer forward pass ([`infer`]) and the model
//! identifier ([`QuantModel::id`]). It knows nothing of ONNX ([`onnx`]) or circuits.

pub mod infer;
#[cfg(feature = "onnx")]
pub mod onnx;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use infer::{round_shift, LayerTrace};

/// What can be wrong with a model or with the values fed to it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("layer {layer} (`{name}`): {what}")]
    InvalidLayer {
        layer: usize,
        name: String,
        what: String,
    },
    #[error("layer {layer} (`{name}`) takes {expected} inputs but the previous layer gives {got}")]
    ShapeMismatch {
        layer: usize,
        name: String,
        expected: usize,
        got: usize,
    },
    #[error("the model expects a latent of {expected} values, got {got}")]
    LatentLength { expected: usize, got: usize },
    #[error("the model has no layers")]
    Empty,
    #[error("not a Section 9 model file: {0}")]
    Json(String),
    #[error(
        "the output layer must produce a [3, H, W] or [1, H, W] picture with a 256-value \
         clamp range, got shape {shape:?} and range [{lo}, {hi}]"
    )]
    NotAPicture { shape: Vec<usize>, lo: i64, hi: i64 },
}

/// The most values a layer's input, output or weights may hold: far above any generator a
/// browser can prove, it keeps a hostile model file from making inference allocate without end.
pub const MAX_VALUES: usize = 1 << 22;

/// The shape of an activation tensor, without the batch dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Shape {
    /// A flat vector of `n` values.
    Flat(usize),
    /// Channels × height × width, row-major.
    Chw(usize, usize, usize),
}

impl Shape {
    pub fn len(&self) -> usize {
        match *self {
            Shape::Flat(n) => n,
            // Saturating: a model read from a file is checked against MAX_VALUES with these.
            Shape::Chw(c, h, w) => c.saturating_mul(h).saturating_mul(w),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn dims(&self) -> Vec<usize> {
        match *self {
            Shape::Flat(n) => vec![n],
            Shape::Chw(c, h, w) => vec![c, h, w],
        }
    }
}

/// The linear part of a layer. Weight layouts are those of ONNX, flattened row-major.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinearOp {
    /// `y[o] = Σ_i w[o·inputs + i] · x[i]`: weights `[outputs, inputs]`.
    Dense { inputs: usize, outputs: usize },
    /// ONNX ConvTranspose (group 1, dilation 1): weights `[Cin, Cout, kH, kW]`;
    /// `x[ci, iy, ix]` contributes `w[ci, co, ky, kx]` to `y[co, iy·s - pad + ky, ix·s - pad + kx]`
    /// when that position lies inside the output.
    ConvTranspose {
        input: (usize, usize, usize),
        output: (usize, usize, usize),
        kernel: (usize, usize),
        stride: (usize, usize),
        /// Padding at the top and left (the amount cut from the full output).
        pad: (usize, usize),
    },
}

impl LinearOp {
    pub fn input_shape(&self) -> Shape {
        match *self {
            LinearOp::Dense { inputs, .. } => Shape::Flat(inputs),
            LinearOp::ConvTranspose { input: (c, h, w), .. } => Shape::Chw(c, h, w),
        }
    }

    pub fn output_shape(&self) -> Shape {
        match *self {
            LinearOp::Dense { outputs, .. } => Shape::Flat(outputs),
            LinearOp::ConvTranspose { output: (c, h, w), .. } => Shape::Chw(c, h, w),
        }
    }

    /// Number of weights the op needs.
    pub fn weight_count(&self) -> usize {
        match *self {
            LinearOp::Dense { inputs, outputs } => inputs.saturating_mul(outputs),
            LinearOp::ConvTranspose { input, output, kernel, .. } => {
                input.0.saturating_mul(output.0).saturating_mul(kernel.0).saturating_mul(kernel.1)
            }
        }
    }

    /// Multiply-accumulates that land inside the output (what a circuit has to prove).
    pub fn macs(&self) -> usize {
        match *self {
            LinearOp::Dense { inputs, outputs } => inputs * outputs,
            LinearOp::ConvTranspose { input, output, kernel, stride, pad } => {
                let taps = |n_in: usize, n_out: usize, k: usize, s: usize, p: usize| {
                    (0..n_in)
                        .map(|i| (0..k).filter(|&t| in_range(i * s + t, p, n_out)).count())
                        .sum::<usize>()
                };
                input.0
                    * output.0
                    * taps(input.1, output.1, kernel.0, stride.0, pad.0)
                    * taps(input.2, output.2, kernel.1, stride.1, pad.1)
            }
        }
    }
}

/// `pos - pad` lies in `[0, n)`.
pub fn in_range(pos: usize, pad: usize, n: usize) -> bool {
    pos >= pad && pos - pad < n
}

/// One layer: linear op, bias, rounding shift, clamp.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    /// The name of the source node (the ONNX node name).
    pub name: String,
    pub op: LinearOp,
    pub weights: Vec<i8>,
    /// One per output channel (per output value for [`LinearOp::Dense`]).
    pub bias: Vec<i64>,
    pub input_frac_bits: u32,
    pub weight_frac_bits: u32,
    pub output_frac_bits: u32,
    /// Lowest and highest output value (ReLU on uint8 is `[0, 255]`).
    pub clamp: (i64, i64),
}

impl Layer {
    /// The requantization shift `fx + fw - fy`.
    pub fn shift(&self) -> u32 {
        self.input_frac_bits + self.weight_frac_bits - self.output_frac_bits
    }

    fn bias_count(&self) -> usize {
        match self.op {
            LinearOp::Dense { outputs, .. } => outputs,
            LinearOp::ConvTranspose { output, .. } => output.0,
        }
    }

    fn check(&self, index: usize) -> Result<(), Error> {
        let bad = |what: String| Error::InvalidLayer {
            layer: index,
            name: self.name.clone(),
            what,
        };
        // Sizes first: everything below multiplies them. A model file may say anything.
        let dims: Vec<usize> = match self.op {
            LinearOp::Dense { inputs, outputs } => vec![inputs, outputs],
            LinearOp::ConvTranspose { input, output, kernel, stride, .. } => vec![
                input.0, input.1, input.2, output.0, output.1, output.2, kernel.0, kernel.1, stride.0, stride.1,
            ],
        };
        let sizes = [self.op.input_shape().len(), self.op.output_shape().len(), self.op.weight_count()];
        if dims.contains(&0) || sizes.iter().any(|&n| n > MAX_VALUES) {
            return Err(bad(format!(
                "{:?} → {:?} has a zero size or more than {MAX_VALUES} values or weights",
                self.op.input_shape(),
                self.op.output_shape()
            )));
        }
        if self.weights.len() != self.op.weight_count() {
            return Err(bad(format!(
                "has {} weights, its shape needs {}",
                self.weights.len(),
                self.op.weight_count()
            )));
        }
        if self.bias.len() != self.bias_count() {
            return Err(bad(format!(
                "has {} biases, its shape needs {}",
                self.bias.len(),
                self.bias_count()
            )));
        }
        // Checked: frac bits from a file may be anything, and the shift subtracts them.
        if self.input_frac_bits.checked_add(self.weight_frac_bits).is_none_or(|sum| sum <= self.output_frac_bits) {
            return Err(bad(format!(
                "requantization shift fx + fw - fy = {} + {} - {} must be at least 1",
                self.input_frac_bits, self.weight_frac_bits, self.output_frac_bits
            )));
        }
        if self.shift() > 40 {
            return Err(bad(format!("requantization shift {} is above 40", self.shift())));
        }
        if let Some(b) = self.bias.iter().find(|b| b.unsigned_abs() >= 1 << 40) {
            return Err(bad(format!("bias {b} does not fit in 40 bits")));
        }
        let (lo, hi) = self.clamp;
        if lo > hi || lo < -128 || hi > 255 || hi - lo > 255 {
            return Err(bad(format!(
                "clamp range [{lo}, {hi}] is not an 8-bit (int8 or uint8) range"
            )));
        }
        if let LinearOp::ConvTranspose { input, output, kernel, stride, pad } = self.op {
            let ok = |n_in: usize, n_out: usize, k: usize, s: usize, p: usize| {
                let reach = (n_in - 1).checked_mul(s).and_then(|v| v.checked_add(k));
                s >= 1 && k >= 1 && n_in >= 1 && reach.is_some_and(|r| Some(r) >= p.checked_add(n_out))
            };
            if !ok(input.1, output.1, kernel.0, stride.0, pad.0)
                || !ok(input.2, output.2, kernel.1, stride.1, pad.1)
            {
                return Err(bad(format!(
                    "transposed convolution {input:?} → {output:?} with kernel {kernel:?}, \
                     stride {stride:?}, pad {pad:?} is inconsistent"
                )));
            }
        }
        Ok(())
    }
}

/// The private input: a vector of int8 values at `frac_bits`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputSpec {
    pub name: String,
    pub len: usize,
    pub frac_bits: u32,
}

/// A validated integer-only model. Construct with [`QuantModel::new`] (or an importer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuantModel {
    input: InputSpec,
    layers: Vec<Layer>,
}

/// A picture produced by a model: `height × width` pixels, RGB8 row-major (HWC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Picture {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<u8>,
}

impl QuantModel {
    /// Checks shapes, layer chaining and value ranges.
    pub fn new(input: InputSpec, layers: Vec<Layer>) -> Result<Self, Error> {
        let last = layers.last().ok_or(Error::Empty)?;
        let (lo, hi) = last.clamp;
        let shape = last.op.output_shape();
        let is_picture = matches!(shape, Shape::Chw(1 | 3, _, _)) && hi - lo == 255;
        if !is_picture {
            return Err(Error::NotAPicture { shape: shape.dims(), lo, hi });
        }
        let mut width = input.len;
        let mut frac_bits = input.frac_bits;
        for (i, layer) in layers.iter().enumerate() {
            layer.check(i)?;
            let expected = layer.op.input_shape().len();
            if expected != width {
                return Err(Error::ShapeMismatch {
                    layer: i,
                    name: layer.name.clone(),
                    expected,
                    got: width,
                });
            }
            if layer.input_frac_bits != frac_bits {
                return Err(Error::InvalidLayer {
                    layer: i,
                    name: layer.name.clone(),
                    what: format!(
                        "input frac bits {} differ from the previous output's {}",
                        layer.input_frac_bits, frac_bits
                    ),
                });
            }
            width = layer.op.output_shape().len();
            frac_bits = layer.output_frac_bits;
        }
        Ok(QuantModel { input, layers })
    }

    pub fn input(&self) -> &InputSpec {
        &self.input
    }

    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Total multiply-accumulates of one forward pass.
    pub fn macs(&self) -> usize {
        self.layers.iter().map(|l| l.op.macs()).sum()
    }

    /// Total weights and biases.
    pub fn params(&self) -> usize {
        self.layers.iter().map(|l| l.weights.len() + l.bias.len()).sum()
    }

    /// `(channels, height, width)` of the output picture.
    pub fn picture_shape(&self) -> (usize, usize, usize) {
        match self.layers.last().map(|l| l.op.output_shape()) {
            Some(Shape::Chw(c, h, w)) => (c, h, w),
            // `new` only accepts models whose output is CHW.
            _ => (0, 0, 0),
        }
    }

    /// The model identifier: SHA-256 of the canonical encoding (see [`Self::canonical_bytes`]).
    pub fn id(&self) -> [u8; 32] {
        Sha256::digest(self.canonical_bytes()).into()
    }

    /// The identifier as lowercase hex.
    pub fn id_hex(&self) -> String {
        hex_string(&self.id())
    }

    /// The model as JSON: how the browser gets it (it has no ONNX importer).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads [`Self::to_json`]'s output, checked like [`Self::new`].
    pub fn from_json(text: &str) -> Result<QuantModel, Error> {
        let raw: QuantModel = serde_json::from_str(text).map_err(|e| Error::Json(e.to_string()))?;
        QuantModel::new(raw.input, raw.layers)
    }

    /// The canonical encoding of everything that determines the model's integer function:
    /// `"section9-model-v1"`, the latent length and frac bits, then per layer its op tag and
    /// dimensions, frac bits, clamp range, weights (one byte each) and biases (i64), all
    /// integers little-endian u64/i64. Names are not part of it.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = b"section9-model-v1".to_vec();
        let put = |v: u64, out: &mut Vec<u8>| out.extend_from_slice(&v.to_le_bytes());
        put(self.input.len as u64, &mut out);
        put(self.input.frac_bits.into(), &mut out);
        put(self.layers.len() as u64, &mut out);
        for layer in &self.layers {
            match layer.op {
                LinearOp::Dense { inputs, outputs } => {
                    for v in [1, inputs, outputs] {
                        put(v as u64, &mut out);
                    }
                }
                LinearOp::ConvTranspose { input, output, kernel, stride, pad } => {
                    let dims = [
                        2, input.0, input.1, input.2, output.0, output.1, output.2, kernel.0,
                        kernel.1, stride.0, stride.1, pad.0, pad.1,
                    ];
                    for v in dims {
                        put(v as u64, &mut out);
                    }
                }
            }
            for v in [layer.input_frac_bits, layer.weight_frac_bits, layer.output_frac_bits] {
                put(v.into(), &mut out);
            }
            put(layer.clamp.0 as u64, &mut out);
            put(layer.clamp.1 as u64, &mut out);
            out.extend(layer.weights.iter().map(|&w| w as u8));
            for &b in &layer.bias {
                put(b as u64, &mut out);
            }
        }
        out
    }
}

pub fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
