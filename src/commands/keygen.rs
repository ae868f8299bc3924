use std::io::Write;

use crate::cli::KeygenArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::fsutil::write_atomic;
use crate::sign::KeyPair;

pub fn run(a: KeygenArgs) -> Result<Exit> {
    let secret = a.out_dir.join(format!("{}.key", a.name));
    let minisign = a.out_dir.join(format!("{}.pub", a.name));
    let pem = a.out_dir.join(format!("{}.pub.pem", a.name));
    if !a.force {
        if let Some(p) = [&secret, &minisign, &pem].into_iter().find(|p| p.exists()) {
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
