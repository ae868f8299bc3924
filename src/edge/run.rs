//! `mlgate run`: the smoke test an edge team runs on a device. The bundle is checked first (digests, and with
//! pinned keys its signatures and attestation); only a bundle that passes is run, with tract, on the input.

use std::path::{Path, PathBuf};

use super::archive::Limits;
use super::bundle::{check_bundle, CheckedBundle};
use super::manifest::Manifest;
use super::EdgeError;
use crate::model::eval::{argmax, plan_for, run_all, OutputRows};
use crate::model::{input, DataSpec, Model};
use crate::report::Verdict;
use crate::sign::PublicKey;

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub bundle: PathBuf,
    /// `.npy`/`.npz` arrays or a table (CSV, JSON Lines, Parquet) of features, without labels.
    pub input: PathBuf,
    /// Pinned public keys; empty: only the digests are checked.
    pub keys: Vec<PublicKey>,
    /// Feature columns of a table, in the model's input order.
    pub features: Option<Vec<String>>,
    pub batch_size: usize,
}

/// One row's prediction.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Prediction {
    pub row: usize,
    /// The class (its name when the manifest or the model has names) or the predicted value.
    pub prediction: serde_json::Value,
    /// Class probabilities or scores, when the model gives them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scores: Option<Vec<f64>>,
}

#[derive(Debug)]
pub struct RunOutcome {
    pub checked: CheckedBundle,
    /// `None` when the bundle failed its checks: it was not run.
    pub predictions: Option<Vec<Prediction>>,
}

/// Checks the bundle, then runs its model on the input.
pub fn run_bundle(opts: &RunOptions) -> Result<RunOutcome, EdgeError> {
    let checked = check_bundle(&opts.bundle, &opts.keys, Limits::default())?;
    if checked.report.verdict != Verdict::Pass {
        return Ok(RunOutcome {
            checked,
            predictions: None,
        });
    }
    let shown = opts.bundle.display().to_string();
    let manifest = checked
        .manifest
        .clone()
        .ok_or_else(|| EdgeError::bundle(&shown, "the bundle has no manifest", None))?;
    let artifact = manifest
        .artifacts
        .iter()
        .find(|a| a.evaluable_by_tract)
        .ok_or_else(|| {
            let what: Vec<String> = manifest
                .artifacts
                .iter()
                .map(|a| format!("{} ({} {})", a.path, a.format, a.precision))
                .collect();
            EdgeError::bundle(
                &shown,
                format!(
                    "not run: tract cannot run the model in this bundle ({}); the manifest marks it not evaluable by tract",
                    what.join(", ")
                ),
                Some("a quantized TFLite model is packaged as it is for TensorFlow Lite on the device; bundle a float or an ONNX model (`mlgate quantize`) to smoke-test it with `mlgate run`"),
            )
        })?;
    let bytes = checked
        .files
        .get(&artifact.path)
        .ok_or_else(|| EdgeError::bundle(&shown, format!("no entry {}", artifact.path), None))?;
    // tract reads models from files: the checked bytes go to a private temporary folder, never next to the bundle.
    let tmp = tempfile::tempdir().map_err(|e| EdgeError::Io {
        path: "a temporary folder".into(),
        err: e,
    })?;
    let file = Path::new(&artifact.path)
        .file_name()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("model"));
    let model_path = tmp.path().join(file);
    std::fs::write(&model_path, bytes).map_err(|e| EdgeError::Io {
        path: model_path.display().to_string(),
        err: e,
    })?;
    let mut model = Model::load(&model_path)?;
    model.display = format!("{shown}:{}", artifact.path);
    let data = input::read(
        &DataSpec {
            path: opts.input.clone(),
            label: String::new(),
            features: opts.features.clone(),
            format: None,
        },
        &model.input.name,
    )?;
    let plan = plan_for(&model, &data, opts.batch_size)?;
    let (outs, _) = run_all(&model, &plan, &data, opts.batch_size)?;
    let predictions = predictions(&model, &manifest, &outs, data.rows());
    Ok(RunOutcome {
        checked,
        predictions: Some(predictions),
    })
}

/// Reads the outputs as predictions: the argmax of a probability output (the class names from the manifest,
/// else the model's class labels), else a label output, else the values of a regressor.
fn predictions(
    model: &Model,
    manifest: &Manifest,
    outs: &[OutputRows],
    rows: usize,
) -> Vec<Prediction> {
    let probs = outs.iter().find(|o| o.dtype.is_float() && o.width >= 2);
    let label = outs.iter().find(|o| !o.dtype.is_float() && o.width == 1);
    let value = outs.iter().find(|o| o.dtype.is_float() && o.width >= 1);
    let class_name = |index: usize| -> serde_json::Value {
        if let Some(n) = manifest.labels.get(index) {
            return n.clone().into();
        }
        match model.class_labels.as_ref().and_then(|c| c.get(index)) {
            Some(c) => (*c).into(),
            None => index.into(),
        }
    };
    (0..rows)
        .map(|r| {
            let slice = |o: &OutputRows| o.data[r * o.width..(r + 1) * o.width].to_vec();
            let (prediction, scores) = match (probs, label, value) {
                (Some(p), _, _) => {
                    let s = slice(p);
                    (class_name(argmax(&s)), Some(s))
                }
                (None, Some(l), _) => {
                    let v = l.data[r];
                    let named = model
                        .class_labels
                        .as_ref()
                        .and_then(|c| c.iter().position(|&x| x as f64 == v))
                        .or_else(|| (v >= 0.0 && v.fract() == 0.0).then_some(v as usize))
                        .and_then(|i| manifest.labels.get(i).cloned());
                    (named.map_or_else(|| (v as i64).into(), Into::into), None)
                }
                (None, None, Some(v)) => {
                    let s = slice(v);
                    (
                        if s.len() == 1 {
                            s[0].into()
                        } else {
                            s.clone().into()
                        },
                        None,
                    )
                }
                (None, None, None) => (serde_json::Value::Null, None),
            };
            Prediction {
                row: r + 1,
                prediction,
                scores,
            }
        })
        .collect()
}
