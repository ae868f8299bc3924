//! The command line, as DESIGN.md fixes it. Flags are parsed here; each subcommand's module in `commands/`
//! turns them into one library call.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "mlgate",
    version,
    about = "The gatekeeper of an ML repository: data contracts, drift, model gates, signing, edge bundles",
    after_help = "Exit codes: 0 pass, 1 a gate failed, 2 could not run."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every gate in mlgate.yml and report.
    Check(CheckArgs),
    /// Validate one dataset against one Table Schema.
    Validate(ValidateArgs),
    /// Table Schema tools.
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Per-column and dataset drift of CURRENT against REFERENCE (Evidently's tests and thresholds).
    Drift(DriftArgs),
}

#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Write a Table Schema that the data passes.
    Infer(InferArgs),
}

/// How a report is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Colour on a terminal (NO_COLOR honoured).
    Human,
    /// The versioned report JSON.
    Json,
    /// What the pull-request comment shows.
    Markdown,
    /// GitHub Actions workflow commands (annotations).
    Github,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format [default: github in GitHub Actions, else human]
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The config file.
    #[arg(short, long, default_value = "mlgate.yml")]
    pub config: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Also write report.json and report.md to this folder.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
}

/// How to read a data file (the dialect).
#[derive(Debug, Args)]
pub struct DataArgs {
    /// The data format [default: from the file name]
    #[arg(long, value_parser = ["csv", "tsv", "jsonl", "parquet"])]
    pub data_format: Option<String>,
    /// Field delimiter of a CSV file.
    #[arg(long)]
    pub delimiter: Option<char>,
    /// Quote character of a CSV file.
    #[arg(long)]
    pub quote_char: Option<char>,
    /// The file has no header row.
    #[arg(long)]
    pub no_header: bool,
    /// The 1-based row that holds the header.
    #[arg(long, value_name = "N")]
    pub header_row: Option<u64>,
    /// Text encoding (utf-8, latin1, windows-1252, utf-16le, ...).
    #[arg(long)]
    pub encoding: Option<String>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The data file (CSV, TSV, JSON Lines, Parquet; .gz accepted for text formats).
    pub data: PathBuf,
    /// The Table Schema (JSON or YAML). Without it only the structure is checked.
    #[arg(long)]
    pub schema: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub dialect: DataArgs,
    /// Also report rows that repeat an earlier row.
    #[arg(long)]
    pub duplicate_rows: bool,
}

#[derive(Debug, Args)]
pub struct InferArgs {
    /// The data file.
    pub data: PathBuf,
    /// Write the schema here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// String columns with at most N distinct values get an enum (0: none).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub enum_threshold: usize,
    #[command(flatten)]
    pub dialect: DataArgs,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// The reference data (CSV, TSV, JSON Lines, Parquet; .gz accepted for text formats).
    pub reference: PathBuf,
    /// The current data, with the same columns.
    pub current: PathBuf,
    /// A Table Schema that types the columns (number/integer: numerical; others: categorical).
    #[arg(long)]
    pub schema: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub dialect: DataArgs,
    /// The dataset drifts when at least this share of columns drifted.
    #[arg(long, value_name = "SHARE", default_value_t = 0.5)]
    pub drift_share: f64,
    /// Leave a column out (repeatable).
    #[arg(long, value_name = "COLUMN")]
    pub exclude: Vec<String>,
    /// Test one column with TEST, optionally at THRESHOLD: `--test age=psi` or `--test age=psi:0.2` (repeatable).
    /// Tests: ks, chisquare, z, wasserstein, jensenshannon, psi, kl_div, l_infinity.
    #[arg(long = "test", value_name = "COLUMN=TEST[:THRESHOLD]")]
    pub tests: Vec<String>,
}
