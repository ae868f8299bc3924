//! minisign signatures, the format that devices and people check with `minisign -V` (or rsign2, or any
//! libsodium binding).
//!
//! A `.minisig` file has four lines:
//!
//! ```text
//! untrusted comment: <free text, not signed>
//! base64( "ED" || key ID (8) || Ed25519(BLAKE2b-512(file)) (64) )
//! trusted comment: <text>
//! base64( Ed25519(signature (64) || trusted comment text) )
//! ```
//!
//! mlgate writes the prehashed `ED` form (minisign's default since 0.8, and what `-H` demands); it verifies
//! both `ED` and the legacy `Ed` form, which signs the file's bytes themselves.

use std::path::{Path, PathBuf};

use super::digest::{blake2b512_reader, sha256_and_blake2b512, sha256_reader};
use super::keys::{key_id_hex, KeyPair, PublicKey};
use super::{b64, hex, unb64, SignError};

const ALG_PREHASHED: [u8; 2] = *b"ED";
const ALG_LEGACY: [u8; 2] = *b"Ed";

/// How to sign one file.
#[derive(Debug, Clone, Default)]
pub struct SignOptions {
    /// The trusted comment; default `timestamp:<unix seconds>\tfile:<file name>\tsha256:<hex>\thashed`: minisign's
    /// own fields plus the file's SHA-256, so a reader of the signature sees which bytes were approved.
    pub trusted_comment: Option<String>,
    /// Seconds since the epoch for the default trusted comment (callers pass `SOURCE_DATE_EPOCH` or the clock).
    pub timestamp: u64,
}

/// A parsed `.minisig` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinisignSignature {
    pub untrusted_comment: String,
    pub algorithm: [u8; 2],
    pub key_id: [u8; 8],
    pub signature: [u8; 64],
    pub trusted_comment: String,
    pub global_signature: [u8; 64],
}

impl MinisignSignature {
    /// The `sha256:HEX` field of the trusted comment (tab-separated `key:value` fields), when it has one.
    pub fn comment_sha256(&self) -> Option<&str> {
        self.trusted_comment
            .split('\t')
            .find_map(|f| f.strip_prefix("sha256:"))
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
    }

    /// Whether the signature is over BLAKE2b-512 of the file (`ED`) rather than the file itself (`Ed`).
    pub fn prehashed(&self) -> bool {
        self.algorithm == ALG_PREHASHED
    }

    pub fn key_id_hex(&self) -> String {
        key_id_hex(&self.key_id)
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let mut lines = text.lines();
        let mut next = |what: &str| {
            lines
                .next()
                .map(|l| l.trim_end_matches('\r').to_string())
                .ok_or_else(|| format!("the signature file ends before its {what} line"))
        };
        let l1 = next("untrusted comment")?;
        let untrusted_comment = l1
            .strip_prefix("untrusted comment: ")
            .ok_or("the first line is not `untrusted comment: ...`")?
            .to_string();
        let raw = unb64(&next("signature")?).ok_or("the signature line is not base64")?;
        if raw.len() != 74 {
            return Err(format!(
                "the signature is {} bytes, a minisign signature is 74",
                raw.len()
            ));
        }
        let algorithm = [raw[0], raw[1]];
        if algorithm != ALG_PREHASHED && algorithm != ALG_LEGACY {
            return Err(format!(
                "unknown signature algorithm {:?}",
                String::from_utf8_lossy(&algorithm)
            ));
        }
        let l3 = next("trusted comment")?;
        let trusted_comment = l3
            .strip_prefix("trusted comment: ")
            .ok_or("the third line is not `trusted comment: ...`")?
            .to_string();
        let global = unb64(&next("global signature")?).ok_or("the last line is not base64")?;
        let global_signature: [u8; 64] = global
            .as_slice()
            .try_into()
            .map_err(|_| "the global signature is not 64 bytes")?;
        let mut key_id = [0u8; 8];
        key_id.copy_from_slice(&raw[2..10]);
        let mut signature = [0u8; 64];
        signature.copy_from_slice(&raw[10..74]);
        Ok(MinisignSignature {
            untrusted_comment,
            algorithm,
            key_id,
            signature,
            trusted_comment,
            global_signature,
        })
    }

    pub fn to_text(&self) -> String {
        let mut raw = Vec::with_capacity(74);
        raw.extend_from_slice(&self.algorithm);
        raw.extend_from_slice(&self.key_id);
        raw.extend_from_slice(&self.signature);
        format!(
            "untrusted comment: {}\n{}\ntrusted comment: {}\n{}\n",
            self.untrusted_comment,
            b64(&raw),
            self.trusted_comment,
            b64(&self.global_signature)
        )
    }

    fn global_message(&self) -> Vec<u8> {
        let mut m = self.signature.to_vec();
        m.extend_from_slice(self.trusted_comment.as_bytes());
        m
    }
}

/// Why a signature does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// Signed by another key (the key IDs differ).
    KeyMismatch { signed_by: String, key: String },
    /// The signature over the file does not verify: the file changed, or the signature was altered.
    FileSignature,
    /// The trusted comment or the global signature was altered.
    GlobalSignature,
    /// The (validly signed) trusted comment names another SHA-256 than the file's: the signer was told wrong.
    CommentSha256 { claimed: String, actual: String },
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Invalid::KeyMismatch { signed_by, key } => write!(
                f,
                "signed by key ID {signed_by}, but the public key's ID is {key}"
            ),
            Invalid::FileSignature => write!(
                f,
                "the signature does not match the file: the file was changed after signing, or the signature was altered"
            ),
            Invalid::GlobalSignature => {
                write!(f, "the trusted comment does not match its signature: it was altered")
            }
            Invalid::CommentSha256 { claimed, actual } => write!(
                f,
                "the trusted comment says sha256:{claimed}, but the file's SHA-256 is {actual}"
            ),
        }
    }
}

/// Signs `file` in minisign's prehashed form; the caller writes [`MinisignSignature::to_text`] where it wants
/// (by default [`default_signature_path`]).
pub fn sign_file(
    key: &KeyPair,
    file: &Path,
    opts: &SignOptions,
) -> Result<MinisignSignature, SignError> {
    let f = std::fs::File::open(file).map_err(|e| SignError::io(file, e))?;
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    sign_reader(key, f, &name, opts).map_err(|e| SignError::io(file, e))
}

/// Signs bytes held in memory (a bundle's entry) as [`sign_file`] signs a file named `file_name`.
pub fn sign_bytes(
    key: &KeyPair,
    bytes: &[u8],
    file_name: &str,
    opts: &SignOptions,
) -> MinisignSignature {
    // Reading from a slice cannot fail.
    sign_reader(key, bytes, file_name, opts)
        .unwrap_or_else(|e| unreachable!("reading a slice: {e}"))
}

/// `FILE.minisig`, beside the file.
pub fn default_signature_path(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(".minisig");
    PathBuf::from(s)
}

fn sign_reader(
    key: &KeyPair,
    r: impl std::io::Read,
    file_name: &str,
    opts: &SignOptions,
) -> std::io::Result<MinisignSignature> {
    let (sha256, prehash) = sha256_and_blake2b512(r)?;
    let trusted_comment = opts.trusted_comment.clone().unwrap_or_else(|| {
        // minisign refuses line breaks in comments; a file name cannot put one there either.
        let name: String = file_name
            .chars()
            .filter(|c| *c != '\n' && *c != '\r')
            .collect();
        format!(
            "timestamp:{}\tfile:{name}\tsha256:{}\thashed",
            opts.timestamp,
            hex(&sha256)
        )
    });
    let signature = key.sign(&prehash);
    let mut sig = MinisignSignature {
        untrusted_comment: "signature from mlgate secret key".into(),
        algorithm: ALG_PREHASHED,
        key_id: key.key_id(),
        signature,
        trusted_comment,
        global_signature: [0; 64],
    };
    sig.global_signature = key.sign(&sig.global_message());
    Ok(sig)
}

/// Checks `sig` against the file's bytes (read from `r`) and `key`.
pub fn verify_reader(
    key: &PublicKey,
    sig: &MinisignSignature,
    r: impl std::io::Read,
) -> std::io::Result<Result<(), Invalid>> {
    if sig.key_id != key.key_id() {
        return Ok(Err(Invalid::KeyMismatch {
            signed_by: sig.key_id_hex(),
            key: key.key_id_hex(),
        }));
    }
    // When the trusted comment names the file's SHA-256 (mlgate's default), it is checked too, in the same pass.
    let claimed_sha256 = sig.comment_sha256();
    let (ok, sha256) = if sig.prehashed() {
        if claimed_sha256.is_some() {
            let (sha256, prehash) = sha256_and_blake2b512(r)?;
            (key.verify(&prehash, &sig.signature), Some(sha256))
        } else {
            (key.verify(&blake2b512_reader(r)?, &sig.signature), None)
        }
    } else {
        let mut data = vec![];
        let mut r = r;
        r.read_to_end(&mut data)?;
        let sha256 = claimed_sha256
            .map(|_| sha256_reader(&data[..]))
            .transpose()?;
        (key.verify(&data, &sig.signature), sha256)
    };
    Ok(finish(key, sig, ok, sha256))
}

/// Checks a prehashed (`ED`) signature against the file's digests, computed elsewhere (while a bundle's entry
/// streamed past, say). `None` for the legacy `Ed` form: it signs the file's bytes themselves, which are gone.
pub fn verify_digests(
    key: &PublicKey,
    sig: &MinisignSignature,
    sha256: &[u8; 32],
    blake2b512: &[u8; 64],
) -> Option<Result<(), Invalid>> {
    if sig.key_id != key.key_id() {
        return Some(Err(Invalid::KeyMismatch {
            signed_by: sig.key_id_hex(),
            key: key.key_id_hex(),
        }));
    }
    if !sig.prehashed() {
        return None;
    }
    let ok = key.verify(blake2b512, &sig.signature);
    Some(finish(key, sig, ok, Some(*sha256)))
}

/// The checks after the file's own signature: the global signature over the trusted comment, and the comment's
/// `sha256:` against the file's.
fn finish(
    key: &PublicKey,
    sig: &MinisignSignature,
    file_ok: bool,
    sha256: Option<[u8; 32]>,
) -> Result<(), Invalid> {
    if !file_ok {
        return Err(Invalid::FileSignature);
    }
    if !key.verify(&sig.global_message(), &sig.global_signature) {
        return Err(Invalid::GlobalSignature);
    }
    if let (Some(claimed), Some(actual)) = (sig.comment_sha256(), sha256) {
        let actual = hex(&actual);
        if !claimed.eq_ignore_ascii_case(&actual) {
            return Err(Invalid::CommentSha256 {
                claimed: claimed.to_string(),
                actual,
            });
        }
    }
    Ok(())
}

/// Refuses line breaks in a trusted comment, as minisign does (the file format is line-based).
pub fn check_comment(comment: &str) -> Result<(), String> {
    if comment.contains('\n') || comment.contains('\r') {
        return Err("a trusted comment is one line".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> KeyPair {
        KeyPair::from_seed(&[7; 32])
    }

    fn opts() -> SignOptions {
        SignOptions {
            timestamp: 1_700_000_000,
            ..Default::default()
        }
    }

    #[test]
    fn signature_text_round_trips_and_verifies() {
        let k = key();
        let sig = sign_reader(&k, &b"model bytes"[..], "m.onnx", &opts()).unwrap();
        let text = sig.to_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[0],
            "untrusted comment: signature from mlgate secret key"
        );
        assert!(lines[1].starts_with("RU"), "{}", lines[1]); // "ED" in base64
        assert_eq!(
            lines[2],
            // sha256sum of "model bytes"
            "trusted comment: timestamp:1700000000\tfile:m.onnx\tsha256:9cb7487000bc86ac36ce83c4acfabe8878552be99572a6770f65ab1d048a5c48\thashed"
        );
        let back = MinisignSignature::parse(&text).unwrap();
        assert_eq!(back, sig);
        assert_eq!(
            verify_reader(&k.public(), &back, &b"model bytes"[..]).unwrap(),
            Ok(())
        );
        assert_eq!(
            verify_reader(&k.public(), &back, &b"model byteS"[..]).unwrap(),
            Err(Invalid::FileSignature)
        );
        let mut altered = back.clone();
        altered.trusted_comment.push('x');
        assert_eq!(
            verify_reader(&k.public(), &altered, &b"model bytes"[..]).unwrap(),
            Err(Invalid::GlobalSignature)
        );
    }

    #[test]
    fn digests_computed_elsewhere_verify_as_the_bytes_do() {
        let k = key();
        let sig = sign_reader(&k, &b"model bytes"[..], "m.onnx", &opts()).unwrap();
        let (sha, blake) = sha256_and_blake2b512(&b"model bytes"[..]).unwrap();
        assert_eq!(
            verify_digests(&k.public(), &sig, &sha, &blake),
            Some(Ok(()))
        );
        let (sha2, blake2) = sha256_and_blake2b512(&b"model byteS"[..]).unwrap();
        assert_eq!(
            verify_digests(&k.public(), &sig, &sha2, &blake2),
            Some(Err(Invalid::FileSignature))
        );
        // The right prehash with another SHA-256: the trusted comment names the signed file's.
        assert!(matches!(
            verify_digests(&k.public(), &sig, &sha2, &blake),
            Some(Err(Invalid::CommentSha256 { .. }))
        ));
        let mut legacy = sig.clone();
        legacy.algorithm = ALG_LEGACY;
        assert_eq!(verify_digests(&k.public(), &legacy, &sha, &blake), None);
        let other = KeyPair::from_seed(&[8; 32]);
        assert!(matches!(
            verify_digests(&other.public(), &sig, &sha, &blake),
            Some(Err(Invalid::KeyMismatch { .. }))
        ));
    }

    #[test]
    fn signatures_are_deterministic() {
        let a = sign_reader(&key(), &b"x"[..], "x", &opts()).unwrap();
        let b = sign_reader(&key(), &b"x"[..], "x", &opts()).unwrap();
        assert_eq!(a.to_text(), b.to_text());
    }

    #[test]
    fn another_key_is_named() {
        let sig = sign_reader(&key(), &b"x"[..], "x", &opts()).unwrap();
        let other = KeyPair::generate().unwrap();
        let r = verify_reader(&other.public(), &sig, &b"x"[..]).unwrap();
        assert!(matches!(r, Err(Invalid::KeyMismatch { .. })), "{r:?}");
    }

    #[test]
    fn malformed_files_are_explained() {
        assert!(MinisignSignature::parse("")
            .unwrap_err()
            .contains("ends before"));
        assert!(MinisignSignature::parse("hello\n")
            .unwrap_err()
            .contains("untrusted comment"));
        assert!(MinisignSignature::parse("untrusted comment: x\nAAAA\n")
            .unwrap_err()
            .contains("74"));
    }
}
