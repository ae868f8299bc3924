//! Setup shared by integration tests: the mlgate binary, its output as text, keys, a passing report, signed
//! bundles, a channel.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The binary, with the environment that would change its behaviour cleared.
pub fn mlgate() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mlgate"));
    c.env("NO_COLOR", "1")
        .env("GITHUB_ACTIONS", "false")
        .env_remove("MLGATE_SIGNING_KEY")
        .env_remove("MLGATE_REQUIRE_SIGNATURE")
        .env_remove("MLGATE_CHANNEL_FAULT")
        .env_remove("MLGATE_DRIFT_EXACT_LIMIT")
        .env_remove("MLGATE_CHANNEL_NOW")
        .env_remove("GITHUB_SHA")
        .env_remove("GITHUB_RUN_ID")
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_API_URL")
        .env_remove("MLGATE_GITHUB_UPLOAD_URL")
        .env("SOURCE_DATE_EPOCH", "1700000000");
    c
}

pub fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The output with miette's line wrapping undone: words separated by single spaces.
pub fn flat(o: &Output) -> String {
    text(o)
        .split(|c: char| c.is_whitespace() || c == '│')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn run(dir: &Path, args: &[&str]) -> Output {
    mlgate().current_dir(dir).args(args).output().unwrap()
}

pub fn ok(dir: &Path, args: &[&str]) -> Output {
    let o = run(dir, args);
    assert_eq!(o.status.code(), Some(0), "{args:?}\n{}", text(&o));
    o
}

pub fn model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models/wine_logreg.onnx")
}

/// A folder with the bundle signing key (mlgate.key), the channel's key (channel.key) and a passing report.
pub fn workdir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for name in ["mlgate", "channel"] {
        ok(d.path(), &["keygen", "--name", name]);
    }
    let report = serde_json::json!({"version": 1, "verdict": "pass", "checks": [{
        "id": "wine/metric", "kind": "metric", "subject": "wine", "status": "pass", "summary": "",
        "figures": {"metrics": [{"name": "accuracy", "value": 0.9777}]}, "findings": []}]});
    std::fs::write(d.path().join("report.json"), report.to_string()).unwrap();
    d
}

/// A bundle of the wine model at `version` for linux-aarch64, signed with mlgate.key, in `dist/`.
pub fn bundle(dir: &Path, version: &str) -> PathBuf {
    ok(
        dir,
        &[
            "bundle",
            model().to_str().unwrap(),
            "--target",
            "linux-aarch64",
            "--name",
            "wine",
            "--bundle-version",
            version,
            "--report",
            "report.json",
            "-o",
            "dist",
            "--key",
            "mlgate.key",
            "--commit",
            "c0ffee1234",
        ],
    );
    dir.join(format!("dist/wine-{version}-linux-aarch64.tar.gz"))
}

/// `stable/`: a channel signed with channel.key for every role, pinning mlgate.pub.
pub fn init_channel(dir: &Path) {
    ok(
        dir,
        &[
            "channel",
            "init",
            "--dir",
            "stable",
            "--key",
            "channel.key",
            "--bundle-pubkey",
            "mlgate.pub",
        ],
    );
}

/// The venv python with `module` importable ($MLGATE_INTEROP_PYTHON, which `.ci/run` makes). None: skipped with a
/// note; under MLGATE_REQUIRE_INTEROP=1 or CI=true a missing one fails the test instead.
pub fn interop_python(module: &str) -> Option<PathBuf> {
    let found = std::env::var_os("MLGATE_INTEROP_PYTHON")
        .map(PathBuf::from)
        .filter(|p| p.exists())
        .filter(|p| {
            Command::new(p)
                .args(["-c", &format!("import {module}")])
                .output()
                .is_ok_and(|o| o.status.success())
        });
    if found.is_none() {
        let required = std::env::var("MLGATE_REQUIRE_INTEROP").is_ok_and(|v| v == "1")
            || std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !required,
            "$MLGATE_INTEROP_PYTHON with {module} (tests/interop/requirements.txt) is required in CI"
        );
        eprintln!(
            "note: no $MLGATE_INTEROP_PYTHON with {module} installed: skipping this interop test"
        );
    }
    found
}

/// `python -m http.server` serving `dir` on a free port of 127.0.0.1, stopped when dropped.
pub struct Server {
    child: Child,
    pub url: String,
}

impl Server {
    pub fn start(python: &Path, dir: &Path) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(python)
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Ready when it accepts connections (a readiness wait, not a timing assertion).
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A program on PATH that an interop test needs (Debian's `minisign`, GNU `tar`). None: skipped with a note; under
/// MLGATE_REQUIRE_INTEROP=1 or CI=true a missing one fails the test instead.
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let required = std::env::var("MLGATE_REQUIRE_INTEROP").is_ok_and(|v| v == "1")
            || std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(!required, "{name} is required in CI (.ci/run installs it)");
        eprintln!("note: {name} not found: skipping this interop test");
    }
    found
}
