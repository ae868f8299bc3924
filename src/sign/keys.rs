//! Ed25519 keys: generated here, read from the formats people already have, written in the formats their tools
//! read.
//!
//! Secret keys: PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, what `mlgate keygen` and `openssl genpkey -algorithm
//! ed25519` write), unencrypted OpenSSH (`ssh-keygen -t ed25519 -N ''`) and unencrypted minisign (`minisign -G -W`).
//! Public keys: minisign (`untrusted comment:` line, then base64, or the base64 alone), PEM (SubjectPublicKeyInfo)
//! and OpenSSH (`ssh-ed25519 AAAA... comment`).
//!
//! minisign puts an 8-byte key ID in keys and signatures. A minisign key brings its own; for any other key the ID
//! is the first 8 bytes of SHA-256 of the 32-byte public key, so the same key always has the same ID whatever
//! file it was read from.

use std::path::Path;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{b64, hex, unb64, SignError};

/// minisign's signature algorithm tags: `Ed` (legacy: the message itself) and `ED` (BLAKE2b-512 of the message).
pub(crate) const ALG_ED: [u8; 2] = *b"Ed";

/// A secret key with its public half and minisign key ID.
pub struct KeyPair {
    signing: SigningKey,
    key_id: [u8; 8],
}

/// Shows the public half only.
impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("public", &self.public())
            .finish_non_exhaustive()
    }
}

/// A public key with its minisign key ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    key_id: [u8; 8],
}

fn derived_key_id(public: &[u8; 32]) -> [u8; 8] {
    let d = <Sha256 as sha2::Digest>::digest(public);
    let mut id = [0u8; 8];
    id.copy_from_slice(&d[..8]);
    id
}

const SECRET_FORMATS: &str = "mlgate reads Ed25519 secret keys as PKCS#8 PEM (mlgate keygen, openssl genpkey -algorithm ed25519), unencrypted OpenSSH (ssh-keygen -t ed25519 -N '') or unencrypted minisign (minisign -G -W)";
const PUBLIC_FORMATS: &str = "mlgate reads Ed25519 public keys as minisign (.pub), PEM (-----BEGIN PUBLIC KEY-----) or OpenSSH (ssh-ed25519 AAAA...)";

impl KeyPair {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<Self, SignError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut())
            .map_err(|e| SignError::Crypto(format!("no random bytes from the system: {e}")))?;
        Ok(Self::from_seed(&seed))
    }

    pub(crate) fn from_seed(seed: &[u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(seed);
        let key_id = derived_key_id(signing.verifying_key().as_bytes());
        KeyPair { signing, key_id }
    }

    /// Reads a secret key file (see the module's formats).
    pub fn load(path: &Path) -> Result<Self, SignError> {
        let text = Zeroizing::new(std::fs::read(path).map_err(|e| SignError::io(path, e))?);
        let text = std::str::from_utf8(&text).map_err(|_| {
            SignError::key(
                &path.display().to_string(),
                "not a text key file",
                Some(SECRET_FORMATS),
            )
        })?;
        Self::from_text(text, &path.display().to_string())
    }

    /// Parses a secret key's text; `origin` names where it came from in messages (a path, an environment variable).
    pub fn from_text(text: &str, origin: &str) -> Result<Self, SignError> {
        let t = text.trim_start();
        if t.starts_with("-----BEGIN PRIVATE KEY-----") {
            let signing = SigningKey::from_pkcs8_pem(t).map_err(|e| {
                SignError::key(
                    origin,
                    format!("not an Ed25519 PKCS#8 key: {e}"),
                    Some(SECRET_FORMATS),
                )
            })?;
            let key_id = derived_key_id(signing.verifying_key().as_bytes());
            return Ok(KeyPair { signing, key_id });
        }
        if t.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(SignError::key(
                origin,
                "the PKCS#8 key is encrypted",
                Some("mlgate reads unencrypted keys (keep them in a CI secret); decrypt a copy with `openssl pkey -in KEY -out PLAIN`"),
            ));
        }
        if t.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----") {
            return openssh_secret(t, origin);
        }
        if t.starts_with("untrusted comment:") {
            return minisign_secret(t, origin);
        }
        if t.starts_with("-----BEGIN") {
            return Err(SignError::key(
                origin,
                format!(
                    "unsupported key block `{}`",
                    t.lines().next().unwrap_or_default()
                ),
                Some(SECRET_FORMATS),
            ));
        }
        Err(SignError::key(
            origin,
            "not a secret key",
            Some(SECRET_FORMATS),
        ))
    }

    pub fn public(&self) -> PublicKey {
        PublicKey {
            key: self.signing.verifying_key(),
            key_id: self.key_id,
        }
    }

    pub fn key_id(&self) -> [u8; 8] {
        self.key_id
    }

    /// Ed25519 signature of `msg`.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.signing.sign(msg).to_bytes()
    }

    /// The secret key as PKCS#8 v1 PEM (the seed alone, as `openssl genpkey -algorithm ed25519` writes it):
    /// OpenSSL and Python's cryptography read it; the v2 form with the public key is not read by all.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, SignError> {
        ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: self.signing.to_bytes(),
            public_key: None,
        }
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| SignError::Crypto(format!("cannot encode the key: {e}")))
    }
}

impl KeyPair {
    /// The secret key as PKCS#8 v1 DER: what TUF's signing libraries (tough, through aws-lc) take.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, SignError> {
        ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: self.signing.to_bytes(),
            public_key: None,
        }
        .to_pkcs8_der()
        .map(|doc| Zeroizing::new(doc.as_bytes().to_vec()))
        .map_err(|e| SignError::Crypto(format!("cannot encode the key: {e}")))
    }
}

impl PublicKey {
    /// Reads a public key file (see the module's formats).
    pub fn load(path: &Path) -> Result<Self, SignError> {
        let text = std::fs::read_to_string(path).map_err(|e| SignError::io(path, e))?;
        Self::from_text(&text, &path.display().to_string())
    }

    pub fn from_text(text: &str, origin: &str) -> Result<Self, SignError> {
        let t = text.trim();
        let bad = |m: String| SignError::key(origin, m, Some(PUBLIC_FORMATS));
        if t.starts_with("-----BEGIN PUBLIC KEY-----") {
            let key = VerifyingKey::from_public_key_pem(t)
                .map_err(|e| bad(format!("not an Ed25519 public key: {e}")))?;
            return Ok(Self::from_key(key));
        }
        if t.starts_with("-----BEGIN") {
            return Err(bad(
                "a PEM block that is not a public key (is this the secret key?)".into(),
            ));
        }
        if let Some(rest) = t.strip_prefix("ssh-ed25519 ") {
            let blob = rest.split_whitespace().next().unwrap_or_default();
            let raw =
                unb64(blob).ok_or_else(|| bad("the OpenSSH key is not valid base64".into()))?;
            let mut r = SshReader::new(&raw);
            let kt = r
                .string()
                .map_err(|_| bad("truncated OpenSSH key".into()))?;
            let pk = r
                .string()
                .map_err(|_| bad("truncated OpenSSH key".into()))?;
            if kt != b"ssh-ed25519" || pk.len() != 32 {
                return Err(bad("not an ssh-ed25519 key".into()));
            }
            return Self::from_bytes(pk).map_err(bad);
        }
        if t.starts_with("ssh-") || t.starts_with("ecdsa-") {
            return Err(bad("only ssh-ed25519 keys sign with Ed25519".into()));
        }
        // minisign: an optional `untrusted comment:` line, then base64 of "Ed" || key ID || key.
        let line = t
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("untrusted comment:"))
            .unwrap_or_default();
        let raw = unb64(line).ok_or_else(|| bad("not a public key".into()))?;
        if raw.len() == 158 {
            return Err(bad(
                "this is a minisign secret key: verify with its public key (.pub)".into(),
            ));
        }
        if raw.len() != 42 || raw[..2] != ALG_ED {
            return Err(bad("not a minisign Ed25519 public key".into()));
        }
        let mut key_id = [0u8; 8];
        key_id.copy_from_slice(&raw[2..10]);
        let mut pk = Self::from_bytes(&raw[10..]).map_err(bad)?;
        pk.key_id = key_id;
        Ok(pk)
    }

    fn from_key(key: VerifyingKey) -> Self {
        let key_id = derived_key_id(key.as_bytes());
        PublicKey { key, key_id }
    }

    fn from_bytes(b: &[u8]) -> Result<Self, String> {
        let arr: [u8; 32] = b.try_into().map_err(|_| "a key of the wrong length")?;
        let key = VerifyingKey::from_bytes(&arr)
            .map_err(|_| "the bytes are not an Ed25519 public key".to_string())?;
        Ok(Self::from_key(key))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        self.key.as_bytes()
    }

    pub fn key_id(&self) -> [u8; 8] {
        self.key_id
    }

    /// The key ID as minisign prints it: the 8 bytes read as a little-endian number, upper-case hex.
    pub fn key_id_hex(&self) -> String {
        key_id_hex(&self.key_id)
    }

    /// Strict Ed25519 verification (rejects non-canonical and small-order encodings, as libsodium does).
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = Signature::from_slice(sig) else {
            return false;
        };
        self.key.verify_strict(msg, &sig).is_ok()
    }

    /// The minisign public key file: the comment line and the base64 key.
    pub fn to_minisign(&self) -> String {
        let mut raw = Vec::with_capacity(42);
        raw.extend_from_slice(&ALG_ED);
        raw.extend_from_slice(&self.key_id);
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "untrusted comment: minisign public key {}\n{}\n",
            self.key_id_hex(),
            b64(&raw)
        )
    }

    /// SubjectPublicKeyInfo PEM.
    pub fn to_pem(&self) -> String {
        // Encoding 32 known-good bytes into a fixed DER structure does not fail.
        self.key
            .to_public_key_pem(LineEnding::LF)
            .unwrap_or_default()
    }

    /// The key's ID in DSSE signatures: securesystemslib's default, SHA-256 (hex) of the canonical JSON
    /// `{"keytype":"ed25519","keyval":{"public":HEX},"scheme":"ed25519"}` (keys sorted, no spaces).
    pub fn keyid(&self) -> String {
        let canonical = format!(
            r#"{{"keytype":"ed25519","keyval":{{"public":"{}"}},"scheme":"ed25519"}}"#,
            hex(self.key.as_bytes())
        );
        hex(&<Sha256 as sha2::Digest>::digest(canonical.as_bytes()))
    }
}

pub(crate) fn key_id_hex(id: &[u8; 8]) -> String {
    format!("{:016X}", u64::from_le_bytes(*id))
}

/// Reads SSH wire-format fields (RFC 4251): big-endian u32, and length-prefixed strings.
struct SshReader<'a> {
    b: &'a [u8],
}

impl<'a> SshReader<'a> {
    fn new(b: &'a [u8]) -> Self {
        SshReader { b }
    }
    fn u32(&mut self) -> Result<u32, ()> {
        let (h, t) = self.b.split_at_checked(4).ok_or(())?;
        self.b = t;
        Ok(u32::from_be_bytes([h[0], h[1], h[2], h[3]]))
    }
    fn string(&mut self) -> Result<&'a [u8], ()> {
        let n = self.u32()? as usize;
        let (h, t) = self.b.split_at_checked(n).ok_or(())?;
        self.b = t;
        Ok(h)
    }
}

/// The unencrypted `openssh-key-v1` format (PROTOCOL.key in OpenSSH's sources).
fn openssh_secret(text: &str, origin: &str) -> Result<KeyPair, SignError> {
    let bad = |m: &str| SignError::key(origin, m, Some(SECRET_FORMATS));
    let body: String = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let raw =
        Zeroizing::new(unb64(&body).ok_or_else(|| bad("the OpenSSH key is not valid base64"))?);
    let rest = raw
        .strip_prefix(b"openssh-key-v1\0")
        .ok_or_else(|| bad("not an openssh-key-v1 key"))?;
    let mut r = SshReader::new(rest);
    let trunc = |_| bad("truncated OpenSSH key");
    let cipher = r.string().map_err(trunc)?;
    let _kdf = r.string().map_err(trunc)?;
    let _kdf_opts = r.string().map_err(trunc)?;
    if cipher != b"none" {
        return Err(SignError::key(
            origin,
            "the OpenSSH key is protected by a passphrase",
            Some("mlgate reads unencrypted keys (keep them in a CI secret); `ssh-keygen -p -N '' -f COPY` removes the passphrase from a copy"),
        ));
    }
    if r.u32().map_err(trunc)? != 1 {
        return Err(bad("the OpenSSH file holds more than one key"));
    }
    let _public = r.string().map_err(trunc)?;
    let private = r.string().map_err(trunc)?;
    let mut p = SshReader::new(private);
    let (c1, c2) = (p.u32().map_err(trunc)?, p.u32().map_err(trunc)?);
    if c1 != c2 {
        return Err(bad("the OpenSSH key's check numbers differ (corrupt file)"));
    }
    let kt = p.string().map_err(trunc)?;
    if kt != b"ssh-ed25519" {
        return Err(bad(&format!(
            "an OpenSSH {} key; mlgate signs with Ed25519 (ssh-keygen -t ed25519)",
            String::from_utf8_lossy(kt)
        )));
    }
    let pk = p.string().map_err(trunc)?;
    let sk = p.string().map_err(trunc)?;
    if pk.len() != 32 || sk.len() != 64 || sk[32..] != *pk {
        return Err(bad("the OpenSSH Ed25519 key is malformed"));
    }
    let mut seed = Zeroizing::new([0u8; 32]);
    seed.copy_from_slice(&sk[..32]);
    Ok(KeyPair::from_seed(&seed))
}

/// minisign's secret key file: `untrusted comment:` line, then base64 of sig_alg "Ed" || kdf_alg || chk_alg "B2"
/// || salt (32) || opslimit (8) || memlimit (8) || key ID (8) || secret key (64: seed || public) || checksum (32).
/// With `minisign -W` the KDF is none (two zero bytes) and the key is in the clear.
fn minisign_secret(text: &str, origin: &str) -> Result<KeyPair, SignError> {
    let bad = |m: &str| SignError::key(origin, m, Some(SECRET_FORMATS));
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("untrusted comment:"))
        .unwrap_or_default();
    let raw = Zeroizing::new(unb64(line).ok_or_else(|| bad("not a minisign secret key"))?);
    if raw.len() != 158 || raw[..2] != ALG_ED || raw[4..6] != *b"B2" {
        if raw.len() == 42 {
            return Err(bad("this is a public key; signing needs the secret key"));
        }
        return Err(bad("not a minisign Ed25519 secret key"));
    }
    if raw[2..4] != [0, 0] {
        return Err(SignError::key(
            origin,
            "the minisign key is protected by a password",
            Some("mlgate reads unencrypted keys (keep them in a CI secret); `minisign -C -W -s COPY` removes the password from a copy"),
        ));
    }
    let keynum = &raw[54..158];
    let (id, rest) = keynum.split_at(8);
    let (sk, chk) = rest.split_at(64);
    // checksum = BLAKE2b-256(sig_alg || key ID || secret key); minisign 0.11 leaves it zero in keys made with -W.
    let mut h = blake2b_simd::Params::new().hash_length(32).to_state();
    h.update(&raw[..2]);
    h.update(id);
    h.update(sk);
    if chk.iter().any(|b| *b != 0) && h.finalize().as_bytes() != chk {
        return Err(bad(
            "the minisign key's checksum does not match (corrupt file)",
        ));
    }
    let mut seed = Zeroizing::new([0u8; 32]);
    seed.copy_from_slice(&sk[..32]);
    let mut kp = KeyPair::from_seed(&seed);
    if kp.signing.verifying_key().as_bytes() != &sk[32..] {
        return Err(bad(
            "the minisign key's public half does not match its secret half",
        ));
    }
    kp.key_id.copy_from_slice(id);
    Ok(kp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kp() -> KeyPair {
        KeyPair::from_seed(&[7u8; 32])
    }

    #[test]
    fn pem_round_trip_keeps_the_key_and_id() {
        let k = kp();
        let pem = k.to_pkcs8_pem().unwrap();
        // v1: 48 bytes of DER, the same prefix as OpenSSL's.
        assert!(pem.contains("\nMC4CAQAwBQYDK2VwBCIEI"), "{}", *pem);
        let back = KeyPair::from_text(&pem, "k").unwrap();
        assert_eq!(back.public(), k.public());
        let pub_pem = k.public().to_pem();
        assert_eq!(PublicKey::from_text(&pub_pem, "p").unwrap(), k.public());
        let mini = k.public().to_minisign();
        assert!(mini.starts_with("untrusted comment: minisign public key "));
        assert_eq!(PublicKey::from_text(&mini, "p").unwrap(), k.public());
        // The base64 line alone, as `minisign -P` takes it.
        let line = mini.lines().nth(1).unwrap();
        assert_eq!(PublicKey::from_text(line, "p").unwrap(), k.public());
    }

    #[test]
    fn key_id_hex_is_little_endian() {
        assert_eq!(
            key_id_hex(&[1, 2, 3, 4, 5, 6, 7, 8]),
            "0807060504030201".to_string()
        );
    }

    #[test]
    fn sign_and_verify() {
        let k = kp();
        let s = k.sign(b"hello");
        assert!(k.public().verify(b"hello", &s));
        assert!(!k.public().verify(b"hellO", &s));
        assert!(!k.public().verify(b"hello", &s[..63]));
    }

    #[test]
    fn wrong_inputs_say_what_is_read() {
        let e = KeyPair::from_text("hello", "k.key")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "k.key: not a secret key");
        let e = KeyPair::from_text("-----BEGIN RSA PRIVATE KEY-----\nabc\n", "k.key")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unsupported key block"), "{e}");
        let e = PublicKey::from_text("ssh-rsa AAAA x", "p")
            .unwrap_err()
            .to_string();
        assert!(e.contains("only ssh-ed25519"), "{e}");
        let pem = kp().to_pkcs8_pem().unwrap();
        let e = PublicKey::from_text(&pem, "p").unwrap_err().to_string();
        assert!(e.contains("secret key?"), "{e}");
        let mini = kp().public().to_minisign();
        let e = KeyPair::from_text(&mini, "k").unwrap_err().to_string();
        assert!(e.contains("this is a public key"), "{e}");
    }
}
