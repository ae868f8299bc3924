//! Building a bundle (model files, manifest.json, SHA256SUMS and, with a key, minisign signatures and the
//! in-toto attestation) and checking one before a device trusts it.
//!
//! Layout of the tar.gz, entries sorted by name:
//! `SHA256SUMS` (`sha256sum -c` reads it), `manifest.json`, `models/<model file>`, and with a key
//! `attestation.intoto.jsonl` plus `<entry>.minisig` for the models, the manifest and SHA256SUMS.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::{Digest, Sha256};

use super::archive::{read_tar_gz, write_tar_gz, Limits};
use super::manifest::{
    Artifact, GateRef, Manifest, TensorSpec, MANIFEST_VERSION, MIN_TRACT_VERSION,
};
use super::targets::Target;
use super::EdgeError;
use crate::report::{Check, Finding, Report, Severity, Status, Verdict};
use crate::sign::dsse::{
    attest_subjects, AttestOptions, Envelope, Statement, Subject, PAYLOAD_TYPE,
};
use crate::sign::minisign::{sign_bytes, verify_reader, MinisignSignature, SignOptions};
use crate::sign::verify::pinned_key;
use crate::sign::{hex, KeyPair, PublicKey};

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
    };
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    files.insert(model_entry, model_bytes);
    files.insert(MANIFEST.into(), manifest.to_json());
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

/// A bundle that was read and checked.
#[derive(Debug, Clone)]
pub struct CheckedBundle {
    pub report: Report,
    pub manifest: Option<Manifest>,
    pub files: BTreeMap<String, Vec<u8>>,
}

fn fail(c: &mut Check, code: &str, file: Option<&str>, message: String) {
    let mut f = Finding::new(code, Severity::Error, message);
    f.file = file.map(str::to_string);
    *c.counts.entry(code.to_string()).or_insert(0) += 1;
    if c.findings.len() < crate::report::MAX_FINDINGS_PER_CHECK {
        c.findings.push(f);
    }
    c.status = Status::Fail;
}

/// Reads the bundle at `path` (refusing unsafe archives with an error) and checks it: SHA256SUMS against every
/// entry, the manifest against SHA256SUMS, and with `keys` the signatures and the attestation. Problems in a
/// readable bundle are failed checks in the report, so a device sees every reason at once.
pub fn check_bundle(
    path: &Path,
    keys: &[PublicKey],
    limits: Limits,
) -> Result<CheckedBundle, EdgeError> {
    let files = read_tar_gz(path, limits)?;
    let subject = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bundle".into());
    let mut digests = Check::new(&subject, "bundle");
    let mut manifest = None;
    let sums = files
        .get(SUMS)
        .map(|b| String::from_utf8_lossy(b).into_owned());
    let mut listed: BTreeMap<String, String> = BTreeMap::new();
    match &sums {
        None => fail(
            &mut digests,
            "bundle-incomplete",
            None,
            format!("no {SUMS} in the bundle"),
        ),
        Some(text) => {
            for (i, line) in text.lines().enumerate() {
                match line.split_once("  ") {
                    Some((sum, name)) if sum.len() == 64 => {
                        listed.insert(name.to_string(), sum.to_ascii_lowercase());
                    }
                    _ => fail(
                        &mut digests,
                        "bundle-malformed",
                        Some(SUMS),
                        format!("line {}: expected `SHA256  NAME`, found {line:?}", i + 1),
                    ),
                }
            }
        }
    }
    for (name, want) in &listed {
        match files.get(name) {
            None => fail(
                &mut digests,
                "file-missing",
                Some(name),
                format!("{name} is listed in {SUMS} but not in the bundle"),
            ),
            Some(bytes) => {
                let got = sha256(bytes);
                if &got != want {
                    fail(
                        &mut digests,
                        "digest-mismatch",
                        Some(name),
                        format!("{name} has sha256 {got}, {SUMS} says {want}"),
                    );
                }
            }
        }
    }
    for name in files.keys() {
        let extra = name != SUMS
            && name != ATTESTATION
            && !name.ends_with(".minisig")
            && !listed.contains_key(name);
        if extra {
            fail(
                &mut digests,
                "not-listed",
                Some(name),
                format!("{name} is in the bundle but not in {SUMS}"),
            );
        }
    }
    match files
        .get(MANIFEST)
        .map(|b| serde_json::from_slice::<Manifest>(b))
    {
        None => fail(
            &mut digests,
            "bundle-incomplete",
            None,
            format!("no {MANIFEST} in the bundle"),
        ),
        Some(Err(e)) => fail(
            &mut digests,
            "bundle-malformed",
            Some(MANIFEST),
            format!("not an mlgate manifest: {e}"),
        ),
        Some(Ok(m)) => {
            for a in &m.artifacts {
                match files.get(&a.path) {
                    None => fail(
                        &mut digests,
                        "file-missing",
                        Some(&a.path),
                        format!(
                            "the manifest names {} but the bundle has no such entry",
                            a.path
                        ),
                    ),
                    Some(bytes) => {
                        let got = sha256(bytes);
                        if got != a.sha256 || bytes.len() as u64 != a.size {
                            fail(
                                &mut digests,
                                "manifest-mismatch",
                                Some(&a.path),
                                format!(
                                    "{}: {} bytes with sha256 {got}, the manifest says {} bytes with sha256 {}",
                                    a.path,
                                    bytes.len(),
                                    a.size,
                                    a.sha256
                                ),
                            );
                        }
                    }
                }
            }
            digests.figures.insert("name".into(), json!(m.name));
            digests.figures.insert("version".into(), json!(m.version));
            digests.figures.insert("target".into(), json!(m.target));
            manifest = Some(m);
        }
    }
    digests.figures.insert("entries".into(), json!(files.len()));
    if digests.status == Status::Pass {
        digests.summary = format!(
            "{} entries; every digest matches {SUMS} and the manifest",
            files.len()
        );
    } else {
        digests.summary = "the bundle's contents do not match their digests".into();
    }
    let mut checks = vec![digests];
    if !keys.is_empty() {
        checks.push(check_signatures(&subject, &files, keys, &listed));
    }
    Ok(CheckedBundle {
        report: Report::new(checks),
        manifest,
        files,
    })
}

fn check_signatures(
    subject: &str,
    files: &BTreeMap<String, Vec<u8>>,
    keys: &[PublicKey],
    listed: &BTreeMap<String, String>,
) -> Check {
    let mut c = Check::new(subject, "signature");
    // Everything SHA256SUMS lists, and SHA256SUMS itself, carries a minisign signature by a pinned key.
    let mut signed = 0;
    for name in listed.keys().map(String::as_str).chain([SUMS]) {
        let Some(bytes) = files.get(name) else {
            continue;
        };
        let sig_name = format!("{name}.minisig");
        let Some(sig_bytes) = files.get(&sig_name) else {
            fail(
                &mut c,
                "signature-missing",
                Some(name),
                format!("{name} has no signature ({sig_name})"),
            );
            continue;
        };
        let sig = match MinisignSignature::parse(&String::from_utf8_lossy(sig_bytes)) {
            Ok(s) => s,
            Err(m) => {
                fail(
                    &mut c,
                    "signature-malformed",
                    Some(&sig_name),
                    format!("not a minisign signature: {m}"),
                );
                continue;
            }
        };
        let key = match pinned_key(keys, &sig) {
            Ok(k) => k,
            Err(m) => {
                fail(&mut c, "key-mismatch", Some(&sig_name), m);
                continue;
            }
        };
        match verify_reader(key, &sig, bytes.as_slice()) {
            Ok(Ok(())) => signed += 1,
            Ok(Err(e)) => fail(
                &mut c,
                "signature-invalid",
                Some(&sig_name),
                format!("{name}: {e}"),
            ),
            Err(e) => fail(
                &mut c,
                "signature-invalid",
                Some(&sig_name),
                format!("{name}: {e}"),
            ),
        }
    }
    match files.get(ATTESTATION) {
        None => fail(
            &mut c,
            "attestation-missing",
            None,
            format!("no {ATTESTATION} in the bundle"),
        ),
        Some(bytes) => match check_attestation(bytes, keys, files) {
            Ok(n) => {
                c.figures.insert("attested".into(), json!(n));
            }
            Err((code, m)) => fail(&mut c, code, Some(ATTESTATION), m),
        },
    }
    c.figures.insert("signed".into(), json!(signed));
    c.summary = if c.status == Status::Pass {
        format!("{signed} signatures and the attestation verify with a trusted key")
    } else {
        "the bundle is not signed as it should be: do not install it".into()
    };
    c
}

fn check_attestation(
    bytes: &[u8],
    keys: &[PublicKey],
    files: &BTreeMap<String, Vec<u8>>,
) -> Result<usize, (&'static str, String)> {
    let env: Envelope = serde_json::from_slice(bytes)
        .map_err(|e| ("attestation-malformed", format!("not a DSSE envelope: {e}")))?;
    env.verify_any(keys)
        .map_err(|m| ("attestation-invalid", m))?;
    if env.payload_type != PAYLOAD_TYPE {
        return Err((
            "attestation-malformed",
            format!("payload type {:?}", env.payload_type),
        ));
    }
    let payload = env
        .payload_bytes()
        .map_err(|m| ("attestation-malformed", m))?;
    let st: Statement = serde_json::from_slice(&payload).map_err(|e| {
        (
            "attestation-malformed",
            format!("not an in-toto statement: {e}"),
        )
    })?;
    for s in &st.subject {
        let want = s
            .digest
            .get("sha256")
            .map(String::as_str)
            .unwrap_or_default();
        match files.get(&s.name) {
            None => {
                return Err((
                    "file-missing",
                    format!(
                        "the attestation names {} but the bundle has no such entry",
                        s.name
                    ),
                ))
            }
            Some(b) if sha256(b) != want => {
                return Err((
                    "digest-mismatch",
                    format!("{} does not have the attested sha256 {want}", s.name),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(st.subject.len())
}
