use std::io::Write;

use crate::cli::AttestArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::fsutil::write_atomic;
use crate::sign::provenance::Provenance;
use crate::sign::{attest, AttestOptions};

pub fn run(a: AttestArgs) -> Result<Exit> {
    let report = match super::passing_report(&a.report, "attested")? {
        Ok(r) => r,
        Err(exit) => return Ok(exit),
    };
    let commit = match a.commit.clone().or_else(|| env_nonempty("GITHUB_SHA")) {
        Some(c) => c,
        None => git_head().ok_or_else(|| {
            Error::Usage(
                "cannot tell the commit: pass --commit SHA (in GitHub Actions $GITHUB_SHA is read)"
                    .into(),
            )
        })?,
    };
    let key = super::secret_key(a.key.key.as_deref())?;
    let opts = AttestOptions {
        paths: a.files.clone(),
        report: a.report.clone(),
        repository: a
            .repository
            .clone()
            .or_else(|| env_nonempty("GITHUB_REPOSITORY")),
        timestamp: super::timestamp(),
        provenance: Provenance::from_actions(env_nonempty, &commit),
        commit,
    };
    let (envelope, statement) = attest(&key, &report, &opts)?;
    write_atomic(&a.output, envelope.to_jsonl().as_bytes())?;
    super::make_world_readable(&a.output)?;
    let mut out = anstream::stdout();
    let _ = writeln!(
        out,
        "attested {} files at commit {} (report {}: pass) -> {}\nDSSE key ID {}",
        statement.subject.len(),
        opts.commit,
        a.report.display(),
        a.output.display(),
        key.public().keyid()
    );
    Ok(Exit::Pass)
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
