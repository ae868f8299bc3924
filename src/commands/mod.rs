//! One module per subcommand: each parses its flags into options, calls one library function and renders.

#[cfg(feature = "full")]
mod attest;
#[cfg(feature = "full")]
mod bundle;
#[cfg(feature = "full")]
mod channel;
#[cfg(feature = "full")]
mod check;
mod device;
#[cfg(feature = "full")]
mod drift;
#[cfg(feature = "full")]
mod eval;
#[cfg(feature = "full")]
mod github_publish;
#[cfg(feature = "full")]
mod init;
#[cfg(feature = "full")]
mod keygen;
#[cfg(feature = "full")]
mod merge;
#[cfg(feature = "full")]
mod publish;
#[cfg(feature = "full")]
mod quantize;
#[cfg(feature = "full")]
mod report_html;
mod run;
#[cfg(feature = "full")]
mod scan;
#[cfg(feature = "full")]
mod schema_infer;
#[cfg(feature = "full")]
mod sign;
mod tuf_client;
#[cfg(feature = "full")]
mod validate;
mod verify;

use std::io::Write;

#[cfg(feature = "full")]
use crate::cli::{ChannelCommand, GithubCommand, SchemaCommand};
use crate::cli::{Cli, Command, DeviceCommand, OutputFormat};
use crate::error::Result;
use crate::exit::Exit;
use crate::report::{self, Report};

// Helpers of the full build's commands (data sources, signing keys, timestamps, commits): a module of their own, so
// the `device` build leaves them out whole. Children still call them as `super::name`.
#[cfg(feature = "full")]
mod common;
#[cfg(feature = "full")]
use common::{
    commit, ec_secret_key, env_nonempty, make_world_readable, passing_report, secret_key, source,
    timestamp,
};

pub fn run(cli: Cli) -> Result<Exit> {
    crate::progress::allow(!json_output(&cli.command));
    match cli.command {
        #[cfg(feature = "full")]
        Command::Check(a) => check::run(a),
        #[cfg(feature = "full")]
        Command::Validate(a) => validate::run(a),
        #[cfg(feature = "full")]
        Command::Schema(SchemaCommand::Infer(a)) => schema_infer::run(a),
        #[cfg(feature = "full")]
        Command::Keygen(a) => keygen::run(a),
        #[cfg(feature = "full")]
        Command::Sign(a) => sign::run(a),
        Command::Verify(a) => verify::run(a),
        #[cfg(feature = "full")]
        Command::Attest(a) => attest::run(a),
        #[cfg(feature = "full")]
        Command::Scan(a) => scan::run(a),
        #[cfg(feature = "full")]
        Command::Merge(a) => merge::run(a),
        #[cfg(feature = "full")]
        Command::Report(a) => report_html::run(a),
        #[cfg(feature = "full")]
        Command::Drift(a) => drift::run(a),
        #[cfg(feature = "full")]
        Command::Bundle(a) => bundle::run(a),
        Command::Run(a) => run::run(a),
        #[cfg(feature = "full")]
        Command::Github(GithubCommand::Publish(a)) => github_publish::run(a),
        #[cfg(feature = "full")]
        Command::Init(a) => init::run(a),
        #[cfg(feature = "full")]
        Command::Eval(a) => eval::run(a),
        #[cfg(feature = "full")]
        Command::Quantize(a) => quantize::run(a),
        #[cfg(feature = "full")]
        Command::Channel(ChannelCommand::Init(a)) => channel::init(a),
        #[cfg(feature = "full")]
        Command::Channel(ChannelCommand::Refresh(a)) => channel::refresh(a),
        #[cfg(feature = "full")]
        Command::Channel(ChannelCommand::Status(a)) => channel::status(a),
        #[cfg(feature = "full")]
        Command::Channel(ChannelCommand::Rotate(a)) => channel::rotate(a),
        #[cfg(feature = "full")]
        Command::Publish(a) => publish::run(a),
        Command::Pull(a) => device::pull(a),
        Command::Device(DeviceCommand::Status(a)) => device::status(a),
        Command::Device(DeviceCommand::Rollback(a)) => device::rollback(a),
        Command::Device(DeviceCommand::Service(a)) => device::service(*a),
        Command::Device(DeviceCommand::Selftest(a)) => device::selftest(a),
        Command::TufClient(a) => tuf_client::run(a),
    }
}

/// Whether the command prints JSON: then no progress bar draws, even on a terminal.
fn json_output(command: &Command) -> bool {
    let format = match command {
        #[cfg(feature = "full")]
        Command::Check(a) => a.output.format,
        #[cfg(feature = "full")]
        Command::Merge(a) => a.output.format,
        #[cfg(feature = "full")]
        Command::Validate(a) => a.output.format,
        #[cfg(feature = "full")]
        Command::Drift(a) => a.output.format,
        #[cfg(feature = "full")]
        Command::Eval(a) => a.output.format,
        _ => None,
    };
    format == Some(OutputFormat::Json)
}

/// The output format when none is named: annotations inside GitHub Actions, else the human rendering.
fn output_format(chosen: Option<OutputFormat>) -> OutputFormat {
    chosen.unwrap_or_else(|| {
        if std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true") {
            OutputFormat::Github
        } else {
            OutputFormat::Human
        }
    })
}

fn render(report: &Report, format: OutputFormat) -> String {
    match format {
        OutputFormat::Human => report::render_human(report),
        OutputFormat::Json => report.to_json(),
        OutputFormat::Markdown => report::render_markdown(report),
        OutputFormat::Junit => report::render_junit(report),
        OutputFormat::Sarif => report::render_sarif(report),
        OutputFormat::Github => {
            // Annotations for the log's margin, then the human text for people reading the log.
            let mut s = report::render_github(report);
            s.push_str(&report::render_human(report));
            s
        }
    }
}

/// Prints a rendered report; `anstream` strips colour when NO_COLOR is set or stdout is not a terminal.
fn emit(report: &Report, format: Option<OutputFormat>) -> Result<Exit> {
    let text = render(report, output_format(format));
    let mut out = anstream::stdout();
    // A closed pipe (`mlgate check | head`) is not an error of ours.
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    Ok(Exit::from(report.verdict))
}

/// The P-256 public keys of `--oms-pubkey` (PEM files), for `run` and `pull` (both builds).
fn oms_public_keys(paths: &[std::path::PathBuf]) -> Result<Vec<crate::sign::ecdsa::EcPublicKey>> {
    paths
        .iter()
        .map(|p| crate::sign::ecdsa::EcPublicKey::load(p).map_err(crate::error::Error::from))
        .collect()
}
