//! The device side of a release channel: `mlgate pull` (a TUF client over the channel `mlgate publish` writes),
//! the install layout, its state, the health check and rollback.
//!
//! Layout of a device folder (`--dir`):
//!
//! ```text
//! tuf/                      tough's datastore: the trusted metadata (newest root, timestamp, snapshot, targets)
//! releases/VERSION-SHA8/    one verified release: files/ (the unpacked bundle), bundle.tar.gz, release.json
//! current -> releases/...   what runs; swapped atomically (a new link, then rename)
//! previous -> releases/...  the release before it, for rollback
//! state.json                installed, previous, attempts, known-bad digests, last success (written atomically)
//! .mlgate-lock              held while a pull or rollback runs
//! .staging-*                a pull in progress; a crashed pull's is removed by the next one
//! ```
//!
//! Nothing under `releases/` is visible before it was downloaded within TUF's length, hashed against TUF's digest,
//! and passed the bundle's own checks (digests, pinned minisign keys, attestation, target and model).

pub mod layout;
pub mod pull;
pub mod service;
pub mod state;
pub mod status;
/// The TUF conformance suite's client (`mlgate tuf-client`, hidden), over the same TUF layer as `pull`.
pub mod tuf_client;

use miette::Diagnostic;
use thiserror::Error;

pub use pull::{pull, PullOptions, PullOutcome};
pub use state::State;
pub use status::{status, DeviceStatus};

/// Why a device command could not run (exit 2). A refused or rolled-back update is a [`PullOutcome`], not an error.
#[derive(Debug, Error, Diagnostic)]
pub enum DeviceError {
    #[error("{0}")]
    #[diagnostic(code(mlgate::device::usage))]
    Usage(String),

    #[error("{path}: {message}")]
    #[diagnostic(
        code(mlgate::device::io),
        help("check the path, its permissions and the free space")
    )]
    Io { path: String, message: String },

    #[error("{url}: {message}")]
    #[diagnostic(
        code(mlgate::device::channel),
        help("check the channel URL and the network; nothing was installed")
    )]
    Channel { url: String, message: String },

    #[error("{path}: {message}")]
    #[diagnostic(
        code(mlgate::device::state),
        help("state.json is written by mlgate only; restore it or remove it (the next pull reinstalls)")
    )]
    State { path: String, message: String },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Edge(#[from] crate::edge::EdgeError),
}

impl DeviceError {
    pub(crate) fn io(path: &std::path::Path, err: impl std::fmt::Display) -> Self {
        DeviceError::Io {
            path: path.display().to_string(),
            message: err.to_string(),
        }
    }
}

/// Now, as RFC 3339 UTC with whole seconds.
pub(crate) fn now() -> String {
    jiff::Timestamp::from_second(jiff::Timestamp::now().as_second())
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .to_string()
}
