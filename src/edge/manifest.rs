//! `manifest.json`: what a bundle holds and what a device needs to know to run it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The manifest format's version. Bump it only with a breaking change.
pub const MANIFEST_VERSION: u32 = 1;

/// The oldest tract that runs what mlgate bundles: the version mlgate itself evaluates models with.
pub const MIN_TRACT_VERSION: &str = "0.23.9";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub schema_version: u32,
    pub name: String,
    pub version: String,
    pub target: String,
    /// The model files, by their name in the bundle.
    pub artifacts: Vec<Artifact>,
    pub inputs: Vec<TensorSpec>,
    pub outputs: Vec<TensorSpec>,
    /// Class names, in the order of the model's output columns.
    #[serde(default)]
    pub labels: Vec<String>,
    /// How inputs are prepared before the model sees them (free-form, from the user).
    #[serde(default)]
    pub preprocessing: Option<serde_json::Value>,
    /// The metrics of the model's gate in the report the bundle was made from, by metric name.
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// Accuracy and size deltas of the quantized variant against the float model, when quantized.
    #[serde(default)]
    pub quantization: Option<serde_json::Value>,
    /// The gate report the bundle was made from: its SHA-256 and verdict.
    #[serde(default)]
    pub gate: Option<GateRef>,
    pub min_tract_version: String,
    /// The golden input and expected outputs a device checks the model with (`mlgate bundle --selftest`).
    /// Absent from bundles without one, so their manifests are unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selftest: Option<super::selftest::SelfTestSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    pub path: String,
    /// `onnx`, `tflite` or `nnef`.
    pub format: String,
    /// `fp32`, `fp16` or `int8`.
    pub precision: String,
    pub size: u64,
    pub sha256: String,
    /// False for models tract cannot run (quantized TFLite): packaged as they are, for another runtime.
    pub evaluable_by_tract: bool,
}

/// A model input or output. Dimensions are numbers, or names for symbolic ones (the batch, usually).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TensorSpec {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<serde_json::Value>,
    /// For an int8 or uint8 tensor of a quantized TFLite model: how its integers map to real values. Absent for
    /// float tensors (and in manifests written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization: Option<TensorQuantization>,
}

/// `real = scale * (q - zero_point)`, one scale for the whole tensor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TensorQuantization {
    pub scale: f64,
    pub zero_point: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateRef {
    pub report_sha256: String,
    pub verdict: String,
}

impl Manifest {
    /// Pretty JSON with a final newline; the field order is the struct's, so the bytes are stable.
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }
}
