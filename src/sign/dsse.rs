//! In-toto statements in DSSE envelopes: what a release attests, signed with Ed25519.
//!
//! The statement (in-toto Statement v1) names every released file with its SHA-256 digest; its predicate binds
//! the gate report (by digest and verdict) and the commit. The envelope is DSSE: the signature is over
//! `PAE(payloadType, payload)` = `"DSSEv1" SP len(type) SP type SP len(body) SP body`, lengths in ASCII decimal.
//! Each signature's `keyid` is securesystemslib's default key ID ([`PublicKey::keyid`]), so
//! `securesystemslib.dsse.Envelope.verify` accepts it with the key loaded from the public PEM.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::keys::{KeyPair, PublicKey};
use super::provenance::Provenance;
use super::{b64, collect_files, display_name, sha256_file, unb64, SignError};
use crate::report::{Report, Verdict};

/// DSSE payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The predicate of a release that passed mlgate's gates.
pub const PREDICATE_TYPE: &str = "https://github.com/mlgate/mlgate/attestation/release/v1";

/// How [`Envelope::verify`]'s message starts when no signature names the key.
const NOT_SIGNED_BY: &str = "no signature by this key";

/// A DSSE envelope, as JSON: `{"payload", "payloadType", "signatures": [{"keyid", "sig"}]}`. Fields the format
/// does not define are refused rather than passed over: a verifier that ignores what it does not understand lets a
/// changed field name through unnoticed (tests/tamper.rs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Base64 of the statement's JSON bytes.
    pub payload: String,
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeSignature {
    #[serde(default)]
    pub keyid: String,
    /// Base64 of the 64-byte Ed25519 signature over the PAE.
    pub sig: String,
}

/// DSSE's pre-authentication encoding.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

impl Envelope {
    /// Signs `payload` with `key`.
    pub fn sign(key: &KeyPair, payload_type: &str, payload: &[u8]) -> Self {
        let sig = key.sign(&pae(payload_type, payload));
        Envelope {
            payload: b64(payload),
            payload_type: payload_type.to_string(),
            signatures: vec![EnvelopeSignature {
                keyid: key.public().keyid(),
                sig: b64(&sig),
            }],
        }
    }

    /// The decoded payload, or why it cannot be decoded.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, String> {
        unb64(&self.payload).ok_or_else(|| "the payload is not base64".to_string())
    }

    /// Whether a signature by `key` holds. Signatures that name another key ID are not tried (as in
    /// securesystemslib); a signature without a key ID is tried with the key.
    /// Verifies with the first of `keys` that signed the envelope; with one key, the same as [`Envelope::verify`].
    pub fn verify_any<'k>(&self, keys: &'k [PublicKey]) -> Result<&'k PublicKey, String> {
        let mut errors = vec![];
        for k in keys {
            match self.verify(k) {
                Ok(()) => return Ok(k),
                Err(e) => errors.push(e),
            }
        }
        // A signature by a pinned key that does not hold says more than "not signed by the other keys".
        if let Some(e) = errors.iter().find(|e| !e.starts_with(NOT_SIGNED_BY)) {
            return Err(e.clone());
        }
        match errors.len() {
            0 => Err("no trusted public key was given".into()),
            1 => Err(errors.swap_remove(0)),
            _ => {
                let ids: Vec<String> = keys.iter().map(PublicKey::keyid).collect();
                let signed: Vec<&str> = self.signatures.iter().map(|s| s.keyid.as_str()).collect();
                Err(format!(
                    "no signature by a trusted key (trusted key IDs {}); the envelope is signed by {}",
                    ids.join(", "),
                    signed.join(", ")
                ))
            }
        }
    }

    pub fn verify(&self, key: &PublicKey) -> Result<(), String> {
        let payload = self.payload_bytes()?;
        let message = pae(&self.payload_type, &payload);
        let keyid = key.keyid();
        let mut named = false;
        for s in &self.signatures {
            if !s.keyid.is_empty() && s.keyid != keyid {
                continue;
            }
            named = true;
            let Some(sig) = unb64(&s.sig) else { continue };
            if key.verify(&message, &sig) {
                return Ok(());
            }
        }
        if self.signatures.is_empty() {
            Err("the envelope has no signature".into())
        } else if !named {
            let ids: Vec<&str> = self.signatures.iter().map(|s| s.keyid.as_str()).collect();
            Err(format!(
                "{NOT_SIGNED_BY} (key ID {keyid}); the envelope is signed by {}",
                ids.join(", ")
            ))
        } else {
            Err(
                "the signature does not verify: the statement was altered, or the signature was"
                    .into(),
            )
        }
    }

    /// One line of JSON (the `.intoto.jsonl` form), with a trailing newline.
    pub fn to_jsonl(&self) -> String {
        let mut s = serde_json::to_string(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// An in-toto Statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub type_: String,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    #[serde(default)]
    pub predicate: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    pub name: String,
    pub digest: BTreeMap<String, String>,
}

/// mlgate's release predicate: the commit, the gate report that passed, and the tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleasePredicate {
    pub commit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    pub report: ReportRef,
    /// When the statement was made (RFC 3339, UTC).
    pub timestamp: String,
    pub tool: Tool,
    /// SLSA provenance v1 of the GitHub Actions run that made the release; absent outside Actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slsa: Option<Provenance>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRef {
    pub name: String,
    pub digest: BTreeMap<String, String>,
    pub verdict: Verdict,
    pub checks: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

/// What to attest.
#[derive(Debug, Clone, Default)]
pub struct AttestOptions {
    /// Files and folders (folders are walked, files taken in name order).
    pub paths: Vec<PathBuf>,
    /// The gate report (`report.json` of `mlgate check --report-dir`); its verdict must be `pass`.
    pub report: PathBuf,
    /// The commit the artifacts were built from.
    pub commit: String,
    /// `owner/name`, when known.
    pub repository: Option<String>,
    /// Seconds since the epoch (callers pass `SOURCE_DATE_EPOCH` or the clock).
    pub timestamp: u64,
    /// The Actions run's provenance ([`Provenance::from_actions`]), when there is one.
    pub provenance: Option<Provenance>,
}

/// A gate report read from its JSON.
pub fn read_report(path: &Path) -> Result<Report, SignError> {
    let text = std::fs::read_to_string(path).map_err(|e| SignError::io(path, e))?;
    let report: Report = serde_json::from_str(&text).map_err(|e| SignError::Report {
        path: path.display().to_string(),
        message: format!("not an mlgate report: {e}"),
        help: Some("pass the report.json that `mlgate check --report-dir DIR` writes".into()),
    })?;
    if report.version != crate::report::REPORT_VERSION {
        return Err(SignError::Report {
            path: path.display().to_string(),
            message: format!("report version {} is not supported", report.version),
            help: Some(format!(
                "this mlgate reads report version {}",
                crate::report::REPORT_VERSION
            )),
        });
    }
    Ok(report)
}

/// Makes and signs the statement; `report` is the gate report read from `opts.report` ([`read_report`]). It must
/// have passed: a release attests only what passed its gates.
pub fn attest(
    key: &KeyPair,
    report: &Report,
    opts: &AttestOptions,
) -> Result<(Envelope, Statement), SignError> {
    if report.verdict != Verdict::Pass {
        return Err(SignError::Report {
            path: opts.report.display().to_string(),
            message: "the gate verdict is fail: nothing is attested".into(),
            help: None,
        });
    }
    let mut subject = vec![];
    for f in collect_files(&opts.paths)? {
        subject.push(Subject {
            name: display_name(&f),
            digest: BTreeMap::from([("sha256".to_string(), sha256_file(&f)?)]),
        });
    }
    attest_subjects(key, report, opts, subject)
}

/// [`attest`] for subjects already digested (files that are not on disk under their names, such as the entries
/// of a bundle being built); `opts.paths` is not read.
pub fn attest_subjects(
    key: &KeyPair,
    report: &Report,
    opts: &AttestOptions,
    subject: Vec<Subject>,
) -> Result<(Envelope, Statement), SignError> {
    if report.verdict != Verdict::Pass {
        return Err(SignError::Report {
            path: opts.report.display().to_string(),
            message: "the gate verdict is fail: nothing is attested".into(),
            help: None,
        });
    }
    let predicate = ReleasePredicate {
        commit: opts.commit.clone(),
        repository: opts.repository.clone(),
        report: ReportRef {
            name: display_name(&opts.report),
            digest: BTreeMap::from([("sha256".to_string(), sha256_file(&opts.report)?)]),
            verdict: report.verdict,
            checks: report.checks.len(),
        },
        timestamp: rfc3339(opts.timestamp),
        tool: Tool {
            name: "mlgate".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        slsa: opts.provenance.clone(),
    };
    let statement = Statement {
        type_: STATEMENT_TYPE.into(),
        subject,
        predicate_type: PREDICATE_TYPE.into(),
        predicate: serde_json::to_value(&predicate).unwrap_or_default(),
    };
    let payload = serde_json::to_vec(&statement).unwrap_or_default();
    Ok((Envelope::sign(key, PAYLOAD_TYPE, &payload), statement))
}

fn rfc3339(secs: u64) -> String {
    chrono::DateTime::from_timestamp(secs as i64, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // The DSSE protocol document's test vector.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
    }

    #[test]
    fn envelope_signs_and_verifies() {
        let k = KeyPair::from_seed(&[3; 32]);
        let env = Envelope::sign(&k, PAYLOAD_TYPE, b"{\"a\":1}");
        assert_eq!(env.signatures[0].keyid, k.public().keyid());
        assert_eq!(env.verify(&k.public()), Ok(()));
        let mut altered = env.clone();
        altered.payload = b64(b"{\"a\":2}");
        assert!(altered.verify(&k.public()).unwrap_err().contains("altered"));
        let other = KeyPair::from_seed(&[4; 32]);
        assert!(env
            .verify(&other.public())
            .unwrap_err()
            .contains("no signature by this key"));
        let json = env.to_jsonl();
        assert!(json.starts_with("{\"payload\":"), "{json}");
        assert_eq!(json.matches('\n').count(), 1);
    }

    #[test]
    fn rfc3339_is_utc() {
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
