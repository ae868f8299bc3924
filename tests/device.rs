//! Devices: `mlgate pull` against a channel that `mlgate channel init` and `mlgate publish` made, served by a
//! small HTTP server on 127.0.0.1 (and as a file:// URL); install, up to date, update, the attacks refused, the
//! health check and rollback, `mlgate device status|rollback`.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{flat, mlgate, model, ok, run, text};

/// Keys (mlgate: bundles, channel: TUF roles, other: not pinned anywhere), a passing report, a channel `stable`.
fn workdir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for name in ["mlgate", "channel", "other"] {
        ok(d.path(), &["keygen", "--name", name]);
    }
    let report = serde_json::json!({"version": 1, "verdict": "pass", "checks": [{
        "id": "wine/metric", "kind": "metric", "subject": "wine", "status": "pass", "summary": "",
        "figures": {"metrics": [{"name": "accuracy", "value": 0.9777}]}, "findings": []}]});
    std::fs::write(d.path().join("report.json"), report.to_string()).unwrap();
    ok(
        d.path(),
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
    std::fs::copy(
        d.path().join("stable/root.json"),
        d.path().join("pinned-root.json"),
    )
    .unwrap();
    d
}

/// Bundles the wine model at `version` for linux-aarch64, signed with `key`, and publishes it.
/// `mlgate bundle` of the wine model for linux-aarch64 at `version`, signed with `key`, into `dist/`.
fn bundle(dir: &Path, version: &str, key: &str) {
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
            key,
            "--commit",
            "c0ffee1234",
        ],
    );
}

fn publish(dir: &Path, version: &str, key: &str) {
    bundle(dir, version, key);
    let b = format!("dist/wine-{version}-linux-aarch64.tar.gz");
    ok(
        dir,
        &["publish", &b, "--channel", "stable", "--key", "channel.key"],
    );
}

/// A static file server for `root` on 127.0.0.1 (a thread per connection; GET only; 404 for what is missing).
/// `Connection: close` on every answer keeps it simple.
fn serve(root: &Path) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let root = root.to_path_buf();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            std::thread::spawn(move || answer(&root, stream));
        }
    });
    format!("http://{addr}/")
}

fn answer(root: &Path, mut stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    // Headers are read and ignored.
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
            break;
        }
    }
    let path = line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .trim_start_matches('/')
        .to_string();
    let file = (!path.contains("..")).then(|| root.join(&path));
    let _ = match file.and_then(|f| std::fs::read(f).ok()) {
        Some(body) => stream
            .write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            )
            .and_then(|()| stream.write_all(&body)),
        None => stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    };
}

/// `mlgate pull` of the wine model for linux-aarch64 into `device/`, pinning mlgate.pub, plus `extra` flags.
fn pull(dir: &Path, url: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "pull",
        "--channel",
        url,
        "--root",
        "pinned-root.json",
        "--dir",
        "device",
        "--target",
        "linux-aarch64",
        "--pubkey",
        "mlgate.pub",
    ];
    args.extend_from_slice(extra);
    run(dir, &args)
}

fn status(dir: &Path) -> serde_json::Value {
    let o = ok(
        dir,
        &["device", "status", "--dir", "device", "--format", "json"],
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn current(dir: &Path) -> Option<String> {
    std::fs::read_link(dir.join("device/current"))
        .ok()
        .map(|p| p.display().to_string())
}

#[test]
fn install_up_to_date_update_and_manual_rollback() {
    let d = workdir();
    let p = d.path();
    publish(p, "1.0.0", "mlgate.key");
    let url = serve(&p.join("stable"));
    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        flat(&o).contains("installed wine 1.0.0 for linux-aarch64 (releases/1.0.0-"),
        "{}",
        text(&o)
    );
    let cur = current(p).unwrap();
    assert!(cur.starts_with("releases/1.0.0-"), "{cur}");
    // The release holds the verified archive, the unpacked bundle and its record.
    let rel = p.join("device").join(&cur);
    assert!(rel.join("bundle.tar.gz").is_file());
    assert!(rel.join("files/manifest.json").is_file());
    assert!(rel.join("files/models").is_dir());
    assert!(rel.join("release.json").is_file());

    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(flat(&o).contains("up to date: wine 1.0.0"), "{}", text(&o));

    publish(p, "1.1.0", "mlgate.key");
    let o = pull(p, &url, &["--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["outcome"], "installed");
    assert_eq!(v["release"]["version"], "1.1.0");
    assert!(current(p).unwrap().starts_with("releases/1.1.0-"));
    let st = status(p);
    assert_eq!(st["state"]["installed"]["version"], "1.1.0");
    assert_eq!(st["state"]["previous"]["version"], "1.0.0");
    assert_eq!(st["state"]["attempts"], 0);
    assert!(st["state"]["last_success"].is_string());
    assert_eq!(st["previous_link"], st["state"]["previous"]["dir"]);

    // A third version: only the last two releases stay on disk.
    publish(p, "1.2.0", "mlgate.key");
    ok(
        p,
        &[
            "pull",
            "--channel",
            &url,
            "--root",
            "pinned-root.json",
            "--dir",
            "device",
            "--target",
            "linux-aarch64",
            "--pubkey",
            "mlgate.pub",
        ],
    );
    let mut releases: Vec<String> = std::fs::read_dir(p.join("device/releases"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    releases.sort();
    assert_eq!(releases.len(), 2, "{releases:?}");
    assert!(
        releases[0].starts_with("1.1.0-") && releases[1].starts_with("1.2.0-"),
        "{releases:?}"
    );

    // Manual rollback: back to 1.1.0, and 1.2.0 is never installed again.
    let o = ok(p, &["device", "rollback", "--dir", "device"]);
    assert!(
        flat(&o).contains("rolled back: current is wine 1.1.0"),
        "{}",
        text(&o)
    );
    assert!(current(p).unwrap().starts_with("releases/1.1.0-"));
    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        flat(&o).contains("is marked bad on this device (rolled back by hand"),
        "{}",
        text(&o)
    );
    assert!(current(p).unwrap().starts_with("releases/1.1.0-"));
    let human = ok(p, &["device", "status", "--dir", "device"]);
    assert!(
        flat(&human).contains("installed: wine 1.1.0 for linux-aarch64"),
        "{}",
        text(&human)
    );
    assert!(
        flat(&human).contains("known bad: 1.2.0 sha256"),
        "{}",
        text(&human)
    );
    assert!(
        flat(&human).contains("failed attempts since: 1"),
        "{}",
        text(&human)
    );
}

#[test]
fn a_file_url_channel_installs() {
    let d = workdir();
    let p = d.path();
    publish(p, "1.0.0", "mlgate.key");
    let url =
        url::Url::from_directory_path(std::fs::canonicalize(p.join("stable")).unwrap()).unwrap();
    let o = pull(p, url.as_str(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // A plain folder works too.
    let o = pull(p, "stable", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(flat(&o).contains("up to date: wine 1.0.0"), "{}", text(&o));
}

#[test]
fn older_metadata_is_refused_as_a_rollback_attack() {
    let d = workdir();
    let p = d.path();
    publish(p, "1.0.0", "mlgate.key");
    let old = std::fs::read(p.join("stable/timestamp.json")).unwrap();
    publish(p, "1.1.0", "mlgate.key");
    let url = serve(&p.join("stable"));
    ok(
        p,
        &[
            "pull",
            "--channel",
            &url,
            "--root",
            "pinned-root.json",
            "--dir",
            "device",
            "--target",
            "linux-aarch64",
            "--pubkey",
            "mlgate.pub",
        ],
    );
    // A mirror replays the older timestamp (validly signed, and not expired).
    std::fs::write(p.join("stable/timestamp.json"), old).unwrap();
    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let f = flat(&o);
    assert!(f.contains("refused: nothing was installed"), "{f}");
    assert!(f.contains("the channel's metadata was refused"), "{f}");
    assert!(
        f.contains(
            "Found version 2 of timestamp metadata when we had previously fetched version 3"
        ),
        "{f}"
    );
    assert!(current(p).unwrap().starts_with("releases/1.1.0-"));
}

#[test]
fn a_tampered_bundle_is_refused_and_nothing_is_installed() {
    let d = workdir();
    let p = d.path();
    publish(p, "1.0.0", "mlgate.key");
    let target = std::fs::read_dir(p.join("stable/targets"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|f| {
            f.to_string_lossy()
                .ends_with("wine-1.0.0-linux-aarch64.tar.gz")
        })
        .unwrap();
    let mut bytes = std::fs::read(&target).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&target, &bytes).unwrap();
    let url = serve(&p.join("stable"));
    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let f = flat(&o);
    assert!(
        f.contains("the download of wine-1.0.0-linux-aarch64.tar.gz"),
        "{f}"
    );
    assert!(f.contains("was refused"), "{f}");
    assert_eq!(current(p), None);
    let left: Vec<_> = std::fs::read_dir(p.join("device/releases"))
        .unwrap()
        .collect();
    assert!(left.is_empty());

    // A truncated download: refused the same way.
    std::fs::write(&target, &bytes[..mid]).unwrap();
    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(flat(&o).contains("was refused"), "{}", text(&o));
    assert_eq!(current(p), None);

    // More bytes than TUF states: refused the same way.
    bytes[mid] ^= 0xff;
    bytes.extend_from_slice(&[0u8; 4096]);
    std::fs::write(&target, &bytes).unwrap();
    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(flat(&o).contains("was refused"), "{}", text(&o));
    assert_eq!(current(p), None);
}

#[test]
fn another_target_and_an_unpinned_key_are_refused() {
    let d = workdir();
    let p = d.path();
    publish(p, "1.0.0", "mlgate.key");
    let url = serve(&p.join("stable"));
    let o = run(
        p,
        &[
            "pull",
            "--channel",
            &url,
            "--root",
            "pinned-root.json",
            "--dir",
            "device",
            "--target",
            "linux-x86_64",
            "--pubkey",
            "mlgate.pub",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        flat(&o).contains("the channel has no release for target linux-x86_64"),
        "{}",
        text(&o)
    );

    let o = run(
        p,
        &[
            "pull",
            "--channel",
            &url,
            "--root",
            "pinned-root.json",
            "--dir",
            "device",
            "--target",
            "linux-aarch64",
            "--pubkey",
            "other.pub",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        flat(&o).contains("refused: nothing was installed"),
        "{}",
        text(&o)
    );
    assert_eq!(current(p), None);
    assert_eq!(status(p)["state"]["attempts"], 2);
}

#[test]
fn a_failed_health_check_rolls_back_and_marks_the_release_bad() {
    let d = workdir();
    let p = d.path();
    publish(p, "1.0.0", "mlgate.key");
    let url = serve(&p.join("stable"));
    // The health command sees the new release's folder.
    let o = pull(
        p,
        &url,
        &[
            "--health-cmd",
            "test -f \"$MLGATE_RELEASE/files/manifest.json\" && test -f \"$MLGATE_BUNDLE\"",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    publish(p, "1.1.0", "mlgate.key");
    let o = pull(
        p,
        &url,
        &["--health-cmd", "echo checking $MLGATE_VERSION; exit 3"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let f = flat(&o);
    assert!(
        f.contains("rolled back: wine 1.1.0 failed its health check and is marked bad"),
        "{f}"
    );
    assert!(f.contains("exit status: 3"), "{f}");
    assert!(f.contains("current: wine 1.0.0"), "{f}");
    assert!(current(p).unwrap().starts_with("releases/1.0.0-"));
    let st = status(p);
    assert_eq!(st["state"]["installed"]["version"], "1.0.0");
    assert_eq!(st["state"]["known_bad"][0]["version"], "1.1.0");
    // Never retried, until a newer version appears.
    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        flat(&o).contains("is marked bad on this device"),
        "{}",
        text(&o)
    );
    publish(p, "1.2.0", "mlgate.key");
    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(flat(&o).contains("installed wine 1.2.0"), "{}", text(&o));
}

#[test]
fn bad_input_is_a_clear_error() {
    let d = workdir();
    let p = d.path();
    let o = run(
        p,
        &[
            "pull",
            "--channel",
            "ftp://x/",
            "--root",
            "pinned-root.json",
            "--dir",
            "device",
            "--target",
            "linux-aarch64",
            "--pubkey",
            "mlgate.pub",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains("the scheme ftp:// is not supported"),
        "{}",
        text(&o)
    );
    let o = run(
        p,
        &[
            "pull",
            "--channel",
            "stable",
            "--root",
            "missing.json",
            "--dir",
            "device",
            "--target",
            "linux-aarch64",
            "--pubkey",
            "mlgate.pub",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(flat(&o).contains("missing.json"), "{}", text(&o));
    // Nothing listens on this port: the URL is named.
    let o = run(
        p,
        &[
            "pull",
            "--channel",
            "http://127.0.0.1:9/",
            "--root",
            "pinned-root.json",
            "--dir",
            "device",
            "--target",
            "linux-aarch64",
            "--timeout",
            "5",
            "--pubkey",
            "mlgate.pub",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(flat(&o).contains("http://127.0.0.1:9/"), "{}", text(&o));
    let o = run(p, &["device", "status", "--dir", "nowhere"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(flat(&o).contains("nowhere: no such folder"), "{}", text(&o));
    std::fs::create_dir(p.join("empty")).unwrap();
    let o = run(p, &["device", "rollback", "--dir", "empty"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        flat(&o).contains("not rolled back: nothing is installed in this folder"),
        "{}",
        text(&o)
    );
}

#[test]
fn the_channels_signed_rollback_is_followed() {
    let d = workdir();
    let p = d.path();
    publish(p, "1.0.0", "mlgate.key");
    publish(p, "1.1.0", "mlgate.key");
    let url = serve(&p.join("stable"));
    ok(
        p,
        &[
            "pull",
            "--channel",
            &url,
            "--root",
            "pinned-root.json",
            "--dir",
            "device",
            "--target",
            "linux-aarch64",
            "--pubkey",
            "mlgate.pub",
        ],
    );
    ok(
        p,
        &[
            "publish",
            "--channel",
            "stable",
            "--key",
            "channel.key",
            "--rollback-to",
            "1.0.0",
            "--model",
            "wine",
            "--reason",
            "field accuracy",
        ],
    );
    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(flat(&o).contains("installed wine 1.0.0"), "{}", text(&o));
    assert!(current(p).unwrap().starts_with("releases/1.0.0-"));
    assert_eq!(status(p)["state"]["previous"]["version"], "1.1.0");
}

/// Whether `current` points at a complete release: its record, archive and unpacked manifest are there.
fn current_is_complete(dir: &Path) -> bool {
    let rel = dir.join("device/current");
    ["release.json", "bundle.tar.gz", "files/manifest.json"]
        .iter()
        .all(|f| rel.join(f).is_file())
}

#[test]
fn a_crash_at_any_step_leaves_a_complete_release_and_the_next_pull_finishes() {
    let d = workdir();
    let p = d.path();
    publish(p, "1.0.0", "mlgate.key");
    let url = serve(&p.join("stable"));
    let health = [
        "--health-cmd",
        "test -f \"$MLGATE_RELEASE/files/manifest.json\"",
    ];
    assert_eq!(pull(p, &url, &health).status.code(), Some(0));
    let mut version = 0;
    for step in [
        "after-download",
        "after-verify",
        "after-place",
        "after-previous",
        "after-current",
        "after-state",
    ] {
        version += 1;
        let v = format!("1.{version}.0");
        publish(p, &v, "mlgate.key");
        let mut args = vec![
            "pull",
            "--channel",
            &url,
            "--root",
            "pinned-root.json",
            "--dir",
            "device",
            "--target",
            "linux-aarch64",
            "--pubkey",
            "mlgate.pub",
        ];
        args.extend_from_slice(&health);
        let o = mlgate()
            .current_dir(p)
            .args(&args)
            .env("MLGATE_DEVICE_FAULT", step)
            .output()
            .unwrap();
        // Killed: no exit code of mlgate's own.
        assert!(
            !matches!(o.status.code(), Some(0..=2)),
            "{step}: {}",
            text(&o)
        );
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(&format!("aborting {step}")),
            "{step}: {}",
            text(&o)
        );
        assert!(
            current_is_complete(p),
            "{step}: current is not a complete release"
        );
        let o = pull(p, &url, &health);
        assert_eq!(o.status.code(), Some(0), "{step}: {}", text(&o));
        assert!(
            current(p).unwrap().starts_with(&format!("releases/{v}-")),
            "{step}"
        );
        assert!(current_is_complete(p), "{step}");
        let st = status(p);
        assert_eq!(st["state"]["installed"]["version"], v.as_str(), "{step}");
        assert_eq!(st["state"]["pending_health"], false, "{step}");
        let leftovers: Vec<String> = std::fs::read_dir(p.join("device"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| {
                n.starts_with(".staging-") || n.starts_with(".trash-") || n.ends_with(".tmp-link")
            })
            .collect();
        assert!(leftovers.is_empty(), "{step}: {leftovers:?}");
    }
}

/// `systemd-analyze` (Debian's systemd package), or None when it is missing and not required.
fn systemd_analyze() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("systemd-analyze"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("MLGATE_REQUIRE_INTEROP").as_deref() != Ok("1"),
            "systemd-analyze is required (MLGATE_REQUIRE_INTEROP=1) but not on PATH: apt-get install systemd"
        );
        eprintln!("skipped: systemd-analyze is not on PATH (Debian's systemd package)");
    }
    found
}

#[test]
fn device_service_writes_units_that_systemd_accepts() {
    let d = workdir();
    let p = d.path();
    ok(p, &["keygen", "--algorithm", "p256", "--name", "oms"]);
    let o = ok(
        p,
        &[
            "device",
            "service",
            "--dir",
            "device",
            "--channel",
            "https://example.com/channels/stable",
            "--root",
            "pinned-root.json",
            "--pubkey",
            "mlgate.pub",
            "--target",
            "linux-aarch64",
            "--health-cmd",
            "mlgate run \"$MLGATE_BUNDLE\" --input /etc/mlgate/golden.npy",
            "--health-timeout",
            "2m",
            "--oms-pubkey",
            "oms.pub.pem",
            "--keep",
            "3",
            "--timeout",
            "90",
            "--expiry-grace",
            "1d",
            "--interval",
            "30min",
            "-o",
            "units",
        ],
    );
    assert!(
        flat(&o).contains("systemctl enable --now mlgate-pull.timer"),
        "{}",
        text(&o)
    );
    let service = std::fs::read_to_string(p.join("units/mlgate-pull.service")).unwrap();
    let dir = std::path::absolute(p.join("device")).unwrap();
    assert!(
        service.contains(&format!("ReadWritePaths=\"{}\"\n", dir.display())),
        "{service}"
    );
    assert!(service.contains("ProtectSystem=strict\n"), "{service}");
    assert!(
        service.contains(" \"--health-timeout\" \"120s\""),
        "{service}"
    );
    assert!(!service.contains("allow-unsigned-bundles"), "{service}");
    // Every pull option the service takes reaches `mlgate pull`, pinned keys as absolute paths.
    let oms = std::fs::canonicalize(p.join("oms.pub.pem")).unwrap();
    for passed in [
        format!(" \"--oms-pubkey\" \"{}\"", oms.display()),
        " \"--keep\" \"3\"".to_string(),
        " \"--timeout\" \"90\"".to_string(),
        " \"--expiry-grace\" \"86400s\"".to_string(),
    ] {
        assert!(service.contains(&passed), "{passed} in {service}");
    }
    assert!(service.contains("NoNewPrivileges=yes\n"), "{service}");
    assert!(
        service.contains("\"https://example.com/channels/stable\""),
        "{service}"
    );
    // The shell's variable stays literal for systemd ($$), the quotes inside the word escaped.
    assert!(
        service.contains(r#""mlgate run \"$$MLGATE_BUNDLE\" --input /etc/mlgate/golden.npy""#),
        "{service}"
    );
    let timer = std::fs::read_to_string(p.join("units/mlgate-pull.timer")).unwrap();
    assert!(timer.contains("OnUnitActiveSec=30min\n"), "{timer}");
    let Some(sa) = systemd_analyze() else {
        return;
    };
    let o = Command::new(sa)
        .current_dir(p.join("units"))
        .args(["verify", "./mlgate-pull.service", "./mlgate-pull.timer"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Unknown or bad settings are only warnings for systemd: there must be none.
    assert!(o.stderr.is_empty(), "{}", text(&o));

    let o = run(
        p,
        &[
            "device",
            "service",
            "--dir",
            "device",
            "--channel",
            "stable",
            "--root",
            "missing.json",
            "--pubkey",
            "mlgate.pub",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains("missing.json: No such file"),
        "{}",
        text(&o)
    ); // Fail closed: no bundle key, no service; unless said by name, then passed on to `mlgate pull`.
    let base = [
        "device",
        "service",
        "--dir",
        "device",
        "--channel",
        "stable",
        "--root",
        "pinned-root.json",
        "-o",
        "u2",
    ];
    let o = run(p, &base);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(flat(&o).contains("no --pubkey"), "{}", text(&o));
    let mut args = base.to_vec();
    args.push("--allow-unsigned-bundles");
    ok(p, &args);
    let service = std::fs::read_to_string(p.join("u2/mlgate-pull.service")).unwrap();
    assert!(
        service.contains(" \"--allow-unsigned-bundles\""),
        "{service}"
    );
}

#[test]
fn expired_metadata_is_refused_as_a_freeze() {
    let d = workdir();
    let p = d.path();
    // Published with a clock in the past: its targets, snapshot and timestamp expired long ago.
    bundle(p, "1.0.0", "mlgate.key");
    let o = mlgate()
        .current_dir(p)
        .args([
            "publish",
            "dist/wine-1.0.0-linux-aarch64.tar.gz",
            "--channel",
            "stable",
            "--key",
            "channel.key",
        ])
        .env("MLGATE_CHANNEL_NOW", "2020-01-01T00:00:00Z")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let url = serve(&p.join("stable"));
    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let f = flat(&o);
    assert!(f.contains("the channel's metadata was refused"), "{f}");
    assert!(f.to_lowercase().contains("expired"), "{f}");
    assert_eq!(current(p), None);
    // A grace is bounded: six years is beyond any.
    let o = pull(p, &url, &["--expiry-grace", "30d"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        flat(&o).contains("longer ago than the --expiry-grace of 2592000 s: refused"),
        "{}",
        text(&o)
    );
    let o = pull(p, &url, &["--expiry-grace", "31d"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains("the grace is at most 30d"),
        "{}",
        text(&o)
    );
}

#[test]
fn metadata_expired_within_the_grace_is_used_with_a_warning() {
    let d = workdir();
    let p = d.path();
    bundle(p, "1.0.0", "mlgate.key");
    // Published eight days ago: the timestamp (7 days) expired a day ago, the rest is valid.
    let then = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(8 * 24);
    let o = mlgate()
        .current_dir(p)
        .args([
            "publish",
            "dist/wine-1.0.0-linux-aarch64.tar.gz",
            "--channel",
            "stable",
            "--key",
            "channel.key",
        ])
        .env("MLGATE_CHANNEL_NOW", then.to_string())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let url = serve(&p.join("stable"));
    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = pull(p, &url, &["--expiry-grace", "2d"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let f = flat(&o);
    assert!(f.contains("warning: using expired metadata within the --expiry-grace of 172800 s (timestamp expired at"), "{f}");
    assert!(f.contains("installed wine 1.0.0"), "{f}");
    let o = pull(p, &url, &["--expiry-grace", "12h"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        flat(&o).contains("the channel's timestamp metadata expired at"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_server_that_never_answers_is_a_clear_error_after_the_timeout() {
    let d = workdir();
    let p = d.path();
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let o = pull(p, &url, &["--timeout", "1"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let f = flat(&o);
    assert!(f.contains(&url), "{f}");
    assert!(f.contains("nothing was installed"), "{f}");
    assert_eq!(current(p), None);
}

/// The first `rows` rows of a fixture table without its label column (the last): a self-test input.
fn golden_rows(table: &str, rows: usize, dest: &Path) {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models/data");
    let text = std::fs::read_to_string(data.join(table)).unwrap();
    let cut: String = text
        .lines()
        .take(rows + 1)
        .map(|l| format!("{}\n", &l[..l.rfind(',').unwrap()]))
        .collect();
    std::fs::write(dest, cut).unwrap();
}

/// Publishes `bundle` (in `dir`) to the channel `stable`.
fn publish_file(dir: &Path, bundle: &str) {
    ok(
        dir,
        &[
            "publish",
            bundle,
            "--channel",
            "stable",
            "--key",
            "channel.key",
        ],
    );
}

/// A signed bundle of `model` named wine at `version` whose self-test was computed with `selftest_model` (the
/// same model for an honest bundle). The library packs expected outputs it is given: they are data, signed
/// like the rest of the bundle.
fn bundle_with_selftest(
    dir: &Path,
    model: &Path,
    selftest_model: &Path,
    golden: &Path,
    version: &str,
) -> String {
    use mlgate::sign::{dsse::read_report, AttestOptions, KeyPair};
    let selftest = mlgate::edge::selftest::prepare(selftest_model, golden, 1e-4, 1e-4).unwrap();
    let described = mlgate::edge::describe::describe(model).unwrap();
    let report_path = dir.join("report.json");
    let built = mlgate::edge::build_bundle(&mlgate::edge::BundleOptions {
        model: model.to_path_buf(),
        name: "wine".into(),
        version: version.into(),
        target: mlgate::edge::Target::named("linux-aarch64").unwrap(),
        inputs: described.inputs,
        outputs: described.outputs,
        evaluable_by_tract: true,
        labels: vec![],
        preprocessing: None,
        report: Some((report_path.clone(), read_report(&report_path).unwrap())),
        signing: Some(mlgate::edge::bundle::Signing {
            key: KeyPair::load(&dir.join("mlgate.key")).unwrap(),
            attest: AttestOptions {
                paths: vec![],
                report: report_path,
                commit: "c0ffee1234".into(),
                repository: None,
                timestamp: 1_700_000_000,
                provenance: None,
            },
        }),
        precision: None,
        quantization: None,
        selftest: Some(selftest),
        oms_key: None,
    })
    .unwrap();
    std::fs::create_dir_all(dir.join("dist")).unwrap();
    let name = format!("dist/{}", built.file_name);
    std::fs::write(dir.join(&name), &built.bytes).unwrap();
    name
}

#[test]
fn a_self_test_that_fails_after_install_rolls_back_and_marks_the_release_bad() {
    let d = workdir();
    let p = d.path();
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models");
    let (forest, logreg) = (
        models.join("breast_cancer_forest.onnx"),
        models.join("breast_cancer_logreg.onnx"),
    );
    let golden = p.join("golden.csv");
    golden_rows("breast_cancer_test.csv", 6, &golden);
    // 1.0.0: the forest with its own self-test, packed by `mlgate bundle --selftest`.
    ok(
        p,
        &[
            "bundle",
            forest.to_str().unwrap(),
            "--target",
            "linux-aarch64",
            "--name",
            "wine",
            "--bundle-version",
            "1.0.0",
            "--report",
            "report.json",
            "-o",
            "dist",
            "--key",
            "mlgate.key",
            "--commit",
            "c0ffee1234",
            "--selftest",
            "golden.csv",
        ],
    );
    publish_file(p, "dist/wine-1.0.0-linux-aarch64.tar.gz");
    let url = serve(&p.join("stable"));
    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(status(p)["state"]["pending_health"], false);
    // 1.1.0: the logistic regression, carrying the forest's expected outputs: validly signed, published, and
    // wrong on the device.
    let b = bundle_with_selftest(p, &logreg, &forest, &golden, "1.1.0");
    publish_file(p, &b);
    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let f = flat(&o);
    assert!(
        f.contains(
            "rolled back: wine 1.1.0 failed its health check and is marked bad: self-test failed:"
        ),
        "{f}"
    );
    assert!(f.contains("worst difference"), "{f}");
    assert!(f.contains("at output "), "{f}");
    assert!(current(p).unwrap().starts_with("releases/1.0.0-"), "{f}");
    let s = status(p);
    let bad = s["state"]["known_bad"].as_array().unwrap();
    assert_eq!(bad.len(), 1, "{s}");
    assert!(
        bad[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("self-test failed"),
        "{s}"
    );
    // Never retried.
    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        flat(&o).contains("is marked bad on this device"),
        "{}",
        text(&o)
    );
    assert!(current(p).unwrap().starts_with("releases/1.0.0-"));
}

#[test]
fn a_self_test_that_crashes_its_process_rolls_back_and_is_not_retried() {
    // The device build aborts on a panic (panic = "abort"): a model that panics inside tract kills the process
    // running it. `MLGATE_DEVICE_FAULT=selftest` aborts the self-test's process the same way.
    let d = workdir();
    let p = d.path();
    let forest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/models/breast_cancer_forest.onnx");
    let golden = p.join("golden.csv");
    golden_rows("breast_cancer_test.csv", 6, &golden);
    let b = bundle_with_selftest(p, &forest, &forest, &golden, "1.0.0");
    publish_file(p, &b);
    let url = serve(&p.join("stable"));
    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // 1.1.0: honest, but its self-test's process dies: a failed health check, not a dead updater.
    let b = bundle_with_selftest(p, &forest, &forest, &golden, "1.1.0");
    publish_file(p, &b);
    let args = vec![
        "pull",
        "--channel",
        &url,
        "--root",
        "pinned-root.json",
        "--dir",
        "device",
        "--target",
        "linux-aarch64",
        "--pubkey",
        "mlgate.pub",
    ];
    let o = mlgate()
        .current_dir(p)
        .args(&args)
        .env("MLGATE_DEVICE_FAULT", "selftest")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let f = flat(&o);
    assert!(
        f.contains(
            "rolled back: wine 1.1.0 failed its health check and is marked bad: self-test failed: the process \
             running the model ended with signal: 6 (SIGABRT)"
        ),
        "{f}"
    );
    assert!(f.contains("MLGATE_DEVICE_FAULT: aborting selftest"), "{f}");
    assert!(current(p).unwrap().starts_with("releases/1.0.0-"), "{f}");
    let s = status(p);
    assert_eq!(s["state"]["pending_health"], false, "{s}");
    let bad = s["state"]["known_bad"].as_array().unwrap();
    assert_eq!(bad.len(), 1, "{s}");
    assert!(
        bad[0]["reason"].as_str().unwrap().contains("SIGABRT"),
        "{s}"
    );
    // The next pull (the fault gone) does not try it again: no crash loop.
    let o = run(p, &args);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        flat(&o).contains("is marked bad on this device"),
        "{}",
        text(&o)
    );
    assert!(current(p).unwrap().starts_with("releases/1.0.0-"));
    // The self-test's own process, as pull runs it: its line and exit code.
    let files = p.join("device").join(current(p).unwrap()).join("files");
    let o = run(p, &["device", "selftest", files.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "self-test passed\n");
    let o = run(p, &["device", "selftest", "no-such-folder"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        flat(&o).contains("the installed manifest cannot be read: no-such-folder/manifest.json"),
        "{}",
        text(&o)
    );
}

/// Whether process `pid` is gone (or a zombie nobody reaped yet: it runs no more).
fn process_is_gone(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn a_health_command_that_hangs_is_killed_at_the_timeout_and_rolled_back() {
    let d = workdir();
    let p = d.path();
    publish(p, "1.0.0", "mlgate.key");
    let url = serve(&p.join("stable"));
    ok(
        p,
        &[
            "pull",
            "--channel",
            &url,
            "--root",
            "pinned-root.json",
            "--dir",
            "device",
            "--target",
            "linux-aarch64",
            "--pubkey",
            "mlgate.pub",
        ],
    );
    publish(p, "1.1.0", "mlgate.key");
    // The shell starts a child that would outlive it, records its pid, and waits forever.
    let pid_file = p.join("child.pid");
    let cmd = format!("sleep 1000 & echo $! > {}; wait", pid_file.display());
    let o = pull(p, &url, &["--health-cmd", &cmd, "--health-timeout", "1s"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let f = flat(&o);
    assert!(
        f.contains(
            "did not finish within the --health-timeout of 1 s: its process group was killed"
        ),
        "{f}"
    );
    assert!(current(p).unwrap().starts_with("releases/1.0.0-"), "{f}");
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert!(
        process_is_gone(pid.trim()),
        "the health command's child {pid} still runs"
    );
    assert_eq!(status(p)["state"]["known_bad"].as_array().unwrap().len(), 1);
}

#[test]
fn without_a_pinned_bundle_key_nothing_is_installed_unless_allowed_by_name() {
    let d = workdir();
    let p = d.path();
    publish(p, "1.0.0", "mlgate.key");
    let base = [
        "pull",
        "--channel",
        "stable",
        "--root",
        "pinned-root.json",
        "--dir",
        "device",
        "--target",
        "linux-aarch64",
    ];
    let o = run(p, &base);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains("no --pubkey: a device installs only bundles signed by a pinned key"),
        "{}",
        text(&o)
    );
    assert!(!p.join("device").exists());
    let mut args = base.to_vec();
    args.push("--allow-unsigned-bundles");
    let o = ok(p, &args);
    assert!(
        flat(&o).contains("warning: UNSIGNED BUNDLES ALLOWED (--allow-unsigned-bundles)"),
        "{}",
        text(&o)
    );
}

/// Canonical JSON (OLPC), as TUF signs it: sorted keys, no whitespace.
fn canonical(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let items: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        serde_json::Value::from(k.as_str()),
                        canonical(&m[*k])
                    )
                })
                .collect();
            format!("{{{}}}", items.join(","))
        }
        serde_json::Value::Array(a) => {
            format!(
                "[{}]",
                a.iter().map(canonical).collect::<Vec<_>>().join(",")
            )
        }
        other => other.to_string(),
    }
}

/// Re-signs `role.json` in `channel` with `version`, signed by `key` (the role's key, as an attacker holding it
/// would).
fn forge_version(channel: &Path, role: &str, version: u64, key: &Path) {
    let path = channel.join(format!("{role}.json"));
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    meta["signed"]["version"] = version.into();
    let key = mlgate::sign::KeyPair::load(key).unwrap();
    let sig = key.sign(canonical(&meta["signed"]).as_bytes());
    let hex: String = sig.iter().map(|b| format!("{b:02x}")).collect();
    meta["signatures"][0]["sig"] = hex.into();
    std::fs::write(&path, serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn mix_and_match_metadata_is_refused() {
    let d = workdir();
    let p = d.path();
    publish(p, "1.0.0", "mlgate.key");
    let url = serve(&p.join("stable"));
    assert_eq!(pull(p, &url, &[]).status.code(), Some(0));
    publish(p, "1.1.0", "mlgate.key");
    let ch = p.join("stable");
    // The timestamp names snapshot 3; a mirror serves snapshot 2's (validly signed) content under that name.
    let snapshot = std::fs::read(ch.join("3.snapshot.json")).unwrap();
    std::fs::copy(ch.join("2.snapshot.json"), ch.join("3.snapshot.json")).unwrap();
    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let f = flat(&o);
    assert!(f.contains("refused: nothing was installed"), "{f}");
    assert!(f.contains("the channel's metadata was refused"), "{f}");
    assert!(f.contains("snapshot"), "{f}");
    assert!(current(p).unwrap().starts_with("releases/1.0.0-"));
    // The snapshot names targets 3; the mirror serves targets 2's content under that name.
    std::fs::write(ch.join("3.snapshot.json"), snapshot).unwrap();
    std::fs::copy(ch.join("2.targets.json"), ch.join("3.targets.json")).unwrap();
    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let f = flat(&o);
    assert!(f.contains("the channel's metadata was refused"), "{f}");
    assert!(f.contains("targets"), "{f}");
    assert!(current(p).unwrap().starts_with("releases/1.0.0-"));
}

#[test]
fn a_fast_forwarded_timestamp_is_recovered_from_after_the_key_rotates() {
    let d = workdir();
    let p = d.path();
    ok(p, &["keygen", "--name", "timestamp2"]);
    publish(p, "1.0.0", "mlgate.key");
    // An attacker holding the timestamp key serves version 1000 from a mirror; the device takes it (it is
    // validly signed), and from then on refuses the genuine, lower versions.
    let mirror = p.join("mirror");
    copy_dir(&p.join("stable"), &mirror);
    forge_version(&mirror, "timestamp", 1000, &p.join("channel.key"));
    let o = pull(p, &serve(&mirror), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let url = serve(&p.join("stable"));
    publish(p, "1.1.0", "mlgate.key");
    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        flat(&o).contains("previously fetched version 1000"),
        "{}",
        text(&o)
    );
    // The publisher recovers: a new timestamp (and snapshot) key in a new root. TUF 5.3.11: a device that sees
    // these keys change forgets its trusted timestamp and snapshot, so the genuine versions count again.
    ok(
        p,
        &[
            "channel",
            "rotate",
            "--dir",
            "stable",
            "--key",
            "channel.key",
            "--timestamp-key",
            "timestamp2.key",
            "--snapshot-key",
            "timestamp2.key",
        ],
    );
    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        current(p).unwrap().starts_with("releases/1.1.0-"),
        "{}",
        text(&o)
    );
    let ts: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p.join("device/tuf/timestamp.json")).unwrap())
            .unwrap();
    assert!(ts["signed"]["version"].as_u64().unwrap() < 1000, "{ts}");
}

/// A tmpfs mounted on a folder for one test, unmounted when dropped.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Mounts a tmpfs of `size` on `dir`; None (the test skips, saying why) when mounting is not permitted here,
/// a failure when MLGATE_REQUIRE_INTEROP=1.
fn tmpfs(dir: &Path, size: &str) -> Option<Mount> {
    std::fs::create_dir_all(dir).unwrap();
    let o = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            &format!("size={size},mode=0755"),
            "tmpfs",
        ])
        .arg(dir)
        .output();
    match o {
        Ok(o) if o.status.success() => Some(Mount(dir.to_path_buf())),
        other => {
            let why = match other {
                Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
                Err(e) => e.to_string(),
            };
            assert!(
                std::env::var("MLGATE_REQUIRE_INTEROP").as_deref() != Ok("1"),
                "mounting a tmpfs is required (MLGATE_REQUIRE_INTEROP=1) but failed: {why}"
            );
            eprintln!("skipped: cannot mount a tmpfs here ({why}); run as root to test full and read-only disks");
            None
        }
    }
}

/// The folders under `device/` that hold a pull in progress or a release.
fn leftovers(dir: &Path) -> (Vec<String>, Vec<String>) {
    let names = |d: PathBuf| -> Vec<String> {
        std::fs::read_dir(d)
            .map(|r| {
                r.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let staging = names(dir.join("device"))
        .into_iter()
        .filter(|n| n.starts_with(".staging"))
        .collect();
    (staging, names(dir.join("device/releases")))
}

#[test]
fn a_full_disk_is_a_clear_error_and_nothing_is_half_installed() {
    let d = workdir();
    let p = d.path();
    publish(p, "1.0.0", "mlgate.key");
    let Some(_mount) = tmpfs(&p.join("device"), "1m") else {
        return;
    };
    let url = serve(&p.join("stable"));
    assert_eq!(pull(p, &url, &[]).status.code(), Some(0));
    publish(p, "1.1.0", "mlgate.key");
    // Fill the disk, then free a little: room for the metadata, not for a release.
    let filler = p.join("device/filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let chunk = vec![0u8; 4096];
    while f.write_all(&chunk).and_then(|()| f.flush()).is_ok() {}
    let len = f.metadata().unwrap().len();
    f.set_len(len.saturating_sub(12 * 1024)).unwrap();
    drop(f);
    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(flat(&o).contains("No space left on device"), "{}", text(&o));
    assert!(
        current(p).unwrap().starts_with("releases/1.0.0-"),
        "{}",
        text(&o)
    );
    assert!(current_is_complete(p));
    let (staging, releases) = leftovers(p);
    assert!(staging.is_empty(), "{staging:?}");
    assert_eq!(releases.len(), 1, "{releases:?}");
    // With room again, the next pull finishes.
    std::fs::remove_file(&filler).unwrap();
    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(current(p).unwrap().starts_with("releases/1.1.0-"));
}

#[test]
fn a_read_only_device_folder_is_a_clear_error() {
    let d = workdir();
    let p = d.path();
    publish(p, "1.0.0", "mlgate.key");
    let Some(_mount) = tmpfs(&p.join("device"), "4m") else {
        return;
    };
    let url = serve(&p.join("stable"));
    assert_eq!(pull(p, &url, &[]).status.code(), Some(0));
    publish(p, "1.1.0", "mlgate.key");
    let remount = Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(p.join("device"))
        .status()
        .unwrap();
    assert!(remount.success());
    let o = pull(p, &url, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(flat(&o).contains("Read-only file system"), "{}", text(&o));
    assert!(
        current(p).unwrap().starts_with("releases/1.0.0-"),
        "{}",
        text(&o)
    );
    assert!(current_is_complete(p));
}

#[test]
fn a_pull_with_the_oms_key_pinned_installs_and_another_oms_key_is_refused() {
    let d = workdir();
    let p = d.path();
    for name in ["oms", "other-oms"] {
        ok(p, &["keygen", "--algorithm", "p256", "--name", name]);
    }
    ok(
        p,
        &[
            "bundle",
            model().to_str().unwrap(),
            "--target",
            "linux-aarch64",
            "--name",
            "wine",
            "--bundle-version",
            "1.0.0",
            "--report",
            "report.json",
            "-o",
            "dist",
            "--key",
            "mlgate.key",
            "--commit",
            "c0ffee1234",
            "--oms-key",
            "oms.key",
        ],
    );
    publish_file(p, "dist/wine-1.0.0-linux-aarch64.tar.gz");
    let o = pull(p, "stable", &["--oms-pubkey", "other-oms.pub.pem"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        flat(&o).contains("models/wine_logreg.onnx.sig: signed by another key"),
        "{}",
        text(&o)
    );
    assert_eq!(current(p), None);
    let o = pull(p, "stable", &["--oms-pubkey", "oms.pub.pem"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let release = std::fs::canonicalize(p.join("device/current")).unwrap();
    assert!(
        release.join("files/models/wine_logreg.onnx.sig").is_file(),
        "{}",
        text(&o)
    );
}
