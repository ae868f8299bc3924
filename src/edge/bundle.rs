//! Building a bundle: model files, manifest.json, SHA256SUMS and, with a key, minisign signatures and the
//! in-toto attestation. [`super::check`] checks one before a device trusts it.
//!
//! Layout of the tar.gz, entries sorted by byte order of their names, which puts the signed file list first:
//! `SHA256SUMS` (`sha256sum -c` reads it), with a key `SHA256SUMS.minisig` and `attestation.intoto.jsonl`, then
//! `manifest.json` (and its `.minisig`), then `models/<model file>` (and its `.minisig`). A device reading the
//! archive as a stream meets the list and its signature before any payload, so it can refuse an entry the list
//! does not name before reading its bytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::archive::write_tar_gz;
use super::manifest::{
    Artifact, GateRef, Manifest, TensorSpec, MANIFEST_VERSION, MIN_TRACT_VERSION,
};
use super::selftest::SelfTest;
use super::targets::Target;
use super::EdgeError;
use crate::report::{Check, Report, Verdict};
use crate::sign::dsse::{attest_subjects, AttestOptions, Subject};
use crate::sign::minisign::{sign_bytes, SignOptions};
use crate::sign::{hex, KeyPair};

pub const MANIFEST: &str = "manifest.json";
pub const SUMS: &str = "SHA256SUMS";
pub const ATTESTATION: &str = "attestation.intoto.jsonl";

/// What goes into a bundle.
#[derive(Debug)]
pub struct BundleOptions {
    pub model: PathBuf,
    pub name: String,
    pub version: String,
    pub target: Target,
    /// The model's inputs and outputs (read from the model by the caller).
    pub inputs: Vec<TensorSpec>,
    pub outputs: Vec<TensorSpec>,
    /// False for a model tract cannot run (a quantized TFLite file): packaged as it is.
    pub evaluable_by_tract: bool,
    pub labels: Vec<String>,
    pub preprocessing: Option<serde_json::Value>,
    /// The gate report the model passed (`report.json`), read with [`crate::sign::dsse::read_report`].
    pub report: Option<(PathBuf, Report)>,
    /// With a key: signatures, and the attestation (which needs `report`).
    pub signing: Option<Signing>,
    /// The model's precision when it is not the target's (`int8` for a quantized model).
    pub precision: Option<String>,
    /// The quantization's figures (mode, sizes, metric before and after, agreement), for the manifest.
    pub quantization: Option<serde_json::Value>,
    /// A golden input and the outputs expected on it ([`super::selftest::prepare`] computes them with the model).
    pub selftest: Option<SelfTest>,
}

#[derive(Debug)]
pub struct Signing {
    pub key: KeyPair,
    pub attest: AttestOptions,
}

/// A bundle in memory, ready to be written.
#[derive(Debug, Clone)]
pub struct BuiltBundle {
    /// `NAME-VERSION-TARGET.tar.gz`.
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub manifest: Manifest,
    pub entries: Vec<String>,
}

fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn model_format(path: &Path, head: &[u8]) -> Result<&'static str, EdgeError> {
    if head.get(4..8) == Some(b"TFL3") {
        return Ok("tflite");
    }
    match path.extension().and_then(|e| e.to_str()) {
        Some("onnx") => Ok("onnx"),
        Some("nnef") | Some("tgz") if path.to_string_lossy().ends_with(".nnef.tgz") => Ok("nnef"),
        _ => Err(EdgeError::bundle(
            &path.display().to_string(),
            "neither an ONNX (.onnx) nor a TFLite model (no TFL3 identifier)",
            Some("bundle a .onnx or .tflite model"),
        )),
    }
}

/// The gate metrics of `model` in `report`: the `metric` check whose subject is the model's name, else the
/// only metric check.
fn gate_metrics(report: &Report, name: &str) -> BTreeMap<String, f64> {
    let metric_checks: Vec<&Check> = report
        .checks
        .iter()
        .filter(|c| c.kind == "metric")
        .collect();
    let check = metric_checks
        .iter()
        .find(|c| c.subject == name)
        .or_else(|| (metric_checks.len() == 1).then(|| &metric_checks[0]));
    let mut out = BTreeMap::new();
    if let Some(list) = check
        .and_then(|c| c.figures.get("metrics"))
        .and_then(|m| m.as_array())
    {
        for m in list {
            if let (Some(n), Some(v)) = (m["name"].as_str(), m["value"].as_f64()) {
                out.insert(n.to_string(), v);
            }
        }
    }
    out
}

/// Builds the bundle in memory. Byte-identical for the same inputs (and, with a key, the same timestamp:
/// set `SOURCE_DATE_EPOCH`).
pub fn build_bundle(opts: &BundleOptions) -> Result<BuiltBundle, EdgeError> {
    let model_bytes = std::fs::read(&opts.model).map_err(|e| EdgeError::Io {
        path: opts.model.display().to_string(),
        err: e,
    })?;
    let format = model_format(&opts.model, &model_bytes)?;
    let file = opts
        .model
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| format!("model.{format}"));
    let model_entry = format!("models/{file}");
    if let Some((path, report)) = &opts.report {
        if report.verdict != Verdict::Pass {
            return Err(EdgeError::bundle(
                &path.display().to_string(),
                "the gate verdict is fail: only approved models are bundled",
                None,
            ));
        }
    }
    let manifest = Manifest {
        schema_version: MANIFEST_VERSION,
        name: opts.name.clone(),
        version: opts.version.clone(),
        target: opts.target.name.into(),
        artifacts: vec![Artifact {
            path: model_entry.clone(),
            format: format.into(),
            precision: opts
                .precision
                .clone()
                .unwrap_or_else(|| opts.target.precision.into()),
            size: model_bytes.len() as u64,
            sha256: sha256(&model_bytes),
            evaluable_by_tract: opts.evaluable_by_tract,
        }],
        inputs: opts.inputs.clone(),
        outputs: opts.outputs.clone(),
        labels: opts.labels.clone(),
        preprocessing: opts.preprocessing.clone(),
        metrics: opts
            .report
            .as_ref()
            .map(|(_, r)| gate_metrics(r, &opts.name))
            .unwrap_or_default(),
        quantization: opts.quantization.clone(),
        gate: match &opts.report {
            Some((path, _)) => Some(GateRef {
                report_sha256: crate::sign::sha256_file(path)?,
                verdict: "pass".into(),
            }),
            None => None,
        },
        min_tract_version: MIN_TRACT_VERSION.into(),
        selftest: opts.selftest.as_ref().map(|t| t.spec.clone()),
    };
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    files.insert(model_entry, model_bytes);
    files.insert(MANIFEST.into(), manifest.to_json());
    // Ordinary entries: listed in SHA256SUMS, signed and attested like the model.
    if let Some(t) = &opts.selftest {
        files.insert(t.spec.input.clone(), t.input.clone());
        files.insert(t.spec.expected.clone(), t.expected.to_json());
    }
    let sums: String = files
        .iter()
        .map(|(name, bytes)| format!("{}  {name}\n", sha256(bytes)))
        .collect();
    files.insert(SUMS.into(), sums.into_bytes());

    if let Some(signing) = &opts.signing {
        let Some((_, report)) = &opts.report else {
            return Err(EdgeError::bundle(
                &opts.model.display().to_string(),
                "a signed bundle carries an attestation, which binds the gate report",
                Some("pass --report out/report.json (from `mlgate check --report-dir out`)"),
            ));
        };
        let signed: Vec<String> = files.keys().cloned().collect();
        let sign_opts = SignOptions {
            trusted_comment: None,
            timestamp: signing.attest.timestamp,
        };
        let subjects: Vec<Subject> = signed
            .iter()
            .filter(|n| n.as_str() != SUMS)
            .map(|n| Subject {
                name: n.clone(),
                digest: BTreeMap::from([("sha256".to_string(), sha256(&files[n]))]),
            })
            .collect();
        for name in &signed {
            let base = name.rsplit('/').next().unwrap_or(name);
            let sig = sign_bytes(&signing.key, &files[name], base, &sign_opts);
            files.insert(format!("{name}.minisig"), sig.to_text().into_bytes());
        }
        let (envelope, _) = attest_subjects(&signing.key, report, &signing.attest, subjects)?;
        files.insert(ATTESTATION.into(), envelope.to_jsonl().into_bytes());
    }
    let entries: Vec<String> = files.keys().cloned().collect();
    let bytes = write_tar_gz(&files)?;
    Ok(BuiltBundle {
        file_name: format!("{}-{}-{}.tar.gz", opts.name, opts.version, opts.target.name),
        bytes,
        manifest,
        entries,
    })
}
