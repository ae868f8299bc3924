//! Setup shared by integration tests: the mlgate binary, keys, a passing report, signed bundles, a channel.
//! (tests/channel.rs, device.rs and others still carry their own copies of these.)
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary, with the environment that would change its behaviour cleared.
pub fn mlgate() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mlgate"));
    c.env("NO_COLOR", "1")
        .env("GITHUB_ACTIONS", "false")
        .env_remove("MLGATE_SIGNING_KEY")
        .env_remove("MLGATE_CHANNEL_FAULT")
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
