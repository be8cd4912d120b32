//! ONNX external data: initializers whose bytes live in a side file next to the model
//! (`model.onnx.data`, as `torch.onnx.export(..., dynamo=True)` and `onnx.save(...,
//! save_as_external_data=True)` write them). Each such tensor names a `location` (a path
//! relative to the model's directory), an `offset` and a `length`; [`inline_external_data`]
//! reads them through the caller's `read` (the library does no file I/O of its own) and returns
//! the same model with every tensor inline, which the importer and tract then read as usual.
//!
//! A location that is absolute or climbs out of the model's directory is refused (a model file
//! must not make the compiler read `/etc/passwd`), as are a missing or short side file and a
//! length that disagrees with the tensor's shape and element type.

use std::collections::HashMap;
use std::path::{Component, Path};

use tract_onnx::pb::tensor_proto::{DataLocation, DataType};
use tract_onnx::pb::TensorProto;
use tract_onnx::prelude::*;

use super::ImportError;

/// The model with every external tensor read inline, or the bytes unchanged when it has none.
/// `read(location)` returns the whole side file named `location` (relative to the model).
pub fn inline_external_data(
    bytes: &[u8],
    mut read: impl FnMut(&Path) -> std::io::Result<Vec<u8>>,
) -> Result<Vec<u8>, ImportError> {
    let mut proto = tract_onnx::onnx().proto_model_for_read(&mut &bytes[..]).map_err(|e| ImportError::Parse(e.into()))?;
    let Some(graph) = proto.graph.as_mut() else { return Ok(bytes.to_vec()) };
    let external = |t: &TensorProto| t.data_location == Some(DataLocation::External as i32);
    if !graph.initializer.iter().any(external) {
        return Ok(bytes.to_vec());
    }
    let mut files: HashMap<String, Vec<u8>> = HashMap::new();
    for t in graph.initializer.iter_mut().filter(|t| external(t)) {
        let bad = |what: String| ImportError::Input { name: t.name.clone(), what: format!("initializer in external data: {what}") };
        let entry = |key: &str| t.external_data.iter().find(|e| e.key == key).map(|e| e.value.clone());
        let location = entry("location").ok_or_else(|| bad("no `location` names its file".into()))?;
        let path = Path::new(&location);
        if !path.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir)) || location.is_empty() {
            return Err(bad(format!("location {location:?} is not a relative path inside the model's directory")));
        }
        let number = |key: &str| -> Result<Option<usize>, ImportError> {
            entry(key).map(|v| v.parse::<usize>().map_err(|_| bad(format!("`{key}` is {v:?}, not a byte count")))).transpose()
        };
        let (offset, length) = (number("offset")?.unwrap_or(0), number("length")?);
        if !files.contains_key(&location) {
            let data = read(path).map_err(|e| bad(format!("cannot read {location}: {e}")))?;
            files.insert(location.clone(), data);
        }
        let data = &files[&location];
        let end = match length {
            Some(length) => offset.checked_add(length),
            None => Some(data.len()),
        };
        let slice = end.filter(|&end| offset <= end && end <= data.len()).map(|end| &data[offset..end]).ok_or_else(|| {
            bad(format!("{location} holds {} bytes; the tensor needs bytes {offset}..{} (truncated side file?)", data.len(), end.map_or("overflow".to_string(), |e| e.to_string())))
        })?;
        if let Some(need) = expected_bytes(t) {
            if slice.len() != need {
                return Err(bad(format!("{} bytes for a tensor of shape {:?} that needs {need}", slice.len(), t.dims)));
            }
        }
        t.raw_data = slice.to_vec();
        t.external_data.clear();
        t.data_location = Some(DataLocation::Default as i32);
    }
    Ok(prost::Message::encode_to_vec(&proto))
}

/// The raw byte count of a tensor of the element types the importer reads.
fn expected_bytes(t: &TensorProto) -> Option<usize> {
    let size = match t.data_type {
        x if x == DataType::Float as i32 || x == DataType::Int32 as i32 => 4,
        x if x == DataType::Int64 as i32 || x == DataType::Double as i32 => 8,
        _ => return None,
    };
    t.dims.iter().try_fold(size, |n: usize, &d| usize::try_from(d).ok().and_then(|d| n.checked_mul(d)))
}
