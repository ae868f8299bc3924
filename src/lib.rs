//! mlgate: the gatekeeper of an ML repository, from pull request to device.
//!
//! A library with a thin binary (`src/main.rs`). Layers, each using only those to its right:
//! `commands` → `check` → `config` → `data`, `sign` → `report`, `error`. See DESIGN.md.

#[cfg(not(any(feature = "full", feature = "device")))]
compile_error!(
    "build mlgate with its default features, or with `--no-default-features --features device`"
);

// `full` (the default) is every command; the `device` build (`run`, `pull`, `verify`, `device`) leaves out the
// modules marked `full` below, and with them octocrab, arrow/parquet and minijinja. See DESIGN.md.
#[cfg(feature = "full")]
pub mod channel;
/// The device build reads the channel's target metadata (`channel/meta.rs`), not its writing side.
#[cfg(not(feature = "full"))]
pub mod channel {
    pub mod meta;
}
#[cfg(feature = "full")]
pub mod check;
pub mod cli;
pub mod commands;
#[cfg(feature = "full")]
pub mod config;
pub mod data;
pub mod device;
pub mod edge;
pub mod error;
pub mod exit;
pub mod fsutil;
/// Fuzz harnesses (fuzz/, tests/fuzz_corpus.rs); not an API.
#[cfg(feature = "full")]
#[doc(hidden)]
pub mod fuzz;
#[cfg(feature = "full")]
pub mod gate;
#[cfg(feature = "full")]
pub mod github;
#[cfg(feature = "full")]
pub mod init;
pub mod model;
#[cfg(feature = "full")]
pub mod pins;
pub mod progress;
#[cfg(feature = "full")]
pub mod quantize;
pub mod report;
#[cfg(feature = "full")]
pub mod shard;
pub mod sign;
#[cfg(feature = "full")]
pub mod templates;
pub mod text;
pub mod untrusted;

pub use error::{Error, Result};
pub use exit::Exit;
