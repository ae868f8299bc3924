//! Reading and writing ONNX models with the prost code generated from the vendored `onnx.proto3`
//! (`scripts/gen-onnx-proto.sh`). tract's own `tract_onnx::pb` is not used for writing: it is an older IR and
//! would drop the fields it does not know.

use prost::Message;

pub use super::onnx_pb::{
    attribute_proto::AttributeType, tensor_proto::DataType, AttributeProto, GraphProto, ModelProto,
    NodeProto, OperatorSetIdProto, StringStringEntryProto, TensorProto,
};

/// Decodes a model; the error is prost's text.
pub fn decode(bytes: &[u8]) -> Result<ModelProto, String> {
    ModelProto::decode(bytes).map_err(|e| e.to_string())
}

/// Encodes a model. prost writes fields in tag order and repeated fields in their order, so the same model gives
/// the same bytes.
pub fn encode(model: &ModelProto) -> Vec<u8> {
    model.encode_to_vec()
}

/// The opset version of the default (`ai.onnx`) domain, if imported.
pub fn default_opset(model: &ModelProto) -> Option<i64> {
    model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
}

/// An attribute of a node by name.
pub fn attr<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

pub fn attr_int(node: &NodeProto, name: &str, default: i64) -> i64 {
    attr(node, name).map(|a| a.i).unwrap_or(default)
}

pub fn attr_float(node: &NodeProto, name: &str, default: f32) -> f32 {
    attr(node, name).map(|a| a.f).unwrap_or(default)
}

/// A float tensor's values, from `raw_data` (little-endian) or `float_data`. `Err` says why not.
pub fn float_values(t: &TensorProto) -> Result<Vec<f32>, String> {
    if t.data_type != DataType::Float as i32 {
        return Err(format!("is not float32 (ONNX type {})", t.data_type));
    }
    if t.data_location == 1 || !t.external_data.is_empty() {
        return Err("is stored in an external file (external data is not supported)".into());
    }
    let count: i64 = t.dims.iter().product();
    let values: Vec<f32> = if !t.raw_data.is_empty() {
        if !t.raw_data.len().is_multiple_of(4) {
            return Err("has raw data whose length is not a multiple of 4".into());
        }
        t.raw_data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    } else {
        t.float_data.clone()
    };
    if values.len() as i64 != count {
        return Err(format!(
            "holds {} values for dims {:?}",
            values.len(),
            t.dims
        ));
    }
    Ok(values)
}

/// A float32 tensor stored as raw little-endian bytes.
pub fn float_tensor(name: &str, dims: &[i64], values: &[f32]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::Float as i32,
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

/// An int8 tensor stored as raw bytes.
pub fn int8_tensor(name: &str, dims: &[i64], values: &[i8]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::Int8 as i32,
        raw_data: values.iter().map(|&v| v as u8).collect(),
        ..Default::default()
    }
}

/// A graph input or output known by its name only (tract infers its type).
pub fn value_info(name: &str) -> super::onnx_pb::ValueInfoProto {
    super::onnx_pb::ValueInfoProto {
        name: name.into(),
        ..Default::default()
    }
}

pub fn node(op: &str, name: &str, inputs: &[&str], outputs: &[&str]) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        name: name.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

pub fn int_attr(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Int as i32,
        i: value,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_round_trips_and_encodes_stably() {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/models/digits_mlp.onnx"
        ))
        .unwrap();
        let model = decode(&bytes).unwrap();
        assert_eq!(default_opset(&model), Some(17));
        // Every field survives (prost would keep nothing it does not know, so the message must be whole), and
        // encoding is a pure function of the message.
        let once = encode(&model);
        assert_eq!(decode(&once).unwrap(), model);
        assert_eq!(encode(&decode(&once).unwrap()), once);
        // proto3 leaves out fields equal to their default that the writer set explicitly (skl2onnx writes
        // `domain: ""` on every node, `model_version: 0`): 26 bytes here, the same model for every reader.
        assert!(once.len() <= bytes.len() && once.len() + 100 > bytes.len());
    }

    #[test]
    fn float_tensors_read_raw_and_typed_data() {
        let t = float_tensor("w", &[2], &[1.5, -2.0]);
        assert_eq!(float_values(&t).unwrap(), vec![1.5, -2.0]);
        let t = TensorProto {
            dims: vec![2],
            data_type: DataType::Float as i32,
            float_data: vec![3.0, 4.0],
            ..Default::default()
        };
        assert_eq!(float_values(&t).unwrap(), vec![3.0, 4.0]);
        let bad = TensorProto { dims: vec![3], ..t };
        assert!(float_values(&bad).unwrap_err().contains("2 values"));
    }
}
