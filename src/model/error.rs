//! Errors of the model capability: the model or its evaluation data could not be used (exit 2).
//! A model that runs but answers badly (NaN outputs, a failed gate) is a result, not an error.

use miette::Diagnostic;
use thiserror::Error;

use crate::data::DataError;

#[derive(Debug, Error, Diagnostic)]
pub enum ModelError {
    #[error("{path}: cannot read: {err}")]
    #[diagnostic(
        code(mlgate::model::io),
        help("check the path; paths in mlgate.yml are relative to the config file")
    )]
    Io { path: String, err: std::io::Error },

    #[error("{path}: neither an ONNX nor a TFLite model ({what})")]
    #[diagnostic(
        code(mlgate::model::format),
        help("mlgate evaluates ONNX (.onnx, a protobuf ModelProto) and TFLite (.tflite, a flatbuffer with `TFL3` at byte 4) models; export the model to one of them, or gate it on a `metrics_file` its training job writes")
    )]
    NotAModel { path: String, what: String },

    #[error("{path}: not a valid {format} model, it may be truncated or corrupt: {message}")]
    #[diagnostic(
        code(mlgate::model::corrupt),
        help("re-export the model; a file stored with Git LFS must be fetched (`git lfs pull`) before it can be read")
    )]
    Corrupt {
        path: String,
        format: &'static str,
        message: String,
    },

    #[error("{path}: operator {op} (node {node:?}) is not supported by tract {version}, mlgate's inference engine")]
    #[diagnostic(code(mlgate::model::unsupported))]
    Unsupported {
        path: String,
        op: String,
        node: String,
        version: &'static str,
        #[help]
        help: Option<String>,
    },

    #[error("{path}: the model could not be prepared for running: {message}")]
    #[diagnostic(
        code(mlgate::model::load),
        help("tract could not type or optimize this graph; README (\"What tract cannot run\") lists known limits and workarounds")
    )]
    Load { path: String, message: String },

    #[error("{path}: {message}")]
    #[diagnostic(code(mlgate::model::shape))]
    Input {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error("{path}: {message}")]
    #[diagnostic(code(mlgate::model::data))]
    Data {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Table(#[from] DataError),

    #[error("{path}: running the model failed: {message}")]
    #[diagnostic(code(mlgate::model::run))]
    Run { path: String, message: String },

    #[error("{path}: {message}")]
    #[diagnostic(code(mlgate::model::output))]
    Output {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error("{path}: {message}")]
    #[diagnostic(code(mlgate::model::metrics_file))]
    MetricsFile {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error("baseline {what}: {message}")]
    #[diagnostic(code(mlgate::model::baseline))]
    Baseline {
        what: String,
        message: String,
        #[help]
        help: Option<String>,
    },
}

/// The tract version mlgate is built with, for messages about what it can run.
pub const TRACT_VERSION: &str = "0.23.9";

/// tract's error chain on one line (its `Display` shows only the outermost context).
pub(crate) fn chain(e: &tract_onnx::prelude::TractError) -> String {
    let parts: Vec<String> = e.chain().map(|c| c.to_string()).collect();
    // Some messages carry tabs and blank lines (flatbuffers' verifier): one line reads better in a diagnostic.
    let mut text = parts
        .join(": ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if text.len() > 400 {
        let mut cut = 400;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}
