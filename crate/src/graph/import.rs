//! Float ONNX → [`FloatGraph`]. tract-onnx parses the protobuf; this module reads each node
//! into the graph's node kinds with static shapes, and [`check_with_tract`] runs the same
//! file through tract's own float inference to confirm the reading.
//!
//! Supported: Gemm, MatMul (constant right operand), Conv (2-D; stride, padding incl.
//! auto_pad, dilation, groups), ConvTranspose (2-D, group 1, dilation 1), BatchNormalization,
//! Relu, LeakyRelu, Clip, Sigmoid, Tanh, Add/Sub/Mul/Div (two tensors with broadcasting, or a
//! scalar or per-channel constant), Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat,
//! MaxPool, AveragePool, GlobalAveragePool, Pad (constant zero), Resize/Upsample (nearest),
//! Identity, Dropout, Constant. Anything else is refused naming the node, the op and what is
//! missing.

use std::collections::HashMap;

use tract_onnx::pb::{self, AttributeProto, NodeProto, TensorProto};
use tract_onnx::prelude::*;

use super::float::{FloatGraph, FloatNode, FloatOp, FloatTensor, Func};
use super::quantize::ScaleHints;
use super::Geometry;

/// The metadata key of models exported on a power-of-two grid (see [`crate::model::onnx`]).
const HINTS_KEY: &str = crate::model::onnx::METADATA_KEY;

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
}

/// A model read from ONNX: the float graph and any scales it fixes itself.
pub struct Imported {
    pub graph: FloatGraph,
    pub hints: ScaleHints,
}

#[derive(Clone, Debug)]
struct Const {
    dims: Vec<usize>,
    floats: Vec<f32>,
    ints: Vec<i64>,
}

struct Reader {
    graph: FloatGraph,
    names: HashMap<String, usize>,
    constants: HashMap<String, Const>,
}

/// Reads an ONNX model.
pub fn import(bytes: &[u8]) -> Result<Imported, ImportError> {
    let proto = tract_onnx::onnx().proto_model_for_read(&mut &bytes[..]).map_err(|e| ImportError::Parse(e.into()))?;
    let g = proto.graph.as_ref().ok_or(ImportError::NoGraph)?;
    let mut r = Reader { graph: FloatGraph::default(), names: HashMap::new(), constants: HashMap::new() };
    for t in &g.initializer {
        r.constants.insert(t.name.clone(), read_const(t).ok_or_else(|| ImportError::Input { name: t.name.clone(), what: "initializer of an unsupported element type".into() })?);
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
        r.graph.outputs.push(id);
    }
    r.graph.simplify();
    Ok(Imported { graph: r.graph, hints: hints(&proto) })
}

/// Runs tract on `samples` and compares with the float graph's outputs (relative tolerance
/// 1e-3 of each output's largest magnitude, plus 1e-5).
pub fn check_with_tract(bytes: &[u8], graph: &FloatGraph, samples: &[Vec<Vec<f64>>]) -> Result<(), ImportError> {
    let tract_err = |e: TractError| ImportError::Tract(e.into());
    let mut model = tract_onnx::onnx().model_for_read(&mut &bytes[..]).map_err(tract_err)?;
    for (i, &t) in graph.inputs.iter().enumerate() {
        let shape = graph.tensors[t].shape.clone();
        model = model.with_input_fact(i, f32::fact(&shape).into()).map_err(tract_err)?;
    }
    let plan = model.into_optimized().map_err(tract_err)?.into_runnable().map_err(tract_err)?;
    for sample in samples {
        let inputs: TVec<TValue> = graph
            .inputs
            .iter()
            .zip(sample)
            .map(|(&t, v)| {
                let data: Vec<f32> = v.iter().map(|&x| x as f32).collect();
                Tensor::from_shape(&graph.tensors[t].shape, &data).map(|t| t.into())
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

fn hints(proto: &pb::ModelProto) -> ScaleHints {
    #[derive(serde::Deserialize)]
    struct Meta {
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
    let meta = proto.metadata_props.iter().find(|p| p.key == HINTS_KEY).and_then(|p| serde_json::from_str::<Meta>(&p.value).ok());
    if let Some(m) = meta {
        hints.inputs.insert(m.input.name, m.input.frac_bits);
        for l in m.layers {
            hints.nodes.insert(l.node, (l.weight_frac_bits, l.output_frac_bits));
        }
    }
    hints
}

fn input_shape(input: &pb::ValueInfoProto) -> Result<Vec<usize>, ImportError> {
    let bad = |what: String| ImportError::Input { name: input.name.clone(), what };
    let Some(pb::type_proto::Value::TensorType(t)) = input.r#type.as_ref().and_then(|t| t.value.as_ref()) else {
        return Err(bad("is not a tensor".into()));
    };
    if t.elem_type != pb::tensor_proto::DataType::Float as i32 {
        return Err(bad("element type is not float32".into()));
    }
    let dims = &t.shape.as_ref().ok_or_else(|| bad("has no shape".into()))?.dim;
    dims.iter()
        .enumerate()
        .map(|(i, d)| match d.value {
            Some(pb::tensor_shape_proto::dimension::Value::DimValue(v)) if v > 0 => Ok(v as usize),
            // A symbolic leading dimension is the batch: one sample per proof.
            _ if i == 0 => Ok(1),
            _ => Err(bad(format!("dimension {i} is not static"))),
        })
        .collect()
}

fn read_const(t: &TensorProto) -> Option<Const> {
    use pb::tensor_proto::DataType;
    let dims: Vec<usize> = t.dims.iter().map(|&d| d.max(0) as usize).collect();
    let raw = |n: usize| t.raw_data.chunks_exact(n);
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
        _ => return None,
    };
    let n: usize = dims.iter().product();
    (floats.len() == n).then_some(Const { dims, floats, ints })
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

impl Reader {
    fn tensor(&mut self, name: &str, shape: Vec<usize>) -> usize {
        let id = self.graph.tensors.len();
        self.graph.tensors.push(FloatTensor { name: name.to_string(), shape });
        self.names.insert(name.to_string(), id);
        id
    }

    fn shape(&self, id: usize) -> Vec<usize> {
        self.graph.tensors[id].shape.clone()
    }

    fn push(&mut self, node: &NodeProto, name: &str, op: FloatOp, inputs: Vec<usize>, out_name: &str, shape: Vec<usize>) -> usize {
        let output = self.tensor(out_name, shape);
        self.graph.nodes.push(FloatNode { name: name.to_string(), source_op: node.op_type.clone(), op, inputs, output });
        output
    }

    fn node(&mut self, node: &NodeProto) -> Result<(), ImportError> {
        let out_name = node.output.first().cloned().unwrap_or_default();
        let name = if node.name.is_empty() { out_name.clone() } else { node.name.clone() };
        let err = |what: &str| ImportError::Unsupported { node: name.clone(), op: node.op_type.clone(), what: what.to_string() };
        let op = node.op_type.as_str();
        if op == "Constant" {
            let t = attr(node, "value").and_then(|a| a.t.as_ref()).ok_or_else(|| err("only tensor-valued constants (`value`) are supported"))?;
            let c = read_const(t).ok_or_else(|| err("constant of an unsupported element type"))?;
            self.constants.insert(node.output.first().cloned().unwrap_or_default(), c);
            return Ok(());
        }
        if !node.domain.is_empty() && node.domain != "ai.onnx" {
            return Err(err(&format!("operator domain `{}` is not supported", node.domain)));
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
        let x = var(0);
        match op {
            "Identity" | "Dropout" | "Reshape" | "Flatten" | "Squeeze" | "Unsqueeze" => {
                let x = x.ok_or_else(|| err("the data input must be a computed tensor"))?;
                let s = self.shape(x);
                let n: usize = s.iter().product();
                let shape = match op {
                    "Reshape" => {
                        let target = cst(1).ok_or_else(|| err("the target shape must be a constant"))?.ints.clone();
                        let mut known = 1usize;
                        let mut dims: Vec<Option<usize>> = Vec::new();
                        for (i, &d) in target.iter().enumerate() {
                            let v = match d {
                                0 => Some(*s.get(i).ok_or_else(|| err("0 in the target shape refers to a missing dimension"))?),
                                -1 => None,
                                d if d > 0 => Some(d as usize),
                                _ => return Err(err("negative target dimension")),
                            };
                            known *= v.unwrap_or(1);
                            dims.push(v);
                        }
                        let shape: Vec<usize> = dims.iter().map(|d| d.unwrap_or(n / known.max(1))).collect();
                        if shape.iter().product::<usize>() != n || dims.iter().filter(|d| d.is_none()).count() > 1 {
                            return Err(err(&format!("cannot reshape {s:?} to {target:?}")));
                        }
                        shape
                    }
                    "Flatten" => {
                        let axis = attr_int(node, "axis", 1);
                        let axis = if axis < 0 { axis + s.len() as i64 } else { axis } as usize;
                        let a: usize = s[..axis.min(s.len())].iter().product();
                        vec![a, n / a.max(1)]
                    }
                    "Squeeze" | "Unsqueeze" => {
                        let axes = attr_ints(node, "axes").or_else(|| cst(1).map(|c| c.ints.clone()));
                        if op == "Squeeze" {
                            let rank = s.len() as i64;
                            let axes: Vec<usize> = axes.unwrap_or_else(|| (0..rank).filter(|&a| s[a as usize] == 1).collect()).iter().map(|&a| if a < 0 { a + rank } else { a } as usize).collect();
                            s.iter().enumerate().filter(|(i, _)| !axes.contains(i)).map(|(_, &d)| d).collect()
                        } else {
                            let axes = axes.ok_or_else(|| err("axes are required"))?;
                            let rank = (s.len() + axes.len()) as i64;
                            let mut axes: Vec<usize> = axes.iter().map(|&a| if a < 0 { a + rank } else { a } as usize).collect();
                            axes.sort();
                            let mut out = s.clone();
                            for a in axes {
                                out.insert(a.min(out.len()), 1);
                            }
                            out
                        }
                    }
                    _ => s.clone(),
                };
                let sources = (0..n).map(|i| Some((0, i))).collect();
                self.push(node, &name, FloatOp::Gather { sources }, vec![x], &out_name, shape);
            }
            "Transpose" => {
                let x = x.ok_or_else(|| err("the input must be a computed tensor"))?;
                let s = self.shape(x);
                let perm: Vec<usize> = attr_ints(node, "perm").map_or_else(|| (0..s.len()).rev().collect(), |p| p.iter().map(|&v| v as usize).collect());
                if perm.len() != s.len() || perm.iter().any(|&p| p >= s.len()) {
                    return Err(err("perm does not match the input rank"));
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
                self.push(node, &name, FloatOp::Gather { sources }, vec![x], &out_name, shape);
            }
            "Concat" => {
                let ins: Vec<usize> = (0..node.input.len()).map(|i| var(i).ok_or_else(|| err("constant operands are not supported"))).collect::<Result<_, _>>()?;
                let shapes: Vec<Vec<usize>> = ins.iter().map(|&i| self.shape(i)).collect();
                let rank = shapes[0].len() as i64;
                let axis = attr_int(node, "axis", 0);
                let axis = if axis < 0 { axis + rank } else { axis } as usize;
                let mut shape = shapes[0].clone();
                shape[axis] = shapes.iter().map(|s| s[axis]).sum();
                if shapes.iter().any(|s| s.len() != shape.len() || (0..s.len()).any(|a| a != axis && s[a] != shape[a])) {
                    return Err(err("operand shapes differ off the concatenation axis"));
                }
                let sources = (0..shape.iter().product())
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
                self.push(node, &name, FloatOp::Gather { sources }, ins, &out_name, shape);
            }
            "Pad" => {
                let x = x.ok_or_else(|| err("the input must be a computed tensor"))?;
                let s = self.shape(x);
                if attr_str(node, "mode", "constant") != "constant" {
                    return Err(err("only mode `constant` is supported"));
                }
                let value = cst(2).map_or(attr_float(node, "value", 0.0), |c| c.floats.first().copied().unwrap_or(0.0));
                let pads = attr_ints(node, "pads").or_else(|| cst(1).map(|c| c.ints.clone())).ok_or_else(|| err("pads are required"))?;
                let rank = s.len();
                let axes: Vec<usize> = cst(3).map_or_else(|| (0..rank).collect(), |c| c.ints.iter().map(|&a| if a < 0 { a + rank as i64 } else { a } as usize).collect());
                if pads.len() != 2 * axes.len() {
                    return Err(err("pads do not match the axes"));
                }
                let mut begin = vec![0i64; rank];
                let mut end = vec![0i64; rank];
                for (k, &a) in axes.iter().enumerate() {
                    begin[a] = pads[k];
                    end[a] = pads[k + axes.len()];
                }
                let shape: Vec<usize> = (0..rank).map(|a| (s[a] as i64 + begin[a] + end[a]).max(0) as usize).collect();
                let sources = (0..shape.iter().product())
                    .map(|i| {
                        let c = unflat(i, &shape);
                        let src: Option<Vec<usize>> = (0..rank).map(|a| usize::try_from(c[a] as i64 - begin[a]).ok().filter(|&v| v < s[a])).collect();
                        src.map(|src| (0, flat(&src, &s)))
                    })
                    .collect();
                if value == 0.0 {
                    self.push(node, &name, FloatOp::Gather { sources }, vec![x], &out_name, shape);
                } else {
                    // Padding holds the real value 0: pad `x - v` with zeros, then add `v` back.
                    let shifted = self.scalar_affine(node, &format!("{name}/shift"), &format!("{out_name}/shift"), x, 1.0, -value);
                    let padded = self.push(node, &format!("{name}/pad"), FloatOp::Gather { sources }, vec![shifted], &format!("{out_name}/pad"), shape);
                    self.scalar_affine(node, &name, &out_name, padded, 1.0, value);
                }
            }
            "Resize" | "Upsample" => {
                let x = x.ok_or_else(|| err("the input must be a computed tensor"))?;
                let s = self.shape(x);
                if attr_str(node, "mode", "nearest") != "nearest" {
                    return Err(err("only mode `nearest` is supported"));
                }
                let (scales, sizes) = if op == "Upsample" {
                    (attr(node, "scales").map(|a| a.floats.clone()).or_else(|| cst(1).map(|c| c.floats.clone())), None)
                } else {
                    (cst(2).map(|c| c.floats.clone()).filter(|v| !v.is_empty()), cst(3).map(|c| c.ints.clone()).filter(|v| !v.is_empty()))
                };
                // `axes` names the dimensions scales/sizes cover; the others keep their size.
                let rank = s.len();
                let axes: Vec<usize> = attr_ints(node, "axes").map_or_else(|| (0..rank).collect(), |a| a.iter().map(|&x| if x < 0 { x + rank as i64 } else { x } as usize).collect());
                if axes.iter().any(|&a| a >= rank) {
                    return Err(err("`axes` names a dimension the input does not have"));
                }
                let mut scale = vec![1f64; rank];
                let mut shape = s.clone();
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
                                None => sz[i] as usize,
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
                let (ctm, nearest) = if op == "Upsample" { ("asymmetric".to_string(), "floor".to_string()) } else { (attr_str(node, "coordinate_transformation_mode", "half_pixel"), attr_str(node, "nearest_mode", "round_prefer_floor")) };
                let mut maps: Vec<Vec<usize>> = Vec::new();
                for a in 0..s.len() {
                    let (n_in, n_out, f) = (s[a], shape[a], scale[a]);
                    let mut m = Vec::with_capacity(n_out);
                    for o in 0..n_out {
                        let o = o as f64;
                        let x = match ctm.as_str() {
                            "asymmetric" => o / f,
                            "half_pixel" => (o + 0.5) / f - 0.5,
                            "pytorch_half_pixel" => if n_out > 1 { (o + 0.5) / f - 0.5 } else { 0.0 },
                            "align_corners" => if n_out > 1 { o * (n_in as f64 - 1.0) / (n_out as f64 - 1.0) } else { 0.0 },
                            "tf_half_pixel_for_nn" => (o + 0.5) / f,
                            other => return Err(err(&format!("coordinate_transformation_mode `{other}` is not supported"))),
                        };
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
                self.push(node, &name, FloatOp::Gather { sources }, vec![x], &out_name, shape);
            }
            "Relu" | "LeakyRelu" | "Sigmoid" | "Tanh" | "Clip" => {
                let x = x.ok_or_else(|| err("the input must be a computed tensor"))?;
                let f = match op {
                    "Relu" => Func::Relu,
                    "LeakyRelu" => Func::LeakyRelu(attr_float(node, "alpha", 0.01)),
                    "Sigmoid" => Func::Sigmoid,
                    "Tanh" => Func::Tanh,
                    _ => {
                        let bound = |i: usize, a: &str, d: f32| -> Result<f32, ImportError> {
                            if node.input.get(i).is_some_and(|n| !n.is_empty()) {
                                return cst(i).and_then(|c| c.floats.first().copied()).ok_or_else(|| err("min and max must be constants"));
                            }
                            Ok(attr_float(node, a, d))
                        };
                        Func::Clip(bound(1, "min", f32::NEG_INFINITY)?, bound(2, "max", f32::INFINITY)?)
                    }
                };
                let shape = self.shape(x);
                if let Func::LeakyRelu(alpha) = f {
                    // Exact at any width, no table: α·x + (1 - α)·relu(x).
                    let len = shape.iter().product();
                    let relu = FloatOp::Linear { geometry: Geometry::Sum { operands: 1, len }, weights: vec![1.0], bias: vec![0.0], clamp: Some((0.0, f32::INFINITY)) };
                    let r = self.push(node, &format!("{name}/relu"), relu, vec![x], &format!("{out_name}/relu"), shape.clone());
                    let mix = FloatOp::Linear { geometry: Geometry::Sum { operands: 2, len }, weights: vec![alpha, 1.0 - alpha], bias: vec![0.0], clamp: None };
                    self.push(node, &name, mix, vec![x, r], &out_name, shape);
                } else {
                    self.push(node, &name, FloatOp::Func(f), vec![x], &out_name, shape);
                }
            }
            "Softmax" | "LogSoftmax" => return Err(err("needs exp and division, which the circuit does not prove; drop it from the exported model (argmax is unchanged) and apply it to the verified outputs")),
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
            "Add" | "Sub" | "Mul" | "Div" => self.binary(node, &name, &out_name, &err)?,
            _ => return Err(err("operator not supported")),
        }
        Ok(())
    }

    fn gemm(&mut self, node: &NodeProto, name: &str, out_name: &str, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
        let mut x = node.input.first().and_then(|n| self.names.get(n)).copied().ok_or_else(|| err("A must be a computed tensor"))?;
        let b = node.input.get(1).and_then(|n| self.constants.get(n)).cloned().ok_or_else(|| err("B must be a constant (a product of two computed tensors is not supported)"))?;
        let mut s = self.shape(x);
        if b.dims.len() != 2 || s.len() != 2 {
            return Err(err("A and B must be 2-D"));
        }
        if attr_int(node, "transA", 0) != 0 {
            let sources = (0..s[0] * s[1]).map(|i| Some((0, (i % s[0]) * s[1] + i / s[0]))).collect();
            s = vec![s[1], s[0]];
            x = self.push(node, &format!("{name}/transA"), FloatOp::Gather { sources }, vec![x], &format!("{out_name}/transA"), s.clone());
        }
        let trans_b = attr_int(node, "transB", 0) != 0;
        let (k, n) = if trans_b { (b.dims[1], b.dims[0]) } else { (b.dims[0], b.dims[1]) };
        let m = s[0];
        if s[1] != k {
            return Err(err(&format!("A of shape {s:?} does not meet B of shape {:?}", b.dims)));
        }
        let (alpha, beta) = (attr_float(node, "alpha", 1.0), attr_float(node, "beta", 1.0));
        let mut weights = vec![0f32; k * n];
        for o in 0..n {
            for i in 0..k {
                weights[o * k + i] = alpha * if trans_b { b.floats[o * k + i] } else { b.floats[i * n + o] };
            }
        }
        // C broadcasts to [M, N]; one bias per output unless it varies by row.
        let (bias, row_bias) = match node.input.get(2).filter(|c| !c.is_empty()) {
            None => (vec![0.0; n], false),
            Some(c) => {
                let c = self.constants.get(c).ok_or_else(|| err("C must be a constant"))?;
                if broadcast(&c.dims, &[m, n]).as_deref() != Some(&[m, n][..]) {
                    return Err(err(&format!("C of shape {:?} does not broadcast to [{m}, {n}]", c.dims)));
                }
                let full: Vec<f32> = broadcast_sources(&c.dims, &[m, n]).iter().map(|src| beta * src.map_or(0.0, |(_, i)| c.floats[i])).collect();
                if (0..m).all(|r| full[r * n..(r + 1) * n] == full[..n]) {
                    (full[..n].to_vec(), false)
                } else {
                    (full, true)
                }
            }
        };
        let geometry = Geometry::Dense { rows: m, inputs: k, outputs: n, row_bias };
        self.push(node, name, FloatOp::Linear { geometry, weights, bias, clamp: None }, vec![x], out_name, vec![m, n]);
        Ok(())
    }

    /// MatMul with a constant right side, numpy semantics (1-D operands, broadcast batches).
    fn matmul(&mut self, node: &NodeProto, name: &str, out_name: &str, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
        let x = node.input.first().and_then(|n| self.names.get(n)).copied().ok_or_else(|| err("the left operand must be a computed tensor"))?;
        let b = node.input.get(1).and_then(|n| self.constants.get(n)).cloned().ok_or_else(|| err("the right operand must be a constant (a product of two computed tensors is not supported)"))?;
        let sa = self.shape(x);
        if sa.is_empty() || b.dims.is_empty() {
            return Err(err("operands must have rank 1 or more"));
        }
        let a2 = if sa.len() == 1 { vec![1, sa[0]] } else { sa.clone() };
        let b2 = if b.dims.len() == 1 { vec![b.dims[0], 1] } else { b.dims.clone() };
        let (m, k) = (a2[a2.len() - 2], a2[a2.len() - 1]);
        let (k2, n) = (b2[b2.len() - 2], b2[b2.len() - 1]);
        if k != k2 {
            return Err(err(&format!("shapes {sa:?} and {:?} do not multiply", b.dims)));
        }
        let (ba, bb) = (&a2[..a2.len() - 2], &b2[..b2.len() - 2]);
        let batch = broadcast(ba, bb).ok_or_else(|| err("batch dimensions do not broadcast"))?;
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
        let geometry = Geometry::MatMul { m, k, n, a_batch: map(ba), b_batch: map(bb) };
        let mut shape = batch.clone();
        if sa.len() > 1 {
            shape.push(m);
        }
        if b.dims.len() > 1 {
            shape.push(n);
        }
        self.push(node, name, FloatOp::Linear { geometry, weights: b.floats, bias: vec![0.0], clamp: None }, vec![x], out_name, shape);
        Ok(())
    }

    /// Conv, ConvTranspose and the pools: a 2-D window over `[1, C, H, W]`, or a 1-D one over
    /// `[1, C, L]` (read as `H = 1`).
    fn window(&mut self, node: &NodeProto, name: &str, out_name: &str, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
        let op = node.op_type.as_str();
        let x = node.input.first().and_then(|n| self.names.get(n)).copied().ok_or_else(|| err("the input must be a computed tensor"))?;
        let s = self.shape(x);
        let (c, h, w, one_d) = match s[..] {
            [1, c, h, w] => (c, h, w, false),
            [1, c, l] => (c, 1, l, true),
            _ => return Err(err(&format!("input shape {s:?} is not [1, C, H, W] or [1, C, L] (3-D windows and batches above 1 are not supported)"))),
        };
        // Attributes as two values (H, W); a 1-D window's single value is W, H gets `h_default`.
        let pair = |key: &str, d: usize, h_default: usize| -> Result<[usize; 2], ImportError> {
            match attr_ints(node, key) {
                None => Ok([if one_d { h_default } else { d }, d]),
                Some(v) if one_d && v.len() == 1 && v[0] >= 0 => Ok([h_default, v[0] as usize]),
                Some(v) if !one_d && v.len() == 2 && v.iter().all(|&x| x >= 0) => Ok([v[0] as usize, v[1] as usize]),
                Some(_) => Err(err(&format!("`{key}` has the wrong number of values or a negative one"))),
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
            _ => pair("kernel_shape", 0, 1)?,
        };
        if kernel.contains(&0) {
            return Err(err("kernel_shape is required"));
        }
        let stride = pair("strides", 1, 1)?;
        let dilation = pair("dilations", 1, 1)?;
        let groups = attr_int(node, "group", 1).max(1) as usize;
        let pads = match attr_ints(node, "pads") {
            None => [0; 4],
            Some(p) if !one_d && p.len() == 4 && p.iter().all(|&v| v >= 0) => [p[0] as usize, p[1] as usize, p[2] as usize, p[3] as usize],
            Some(p) if one_d && p.len() == 2 && p.iter().all(|&v| v >= 0) => [0, p[0] as usize, 0, p[1] as usize],
            Some(_) => return Err(err("`pads` has the wrong number of values or a negative one")),
        };
        let auto_pad = attr_str(node, "auto_pad", "NOTSET");
        let ceil = attr_int(node, "ceil_mode", 0) != 0;
        let shape_of = |c: usize, oh: usize, ow: usize| if one_d { vec![1, c, ow] } else { vec![1, c, oh, ow] };
        if op == "ConvTranspose" {
            let wt = weight.ok_or_else(|| err("the weight must be a constant"))?;
            if wt.dims[0] != c {
                return Err(err("weight channels do not match the input"));
            }
            let cout = wt.dims[1] * groups;
            let out_pad = pair("output_padding", 0, 0)?;
            let full: Vec<usize> = (0..2).map(|a| ([h, w][a] - 1) * stride[a] + (kernel[a] - 1) * dilation[a] + 1 + out_pad[a]).collect();
            let (out, begin) = if let Some(os) = attr_ints(node, "output_shape") {
                let os: Vec<usize> = if one_d { vec![1, *os.last().unwrap_or(&0) as usize] } else { os.iter().rev().take(2).rev().map(|&v| v as usize).collect() };
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
            self.push(node, name, FloatOp::Linear { geometry, weights: wt.floats, bias, clamp: None }, vec![x], out_name, shape_of(cout, out[0], out[1]));
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
                if wt.dims[1] * groups != c {
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
        self.push(node, name, op, vec![x], out_name, shape);
        Ok(())
    }

    fn bias(&self, node: &NodeProto, n: usize, err: &dyn Fn(&str) -> ImportError) -> Result<Vec<f32>, ImportError> {
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

    /// `y[n, c, ·] = w[c]·x[n, c, ·] + b[c]` on `[N, C, …]` (a `[N, C]` input has one value
    /// per channel): a depthwise 1×1 convolution.
    #[allow(clippy::too_many_arguments)]
    fn channel_affine(&mut self, node: &NodeProto, name: &str, out_name: &str, x: usize, w: Vec<f32>, b: Vec<f32>, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
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
        self.push(node, name, FloatOp::Linear { geometry, weights: tile(&w), bias: tile(&b), clamp: None }, vec![x], out_name, s);
        Ok(())
    }

    /// `y = w·x + b` elementwise with scalars, on any shape.
    fn scalar_affine(&mut self, node: &NodeProto, name: &str, out_name: &str, x: usize, w: f32, b: f32) -> usize {
        let s = self.shape(x);
        let geometry = Geometry::Sum { operands: 1, len: s.iter().product() };
        self.push(node, name, FloatOp::Linear { geometry, weights: vec![w], bias: vec![b], clamp: None }, vec![x], out_name, s)
    }

    fn binary(&mut self, node: &NodeProto, name: &str, out_name: &str, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
        let op = node.op_type.as_str();
        let var = |i: usize| node.input.get(i).and_then(|n| self.names.get(n)).copied();
        let cst = |i: usize| node.input.get(i).and_then(|n| self.constants.get(n)).cloned();
        match (var(0), var(1)) {
            (Some(a), Some(b)) => {
                if op == "Div" {
                    return Err(err("division by a computed tensor is not supported"));
                }
                let (sa, sb) = (self.shape(a), self.shape(b));
                let shape = broadcast(&sa, &sb).ok_or_else(|| err(&format!("shapes {sa:?} and {sb:?} do not broadcast")))?;
                let mut operands = Vec::new();
                for (j, (t, s)) in [(a, sa), (b, sb)].into_iter().enumerate() {
                    if s == shape {
                        operands.push(t);
                    } else {
                        let sources = broadcast_sources(&s, &shape);
                        operands.push(self.push(node, &format!("{name}/broadcast{j}"), FloatOp::Gather { sources }, vec![t], &format!("{out_name}/broadcast{j}"), shape.clone()));
                    }
                }
                let len = shape.iter().product();
                let fop = match op {
                    "Mul" => FloatOp::Mul { clamp: None },
                    _ => FloatOp::Linear { geometry: Geometry::Sum { operands: 2, len }, weights: vec![1.0, if op == "Sub" { -1.0 } else { 1.0 }], bias: vec![0.0], clamp: None },
                };
                self.push(node, name, fop, operands, out_name, shape);
            }
            (Some(x), None) | (None, Some(x)) => {
                let constant_first = var(0).is_none();
                let k = cst(usize::from(!constant_first)).ok_or_else(|| err("the other operand is neither computed nor constant"))?;
                let s = self.shape(x);
                let v = k.floats.clone();
                let (w, b): (Vec<f32>, Vec<f32>) = match (op, constant_first) {
                    ("Add", _) => (vec![1.0; v.len()], v.clone()),
                    ("Sub", false) => (vec![1.0; v.len()], v.iter().map(|c| -c).collect()),
                    ("Sub", true) => (vec![-1.0; v.len()], v.clone()),
                    ("Mul", _) => (v.clone(), vec![0.0; v.len()]),
                    ("Div", false) => (v.iter().map(|c| 1.0 / c).collect(), vec![0.0; v.len()]),
                    _ => return Err(err("dividing a constant by a computed tensor is not supported")),
                };
                if broadcast(&s, &k.dims).as_deref() != Some(&s[..]) {
                    return Err(err(&format!("the constant of shape {:?} would change the shape {s:?}", k.dims)));
                }
                if v.len() == 1 {
                    self.scalar_affine(node, name, out_name, x, w[0], b[0]);
                    return Ok(());
                }
                // One value per channel (axis 1), broadcast over the rest.
                let lead = s.len().saturating_sub(k.dims.len());
                let per_channel = s.len() >= 2 && v.len() == s[1] && k.dims.iter().enumerate().all(|(i, &d)| d == 1 || i + lead == 1);
                if !per_channel {
                    return Err(err("a constant operand must be a scalar or hold one value per channel (axis 1)"));
                }
                self.channel_affine(node, name, out_name, x, w, b, err)?;
            }
            (None, None) => return Err(err("constant folding of constant-only nodes is not supported")),
        }
        Ok(())
    }
}
