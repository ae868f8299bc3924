//! Verification as a [`Report`]: one check per signature or attested file, so `mlgate verify` renders like every
//! other judging command (human, json, markdown, github) and exits 0 when everything holds, 1 when anything
//! does not.
//!
//! Findings' codes: `signature-missing`, `signature-malformed`, `signature-invalid`, `key-mismatch` (minisign);
//! `attestation-malformed`, `attestation-invalid`, `statement-unsupported`, `report-failed`,
//! `report-digest-mismatch`, `commit-mismatch`, `file-missing`, `digest-mismatch`, `digest-missing`,
//! `not-attested` (DSSE); `oms-malformed`, `oms-unsupported`, `oms-inconsistent`, `key-mismatch`,
//! `signature-invalid`, `file-missing`, `file-changed`, `not-signed` (OMS, [`super::oms`]).

use std::path::{Path, PathBuf};

use serde_json::json;

use super::dsse::{Envelope, ReleasePredicate, Statement, PAYLOAD_TYPE, PREDICATE_TYPE};
use super::keys::PublicKey;
use super::minisign::{verify_reader, Invalid, MinisignSignature};
use super::{display_name, sha256_file, SignError};
use crate::report::{Check, Finding, Report, Severity, Status, Verdict};

/// The check's one-line summary for a finding's code; the finding carries the detail.
fn headline(code: &str) -> &'static str {
    match code {
        "signature-missing" => "no signature",
        "signature-malformed" => "malformed signature",
        "signature-invalid" => "INVALID signature: the file or its signature changed after signing",
        "key-mismatch" => "signed by another key",
        "attestation-malformed" => "not a DSSE envelope",
        "attestation-invalid" => "INVALID attestation signature",
        "statement-unsupported" => "unsupported statement",
        "report-failed" => "the attested gate report failed",
        "report-digest-mismatch" => "the gate report changed after attestation",
        "commit-mismatch" => "attests another commit",
        "file-missing" => "file missing",
        "digest-mismatch" => "CHANGED after attestation: sha256 differs",
        "digest-missing" => "no sha256 digest",
        "not-attested" => "not in the attestation",
        "oms-malformed" => "not an OMS signature",
        "oms-unsupported" => "unsupported OMS signature",
        "oms-inconsistent" => "the signed file list does not match its digest",
        "not-signed" => "extra file, not in the signature",
        "file-changed" => "CHANGED after signing: sha256 differs",
        _ => "failed",
    }
}

pub(crate) fn fail(c: &mut Check, file: Option<&str>, code: &str, message: impl Into<String>) {
    let mut f = Finding::new(code, Severity::Error, message);
    f.file = file.map(str::to_string);
    c.findings.push(f);
    *c.counts.entry(code.to_string()).or_insert(0) += 1;
    if c.status != Status::Fail {
        c.status = Status::Fail;
        c.summary.clear();
    }
    let h = headline(code);
    if !c.summary.split("; ").any(|s| s == h) {
        if !c.summary.is_empty() {
            c.summary.push_str("; ");
        }
        c.summary.push_str(h);
    }
}

/// Checks each `(file, signature file)` pair against the pinned `keys` (several, so keys can rotate: each
/// signature is checked with the key whose ID it names). A file that cannot be read stops the run; a signature
/// that is missing, malformed, wrong or made by a key that is not pinned is a failed check.
pub fn verify_minisign(
    keys: &[PublicKey],
    pairs: &[(PathBuf, PathBuf)],
) -> Result<Report, SignError> {
    let mut checks = vec![];
    for (file, sig_path) in pairs {
        let name = display_name(file);
        let sig_name = display_name(sig_path);
        let mut c = Check::new(&name, "signature");
        let data = std::fs::File::open(file).map_err(|e| SignError::io(file, e))?;
        let text = match std::fs::read_to_string(sig_path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fail(
                    &mut c,
                    Some(&sig_name),
                    "signature-missing",
                    format!("no signature: {sig_name} does not exist"),
                );
                checks.push(c);
                continue;
            }
            Err(e) => return Err(SignError::io(sig_path, e)),
        };
        let sig = match MinisignSignature::parse(&text) {
            Ok(s) => s,
            Err(m) => {
                fail(
                    &mut c,
                    Some(&sig_name),
                    "signature-malformed",
                    format!("not a minisign signature: {m}"),
                );
                checks.push(c);
                continue;
            }
        };
        c.figures.insert("key_id".into(), json!(sig.key_id_hex()));
        c.figures.insert(
            "algorithm".into(),
            json!(if sig.prehashed() {
                "ED (prehashed)"
            } else {
                "Ed (legacy)"
            }),
        );
        c.figures
            .insert("trusted_comment".into(), json!(sig.trusted_comment));
        let key = match pinned_key(keys, &sig) {
            Ok(k) => k,
            Err(m) => {
                fail(&mut c, Some(&sig_name), "key-mismatch", m);
                checks.push(c);
                continue;
            }
        };
        match verify_reader(key, &sig, data).map_err(|e| SignError::io(file, e))? {
            Ok(()) => {
                c.summary = format!(
                    "valid signature by key {}; trusted comment: {}",
                    sig.key_id_hex(),
                    sig.trusted_comment
                );
            }
            Err(e @ Invalid::KeyMismatch { .. }) => {
                fail(&mut c, Some(&sig_name), "key-mismatch", e.to_string())
            }
            Err(e) => fail(&mut c, Some(&sig_name), "signature-invalid", e.to_string()),
        }
        checks.push(c);
    }
    Ok(Report::new(checks))
}

/// The pinned key whose ID the signature names; else the message that says which key signed and which are
/// trusted.
pub fn pinned_key<'k>(
    keys: &'k [PublicKey],
    sig: &MinisignSignature,
) -> Result<&'k PublicKey, String> {
    keys.iter()
        .find(|k| k.key_id() == sig.key_id)
        .ok_or_else(|| {
            let pinned: Vec<String> = keys.iter().map(PublicKey::key_id_hex).collect();
            format!(
                "signed by key ID {}, which is not a trusted key (trusted: {})",
                sig.key_id_hex(),
                pinned.join(", ")
            )
        })
}

/// What to check in an attestation.
#[derive(Debug, Clone, Default)]
pub struct AttestationVerifyOptions {
    /// The DSSE envelope (`.intoto.jsonl` or `.json`).
    pub envelope: PathBuf,
    /// Subjects' names are paths relative to this folder.
    pub base_dir: PathBuf,
    /// When not empty: only these files are checked, and each must be a subject.
    pub files: Vec<PathBuf>,
    /// When set: the statement's commit must be this one (a prefix of at least 7 characters matches).
    pub commit: Option<String>,
}

/// Checks the envelope's signature (by any of the pinned `keys`) and statement, then every attested file's digest.
pub fn verify_attestation(
    keys: &[PublicKey],
    opts: &AttestationVerifyOptions,
) -> Result<Report, SignError> {
    let env_name = display_name(&opts.envelope);
    let text =
        std::fs::read_to_string(&opts.envelope).map_err(|e| SignError::io(&opts.envelope, e))?;
    let mut c = Check::new("attestation", "signature");
    c.figures.insert("envelope".into(), json!(env_name));
    let (key, statement) = match read_statement(keys, &text) {
        Ok(s) => s,
        Err((code, m)) => {
            fail(&mut c, Some(&env_name), code, m);
            return Ok(Report::new(vec![c]));
        }
    };
    c.figures.insert("key_id".into(), json!(key.keyid()));
    c.figures
        .insert("subjects".into(), json!(statement.subject.len()));
    let mut checks = vec![];
    if statement.predicate_type == PREDICATE_TYPE {
        match serde_json::from_value::<ReleasePredicate>(statement.predicate.clone()) {
            Ok(p) => check_predicate(&mut c, &p, opts, &env_name),
            Err(e) => fail(
                &mut c,
                Some(&env_name),
                "statement-unsupported",
                format!("the release predicate does not parse: {e}"),
            ),
        }
    } else {
        c.figures
            .insert("predicate_type".into(), json!(statement.predicate_type));
        if opts.commit.is_some() {
            fail(
                &mut c,
                Some(&env_name),
                "statement-unsupported",
                format!(
                    "the predicate {} is not mlgate's: its commit cannot be checked",
                    statement.predicate_type
                ),
            );
        }
    }
    if c.status == Status::Pass {
        c.summary = format!(
            "valid DSSE signature by key {}; {} subjects",
            short(&key.keyid()),
            statement.subject.len()
        );
    }
    checks.push(c);

    let wanted: Vec<String> = opts.files.iter().map(|f| display_name(f)).collect();
    for s in &statement.subject {
        if !wanted.is_empty() && !wanted.contains(&s.name) {
            continue;
        }
        checks.push(check_subject(
            &opts.base_dir,
            &s.name,
            s.digest.get("sha256"),
        )?);
    }
    for w in &wanted {
        if !statement.subject.iter().any(|s| &s.name == w) {
            let mut c = Check::new(w, "digest");
            fail(
                &mut c,
                Some(w),
                "not-attested",
                format!("{w} is not a subject of {env_name}"),
            );
            checks.push(c);
        }
    }
    Ok(Report::new(checks))
}

fn short(keyid: &str) -> &str {
    keyid.get(..16).unwrap_or(keyid)
}

/// The key that signed the envelope and its statement, once the signature holds; else the finding's code and
/// message.
fn read_statement<'k>(
    keys: &'k [PublicKey],
    text: &str,
) -> Result<(&'k PublicKey, Statement), (&'static str, String)> {
    let env: Envelope = serde_json::from_str(text.trim())
        .map_err(|e| ("attestation-malformed", format!("not a DSSE envelope: {e}")))?;
    let key = env
        .verify_any(keys)
        .map_err(|m| ("attestation-invalid", m))?;
    if env.payload_type != PAYLOAD_TYPE {
        return Err((
            "statement-unsupported",
            format!(
                "payload type {:?}, expected {PAYLOAD_TYPE}",
                env.payload_type
            ),
        ));
    }
    let payload = env
        .payload_bytes()
        .map_err(|m| ("attestation-malformed", m))?;
    let st: Statement = serde_json::from_slice(&payload).map_err(|e| {
        (
            "statement-unsupported",
            format!("the payload is not an in-toto statement: {e}"),
        )
    })?;
    if !st.type_.starts_with("https://in-toto.io/Statement/") {
        return Err((
            "statement-unsupported",
            format!("statement type {:?} is not in-toto's", st.type_),
        ));
    }
    Ok((key, st))
}

fn check_predicate(
    c: &mut Check,
    p: &ReleasePredicate,
    opts: &AttestationVerifyOptions,
    env: &str,
) {
    c.figures.insert("commit".into(), json!(p.commit));
    if let Some(r) = &p.repository {
        c.figures.insert("repository".into(), json!(r));
    }
    c.figures.insert("timestamp".into(), json!(p.timestamp));
    if let Some(slsa) = &p.slsa {
        c.figures.insert("workflow".into(), json!(slsa.workflow()));
        c.figures
            .insert("run".into(), json!(slsa.run_details.metadata.invocation_id));
        c.figures.insert("runner".into(), json!(slsa.runner()));
    }
    c.figures.insert("report".into(), json!(p.report.name));
    c.figures.insert(
        "report_verdict".into(),
        json!(match p.report.verdict {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
        }),
    );
    if p.report.verdict != Verdict::Pass {
        fail(
            c,
            Some(env),
            "report-failed",
            format!(
                "the attested gate report {} has verdict fail",
                p.report.name
            ),
        );
    }
    if let Some(want) = &opts.commit {
        let matches = want.len() >= 7 && p.commit.starts_with(want.as_str()) || *want == p.commit;
        if !matches {
            fail(
                c,
                Some(env),
                "commit-mismatch",
                format!("attested commit {} is not {want}", p.commit),
            );
        }
    }
    // The report is checked too when it lies where it was attested.
    let report_path = opts.base_dir.join(&p.report.name);
    if let (true, Some(want)) = (report_path.is_file(), p.report.digest.get("sha256")) {
        match sha256_file(&report_path) {
            Ok(got) if &got == want => {
                c.figures.insert("report_digest".into(), json!("matches"));
            }
            Ok(got) => fail(
                c,
                Some(&p.report.name),
                "report-digest-mismatch",
                format!(
                    "{} has sha256 {got}, the attestation says {want}",
                    p.report.name
                ),
            ),
            Err(e) => fail(c, Some(&p.report.name), "file-missing", e.to_string()),
        }
    }
}

fn check_subject(base: &Path, name: &str, want: Option<&String>) -> Result<Check, SignError> {
    let mut c = Check::new(name, "digest");
    let Some(want) = want else {
        fail(
            &mut c,
            Some(name),
            "digest-missing",
            "the subject has no sha256 digest",
        );
        return Ok(c);
    };
    let path = base.join(name);
    if !path.is_file() {
        fail(
            &mut c,
            Some(name),
            "file-missing",
            format!("{} does not exist", display_name(&path)),
        );
        return Ok(c);
    }
    let got = sha256_file(&path)?;
    c.figures.insert("sha256".into(), json!(got));
    if &got == want {
        c.summary = "sha256 matches the attestation".into();
    } else {
        fail(
            &mut c,
            Some(name),
            "digest-mismatch",
            format!(
                "sha256 {got}, the attestation says {want}: the file changed after it was attested"
            ),
        );
    }
    Ok(c)
}
