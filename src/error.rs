//! The crate's top-level error: everything that means "could not run" (exit 2).
//!
//! Each capability has its own typed error; this enum only gathers them so that `main` has one thing to print.
//! A failed gate is never an error: it is a [`crate::report::Report`] whose verdict is `fail`.

use miette::Diagnostic;
use thiserror::Error;

use crate::data::DataError;
use crate::model::ModelError;
use crate::sign::SignError;

#[derive(Debug, Error, Diagnostic)]
pub enum Error {
    #[cfg(feature = "full")]
    #[error(transparent)]
    #[diagnostic(transparent)]
    Config(#[from] crate::config::ConfigError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Data(#[from] DataError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Sign(#[from] SignError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Edge(#[from] crate::edge::EdgeError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Model(#[from] ModelError),

    #[cfg(feature = "full")]
    #[error(transparent)]
    #[diagnostic(transparent)]
    Quantize(#[from] crate::quantize::QuantizeError),

    #[cfg(feature = "full")]
    #[error(transparent)]
    #[diagnostic(transparent)]
    Channel(#[from] crate::channel::ChannelError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Device(#[from] crate::device::DeviceError),

    #[error("could not write {path}: {source}")]
    #[diagnostic(help("check that the folder exists and is writable"))]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{0}")]
    Usage(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
