use std::io::Write;

use crate::cli::SignArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::fsutil::write_atomic;
use crate::sign::minisign::{check_comment, default_signature_path};
use crate::sign::{sign_file, SignOptions};

pub fn run(a: SignArgs) -> Result<Exit> {
    if a.signature.is_some() && a.files.len() > 1 {
        return Err(Error::Usage(
            "--signature names one signature file: sign one file at a time with it".into(),
        ));
    }
    if let Some(c) = &a.trusted_comment {
        check_comment(c).map_err(Error::Usage)?;
    }
    if let Some(report) = &a.report {
        if let Err(exit) = super::passing_report(report, "signed")? {
            return Ok(exit);
        }
    }
    let key = super::secret_key(a.key.key.as_deref())?;
    let opts = SignOptions {
        trusted_comment: a.trusted_comment.clone(),
        timestamp: super::timestamp(),
    };
    let mut out = anstream::stdout();
    for file in &a.files {
        let sig = sign_file(&key, file, &opts)?;
        let path = a
            .signature
            .clone()
            .unwrap_or_else(|| default_signature_path(file));
        write_atomic(&path, sig.to_text().as_bytes())?;
        super::make_world_readable(&path)?;
        let _ = writeln!(out, "signed {} -> {}", file.display(), path.display());
    }
    Ok(Exit::Pass)
}
