//! Differential fuzzing against reference implementations (issue 21, point 4), as tests: libFuzzer cannot start
//! `minisign` or `tar` at every execution cheaply, so a few thousand seeded mutations run here instead (the CSV
//! reader's differential against the `csv` crate is a libFuzzer target: fuzz/fuzz_targets/csv_differential.rs).
//!
//! - minisign: every mutation of a signature file gets the same verdict from mlgate's verifier as from Debian's
//!   `minisign -V`.
//! - bundles: whatever mutated bundle mlgate accepts and extracts, GNU `tar xzf` unpacks to the same files with the
//!   same bytes.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use mlgate::edge::{check_bundle, CheckOptions, Extract};
use mlgate::report::Verdict;
use mlgate::sign::{verify_minisign, PublicKey};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// xorshift64*: the mutations are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One to three edits: a bit flipped, a byte replaced (often by a base64 or line character), removed or
/// inserted, or the input cut short.
fn mutate(rng: &mut Rng, input: &[u8], alphabet: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(3) {
        if out.is_empty() {
            break;
        }
        let at = rng.below(out.len());
        let byte = if rng.below(2) == 0 {
            alphabet[rng.below(alphabet.len())]
        } else {
            rng.next() as u8
        };
        match rng.below(5) {
            0 => out[at] ^= 1 << rng.below(8),
            1 => out[at] = byte,
            2 => {
                out.remove(at);
            }
            3 => out.insert(at, byte),
            _ => out.truncate(at),
        }
    }
    out
}

const SIG_ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\n\r :\t";

#[test]
fn minisign_and_mlgate_agree_on_mutated_signatures() {
    let Some(minisign) = common::tool("minisign") else {
        return;
    };
    let keys = fixtures().join("keys");
    let public = keys.join("minisign.pub");
    let key = PublicKey::load(&public).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sig_path = dir.path().join("file.minisig");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut compared, mut valid, mut not_utf8, mut stricter) = (0, 0, 0, 0);
    let mut differ = vec![];
    // Signed by Debian's minisign (prehashed and legacy) from the fixture key.
    for name in ["by-minisign.txt", "legacy.txt"] {
        let file = keys.join(name);
        let original = std::fs::read(keys.join(format!("{name}.minisig"))).unwrap();
        for i in 0..1500 {
            let sig = if i == 0 {
                original.clone()
            } else {
                mutate(&mut rng, &original, SIG_ALPHABET)
            };
            // mlgate reads a signature file as UTF-8 text and refuses one that is not; minisign reads bytes and
            // accepts any bytes in the (unsigned) untrusted comment. Fail-closed and intended: left out here.
            if std::str::from_utf8(&sig).is_err() {
                not_utf8 += 1;
                continue;
            }
            std::fs::write(&sig_path, &sig).unwrap();
            let ours = verify_minisign(
                std::slice::from_ref(&key),
                &[(file.clone(), sig_path.clone())],
            )
            .is_ok_and(|r| r.verdict == Verdict::Pass);
            let theirs = Command::new(&minisign)
                .args(["-V", "-q", "-p"])
                .arg(&public)
                .arg("-m")
                .arg(&file)
                .arg("-x")
                .arg(&sig_path)
                .output()
                .unwrap()
                .status
                .success();
            if !ours && theirs && non_canonical_base64(&sig) {
                // minisign ignores the unused low bits of a base64 line's last character; mlgate decodes
                // strictly and refuses such a line (a signature has one encoding). Fail-closed and intended.
                stricter += 1;
            } else if ours != theirs {
                differ.push(format!(
                    "{name}, mutation {i}: mlgate says {ours}, minisign says {theirs}, on\n{}",
                    String::from_utf8_lossy(&sig)
                ));
            }
            if i == 0 {
                assert!(ours, "{name}: the unmutated signature must verify");
            }
            compared += 1;
            valid += usize::from(ours);
        }
    }
    assert!(
        differ.is_empty(),
        "{} of {compared} verdicts differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
    eprintln!("{compared} signatures compared ({valid} valid for both), {not_utf8} not UTF-8 left out, {stricter} refused by mlgate only for non-canonical base64");
}

/// A line of the signature file that decodes as base64 only when the unused bits of its last character are
/// ignored (as minisign's decoder does).
fn non_canonical_base64(sig: &[u8]) -> bool {
    use base64::engine::{
        general_purpose, DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig,
    };
    use base64::Engine;
    let lenient = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    String::from_utf8_lossy(sig).lines().any(|line| {
        let line = line.trim_end_matches('\r');
        general_purpose::STANDARD.decode(line).is_err() && lenient.decode(line).is_ok()
    })
}

/// The tar stream of a bundle.
fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![];
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Compressed as `mlgate bundle` does, with the gzip header it writes (mtime 0, level 6, OS 255): otherwise every
/// mutation would stop at the header check.
fn gzip(tar: &[u8]) -> Vec<u8> {
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(vec![], flate2::Compression::new(6));
    gz.write_all(tar).unwrap();
    gz.finish().unwrap()
}

/// Every regular file under `dir`, by its path relative to `dir` with `/`, and its bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

#[test]
fn tar_unpacks_what_mlgate_accepts_to_the_same_files() {
    let Some(tar) = common::tool("tar") else {
        return;
    };
    let original =
        std::fs::read(fixtures().join("bundles/plain/wine-1.2.0-linux-aarch64.tar.gz")).unwrap();
    let stream = gunzip(&original);
    assert_eq!(
        gzip(&stream),
        original,
        "the bundle is not compressed as this test recompresses it"
    );
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let (mut tried, mut accepted) = (0, 0);
    for i in 0..1500 {
        // Mostly header bytes (the first 512 of a block that starts an entry): that is where readers differ.
        let mutated = if i == 0 {
            stream.clone()
        } else {
            let mut m = stream.clone();
            for _ in 0..1 + rng.below(2) {
                let headers: Vec<usize> = (0..m.len() / 512)
                    .map(|b| b * 512)
                    .filter(|&o| m[o] != 0)
                    .collect();
                let at = match rng.below(3) {
                    0 => rng.below(m.len()),
                    _ => headers[rng.below(headers.len())] + rng.below(512),
                };
                m[at] = match rng.below(3) {
                    0 => m[at] ^ (1 << rng.below(8)),
                    1 => b"0123456789 ./-\0xLK5gA"[rng.below(21)],
                    _ => rng.next() as u8,
                };
            }
            m
        };
        let work = tempfile::tempdir().unwrap();
        let bundle = work.path().join("b.tar.gz");
        std::fs::write(&bundle, gzip(&mutated)).unwrap();
        let ours = work.path().join("mlgate");
        let opts = CheckOptions {
            extract: Extract::Everything(ours.clone()),
            ..Default::default()
        };
        tried += 1;
        let Ok(checked) = check_bundle(&bundle, &opts) else {
            continue;
        };
        if checked.report.verdict != Verdict::Pass {
            continue;
        }
        accepted += 1;
        let theirs = work.path().join("tar");
        std::fs::create_dir(&theirs).unwrap();
        let o = Command::new(&tar)
            .arg("xzf")
            .arg(&bundle)
            .arg("-C")
            .arg(&theirs)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "mutation {i}: mlgate accepts a bundle that tar refuses: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            tree(&ours),
            tree(&theirs),
            "mutation {i}: mlgate and tar unpack different files"
        );
    }
    assert!(accepted >= 1, "not even the unmutated bundle was accepted");
    eprintln!("{tried} bundles tried, {accepted} accepted by mlgate and unpacked the same by tar");
}
