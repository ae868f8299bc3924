//! A release channel: a TUF repository (specification 1.0) of approved bundles, written with tough's editor.
//!
//! Layout of a channel folder (plain static files; any static host serves it):
//!
//! ```text
//! root.json                 the current root, for pinning on devices (a copy of the newest N.root.json)
//! 1.root.json, 2.root.json  every root version, so clients can walk key rotations
//! N.targets.json            consistent snapshots: each version under its own name, never overwritten
//! N.snapshot.json
//! timestamp.json            the one file replaced in place (atomically, last)
//! targets/<sha256>.<name>   the bundles, named by digest (absent for bundles hosted on GitHub Releases)
//! mlgate-channel.json       mlgate's own settings: pinned bundle keys, lifetimes (not TUF; not signed)
//! ```
//!
//! Stable and beta are separate channel folders, each with its own root: a device pins the root of the channel it
//! follows, and a beta key can never sign for stable.
//!
//! [`meta`] (the custom metadata of a target) depends on nothing else here, so the device side can read targets
//! without this module's writing side.

pub mod config;
pub mod github;
pub mod init;
pub mod keys;
pub mod meta;
pub mod publish;
pub mod refresh;
pub mod repo;
pub mod rotate;
pub mod status;

use miette::Diagnostic;
use thiserror::Error;

pub use config::ChannelConfig;
pub use init::{init, InitOptions, Initialized};
pub use keys::RoleKeys;
pub use meta::TargetMeta;
pub use publish::{publish, rollback, PublishOptions, Published, Refusal, RollbackOptions};
pub use refresh::{refresh, RefreshOptions, Refreshed};
pub use rotate::{rotate, RotateOptions, Rotated};
pub use status::{status, ChannelStatus};

/// Why a channel command could not run (exit 2). A bundle that is not approved is a [`Refusal`], not an error.
#[derive(Debug, Error, Diagnostic)]
pub enum ChannelError {
    #[error("{path}: not a release channel: {message}")]
    #[diagnostic(
        code(mlgate::channel::missing),
        help("create one with `mlgate channel init --dir DIR --key KEY --bundle-pubkey PUB`")
    )]
    NotAChannel { path: String, message: String },

    #[error("{path}: the channel's metadata does not load: {message}")]
    #[diagnostic(
        code(mlgate::channel::malformed),
        help("the folder must hold the TUF metadata mlgate wrote, unchanged; restore it from its last good copy")
    )]
    Malformed { path: String, message: String },

    #[error("{path}: {message}")]
    #[diagnostic(code(mlgate::channel::exists))]
    Exists { path: String, message: String },

    #[error("{message}")]
    #[diagnostic(code(mlgate::channel::keys))]
    Keys {
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error("{path}: {message}")]
    #[diagnostic(code(mlgate::channel::io), help("check the path and its permissions"))]
    Io { path: String, message: String },

    #[error("{message}")]
    #[diagnostic(code(mlgate::channel::tuf))]
    Tuf {
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error("{0}")]
    #[diagnostic(code(mlgate::channel::usage))]
    Usage(String),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Edge(#[from] crate::edge::EdgeError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Sign(#[from] crate::sign::SignError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Release(#[from] crate::github::release::ReleaseError),
}

impl ChannelError {
    pub(crate) fn io(path: &std::path::Path, err: impl std::fmt::Display) -> Self {
        ChannelError::Io {
            path: path.display().to_string(),
            message: err.to_string(),
        }
    }

    pub(crate) fn tuf(message: impl std::fmt::Display) -> Self {
        ChannelError::Tuf {
            message: message.to_string(),
            help: None,
        }
    }
}

/// tough's API is async; a channel command runs it on a runtime of its own, on this thread.
pub(crate) fn block_on<F: std::future::Future>(f: F) -> Result<F::Output, ChannelError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ChannelError::tuf(format!("cannot start the async runtime: {e}")))?;
    Ok(rt.block_on(f))
}

/// Whole seconds: TUF clients (python-tuf among them) read `expires` as `YYYY-MM-DDTHH:MM:SSZ`, no fraction.
pub(crate) fn whole_seconds(t: jiff::Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_second(t.as_second()).unwrap_or(t)
}

/// Now, or `$MLGATE_CHANNEL_NOW` (RFC 3339) for tests that need a fixed clock.
pub(crate) fn now() -> jiff::Timestamp {
    std::env::var("MLGATE_CHANNEL_NOW")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(jiff::Timestamp::now)
}
