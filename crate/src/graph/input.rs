//! Input files in EZKL's JSON shape, so its users switch without rewriting data:
//! `{"input_data": [[...flattened input 0...], [...input 1...]]}`.
//!
//! For calibration an input's list may hold several samples back to back (a whole number of
//! times the input's length), as EZKL's calibration files do.
//!
//! Token ids (an input the model uses as table indices, int64 or int32 in the ONNX file) are
//! written as numbers like any value: `[3, 0, 15]`. This file only reads numbers; the compiled
//! graph knows which inputs are indices and refuses a fraction or an id outside the table when
//! it takes them ([`Graph::quantize_inputs`](super::Graph::quantize_inputs)), and calibration
//! refuses such samples naming the lookup.

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    #[error("not an input file (expected {{\"input_data\": [[...], ...]}})")]
    Json(#[source] serde_json::Error),
    #[error("the file has {got} inputs, the model takes {expected}")]
    Count { expected: usize, got: usize },
    #[error("input {index} has {got} values, not a multiple of the model's {expected}")]
    Length { index: usize, expected: usize, got: usize },
    #[error("inputs hold different numbers of samples: {counts:?}")]
    Samples { counts: Vec<usize> },
    #[error("input {index}, value {at} is not a finite number")]
    NotFinite { index: usize, at: usize },
}

#[derive(Deserialize)]
struct InputFile {
    input_data: Vec<Vec<f64>>,
}

/// Reads an input file for a model whose inputs have `lengths` values; returns
/// `samples[s][input]` (one sample for a proof, any number for calibration).
pub fn parse(text: &str, lengths: &[usize]) -> Result<Vec<Vec<Vec<f64>>>, InputError> {
    let file: InputFile = serde_json::from_str(text).map_err(InputError::Json)?;
    if file.input_data.len() != lengths.len() {
        return Err(InputError::Count { expected: lengths.len(), got: file.input_data.len() });
    }
    let mut counts = Vec::with_capacity(lengths.len());
    for (index, (data, &len)) in file.input_data.iter().zip(lengths).enumerate() {
        if let Some(at) = data.iter().position(|v| !v.is_finite()) {
            return Err(InputError::NotFinite { index, at });
        }
        if len == 0 || data.is_empty() || data.len() % len != 0 {
            return Err(InputError::Length { index, expected: len, got: data.len() });
        }
        counts.push(data.len() / len);
    }
    if counts.iter().any(|&c| c != counts[0]) {
        return Err(InputError::Samples { counts });
    }
    Ok((0..counts[0])
        .map(|s| file.input_data.iter().zip(lengths).map(|(data, &len)| data[s * len..(s + 1) * len].to_vec()).collect())
        .collect())
}

/// Writes values in the same shape (`{"input_data": ...}`).
pub fn to_json(inputs: &[Vec<f64>]) -> String {
    serde_json::json!({ "input_data": inputs }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_split_and_errors_name_the_problem() {
        let s = parse(r#"{"input_data": [[1, 2, 3, 4], [5, 6]]}"#, &[2, 1]).unwrap();
        assert_eq!(s, vec![vec![vec![1.0, 2.0], vec![5.0]], vec![vec![3.0, 4.0], vec![6.0]]]);
        assert!(matches!(parse(r#"{"input_data": [[1, 2, 3]]}"#, &[2]), Err(InputError::Length { index: 0, expected: 2, got: 3 })));
        assert!(matches!(parse(r#"{"input_data": [[1, 2]]}"#, &[2, 1]), Err(InputError::Count { expected: 2, got: 1 })));
        assert!(matches!(parse(r#"{"inputs": []}"#, &[2]), Err(InputError::Json(_))));
        assert!(matches!(parse(r#"{"input_data": [[1, 2], [1, 2]]}"#, &[2, 1]), Err(InputError::Samples { .. })));
    }
}
