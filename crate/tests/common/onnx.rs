//! Builds small float ONNX models in code, for the compiler's tests.
#![allow(dead_code)]

use prost::Message;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tract_onnx::pb::{self, attribute_proto::AttributeType, tensor_proto::DataType, AttributeProto, NodeProto, TensorProto, ValueInfoProto};

pub struct Builder {
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    inputs: Vec<ValueInfoProto>,
    count: usize,
    rng: ChaCha8Rng,
    pub opset: i64,
}

pub fn ai(name: &str, v: i64) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: AttributeType::Int as i32, i: v, ..Default::default() }
}
pub fn ais(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: AttributeType::Ints as i32, ints: v.to_vec(), ..Default::default() }
}
pub fn af(name: &str, v: f32) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: AttributeType::Float as i32, f: v, ..Default::default() }
}
pub fn astr(name: &str, v: &str) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: AttributeType::String as i32, s: v.as_bytes().to_vec(), ..Default::default() }
}

/// A tensor-valued attribute (ConstantOfShape's `value`, Constant's).
pub fn atensor(name: &str, dims: &[i64], data: Vec<f32>) -> AttributeProto {
    let t = TensorProto { dims: dims.to_vec(), data_type: DataType::Float as i32, float_data: data, ..Default::default() };
    AttributeProto { name: name.into(), r#type: AttributeType::Tensor as i32, t: Some(t), ..Default::default() }
}

fn value_info(name: &str, shape: &[i64]) -> ValueInfoProto {
    use pb::tensor_shape_proto::{dimension::Value, Dimension};
    let dim = shape.iter().map(|&d| Dimension { value: Some(Value::DimValue(d)), ..Default::default() }).collect();
    let tensor = pb::type_proto::Tensor { elem_type: DataType::Float as i32, shape: Some(pb::TensorShapeProto { dim }) };
    ValueInfoProto { name: name.into(), r#type: Some(pb::TypeProto { value: Some(pb::type_proto::Value::TensorType(tensor)), ..Default::default() }), ..Default::default() }
}

impl Builder {
    pub fn new(seed: u64) -> Self {
        Builder { nodes: Vec::new(), inits: Vec::new(), inputs: Vec::new(), count: 0, rng: ChaCha8Rng::seed_from_u64(seed), opset: 13 }
    }

    /// Uniform in [-1, 1).
    pub fn uniform(&mut self) -> f32 {
        (self.rng.next_u32() as f64 / 2f64.powi(31) - 1.0) as f32
    }

    pub fn input(&mut self, name: &str, shape: &[i64]) -> String {
        self.inputs.push(value_info(name, shape));
        name.into()
    }

    pub fn floats(&mut self, dims: &[i64], data: Vec<f32>) -> String {
        self.count += 1;
        let name = format!("c{}", self.count);
        self.inits.push(TensorProto { name: name.clone(), dims: dims.to_vec(), data_type: DataType::Float as i32, float_data: data, ..Default::default() });
        name
    }

    /// Random weights scaled by `scale`.
    pub fn random(&mut self, dims: &[i64], scale: f32) -> String {
        let n: i64 = dims.iter().product();
        let data = (0..n).map(|_| self.uniform() * scale).collect();
        self.floats(dims, data)
    }

    pub fn ints(&mut self, dims: &[i64], data: Vec<i64>) -> String {
        self.count += 1;
        let name = format!("c{}", self.count);
        self.inits.push(TensorProto { name: name.clone(), dims: dims.to_vec(), data_type: DataType::Int64 as i32, int64_data: data, ..Default::default() });
        name
    }

    /// Adds a node; returns its (first) output.
    pub fn node(&mut self, op: &str, inputs: &[&str], attrs: Vec<AttributeProto>) -> String {
        self.count += 1;
        let out = format!("{}_{}", op.to_lowercase(), self.count);
        self.nodes.push(NodeProto {
            name: format!("{op}_{}", self.count),
            op_type: op.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![out.clone()],
            attribute: attrs,
            ..Default::default()
        });
        out
    }

    /// Adds a node as given (several outputs, a chosen name).
    pub fn raw_node(&mut self, node: NodeProto) {
        self.nodes.push(node);
    }

    /// The model's bytes; output shapes are left to inference.
    pub fn finish(self, outputs: &[&str]) -> Vec<u8> {
        let output = outputs.iter().map(|o| ValueInfoProto { name: o.to_string(), ..Default::default() }).collect();
        let graph = pb::GraphProto { node: self.nodes, name: "test".into(), initializer: self.inits, input: self.inputs, output, ..Default::default() };
        let model = pb::ModelProto {
            ir_version: 8,
            opset_import: vec![pb::OperatorSetIdProto { domain: String::new(), version: self.opset }],
            producer_name: "section9-tests".into(),
            graph: Some(graph),
            ..Default::default()
        };
        model.encode_to_vec()
    }
}

/// One attention head over `x` of shape `[1, seq, d]`: `softmax(Q·Kᵀ/√d)·V` with random
/// `d × d` projections — two MatMuls of computed tensors around a Softmax.
pub fn attention_head(b: &mut Builder, x: &str, d: i64) -> String {
    let (wq, wk, wv) = (b.random(&[d, d], 1.0), b.random(&[d, d], 1.0), b.random(&[d, d], 1.0));
    let q = b.node("MatMul", &[x, &wq], vec![]);
    let k = b.node("MatMul", &[x, &wk], vec![]);
    let v = b.node("MatMul", &[x, &wv], vec![]);
    let kt = b.node("Transpose", &[&k], vec![ais("perm", &[0, 2, 1])]);
    let s = b.node("MatMul", &[&q, &kt], vec![]);
    let scale = b.floats(&[], vec![1.0 / (d as f32).sqrt()]);
    let s = b.node("Mul", &[&s, &scale], vec![]);
    let p = b.node("Softmax", &[&s], vec![ai("axis", -1)]);
    b.node("MatMul", &[&p, &v], vec![])
}
