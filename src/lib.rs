//! mlgate: the gatekeeper of an ML repository, from pull request to device.
//!
//! A library with a thin binary (`src/main.rs`). Layers, each using only those to its right:
//! `commands` → `check` → `config` → `data`, `sign` → `report`, `error`. See DESIGN.md.

pub mod channel;
pub mod check;
pub mod cli;
pub mod commands;
pub mod config;
pub mod data;
pub mod device;
pub mod edge;
pub mod error;
pub mod exit;
pub mod fsutil;
pub mod gate;
pub mod github;
pub mod init;
pub mod model;
pub mod pins;
pub mod quantize;
pub mod report;
pub mod sign;
pub mod templates;
pub mod text;

pub use error::{Error, Result};
pub use exit::Exit;
