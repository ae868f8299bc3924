//! One module per subcommand: each parses its flags into options, calls one library function and renders.

mod attest;
mod bundle;
mod channel;
mod check;
mod device;
mod drift;
mod eval;
mod github_publish;
mod init;
mod keygen;
mod publish;
mod quantize;
mod run;
mod scan;
mod schema_infer;
mod sign;
mod validate;
mod verify;

use std::io::Write;

use crate::cli::{
    ChannelCommand, Cli, Command, DataArgs, DeviceCommand, GithubCommand, OutputFormat,
    SchemaCommand,
};
use crate::data::{Dialect, Format, Source};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::report::{self, Report};

pub fn run(cli: Cli) -> Result<Exit> {
    match cli.command {
        Command::Check(a) => check::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Schema(SchemaCommand::Infer(a)) => schema_infer::run(a),
        Command::Keygen(a) => keygen::run(a),
        Command::Sign(a) => sign::run(a),
        Command::Verify(a) => verify::run(a),
        Command::Attest(a) => attest::run(a),
        Command::Scan(a) => scan::run(a),
        Command::Drift(a) => drift::run(a),
        Command::Bundle(a) => bundle::run(a),
        Command::Run(a) => run::run(a),
        Command::Github(GithubCommand::Publish(a)) => github_publish::run(a),
        Command::Init(a) => init::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Quantize(a) => quantize::run(a),
        Command::Channel(ChannelCommand::Init(a)) => channel::init(a),
        Command::Channel(ChannelCommand::Refresh(a)) => channel::refresh(a),
        Command::Channel(ChannelCommand::Status(a)) => channel::status(a),
        Command::Channel(ChannelCommand::Rotate(a)) => channel::rotate(a),
        Command::Publish(a) => publish::run(a),
        Command::Pull(a) => device::pull(a),
        Command::Device(DeviceCommand::Status(a)) => device::status(a),
        Command::Device(DeviceCommand::Rollback(a)) => device::rollback(a),
        Command::Device(DeviceCommand::Service(a)) => device::service(*a),
    }
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

fn source(path: &std::path::Path, a: &DataArgs) -> Result<Source> {
    let format = a.data_format.as_deref().and_then(Format::parse);
    let dialect = Dialect {
        delimiter: a.delimiter,
        quote_char: a.quote_char,
        header: !a.no_header,
        header_row: a.header_row,
        encoding: a.encoding.clone(),
    };
    Source::new(path, format, dialect).map_err(Error::from)
}

/// The environment variable that holds a secret key's text (a CI secret) when no `--key` is given.
const SIGNING_KEY_ENV: &str = "MLGATE_SIGNING_KEY";

/// Whether a `--key` value is a key's text rather than a file name: `--key "$(cat key)"` is a common CI mistake,
/// and a file name is echoed in errors while a secret must never be. Key texts have line breaks, PEM or minisign
/// headers, or are long runs of base64 with no file of that name.
fn looks_like_key_material(s: &str) -> bool {
    let t = s.trim();
    let headers = ["-----BEGIN", "untrusted comment:", "openssh-key-v1"];
    let long_base64 = t.len() >= 40
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
        && !std::path::Path::new(s).exists();
    s.contains(['\n', '\r']) || headers.iter().any(|h| t.starts_with(h)) || long_base64
}

/// The secret key from `--key`, else from `$MLGATE_SIGNING_KEY`.
fn secret_key(source: Option<&str>) -> Result<crate::sign::KeyPair> {
    secret_key_as(
        source,
        crate::sign::KeyPair::load,
        crate::sign::KeyPair::from_text,
    )
}

/// [`secret_key`] for an ECDSA P-256 key (OMS signatures).
fn ec_secret_key(source: Option<&str>) -> Result<crate::sign::ecdsa::EcKeyPair> {
    use crate::sign::ecdsa::EcKeyPair;
    secret_key_as(source, EcKeyPair::load, EcKeyPair::from_text)
}

/// The P-256 public keys of `--oms-pubkey` (PEM files).
fn oms_public_keys(paths: &[std::path::PathBuf]) -> Result<Vec<crate::sign::ecdsa::EcPublicKey>> {
    paths
        .iter()
        .map(|p| crate::sign::ecdsa::EcPublicKey::load(p).map_err(Error::from))
        .collect()
}

/// A secret key from `--key` (a file, or `env:VAR`), else from `$MLGATE_SIGNING_KEY`, read by `load` (a file)
/// or `parse` (a text and where it came from).
fn secret_key_as<K>(
    source: Option<&str>,
    load: fn(&std::path::Path) -> std::result::Result<K, crate::sign::SignError>,
    parse: fn(&str, &str) -> std::result::Result<K, crate::sign::SignError>,
) -> Result<K> {
    let var = match source {
        Some(s) if looks_like_key_material(s) => {
            return Err(Error::Usage(
                "--key was given a key's text, not a file: pass a secret through an environment variable instead, \
                 --key env:VAR (e.g. `MLGATE_SIGNING_KEY: ${{ secrets.MLGATE_SIGNING_KEY }}` and --key \
                 env:MLGATE_SIGNING_KEY); the value is not shown here"
                    .into(),
            ))
        }
        Some(s) => match s.strip_prefix("env:") {
            Some(var) => var,
            None => return Ok(load(std::path::Path::new(s))?),
        },
        None => SIGNING_KEY_ENV,
    };
    if var.is_empty() {
        return Err(Error::Usage(
            "--key env:VAR needs the variable's name, e.g. --key env:MLGATE_SIGNING_KEY".into(),
        ));
    }
    match std::env::var(var) {
        Ok(text) if !text.trim().is_empty() => {
            Ok(parse(&text, &format!("${var}"))?)
        }
        Ok(_) => Err(Error::Usage(format!(
            "${var} is empty: it must hold the secret key's text (a CI secret); `mlgate keygen` makes one"
        ))),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::Usage(format!(
            "${var} is not valid UTF-8: it must hold the secret key's text"
        ))),
        Err(std::env::VarError::NotPresent) if source.is_none() => Err(Error::Usage(format!(
            "no signing key: pass --key FILE or --key env:VAR, or put the key's text in ${SIGNING_KEY_ENV} (a CI secret); `mlgate keygen` makes one"
        ))),
        Err(std::env::VarError::NotPresent) => Err(Error::Usage(format!(
            "${var} is not set: it must hold the secret key's text (a CI secret); `mlgate keygen` makes one"
        ))),
    }
}

/// Seconds since the epoch: `SOURCE_DATE_EPOCH` when set (reproducible builds), else the clock.
fn timestamp() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        })
}

/// Reads a gate report. When its verdict is fail, says so on stderr and gives exit 1 instead (nothing is `what`).
fn passing_report(path: &std::path::Path, what: &str) -> Result<Result<Report, Exit>> {
    let report = crate::sign::dsse::read_report(path)?;
    if report.verdict == report::Verdict::Pass {
        return Ok(Ok(report));
    }
    let failed: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.status == report::Status::Fail)
        .map(|c| c.id.as_str())
        .collect();
    let mut err = anstream::stderr();
    let _ = writeln!(
        err,
        "{}: the gate verdict is fail ({} failed: {}); nothing was {what}",
        path.display(),
        failed.len(),
        report::clip(&failed.join(", "), 300)
    );
    Ok(Err(Exit::GateFailed))
}

/// Public outputs (signatures, public keys, envelopes) are for everyone to read; `write_atomic` makes files
/// readable by their owner only.
fn make_world_readable(path: &std::path::Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).map_err(
            |source| Error::Write {
                path: path.display().to_string(),
                source,
            },
        )?;
    }
    let _ = path;
    Ok(())
}

/// The commit artifacts are attested at: `explicit`, else `$GITHUB_SHA`, else `git rev-parse HEAD`.
fn commit(explicit: Option<String>) -> Result<String> {
    if let Some(c) = explicit.or_else(|| env_nonempty("GITHUB_SHA")) {
        return Ok(c);
    }
    git_head().ok_or_else(|| {
        Error::Usage(
            "cannot tell the commit: pass --commit SHA (in GitHub Actions $GITHUB_SHA is read)"
                .into(),
        )
    })
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `git rev-parse HEAD` in the current folder, when git and a repository are there.
fn git_head() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let sha = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !sha.is_empty()).then_some(sha)
}
