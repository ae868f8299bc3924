//! The pickle scan against the public scanners' corpora: every sample of picklescan's and modelscan's test
//! suites and the documented bypasses of 2024-2025, as `tests/fixtures/pickles/make_corpus.py` writes them
//! (committed; `corpus/MANIFEST.tsv` labels each). A malicious sample must fail `mlgate scan` (exit 1), a benign
//! one must pass (exit 0); damaged copies of every sample must give a verdict, never a panic.

use std::path::{Path, PathBuf};
use std::process::Command;

use mlgate::sign::{scan, ScanOptions};

const CORPUS: &str = "tests/fixtures/pickles/corpus";

struct Sample {
    file: String,
    expect_fail: bool,
    what: String,
}

fn manifest() -> Vec<Sample> {
    let text = std::fs::read_to_string(Path::new(CORPUS).join("MANIFEST.tsv"))
        .expect("corpus manifest (run tests/fixtures/pickles/make_corpus.py)");
    text.lines()
        .skip(1)
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 5, "MANIFEST.tsv row: {line}");
            assert!(
                matches!(cols[1], "fail" | "pass"),
                "MANIFEST.tsv expect: {line}"
            );
            Sample {
                file: cols[0].to_string(),
                expect_fail: cols[1] == "fail",
                what: cols[4].to_string(),
            }
        })
        .collect()
}

fn mlgate(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mlgate"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("GITHUB_ACTIONS", "false")
        .output()
        .expect("run mlgate")
}

#[test]
fn every_sample_gets_its_verdict() {
    let samples = manifest();
    assert!(samples.len() > 150, "corpus has {} samples", samples.len());
    let mut wrong = vec![];
    for s in &samples {
        let path = Path::new(CORPUS).join(&s.file);
        let out = mlgate(&["scan", path.to_str().unwrap()]);
        let code = out.status.code();
        let want = if s.expect_fail { 1 } else { 0 };
        if code != Some(want) {
            wrong.push(format!(
                "{} ({}): exit {code:?}, expected {want}\n{}{}",
                s.file,
                s.what,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} samples got the wrong verdict:\n{}",
        wrong.len(),
        samples.len(),
        wrong.join("\n")
    );
}

#[test]
fn every_file_in_the_corpus_is_in_the_manifest() {
    let listed: std::collections::BTreeSet<String> =
        manifest().into_iter().map(|s| s.file).collect();
    for kind in ["malicious", "benign"] {
        for e in std::fs::read_dir(Path::new(CORPUS).join(kind)).unwrap() {
            let name = format!("{kind}/{}", e.unwrap().file_name().to_string_lossy());
            assert!(listed.contains(&name), "{name} is not in MANIFEST.tsv");
        }
    }
}

/// What decides is the content: the same malicious bytes fail under any name, and the same benign bytes pass.
#[test]
fn the_verdict_does_not_depend_on_the_name() {
    let dir = std::env::temp_dir().join(format!("mlgate-corpus-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let opts = ScanOptions::default();
    for s in manifest() {
        let bytes = std::fs::read(Path::new(CORPUS).join(&s.file)).unwrap();
        for name in [
            "x",
            "x.txt",
            "x.onnx",
            "x.safetensors",
            "x.pkl",
            "x.npy",
            "x.zip",
        ] {
            let p = dir.join(name);
            std::fs::write(&p, &bytes).unwrap();
            let c = scan(&p, name, &opts).unwrap();
            let failed = c.status == mlgate::report::Status::Fail;
            assert_eq!(
                failed, s.expect_fail,
                "{} renamed {name}: {:?} {}",
                s.file, c.status, c.summary
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Damaged input gives a verdict with a message: truncated at every few bytes, a byte flipped, never a panic.
#[test]
fn damaged_samples_never_panic() {
    let dir = std::env::temp_dir().join(format!("mlgate-corpus-damage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let opts = ScanOptions::default();
    let p: PathBuf = dir.join("damaged");
    for s in manifest() {
        let bytes = std::fs::read(Path::new(CORPUS).join(&s.file)).unwrap();
        let step = (bytes.len() / 16).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            std::fs::write(&p, &bytes[..cut]).unwrap();
            let c = scan(&p, "damaged", &opts).unwrap();
            assert!(!c.summary.is_empty(), "{} cut at {cut}", s.file);
            let mut flipped = bytes.clone();
            flipped[cut] ^= 0xff;
            std::fs::write(&p, &flipped).unwrap();
            scan(&p, "damaged", &opts).unwrap();
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let out = mlgate(&["scan", "tests/fixtures/pickles/corpus/no-such-file.pkl"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no-such-file.pkl"), "{err}");
}

#[test]
fn a_damaged_zip_is_refused_with_a_message() {
    let dir = std::env::temp_dir().join(format!("mlgate-corpus-zip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("model.pt");
    std::fs::write(&p, b"PK\x03\x04 this is no zip archive").unwrap();
    let out = mlgate(&["scan", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("not a readable zip archive"), "{stdout}");
    std::fs::remove_dir_all(&dir).ok();
}
