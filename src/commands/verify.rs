use crate::cli::VerifyArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::sign::minisign::default_signature_path;
use crate::sign::{verify_attestation, verify_minisign, AttestationVerifyOptions, PublicKey};

pub fn run(a: VerifyArgs) -> Result<Exit> {
    if let Some(sig) = &a.oms {
        return oms(sig, &a);
    }
    let paths = if a.pubkey.is_empty() {
        vec![std::path::PathBuf::from("mlgate.pub")]
    } else {
        a.pubkey.clone()
    };
    let keys = paths
        .iter()
        .map(|p| PublicKey::load(p))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let report = match &a.attestation {
        Some(envelope) => verify_attestation(
            &keys,
            &AttestationVerifyOptions {
                envelope: envelope.clone(),
                base_dir: a.base_dir.clone().unwrap_or_default(),
                files: a.files.clone(),
                commit: a.commit.clone(),
            },
        )?,
        None => {
            if a.files.is_empty() {
                return Err(Error::Usage(
                    "name the files to verify (or an --attestation)".into(),
                ));
            }
            if a.signature.is_some() && a.files.len() > 1 {
                return Err(Error::Usage(
                    "--signature names one signature file: verify one file at a time with it"
                        .into(),
                ));
            }
            let pairs: Vec<_> = a
                .files
                .iter()
                .map(|f| {
                    let sig = a
                        .signature
                        .clone()
                        .unwrap_or_else(|| default_signature_path(f));
                    (f.clone(), sig)
                })
                .collect();
            verify_minisign(&keys, &pairs)?
        }
    };
    super::emit(&report, a.output.format)
}

/// `--oms SIG MODEL`: an OpenSSF Model Signing signature, checked with P-256 PEM public keys.
fn oms(sig: &std::path::Path, a: &VerifyArgs) -> Result<Exit> {
    let [model] = a.files.as_slice() else {
        return Err(Error::Usage(
            "--oms verifies one model: name the model file or folder the signature covers".into(),
        ));
    };
    let paths = if a.pubkey.is_empty() {
        vec![std::path::PathBuf::from("mlgate.pub.pem")]
    } else {
        a.pubkey.clone()
    };
    let keys = paths
        .iter()
        .map(|p| crate::sign::ecdsa::EcPublicKey::load(p))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let report = crate::sign::oms::verify_oms(&keys, sig, model)?;
    super::emit(&report, a.output.format)
}
