//! python-tuf's client (`tuf` on PyPI, `ngclient.Updater`) against a channel mlgate wrote, served over HTTP on
//! 127.0.0.1: refresh and download, key rotation, a rollback attack, an expired timestamp, a crash mid-publish.
//! It needs the venv $MLGATE_INTEROP_PYTHON names (`.ci/run` makes it); elsewhere it skips with a note, and under
//! CI=true it fails instead. Setup (the binary, bundles, the HTTP server) is tests/common's.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{bundle, interop_python, mlgate, ok, text, Server};

/// One run of tests/interop/tuf_client.py with a persistent client folder, as a device keeps one.
fn client(python: &Path, state: &Path, url: &str, target: Option<&str>) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/tuf_client.py");
    let out = state.join("downloads");
    std::fs::create_dir_all(&out).unwrap();
    let mut c = Command::new(python);
    c.arg(&script).arg(state.join("metadata")).arg(url);
    if let Some(t) = target {
        c.arg(t).arg(&out);
    }
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)))
}

/// A device's client folder, trusting the channel's root.json as it is now.
fn new_client(channel: &Path, at: &Path) -> PathBuf {
    std::fs::create_dir_all(at.join("metadata")).unwrap();
    std::fs::copy(channel.join("root.json"), at.join("metadata/root.json")).unwrap();
    at.to_path_buf()
}

fn sha256_hex(path: &Path) -> String {
    mlgate::sign::sha256_file(path).unwrap()
}

#[test]
fn python_tuf_reads_mlgate_channels() {
    let Some(python) = interop_python("tuf.ngclient") else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    for name in ["mlgate", "channel", "new"] {
        ok(p, &["keygen", "--name", name]);
    }
    let report = serde_json::json!({"version": 1, "verdict": "pass", "checks": []});
    std::fs::write(p.join("report.json"), report.to_string()).unwrap();
    ok(
        p,
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
    let channel = p.join("stable");
    let v1 = bundle(p, "1.0.0");
    ok(
        p,
        &[
            "publish",
            v1.to_str().unwrap(),
            "--channel",
            "stable",
            "--key",
            "channel.key",
        ],
    );
    let server = Server::start(&python, &channel);

    // Refresh and download: the bytes are the bundle's, the custom metadata is mlgate's.
    let device = new_client(&channel, &p.join("device"));
    let r = client(
        &python,
        &device,
        &server.url,
        Some("wine-1.0.0-linux-aarch64.tar.gz"),
    );
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["target"]["sha256"], sha256_hex(&v1), "{r}");
    assert_eq!(r["target"]["custom"]["mlgate"]["version"], "1.0.0", "{r}");
    assert_eq!(
        r["target"]["custom"]["mlgate"]["commit"], "c0ffee1234",
        "{r}"
    );

    // Key rotation: every role gets the new key; the new root is signed by the old root key too, so the device
    // that trusts root 1 walks to root 2 and accepts metadata signed by the new keys only.
    let o = ok(
        p,
        &[
            "channel",
            "rotate",
            "--dir",
            "stable",
            "--key",
            "channel.key",
            "--root-key",
            "new.key",
            "--targets-key",
            "new.key",
            "--snapshot-key",
            "new.key",
            "--timestamp-key",
            "new.key",
        ],
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("root version 2"),
        "{}",
        text(&o)
    );
    let v2 = bundle(p, "1.1.0");
    ok(
        p,
        &[
            "publish",
            v2.to_str().unwrap(),
            "--channel",
            "stable",
            "--key",
            "new.key",
        ],
    );
    let r = client(
        &python,
        &device,
        &server.url,
        Some("wine-1.1.0-linux-aarch64.tar.gz"),
    );
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["root_version"], 2, "{r}");
    assert_eq!(r["target"]["custom"]["mlgate"]["version"], "1.1.0", "{r}");
    // The old key can no longer sign for the channel.
    let o = mlgate()
        .current_dir(p)
        .args([
            "channel",
            "refresh",
            "--dir",
            "stable",
            "--key",
            "channel.key",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    // A rollback attack: an old (validly signed) timestamp served again after the device has seen a newer one.
    let old = std::fs::read(channel.join("timestamp.json")).unwrap();
    ok(
        p,
        &["channel", "refresh", "--dir", "stable", "--key", "new.key"],
    );
    assert_eq!(client(&python, &device, &server.url, None)["ok"], true);
    let current = std::fs::read(channel.join("timestamp.json")).unwrap();
    std::fs::write(channel.join("timestamp.json"), &old).unwrap();
    let r = client(&python, &device, &server.url, None);
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["error"], "BadVersionNumberError", "{r}");
    std::fs::write(channel.join("timestamp.json"), &current).unwrap();
    assert_eq!(client(&python, &device, &server.url, None)["ok"], true);

    // An expired timestamp: signed a month ago with a week's lifetime. TUF clients refuse it.
    let o = mlgate()
        .current_dir(p)
        .env("MLGATE_CHANNEL_NOW", (jiff_now_minus_days(30)).as_str())
        .args(["channel", "refresh", "--dir", "stable", "--key", "new.key"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r = client(&python, &device, &server.url, None);
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["error"], "ExpiredMetadataError", "{r}");
    ok(
        p,
        &["channel", "refresh", "--dir", "stable", "--key", "new.key"],
    );
    assert_eq!(client(&python, &device, &server.url, None)["ok"], true);

    // A crash after the snapshot was written: a fresh device still reads the channel as it was.
    let v3 = bundle(p, "1.2.0");
    let o = mlgate()
        .current_dir(p)
        .env("MLGATE_CHANNEL_FAULT", "after-snapshot")
        .args([
            "publish",
            v3.to_str().unwrap(),
            "--channel",
            "stable",
            "--key",
            "new.key",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), None, "{}", text(&o));
    let fresh = new_client(&channel, &p.join("fresh"));
    let r = client(
        &python,
        &fresh,
        &server.url,
        Some("wine-1.1.0-linux-aarch64.tar.gz"),
    );
    assert_eq!(r["ok"], true, "{r}");
    let r = client(
        &python,
        &fresh,
        &server.url,
        Some("wine-1.2.0-linux-aarch64.tar.gz"),
    );
    assert_eq!(r["error"], "TargetNotFound", "{r}");
    ok(
        p,
        &[
            "publish",
            v3.to_str().unwrap(),
            "--channel",
            "stable",
            "--key",
            "new.key",
        ],
    );
    let r = client(
        &python,
        &fresh,
        &server.url,
        Some("wine-1.2.0-linux-aarch64.tar.gz"),
    );
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["target"]["sha256"], sha256_hex(&v3), "{r}");
    drop(server);
}

/// Now minus `days`, as RFC 3339 (the channel's test clock).
fn jiff_now_minus_days(days: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    jiff::Timestamp::from_second(now - days * 86_400)
        .unwrap()
        .to_string()
}
