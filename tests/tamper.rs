//! Exhaustive tamper tests (issue 21, point 5): every single-byte change (each position, each of the 255 other
//! byte values) of a small signed bundle, of a minisign signature, of a DSSE envelope and of a TUF metadata file is
//! refused by the verifier a user or device relies on, and none panics.
//!
//! "Refused" is what each verifier's caller sees: a report that does not pass, or an error. The one class of
//! changes a verifier may accept is bytes that no signature covers *by the format's own definition*, and only when
//! what the verifier then trusts is byte-for-byte what was signed. Each such class is named where it is allowed
//! (e.g. JSON whitespace around TUF's signed object: TUF signs canonical JSON, so every TUF client accepts it), and
//! the test counts them, so a new kind of accepted change fails the test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mlgate::edge::check::{check_bundle, CheckOptions};
use mlgate::report::Verdict;
use mlgate::sign::verify::{verify_attestation, verify_minisign, AttestationVerifyOptions};
use mlgate::sign::PublicKey;

fn mlgate() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mlgate"));
    c.env("NO_COLOR", "1")
        .env("GITHUB_ACTIONS", "false")
        .env_remove("MLGATE_SIGNING_KEY")
        .env_remove("MLGATE_REQUIRE_SIGNATURE")
        .env_remove("GITHUB_SHA")
        .env("SOURCE_DATE_EPOCH", "1700000000");
    c
}

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// A key pair, a passing report and a small signed bundle (the 280-byte diabetes model), made by the binary.
struct Work {
    dir: tempfile::TempDir,
}

impl Work {
    fn new() -> Work {
        let dir = tempfile::tempdir().unwrap();
        ok(mlgate()
            .current_dir(dir.path())
            .arg("keygen")
            .output()
            .unwrap());
        let report = r#"{"version":1,"verdict":"pass","checks":[]}"#;
        std::fs::write(dir.path().join("report.json"), report).unwrap();
        let model = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/models/diabetes_linear.onnx");
        ok(mlgate()
            .current_dir(dir.path())
            .arg("bundle")
            .arg(model)
            .args(["--target", "linux-x86_64", "--name", "diabetes"])
            .args(["--bundle-version", "1.0.0", "--report", "report.json"])
            .args(["--key", "mlgate.key", "-o", "out"])
            .args(["--commit", "0123456789abcdef0123456789abcdef01234567"])
            .output()
            .unwrap());
        Work { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn bundle(&self) -> PathBuf {
        self.path("out/diabetes-1.0.0-linux-x86_64.tar.gz")
    }

    fn keys(&self) -> Vec<PublicKey> {
        vec![PublicKey::load(&self.path("mlgate.pub")).unwrap()]
    }

    /// The bundle's files unpacked under `files/` (by the system's tar: a second reader).
    fn unpacked(&self) -> PathBuf {
        let files = self.path("files");
        std::fs::create_dir_all(&files).unwrap();
        ok(Command::new("tar")
            .arg("-xzf")
            .arg(self.bundle())
            .arg("-C")
            .arg(&files)
            .output()
            .unwrap());
        files
    }
}

/// What one verifier made of one changed file.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Refused,
    /// Accepted, and what it trusts is exactly what was signed: allowed only for a named class of bytes.
    AcceptedSame,
    /// Accepted with a different meaning: never allowed.
    AcceptedDifferent,
}

/// Which changes of a byte are tried.
#[derive(Clone, Copy)]
enum Changes {
    /// All 255 other values: for the small text files.
    EveryValue,
    /// Each of the 8 single-bit flips: for files whose every check costs milliseconds (the bundle is inflated,
    /// hashed and verified each time; TUF metadata is loaded by a whole client), where 255 values would take CI
    /// minutes. Every byte is still changed, and every bit of it.
    EveryBit,
}

impl Changes {
    fn of(self, byte: u8) -> Vec<u8> {
        match self {
            Changes::EveryValue => (0..=255u8).filter(|&v| v != byte).collect(),
            Changes::EveryBit => (0..8).map(|bit| byte ^ (1 << bit)).collect(),
        }
    }
}

/// Every change of every byte of `original`, each written to one of `targets` (one file a thread, so the work
/// spreads over the cores) and judged by `judge` on that file; each target holds the original again afterwards.
/// Returns the changes accepted as the same, and fails on a panic or an accepted different meaning (naming the
/// position and the byte).
fn every_change(
    original: &[u8],
    changes: Changes,
    targets: &[PathBuf],
    judge: impl Fn(&Path) -> Outcome + Sync,
) -> Vec<(usize, u8)> {
    let threads = targets.len();
    let mut same: Vec<(usize, u8)> = std::thread::scope(|scope| {
        let handles: Vec<_> = targets
            .iter()
            .enumerate()
            .map(|(t, target)| {
                let judge = &judge;
                scope.spawn(move || {
                    let mut same = vec![];
                    let mut bytes = original.to_vec();
                    for at in (t..original.len()).step_by(threads) {
                        for value in changes.of(original[at]) {
                            bytes[at] = value;
                            std::fs::write(target, &bytes).unwrap();
                            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| judge(target)))
                                .unwrap_or_else(|_| panic!("the verifier panicked: byte {at} set to {value:#04x}"));
                            match outcome {
                                Outcome::Refused => {}
                                Outcome::AcceptedSame => same.push((at, value)),
                                Outcome::AcceptedDifferent => panic!(
                                    "byte {at} set to {value:#04x} (was {:#04x}) was accepted with another meaning",
                                    original[at]
                                ),
                            }
                        }
                        bytes[at] = original[at];
                    }
                    std::fs::write(target, original).unwrap();
                    same
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    same.sort_unstable();
    same
}

/// How many threads share the work: the machine's cores, at least 1 and at most 4.
fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4))
}

/// `file` copied once per thread, as `NAME.N` beside it (or, with `dir`, the whole folder copied as `DIR.N`).
fn copies(file: &Path) -> Vec<PathBuf> {
    (0..threads())
        .map(|t| {
            let copy = file.with_extension(format!("copy{t}"));
            std::fs::copy(file, &copy).unwrap();
            copy
        })
        .collect()
}

#[test]
fn every_single_byte_change_of_a_signed_bundle_is_refused() {
    let w = Work::new();
    let bundle = w.bundle();
    let original = std::fs::read(&bundle).unwrap();
    let opts = CheckOptions {
        keys: w.keys(),
        ..Default::default()
    };
    let reference = check_bundle(&bundle, &opts).unwrap();
    assert_eq!(reference.report.verdict, Verdict::Pass);
    let same =
        every_change(
            &original,
            Changes::EveryBit,
            &copies(&bundle),
            |target| match check_bundle(target, &opts) {
                Ok(c) if c.report.verdict == Verdict::Pass && c.entries == reference.entries => {
                    Outcome::AcceptedSame
                }
                Ok(c) if c.report.verdict == Verdict::Pass => Outcome::AcceptedDifferent,
                _ => Outcome::Refused,
            },
        );
    report_same("bundle", &original, Changes::EveryBit, &same);
    // The gzip header, which RFC 1952 leaves outside the CRC, must be exactly the one mlgate writes. What is left
    // is deflate's own freedom: a few bits of the compressed stream (a code length of a symbol the block never
    // uses, say) decode to the very same bytes, which the CRC-32 and every signature then vouch for (checked
    // above: the entries are equal). A TUF channel pins the whole file's SHA-256, so a device refuses even those.
    let header = mlgate::edge::archive::GZIP_HEADER.len();
    let trailer = original.len() - 8;
    let outside: Vec<_> = same
        .iter()
        .filter(|(at, _)| *at < header || *at >= trailer)
        .collect();
    assert!(
        outside.is_empty(),
        "changes of the gzip header or trailer were accepted: {outside:?}"
    );
    assert!(
        same.len() * 1000 < original.len() * 8,
        "more than 1 in 1000 changes decoded to the same bytes: {}",
        same.len()
    );
}

#[test]
fn every_single_byte_change_of_a_minisign_signature_is_refused() {
    let w = Work::new();
    let files = w.unpacked();
    let file = files.join("SHA256SUMS");
    let sig = files.join("SHA256SUMS.minisig");
    let original = std::fs::read(&sig).unwrap();
    let keys = w.keys();
    let verdict = |sig: &Path| {
        verify_minisign(&keys, &[(file.clone(), sig.to_path_buf())])
            .map(|r| r.verdict)
            .ok()
    };
    assert_eq!(verdict(&sig), Some(Verdict::Pass));
    let same = every_change(
        &original,
        Changes::EveryValue,
        &copies(&sig),
        |target| match verdict(target) {
            Some(Verdict::Pass) => Outcome::AcceptedSame,
            _ => Outcome::Refused,
        },
    );
    report_same("SHA256SUMS.minisig", &original, Changes::EveryValue, &same);
    // minisign's first line is an untrusted comment: by the format's definition no signature covers it, and
    // minisign itself accepts any text there. Every other byte is signed (the trusted comment by the global
    // signature) or is a signature.
    let first_line = original.iter().position(|&b| b == b'\n').unwrap();
    // And the newline that ends the file, which any other trailing whitespace may replace (the text is trimmed).
    let last = original.len() - 1;
    let outside: Vec<_> = same
        .iter()
        .filter(|&&(at, v)| at >= first_line && !(at == last && char::from(v).is_whitespace()))
        .collect();
    assert!(
        outside.is_empty(),
        "changes after the untrusted comment were accepted: {outside:?}"
    );
}

#[test]
fn every_single_byte_change_of_a_dsse_envelope_is_refused() {
    let w = Work::new();
    let files = w.unpacked();
    let envelope = files.join("attestation.intoto.jsonl");
    let original = std::fs::read(&envelope).unwrap();
    let keys = w.keys();
    let verdict = |envelope: &Path| {
        let opts = AttestationVerifyOptions {
            envelope: envelope.to_path_buf(),
            base_dir: files.clone(),
            ..Default::default()
        };
        verify_attestation(&keys, &opts).map(|r| r.verdict).ok()
    };
    assert_eq!(verdict(&envelope), Some(Verdict::Pass));
    let same = every_change(
        &original,
        Changes::EveryValue,
        &copies(&envelope),
        |target| match verdict(target) {
            Some(Verdict::Pass) => Outcome::AcceptedSame,
            _ => Outcome::Refused,
        },
    );
    report_same(
        "attestation.intoto.jsonl",
        &original,
        Changes::EveryValue,
        &same,
    );
    // Only the whitespace that may end a JSON text: the envelope's one line ends in a newline, which a reader of
    // JSON Lines trims; nothing inside the object is left unchecked (unknown fields are refused).
    let last = original.len() - 1;
    let inside: Vec<_> = same
        .iter()
        .filter(|&&(at, v)| !(at == last && char::from(v).is_whitespace()))
        .collect();
    assert!(
        inside.is_empty(),
        "changes inside the envelope were accepted: {inside:?}"
    );
}

#[test]
fn every_single_byte_change_of_tuf_timestamp_metadata_is_refused() {
    let w = Work::new();
    let channel = w.path("channel");
    ok(mlgate()
        .current_dir(w.dir.path())
        .args(["channel", "init", "--dir", "channel", "--key", "mlgate.key"])
        .args(["--bundle-pubkey", "mlgate.pub"])
        .output()
        .unwrap());
    ok(mlgate()
        .current_dir(w.dir.path())
        .arg("publish")
        .arg(w.bundle())
        .args(["--channel", "channel", "--key", "mlgate.key"])
        .output()
        .unwrap());
    let root = std::fs::read(channel.join("root.json")).unwrap();
    let original = std::fs::read(channel.join("timestamp.json")).unwrap();
    let reference = tuf_signed(&channel, &root).expect("the untouched channel loads");
    // One copy of the channel a thread; the client reads timestamp.json first.
    let targets: Vec<PathBuf> = (0..threads())
        .map(|t| {
            let copy = w.path(&format!("channel.{t}"));
            ok(Command::new("cp")
                .arg("-a")
                .arg(&channel)
                .arg(&copy)
                .output()
                .unwrap());
            copy.join("timestamp.json")
        })
        .collect();
    let same = every_change(
        &original,
        Changes::EveryBit,
        &targets,
        |target| match tuf_signed(target.parent().unwrap(), &root) {
            Some(signed) if signed == reference => Outcome::AcceptedSame,
            Some(_) => Outcome::AcceptedDifferent,
            None => Outcome::Refused,
        },
    );
    report_same("timestamp.json", &original, Changes::EveryBit, &same);
    // TUF signs the canonical JSON of the `signed` object, so whitespace between JSON tokens is outside every
    // signature by the specification: every TUF client accepts a space turned into a tab or a newline. tough also
    // re-encodes what it parsed before checking signatures, so spellings that parse to the same value pass: the
    // case of hex digits (key IDs, signatures) and of RFC 3339's `T` and `Z`, and the `_type` string, which tough
    // does not read (the role comes from the file). In every case what the client then trusts is the same
    // (checked above: each role's `signed` equal). Nothing else may pass.
    let type_at = find(&original, b"\"timestamp\"");
    let type_value = type_at + 1..type_at + 10;
    let outside: Vec<_> = same
        .iter()
        .filter(|&&(at, v)| {
            let was = original[at];
            let whitespace = was.is_ascii_whitespace() && v.is_ascii_whitespace();
            let case = was.is_ascii_alphabetic() && v == was ^ 0x20;
            !(whitespace || case || type_value.contains(&at))
        })
        .collect();
    assert!(
        outside.is_empty(),
        "changes of other kinds were accepted: {outside:?}"
    );
}

/// Where `needle` first occurs in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).position(|w| w == needle).unwrap()
}

/// The `signed` parts of the four top-level roles, as a TUF client (tough, as `mlgate pull` uses it) trusts them
/// after a refresh from the channel folder; `None` when the client refuses the channel.
fn tuf_signed(channel: &Path, root: &[u8]) -> Option<serde_json::Value> {
    let url = url::Url::from_directory_path(channel).unwrap();
    let targets = url.join("targets/").unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let repo = rt
        .block_on(tough::RepositoryLoader::new(&root, url, targets).load())
        .ok()?;
    Some(serde_json::json!({
        "root": serde_json::to_value(&repo.root().signed).unwrap(),
        "timestamp": serde_json::to_value(&repo.timestamp().signed).unwrap(),
        "snapshot": serde_json::to_value(&repo.snapshot().signed).unwrap(),
        "targets": serde_json::to_value(&repo.targets().signed).unwrap(),
    }))
}

/// Prints the accepted changes grouped by position, so a failure shows what the verifier let through.
fn report_same(what: &str, original: &[u8], changes: Changes, same: &[(usize, u8)]) {
    let mut positions: Vec<usize> = same.iter().map(|(at, _)| *at).collect();
    positions.dedup();
    let tried: usize = original.iter().map(|&b| changes.of(b).len()).sum();
    eprintln!(
        "{what}: {} bytes, {tried} changes tried, {} accepted as the same at {} positions",
        original.len(),
        same.len(),
        positions.len()
    );
    for at in positions.iter().take(40) {
        let values: Vec<String> = same
            .iter()
            .filter(|(p, _)| p == at)
            .map(|(_, v)| format!("{v:02x}"))
            .collect();
        let ctx = String::from_utf8_lossy(
            &original[at.saturating_sub(12)..(*at + 12).min(original.len())],
        )
        .into_owned();
        eprintln!(
            "  byte {at} (was {:02x}, near {ctx:?}): {} values, e.g. {}",
            original[*at],
            values.len(),
            values.iter().take(6).cloned().collect::<Vec<_>>().join(" ")
        );
    }
}
