//! Errors of the data capability: the input could not be read or the schema is not usable (exit 2).
//! Problems *in* the data are findings, not errors.

use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Error, Diagnostic)]
pub enum DataError {
    #[error("{path}: cannot read: {err}")]
    #[diagnostic(
        code(mlgate::data::io),
        help("check the path; paths in mlgate.yml are relative to the config file")
    )]
    Io { path: String, err: std::io::Error },

    #[error("{path}: the file is empty")]
    #[diagnostic(
        code(mlgate::data::empty),
        help("a table needs at least a header row (or, without a header, one row)")
    )]
    Empty { path: String },

    #[error("{pattern}: matches no data file")]
    #[diagnostic(
        code(mlgate::data::no_parts),
        help("a partitioned dataset is a folder of data files (.csv, .tsv, .jsonl, .parquet) or a glob such as `data/*.csv`; paths in mlgate.yml are relative to the config file")
    )]
    NoParts { pattern: String },

    #[error("{path}:{line}: not valid {encoding}")]
    #[diagnostic(
        code(mlgate::data::encoding),
        help("declare the file's encoding (dialect `encoding: latin1` in mlgate.yml, or `--encoding`), or convert it to UTF-8")
    )]
    Encoding {
        path: String,
        line: u64,
        encoding: String,
    },

    #[error("{path}:{line}: unterminated quote: the quoted field that starts here never ends")]
    #[diagnostic(
        code(mlgate::data::quote),
        help("close the quote, or double a quote character that is part of the value (\"\")")
    )]
    UnterminatedQuote { path: String, line: u64 },

    #[error("{path}:{line}: {message}")]
    #[diagnostic(code(mlgate::data::parse))]
    Parse {
        path: String,
        line: u64,
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error("{path}: {message}")]
    #[diagnostic(code(mlgate::data::format))]
    Format {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error("{url}: {message}")]
    #[diagnostic(code(mlgate::data::remote))]
    Remote {
        url: String,
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    #[diagnostic(code(mlgate::schema::invalid))]
    Schema {
        path: String,
        line: Option<u64>,
        message: String,
        #[help]
        help: Option<String>,
    },
}

impl DataError {
    pub fn schema(
        path: &str,
        line: Option<u64>,
        message: impl Into<String>,
        help: impl Into<Option<String>>,
    ) -> Self {
        DataError::Schema {
            path: path.to_string(),
            line,
            message: message.into(),
            help: help.into(),
        }
    }

    /// The Frictionless code this error corresponds to, where it is a file-level error Frictionless reports
    /// (the conformance test compares these).
    pub fn frictionless_code(&self) -> Option<&'static str> {
        match self {
            DataError::Empty { .. }
            | DataError::NoParts { .. }
            | DataError::Io { .. }
            | DataError::UnterminatedQuote { .. } => Some("source-error"),
            DataError::Encoding { .. } => Some("encoding-error"),
            DataError::Parse { .. } | DataError::Format { .. } | DataError::Remote { .. } => {
                Some("source-error")
            }
            DataError::Schema { .. } => Some("schema-error"),
        }
    }
}
