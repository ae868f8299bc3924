//! Helpers shared by integration tests. Each test file that uses them says `mod common;`.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The mlgate binary with a quiet, reproducible environment (no colour, no Actions context, no key in the
/// environment).
pub fn mlgate() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mlgate"));
    c.env("NO_COLOR", "1")
        .env("GITHUB_ACTIONS", "false")
        .env_remove("MLGATE_SIGNING_KEY")
        .env_remove("GITHUB_SHA")
        .env_remove("GITHUB_REPOSITORY")
        .env("SOURCE_DATE_EPOCH", "1700000000");
    c
}

/// Runs a command; what it printed, for assertion messages.
pub fn run(c: &mut Command) -> Output {
    c.output().expect("the command runs")
}

pub fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A tool the test needs: found, or skipped with a note on a user's machine, or a failure where interop is
/// required (`MLGATE_REQUIRE_INTEROP=1`, which `.ci/run` sets, or `CI=true`).
pub fn required(name: &str, found: Option<PathBuf>) -> Option<PathBuf> {
    if found.is_none() {
        let must = std::env::var("MLGATE_REQUIRE_INTEROP").is_ok_and(|v| v == "1")
            || std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !must,
            "{name} is required (MLGATE_REQUIRE_INTEROP=1 or CI=true; .ci/run installs it)"
        );
        eprintln!("note: {name} not found: skipping this interop test");
    }
    found
}

/// The interop venv's python (tests/interop/requirements.txt installed), from `$MLGATE_INTEROP_PYTHON`.
pub fn interop_python() -> Option<PathBuf> {
    let found = std::env::var_os("MLGATE_INTEROP_PYTHON")
        .map(PathBuf::from)
        .filter(|p| p.exists());
    required("$MLGATE_INTEROP_PYTHON", found)
}
