//! ONNX import: a float ONNX graph whose weights sit on a power-of-two grid, plus the
//! `section9.quantization` metadata entry, becomes a [`QuantModel`].
//!
//! tract-onnx parses the protobuf; this module walks the graph as a chain from the single
//! input to the single output. Supported nodes: `Gemm`, `ConvTranspose` (the linear layers,
//! named in the metadata), `Relu` and `Clip` (fused into the preceding layer's clamp),
//! `Reshape`, `Flatten` and `Identity` (relabel the flat row-major data). Anything else is
//! refused with the node's name and op.
//!
//! The metadata (JSON) gives the latent's frac bits and, for each linear node, the weight and
//! output frac bits:
//!
//! ```json
//! {"format": "section9-pow2-v1",
//!  "input": {"name": "latent", "frac_bits": 7},
//!  "layers": [{"node": "fc", "weight_frac_bits": 9, "output_frac_bits": 4}, ...]}
//! ```
//!
//! Weights must be exactly `q · 2^-fw` with `q` in int8, biases exactly `q · 2^-(fx+fw)`: the
//! float graph then *is* the model the integer graph computes up to activation rounding, and
//! nothing is silently re-quantized.

use std::collections::HashMap;

use serde::Deserialize;
use tract_onnx::pb::{self, AttributeProto, GraphProto, NodeProto, TensorProto};
use tract_onnx::prelude::Framework;

use super::{InputSpec, Layer, LinearOp, QuantModel, Shape};

/// The metadata key that carries the quantization.
pub const METADATA_KEY: &str = "section9.quantization";
const FORMAT: &str = "section9-pow2-v1";

/// Why an ONNX file could not become a [`QuantModel`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OnnxError {
    #[error("not a readable ONNX model")]
    Parse(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the ONNX model has no graph")]
    NoGraph,
    #[error(
        "the ONNX model has no `{METADATA_KEY}` metadata entry: it is a float model without \
         power-of-two quantization"
    )]
    MissingMetadata,
    #[error("the `{METADATA_KEY}` metadata is not valid")]
    BadMetadata(#[source] serde_json::Error),
    #[error("the quantization format is `{found}`, this version reads `{FORMAT}`")]
    UnknownFormat { found: String },
    #[error("the graph must have exactly one non-constant input, it has {found:?}")]
    Inputs { found: Vec<String> },
    #[error("the graph input `{name}` must be float32 of static shape [1, N] or [N]: {what}")]
    InputShape { name: String, what: String },
    #[error("the graph input is `{found}` but the metadata names `{expected}`")]
    InputName { expected: String, found: String },
    #[error("node `{node}` ({op}): {what}")]
    Unsupported { node: String, op: String, what: String },
    #[error("node `{node}` ({op}): tensor `{tensor}` {what}")]
    BadTensor { node: String, op: String, tensor: String, what: String },
    #[error(
        "node `{node}`: {tensor}[{index}] = {value} is not on the int8 grid of 2^-{frac_bits} \
         (the model was not exported with power-of-two quantization)"
    )]
    OffGrid { node: String, tensor: String, index: usize, value: f32, frac_bits: u32 },
    #[error("node `{node}` ({op}) is a linear layer without an entry in the quantization metadata")]
    NoQuantization { node: String, op: String },
    #[error("the quantization metadata names node `{node}`, which is not a linear layer of the graph")]
    UnusedQuantization { node: String },
    #[error("the graph is not a single chain from input to output: {what}")]
    NotAChain { what: String },
    #[error(transparent)]
    Model(#[from] super::Error),
}

#[derive(Deserialize)]
struct Metadata {
    format: String,
    input: InputMeta,
    layers: Vec<LayerMeta>,
}

#[derive(Deserialize)]
struct InputMeta {
    name: String,
    frac_bits: u32,
}

#[derive(Deserialize)]
struct LayerMeta {
    node: String,
    weight_frac_bits: u32,
    output_frac_bits: u32,
}

/// Frac bits above this are refused: they only arise from corrupt metadata.
const MAX_FRAC_BITS: u32 = 30;

/// Imports an ONNX model from its bytes.
pub fn import(bytes: &[u8]) -> Result<QuantModel, OnnxError> {
    let proto = tract_onnx::onnx()
        .proto_model_for_read(&mut &bytes[..])
        .map_err(|e| OnnxError::Parse(e.into()))?;
    let meta = proto
        .metadata_props
        .iter()
        .find(|p| p.key == METADATA_KEY)
        .ok_or(OnnxError::MissingMetadata)?;
    let meta: Metadata = serde_json::from_str(&meta.value).map_err(OnnxError::BadMetadata)?;
    if meta.format != FORMAT {
        return Err(OnnxError::UnknownFormat { found: meta.format });
    }
    let graph = proto.graph.as_ref().ok_or(OnnxError::NoGraph)?;
    Importer::new(graph, &meta)?.run()
}

struct Importer<'a> {
    graph: &'a GraphProto,
    meta: &'a Metadata,
    constants: HashMap<&'a str, &'a TensorProto>,
}

/// A linear layer whose activation is not known yet.
struct Pending {
    node: String,
    op: LinearOp,
    weights: Vec<i8>,
    bias: Vec<i64>,
    input_frac_bits: u32,
    weight_frac_bits: u32,
    output_frac_bits: u32,
    clamp: Option<(i64, i64)>,
}

impl Pending {
    /// A layer without a fused activation keeps int8 outputs.
    fn finish(self) -> Layer {
        Layer {
            name: self.node,
            op: self.op,
            weights: self.weights,
            bias: self.bias,
            input_frac_bits: self.input_frac_bits,
            weight_frac_bits: self.weight_frac_bits,
            output_frac_bits: self.output_frac_bits,
            clamp: self.clamp.unwrap_or((-128, 127)),
        }
    }
}

impl<'a> Importer<'a> {
    fn new(graph: &'a GraphProto, meta: &'a Metadata) -> Result<Self, OnnxError> {
        let mut constants: HashMap<&str, &TensorProto> =
            graph.initializer.iter().map(|t| (t.name.as_str(), t)).collect();
        for node in graph.node.iter().filter(|n| n.op_type == "Constant") {
            if let (Some(out), Some(t)) =
                (node.output.first(), node.attribute.iter().find(|a| a.name == "value"))
            {
                if let Some(t) = &t.t {
                    constants.insert(out.as_str(), t);
                }
            }
        }
        Ok(Importer { graph, meta, constants })
    }

    fn run(&self) -> Result<QuantModel, OnnxError> {
        let (input_name, latent_len) = self.input()?;
        if input_name != self.meta.input.name {
            return Err(OnnxError::InputName {
                expected: self.meta.input.name.clone(),
                found: input_name,
            });
        }
        let input_frac_bits = self.meta.input.frac_bits;
        if input_frac_bits > MAX_FRAC_BITS {
            return Err(OnnxError::InputShape {
                name: input_name,
                what: format!("frac bits {input_frac_bits} above {MAX_FRAC_BITS}"),
            });
        }
        let output = match self.graph.output.as_slice() {
            [o] => o.name.as_str(),
            other => {
                return Err(OnnxError::NotAChain {
                    what: format!("{} graph outputs, expected 1", other.len()),
                })
            }
        };

        let mut layers: Vec<Layer> = Vec::new();
        let mut pending: Option<Pending> = None;
        let mut shape = Shape::Flat(latent_len);
        let mut frac_bits = input_frac_bits;
        let mut current = input_name.clone();
        let mut visited = 0usize;
        while current != output {
            let node = self.consumer(&current)?;
            visited += 1;
            if visited > self.graph.node.len() {
                return Err(OnnxError::NotAChain { what: "the graph has a cycle".into() });
            }
            let op = node.op_type.as_str();
            match op {
                "Gemm" | "ConvTranspose" => {
                    if let Some(p) = pending.take() {
                        frac_bits = p.output_frac_bits;
                        layers.push(p.finish());
                    }
                    let p = self.linear(node, shape, frac_bits)?;
                    shape = p.op.output_shape();
                    pending = Some(p);
                }
                "Relu" | "Clip" => {
                    let p = pending.as_mut().filter(|p| p.clamp.is_none()).ok_or_else(|| {
                        unsupported(node, "an activation must directly follow a Gemm or ConvTranspose")
                    })?;
                    p.clamp = Some(self.activation(node, p.output_frac_bits)?);
                }
                "Reshape" | "Flatten" => shape = self.reshape(node, shape)?,
                "Identity" | "Dropout" => {}
                _ => return Err(unsupported(node, "operator not supported")),
            }
            current = node.output.first().cloned().unwrap_or_default();
        }
        if let Some(p) = pending.take() {
            layers.push(p.finish());
        }

        let constant_nodes = self.graph.node.iter().filter(|n| n.op_type == "Constant").count();
        if visited + constant_nodes != self.graph.node.len() {
            return Err(OnnxError::NotAChain {
                what: format!(
                    "{} of {} nodes lie off the path from input to output",
                    self.graph.node.len() - visited - constant_nodes,
                    self.graph.node.len()
                ),
            });
        }
        for m in &self.meta.layers {
            if !layers.iter().any(|l| l.name == m.node) {
                return Err(OnnxError::UnusedQuantization { node: m.node.clone() });
            }
        }
        let input = InputSpec { name: input_name, len: latent_len, frac_bits: input_frac_bits };
        Ok(QuantModel::new(input, layers)?)
    }

    /// The single non-constant graph input and its length.
    fn input(&self) -> Result<(String, usize), OnnxError> {
        let inputs: Vec<&pb::ValueInfoProto> = self
            .graph
            .input
            .iter()
            .filter(|i| !self.constants.contains_key(i.name.as_str()))
            .collect();
        let [input] = inputs.as_slice() else {
            return Err(OnnxError::Inputs {
                found: inputs.iter().map(|i| i.name.clone()).collect(),
            });
        };
        let bad = |what: &str| OnnxError::InputShape { name: input.name.clone(), what: what.into() };
        let Some(pb::type_proto::Value::TensorType(t)) = input.r#type.as_ref().and_then(|t| t.value.as_ref())
        else {
            return Err(bad("not a tensor"));
        };
        if t.elem_type != pb::tensor_proto::DataType::Float as i32 {
            return Err(bad("element type is not float32"));
        }
        let dims: Vec<Option<i64>> = t
            .shape
            .as_ref()
            .ok_or_else(|| bad("no shape"))?
            .dim
            .iter()
            .map(|d| match d.value {
                Some(pb::tensor_shape_proto::dimension::Value::DimValue(v)) => Some(v),
                _ => None,
            })
            .collect();
        let len = match dims.as_slice() {
            [Some(n)] | [Some(1), Some(n)] if *n > 0 => *n as usize,
            _ => return Err(bad(&format!("shape {dims:?}"))),
        };
        Ok((input.name.clone(), len))
    }

    /// The one node that reads `tensor`.
    fn consumer(&self, tensor: &str) -> Result<&'a NodeProto, OnnxError> {
        let readers: Vec<&NodeProto> =
            self.graph.node.iter().filter(|n| n.input.iter().any(|i| i == tensor)).collect();
        match readers.as_slice() {
            [node] if node.output.len() == 1 || node.op_type == "Dropout" => Ok(node),
            [node] => Err(unsupported(node, "nodes with several outputs are not supported")),
            [] => Err(OnnxError::NotAChain {
                what: format!("tensor `{tensor}` is read by no node and is not the graph output"),
            }),
            many => Err(OnnxError::NotAChain {
                what: format!(
                    "tensor `{tensor}` is read by {} nodes ({})",
                    many.len(),
                    many.iter().map(|n| n.name.as_str()).collect::<Vec<_>>().join(", ")
                ),
            }),
        }
    }

    fn linear(&self, node: &NodeProto, shape: Shape, fx: u32) -> Result<Pending, OnnxError> {
        let meta = self.meta.layers.iter().find(|m| m.node == node.name).ok_or_else(|| {
            OnnxError::NoQuantization { node: node.name.clone(), op: node.op_type.clone() }
        })?;
        let (fw, fy) = (meta.weight_frac_bits, meta.output_frac_bits);
        if fw > MAX_FRAC_BITS || fy > MAX_FRAC_BITS {
            return Err(unsupported(node, &format!("frac bits above {MAX_FRAC_BITS} in the metadata")));
        }
        let (w_dims, w) = self.float_input(node, 1)?;
        let bias = match node.input.get(2).filter(|s| !s.is_empty()) {
            Some(_) => Some(self.float_input(node, 2)?),
            None => None,
        };
        let (op, weights, outputs_per_bias) = match node.op_type.as_str() {
            "Gemm" => self.gemm(node, shape, &w_dims, &w)?,
            _ => self.conv_transpose(node, shape, &w_dims, w)?,
        };
        let bias_len = weights.len() / outputs_per_bias.max(1);
        let bias = match bias {
            None => vec![0.0; bias_len],
            Some((_, b)) if b.len() == bias_len => b,
            Some((_, b)) => {
                return Err(bad_tensor(node, 2, &format!("has {} values, expected {bias_len}", b.len())))
            }
        };
        let weights = on_grid(node, "weight", &weights, fw, 128)?
            .into_iter()
            .map(|q| q as i8)
            .collect();
        let bias = on_grid(node, "bias", &bias, fx + fw, 1 << 40)?;
        Ok(Pending {
            node: node.name.clone(),
            op,
            weights,
            bias,
            input_frac_bits: fx,
            weight_frac_bits: fw,
            output_frac_bits: fy,
            clamp: None,
        })
    }

    /// Gemm `y = x·Bᵀ + C` (transB = 1) or `y = x·B + C` (transB = 0), alpha = beta = 1.
    /// Returns the op, weights in `[outputs, inputs]` order, and weights per bias value.
    fn gemm(
        &self,
        node: &NodeProto,
        shape: Shape,
        dims: &[usize],
        w: &[f32],
    ) -> Result<(LinearOp, Vec<f32>, usize), OnnxError> {
        for (name, want) in [("alpha", 1.0), ("beta", 1.0)] {
            if let Some(a) = attr(node, name) {
                if a.f != want {
                    return Err(unsupported(node, &format!("{name} = {} (only 1 is supported)", a.f)));
                }
            }
        }
        if attr(node, "transA").is_some_and(|a| a.i != 0) {
            return Err(unsupported(node, "transA = 1 is not supported"));
        }
        let trans_b = attr(node, "transB").is_some_and(|a| a.i != 0);
        let &[d0, d1] = dims else {
            return Err(bad_tensor(node, 1, &format!("has shape {dims:?}, expected 2-D")));
        };
        let (outputs, inputs) = if trans_b { (d0, d1) } else { (d1, d0) };
        if inputs != shape.len() {
            return Err(unsupported(
                node,
                &format!("takes {inputs} inputs but receives {} ({:?})", shape.len(), shape),
            ));
        }
        let weights = if trans_b {
            w.to_vec()
        } else {
            (0..outputs).flat_map(|o| (0..inputs).map(move |i| w[i * outputs + o])).collect()
        };
        Ok((LinearOp::Dense { inputs, outputs }, weights, inputs))
    }

    fn conv_transpose(
        &self,
        node: &NodeProto,
        shape: Shape,
        dims: &[usize],
        w: Vec<f32>,
    ) -> Result<(LinearOp, Vec<f32>, usize), OnnxError> {
        let &[cin, cout, kh, kw] = dims else {
            return Err(bad_tensor(node, 1, &format!("has shape {dims:?}, expected [Cin, Cout, kH, kW]")));
        };
        let Shape::Chw(c, ih, iw) = shape else {
            return Err(unsupported(node, &format!("needs a [C, H, W] input, receives {shape:?}")));
        };
        if c != cin {
            return Err(unsupported(node, &format!("weights expect {cin} input channels, input has {c}")));
        }
        let ints = |name: &str, default: Vec<i64>| -> Vec<i64> {
            attr(node, name).map(|a| a.ints.clone()).unwrap_or(default)
        };
        if attr(node, "group").is_some_and(|a| a.i != 1) {
            return Err(unsupported(node, "group ≠ 1 is not supported"));
        }
        if ints("dilations", vec![1, 1]) != [1, 1] {
            return Err(unsupported(node, "dilations ≠ 1 are not supported"));
        }
        if attr(node, "auto_pad").is_some_and(|a| !a.s.is_empty() && a.s != b"NOTSET") {
            return Err(unsupported(node, "auto_pad is not supported; give explicit pads"));
        }
        if attr(node, "output_shape").is_some() {
            return Err(unsupported(node, "output_shape is not supported; give explicit pads"));
        }
        if let Some(k) = attr(node, "kernel_shape") {
            if k.ints != [kh as i64, kw as i64] {
                return Err(unsupported(node, &format!("kernel_shape {:?} differs from the weights", k.ints)));
            }
        }
        let strides = ints("strides", vec![1, 1]);
        let pads = ints("pads", vec![0, 0, 0, 0]);
        let extra = ints("output_padding", vec![0, 0]);
        let small = |v: &[i64], n: usize| v.len() == n && v.iter().all(|&x| (0..=64).contains(&x));
        if !small(&strides, 2) || strides.contains(&0) || !small(&pads, 4) || !small(&extra, 2) {
            return Err(unsupported(
                node,
                &format!("strides {strides:?}, pads {pads:?}, output_padding {extra:?} out of range"),
            ));
        }
        // Every attribute is in [0, 64] (checked above); the kernel comes from the weight's
        // dims, which a weight with a zero dimension elsewhere does not bound: checked sums.
        let u = |x: i64| x as usize;
        let size = |n: usize, s: i64, k: usize, p0: i64, p1: i64, e: i64| {
            (n.checked_sub(1)?.checked_mul(u(s))?.checked_add(k)?.checked_add(u(e))?)
                .checked_sub(u(p0) + u(p1))
                .filter(|&v| v > 0)
        };
        let (Some(oh), Some(ow)) = (
            size(ih, strides[0], kh, pads[0], pads[2], extra[0]),
            size(iw, strides[1], kw, pads[1], pads[3], extra[1]),
        ) else {
            return Err(unsupported(node, "padding removes the whole output"));
        };
        let op = LinearOp::ConvTranspose {
            input: (cin, ih, iw),
            output: (cout, oh, ow),
            kernel: (kh, kw),
            stride: (u(strides[0]), u(strides[1])),
            pad: (u(pads[0]), u(pads[1])),
        };
        // Saturating: a weight with a zero dimension may claim any kernel; the model check
        // then refuses its zero size instead of this product overflowing.
        Ok((op, w, cin.saturating_mul(kh).saturating_mul(kw)))
    }

    /// The clamp range of a fused Relu or Clip at `fy` output frac bits.
    fn activation(&self, node: &NodeProto, fy: u32) -> Result<(i64, i64), OnnxError> {
        let (min, max) = if node.op_type == "Relu" {
            (0.0, f32::INFINITY)
        } else {
            let bound = |i: usize, name: &str, default: f32| -> Result<f32, OnnxError> {
                if let Some(input) = node.input.get(i).filter(|s| !s.is_empty()) {
                    let t = self.constants.get(input.as_str()).ok_or_else(|| {
                        unsupported(node, &format!("{name} `{input}` must be a constant"))
                    })?;
                    match floats(t) {
                        Some(v) if v.len() == 1 => Ok(v[0]),
                        _ => Err(bad_tensor(node, i, "is not a float32 scalar")),
                    }
                } else {
                    Ok(attr(node, name).map_or(default, |a| a.f))
                }
            };
            (bound(1, "min", f32::NEG_INFINITY)?, bound(2, "max", f32::INFINITY)?)
        };
        let scale = f64::from(2u32.pow(fy));
        let (lo_type, hi_type) = if min >= 0.0 { (0, 255) } else { (-128, 127) };
        let lo = (f64::from(min) * scale).ceil().max(lo_type as f64) as i64;
        let hi = (f64::from(max) * scale).floor().min(hi_type as f64) as i64;
        if lo > hi {
            return Err(unsupported(node, &format!("clip range [{min}, {max}] is empty at 2^-{fy}")));
        }
        Ok((lo, hi))
    }

    /// Reshape and Flatten only relabel the batch-1 row-major data.
    fn reshape(&self, node: &NodeProto, shape: Shape) -> Result<Shape, OnnxError> {
        let n = shape.len();
        if node.op_type == "Flatten" {
            return Ok(Shape::Flat(n));
        }
        let target = node
            .input
            .get(1)
            .and_then(|name| self.constants.get(name.as_str()))
            .ok_or_else(|| unsupported(node, "the target shape must be a constant"))?;
        let mut dims: Vec<i64> = int64s(target).ok_or_else(|| bad_tensor(node, 1, "is not int64"))?;
        // 0 copies the input dimension (the batch, 1), -1 takes what is left.
        let input_dims: Vec<usize> = std::iter::once(1).chain(shape.dims()).collect();
        for (i, d) in dims.iter_mut().enumerate() {
            if *d == 0 {
                *d = input_dims.get(i).map_or(0, |&v| v as i64);
            }
        }
        // Checked: a product past `n` values cannot be the reshape of `n` values anyway.
        let known = dims.iter().filter(|&&d| d != -1).try_fold(1i64, |a, &d| a.checked_mul(d)).unwrap_or(-1);
        let free = dims.iter().filter(|&&d| d == -1).count();
        if free > 1 || known <= 0 || dims.iter().any(|&d| d < -1) {
            return Err(unsupported(node, &format!("cannot reshape to {dims:?}")));
        }
        for d in dims.iter_mut().filter(|d| **d == -1) {
            *d = n as i64 / known;
        }
        if dims.iter().try_fold(1i64, |a, &d| a.checked_mul(d)) != Some(n as i64) {
            return Err(unsupported(node, &format!("cannot reshape {n} values to {dims:?}")));
        }
        let body: Vec<usize> = match dims.split_first() {
            Some((1, rest)) => rest.iter().map(|&d| d as usize).collect(),
            _ => dims.iter().map(|&d| d as usize).collect(),
        };
        match body.as_slice() {
            [n] => Ok(Shape::Flat(*n)),
            [c, h, w] => Ok(Shape::Chw(*c, *h, *w)),
            _ => Err(unsupported(node, &format!("reshape to {dims:?} (only [1, N] and [1, C, H, W])"))),
        }
    }

    /// A constant float32 input of `node`: dims and values.
    fn float_input(&self, node: &NodeProto, i: usize) -> Result<(Vec<usize>, Vec<f32>), OnnxError> {
        let name = node.input.get(i).ok_or_else(|| unsupported(node, &format!("input {i} is missing")))?;
        let t = self
            .constants
            .get(name.as_str())
            .ok_or_else(|| unsupported(node, &format!("input `{name}` must be a constant (an initializer)")))?;
        let dims: Vec<usize> = t.dims.iter().map(|&d| usize::try_from(d).unwrap_or(usize::MAX)).collect();
        let values = floats(t).ok_or_else(|| bad_tensor(node, i, "is not float32 data"))?;
        let count = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if count != Some(values.len()) {
            return Err(bad_tensor(node, i, &format!("has {} values for shape {dims:?}", values.len())));
        }
        Ok((dims, values))
    }
}

// tract's own `Tensor::try_from(&TensorProto)` panics on unknown data types; these readers
// return `None` instead, so a corrupt file is an error, not a crash.
fn floats(t: &TensorProto) -> Option<Vec<f32>> {
    if t.data_type != pb::tensor_proto::DataType::Float as i32 {
        return None;
    }
    if t.raw_data.is_empty() {
        return Some(t.float_data.clone());
    }
    let chunks = t.raw_data.chunks_exact(4);
    chunks.remainder().is_empty().then(|| {
        chunks.map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
    })
}

fn int64s(t: &TensorProto) -> Option<Vec<i64>> {
    if t.data_type != pb::tensor_proto::DataType::Int64 as i32 {
        return None;
    }
    if t.raw_data.is_empty() {
        return Some(t.int64_data.clone());
    }
    let chunks = t.raw_data.chunks_exact(8);
    chunks.remainder().is_empty().then(|| {
        chunks.map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect()
    })
}

/// `v · 2^frac_bits` for every value, which must be an integer of magnitude below `limit`
/// (int8's -128 is allowed, +128 is not).
fn on_grid(node: &NodeProto, tensor: &str, values: &[f32], frac_bits: u32, limit: i64) -> Result<Vec<i64>, OnnxError> {
    let scale = 2f64.powi(frac_bits as i32);
    values
        .iter()
        .enumerate()
        .map(|(index, &value)| {
            let q = f64::from(value) * scale;
            if q.fract() == 0.0 && q >= -(limit as f64) && q < limit as f64 {
                Ok(q as i64)
            } else {
                Err(OnnxError::OffGrid {
                    node: node.name.clone(),
                    tensor: tensor.into(),
                    index,
                    value,
                    frac_bits,
                })
            }
        })
        .collect()
}

fn attr<'n>(node: &'n NodeProto, name: &str) -> Option<&'n AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

fn unsupported(node: &NodeProto, what: &str) -> OnnxError {
    OnnxError::Unsupported { node: node.name.clone(), op: node.op_type.clone(), what: what.into() }
}

fn bad_tensor(node: &NodeProto, i: usize, what: &str) -> OnnxError {
    OnnxError::BadTensor {
        node: node.name.clone(),
        op: node.op_type.clone(),
        tensor: node.input.get(i).cloned().unwrap_or_default(),
        what: what.into(),
    }
}
