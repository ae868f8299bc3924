//! Checking a bundle before a device trusts it, in one streaming pass over the archive and in bounded memory.
//!
//! A bundle's entries are sorted by name, so a signed bundle starts with its signed file list:
//!
//! | # | entry | what the check does with it |
//! |---|---|---|
//! | 1 | `SHA256SUMS` | kept (small); the list of every payload file and its SHA-256 |
//! | 2 | `SHA256SUMS.minisig` | verified against the pinned keys at once: from here on the list is trusted |
//! | 3 | `attestation.intoto.jsonl` | kept; its envelope and subjects are checked at the end |
//! | 4 | `manifest.json` | hashed and kept; parsed at once (which entries are models) |
//! | 5.. | `manifest.json.minisig`, `models/<file>`, `models/<file>.minisig` | models hashed as they stream (and written to a staging folder when asked); signatures kept |
//! | .. | `models/<file>.sig` | with `mlgate bundle --oms-key`: the model's OMS signature, kept; checked at the end against the model's streamed digest ([`super::oms`]) |
//! | .. | `selftest/input.EXT`, `selftest/expected.json` (and their `.minisig`) | with `--selftest`: hashed like the models, extracted with them |
//!
//! With keys, an entry that is none of these (not in the signed list, nor a signature of a listed file) stops the
//! reading before its bytes are read, and a bundle that does not start with the list and its signature is refused.
//! Without keys nothing is authentic: every entry is hashed and compared at the end, and the report says so.
//! Metadata is kept in memory only up to [`MAX_METADATA_BYTES`] ([`MAX_SIGNATURE_BYTES`] for a signature); a payload
//! entry never is, whatever its size.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use blake2b_simd::State as Blake2b512;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::archive::{read_entries, Ending, EntryHead, EntrySink, Flow, Limits};
use super::bundle::{ATTESTATION, MANIFEST, SUMS};
use super::manifest::Manifest;
use super::version::Version;
use super::EdgeError;
use crate::report::{Check, Finding, Report, Severity, Status};
use crate::sign::dsse::{Envelope, Statement, PAYLOAD_TYPE};
use crate::sign::ecdsa::EcPublicKey;
use crate::sign::minisign::{verify_digests, verify_reader, Invalid, MinisignSignature};
use crate::sign::verify::pinned_key;
use crate::sign::{hex, PublicKey};

/// The largest metadata entry kept in memory (`SHA256SUMS`, `manifest.json`, the attestation).
pub const MAX_METADATA_BYTES: u64 = 4 << 20;
/// The largest `.minisig` entry accepted: a minisign signature is about 300 bytes.
pub const MAX_SIGNATURE_BYTES: u64 = 4 << 10;
/// The largest OMS signature entry accepted: one of a one-file model is about 1.5 KB.
pub const MAX_OMS_BYTES: u64 = 64 << 10;

/// What a device expects the bundle to be, held against its manifest. `None`: not checked.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// The target profile's name (the machine's, or `--target`).
    pub target: Option<String>,
    /// The model's name.
    pub model: Option<String>,
    /// The oldest version accepted.
    pub min_version: Option<Version>,
}

/// Where entries' bytes go besides the hashers.
#[derive(Debug, Clone, Default)]
pub enum Extract {
    /// Nowhere: the check only hashes.
    #[default]
    Nothing,
    /// The files the manifest names (models, and the self-test's input and expected outputs), written under the
    /// folder by their entry names.
    Artifacts(PathBuf),
    /// Every entry whose bytes the check reads (with keys: exactly the signed set), under the folder.
    Everything(PathBuf),
}

/// How to check a bundle.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Pinned public keys; empty: only integrity (the digests) is checked.
    pub keys: Vec<PublicKey>,
    pub limits: Limits,
    pub expect: Expect,
    pub extract: Extract,
    /// Pinned P-256 keys for the models' OMS signatures ([`super::oms`]); non-empty: the signature is required.
    pub oms_keys: Vec<EcPublicKey>,
}

/// The digests of an entry whose bytes were read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryDigest {
    pub size: u64,
    pub sha256: [u8; 32],
    /// minisign's prehash, computed when keys are pinned.
    pub blake2b512: Option<[u8; 64]>,
}

impl EntryDigest {
    /// The SHA-256 in lowercase hex, as SHA256SUMS and the manifest write it.
    pub fn sha256_hex(&self) -> String {
        hex(&self.sha256)
    }
}

/// A bundle that was read and checked.
#[derive(Debug, Clone)]
pub struct CheckedBundle {
    pub report: Report,
    pub manifest: Option<Manifest>,
    /// Every entry whose bytes were read, by name.
    pub entries: BTreeMap<String, EntryDigest>,
    /// The entries written under the extraction folder, by name (the file is the folder joined with the name).
    pub extracted: Vec<String>,
}

/// Why the reading stopped early, and in which check to say it.
#[derive(Debug)]
struct Stop {
    signature: bool,
    code: &'static str,
    file: Option<String>,
    message: String,
}

/// The entry being read.
struct Current {
    name: String,
    size: u64,
    sha: Option<Sha256>,
    blake: Option<Blake2b512>,
    keep: Option<Vec<u8>>,
    /// The extracted file and its path, when the entry is extracted.
    file: Option<(std::io::BufWriter<std::fs::File>, PathBuf)>,
}

/// The [`EntrySink`] that checks a bundle: it decides per entry, hashes, keeps metadata, extracts.
struct Checker<'a> {
    opts: &'a CheckOptions,
    sums: Option<Vec<u8>>,
    listed: Option<BTreeMap<String, String>>,
    manifest_bytes: Option<Vec<u8>>,
    manifest: Option<Manifest>,
    attestation: Option<Vec<u8>>,
    /// Signatures by the name of the entry they sign.
    signatures: BTreeMap<String, Vec<u8>>,
    /// OMS signatures by the model entry they sign.
    oms: BTreeMap<String, Vec<u8>>,
    digests: BTreeMap<String, EntryDigest>,
    /// Entries passed over unread, by name (without keys: signatures, and entries SHA256SUMS does not list).
    skipped: Vec<String>,
    extracted: Vec<String>,
    current: Option<Current>,
    stop: Option<Stop>,
}

fn signed_name(name: &str) -> Option<&str> {
    name.strip_suffix(".minisig")
}

impl Checker<'_> {
    fn keyed(&self) -> bool {
        !self.opts.keys.is_empty()
    }

    fn is_listed(&self, name: &str) -> bool {
        self.listed.as_ref().is_some_and(|l| l.contains_key(name))
    }

    /// Whether `name` may be in a bundle whose list is known: listed, the list, the attestation, or the signature
    /// of one of these.
    fn belongs(&self, name: &str) -> bool {
        name == SUMS
            || name == ATTESTATION
            || self.is_listed(name)
            || signed_name(name).is_some_and(|n| n == SUMS || self.is_listed(n))
    }

    fn stop(&mut self, signature: bool, code: &'static str, file: &str, message: String) -> Flow {
        self.stop = Some(Stop {
            signature,
            code,
            file: Some(file.to_string()),
            message,
        });
        Flow::Stop
    }

    /// With keys: the list and its signature first, then only what the signed list allows.
    fn decide_keyed(&mut self, e: &EntryHead<'_>) -> Option<Flow> {
        let name = e.name;
        let expected = match e.number {
            1 => Some(SUMS.to_string()),
            2 => Some(format!("{SUMS}.minisig")),
            _ => None,
        };
        if let Some(want) = expected.filter(|w| w != name) {
            return Some(self.stop(
                false,
                "bundle-layout",
                name,
                format!(
                    "entry {} is {name}, expected {want}: a signed bundle starts with its signed file list \
                     ({SUMS}, then {SUMS}.minisig); refused before its bytes were read",
                    e.number
                ),
            ));
        }
        if !self.belongs(name) {
            return Some(self.stop(
                true,
                "not-listed",
                name,
                format!(
                    "{name} is not in the signed {SUMS} (nor a signature of a listed file): refused before \
                     its bytes were read"
                ),
            ));
        }
        None
    }

    /// Without keys: signatures are not checked and entries the list leaves out are not read.
    fn decide_unkeyed(&mut self, name: &str) -> Option<Flow> {
        let unread = name == ATTESTATION
            || signed_name(name).is_some()
            || (self.listed.is_some() && !self.belongs(name));
        if unread {
            self.skipped.push(name.to_string());
            return Some(Flow::Skip);
        }
        None
    }

    fn wants_file(&self, name: &str) -> Option<PathBuf> {
        match &self.opts.extract {
            Extract::Nothing => None,
            Extract::Everything(dir) => Some(dir.join(name)),
            Extract::Artifacts(dir) => self
                .manifest
                .as_ref()
                .filter(|m| {
                    m.artifacts.iter().any(|a| a.path == name)
                        || m.selftest
                            .as_ref()
                            .is_some_and(|t| t.input == name || t.expected == name)
                })
                .map(|_| dir.join(name)),
        }
    }

    fn keep_limit(&self, name: &str) -> Option<u64> {
        if signed_name(name).is_some() {
            Some(MAX_SIGNATURE_BYTES)
        } else if super::oms::signed_model(self.manifest.as_ref(), name).is_some() {
            Some(MAX_OMS_BYTES)
        } else if [SUMS, MANIFEST, ATTESTATION].contains(&name) {
            Some(MAX_METADATA_BYTES)
        } else {
            None
        }
    }

    fn open(&mut self, e: &EntryHead<'_>) -> Result<Flow, EdgeError> {
        let keep = self.keep_limit(e.name);
        if let Some(limit) = keep.filter(|l| e.size > *l) {
            return Ok(self.stop(
                false,
                "bundle-malformed",
                e.name,
                format!(
                    "{} is {} bytes, over the limit of {limit} bytes for bundle metadata",
                    e.name, e.size
                ),
            ));
        }
        // Signatures and the attestation are checked whole; everything else is hashed as it streams.
        let hashed = signed_name(e.name).is_none() && e.name != ATTESTATION;
        let file = match self.wants_file(e.name) {
            None => None,
            Some(path) => Some((create_file(&path)?, path)),
        };
        self.current = Some(Current {
            name: e.name.to_string(),
            size: e.size,
            sha: hashed.then(Sha256::new),
            blake: (hashed && self.keyed()).then(Blake2b512::new),
            keep: keep.map(|_| Vec::with_capacity(e.size as usize)),
            file,
        });
        Ok(Flow::Read)
    }

    /// After an entry: record its digests, keep its metadata, and act on what the list and its signature say.
    fn close(&mut self) -> Result<Flow, EdgeError> {
        let Some(c) = self.current.take() else {
            return Ok(Flow::Read);
        };
        if let Some((mut f, path)) = c.file {
            f.flush().map_err(|err| EdgeError::Write {
                path: path.display().to_string(),
                err,
            })?;
            self.extracted.push(c.name.clone());
        }
        if let Some(sha) = c.sha {
            self.digests.insert(
                c.name.clone(),
                EntryDigest {
                    size: c.size,
                    sha256: sha.finalize().into(),
                    blake2b512: c.blake.map(|b| *b.finalize().as_array()),
                },
            );
        }
        let kept = c.keep.unwrap_or_default();
        let name = c.name.as_str();
        if name == SUMS {
            self.listed = Some(parse_sums(&kept).0);
            self.sums = Some(kept);
        } else if name == MANIFEST {
            self.manifest = serde_json::from_slice(&kept).ok();
            self.manifest_bytes = Some(kept);
        } else if name == ATTESTATION {
            self.attestation = Some(kept);
        } else if let Some(model) = super::oms::signed_model(self.manifest.as_ref(), name) {
            self.oms.insert(model, kept);
        } else if let Some(signed) = signed_name(name) {
            self.signatures.insert(signed.to_string(), kept);
            if signed == SUMS && self.keyed() {
                return Ok(self.check_list_signature());
            }
        }
        Ok(Flow::Read)
    }

    /// The list's signature, checked as soon as it is read: nothing after it is trusted otherwise.
    fn check_list_signature(&mut self) -> Flow {
        let sums = self.sums.clone().unwrap_or_default();
        let sig = self.signatures.get(SUMS).cloned().unwrap_or_default();
        match verify_in_memory(&self.opts.keys, &sig, &sums) {
            Ok(()) => Flow::Read,
            Err((code, m)) => {
                let file = format!("{SUMS}.minisig");
                self.stop(
                    true,
                    code,
                    &file,
                    format!(
                        "{SUMS}: {m}; the file list is not trusted, so nothing after it was read"
                    ),
                )
            }
        }
    }
}

impl EntrySink for Checker<'_> {
    fn begin(&mut self, e: &EntryHead<'_>) -> Result<Flow, EdgeError> {
        let decided = if self.keyed() {
            self.decide_keyed(e)
        } else {
            self.decide_unkeyed(e.name)
        };
        match decided {
            Some(flow) => Ok(flow),
            None => self.open(e),
        }
    }

    fn data(&mut self, bytes: &[u8]) -> Result<(), EdgeError> {
        let Some(c) = self.current.as_mut() else {
            return Ok(());
        };
        if let Some(h) = c.sha.as_mut() {
            h.update(bytes);
        }
        if let Some(h) = c.blake.as_mut() {
            h.update(bytes);
        }
        if let Some(k) = c.keep.as_mut() {
            k.extend_from_slice(bytes);
        }
        if let Some((f, path)) = c.file.as_mut() {
            f.write_all(bytes).map_err(|err| EdgeError::Write {
                path: path.display().to_string(),
                err,
            })?;
        }
        Ok(())
    }

    fn end(&mut self, _: &EntryHead<'_>) -> Result<Flow, EdgeError> {
        self.close()
    }
}

fn create_file(path: &Path) -> Result<std::io::BufWriter<std::fs::File>, EdgeError> {
    let io = |err| EdgeError::Write {
        path: path.display().to_string(),
        err,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    // create_new: the staging folder is fresh, and entry names are unique; never follow or replace a file.
    let f = std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io)?;
    Ok(std::io::BufWriter::with_capacity(1 << 16, f))
}

/// `SHA256SUMS` as name -> lowercase digest, and the lines that are not `SHA256  NAME`.
fn parse_sums(bytes: &[u8]) -> (BTreeMap<String, String>, Vec<String>) {
    let text = String::from_utf8_lossy(bytes);
    let mut listed = BTreeMap::new();
    let mut bad = vec![];
    for (i, line) in text.lines().enumerate() {
        match line.split_once("  ") {
            Some((sum, name)) if sum.len() == 64 && sum.bytes().all(|b| b.is_ascii_hexdigit()) => {
                listed.insert(name.to_string(), sum.to_ascii_lowercase());
            }
            _ => bad.push(format!(
                "line {}: expected `SHA256  NAME`, found {line:?}",
                i + 1
            )),
        }
    }
    (listed, bad)
}

/// Checks a minisign signature over bytes held in memory; the error is a finding's code and message.
fn verify_in_memory(
    keys: &[PublicKey],
    sig_text: &[u8],
    bytes: &[u8],
) -> Result<(), (&'static str, String)> {
    let sig = MinisignSignature::parse(&String::from_utf8_lossy(sig_text)).map_err(|m| {
        (
            "signature-malformed",
            format!("not a minisign signature: {m}"),
        )
    })?;
    let key = pinned_key(keys, &sig).map_err(|m| ("key-mismatch", m))?;
    match verify_reader(key, &sig, bytes) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(("signature-invalid", e.to_string())),
        Err(e) => Err(("signature-invalid", e.to_string())),
    }
}

/// Checks a minisign signature against an entry's streamed digests.
fn verify_streamed(
    keys: &[PublicKey],
    sig_text: &[u8],
    digest: &EntryDigest,
) -> Result<(), (&'static str, String)> {
    let sig = MinisignSignature::parse(&String::from_utf8_lossy(sig_text)).map_err(|m| {
        (
            "signature-malformed",
            format!("not a minisign signature: {m}"),
        )
    })?;
    let key = pinned_key(keys, &sig).map_err(|m| ("key-mismatch", m))?;
    // Computed for every hashed entry when keys are pinned; all zeros would only fail to verify.
    let blake = digest.blake2b512.unwrap_or([0; 64]);
    match verify_digests(key, &sig, &digest.sha256, &blake) {
        Some(Ok(())) => Ok(()),
        Some(Err(e @ Invalid::KeyMismatch { .. })) => Err(("key-mismatch", e.to_string())),
        Some(Err(e)) => Err(("signature-invalid", e.to_string())),
        None => Err((
            "signature-malformed",
            "a legacy `Ed` signature (over the whole file): bundles carry prehashed `ED` signatures, which a \
             device checks while the entry streams"
                .into(),
        )),
    }
}

pub(crate) fn fail(c: &mut Check, code: &str, file: Option<&str>, message: String) {
    let mut f = Finding::new(code, Severity::Error, message);
    f.file = file.map(str::to_string);
    *c.counts.entry(code.to_string()).or_insert(0) += 1;
    if c.findings.len() < crate::report::MAX_FINDINGS_PER_CHECK {
        c.findings.push(f);
    }
    c.status = Status::Fail;
}

/// Reads the bundle at `path` once (refusing unsafe archives with an error) and checks it: SHA256SUMS against every
/// entry, the manifest against the entries, with keys the signatures and the attestation, and what `expect` asks.
/// Problems in a readable bundle are failed checks in the report, so a device sees every reason at once (with
/// keys, reading stops at the first entry the signed list does not allow, and the report says why).
pub fn check_bundle(path: &Path, opts: &CheckOptions) -> Result<CheckedBundle, EdgeError> {
    let mut checker = Checker {
        opts,
        sums: None,
        listed: None,
        manifest_bytes: None,
        manifest: None,
        attestation: None,
        signatures: BTreeMap::new(),
        oms: BTreeMap::new(),
        digests: BTreeMap::new(),
        skipped: vec![],
        extracted: vec![],
        current: None,
        stop: None,
    };
    let ending = read_entries(path, opts.limits, &mut checker)?;
    let subject = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bundle".into());
    let entries = match ending {
        Ending::Complete { entries } => entries,
        Ending::Stopped => 0,
    };
    let mut checks = vec![digest_check(&subject, &checker, entries)];
    if checker.keyed() {
        checks.push(signature_check(&subject, &checker));
    }
    // A manifest read before the reading stopped is not vouched for: what it says is not held up as a pass.
    let manifest = checker.manifest.as_ref().filter(|_| checker.stop.is_none());
    let stopped = checker.stop.is_some();
    if let Some(c) = super::oms::oms_check(
        &subject,
        manifest,
        &checker.oms,
        &checker.digests,
        &opts.oms_keys,
        stopped,
    ) {
        checks.push(c);
    }
    if let Some(c) = identity_check(&subject, manifest, &opts.expect) {
        checks.push(c);
    }
    Ok(CheckedBundle {
        report: Report::new(checks),
        manifest: checker.manifest,
        entries: checker.digests,
        extracted: checker.extracted,
    })
}

/// Integrity: the list, the entries and the manifest agree.
fn digest_check(subject: &str, k: &Checker<'_>, entries: usize) -> Check {
    let mut c = Check::new(subject, "bundle");
    match &k.stop {
        Some(s) if !s.signature => {
            fail(&mut c, s.code, s.file.as_deref(), s.message.clone());
            c.summary = "refused before the whole bundle was read".into();
            return c;
        }
        Some(_) => {
            c.status = Status::Skip;
            c.summary = "not checked: the signature check stopped the reading".into();
            return c;
        }
        None => {}
    }
    let (listed, bad_lines) = match &k.sums {
        None => {
            fail(
                &mut c,
                "bundle-incomplete",
                None,
                format!("no {SUMS} in the bundle"),
            );
            (BTreeMap::new(), vec![])
        }
        Some(b) => parse_sums(b),
    };
    for line in bad_lines {
        fail(&mut c, "bundle-malformed", Some(SUMS), line);
    }
    for (name, want) in &listed {
        match k.digests.get(name) {
            None => fail(
                &mut c,
                "file-missing",
                Some(name),
                format!("{name} is listed in {SUMS} but not in the bundle"),
            ),
            Some(d) if &d.sha256_hex() != want => fail(
                &mut c,
                "digest-mismatch",
                Some(name),
                format!("{name} has sha256 {}, {SUMS} says {want}", d.sha256_hex()),
            ),
            Some(_) => {}
        }
    }
    for name in k.digests.keys().chain(&k.skipped) {
        if !k.belongs(name) {
            fail(
                &mut c,
                "not-listed",
                Some(name),
                format!("{name} is in the bundle but not in {SUMS}"),
            );
        }
    }
    manifest_findings(&mut c, k);
    c.figures.insert("entries".into(), json!(entries));
    c.summary = if c.status == Status::Pass {
        format!("{entries} entries; every digest matches {SUMS} and the manifest")
    } else {
        "the bundle's contents do not match their digests".into()
    };
    c
}

fn manifest_findings(c: &mut Check, k: &Checker<'_>) {
    let Some(bytes) = &k.manifest_bytes else {
        fail(
            c,
            "bundle-incomplete",
            None,
            format!("no {MANIFEST} in the bundle"),
        );
        return;
    };
    let m = match serde_json::from_slice::<Manifest>(bytes) {
        Ok(m) => m,
        Err(e) => {
            fail(
                c,
                "bundle-malformed",
                Some(MANIFEST),
                format!("not an mlgate manifest: {e}"),
            );
            return;
        }
    };
    for a in &m.artifacts {
        match k.digests.get(&a.path) {
            None => fail(
                c,
                "file-missing",
                Some(&a.path),
                format!(
                    "the manifest names {} but the bundle has no such entry",
                    a.path
                ),
            ),
            Some(d) if !d.sha256_hex().eq_ignore_ascii_case(&a.sha256) || d.size != a.size => fail(
                c,
                "manifest-mismatch",
                Some(&a.path),
                format!(
                    "{}: {} bytes with sha256 {}, the manifest says {} bytes with sha256 {}",
                    a.path,
                    d.size,
                    d.sha256_hex(),
                    a.size,
                    a.sha256
                ),
            ),
            Some(_) => {}
        }
    }
    // The self-test's files are checked by SHA256SUMS (and signed) like any entry; the manifest must not name
    // files the bundle lacks.
    for name in m.selftest.iter().flat_map(|t| [&t.input, &t.expected]) {
        if !k.digests.contains_key(name) {
            fail(
                c,
                "file-missing",
                Some(name),
                format!("the manifest's self-test names {name} but the bundle has no such entry"),
            );
        }
    }
    c.figures.insert("name".into(), json!(m.name));
    c.figures.insert("version".into(), json!(m.version));
    c.figures.insert("target".into(), json!(m.target));
}

/// Authenticity: every listed file and the list carry a valid signature by a pinned key, and the attestation
/// verifies and names the entries' digests.
fn signature_check(subject: &str, k: &Checker<'_>) -> Check {
    let mut c = Check::new(subject, "signature");
    match &k.stop {
        Some(s) if s.signature => {
            fail(&mut c, s.code, s.file.as_deref(), s.message.clone());
            c.summary = "the bundle is not signed as it should be: do not install it".into();
            return c;
        }
        Some(_) => {
            c.status = Status::Skip;
            c.summary = "not checked: the bundle check stopped the reading".into();
            return c;
        }
        None => {}
    }
    let listed = k.listed.clone().unwrap_or_default();
    // The list's own signature was checked when it was read (a failure stops the reading).
    let mut signed = usize::from(k.sums.is_some());
    for name in listed.keys() {
        let Some(digest) = k.digests.get(name) else {
            continue;
        };
        let sig_name = format!("{name}.minisig");
        let Some(sig) = k.signatures.get(name) else {
            fail(
                &mut c,
                "signature-missing",
                Some(name),
                format!("{name} has no signature ({sig_name})"),
            );
            continue;
        };
        match verify_streamed(&k.opts.keys, sig, digest) {
            Ok(()) => signed += 1,
            Err((code, m)) => fail(&mut c, code, Some(&sig_name), format!("{name}: {m}")),
        }
    }
    match &k.attestation {
        None => fail(
            &mut c,
            "attestation-missing",
            None,
            format!("no {ATTESTATION} in the bundle"),
        ),
        Some(bytes) => match check_attestation(bytes, &k.opts.keys, &k.digests) {
            Ok(n) => {
                c.figures.insert("attested".into(), json!(n));
            }
            Err((code, m)) => fail(&mut c, code, Some(ATTESTATION), m),
        },
    }
    c.figures.insert("signed".into(), json!(signed));
    c.summary = if c.status == Status::Pass {
        format!("{signed} signatures and the attestation verify with a trusted key")
    } else {
        "the bundle is not signed as it should be: do not install it".into()
    };
    c
}

fn check_attestation(
    bytes: &[u8],
    keys: &[PublicKey],
    digests: &BTreeMap<String, EntryDigest>,
) -> Result<usize, (&'static str, String)> {
    let env: Envelope = serde_json::from_slice(bytes)
        .map_err(|e| ("attestation-malformed", format!("not a DSSE envelope: {e}")))?;
    env.verify_any(keys)
        .map_err(|m| ("attestation-invalid", m))?;
    if env.payload_type != PAYLOAD_TYPE {
        return Err((
            "attestation-malformed",
            format!("payload type {:?}", env.payload_type),
        ));
    }
    let payload = env
        .payload_bytes()
        .map_err(|m| ("attestation-malformed", m))?;
    let st: Statement = serde_json::from_slice(&payload).map_err(|e| {
        (
            "attestation-malformed",
            format!("not an in-toto statement: {e}"),
        )
    })?;
    for s in &st.subject {
        let want = s
            .digest
            .get("sha256")
            .map(String::as_str)
            .unwrap_or_default();
        match digests.get(&s.name) {
            None => {
                return Err((
                    "file-missing",
                    format!(
                        "the attestation names {} but the bundle has no such entry",
                        s.name
                    ),
                ))
            }
            Some(d) if !d.sha256_hex().eq_ignore_ascii_case(want) => {
                return Err((
                    "digest-mismatch",
                    format!("{} does not have the attested sha256 {want}", s.name),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(st.subject.len())
}

/// Identity: the bundle is for this device's target, is the model it expects, and is not older than allowed.
fn identity_check(subject: &str, manifest: Option<&Manifest>, expect: &Expect) -> Option<Check> {
    let asked = expect.target.is_some() || expect.model.is_some() || expect.min_version.is_some();
    let m = manifest.filter(|_| asked)?;
    let mut c = Check::new(subject, "identity");
    if let Some(t) = expect.target.as_deref().filter(|t| *t != m.target) {
        fail(
            &mut c,
            "target-mismatch",
            Some(MANIFEST),
            format!("the bundle is for target {}, expected {t}", m.target),
        );
    }
    if let Some(n) = expect.model.as_deref().filter(|n| *n != m.name) {
        fail(
            &mut c,
            "model-mismatch",
            Some(MANIFEST),
            format!("the bundle holds model {:?}, expected {n:?}", m.name),
        );
    }
    if let Some(min) = &expect.min_version {
        match Version::parse(&m.version) {
            Err(e) => fail(&mut c, "version-malformed", Some(MANIFEST), e),
            Ok(v) if v < *min => fail(
                &mut c,
                "version-too-old",
                Some(MANIFEST),
                format!("the bundle's version {v} is older than the minimum {min}"),
            ),
            Ok(_) => {}
        }
    }
    c.figures.insert("target".into(), json!(m.target));
    c.figures.insert("name".into(), json!(m.name));
    c.figures.insert("version".into(), json!(m.version));
    c.summary = if c.status == Status::Pass {
        format!("{} {} for {}, as expected", m.name, m.version, m.target)
    } else {
        "not the bundle this device expects".into()
    };
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::archive::write_tar_gz;
    use crate::edge::manifest::Artifact;

    fn sha(b: &[u8]) -> String {
        hex(&Sha256::digest(b))
    }

    /// An unsigned bundle of a model, a data file, the manifest and SHA256SUMS, with `edit` applied last.
    fn bundle(edit: impl FnOnce(&mut BTreeMap<String, Vec<u8>>)) -> (tempfile::TempDir, PathBuf) {
        let model = b"model bytes".to_vec();
        let manifest = Manifest {
            schema_version: 1,
            name: "m".into(),
            version: "1.0.0".into(),
            target: "linux-x86_64".into(),
            artifacts: vec![Artifact {
                path: "models/m.onnx".into(),
                format: "onnx".into(),
                precision: "fp32".into(),
                size: model.len() as u64,
                sha256: sha(&model),
                evaluable_by_tract: true,
            }],
            inputs: vec![],
            outputs: vec![],
            labels: vec![],
            preprocessing: None,
            metrics: BTreeMap::new(),
            quantization: None,
            gate: None,
            min_tract_version: "0.23.9".into(),
            selftest: None,
        };
        let mut files = BTreeMap::from([
            ("models/m.onnx".to_string(), model),
            ("data/x.bin".to_string(), vec![3u8; 70_000]),
            (MANIFEST.to_string(), manifest.to_json()),
        ]);
        let sums: String = files
            .iter()
            .map(|(n, b)| format!("{}  {n}\n", sha(b)))
            .collect();
        files.insert(SUMS.into(), sums.into_bytes());
        edit(&mut files);
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("m.tar.gz");
        std::fs::write(&p, write_tar_gz(&files).unwrap()).unwrap();
        (d, p)
    }

    fn codes(r: &Report) -> Vec<String> {
        r.checks
            .iter()
            .flat_map(|c| c.findings.iter().map(|f| f.code.clone()))
            .collect()
    }

    #[test]
    fn artifacts_are_extracted_as_they_stream() {
        let (_d, p) = bundle(|_| {});
        let stage = tempfile::tempdir().unwrap();
        let r = check_bundle(
            &p,
            &CheckOptions {
                extract: Extract::Artifacts(stage.path().to_path_buf()),
                ..CheckOptions::default()
            },
        )
        .unwrap();
        assert_eq!(
            r.report.verdict,
            crate::report::Verdict::Pass,
            "{}",
            r.report.to_json()
        );
        assert_eq!(r.extracted, ["models/m.onnx"]);
        assert_eq!(
            std::fs::read(stage.path().join("models/m.onnx")).unwrap(),
            b"model bytes"
        );
        assert!(!stage.path().join("data").exists());
        assert_eq!(r.entries["data/x.bin"].size, 70_000);
        assert_eq!(r.entries["data/x.bin"].sha256_hex(), sha(&[3u8; 70_000]));
        assert!(
            r.entries["data/x.bin"].blake2b512.is_none(),
            "no keys, no prehash"
        );
    }

    #[test]
    fn everything_read_is_extracted_when_asked() {
        let (_d, p) = bundle(|_| {});
        let stage = tempfile::tempdir().unwrap();
        let r = check_bundle(
            &p,
            &CheckOptions {
                extract: Extract::Everything(stage.path().to_path_buf()),
                ..CheckOptions::default()
            },
        )
        .unwrap();
        let all = crate::edge::archive::read_tar_gz(&p, Limits::default()).unwrap();
        assert_eq!(r.extracted, all.keys().cloned().collect::<Vec<_>>());
        for (name, bytes) in all {
            assert_eq!(
                std::fs::read(stage.path().join(&name)).unwrap(),
                bytes,
                "{name}"
            );
        }
    }

    #[test]
    fn without_keys_every_mismatch_is_reported_at_once() {
        let (_d, p) = bundle(|f| {
            f.insert("data/x.bin".into(), b"changed".to_vec());
            f.insert("extra.sh".into(), b"#!/bin/sh".to_vec());
            f.insert("stray.minisig".into(), b"x".to_vec());
            f.insert(MANIFEST.into(), b"{}".to_vec());
        });
        let r = check_bundle(&p, &CheckOptions::default()).unwrap();
        assert_eq!(
            codes(&r.report),
            [
                "digest-mismatch",
                "digest-mismatch",
                "not-listed",
                "not-listed",
                "bundle-malformed"
            ],
            "{}",
            r.report.to_json()
        );
    }

    #[test]
    fn metadata_over_its_limit_is_refused_unread() {
        let (_d, p) = bundle(|f| {
            f.insert(
                MANIFEST.into(),
                vec![b' '; (MAX_METADATA_BYTES + 1) as usize],
            );
        });
        let r = check_bundle(&p, &CheckOptions::default()).unwrap();
        let json = r.report.to_json();
        assert!(
            json.contains("over the limit of 4194304 bytes for bundle metadata"),
            "{json}"
        );
        assert_eq!(r.report.verdict, crate::report::Verdict::Fail);
    }

    #[test]
    fn the_identity_is_held_against_the_manifest() {
        let (_d, p) = bundle(|_| {});
        let expect = Expect {
            target: Some("linux-armv7".into()),
            model: Some("other".into()),
            min_version: Some(Version::parse("1.0.1").unwrap()),
        };
        let r = check_bundle(
            &p,
            &CheckOptions {
                expect,
                ..CheckOptions::default()
            },
        )
        .unwrap();
        assert_eq!(
            codes(&r.report),
            ["target-mismatch", "model-mismatch", "version-too-old"]
        );
        let ok = Expect {
            target: Some("linux-x86_64".into()),
            model: Some("m".into()),
            min_version: Some(Version::parse("1").unwrap()),
        };
        let r = check_bundle(
            &p,
            &CheckOptions {
                expect: ok,
                ..CheckOptions::default()
            },
        )
        .unwrap();
        assert_eq!(r.report.verdict, crate::report::Verdict::Pass);
        assert_eq!(r.report.checks[1].kind, "identity");
    }
}
