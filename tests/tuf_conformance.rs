//! The TUF conformance suite (theupdateframework/tuf-conformance, the one python-tuf and go-tuf are tested with)
//! against `mlgate tuf-client`, the suite's client protocol over `mlgate pull`'s TUF layer.
//!
//! The suite is run in place with pytest, never copied: `$MLGATE_TUF_CONFORMANCE_DIR`, else
//! `../shared/conformance/tuf-conformance`. It needs the python of `$MLGATE_INTEROP_PYTHON` with pytest,
//! pytest-json-report and python-tuf (tests/interop/requirements.txt) and Debian's `faketime`. A test that fails
//! must be listed in `tests/tuf-conformance.xfails` with its reason; a listed test that passes fails this test too,
//! so the list stays true. Without the pieces it skips and says why; with `MLGATE_REQUIRE_INTEROP=1` (or
//! `CI=true`) it fails instead.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn required() -> bool {
    std::env::var("MLGATE_REQUIRE_INTEROP").is_ok_and(|v| v == "1")
        || std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Says why the suite cannot run: a skip on a user's machine, a failure where interop is required.
fn missing(what: &str) {
    assert!(
        !required(),
        "{what} (required: MLGATE_REQUIRE_INTEROP=1 or CI=true; .ci/run sets it up)"
    );
    eprintln!("skipped: {what}");
}

fn suite_dir() -> PathBuf {
    std::env::var_os("MLGATE_TUF_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/tuf-conformance")
        })
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
}

/// The test names listed in the xfails file (one a line; `#` starts a comment): those that must fail, and those
/// marked `?` that may fail or pass (a test whose outcome depends on timing, each with its reason in the file).
fn xfails() -> (BTreeSet<String>, BTreeSet<String>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tuf-conformance.xfails");
    let (mut must, mut may) = (BTreeSet::new(), BTreeSet::new());
    for line in std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
    {
        let name = line.split('#').next().unwrap_or("").trim();
        match name.strip_prefix('?') {
            Some(flaky) => may.insert(flaky.trim().to_string()),
            None if !name.is_empty() => must.insert(name.to_string()),
            None => false,
        };
    }
    (must, may)
}

/// Every test's name (pytest's node id after `::`) and whether it passed, from pytest-json-report's file.
fn outcomes(report: &Path) -> Vec<(String, bool)> {
    let text = std::fs::read_to_string(report)
        .unwrap_or_else(|e| panic!("{}: {e} (did pytest run?)", report.display()));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["tests"]
        .as_array()
        .expect("the report lists tests")
        .iter()
        .map(|t| {
            let id = t["nodeid"].as_str().unwrap_or_default();
            let name = id.rsplit("::").next().unwrap_or(id).to_string();
            (name, t["outcome"] == "passed")
        })
        .collect()
}

#[test]
fn tuf_conformance_suite() {
    let suite = suite_dir();
    if !suite.join("CLIENT-CLI.md").is_file() {
        return missing(&format!(
            "the TUF conformance suite is not at {} (set MLGATE_TUF_CONFORMANCE_DIR)",
            suite.display()
        ));
    }
    let Some(python) = std::env::var_os("MLGATE_INTEROP_PYTHON").map(PathBuf::from) else {
        return missing(
            "$MLGATE_INTEROP_PYTHON is not set (a python with tests/interop/requirements.txt)",
        );
    };
    let probe = Command::new(&python)
        .args(["-c", "import pytest, pytest_jsonreport, tuf"])
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        return missing(&format!(
            "{} lacks pytest, pytest-json-report or tuf (pip install -r tests/interop/requirements.txt)",
            python.display()
        ));
    }
    if !on_path("faketime") {
        return missing("faketime is not on PATH (Debian: apt-get install faketime)");
    }

    // The suite splits its entrypoint on spaces: the binary is linked from a folder whose path has none.
    let work = tempfile::tempdir().unwrap();
    let bin = work.path().join("mlgate");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_mlgate"), &bin).unwrap();
    let report = work.path().join("report.json");
    let started = std::time::Instant::now();
    let status = Command::new(&python)
        .args([
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tuf_conformance",
        ])
        .arg("--entrypoint")
        .arg(format!("{} tuf-client", bin.display()))
        .arg("--json-report")
        .arg(format!("--json-report-file={}", report.display()))
        .current_dir(&suite)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .status()
        .expect("pytest starts");
    let elapsed = started.elapsed();

    let results = outcomes(&report);
    let (expected, may_fail) = xfails();
    let failed: BTreeSet<String> = results
        .iter()
        .filter(|(_, passed)| !passed)
        .map(|(n, _)| n.clone())
        .collect();
    let passed = results.len() - failed.len();
    eprintln!(
        "tuf-conformance: {} tests, {passed} passed, {} failed ({} listed in tests/tuf-conformance.xfails) in {:.0} s; \
         pytest exit {:?}",
        results.len(),
        failed.len(),
        expected.len() + may_fail.len(),
        elapsed.as_secs_f64(),
        status.code()
    );
    assert!(!results.is_empty(), "pytest collected no tests");
    let unexpected: Vec<&String> = failed
        .iter()
        .filter(|n| !expected.contains(*n) && !may_fail.contains(*n))
        .collect();
    let now_passing: Vec<&String> = expected.difference(&failed).collect();
    assert!(
        unexpected.is_empty(),
        "failed but not in tests/tuf-conformance.xfails: {unexpected:?}"
    );
    assert!(
        now_passing.is_empty(),
        "listed in tests/tuf-conformance.xfails but did not fail (remove them): {now_passing:?}"
    );
}
