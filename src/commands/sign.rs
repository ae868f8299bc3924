use std::io::Write;

use crate::cli::{SignArgs, SignFormat};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::fsutil::write_atomic;
use crate::sign::minisign::{check_comment, default_signature_path};
use crate::sign::{sign_file, SignOptions};

pub fn run(a: SignArgs) -> Result<Exit> {
    if a.format == SignFormat::Oms {
        return oms(a);
    }
    if a.output.is_some() {
        return Err(Error::Usage(
            "--output is for --format oms: minisign signatures go to FILE.minisig, or to --signature SIG".into(),
        ));
    }
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

/// `--format oms`: one OpenSSF Model Signing signature over a model file or folder, with a P-256 key.
fn oms(a: SignArgs) -> Result<Exit> {
    let [model] = a.files.as_slice() else {
        return Err(Error::Usage(
            "--format oms signs one model (a file or a folder) into one signature: name one".into(),
        ));
    };
    if a.trusted_comment.is_some() {
        return Err(Error::Usage(
            "--trusted-comment is minisign's: an OMS signature has none".into(),
        ));
    }
    if let Some(report) = &a.report {
        if let Err(exit) = super::passing_report(report, "signed")? {
            return Ok(exit);
        }
    }
    let key = super::ec_secret_key(a.key.key.as_deref())?;
    let path = a
        .output
        .or(a.signature)
        .unwrap_or_else(|| crate::sign::oms::DEFAULT_SIGNATURE.into());
    let bundle = crate::sign::oms::sign_model(&key, model, &path)?;
    write_atomic(&path, bundle.as_bytes())?;
    super::make_world_readable(&path)?;
    let _ = writeln!(
        anstream::stdout(),
        "signed {} -> {} (OMS v1.0; model_signing verify key --signature {} --public_key KEY.pub.pem {})",
        model.display(),
        path.display(),
        path.display(),
        model.display()
    );
    Ok(Exit::Pass)
}
