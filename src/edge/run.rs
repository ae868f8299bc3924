//! `mlgate run`: the smoke test an edge team runs on a device. The bundle is checked first (digests, and with
//! pinned keys its signatures and attestation, and what the device expects: target, model, minimum version);
//! only a bundle that passes is run, with tract, on the input.
//!
//! The check streams the archive once; the model file is written to a private temporary folder as it streams
//! (tract loads models from files), and loaded from there only when every check passed.

use std::path::PathBuf;

use super::check::{check_bundle, CheckOptions, CheckedBundle, Expect, Extract};
use super::manifest::{Artifact, Manifest};
use super::EdgeError;
use crate::model::eval::{argmax, plan_for, run_all, OutputRows};
use crate::model::{input, DataSpec, Model};
use crate::report::{Check, Finding, Report, Severity, Status, Verdict};
use crate::sign::PublicKey;

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub bundle: PathBuf,
    /// `.npy`/`.npz` arrays or a table (CSV, JSON Lines, Parquet) of features, without labels. None: only with
    /// `selftest`.
    pub input: Option<PathBuf>,
    /// Run the bundle's self-test (its input, held to its expected outputs) instead of `input`.
    pub selftest: bool,
    /// Pinned public keys; empty: only the digests are checked (integrity, not authenticity).
    pub keys: Vec<PublicKey>,
    /// Refuse to run without keys.
    pub require_signature: bool,
    /// What the bundle must be.
    pub expect: Expect,
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

/// What the report says when no key was pinned: a warning (the verdict still passes), or with
/// `require_signature` a failure.
fn unsigned_check(subject: &str, required: bool) -> Check {
    let mut c = Check::new(subject, "signature");
    if required {
        c.status = Status::Fail;
        c.summary = "refused: a signature is required and no --pubkey was given".into();
        let mut f = Finding::new(
            "signature-required",
            Severity::Error,
            "a signature is required (--require-signature or MLGATE_REQUIRE_SIGNATURE) but no --pubkey was \
             given: the bundle's authenticity cannot be checked, so it was not read nor run",
        );
        f.file = Some(subject.to_string());
        c.findings.push(f);
        c.counts.insert("signature-required".into(), 1);
    } else {
        c.status = Status::Warn;
        c.summary = "not checked: no --pubkey was given; only integrity (the digests) was checked, not who \
                     made the bundle"
            .into();
    }
    c
}

/// Checks the bundle, then runs its model on the input.
pub fn run_bundle(opts: &RunOptions) -> Result<RunOutcome, EdgeError> {
    let subject = opts
        .bundle
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bundle".into());
    if opts.keys.is_empty() && opts.require_signature {
        return Ok(RunOutcome {
            checked: CheckedBundle {
                report: Report::new(vec![unsigned_check(&subject, true)]),
                manifest: None,
                entries: Default::default(),
                extracted: vec![],
            },
            predictions: None,
        });
    }
    // The model streams into this private folder during the check; it is removed when `staging` drops.
    let staging = tempfile::tempdir().map_err(|e| EdgeError::Io {
        path: "a temporary folder".into(),
        err: e,
    })?;
    let mut checked = check_bundle(
        &opts.bundle,
        &CheckOptions {
            keys: opts.keys.clone(),
            limits: Default::default(),
            expect: opts.expect.clone(),
            extract: Extract::Artifacts(staging.path().to_path_buf()),
        },
    )?;
    if opts.keys.is_empty() {
        let mut checks = std::mem::take(&mut checked.report.checks);
        checks.push(unsigned_check(&subject, false));
        checked.report = Report::new(checks);
    }
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
    let artifact = runnable(&shown, &manifest)?;
    if !checked.extracted.contains(&artifact.path) {
        return Err(EdgeError::bundle(
            &shown,
            format!(
                "{} comes before manifest.json in the archive, so it was not kept to run",
                artifact.path
            ),
            Some("bundles made by `mlgate bundle` list manifest.json first"),
        ));
    }
    if opts.selftest {
        return run_selftest(&shown, &subject, staging.path(), &manifest, checked);
    }
    let input_path = opts.input.clone().ok_or_else(|| {
        EdgeError::bundle(
            &shown,
            "no input to run the model on",
            Some("pass --input FILE or --selftest"),
        )
    })?;
    let mut model = Model::load(&staging.path().join(&artifact.path))?;
    model.display = format!("{shown}:{}", artifact.path);
    let data = input::read(
        &DataSpec {
            path: input_path,
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

/// The bundle's self-test, run on the checked files in `staging`; its outcome is one more check in the report.
fn run_selftest(
    shown: &str,
    subject: &str,
    staging: &std::path::Path,
    manifest: &Manifest,
    mut checked: CheckedBundle,
) -> Result<RunOutcome, EdgeError> {
    let outcome = super::selftest::run_in_folder(staging, manifest)?.ok_or_else(|| {
        EdgeError::bundle(
            shown,
            "the bundle has no self-test",
            Some("bundle the model with `mlgate bundle --selftest DATA` (a few golden rows)"),
        )
    })?;
    let mut checks = std::mem::take(&mut checked.report.checks);
    checks.push(outcome.check(subject));
    checked.report = Report::new(checks);
    Ok(RunOutcome {
        checked,
        predictions: None,
    })
}

/// The first model of the manifest that tract runs; the error names what the bundle holds instead.
fn runnable<'m>(shown: &str, manifest: &'m Manifest) -> Result<&'m Artifact, EdgeError> {
    manifest
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
                shown,
                format!(
                    "not run: tract cannot run the model in this bundle ({}); the manifest marks it not evaluable by tract",
                    what.join(", ")
                ),
                Some("a quantized TFLite model is packaged as it is for TensorFlow Lite on the device; bundle a float or an ONNX model (`mlgate quantize`) to smoke-test it with `mlgate run`"),
            )
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
