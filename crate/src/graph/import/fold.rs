//! Constant folding: nodes that read only constants are evaluated at import time, and so is
//! `Shape` of a computed tensor (shapes are static). This is what removes the classic
//! exporter's `Identity`-routed weights and the dynamo exporter's shape arithmetic
//! (`Shape → Gather → Unsqueeze → Concat → Reshape`) before any of it reaches the graph.
//!
//! Folded: Identity, Shape, Size, Cast, ConstantOfShape, Gather, Slice, Split, Concat,
//! Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Expand, Range, Equal, Less, Greater,
//! LessOrEqual, GreaterOrEqual, Not, And, Or, Where, Add, Sub, Mul, Div, Pow, Mod, Max, Min,
//! Neg, Abs, Sqrt, Reciprocal, Floor, Ceil, Exp, Log, and the activations of
//! [`Func`](super::Func). Integer tensors keep integer arithmetic (Div truncates, Mod follows
//! the divisor's sign unless `fmod`), as shape arithmetic expects. Every result is held to
//! [`MAX_ELEMENTS`] before it is allocated.

use super::gather::{expand_map, gather_map, slice_map, split_maps, transpose_map};
use super::*;

/// The operators evaluated when all their inputs are constants.
const FOLDABLE: &[&str] = &[
    "Identity", "Shape", "Size", "Cast", "ConstantOfShape", "Gather", "Slice", "Split", "Concat", "Reshape", "Flatten", "Squeeze", "Unsqueeze",
    "Transpose", "Expand", "Range", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or", "Where", "Add", "Sub", "Mul",
    "Div", "Pow", "Mod", "Max", "Min", "Neg", "Abs", "Sqrt", "Reciprocal", "Floor", "Ceil", "Exp", "Log", "Relu", "Sigmoid", "Tanh", "Erf",
];

/// Numpy broadcasting of several shapes, with each operand's source index per output value.
fn broadcast_all(shapes: &[&[usize]]) -> Result<(Vec<usize>, Vec<Vec<usize>>), String> {
    let mut shape: Vec<usize> = Vec::new();
    for s in shapes {
        shape = broadcast(&shape, s).ok_or_else(|| format!("shapes {shapes:?} do not broadcast"))?;
    }
    elements(&shape).ok_or_else(|| format!("output shape {shape:?} has more than {MAX_ELEMENTS} values"))?;
    let sources = shapes.iter().map(|s| broadcast_sources(s, &shape).into_iter().map(|src| src.map_or(0, |(_, i)| i)).collect()).collect();
    Ok((shape, sources))
}

/// A scalar input (the first value of a one-value constant).
fn scalar(c: &Const, what: &str) -> Result<Const, String> {
    if c.floats.len() != 1 {
        return Err(format!("{what} must hold one value, not {:?}", c.dims));
    }
    Ok(c.clone())
}

/// An elementwise function of two constants, broadcast; integer when both are.
fn binary(op: &str, a: &Const, b: &Const, fmod: bool) -> Result<Const, String> {
    let (shape, src) = broadcast_all(&[&a.dims, &b.dims])?;
    let pairs = src[0].iter().zip(&src[1]);
    let compare = |f: fn(f64, f64) -> bool| Const::from_ints(shape.clone(), pairs.clone().map(|(&i, &j)| i64::from(f(f64::from(a.floats[i]), f64::from(b.floats[j])))).collect());
    Ok(match op {
        "Equal" if a.int && b.int => Const::from_ints(shape.clone(), pairs.map(|(&i, &j)| i64::from(a.ints[i] == b.ints[j])).collect()),
        "Equal" => compare(|x, y| x == y),
        "Less" => compare(|x, y| x < y),
        "Greater" => compare(|x, y| x > y),
        "LessOrEqual" => compare(|x, y| x <= y),
        "GreaterOrEqual" => compare(|x, y| x >= y),
        "And" => compare(|x, y| x != 0.0 && y != 0.0),
        "Or" => compare(|x, y| x != 0.0 || y != 0.0),
        _ if a.int && b.int => {
            let f = |x: i64, y: i64| -> Option<i64> {
                match op {
                    "Add" => x.checked_add(y),
                    "Sub" => x.checked_sub(y),
                    "Mul" => x.checked_mul(y),
                    "Div" => x.checked_div(y),
                    "Mod" if fmod => x.checked_rem(y),
                    // Python's %: the result takes the divisor's sign.
                    "Mod" => x.checked_rem(y).map(|r| if r != 0 && (r < 0) != (y < 0) { r + y } else { r }),
                    "Pow" => u32::try_from(y).ok().and_then(|y| x.checked_pow(y)),
                    "Max" => Some(x.max(y)),
                    "Min" => Some(x.min(y)),
                    _ => None,
                }
            };
            let ints = pairs.map(|(&i, &j)| f(a.ints[i], b.ints[j])).collect::<Option<Vec<i64>>>().ok_or_else(|| format!("integer {op} overflows or divides by zero"))?;
            Const::from_ints(shape, ints)
        }
        _ => {
            let f = |x: f32, y: f32| -> f32 {
                match op {
                    "Add" => x + y,
                    "Sub" => x - y,
                    "Mul" => x * y,
                    "Div" => x / y,
                    "Mod" => x % y,
                    "Pow" => x.powf(y),
                    "Max" => x.max(y),
                    _ => x.min(y),
                }
            };
            Const::from_floats(shape, pairs.map(|(&i, &j)| f(a.floats[i], b.floats[j])).collect())
        }
    })
}

impl Reader {
    /// Evaluates `node` when every input is a constant (or it is `Shape`); true when it did.
    pub(super) fn fold(&mut self, node: &NodeProto, name: &str, err: &dyn Fn(&str) -> ImportError) -> Result<bool, ImportError> {
        let op = node.op_type.as_str();
        let all_constant = node.input.iter().all(|n| n.is_empty() || self.constants.contains_key(n));
        if !FOLDABLE.contains(&op) || !(all_constant || matches!(op, "Shape" | "Size")) {
            return Ok(false);
        }
        let outputs = self.evaluate(node, name, err).map_err(|what| err(&what))?;
        for (out, c) in node.output.iter().zip(outputs) {
            if !out.is_empty() {
                self.constants.insert(out.clone(), c);
            }
        }
        Ok(true)
    }

    fn evaluate(&self, node: &NodeProto, name: &str, err: &dyn Fn(&str) -> ImportError) -> Result<Vec<Const>, String> {
        let op = node.op_type.as_str();
        let input = |i: usize| self.cst(node, i).ok_or_else(|| format!("input {i} is missing"));
        let one = |c: Const| Ok(vec![c]);
        // Rewirings reuse the maps (or shapes) the computed-tensor readings use.
        let reshape = |c: &Const| -> Result<Vec<Const>, String> {
            let dims = self.reshaped(node, &c.dims, err).map_err(|e| e.to_string())?;
            Ok(vec![Const { dims, ..c.clone() }])
        };
        match op {
            "Shape" | "Size" => {
                let dims = match self.var(node, 0) {
                    Some(t) => self.shape(t),
                    None => input(0)?.dims.clone(),
                };
                let dims: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
                if op == "Size" {
                    return one(Const::from_ints(vec![], vec![dims.iter().product()]));
                }
                // start/end clamp to the rank (negative counts from the end).
                let r = dims.len() as i64;
                let at = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
                let (start, end) = (at(attr_int(node, "start", 0)), at(attr_int(node, "end", r)));
                let part = dims[start..end.max(start)].to_vec();
                one(Const::from_ints(vec![part.len()], part))
            }
            "Identity" => one(input(0)?.clone()),
            "Reshape" | "Flatten" | "Squeeze" | "Unsqueeze" => reshape(input(0)?),
            "Cast" => {
                let c = input(0)?;
                match attr_int(node, "to", 0) {
                    // float, float16, double, bfloat16
                    1 | 10 | 11 | 16 => one(Const::from_floats(c.dims.clone(), c.floats.clone())),
                    9 => one(Const::from_ints(c.dims.clone(), c.floats.iter().map(|&v| i64::from(v != 0.0)).collect())),
                    2..=7 | 12 | 13 => one(Const::from_ints(c.dims.clone(), if c.int { c.ints.clone() } else { c.floats.iter().map(|&v| v.trunc() as i64).collect() })),
                    to => Err(format!("cast to element type {to} is not supported")),
                }
            }
            "ConstantOfShape" => {
                let dims: Vec<usize> = input(0)?.ints.iter().map(|&d| usize::try_from(d).ok()).collect::<Option<_>>().ok_or("the shape has a negative dimension")?;
                let n = elements(&dims).ok_or_else(|| format!("shape {dims:?} has more than {MAX_ELEMENTS} values"))?;
                let value = match attr(node, "value").and_then(|a| a.t.as_ref()) {
                    None => Const::from_floats(vec![1], vec![0.0]),
                    Some(t) => read_const(t).map_err(|e| format!("value {e}"))?,
                };
                let v = scalar(&value, "value")?;
                one(v.pick(dims, &vec![0; n]))
            }
            "Gather" => {
                let c = input(0)?;
                let (dims, src) = gather_map(&c.dims, attr_int(node, "axis", 0), input(1)?)?;
                one(c.pick(dims, &src))
            }
            "Slice" => {
                let c = input(0)?;
                let (starts, ends, axes, steps) = self.slice_args(node).ok_or("starts, ends, axes and steps must be constants")?;
                let (dims, src) = slice_map(&c.dims, &starts, &ends, axes.as_deref(), steps.as_deref())?;
                one(c.pick(dims, &src))
            }
            "Split" => {
                let c = input(0)?;
                let sizes = self.split_sizes(node, err).map_err(|e| e.to_string())?;
                Ok(split_maps(&c.dims, attr_int(node, "axis", 0), sizes.as_deref(), node.output.len())?.into_iter().map(|(dims, src)| c.pick(dims, &src)).collect())
            }
            "Transpose" => {
                let c = input(0)?;
                let (dims, src) = transpose_map(&c.dims, attr_ints(node, "perm"))?;
                one(c.pick(dims, &src))
            }
            "Expand" => {
                let c = input(0)?;
                let (dims, src) = expand_map(&c.dims, &input(1)?.ints)?;
                one(c.pick(dims, &src))
            }
            "Concat" => {
                let parts: Vec<&Const> = (0..node.input.len()).map(input).collect::<Result<_, _>>()?;
                let first = parts.first().ok_or("has no inputs")?;
                let rank = first.dims.len();
                let axis = axis_index(attr_int(node, "axis", 0), rank).ok_or_else(|| format!("axis is outside rank {rank}"))?;
                if parts.iter().any(|p| p.dims.len() != rank || (0..rank).any(|a| a != axis && p.dims[a] != first.dims[a])) {
                    return Err("operand shapes differ off the concatenation axis".into());
                }
                let mut dims = first.dims.clone();
                dims[axis] = parts.iter().map(|p| p.dims[axis]).sum();
                let n = elements(&dims).ok_or_else(|| format!("output shape {dims:?} has more than {MAX_ELEMENTS} values"))?;
                let int = parts.iter().all(|p| p.int);
                let (mut floats, mut ints) = (Vec::with_capacity(n), Vec::with_capacity(n));
                for o in 0..n {
                    let mut c = unflat(o, &dims);
                    let mut j = 0;
                    while c[axis] >= parts[j].dims[axis] {
                        c[axis] -= parts[j].dims[axis];
                        j += 1;
                    }
                    let i = flat(&c, &parts[j].dims);
                    floats.push(parts[j].floats[i]);
                    ints.push(parts[j].ints[i]);
                }
                one(Const { dims, floats, ints, int })
            }
            "Range" => {
                let (start, limit, delta) = (scalar(input(0)?, "start")?, scalar(input(1)?, "limit")?, scalar(input(2)?, "delta")?);
                let (s, l, d) = (f64::from(start.floats[0]), f64::from(limit.floats[0]), f64::from(delta.floats[0]));
                if d == 0.0 {
                    return Err("delta is 0".into());
                }
                let n = ((l - s) / d).ceil().max(0.0);
                // NaN (an infinite or NaN bound) fails this test too.
                if n.is_nan() || n > MAX_ELEMENTS as f64 {
                    return Err(format!("the range holds more than {MAX_ELEMENTS} values"));
                }
                let n = n as usize;
                if start.int && limit.int && delta.int {
                    let at = |k: i64| k.checked_mul(delta.ints[0]).and_then(|v| v.checked_add(start.ints[0]));
                    one(Const::from_ints(vec![n], (0..n as i64).map(at).collect::<Option<_>>().ok_or("the range overflows int64")?))
                } else {
                    one(Const::from_floats(vec![n], (0..n).map(|k| (s + k as f64 * d) as f32).collect()))
                }
            }
            "Where" => {
                let (c, x, y) = (input(0)?, input(1)?, input(2)?);
                let (dims, src) = broadcast_all(&[&c.dims, &x.dims, &y.dims])?;
                let pick = |k: usize| if c.ints[src[0][k]] != 0 { (x, src[1][k]) } else { (y, src[2][k]) };
                let n = src[0].len();
                if x.int && y.int {
                    one(Const::from_ints(dims, (0..n).map(|k| pick(k).0.ints[pick(k).1]).collect()))
                } else {
                    one(Const::from_floats(dims, (0..n).map(|k| pick(k).0.floats[pick(k).1]).collect()))
                }
            }
            "Add" | "Sub" | "Mul" | "Div" | "Pow" | "Mod" | "Max" | "Min" | "Equal" | "Less" | "Greater" | "LessOrEqual" | "GreaterOrEqual" | "And" | "Or" => {
                let fmod = attr_int(node, "fmod", 0) != 0;
                let mut acc = input(0)?.clone();
                // Max and Min take any number of operands; the others exactly two.
                let last = if matches!(op, "Max" | "Min") { node.input.len() } else { 2 };
                for i in 1..last {
                    acc = binary(op, &acc, input(i)?, fmod)?;
                }
                one(acc)
            }
            _ => {
                let c = input(0)?;
                let unary: fn(f64) -> f64 = match op {
                    "Neg" if c.int => return one(Const::from_ints(c.dims.clone(), c.ints.iter().map(|&v| v.wrapping_neg()).collect())),
                    "Abs" if c.int => return one(Const::from_ints(c.dims.clone(), c.ints.iter().map(|&v| v.wrapping_abs()).collect())),
                    "Not" => return one(Const::from_ints(c.dims.clone(), c.ints.iter().map(|&v| i64::from(v == 0)).collect())),
                    "Neg" => |x| -x,
                    "Abs" => f64::abs,
                    "Sqrt" => f64::sqrt,
                    "Reciprocal" => f64::recip,
                    "Floor" => f64::floor,
                    "Ceil" => f64::ceil,
                    "Exp" => f64::exp,
                    "Log" => f64::ln,
                    "Relu" => |x| Func::Relu.apply(x),
                    "Sigmoid" => |x| Func::Sigmoid.apply(x),
                    "Tanh" => f64::tanh,
                    "Erf" => |x| Func::Erf.apply(x),
                    _ => return Err(format!("folding {op} (node `{name}`) is not supported")),
                };
                one(Const::from_floats(c.dims.clone(), c.floats.iter().map(|&v| unary(f64::from(v)) as f32).collect()))
            }
        }
    }
}
