//! ECDSA P-256 keys, for OpenSSF Model Signing ([`super::oms`]) signatures.
//!
//! OMS signs with elliptic-curve keys (`model_signing sign key` loads them with `cryptography`'s
//! `load_pem_private_key` and refuses anything but NIST curves), so mlgate's Ed25519 keys cannot make OMS
//! signatures. Files are the PEM forms `model_signing` reads: the secret key as PKCS#8 (`-----BEGIN PRIVATE
//! KEY-----`, what `mlgate keygen --algorithm p256` writes; SEC1 `-----BEGIN EC PRIVATE KEY-----` from `openssl
//! ecparam -genkey` is read too), the public key as SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`).
//! Signatures are ECDSA over SHA-256, DER-encoded, as `cryptography` writes and reads them.

use std::path::Path;

use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{DerSignature, SigningKey, VerifyingKey};
use p256::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use zeroize::Zeroizing;

use super::{hex, SignError};

const SECRET_FORMATS: &str = "OMS signatures need an ECDSA P-256 key: PKCS#8 PEM (mlgate keygen --algorithm p256, \
     openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256) or SEC1 PEM (openssl ecparam -name prime256v1 -genkey)";
const PUBLIC_FORMATS: &str = "OMS signatures are checked with an ECDSA P-256 public key in PEM \
     (-----BEGIN PUBLIC KEY-----), such as the NAME.pub.pem that `mlgate keygen --algorithm p256` writes";
/// Why an Ed25519 key cannot sign OMS, said once for every place that meets one.
pub const ED25519_REFUSED: &str =
    "an Ed25519 key: OMS key signatures are ECDSA (model_signing signs and verifies with \
     elliptic-curve keys only), so `model_signing verify key` could not check an Ed25519 signature";

/// A P-256 secret key.
pub struct EcKeyPair {
    signing: SigningKey,
}

/// Shows the public half only.
impl std::fmt::Debug for EcKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcKeyPair")
            .field("public", &self.public())
            .finish_non_exhaustive()
    }
}

/// A P-256 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcPublicKey {
    key: VerifyingKey,
}

impl EcKeyPair {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<Self, SignError> {
        // A random 32-byte string is a valid scalar unless it is zero or above the group order (odds ~2^-32):
        // draw again then.
        for _ in 0..16 {
            let mut seed = Zeroizing::new([0u8; 32]);
            getrandom::fill(seed.as_mut())
                .map_err(|e| SignError::Crypto(format!("no random bytes from the system: {e}")))?;
            if let Ok(signing) = SigningKey::from_slice(seed.as_ref()) {
                return Ok(EcKeyPair { signing });
            }
        }
        Err(SignError::Crypto(
            "the system's random source gave no valid P-256 scalar in 16 draws".into(),
        ))
    }

    #[cfg(test)]
    pub(crate) fn from_seed(seed: &[u8; 32]) -> Self {
        EcKeyPair {
            signing: SigningKey::from_slice(seed).expect("test seed is a valid scalar"),
        }
    }

    /// Reads a secret key file (see the module's formats).
    pub fn load(path: &Path) -> Result<Self, SignError> {
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| SignError::io(path, e))?);
        let origin = path.display().to_string();
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| SignError::key(&origin, "not a text key file", Some(SECRET_FORMATS)))?;
        Self::from_text(text, &origin)
    }

    /// Parses a secret key's text; `origin` names where it came from in messages. An Ed25519 key in any format
    /// mlgate reads is refused with the reason, not as an unreadable file.
    pub fn from_text(text: &str, origin: &str) -> Result<Self, SignError> {
        let t = text.trim_start();
        let parsed = if t.starts_with("-----BEGIN PRIVATE KEY-----") {
            SigningKey::from_pkcs8_pem(t).map_err(|e| e.to_string())
        } else if t.starts_with("-----BEGIN EC PRIVATE KEY-----") {
            p256::SecretKey::from_sec1_pem(t)
                .map(SigningKey::from)
                .map_err(|e| e.to_string())
        } else if t.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(SignError::key(
                origin,
                "the PKCS#8 key is encrypted",
                Some("mlgate reads unencrypted keys (keep them in a CI secret); decrypt a copy with `openssl pkey -in KEY -out PLAIN`"),
            ));
        } else {
            Err("not a PEM secret key".to_string())
        };
        parsed
            .map(|signing| EcKeyPair { signing })
            .map_err(|e| match super::KeyPair::from_text(t, origin) {
                Ok(_) => SignError::key(
                    origin,
                    ED25519_REFUSED,
                    Some("make a P-256 key with `mlgate keygen --algorithm p256` and sign OMS with it"),
                ),
                Err(_) => SignError::key(
                    origin,
                    format!("not an ECDSA P-256 secret key: {e}"),
                    Some(SECRET_FORMATS),
                ),
            })
    }

    pub fn public(&self) -> EcPublicKey {
        EcPublicKey {
            key: *self.signing.verifying_key(),
        }
    }

    /// ECDSA over SHA-256 of `msg`, DER-encoded.
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        let sig: p256::ecdsa::Signature = self.signing.sign(msg);
        sig.to_der().as_bytes().to_vec()
    }

    /// PKCS#8 PEM, what `cryptography`'s `load_pem_private_key` reads.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, SignError> {
        self.signing
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| SignError::Crypto(format!("cannot encode the secret key: {e}")))
    }
}

impl EcPublicKey {
    /// Reads a PEM public key file.
    pub fn load(path: &Path) -> Result<Self, SignError> {
        let text = std::fs::read_to_string(path).map_err(|e| SignError::io(path, e))?;
        Self::from_text(&text, &path.display().to_string())
    }

    /// Parses a PEM public key; an Ed25519 key is refused with the reason.
    pub fn from_text(text: &str, origin: &str) -> Result<Self, SignError> {
        let t = text.trim();
        match VerifyingKey::from_public_key_pem(t) {
            Ok(key) => Ok(EcPublicKey { key }),
            Err(e) => {
                if super::PublicKey::from_text(t, origin).is_ok() {
                    return Err(SignError::key(
                        origin,
                        ED25519_REFUSED,
                        Some(PUBLIC_FORMATS),
                    ));
                }
                Err(SignError::key(
                    origin,
                    format!("not an ECDSA P-256 public key: {e}"),
                    Some(PUBLIC_FORMATS),
                ))
            }
        }
    }

    /// SubjectPublicKeyInfo PEM (uncompressed point, LF line ends): byte for byte what `cryptography` writes, so
    /// the OMS key hint ([`Self::hint`]) agrees with `model_signing`'s.
    pub fn to_pem(&self) -> String {
        self.key
            .to_public_key_pem(LineEnding::LF)
            .unwrap_or_default()
    }

    /// The OMS public-key hint: SHA-256 of the PEM text, hex.
    pub fn hint(&self) -> String {
        use sha2::Digest;
        hex(&sha2::Sha256::digest(self.to_pem().as_bytes()))
    }

    /// Whether `sig` (DER) is this key's ECDSA signature over SHA-256 of `msg`.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match DerSignature::from_bytes(sig) {
            Ok(s) => self.key.verify(msg, &s).is_ok(),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip_sign_and_verify() {
        let k = EcKeyPair::from_seed(&[7; 32]);
        let pem = k.to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let again = EcKeyPair::from_text(&pem, "k").unwrap();
        assert_eq!(again.public(), k.public());
        let public = EcPublicKey::from_text(&k.public().to_pem(), "p").unwrap();
        let sig = k.sign(b"message");
        assert!(public.verify(b"message", &sig));
        assert!(!public.verify(b"messagf", &sig));
        assert!(!public.verify(b"message", b"not der"));
        assert_eq!(k.public().hint().len(), 64);
        assert!(k
            .public()
            .to_pem()
            .starts_with("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"));
    }

    #[test]
    fn generated_keys_differ() {
        let a = EcKeyPair::generate().unwrap();
        let b = EcKeyPair::generate().unwrap();
        assert_ne!(a.public(), b.public());
    }

    #[test]
    fn ed25519_keys_are_refused_with_the_reason() {
        let ed = super::super::KeyPair::from_seed(&[3; 32]);
        let e = EcKeyPair::from_text(&ed.to_pkcs8_pem().unwrap(), "ed.key").unwrap_err();
        assert!(
            e.to_string()
                .contains("an Ed25519 key: OMS key signatures are ECDSA"),
            "{e}"
        );
        let e = EcPublicKey::from_text(&ed.public().to_pem(), "ed.pub.pem").unwrap_err();
        assert!(e.to_string().contains("an Ed25519 key"), "{e}");
        let e = EcPublicKey::from_text(&ed.public().to_minisign(), "ed.pub").unwrap_err();
        assert!(e.to_string().contains("an Ed25519 key"), "{e}");
    }

    #[test]
    fn other_text_says_what_is_read() {
        let e = EcKeyPair::from_text("hello", "x.key").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("x.key: not an ECDSA P-256 secret key"),
            "{e}"
        );
        let e = EcPublicKey::from_text("hello", "x.pem").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("x.pem: not an ECDSA P-256 public key"),
            "{e}"
        );
        let e =
            EcKeyPair::from_text("-----BEGIN ENCRYPTED PRIVATE KEY-----\n", "x.key").unwrap_err();
        assert!(e.to_string().contains("encrypted"), "{e}");
    }
}
