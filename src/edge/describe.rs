//! What a bundle's manifest says about its model: inputs and outputs (name, dtype, shape), read with tract.

use std::path::Path;

use super::manifest::TensorSpec;
use super::EdgeError;
use crate::model::eval::{plan_for, run_all};
use crate::model::input::{EvalData, Truth};
use crate::model::load::{dtype_name, Dim};
use crate::model::npy::{NpyArray, NpyData};
use crate::model::{Model, ModelFormat};

/// The model's inputs and outputs, and whether tract runs it. A TFLite model tract cannot load (quantized,
/// dynamic batch) is described as not evaluable, with no tensors; an ONNX model tract cannot load is an error.
pub fn describe(path: &Path) -> Result<(Vec<TensorSpec>, Vec<TensorSpec>, bool), EdgeError> {
    let model = match Model::load(path) {
        Ok(m) => m,
        Err(e) => {
            let head = std::fs::read(path).unwrap_or_default();
            return match crate::model::load::detect(&head) {
                Some(ModelFormat::Tflite) => Ok((vec![], vec![], false)),
                _ => Err(e.into()),
            };
        }
    };
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
    Ok((inputs, outputs, true))
}
