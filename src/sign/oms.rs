//! OpenSSF Model Signing (OMS) v1.0 signatures: what `model_signing sign key` writes and `model_signing verify
//! key` checks (PyPI `model-signing`, sigstore/model-transparency).
//!
//! The signature file is a Sigstore bundle (v0.3, JSON) with no transparency-log entry: `verificationMaterial`
//! holds only a public-key hint (SHA-256 of the key's SubjectPublicKeyInfo PEM, hex), `dsseEnvelope` a DSSE
//! envelope signed with ECDSA ([`super::ecdsa`]) over `PAE(payloadType, payload)`. The payload is an in-toto
//! Statement v1 with predicate type `https://model_signing/signature/v1.0`; its predicate lists every file of the
//! model as a resource `{name, algorithm: sha256, digest}` (names relative to the model folder with `/`, sorted by
//! path components; a model that is one file is the one resource `.`) and the serialization that made the list
//! (`method: files`, `hash_type: sha256`, `allow_symlinks`, `ignore_paths`). The one subject is the model's name
//! with a SHA-256 over the resources' raw digests in list order, so a list that was edited does not match it.
//!
//! Verification checks the envelope with the pinned key, then walks the model the way the signer did (skipping
//! the signed `ignore_paths`, git's files and the signature itself) and compares file by file: a changed byte,
//! a missing file and an extra file are each a finding naming the file.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::dsse::{
    pae, Envelope, EnvelopeSignature, Statement, Subject, PAYLOAD_TYPE, STATEMENT_TYPE,
};
use super::ecdsa::{EcKeyPair, EcPublicKey};
use super::verify::fail;
use super::{b64, display_name, hex, sha256_file, unb64, SignError};
use crate::report::{Check, Report};

/// The Sigstore bundle media type `model_signing` writes and the only one its key verifier accepts.
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The OMS v1.0 predicate.
pub const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";
/// `model_signing`'s default signature file name.
pub const DEFAULT_SIGNATURE: &str = "model.sig";
/// Paths `model_signing` leaves out of a model by default (and records as ignored).
const GIT_PATHS: [&str; 4] = [".git", ".github", ".gitattributes", ".gitignore"];

/// A Sigstore bundle as `model_signing` lays it out for key signatures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bundle {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    #[serde(rename = "verificationMaterial")]
    pub verification_material: VerificationMaterial,
    #[serde(rename = "dsseEnvelope", default)]
    pub dsse_envelope: Option<Envelope>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerificationMaterial {
    #[serde(rename = "publicKey", default)]
    pub public_key: Option<KeyHint>,
    #[serde(rename = "tlogEntries", default)]
    pub tlog_entries: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyHint {
    #[serde(default)]
    pub hint: Option<String>,
}

/// One file of the model, as the predicate lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub name: String,
    pub algorithm: String,
    pub digest: String,
}

/// How the file list was made; `model_signing` reads it back to walk the model the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Serialization {
    pub method: String,
    pub hash_type: String,
    pub allow_symlinks: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_paths: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Predicate {
    serialization: Serialization,
    resources: Vec<Resource>,
}

/// A regular file of a model with its name in the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFile {
    pub name: String,
    pub path: PathBuf,
}

/// The model's name in the subject: the last component of its path (of the absolute path for `.` and `..`).
pub fn model_name(model: &Path) -> String {
    match model.file_name() {
        Some(n) if n != ".." => n.to_string_lossy().into_owned(),
        _ => std::fs::canonicalize(model)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default(),
    }
}

/// The signature file's path inside the model folder, when it is in it (it cannot sign itself).
fn signature_inside(model: &Path, signature: &Path) -> Option<String> {
    let model = std::fs::canonicalize(model).ok()?;
    let parent = match signature.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let sig = std::fs::canonicalize(parent)
        .ok()?
        .join(signature.file_name()?);
    let rel = sig.strip_prefix(&model).ok()?;
    relative_name(rel)
}

/// A relative path as a resource name (`/` between components), or None for names that are not UTF-8.
fn relative_name(rel: &Path) -> Option<String> {
    let parts: Option<Vec<&str>> = rel
        .components()
        .map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    parts.map(|p| p.join("/"))
}

fn ignored(rel: &Path, ignore: &[String]) -> bool {
    ignore
        .iter()
        .filter(|p| !p.is_empty())
        .any(|p| rel.starts_with(Path::new(p)))
}

fn model_error(path: &Path, message: impl Into<String>) -> SignError {
    SignError::Model {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// The model's files in signature order: a file is the one resource `.`; a folder is walked with names sorted
/// component by component (the order of `model_signing`'s sorted paths), leaving out what `ignore` names. A
/// symbolic link is an error unless `follow_links` (the signature's `allow_symlinks`), as in `model_signing`.
pub fn model_files(
    model: &Path,
    ignore: &[String],
    follow_links: bool,
) -> Result<Vec<ModelFile>, SignError> {
    let meta = std::fs::metadata(model).map_err(|e| SignError::io(model, e))?;
    if meta.is_file() {
        return Ok(vec![ModelFile {
            name: ".".into(),
            path: model.to_path_buf(),
        }]);
    }
    if !meta.is_dir() {
        return Err(model_error(model, "not a file or a folder"));
    }
    let walk = walkdir::WalkDir::new(model)
        .min_depth(1)
        .follow_links(follow_links)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            !e.path()
                .strip_prefix(model)
                .is_ok_and(|r| ignored(r, ignore))
        });
    let mut out = vec![];
    for entry in walk {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(model).to_path_buf();
            SignError::io(&path, e.into())
        })?;
        let path = entry.path();
        let ft = entry.file_type();
        if ft.is_dir() {
            continue;
        }
        if ft.is_symlink() {
            return Err(model_error(
                path,
                "a symbolic link: OMS signatures made without allow_symlinks cover regular files only",
            ));
        }
        if !ft.is_file() {
            return Err(model_error(
                path,
                "not a regular file (a device, socket or pipe)",
            ));
        }
        let rel = path.strip_prefix(model).unwrap_or(path);
        let name =
            relative_name(rel).ok_or_else(|| model_error(path, "the file name is not UTF-8"))?;
        out.push(ModelFile {
            name,
            path: path.to_path_buf(),
        });
    }
    Ok(out)
}

/// The subject digest: SHA-256 over the resources' raw digests in list order.
fn root_digest(resources: &[Resource]) -> Result<String, String> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for r in resources {
        let raw = unhex(&r.digest)
            .ok_or_else(|| format!("resource {}: digest {:?} is not hex", r.name, r.digest))?;
        h.update(&raw);
    }
    Ok(hex(&h.finalize()))
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

/// Signs a file list already digested: the statement, the envelope and the bundle (pretty JSON, newline-ended).
pub fn sign_resources(
    key: &EcKeyPair,
    model_name: &str,
    resources: Vec<Resource>,
    ignore_paths: Vec<String>,
) -> Result<String, SignError> {
    let digest = root_digest(&resources).map_err(SignError::Crypto)?;
    let predicate = Predicate {
        serialization: Serialization {
            method: "files".into(),
            hash_type: "sha256".into(),
            allow_symlinks: false,
            ignore_paths,
        },
        resources,
    };
    let statement = Statement {
        type_: STATEMENT_TYPE.into(),
        subject: vec![Subject {
            name: model_name.to_string(),
            digest: BTreeMap::from([("sha256".to_string(), digest)]),
        }],
        predicate_type: PREDICATE_TYPE.into(),
        predicate: serde_json::to_value(&predicate).unwrap_or_default(),
    };
    let payload = serde_json::to_vec(&statement).unwrap_or_default();
    let sig = key.sign(&pae(PAYLOAD_TYPE, &payload));
    let bundle = Bundle {
        media_type: BUNDLE_MEDIA_TYPE.into(),
        verification_material: VerificationMaterial {
            public_key: Some(KeyHint {
                hint: Some(key.public().hint()),
            }),
            tlog_entries: vec![],
        },
        dsse_envelope: Some(Envelope {
            payload: b64(&payload),
            payload_type: PAYLOAD_TYPE.into(),
            // model_signing writes an empty key ID: the hint names the key.
            signatures: vec![EnvelopeSignature {
                keyid: String::new(),
                sig: b64(&sig),
            }],
        }),
    };
    let mut text = serde_json::to_string_pretty(&bundle).unwrap_or_default();
    text.push('\n');
    Ok(text)
}

/// Signs the model (a file or a folder) whose signature will be written to `signature`; returns the bundle's
/// text. git's files and the signature itself (when it is inside the model) are left out and recorded as ignored,
/// as `model_signing sign` does.
pub fn sign_model(key: &EcKeyPair, model: &Path, signature: &Path) -> Result<String, SignError> {
    let mut ignore: Vec<String> = GIT_PATHS.iter().map(|s| s.to_string()).collect();
    if let Some(sig) = signature_inside(model, signature) {
        ignore.push(sig);
    }
    let mut resources = vec![];
    for f in model_files(model, &ignore, false)? {
        resources.push(Resource {
            digest: sha256_file(&f.path)?,
            name: f.name,
            algorithm: "sha256".into(),
        });
    }
    sign_resources(key, &model_name(model), resources, ignore)
}

/// What a verified signature says: the files and their digests, and how to walk the model.
#[derive(Debug, Clone)]
pub struct SignedModel {
    pub model_name: String,
    pub resources: BTreeMap<String, String>,
    pub serialization: Serialization,
}

/// A refusal: a finding's code and message.
type Refusal = (&'static str, String);

/// Checks a bundle's text against the pinned keys and returns the signed file list. The key is the one whose hint
/// the bundle names (bundles without a hint: any key whose signature holds).
pub fn open_bundle(text: &str, keys: &[EcPublicKey]) -> Result<SignedModel, Refusal> {
    let bundle: Bundle = serde_json::from_str(text).map_err(|e| {
        (
            "oms-malformed",
            format!(
                "not a Sigstore bundle: line {}, column {}: {e}",
                e.line(),
                e.column()
            ),
        )
    })?;
    if bundle.media_type != BUNDLE_MEDIA_TYPE {
        return Err((
            "oms-unsupported",
            format!(
                "media type {:?}: OMS key signatures are Sigstore bundles of media type {BUNDLE_MEDIA_TYPE}",
                bundle.media_type
            ),
        ));
    }
    let env = bundle.dsse_envelope.as_ref().ok_or((
        "oms-malformed",
        "the bundle has no dsseEnvelope: an OMS signature signs an in-toto statement in a DSSE envelope".to_string(),
    ))?;
    let hint = bundle
        .verification_material
        .public_key
        .as_ref()
        .and_then(|k| k.hint.clone())
        .filter(|h| !h.is_empty());
    let candidates: Vec<&EcPublicKey> = match &hint {
        Some(h) => keys
            .iter()
            .filter(|k| k.hint() == h.to_ascii_lowercase())
            .collect(),
        None => keys.iter().collect(),
    };
    if candidates.is_empty() {
        let trusted: Vec<String> = keys.iter().map(EcPublicKey::hint).collect();
        return Err((
            "key-mismatch",
            format!(
                "signed by another key: the bundle's key hint is {}, the trusted key's is {}",
                hint.unwrap_or_default(),
                trusted.join(", ")
            ),
        ));
    }
    if env.payload_type != PAYLOAD_TYPE {
        return Err((
            "oms-unsupported",
            format!(
                "payload type {:?}: OMS signs {PAYLOAD_TYPE}",
                env.payload_type
            ),
        ));
    }
    let payload = env.payload_bytes().map_err(|m| ("oms-malformed", m))?;
    check_signature(env, &payload, &candidates)?;
    read_statement(&payload)
}

/// `model_signing` checks the envelope's first signature only; so does this.
fn check_signature(env: &Envelope, payload: &[u8], keys: &[&EcPublicKey]) -> Result<(), Refusal> {
    let first = env
        .signatures
        .first()
        .ok_or(("oms-malformed", "the envelope has no signature".to_string()))?;
    let sig = unb64(&first.sig).ok_or((
        "oms-malformed",
        "the envelope's signature is not base64".to_string(),
    ))?;
    let message = pae(&env.payload_type, payload);
    if keys.iter().any(|k| k.verify(&message, &sig)) {
        return Ok(());
    }
    Err((
        "signature-invalid",
        "the signature does not verify with the trusted key: the signed statement was altered, or another key signed it"
            .to_string(),
    ))
}

/// The signed statement's file list, after checking that it is OMS v1.0 and that its subject digest matches.
fn read_statement(payload: &[u8]) -> Result<SignedModel, Refusal> {
    let statement: Statement = serde_json::from_slice(payload).map_err(|e| {
        (
            "oms-malformed",
            format!("the payload is not an in-toto statement: {e}"),
        )
    })?;
    if statement.type_ != STATEMENT_TYPE {
        return Err((
            "oms-unsupported",
            format!(
                "statement type {:?}, expected {STATEMENT_TYPE}",
                statement.type_
            ),
        ));
    }
    if statement.predicate_type != PREDICATE_TYPE {
        return Err((
            "oms-unsupported",
            format!(
                "predicate type {:?}: mlgate reads OMS v1.0 signatures ({PREDICATE_TYPE})",
                statement.predicate_type
            ),
        ));
    }
    let [subject] = statement.subject.as_slice() else {
        return Err((
            "oms-malformed",
            format!(
                "{} subjects: an OMS statement has one, the model",
                statement.subject.len()
            ),
        ));
    };
    let predicate: Predicate =
        serde_json::from_value(statement.predicate.clone()).map_err(|e| {
            (
                "oms-malformed",
                format!("the OMS predicate is malformed: {e}"),
            )
        })?;
    let s = &predicate.serialization;
    if s.method != "files" || s.hash_type != "sha256" {
        return Err((
            "oms-unsupported",
            format!(
                "serialization method {:?} with hash {:?}: mlgate verifies method \"files\" with \"sha256\" \
                 (sign with model_signing's defaults)",
                s.method, s.hash_type
            ),
        ));
    }
    if let Some(r) = predicate.resources.iter().find(|r| r.algorithm != "sha256") {
        return Err((
            "oms-unsupported",
            format!(
                "resource {}: algorithm {:?}, expected sha256",
                r.name, r.algorithm
            ),
        ));
    }
    let computed = root_digest(&predicate.resources).map_err(|m| ("oms-malformed", m))?;
    let claimed = subject.digest.get("sha256").map(|d| d.to_ascii_lowercase());
    if claimed.as_deref() != Some(computed.as_str()) {
        return Err((
            "oms-inconsistent",
            format!(
                "the subject digest is {}, but the listed files hash to {computed}",
                claimed.unwrap_or_else(|| "missing".into())
            ),
        ));
    }
    let mut resources = BTreeMap::new();
    for r in &predicate.resources {
        if resources
            .insert(r.name.clone(), r.digest.to_ascii_lowercase())
            .is_some()
        {
            return Err((
                "oms-malformed",
                format!("resource {} is listed twice", r.name),
            ));
        }
    }
    Ok(SignedModel {
        model_name: subject.name.clone(),
        resources,
        serialization: predicate.serialization,
    })
}

/// Verifies the OMS signature `signature` of `model` (a file or a folder) with the pinned keys: a check for the
/// signature, and, when it holds, one for the model's files. A signature or model that cannot be read is an error.
pub fn verify_oms(
    keys: &[EcPublicKey],
    signature: &Path,
    model: &Path,
) -> Result<Report, SignError> {
    let text = std::fs::read_to_string(signature).map_err(|e| SignError::io(signature, e))?;
    let sig_name = display_name(signature);
    let mut sig_check = Check::new(&sig_name, "oms-signature");
    let signed = match open_bundle(&text, keys) {
        Ok(s) => s,
        Err((code, message)) => {
            fail(&mut sig_check, Some(&sig_name), code, message);
            return Ok(Report::new(vec![sig_check]));
        }
    };
    sig_check.summary = format!(
        "valid OMS v1.0 signature of model {:?}, {} files",
        signed.model_name,
        signed.resources.len()
    );
    let files = check_files(&signed, model, signature)?;
    Ok(Report::new(vec![sig_check, files]))
}

/// Walks the model as the signer did and compares each file with the signed list.
fn check_files(signed: &SignedModel, model: &Path, signature: &Path) -> Result<Check, SignError> {
    let mut ignore = signed.serialization.ignore_paths.clone();
    ignore.extend(GIT_PATHS.iter().map(|s| s.to_string()));
    ignore.extend(signature_inside(model, signature));
    let mut c = Check::new(&display_name(model), "oms-files");
    let mut seen = 0usize;
    let base = display_name(model);
    let shown = |name: &str| {
        if name == "." {
            base.clone()
        } else {
            format!("{}/{name}", base.trim_end_matches('/'))
        }
    };
    let files = model_files(model, &ignore, signed.serialization.allow_symlinks)?;
    for f in &files {
        let file = shown(&f.name);
        match signed.resources.get(&f.name) {
            None => fail(
                &mut c,
                Some(&file),
                "not-signed",
                format!("{file} is not in the signature: a file was added after signing"),
            ),
            Some(want) => {
                seen += 1;
                let got = sha256_file(&f.path)?;
                if &got != want {
                    fail(
                        &mut c,
                        Some(&file),
                        "file-changed",
                        format!("{file} changed after signing: sha256 {got}, signed {want}"),
                    );
                }
            }
        }
    }
    let present: std::collections::BTreeSet<&str> = files.iter().map(|f| f.name.as_str()).collect();
    for name in signed
        .resources
        .keys()
        .filter(|n| !present.contains(n.as_str()))
    {
        let file = shown(name);
        fail(
            &mut c,
            Some(&file),
            "file-missing",
            format!("{file} is signed but missing from the model"),
        );
    }
    if c.findings.is_empty() {
        c.summary = format!("{seen} files match the signature");
    }
    Ok(c)
}

#[cfg(test)]
mod tests;
