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
        let err = |what: &str| ImportError::Unsupported { node: node.name.clone(), op: node.op_type.clone(), what: what.to_string() };
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
        let out_name = node.output.first().cloned().unwrap_or_default();
        if node.output.iter().skip(1).any(|o| !o.is_empty()) && !matches!(op, "Dropout") {
            return Err(err("only the first output is supported"));
        }
        let name = if node.name.is_empty() { out_name.clone() } else { node.name.clone() };
        // Inputs that are computed tensors (not constants).
        let var = |i: usize| node.input.get(i).and_then(|n| self.names.get(n)).copied();
        let cst = |i: usize| node.input.get(i).filter(|n| !n.is_empty()).and_then(|n| self.constants.get(n));
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
                if value != 0.0 {
                    return Err(err("only padding with 0 is supported"));
                }
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
                self.push(node, &name, FloatOp::Gather { sources }, vec![x], &out_name, shape);
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
                if attr(node, "axes").is_some() {
                    return Err(err("the `axes` attribute is not supported"));
                }
                let (shape, scale): (Vec<usize>, Vec<f64>) = match (scales, sizes) {
                    (_, Some(sz)) if sz.len() == s.len() => (sz.iter().map(|&v| v as usize).collect(), sz.iter().zip(&s).map(|(&o, &i)| o as f64 / i as f64).collect()),
                    (Some(sc), None) if sc.len() == s.len() => (sc.iter().zip(&s).map(|(&f, &i)| (f64::from(f) * i as f64).floor() as usize).collect(), sc.iter().map(|&f| f64::from(f)).collect()),
                    _ => return Err(err("needs constant scales or sizes of the input's rank")),
                };
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
                self.push(node, &name, FloatOp::Func(f), vec![x], &out_name, shape);
            }
            "Softmax" | "LogSoftmax" => return Err(err("needs exp and division, which the circuit does not prove; drop it from the exported model (argmax is unchanged) and apply it to the verified outputs")),
            "Gemm" | "MatMul" => self.dense(node, &name, &out_name, &err)?,
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

    fn dense(&mut self, node: &NodeProto, name: &str, out_name: &str, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
        let x = node.input.first().and_then(|n| self.names.get(n)).copied().ok_or_else(|| err("the left operand must be a computed tensor"))?;
        let b = node.input.get(1).and_then(|n| self.constants.get(n)).ok_or_else(|| err("the right operand must be a constant (a product of two computed tensors is not supported)"))?;
        let s = self.shape(x);
        let gemm = node.op_type == "Gemm";
        if b.dims.len() != 2 || s.is_empty() {
            return Err(err("the weight must be a 2-D constant"));
        }
        if gemm && attr_int(node, "transA", 0) != 0 {
            return Err(err("transA is not supported"));
        }
        let trans_b = gemm && attr_int(node, "transB", 0) != 0;
        let (k, n) = if trans_b { (b.dims[1], b.dims[0]) } else { (b.dims[0], b.dims[1]) };
        if s[s.len() - 1] != k || (gemm && s.len() != 2) {
            return Err(err(&format!("input shape {s:?} does not meet a weight of {:?}", b.dims)));
        }
        let alpha = if gemm { attr_float(node, "alpha", 1.0) } else { 1.0 };
        let beta = if gemm { attr_float(node, "beta", 1.0) } else { 1.0 };
        let mut weights = vec![0f32; k * n];
        for o in 0..n {
            for i in 0..k {
                weights[o * k + i] = alpha * if trans_b { b.floats[o * k + i] } else { b.floats[i * n + o] };
            }
        }
        let bias = match node.input.get(2).filter(|n| gemm && !n.is_empty()) {
            None => vec![0.0; n],
            Some(c) => {
                let c = self.constants.get(c).ok_or_else(|| err("the bias must be a constant"))?;
                match c.floats.len() {
                    1 => vec![beta * c.floats[0]; n],
                    m if m == n => c.floats.iter().map(|&v| beta * v).collect(),
                    _ => return Err(err("the bias must be a scalar or one value per output")),
                }
            }
        };
        let rows: usize = s[..s.len() - 1].iter().product();
        let mut shape = s.clone();
        *shape.last_mut().unwrap_or(&mut 0) = n;
        let geometry = Geometry::Dense { rows, inputs: k, outputs: n };
        self.push(node, name, FloatOp::Linear { geometry, weights, bias, clamp: None }, vec![x], out_name, shape);
        Ok(())
    }

    /// Conv, ConvTranspose and the pools: a 2-D window over `[1, C, H, W]`.
    fn window(&mut self, node: &NodeProto, name: &str, out_name: &str, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
        let op = node.op_type.as_str();
        let x = node.input.first().and_then(|n| self.names.get(n)).copied().ok_or_else(|| err("the input must be a computed tensor"))?;
        let s = self.shape(x);
        let [1, c, h, w] = s[..] else { return Err(err(&format!("input shape {s:?} is not [1, C, H, W] (only 2-D windows with batch 1 are supported)"))) };
        let two = |key: &str, d: usize| -> Result<[usize; 2], ImportError> {
            match attr_ints(node, key) {
                None => Ok([d, d]),
                Some(v) if v.len() == 2 && v.iter().all(|&x| x >= 0) => Ok([v[0] as usize, v[1] as usize]),
                Some(_) => Err(err(&format!("`{key}` must have two non-negative values"))),
            }
        };
        let weight = node.input.get(1).and_then(|n| self.constants.get(n)).cloned();
        let kernel = match op {
            "GlobalAveragePool" => [h, w],
            "Conv" | "ConvTranspose" => {
                let wt = weight.as_ref().ok_or_else(|| err("the weight must be a constant"))?;
                if wt.dims.len() != 4 {
                    return Err(err("the weight must be 4-D"));
                }
                [wt.dims[2], wt.dims[3]]
            }
            _ => two("kernel_shape", 0)?,
        };
        if kernel.contains(&0) {
            return Err(err("kernel_shape is required"));
        }
        let stride = two("strides", 1)?;
        let dilation = two("dilations", 1)?;
        let groups = attr_int(node, "group", 1).max(1) as usize;
        let pads = match attr_ints(node, "pads") {
            None => [0; 4],
            Some(p) if p.len() == 4 && p.iter().all(|&v| v >= 0) => [p[0] as usize, p[1] as usize, p[2] as usize, p[3] as usize],
            Some(_) => return Err(err("`pads` must have four non-negative values")),
        };
        let auto_pad = attr_str(node, "auto_pad", "NOTSET");
        let ceil = attr_int(node, "ceil_mode", 0) != 0;
        if op == "ConvTranspose" {
            let wt = weight.ok_or_else(|| err("the weight must be a constant"))?;
            if groups != 1 || dilation != [1, 1] {
                return Err(err("groups and dilation other than 1 are not supported for ConvTranspose"));
            }
            if wt.dims[0] != c {
                return Err(err("weight channels do not match the input"));
            }
            let cout = wt.dims[1];
            let out_pad = two("output_padding", 0)?;
            let full = [(h - 1) * stride[0] + kernel[0] + out_pad[0], (w - 1) * stride[1] + kernel[1] + out_pad[1]];
            let (out, begin) = if let Some(os) = attr_ints(node, "output_shape") {
                let os: Vec<usize> = os.iter().rev().take(2).rev().map(|&v| v as usize).collect();
                let total = [full[0].saturating_sub(os[0]), full[1].saturating_sub(os[1])];
                let begin = if auto_pad == "SAME_LOWER" { [total[0].div_ceil(2), total[1].div_ceil(2)] } else { [total[0] / 2, total[1] / 2] };
                ([os[0], os[1]], begin)
            } else if auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER" {
                let os = [h * stride[0], w * stride[1]];
                let total = [full[0] - os[0], full[1] - os[1]];
                let begin = if auto_pad == "SAME_UPPER" { [total[0] / 2, total[1] / 2] } else { [total[0].div_ceil(2), total[1].div_ceil(2)] };
                (os, begin)
            } else {
                ([full[0] - pads[0] - pads[2], full[1] - pads[1] - pads[3]], [pads[0], pads[1]])
            };
            let bias = self.bias(node, cout, err)?;
            let geometry = Geometry::ConvTranspose { input: [c, h, w], output: [cout, out[0], out[1]], kernel, stride, pad: begin };
            geometry.check().map_err(|e| err(&e))?;
            self.push(node, name, FloatOp::Linear { geometry, weights: wt.floats, bias, clamp: None }, vec![x], out_name, vec![1, cout, out[0], out[1]]);
            return Ok(());
        }
        // Output size and top/left padding of a forward window.
        let mut out = [0usize; 2];
        let mut begin = [pads[0], pads[1]];
        for a in 0..2 {
            let n = [h, w][a];
            let reach = (kernel[a] - 1) * dilation[a] + 1;
            match auto_pad.as_str() {
                "SAME_UPPER" | "SAME_LOWER" => {
                    out[a] = n.div_ceil(stride[a]);
                    let total = ((out[a] - 1) * stride[a] + reach).saturating_sub(n);
                    begin[a] = if auto_pad == "SAME_UPPER" { total / 2 } else { total.div_ceil(2) };
                }
                "VALID" | "NOTSET" => {
                    let (pb, pe) = if auto_pad == "VALID" { (0, 0) } else { (pads[a], pads[a + 2]) };
                    begin[a] = pb;
                    let span = (n + pb + pe).checked_sub(reach).ok_or_else(|| err("the window is larger than the padded input"))?;
                    out[a] = if ceil { span.div_ceil(stride[a]) + 1 } else { span / stride[a] + 1 };
                    // A window must start inside the input or the top/left padding.
                    if ceil && (out[a] - 1) * stride[a] >= n + pb {
                        out[a] -= 1;
                    }
                }
                other => return Err(err(&format!("auto_pad `{other}` is not supported"))),
            }
        }
        let (cout, groups) = match op {
            "Conv" => (weight.as_ref().map_or(0, |w| w.dims[0]), groups),
            _ => (c, c),
        };
        let geometry = Geometry::Conv { input: [c, h, w], output: [cout, out[0], out[1]], kernel, stride, dilation, pad: begin, groups };
        geometry.check().map_err(|e| err(&e))?;
        let shape = vec![1, cout, out[0], out[1]];
        match op {
            "Conv" => {
                let wt = weight.ok_or_else(|| err("the weight must be a constant"))?;
                if wt.dims[1] * groups != c {
                    return Err(err("weight channels × groups do not match the input channels"));
                }
                let bias = self.bias(node, cout, err)?;
                self.push(node, name, FloatOp::Linear { geometry, weights: wt.floats, bias, clamp: None }, vec![x], out_name, shape);
            }
            "MaxPool" => {
                if node.output.len() > 1 && !node.output[1].is_empty() {
                    return Err(err("the Indices output is not supported"));
                }
                self.push(node, name, FloatOp::Max { geometry }, vec![x], out_name, shape);
            }
            _ => {
                // Average = depthwise convolution with weights 1/n, provided every window holds
                // n counted values.
                let n = (kernel[0] * kernel[1]) as f32;
                let include_pad = attr_int(node, "count_include_pad", 0) != 0;
                let mut full = true;
                for o in 0..geometry.output_len() {
                    let mut taps = 0;
                    geometry.taps(o, |_| taps += 1);
                    let padded = (0..2).all(|a| {
                        // Windows that stick out past the bottom/right padding are partial even
                        // when padding counts.
                        let pos = [o / out[1] % out[0], o % out[1]][a] * stride[a];
                        pos + (kernel[a] - 1) * dilation[a] < [h, w][a] + begin[a] + pads[a + 2]
                    });
                    full &= taps as f32 == n || (include_pad && padded);
                }
                if !full {
                    return Err(err("windows with a varying count of values (padding without count_include_pad, or ceil_mode) are not supported"));
                }
                let weights = vec![1.0 / n; c * kernel[0] * kernel[1]];
                self.push(node, name, FloatOp::Linear { geometry, weights, bias: vec![0.0; c], clamp: None }, vec![x], out_name, shape);
            }
        }
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

    /// `y[c, ·] = w[c]·x[c, ·] + b[c]` on `[1, C, …]` (or `[1, N]`: one channel per value).
    #[allow(clippy::too_many_arguments)]
    fn channel_affine(&mut self, node: &NodeProto, name: &str, out_name: &str, x: usize, w: Vec<f32>, b: Vec<f32>, err: &dyn Fn(&str) -> ImportError) -> Result<(), ImportError> {
        let s = self.shape(x);
        if s.len() < 2 || s[0] != 1 {
            return Err(err(&format!("input shape {s:?} is not [1, C, …]")));
        }
        let c = s[1];
        let hw: usize = s[2..].iter().product();
        let expand = |v: Vec<f32>| if v.len() == 1 { vec![v[0]; c] } else { v };
        let (w, b) = (expand(w), expand(b));
        if w.len() != c || b.len() != c {
            return Err(err("per-channel parameters do not match the channel count"));
        }
        let geometry = Geometry::Conv { input: [c, hw, 1], output: [c, hw, 1], kernel: [1, 1], stride: [1, 1], dilation: [1, 1], pad: [0, 0], groups: c };
        self.push(node, name, FloatOp::Linear { geometry, weights: w, bias: b, clamp: None }, vec![x], out_name, s);
        Ok(())
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
                // Scalar, or one value per channel (axis 1) broadcast over the rest.
                let per_channel = k.floats.len() == 1
                    || (s.len() >= 2 && k.floats.len() == s[1] && {
                        let lead = s.len().saturating_sub(k.dims.len());
                        k.dims.iter().enumerate().all(|(i, &d)| d == 1 || i + lead == 1)
                    });
                if !per_channel {
                    return Err(err("a constant operand must be a scalar or hold one value per channel"));
                }
                let v = k.floats.clone();
                let ones = vec![1.0; v.len()];
                let zeros = vec![0.0; v.len()];
                let (w, b) = match (op, constant_first) {
                    ("Add", _) => (ones, v),
                    ("Sub", false) => (ones, v.iter().map(|c| -c).collect()),
                    ("Sub", true) => (vec![-1.0; v.len()], v),
                    ("Mul", _) => (v, zeros),
                    ("Div", false) => (v.iter().map(|c| 1.0 / c).collect(), zeros),
                    _ => return Err(err("dividing a constant by a computed tensor is not supported")),
                };
                if s.len() == 1 || s.first() != Some(&1) {
                    return Err(err(&format!("input shape {s:?} is not [1, C, …]")));
                }
                self.channel_affine(node, name, out_name, x, w, b, err)?;
            }
            (None, None) => return Err(err("constant folding of constant-only nodes is not supported")),
        }
        Ok(())
    }
}
