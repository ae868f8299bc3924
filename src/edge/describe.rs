//! What a bundle's manifest says about its model: inputs and outputs (name, dtype, shape), read with tract.

use std::path::Path;

use super::manifest::TensorSpec;
use super::EdgeError;
use crate::model::eval::{plan_for, run_all};
use crate::model::input::{EvalData, Truth};
use crate::model::load::{dtype_name, Dim};
use crate::model::npy::{NpyArray, NpyData};
use crate::model::{Model, ModelFormat};

/// What the manifest says about a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Described {
    pub inputs: Vec<TensorSpec>,
    pub outputs: Vec<TensorSpec>,
    /// Whether tract loads the model (and `mlgate run` can run it).
    pub evaluable_by_tract: bool,
    /// The precision read from the file itself (TFLite: the type of its weights); `None` for ONNX and NNEF,
    /// whose precision the target or `--quantize` sets.
    pub precision: Option<String>,
}

/// The model's inputs and outputs, its precision when the file tells it, and whether tract runs it.
///
/// A TFLite file is described from its flatbuffer (tensor names, types, shapes and the weights' precision), so a
/// quantized TFLite model tract cannot load is still described in full, and marked not evaluable. An ONNX model
/// tract cannot load is an error.
pub fn describe(path: &Path) -> Result<Described, EdgeError> {
    let bytes = std::fs::read(path).map_err(|e| EdgeError::Io {
        path: path.display().to_string(),
        err: e,
    })?;
    if crate::model::load::detect(&bytes) == Some(ModelFormat::Tflite) {
        let info = super::tflite::read(&bytes).map_err(|m| {
            EdgeError::bundle(
                &path.display().to_string(),
                m,
                Some("bundle a TFLite file written by the TensorFlow Lite converter"),
            )
        })?;
        return Ok(Described {
            inputs: info.inputs,
            outputs: info.outputs,
            evaluable_by_tract: Model::load(path).is_ok(),
            precision: Some(info.precision.into()),
        });
    }
    drop(bytes);
    let model = Model::load(path)?;
    let dims = model.input.dims.clone().unwrap_or_default();
    let shape: Vec<serde_json::Value> = dims
        .iter()
        .map(|d| match d {
            Dim::Fixed(n) => (*n).into(),
            Dim::Symbol(s) => s.clone().into(),
            Dim::Unknown => "batch".into(),
        })
        .collect();
    let inputs = vec![TensorSpec {
        name: model.input.name.clone(),
        dtype: model
            .input
            .dtype
            .map(dtype_name)
            .unwrap_or("unknown")
            .into(),
        shape: shape.clone(),
        quantization: None,
    }];
    // Outputs: one row of zeros through the model tells their types and widths, when the row's shape is fixed.
    let item: Option<Vec<usize>> = dims
        .get(1..)
        .unwrap_or_default()
        .iter()
        .map(|d| match d {
            Dim::Fixed(n) => Some(*n),
            _ => None,
        })
        .collect();
    let batch = shape.first().cloned().unwrap_or_else(|| 1.into());
    let mut outputs: Vec<TensorSpec> = model
        .outputs
        .iter()
        .map(|o| TensorSpec {
            name: o.name.clone(),
            dtype: "unknown".into(),
            shape: vec![],
            quantization: None,
        })
        .collect();
    if let Some(item) = item.filter(|_| !dims.is_empty()) {
        let per: usize = item.iter().product();
        let mut shape = vec![1];
        shape.extend_from_slice(&item);
        let data = EvalData {
            features: NpyArray {
                shape,
                data: NpyData::F32(vec![0.0; per]),
            },
            truth: Truth::Numbers(vec![]),
            feature_names: vec![],
            from_table: true,
            display: "a row of zeros".into(),
        };
        if let Ok(plan) = plan_for(&model, &data, 1) {
            if let Ok((outs, _)) = run_all(&model, &plan, &data, 1) {
                for (spec, o) in outputs.iter_mut().zip(&outs) {
                    spec.dtype = dtype_name(o.dtype).into();
                    spec.shape = vec![batch.clone(), o.width.into()];
                }
            }
        }
    }
    Ok(Described {
        inputs,
        outputs,
        evaluable_by_tract: true,
        precision: None,
    })
}
