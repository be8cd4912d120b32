//! A generator: a compiled [`Graph`] read as "latent in, picture out". It is a view, not a
//! second model format: any graph whose one input is an int8 latent and whose one output is a
//! picture is a generator, and the mint statement is the model circuit of that graph with the
//! latent committed and the picture public ([`Visibility::Committed`], [`Visibility::Picture`]).
//!
//! # Pictures
//!
//! The output tensor must have the shape `[1, C, H, W]` (or `[C, H, W]`) with `C` = 3 (RGB) or
//! 1 (grey), and a range of exactly 256 values `[lo, lo + 255]` — what a bounded output
//! (Tanh, Sigmoid, Clip, or a trained clamp) calibrates to at 8 bits. Pixel byte = `q - lo`,
//! the value the circuit stores: the low end of the output's range is black, the high end
//! full intensity. The public picture is always RGB8, row-major (`(y·W + x)·3 + c`); a grey
//! value fills R, G and B, so the on-chain statement does not depend on the channel count.
//!
//! [`Visibility::Committed`]: crate::circuit::graph::Visibility::Committed
//! [`Visibility::Picture`]: crate::circuit::graph::Visibility::Picture

use crate::graph::{Graph, GraphError};

/// A picture: `height × width` pixels, RGB8 row-major (HWC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Picture {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<u8>,
}

/// Why a graph is not a generator, or a latent not one of its inputs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GeneratorError {
    #[error("a generator has one input (the latent) and one output (the picture); this model has {inputs} inputs and {outputs} outputs")]
    Arity { inputs: usize, outputs: usize },
    #[error("the latent input `{name}` must hold int8 values (range [-128, 127]), not [{lo}, {hi}]")]
    Latent { name: String, lo: i64, hi: i64 },
    #[error(
        "the output `{name}` is not a picture: it must have the shape [1, C, H, W] with C = 1 or 3 and a range of \
         exactly 256 values (a bounded output such as Tanh, Sigmoid or Clip at 8 bits); it has the shape {shape:?} \
         and the range [{lo}, {hi}]"
    )]
    NotAPicture { name: String, shape: Vec<usize>, lo: i64, hi: i64 },
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[cfg(feature = "onnx")]
    #[error(transparent)]
    Import(#[from] crate::graph::import::ImportError),
    #[cfg(feature = "onnx")]
    #[error(transparent)]
    Quantize(#[from] crate::graph::quantize::QuantizeError),
    #[error("the ONNX model carries no trained scales (`{0}` metadata): compile it with `section9 compile` and use the .s9 file")]
    Untrained(&'static str),
    #[error("node `{0}` has no trained scales in the model's metadata")]
    UntrainedNode(String),
    #[error("node `{node}`: weight {index} is not a multiple of 2^-{frac_bits}, the grid its trained scale puts it on")]
    OffGrid { node: String, index: usize, frac_bits: i32 },
}

/// Scale hints that make a float generator's output a picture when calibrated at 8 bits: an
/// output clamped to `[a, b]` (Clip, a fused Relu…) gets the scale `2^f` with the largest `f`
/// for which `(b - a)·2^f ≤ 256`, so its range is 256 values (`[0, 1]` → `[0, 255]` at 2^-8,
/// `[-1, 1]` → `[-128, 127]` at 2^-7; the top value loses its last step). Function outputs
/// (Tanh, Sigmoid) are 8-bit tables and span 256 values already.
pub fn picture_hints(graph: &crate::graph::float::FloatGraph, hints: &mut crate::graph::quantize::ScaleHints) {
    let Some(&out) = graph.outputs.first() else { return };
    let Some(node) = graph.nodes.iter().find(|n| n.output == out) else { return };
    if let crate::graph::float::FloatOp::Linear { clamp: Some((a, b)), .. } = node.op {
        let span = f64::from(b) - f64::from(a);
        if span > 0.0 && span.is_finite() {
            let f = (256.0 / span).log2().floor() as i32;
            hints.outputs.entry(node.name.clone()).or_insert(f.clamp(-32, 32));
        }
    }
}

/// Compiles an ONNX generator whose scales training fixed (the
/// [`HINTS_KEY`](crate::graph::import::HINTS_KEY) metadata, as the committed generator's
/// training code writes it): the compiled graph is then exactly the integer model training
/// simulated, and the calibration latents only confirm the ranges.
#[cfg(feature = "onnx")]
pub fn compile_trained(onnx: &[u8]) -> Result<Generator, GeneratorError> {
    use crate::graph::{import, quantize};
    let imported = import::import(onnx)?;
    let g = &imported.graph;
    let (&[input], 1) = (&g.inputs[..], g.outputs.len()) else {
        return Err(GeneratorError::Arity { inputs: g.inputs.len(), outputs: g.outputs.len() });
    };
    let frac = *imported.hints.inputs.get(&g.tensors[input].name).ok_or(GeneratorError::Untrained(import::HINTS_KEY))?;
    // Trained weights sit on their power-of-two grid exactly; one that does not was changed
    // after training (or the metadata belongs to another model), and calibration would round it
    // silently.
    for node in &g.nodes {
        if let (crate::graph::float::FloatOp::Linear { weights, .. }, Some(&(fw, _))) = (&node.op, imported.hints.nodes.get(&node.name)) {
            let scale = 2f64.powi(fw);
            if let Some(index) = weights.iter().position(|&w| (f64::from(w) * scale).fract() != 0.0) {
                return Err(GeneratorError::OffGrid { node: node.name.clone(), index, frac_bits: fw });
            }
        }
    }
    let len = g.tensors[input].len();
    let step = 2f64.powi(-frac);
    let samples: Vec<Vec<Vec<f64>>> =
        (0..4u8).map(|i| vec![crate::prompt::Seed([i; 32]).latent("calibration", len).iter().map(|&v| f64::from(v) * step).collect()]).collect();
    let (graph, _) = quantize::quantize(g, &samples, &quantize::Options::default(), &imported.hints)?;
    let graph = graph.with_prompt(imported.prompt)?;
    // A linear node without trained scales would be calibrated instead: not the model
    // training simulated.
    if let Some(node) = graph.nodes().iter().find(|n| matches!(n.op, crate::graph::Op::Linear { .. }) && !imported.hints.nodes.contains_key(&n.name)) {
        return Err(GeneratorError::UntrainedNode(node.name.clone()));
    }
    Generator::new(graph)
}

/// `(channels, height, width)` of a generator's picture, or why the graph is not a generator.
pub fn picture_shape(graph: &Graph) -> Result<(usize, usize, usize), GeneratorError> {
    let (&[input], &[output]) = (graph.inputs(), graph.outputs()) else {
        return Err(GeneratorError::Arity { inputs: graph.inputs().len(), outputs: graph.outputs().len() });
    };
    let latent = &graph.tensors()[input];
    if (latent.lo, latent.hi) != (-128, 127) {
        return Err(GeneratorError::Latent { name: latent.name.clone(), lo: latent.lo, hi: latent.hi });
    }
    let out = &graph.tensors()[output];
    let not = || GeneratorError::NotAPicture { name: out.name.clone(), shape: out.shape.clone(), lo: out.lo, hi: out.hi };
    let chw = match out.shape[..] {
        [1, c, h, w] | [c, h, w] => (c, h, w),
        _ => return Err(not()),
    };
    if !matches!(chw.0, 1 | 3) || chw.1 == 0 || chw.2 == 0 || out.hi - out.lo != 255 {
        return Err(not());
    }
    Ok(chw)
}

/// For each byte of the RGB8 row-major picture, the index of the CHW output value it shows:
/// byte `3·p + k` is channel `k` of pixel `p`, or its one grey channel.
pub fn rgb_sources(len: usize, channels: usize) -> Vec<usize> {
    let channels = channels.max(1);
    let hw = len / channels;
    (0..hw * 3).map(|b| (b % 3).min(channels - 1) * hw + b / 3).collect()
}

/// A graph checked to be a generator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generator {
    graph: Graph,
    shape: (usize, usize, usize),
}

impl Generator {
    pub fn new(graph: Graph) -> Result<Generator, GeneratorError> {
        let shape = picture_shape(&graph)?;
        Ok(Generator { graph, shape })
    }

    /// Reads a compiled model file and checks it is a generator.
    pub fn from_json(text: &str) -> Result<Generator, GeneratorError> {
        Generator::new(Graph::from_json(text)?)
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    pub fn into_graph(self) -> Graph {
        self.graph
    }

    /// The latent of `prompt` under `seed` (`crate::prompt`): all hash noise, or noise followed
    /// by the condition of the prompt's words for a generator that carries a vocabulary.
    pub fn latent(&self, seed: &crate::prompt::Seed, prompt: &str) -> Vec<i8> {
        match self.graph.prompt() {
            Some(words) => words.latent(seed, prompt),
            None => seed.latent(prompt, self.latent_len()),
        }
    }

    /// Values in the latent.
    pub fn latent_len(&self) -> usize {
        self.graph.tensors()[self.graph.inputs()[0]].len()
    }

    /// Frac bits of the latent: value `q` stands for `q · 2^-frac_bits`.
    pub fn latent_frac_bits(&self) -> i32 {
        self.graph.tensors()[self.graph.inputs()[0]].frac_bits
    }

    /// `(channels, height, width)`.
    pub fn shape(&self) -> (usize, usize, usize) {
        self.shape
    }

    /// The model id (SHA-256 of the compiled graph).
    pub fn id(&self) -> [u8; 32] {
        self.graph.id()
    }

    /// The output's stored values `q - lo` (CHW), each a pixel byte.
    pub fn output(&self, latent: &[i8]) -> Result<Vec<i64>, GeneratorError> {
        let q = vec![latent.iter().map(|&v| i64::from(v)).collect()];
        let out = self.graph.outputs()[0];
        let lo = self.graph.tensors()[out].lo;
        let mut values = self.graph.run(&q)?;
        Ok(std::mem::take(&mut values[out]).into_iter().map(|v| v - lo).collect())
    }

    /// The picture for a latent.
    pub fn picture(&self, latent: &[i8]) -> Result<Picture, GeneratorError> {
        let output = self.output(latent)?;
        let (c, h, w) = self.shape;
        // Each value is in [0, 255]: the output's range spans exactly 256 values.
        let rgb = rgb_sources(output.len(), c).into_iter().map(|i| output[i] as u8).collect();
        Ok(Picture { width: w, height: h, rgb })
    }
}
