use std::io::Write;

use crate::cli::AttestArgs;
use crate::error::Result;
use crate::exit::Exit;
use crate::fsutil::write_atomic;
use crate::sign::provenance::Provenance;
use crate::sign::{attest, AttestOptions};

pub fn run(a: AttestArgs) -> Result<Exit> {
    let report = match super::passing_report(&a.report, "attested")? {
        Ok(r) => r,
        Err(exit) => return Ok(exit),
    };
    let commit = super::commit(a.commit.clone())?;
    let key = super::secret_key(a.key.key.as_deref())?;
    let opts = AttestOptions {
        paths: a.files.clone(),
        report: a.report.clone(),
        repository: a
            .repository
            .clone()
            .or_else(|| super::env_nonempty("GITHUB_REPOSITORY")),
        timestamp: super::timestamp(),
        provenance: Provenance::from_actions(super::env_nonempty, &commit),
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
