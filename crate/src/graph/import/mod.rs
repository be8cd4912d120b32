//! Float ONNX → [`FloatGraph`]. tract-onnx parses the protobuf; this module reads each node
//! into the graph's node kinds with static shapes, and [`check_with_tract`] runs the same
//! file through tract's own float inference to confirm the reading.
//!
//! Supported: Gemm, MatMul (a constant or a computed right operand), Conv (2-D; stride, padding incl.
//! auto_pad, dilation, groups), ConvTranspose (2-D, group 1, dilation 1), BatchNormalization,
//! Relu, LeakyRelu, Clip, Sigmoid, Tanh, Erf, Gelu, HardSigmoid, HardSwish, Exp, Softplus, Sqrt,
//! Reciprocal, Log, Neg, Add/Sub/Mul/Div (two tensors with broadcasting — a division needs a
//! positive divisor —, or a constant of any broadcastable shape), Pow (a constant exponent), Softmax,
//! LogSoftmax, LayerNormalization, ReduceMean/ReduceSum/ReduceMax/ReduceMin, Gather (constant
//! indices, or a constant table of at most 256 rows at computed indices: an embedding), Slice,
//! Split, Expand, Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat, MaxPool,
//! AveragePool, GlobalAveragePool, Pad (constant), Resize/Upsample (nearest; linear), Identity,
//! Dropout, Cast (to float), Constant — and any node that reads only constants, or `Shape`,
//! which is evaluated at import time (`fold.rs`). Anything else is refused naming the node, the
//! op and what is missing. There is no cap on the opset or IR version: an operator is read by
//! its attributes and inputs, whichever opset placed them (the opset-13/18 moves of `axes`
//! from attribute to input are read both ways). Graph inputs are float32, or int64/int32 (token
//! ids: their values are read as the integers they are).
//!
//! One operator family per file: `fold` (constant folding), `activation`, `linear`, `window`,
//! `reduce`, `normalize` (Softmax, LogSoftmax, LayerNormalization), `gather` (indexing and
//! embeddings), `rewire`, `resize` (linear), `external` (side files).

use std::collections::HashMap;

use tract_onnx::pb::{self, AttributeProto, NodeProto, TensorProto};
use tract_onnx::prelude::*;

use super::float::{FloatGraph, FloatNode, FloatOp, FloatTensor, Func};
use super::quantize::ScaleHints;
use super::Geometry;

/// The metadata key of models trained on a power-of-two grid (the committed generator's
/// training code writes it): JSON
/// `{"format": "section9-pow2-v1", "input": {"name", "frac_bits"}, "layers": [{"node",
/// "weight_frac_bits", "output_frac_bits"}]}`. Calibration then keeps the trained scales, so
/// the compiled graph is exactly the integer model training simulated.
pub const HINTS_KEY: &str = "section9.quantization";
/// The metadata key of a conditioned generator's text encoder ([`crate::prompt::Words`]).
pub const PROMPT_KEY: &str = "section9.prompt";
const HINTS_FORMAT: &str = "section9-pow2-v1";

/// The most values one tensor may hold. Far above what a circuit can prove (2^22 values need
/// k > 22), it caps what a hostile shape can make the importer allocate.
pub const MAX_ELEMENTS: usize = 1 << 22;

/// The number of values of `shape`, when it is at most [`MAX_ELEMENTS`] (no overflow on the way:
/// a zero anywhere makes the product zero before a large dimension can overflow it).
fn elements(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).filter(|&n| n <= MAX_ELEMENTS)
}

/// An ONNX axis (negative counts from the end) as an index below `rank`.
fn axis_index(a: i64, rank: usize) -> Option<usize> {
    let r = i64::try_from(rank).ok()?;
    let a = if a < 0 { a.checked_add(r)? } else { a };
    usize::try_from(a).ok().filter(|&a| a < rank)
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    #[error("not a readable ONNX model")]
    Parse(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the ONNX model has no graph")]
    NoGraph,
    #[error("graph input `{name}`: {what}")]
    Input { name: String, what: String },
    #[error("node `{node}` ({op}): {what}")]
    Unsupported { node: String, op: String, what: String },
    #[error("graph output `{0}` is not computed by any supported node")]
    Output(String),
    #[error("the compiler's reading of the model disagrees with tract on output {output}: {ours} vs {theirs} at index {index}")]
    Mismatch { output: usize, index: usize, ours: f64, theirs: f32 },
    #[error("tract could not run the model")]
    Tract(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the `{HINTS_KEY}` metadata (trained scales) is not valid: {0}")]
    Hints(String),
    #[error("the `{PROMPT_KEY}` metadata (the prompt's vocabulary) is not valid: {0}")]
    Prompt(#[from] crate::prompt::WordsError),
}

/// A model read from ONNX: the float graph and any scales it fixes itself.
pub struct Imported {
    pub graph: FloatGraph,
    pub hints: ScaleHints,
    /// A generator's text encoder (the [`PROMPT_KEY`] metadata).
    pub prompt: Option<crate::prompt::Words>,
}

/// A constant tensor: both readings of its values (shape arithmetic reads `ints`, weights read
/// `floats`); `int` says which one is its own (integer and boolean element types).
#[derive(Clone, Debug)]
struct Const {
    dims: Vec<usize>,
    floats: Vec<f32>,
    ints: Vec<i64>,
    int: bool,
}

impl Const {
    fn from_floats(dims: Vec<usize>, floats: Vec<f32>) -> Const {
        let ints = floats.iter().map(|&v| v as i64).collect();
        Const { dims, floats, ints, int: false }
    }

    fn from_ints(dims: Vec<usize>, ints: Vec<i64>) -> Const {
        let floats = ints.iter().map(|&v| v as f32).collect();
        Const { dims, floats, ints, int: true }
    }

    /// The values at `sources` (flat indices into `self`), as a tensor of shape `dims`.
    fn pick(&self, dims: Vec<usize>, sources: &[usize]) -> Const {
        if self.int {
            Const::from_ints(dims, sources.iter().map(|&i| self.ints[i]).collect())
        } else {
            Const::from_floats(dims, sources.iter().map(|&i| self.floats[i]).collect())
        }
    }
}

struct Reader {
    /// The default domain's opset (Softmax changed its axis semantics at 13).
    opset: i64,
    graph: FloatGraph,
    names: HashMap<String, usize>,
    constants: HashMap<String, Const>,
    /// Tensors with a −∞ attention mask added, and the positions it hides: only a Softmax
    /// may read them.
    masks: HashMap<usize, Vec<bool>>,
}

/// Reads an ONNX model.
pub fn import(bytes: &[u8]) -> Result<Imported, ImportError> {
    let proto = tract_onnx::onnx().proto_model_for_read(&mut &bytes[..]).map_err(|e| ImportError::Parse(e.into()))?;
    let g = proto.graph.as_ref().ok_or(ImportError::NoGraph)?;
    let opset = proto.opset_import.iter().find(|o| o.domain.is_empty() || o.domain == "ai.onnx").map_or(13, |o| o.version);
    let mut r = Reader { opset, graph: FloatGraph::default(), names: HashMap::new(), constants: HashMap::new(), masks: HashMap::new() };
    for t in &g.initializer {
        r.constants.insert(t.name.clone(), read_const(t).map_err(|what| ImportError::Input { name: t.name.clone(), what: format!("initializer {what}") })?);
    }
    let inputs: Vec<&pb::ValueInfoProto> = g.input.iter().filter(|i| !r.constants.contains_key(&i.name)).collect();
    for input in inputs {
        let shape = input_shape(input)?;
        let id = r.tensor(&input.name, shape);
        r.graph.inputs.push(id);
    }
    if r.graph.inputs.is_empty() {
        return Err(ImportError::Input { name: String::new(), what: "the graph has no non-constant input".into() });
    }
    for node in &g.node {
        r.node(node)?;
    }
    for o in &g.output {
        let id = *r.names.get(&o.name).ok_or_else(|| ImportError::Output(o.name.clone()))?;
        if r.masks.contains_key(&id) {
            return Err(ImportError::Unsupported { node: o.name.clone(), op: "Add".into(), what: "a graph output holds −∞ (an attention mask that no Softmax reads)".into() });
        }
        r.graph.outputs.push(id);
    }
    r.graph.simplify();
    Ok(Imported { graph: r.graph, hints: hints(&proto)?, prompt: prompt_words(&proto)? })
}

/// Runs tract on `samples` and compares with the float graph's outputs (relative tolerance
/// 1e-3 of each output's largest magnitude, plus 1e-5).
pub fn check_with_tract(bytes: &[u8], graph: &FloatGraph, samples: &[Vec<Vec<f64>>]) -> Result<(), ImportError> {
    let tract_err = |e: TractError| ImportError::Tract(e.into());
    // Declared intermediate and output shapes may name a symbolic batch that the inputs now
    // fix to 1: tract infers them from the inputs instead.
    let onnx = tract_onnx::onnx().with_ignore_output_shapes(true).with_ignore_value_info(true);
    let mut model = onnx.model_for_read(&mut &bytes[..]).map_err(tract_err)?;
    let integer = integer_inputs(bytes, graph)?;
    for (i, &t) in graph.inputs.iter().enumerate() {
        let shape = graph.tensors[t].shape.clone();
        let fact = if integer[i] { i64::fact(&shape) } else { f32::fact(&shape) };
        model = model.with_input_fact(i, fact.into()).map_err(tract_err)?;
    }

    let plan = model.into_optimized().map_err(tract_err)?.into_runnable().map_err(tract_err)?;
    for sample in samples {
        let inputs: TVec<TValue> = graph
            .inputs
            .iter()
            .zip(sample)
            .zip(&integer)
            .map(|((&t, v), &integer)| {
                let shape = &graph.tensors[t].shape;
                if integer {
                    let data: Vec<i64> = v.iter().map(|&x| x.round() as i64).collect();
                    Tensor::from_shape(shape, &data).map(|t| t.into())
                } else {
                    let data: Vec<f32> = v.iter().map(|&x| x as f32).collect();
                    Tensor::from_shape(shape, &data).map(|t| t.into())
                }
            })
            .collect::<TractResult<_>>()
            .map_err(tract_err)?;
        let theirs = plan.run(inputs).map_err(tract_err)?;
        let values = graph.forward(sample);
        for (k, (&o, t)) in graph.outputs.iter().zip(theirs.iter()).enumerate() {
            let t = t.to_plain_array_view::<f32>().map_err(tract_err)?;
            let ours = &values[o];
            let peak = ours.iter().fold(0f64, |m, v| m.max(v.abs()));
            for (index, (a, &b)) in ours.iter().zip(t.iter()).enumerate() {
                if (a - f64::from(b)).abs() > 1e-3 * peak + 1e-5 {
                    return Err(ImportError::Mismatch { output: k, index, ours: *a, theirs: b });
                }
            }
        }
    }
    Ok(())
}

/// Whether each input of `graph` is an integer (int64 or int32) input of the model.
fn integer_inputs(bytes: &[u8], graph: &FloatGraph) -> Result<Vec<bool>, ImportError> {
    let proto = tract_onnx::onnx().proto_model_for_read(&mut &bytes[..]).map_err(|e| ImportError::Parse(e.into()))?;
    let g = proto.graph.as_ref().ok_or(ImportError::NoGraph)?;
    Ok(graph
        .inputs
        .iter()
        .map(|&t| g.input.iter().find(|i| i.name == graph.tensors[t].name).is_some_and(|i| elem_type(i).is_some_and(is_integer)))
        .collect())
}

fn elem_type(input: &pb::ValueInfoProto) -> Option<i32> {
    let pb::type_proto::Value::TensorType(t) = input.r#type.as_ref()?.value.as_ref()?;
    Some(t.elem_type)
}

fn is_integer(elem_type: i32) -> bool {
    use pb::tensor_proto::DataType;
    elem_type == DataType::Int64 as i32 || elem_type == DataType::Int32 as i32
}

/// The text encoder in the model's metadata, if any (checked against the graph when compiled).
fn prompt_words(proto: &pb::ModelProto) -> Result<Option<crate::prompt::Words>, ImportError> {
    let Some(entry) = proto.metadata_props.iter().find(|p| p.key == PROMPT_KEY) else { return Ok(None) };
    Ok(Some(crate::prompt::Words::from_json(&entry.value)?))
}

/// The trained scales, if the model carries them. A model that carries the entry but not in
/// the form this version reads is refused: its scales would otherwise be silently recalibrated.
fn hints(proto: &pb::ModelProto) -> Result<ScaleHints, ImportError> {
    #[derive(serde::Deserialize)]
    struct Meta {
        format: String,
        input: MetaInput,
        layers: Vec<MetaLayer>,
    }
    #[derive(serde::Deserialize)]
    struct MetaInput {
        name: String,
        frac_bits: i32,
    }
    #[derive(serde::Deserialize)]
    struct MetaLayer {
        node: String,
        weight_frac_bits: i32,
        output_frac_bits: i32,
    }
    let mut hints = ScaleHints::default();
    let Some(entry) = proto.metadata_props.iter().find(|p| p.key == HINTS_KEY) else { return Ok(hints) };
    let m: Meta = serde_json::from_str(&entry.value).map_err(|e| ImportError::Hints(e.to_string()))?;
    if m.format != HINTS_FORMAT {
        return Err(ImportError::Hints(format!("format `{}`, this version reads `{HINTS_FORMAT}`", m.format)));
    }
    let frac = |f: i32| (-32..=32).contains(&f);
    if !frac(m.input.frac_bits) || m.layers.iter().any(|l| !frac(l.weight_frac_bits) || !frac(l.output_frac_bits)) {
        return Err(ImportError::Hints("frac bits must lie in [-32, 32]".into()));
    }
    hints.inputs.insert(m.input.name, m.input.frac_bits);
    for l in m.layers {
        hints.nodes.insert(l.node, (l.weight_frac_bits, l.output_frac_bits));
    }
    Ok(hints)
}

fn input_shape(input: &pb::ValueInfoProto) -> Result<Vec<usize>, ImportError> {
    let bad = |what: String| ImportError::Input { name: input.name.clone(), what };
    let Some(pb::type_proto::Value::TensorType(t)) = input.r#type.as_ref().and_then(|t| t.value.as_ref()) else {
        return Err(bad("is not a tensor".into()));
    };
    if t.elem_type != pb::tensor_proto::DataType::Float as i32 && !is_integer(t.elem_type) {
        return Err(bad("element type is not float32, int64 or int32".into()));
    }
    let dims = &t.shape.as_ref().ok_or_else(|| bad("has no shape".into()))?.dim;
    dims.iter()
        .enumerate()
        .map(|(i, d)| match d.value {
            Some(pb::tensor_shape_proto::dimension::Value::DimValue(v)) if v > 0 => usize::try_from(v).map_err(|_| bad(format!("dimension {i} is too large"))),
            // A symbolic leading dimension is the batch: one sample per proof.
            _ if i == 0 => Ok(1),
            _ => Err(bad(format!("dimension {i} is not static"))),
        })
        .collect::<Result<Vec<usize>, _>>()
        .and_then(|shape| match elements(&shape) {
            Some(_) => Ok(shape),
            None => Err(bad(format!("shape {shape:?} has more than {MAX_ELEMENTS} values"))),
        })
}

fn read_const(t: &TensorProto) -> Result<Const, String> {
    use pb::tensor_proto::DataType;
    if t.data_location == Some(pb::tensor_proto::DataLocation::External as i32) {
        return Err("is stored in an external data file beside the model: compile the model from its file (`section9 compile model.onnx` reads the side file), or inline it first (`inline_external_data`)".into());
    }
    let dims: Vec<usize> = t.dims.iter().map(|&d| usize::try_from(d)).collect::<Result<_, _>>().map_err(|_| format!("has a negative dimension in {:?}", t.dims))?;
    let n = elements(&dims).ok_or_else(|| format!("of shape {dims:?} has more than {MAX_ELEMENTS} values"))?;
    let raw = |n: usize| t.raw_data.chunks_exact(n);
    let int = t.data_type != DataType::Float as i32;
    let (floats, ints): (Vec<f32>, Vec<i64>) = match t.data_type {
        x if x == DataType::Float as i32 => {
            let f: Vec<f32> = if t.raw_data.is_empty() { t.float_data.clone() } else { raw(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect() };
            (f.clone(), f.iter().map(|&v| v as i64).collect())
        }
        x if x == DataType::Int64 as i32 => {
            let i: Vec<i64> = if t.raw_data.is_empty() { t.int64_data.clone() } else { raw(8).map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])).collect() };
            (i.iter().map(|&v| v as f32).collect(), i)
        }
        x if x == DataType::Int32 as i32 => {
            let i: Vec<i64> = if t.raw_data.is_empty() { t.int32_data.iter().map(|&v| i64::from(v)).collect() } else { raw(4).map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect() };
            (i.iter().map(|&v| v as f32).collect(), i)
        }
        x if x == DataType::Bool as i32 => {
            let i: Vec<i64> = if t.raw_data.is_empty() { t.int32_data.iter().map(|&v| i64::from(v != 0)).collect() } else { t.raw_data.iter().map(|&v| i64::from(v != 0)).collect() };
            (i.iter().map(|&v| v as f32).collect(), i)
        }
        other => return Err(format!("of element type {other} (not float32, int64, int32 or bool)")),
    };
    if floats.len() != n {
        return Err(format!("holds {} values for shape {dims:?}", floats.len()));
    }
    Ok(Const { dims, floats, ints, int })
}

fn attr<'n>(node: &'n NodeProto, name: &str) -> Option<&'n AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

fn attr_int(node: &NodeProto, name: &str, default: i64) -> i64 {
    attr(node, name).map_or(default, |a| a.i)
}

fn attr_float(node: &NodeProto, name: &str, default: f32) -> f32 {
    attr(node, name).map_or(default, |a| a.f)
}

fn attr_ints(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(node, name).map(|a| a.ints.clone())
}

fn attr_str(node: &NodeProto, name: &str, default: &str) -> String {
    attr(node, name).map_or(default.to_string(), |a| String::from_utf8_lossy(&a.s).into_owned())
}

fn strides_of(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// Index of `coords` in a row-major tensor of `shape`.
fn flat(coords: &[usize], shape: &[usize]) -> usize {
    coords.iter().zip(strides_of(shape)).map(|(c, s)| c * s).sum()
}

fn unflat(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut c = vec![0; shape.len()];
    for a in (0..shape.len()).rev() {
        c[a] = i % shape[a].max(1);
        i /= shape[a].max(1);
    }
    c
}

/// Numpy broadcasting of two shapes.
fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    (0..n)
        .map(|i| {
            let x = if i + a.len() >= n { a[i + a.len() - n] } else { 1 };
            let y = if i + b.len() >= n { b[i + b.len() - n] } else { 1 };
            match (x, y) {
                (x, y) if x == y => Some(x),
                (1, y) => Some(y),
                (x, 1) => Some(x),
                _ => None,
            }
        })
        .collect()
}

/// Sources that expand a tensor of shape `from` to `to` by broadcasting.
fn broadcast_sources(from: &[usize], to: &[usize]) -> Vec<Option<(usize, usize)>> {
    let lead = to.len() - from.len();
    (0..to.iter().product())
        .map(|i| {
            let c = unflat(i, to);
            let src: Vec<usize> = from.iter().enumerate().map(|(a, &d)| if d == 1 { 0 } else { c[a + lead] }).collect();
            Some((0, flat(&src, from)))
        })
        .collect()
}

/// The number of values of an output shape, or the error naming the node when it is empty or
/// above [`MAX_ELEMENTS`]. Called before anything of that size is allocated.
fn count(node: &NodeProto, name: &str, shape: &[usize]) -> Result<usize, ImportError> {
    let what = match elements(shape) {
        Some(0) => format!("output shape {shape:?} has no elements (zero-size tensors are not supported)"),
        Some(n) => return Ok(n),
        None => format!("output shape {shape:?} has more than {MAX_ELEMENTS} values"),
    };
    Err(ImportError::Unsupported { node: name.to_string(), op: node.op_type.clone(), what })
}

impl Reader {
    fn tensor(&mut self, name: &str, shape: Vec<usize>) -> usize {
        let id = self.graph.tensors.len();
        self.graph.tensors.push(FloatTensor { name: name.to_string(), shape });
        self.names.insert(name.to_string(), id);
        id
    }

    /// Input `i` of `node` when it is a computed tensor.
    fn var(&self, node: &NodeProto, i: usize) -> Option<usize> {
        node.input.get(i).and_then(|n| self.names.get(n)).copied()
    }

    /// Input `i` of `node` when it is a constant.
    fn cst(&self, node: &NodeProto, i: usize) -> Option<&Const> {
        node.input.get(i).filter(|n| !n.is_empty()).and_then(|n| self.constants.get(n))
    }

    fn shape(&self, id: usize) -> Vec<usize> {
        self.graph.tensors[id].shape.clone()
    }

    fn push(&mut self, node: &NodeProto, name: &str, op: FloatOp, inputs: Vec<usize>, out_name: &str, shape: Vec<usize>) -> Result<usize, ImportError> {
        count(node, name, &shape)?;
        let output = self.tensor(out_name, shape);
        self.graph.nodes.push(FloatNode { name: name.to_string(), source_op: node.op_type.clone(), op, inputs, output });
        Ok(output)
    }

    fn node(&mut self, node: &NodeProto) -> Result<(), ImportError> {
        let out_name = node.output.first().cloned().unwrap_or_default();
        let name = if node.name.is_empty() { out_name.clone() } else { node.name.clone() };
        let err = |what: &str| ImportError::Unsupported { node: name.clone(), op: node.op_type.clone(), what: what.to_string() };
        let op = node.op_type.as_str();
        if op == "Constant" {
            let t = attr(node, "value").and_then(|a| a.t.as_ref()).ok_or_else(|| err("only tensor-valued constants (`value`) are supported"))?;
            let c = read_const(t).map_err(|what| err(&format!("constant {what}")))?;
            self.constants.insert(node.output.first().cloned().unwrap_or_default(), c);
            return Ok(());
        }
        if !node.domain.is_empty() && node.domain != "ai.onnx" {
            return Err(err(&format!("operator domain `{}` is not supported", node.domain)));
        }
        // Shape arithmetic and constants computed from constants are evaluated here, once.
        if self.fold(node, &name, &err)? {
            return Ok(());
        }
        if op == "Split" {
            return self.split(node, &name, &err);
        }
        if node.output.iter().skip(1).any(|o| !o.is_empty()) && !matches!(op, "Dropout") {
            return Err(err("only the first output is supported"));
        }
        // Inputs that are computed tensors (not constants).
        let var = |i: usize| node.input.get(i).and_then(|n| self.names.get(n)).copied();
        let cst = |i: usize| node.input.get(i).filter(|n| !n.is_empty()).and_then(|n| self.constants.get(n));
        if let Some(&empty) = node.input.iter().filter_map(|n| self.names.get(n)).find(|&&t| self.graph.tensors[t].is_empty()) {
            return Err(err(&format!("input `{}` has no elements (zero-size tensors are not supported)", self.graph.tensors[empty].name)));
        }
        if op != "Softmax" && node.input.iter().filter_map(|n| self.names.get(n)).any(|t| self.masks.contains_key(t)) {
            return Err(err("reads a tensor with a −∞ attention mask added; such a mask must feed a Softmax directly"));
        }
        let x = var(0);
        match op {
            "Identity" | "Dropout" | "Cast" | "Reshape" | "Flatten" | "Squeeze" | "Unsqueeze" | "Transpose" | "Concat" | "Pad" | "Upsample" => {
                self.rewire(node, &name, &out_name, &err)?
            }
            "Resize" if attr_str(node, "mode", "nearest") == "linear" => self.resize_linear(node, &name, &out_name, &err)?,
            "Resize" => self.rewire(node, &name, &out_name, &err)?,
            "Gather" | "Slice" | "Expand" => self.gather(node, &name, &out_name, &err)?,
            "ReduceMean" | "ReduceSum" | "ReduceMax" | "ReduceMin" => self.reduce(node, &name, &out_name, &err)?,
            "Relu" | "LeakyRelu" | "Sigmoid" | "Tanh" | "Clip" | "Erf" | "Gelu" | "HardSigmoid" | "HardSwish" | "Exp" | "Softplus" | "Sqrt" | "Reciprocal" | "Log" | "Neg" => {
                self.activation(node, &name, &out_name, &err)?
            }
            "Softmax" | "LogSoftmax" | "LayerNormalization" => self.normalize(node, &name, &out_name, &err)?,
            "Gemm" => self.gemm(node, &name, &out_name, &err)?,
            "MatMul" => self.matmul(node, &name, &out_name, &err)?,
            "Conv" | "ConvTranspose" | "MaxPool" | "AveragePool" | "GlobalAveragePool" => self.window(node, &name, &out_name, &err)?,
            "BatchNormalization" => {
                let x = x.ok_or_else(|| err("the input must be a computed tensor"))?;
                let p: Vec<&Const> = (1..5).map(|i| cst(i).ok_or_else(|| err("scale, bias, mean and variance must be constants"))).collect::<Result<_, _>>()?;
                if node.output.iter().skip(1).any(|o| !o.is_empty()) || attr_int(node, "training_mode", 0) != 0 {
                    return Err(err("training mode is not supported"));
                }
                let eps = f64::from(attr_float(node, "epsilon", 1e-5));
                let w: Vec<f32> = p[0].floats.iter().zip(&p[3].floats).map(|(&s, &v)| (f64::from(s) / (f64::from(v) + eps).sqrt()) as f32).collect();
                let b: Vec<f32> = p[1].floats.iter().zip(&p[2].floats).zip(&w).map(|((&b, &m), &w)| b - m * w).collect();
                self.channel_affine(node, &name, &out_name, x, w, b, &err)?;
            }
            "Add" | "Sub" | "Mul" | "Div" | "Pow" => self.binary(node, &name, &out_name, &err)?,
            _ => return Err(err("operator not supported")),
        }
        Ok(())
    }
}

mod activation;
mod external;
mod fold;
mod gather;
mod linear;
mod normalize;
mod reduce;
mod resize;
mod rewire;
mod window;

pub use external::inline_external_data;
