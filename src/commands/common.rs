//! Helpers shared by the full build's commands: a dataset's source from the data flags, the signing key from
//! `--key` or the environment, the timestamp and the commit that artifacts are attested at.

use std::io::Write;

use crate::cli::DataArgs;
use crate::data::{Dialect, Format, Source};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::report::{self, Report};

pub(super) fn source(path: &std::path::Path, a: &DataArgs) -> Result<Source> {
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
pub(super) fn secret_key(source: Option<&str>) -> Result<crate::sign::KeyPair> {
    secret_key_as(
        source,
        crate::sign::KeyPair::load,
        crate::sign::KeyPair::from_text,
    )
}

/// [`secret_key`] for an ECDSA P-256 key (OMS signatures).
pub(super) fn ec_secret_key(source: Option<&str>) -> Result<crate::sign::ecdsa::EcKeyPair> {
    use crate::sign::ecdsa::EcKeyPair;
    secret_key_as(source, EcKeyPair::load, EcKeyPair::from_text)
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
pub(super) fn timestamp() -> u64 {
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
pub(super) fn passing_report(path: &std::path::Path, what: &str) -> Result<Result<Report, Exit>> {
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

pub(super) use crate::fsutil::make_world_readable;

/// The commit artifacts are attested at: `explicit`, else `$GITHUB_SHA`, else `git rev-parse HEAD`.
pub(super) fn commit(explicit: Option<String>) -> Result<String> {
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

pub(super) fn env_nonempty(name: &str) -> Option<String> {
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
