use std::io::Write;

use crate::cli::{KeyAlgorithm, KeygenArgs};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::fsutil::write_atomic;
use crate::sign::KeyPair;

pub fn run(a: KeygenArgs) -> Result<Exit> {
    let secret = a.out_dir.join(format!("{}.key", a.name));
    let minisign = a.out_dir.join(format!("{}.pub", a.name));
    let pem = a.out_dir.join(format!("{}.pub.pem", a.name));
    let files = match a.algorithm {
        KeyAlgorithm::Ed25519 => vec![&secret, &minisign, &pem],
        KeyAlgorithm::P256 => vec![&secret, &pem],
    };
    if !a.force {
        if let Some(p) = files.into_iter().find(|p| p.exists()) {
            return Err(Error::Usage(format!(
                "{} exists: pass --force to replace the key pair (signatures made with the old key will not verify with the new public key)",
                p.display()
            )));
        }
    }
    std::fs::create_dir_all(&a.out_dir).map_err(|source| Error::Write {
        path: a.out_dir.display().to_string(),
        source,
    })?;
    if a.algorithm == KeyAlgorithm::P256 {
        return p256(&secret, &pem);
    }
    let key = KeyPair::generate()?;
    let public = key.public();
    // write_atomic creates files readable by their owner only: right for the secret key.
    write_atomic(&secret, key.to_pkcs8_pem()?.as_bytes())?;
    write_atomic(&minisign, public.to_minisign().as_bytes())?;
    write_atomic(&pem, public.to_pem().as_bytes())?;
    for p in [&minisign, &pem] {
        super::make_world_readable(p)?;
    }
    let mut out = anstream::stdout();
    let _ = write!(
        out,
        "wrote {}  secret key (PKCS#8 PEM): keep it out of the repository; in CI, put its text in a secret read as $MLGATE_SIGNING_KEY\n\
         wrote {}  minisign public key, key ID {}: minisign -Vm FILE -p {}\n\
         wrote {}  PEM public key, DSSE key ID {}\n",
        secret.display(),
        minisign.display(),
        public.key_id_hex(),
        minisign.display(),
        pem.display(),
        public.keyid(),
    );
    Ok(Exit::Pass)
}

/// An ECDSA P-256 key pair for OMS signatures, in the PEM forms `model_signing` reads: PKCS#8 secret key,
/// SubjectPublicKeyInfo public key.
fn p256(secret: &std::path::Path, pem: &std::path::Path) -> Result<Exit> {
    let key = crate::sign::ecdsa::EcKeyPair::generate()?;
    let public = key.public();
    write_atomic(secret, key.to_pkcs8_pem()?.as_bytes())?;
    write_atomic(pem, public.to_pem().as_bytes())?;
    super::make_world_readable(pem)?;
    let _ = write!(
        anstream::stdout(),
        "wrote {}  ECDSA P-256 secret key (PKCS#8 PEM): keep it out of the repository; in CI, put its text in a secret read as $MLGATE_SIGNING_KEY\n\
         wrote {}  PEM public key, OMS key hint {}: mlgate verify --oms model.sig MODEL --pubkey {}\n",
        secret.display(),
        pem.display(),
        public.hint(),
        pem.display(),
    );
    Ok(Exit::Pass)
}
