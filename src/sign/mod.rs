//! Signing approved artifacts: Ed25519 keys, minisign signatures, DSSE envelopes with in-toto statements, OpenSSF
//! Model Signing (OMS) signatures with ECDSA P-256 keys,
//! their verification, and the pickle scan that keeps code-running model files out of a release.
//!
//! Knows nothing of config files or flags: callers pass plain option structs. Problems *in* what is verified
//! or scanned are findings in a [`crate::report::Report`]; only what stops the work (an unreadable key, a
//! missing file) is a [`SignError`].

pub mod digest;
pub mod dsse;
pub mod ecdsa;
pub mod keys;
pub mod minisign;
pub mod oms;
pub mod pickle;
pub mod provenance;
pub mod verify;

use std::path::{Path, PathBuf};

use miette::Diagnostic;
use thiserror::Error;

pub use dsse::{attest, AttestOptions, Envelope, Statement};
pub use keys::{KeyPair, PublicKey};
pub use minisign::{sign_file, SignOptions};
pub use pickle::{scan, ScanOptions};
pub use verify::{verify_attestation, verify_minisign, AttestationVerifyOptions};

#[derive(Debug, Error, Diagnostic)]
pub enum SignError {
    #[error("{path}: cannot read: {err}")]
    #[diagnostic(code(mlgate::sign::io), help("check the path"))]
    Io { path: String, err: std::io::Error },

    #[error("{path}: {message}")]
    #[diagnostic(code(mlgate::sign::key))]
    Key {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error("{path}: {message}")]
    #[diagnostic(code(mlgate::sign::report))]
    Report {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error("{path}: {message}")]
    #[diagnostic(code(mlgate::sign::model))]
    Model { path: String, message: String },

    #[error("{0}")]
    #[diagnostic(code(mlgate::sign::crypto))]
    Crypto(String),
}

impl SignError {
    pub(crate) fn io(path: &Path, err: std::io::Error) -> Self {
        SignError::Io {
            path: path.display().to_string(),
            err,
        }
    }

    pub(crate) fn key(path: &str, message: impl Into<String>, help: Option<&str>) -> Self {
        SignError::Key {
            path: path.to_string(),
            message: message.into(),
            help: help.map(str::to_string),
        }
    }
}

/// SHA-256 of a file, read in blocks (hex, lower case).
pub fn sha256_file(path: &Path) -> Result<String, SignError> {
    let f = std::fs::File::open(path).map_err(|e| SignError::io(path, e))?;
    let d = digest::sha256_reader(f).map_err(|e| SignError::io(path, e))?;
    Ok(hex(&d))
}

/// The files under `paths`: files as given, folders walked (sorted by name, symbolic links not followed).
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, SignError> {
    let mut out = vec![];
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| SignError::io(p, e))?;
        if meta.is_dir() {
            for entry in walkdir::WalkDir::new(p).sort_by_file_name() {
                let entry = entry.map_err(|e| {
                    let path = e.path().unwrap_or(p).to_path_buf();
                    SignError::io(&path, e.into())
                })?;
                if entry.file_type().is_file() {
                    out.push(entry.into_path());
                }
            }
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn unb64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}

/// A path as it is written in signatures and attestations: forward slashes, no leading `./`.
pub fn display_name(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    let mut s = s.as_str();
    while let Some(rest) = s.strip_prefix("./") {
        s = rest;
    }
    s.to_string()
}
