//! Edge: deterministic, signed model bundles per target, and what a device does with them.
//!
//! Knows nothing of config files or flags: callers pass plain option structs. A bundle that fails its checks is
//! a failed [`crate::report::Report`] where a report is asked for, and an [`EdgeError`] where the work cannot go
//! on (an unreadable archive, an entry that would escape its folder).

pub mod archive;
pub mod bundle;
pub mod check;
pub mod describe;
pub mod manifest;
pub mod run;
pub mod selftest;
pub mod targets;
pub mod tflite;
pub mod version;

use miette::Diagnostic;
use thiserror::Error;

pub use bundle::{build_bundle, BuiltBundle, BundleOptions};
pub use check::{check_bundle, CheckOptions, CheckedBundle, Expect, Extract};
pub use manifest::Manifest;
pub use targets::Target;

#[derive(Debug, Error, Diagnostic)]
pub enum EdgeError {
    #[error("{path}: cannot read: {err}")]
    #[diagnostic(code(mlgate::edge::io), help("check the path"))]
    Io { path: String, err: std::io::Error },

    /// Writing an extracted entry failed: a full disk, a read-only folder.
    #[error("{path}: cannot write: {err}")]
    #[diagnostic(
        code(mlgate::edge::write),
        help("check the free space and the folder's permissions")
    )]
    Write { path: String, err: std::io::Error },

    #[error("{path}: refused: {message}")]
    #[diagnostic(
        code(mlgate::edge::archive),
        help("bundles are tar.gz files made by `mlgate bundle`: regular files with relative names, each once")
    )]
    Archive { path: String, message: String },

    #[error("{path}: {message}")]
    #[diagnostic(code(mlgate::edge::bundle))]
    Bundle {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Sign(#[from] crate::sign::SignError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Model(#[from] crate::model::ModelError),
}

impl EdgeError {
    pub(crate) fn bundle(path: &str, message: impl Into<String>, help: Option<&str>) -> Self {
        EdgeError::Bundle {
            path: path.to_string(),
            message: message.into(),
            help: help.map(str::to_string),
        }
    }
}
