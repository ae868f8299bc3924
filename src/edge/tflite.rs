//! What a TFLite file says about itself, read from its flatbuffer with tract-tflite's generated reader, without
//! loading the graph: the tensors of the main subgraph's inputs and outputs and the precision of its weights. It
//! works on models tract cannot run (int8, uint8, float16), which are bundled as they are for another runtime.

use serde_json::json;
use tract_tflite::tflite::{root_as_model, Model, Tensor, TensorType};

use super::manifest::{TensorQuantization, TensorSpec};

/// The main subgraph's interface and the weights' precision.
#[derive(Debug, Clone, PartialEq)]
pub struct TfliteInfo {
    pub inputs: Vec<TensorSpec>,
    pub outputs: Vec<TensorSpec>,
    /// `int8`, `uint8`, `fp16` or `fp32`: the narrowest type among the weights of the model's operators.
    pub precision: &'static str,
}

/// Reads `bytes` as a TFLite model. The flatbuffer is verified first, so a truncated or hostile file is an error,
/// never a panic.
pub fn read(bytes: &[u8]) -> Result<TfliteInfo, String> {
    let model = root_as_model(bytes).map_err(|e| format!("not a valid TFLite flatbuffer: {e}"))?;
    info(&model)
}

fn info(model: &Model<'_>) -> Result<TfliteInfo, String> {
    let graph = model
        .subgraphs()
        .and_then(|s| s.iter().next())
        .ok_or("the TFLite model has no subgraph")?;
    let tensors = graph.tensors().ok_or("the main subgraph has no tensors")?;
    let spec = |i: i32| -> Result<TensorSpec, String> {
        let t = usize::try_from(i)
            .ok()
            .filter(|&i| i < tensors.len())
            .map(|i| tensors.get(i))
            .ok_or_else(|| format!("tensor index {i} is out of range"))?;
        Ok(tensor_spec(&t))
    };
    let inputs = graph
        .inputs()
        .map(|v| v.iter().map(spec).collect())
        .unwrap_or(Ok(vec![]))?;
    let outputs = graph
        .outputs()
        .map(|v| v.iter().map(spec).collect())
        .unwrap_or(Ok(vec![]))?;

    // Weights: the tensors with data in a buffer (buffer 0 is the empty sentinel). Their narrowest 8- or 16-bit
    // type is the precision; int32 biases and shape constants do not count, nor do the activations (a float model
    // may take uint8 images and cast them).
    let buffers = model.buffers();
    let has_data = |t: &Tensor<'_>| {
        let b = t.buffer() as usize;
        b != 0
            && buffers
                .filter(|bs| b < bs.len())
                .and_then(|bs| bs.get(b).data())
                .is_some_and(|d| !d.is_empty())
    };
    let weights: Vec<TensorType> = tensors
        .iter()
        .filter(|t| has_data(t))
        .map(|t| t.type_())
        .collect();
    let precision = if weights.contains(&TensorType::INT8) {
        "int8"
    } else if weights.contains(&TensorType::UINT8) {
        "uint8"
    } else if weights.contains(&TensorType::FLOAT16) {
        "fp16"
    } else {
        "fp32"
    };
    Ok(TfliteInfo {
        inputs,
        outputs,
        precision,
    })
}

fn tensor_spec(t: &Tensor<'_>) -> TensorSpec {
    // shape_signature has -1 for a dimension left free (the batch, usually); shape has the size it was traced at.
    let dims: Vec<i32> = t
        .shape_signature()
        .filter(|s| !s.is_empty())
        .or_else(|| t.shape())
        .map(|s| s.iter().collect())
        .unwrap_or_default();
    let shape = dims
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            if d < 0 {
                if i == 0 {
                    json!("batch")
                } else {
                    json!(format!("d{i}"))
                }
            } else {
                json!(d)
            }
        })
        .collect();
    // A quantized tensor's real value is scale * (q - zero_point); one scale per tensor for the interface.
    let quantization = t.quantization().and_then(|q| {
        let scale = q.scale()?.iter().next()?;
        let zero_point = q.zero_point().and_then(|z| z.iter().next()).unwrap_or(0);
        Some(TensorQuantization {
            scale: f64::from(scale),
            zero_point,
        })
    });
    TensorSpec {
        name: t.name().unwrap_or_default().to_string(),
        dtype: dtype(t.type_()).into(),
        shape,
        quantization,
    }
}

fn dtype(t: TensorType) -> &'static str {
    match t {
        TensorType::FLOAT32 => "float32",
        TensorType::FLOAT16 => "float16",
        TensorType::FLOAT64 => "float64",
        TensorType::INT8 => "int8",
        TensorType::UINT8 => "uint8",
        TensorType::INT16 => "int16",
        TensorType::UINT16 => "uint16",
        TensorType::INT32 => "int32",
        TensorType::UINT32 => "uint32",
        TensorType::INT64 => "int64",
        TensorType::UINT64 => "uint64",
        TensorType::BOOL => "bool",
        TensorType::STRING => "string",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_truncated_files_are_errors() {
        assert!(read(b"").is_err());
        assert!(read(b"\x1c\0\0\0TFL3rest").is_err());
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/models/digits_cnn.tflite"
        );
        let bytes = std::fs::read(path).unwrap();
        for n in [8, 100, 2000, bytes.len() / 2] {
            assert!(read(&bytes[..n]).is_err(), "{n} bytes");
        }
    }

    #[test]
    fn the_float_digits_cnn_is_fp32_with_its_tensors() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/models/digits_cnn.tflite"
        );
        let info = read(&std::fs::read(path).unwrap()).unwrap();
        assert_eq!(info.precision, "fp32");
        assert_eq!(info.inputs.len(), 1);
        assert_eq!(info.inputs[0].dtype, "float32");
        assert_eq!(
            info.inputs[0].shape,
            vec![json!(1), json!(8), json!(8), json!(1)]
        );
        assert_eq!(info.outputs[0].shape, vec![json!(1), json!(10)]);
        assert_eq!(info.inputs[0].quantization, None);
    }
}
