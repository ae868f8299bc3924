//! Release channels: `mlgate channel init|refresh|status` and `mlgate publish` on real signed bundles, the
//! refusals, bad input, and crashes between metadata writes (the channel still reads through tough's client).

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::{flat, mlgate, model, ok, run, text};

/// A folder with the bundle signing key (mlgate.key), the channel's key (channel.key), another key (other.key)
/// and a passing report.
fn workdir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for name in ["mlgate", "channel", "other"] {
        ok(d.path(), &["keygen", "--name", name]);
    }
    let report = serde_json::json!({"version": 1, "verdict": "pass", "checks": [{
        "id": "wine/metric", "kind": "metric", "subject": "wine", "status": "pass", "summary": "",
        "figures": {"metrics": [{"name": "accuracy", "value": 0.9777}]}, "findings": []}]});
    std::fs::write(d.path().join("report.json"), report.to_string()).unwrap();
    d
}

/// A bundle of the wine model at `version`, signed with `key` (None: unsigned), in `dist/`.
fn bundle(dir: &Path, version: &str, key: Option<&str>) -> PathBuf {
    let mut args: Vec<String> = vec![
        "bundle".into(),
        model().display().to_string(),
        "--target".into(),
        "linux-aarch64".into(),
        "--name".into(),
        "wine".into(),
        "--bundle-version".into(),
        version.into(),
        "--report".into(),
        "report.json".into(),
        "-o".into(),
        "dist".into(),
    ];
    if let Some(k) = key {
        args.extend([
            "--key".into(),
            k.into(),
            "--commit".into(),
            "c0ffee1234".into(),
        ]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(dir, &args);
    dir.join(format!("dist/wine-{version}-linux-aarch64.tar.gz"))
}

fn init(dir: &Path) {
    let o = ok(
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
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("root.json sha256 "), "{out}");
    assert!(out.contains("pin it on devices"), "{out}");
}

fn publish(dir: &Path, bundle: &Path) -> Output {
    run(
        dir,
        &[
            "publish",
            bundle.to_str().unwrap(),
            "--channel",
            "stable",
            "--key",
            "channel.key",
        ],
    )
}

fn status_json(dir: &Path) -> serde_json::Value {
    let o = ok(
        dir,
        &["channel", "status", "--dir", "stable", "--format", "json"],
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Loads the channel as a device would: tough's client, expiry enforced, trusting the first root.
fn tough_targets(channel: &Path) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let root = std::fs::read(channel.join("1.root.json")).unwrap();
    let dir = std::fs::canonicalize(channel).unwrap();
    let repo = rt
        .block_on(
            tough::RepositoryLoader::new(
                &root,
                url::Url::from_directory_path(&dir).unwrap(),
                url::Url::from_directory_path(dir.join("targets")).unwrap(),
            )
            .transport(tough::FilesystemTransport)
            .load(),
        )
        .unwrap_or_else(|e| panic!("tough cannot load the channel: {e}"));
    let mut names: Vec<String> = repo
        .all_targets()
        .map(|(n, _)| n.raw().to_string())
        .collect();
    names.sort();
    // Every target downloads and matches its hash and length (tough checks both while reading).
    for (name, _) in repo.all_targets() {
        let bytes = rt.block_on(async {
            let stream = repo.read_target(name).await.unwrap().unwrap();
            tough::IntoVec::into_vec(stream).await
        });
        assert!(bytes.is_ok(), "{}: {bytes:?}", name.raw());
    }
    names
}

#[test]
fn publish_refresh_status_and_rollback() {
    let d = workdir();
    let p = d.path();
    init(p);
    for f in [
        "root.json",
        "1.root.json",
        "1.targets.json",
        "1.snapshot.json",
        "timestamp.json",
        "mlgate-channel.json",
    ] {
        assert!(p.join("stable").join(f).is_file(), "{f}");
    }
    assert!(tough_targets(&p.join("stable")).is_empty());

    let v1 = bundle(p, "1.0.0", Some("mlgate.key"));
    let o = publish(p, &v1);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("published wine-1.0.0-linux-aarch64.tar.gz: wine 1.0.0 for linux-aarch64 (commit c0ffee1234, sequence 1)"), "{}", text(&o));
    let v2 = bundle(p, "1.1.0", Some("mlgate.key"));
    assert_eq!(publish(p, &v2).status.code(), Some(0));
    assert_eq!(
        tough_targets(&p.join("stable")),
        [
            "wine-1.0.0-linux-aarch64.tar.gz",
            "wine-1.1.0-linux-aarch64.tar.gz"
        ]
    );
    // The targets carry mlgate's custom metadata, as any TUF client shows it.
    let targets: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p.join("stable/3.targets.json")).unwrap()).unwrap();
    let custom =
        &targets["signed"]["targets"]["wine-1.1.0-linux-aarch64.tar.gz"]["custom"]["mlgate"];
    assert_eq!(custom["model"], "wine");
    assert_eq!(custom["version"], "1.1.0");
    assert_eq!(custom["target"], "linux-aarch64");
    assert_eq!(custom["verdict"], "pass");
    assert_eq!(custom["commit"], "c0ffee1234");
    assert_eq!(custom["sequence"], 2);
    assert_eq!(custom["manifest_sha256"].as_str().unwrap().len(), 64);

    let st = status_json(p);
    assert_eq!(st["models"][0]["current"], "1.1.0");
    assert_eq!(st["roles"][1]["role"], "targets");
    assert_eq!(st["roles"][1]["version"], 3);

    // Going back explicitly: a new targets version whose current entry is 1.0.0, with the reason recorded.
    let o = run(
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
            "accuracy drop in the field",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let st = status_json(p);
    assert_eq!(st["models"][0]["current"], "1.0.0");
    let last = &st["models"][0]["versions"][1];
    assert_eq!(last["version"], "1.0.0");
    assert_eq!(last["sequence"], 3);
    assert_eq!(last["rollback"]["from"], "1.1.0");
    assert_eq!(last["rollback"]["reason"], "accuracy drop in the field");
    assert_eq!(st["roles"][1]["version"], 4);

    // Rollbacks that are not: a version the channel lacks, one that is not older, no reason.
    for (version, reason, expect) in [
        (
            "0.9.0",
            "x",
            "wine 0.9.0 for linux-aarch64 is not in the channel (it has 1.0.0, 1.1.0)",
        ),
        (
            "1.1.0",
            "x",
            "wine 1.1.0 is not older than the current 1.0.0",
        ),
        ("1.0.0", " ", "--rollback-to needs --reason TEXT"),
    ] {
        let o = run(
            p,
            &[
                "publish",
                "--channel",
                "stable",
                "--key",
                "channel.key",
                "--rollback-to",
                version,
                "--model",
                "wine",
                "--reason",
                reason,
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(flat(&o).contains(expect), "{}", text(&o));
    }

    // refresh re-signs the timestamp only (the snapshot outlives it), with the timestamp key alone.
    let o = ok(
        p,
        &[
            "channel",
            "refresh",
            "--dir",
            "stable",
            "--key",
            "channel.key",
        ],
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("timestamp version 5"),
        "{}",
        text(&o)
    );
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("snapshot"),
        "{}",
        text(&o)
    );
    assert_eq!(tough_targets(&p.join("stable")).len(), 2);

    // status: 0 while nothing expires within the window, 1 when the timestamp (7 days) does.
    ok(p, &["channel", "status", "--dir", "stable"]);
    let o = run(
        p,
        &[
            "channel",
            "status",
            "--dir",
            "stable",
            "--warn-within",
            "8d",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        flat(&o).contains("expiring within 8d: timestamp expires at"),
        "{}",
        text(&o)
    );
    assert!(
        flat(&o).contains("wine for linux-aarch64: current 1.0.0"),
        "{}",
        text(&o)
    );
}

#[test]
fn refresh_resigns_the_snapshot_when_it_would_expire_first() {
    let d = workdir();
    let p = d.path();
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
            "--snapshot-expires",
            "1d",
            "--timestamp-expires",
            "2d",
        ],
    );
    let o = ok(
        p,
        &[
            "channel",
            "refresh",
            "--dir",
            "stable",
            "--key",
            "channel.key",
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("snapshot version 2"), "{out}");
    assert!(out.contains("timestamp version 2"), "{out}");
    assert!(p.join("stable/2.snapshot.json").is_file());
    tough_targets(&p.join("stable"));
}

#[test]
fn bundles_that_are_not_approved_are_refused() {
    let d = workdir();
    let p = d.path();
    init(p);
    // Unsigned.
    let unsigned = bundle(p, "1.0.0", None);
    let o = publish(p, &unsigned);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(flat(&o).contains("not approved"), "{}", text(&o));
    assert!(
        flat(&o).contains("a signed bundle starts with its signed file list"),
        "{}",
        text(&o)
    );
    assert!(flat(&o).contains("nothing was published"), "{}", text(&o));
    // Unsigned and without a gate report (the gate check itself is a unit test in src/channel/publish.rs).
    std::fs::remove_dir_all(p.join("dist")).unwrap();
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
            "-o",
            "dist",
        ],
    );
    let o = publish(p, &unsigned);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        flat(&o).contains("a signed bundle starts with its signed file list"),
        "{}",
        text(&o)
    );
    // Signed by a key the channel does not pin.
    std::fs::remove_dir_all(p.join("dist")).unwrap();
    let other = bundle(p, "1.0.0", Some("other.key"));
    let o = publish(p, &other);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(flat(&o).contains("signature check failed"), "{}", text(&o));
    // A version going backwards, or the same version again.
    std::fs::remove_dir_all(p.join("dist")).unwrap();
    let v2 = bundle(p, "2.0.0", Some("mlgate.key"));
    assert_eq!(publish(p, &v2).status.code(), Some(0));
    for v in ["1.9.0", "2.0.0"] {
        let b = bundle(p, v, Some("mlgate.key"));
        let o = publish(p, &b);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            flat(&o).contains(&format!(
                "version {v} of wine for linux-aarch64 is not newer than 2.0.0"
            )),
            "{}",
            text(&o)
        );
    }
    // Several versions in one publish go in version order, whatever order they are given in.
    let v10 = bundle(p, "2.10.0", Some("mlgate.key"));
    let v9 = bundle(p, "2.9.0", Some("mlgate.key"));
    let o = run(
        p,
        &[
            "publish",
            v10.to_str().unwrap(),
            v9.to_str().unwrap(),
            "--channel",
            "stable",
            "--key",
            "channel.key",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        out.find("wine 2.9.0").unwrap() < out.find("wine 2.10.0").unwrap(),
        "{out}"
    );
    // A tampered bundle: its digests no longer match.
    let mut bytes = std::fs::read(&v2).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    let tampered = p.join("wine-3.0.0-linux-aarch64.tar.gz");
    std::fs::write(&tampered, bytes).unwrap();
    let o = publish(p, &tampered);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    // Nothing of the refused bundles reached the channel.
    assert_eq!(
        tough_targets(&p.join("stable")),
        [
            "wine-2.0.0-linux-aarch64.tar.gz",
            "wine-2.10.0-linux-aarch64.tar.gz",
            "wine-2.9.0-linux-aarch64.tar.gz"
        ]
    );
}

#[test]
fn a_channel_for_other_targets_refuses_the_bundle() {
    let d = workdir();
    let p = d.path();
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
            "--target",
            "linux-x86_64",
        ],
    );
    let b = bundle(p, "1.0.0", Some("mlgate.key"));
    let o = publish(p, &b);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        flat(&o).contains("the channel serves linux-x86_64, not linux-aarch64"),
        "{}",
        text(&o)
    );
    let o = run(
        p,
        &[
            "channel",
            "init",
            "--dir",
            "other",
            "--key",
            "channel.key",
            "--bundle-pubkey",
            "mlgate.pub",
            "--target",
            "amiga-68k",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(flat(&o).contains("amiga-68k"), "{}", text(&o));
}

#[test]
fn bad_channels_and_keys_are_clear_errors() {
    let d = workdir();
    let p = d.path();
    let b = bundle(p, "1.0.0", Some("mlgate.key"));
    // No channel there.
    let o = publish(p, &b);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains("stable: not a release channel: no such folder"),
        "{}",
        text(&o)
    );
    init(p);
    // Made twice.
    let o = run(
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
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains("already holds mlgate-channel.json"),
        "{}",
        text(&o)
    );
    // The wrong key for the roles.
    let o = run(
        p,
        &[
            "publish",
            b.to_str().unwrap(),
            "--channel",
            "stable",
            "--key",
            "other.key",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains("the targets role needs 1 signature(s) by its keys"),
        "{}",
        text(&o)
    );
    assert!(flat(&o).contains("the keys given make 0:"), "{}", text(&o));
    assert!(flat(&o).contains("(other.key)"), "{}", text(&o));
    // No key at all.
    let o = run(p, &["publish", b.to_str().unwrap(), "--channel", "stable"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains("the keys given make 0: no key was given"),
        "{}",
        text(&o)
    );
    // Another writer holds the channel's lock.
    let lock = std::fs::File::open(p.join("stable/.mlgate-lock"))
        .or_else(|_| std::fs::File::create(p.join("stable/.mlgate-lock")))
        .unwrap();
    lock.lock().unwrap();
    let o = publish(p, &b);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains("another mlgate is writing this channel"),
        "{}",
        text(&o)
    );
    lock.unlock().unwrap();
    // Malformed metadata.
    let ts = p.join("stable/timestamp.json");
    let good = std::fs::read(&ts).unwrap();
    std::fs::write(&ts, b"{\"signed\": 1").unwrap();
    let o = publish(p, &b);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains("the channel's metadata does not load"),
        "{}",
        text(&o)
    );
    // A timestamp signed by a key the root does not name.
    let mut v: serde_json::Value = serde_json::from_slice(&good).unwrap();
    v["signatures"][0]["sig"] = serde_json::json!("00".repeat(64));
    std::fs::write(&ts, serde_json::to_vec(&v).unwrap()).unwrap();
    let o = run(p, &["channel", "status", "--dir", "stable"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(flat(&o).contains("does not load"), "{}", text(&o));
    std::fs::write(&ts, &good).unwrap();
    // A broken settings file.
    std::fs::write(
        p.join("stable/mlgate-channel.json"),
        b"{\"version\": 1,\n  \"nme\": 2}",
    )
    .unwrap();
    let o = run(p, &["channel", "status", "--dir", "stable"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains("mlgate-channel.json: the channel's metadata does not load: line 2"),
        "{}",
        text(&o)
    );
}

#[test]
fn an_expired_root_stops_publishing() {
    let d = workdir();
    let p = d.path();
    let o = mlgate()
        .current_dir(p)
        .env("MLGATE_CHANNEL_NOW", "2020-01-01T00:00:00Z")
        .args([
            "channel",
            "init",
            "--dir",
            "stable",
            "--key",
            "channel.key",
            "--bundle-pubkey",
            "mlgate.pub",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let b = bundle(p, "1.0.0", Some("mlgate.key"));
    let o = publish(p, &b);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains("the root expired at 2020-12-31T00:00:00Z"),
        "{}",
        text(&o)
    );
    let o = run(p, &["channel", "status", "--dir", "stable"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(flat(&o).contains("EXPIRED"), "{}", text(&o));
}

/// A crash after targets, or after snapshot, leaves the channel as it was for clients; the next publish works.
#[test]
fn a_crash_between_metadata_writes_leaves_a_consistent_channel() {
    let d = workdir();
    let p = d.path();
    init(p);
    let v1 = bundle(p, "1.0.0", Some("mlgate.key"));
    assert_eq!(publish(p, &v1).status.code(), Some(0));
    for (i, fault) in ["after-targets", "after-snapshot"].iter().enumerate() {
        let version = format!("1.{}.0", i + 1);
        let b = bundle(p, &version, Some("mlgate.key"));
        let o = mlgate()
            .current_dir(p)
            .env("MLGATE_CHANNEL_FAULT", fault)
            .args([
                "publish",
                b.to_str().unwrap(),
                "--channel",
                "stable",
                "--key",
                "channel.key",
            ])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), None, "killed by SIGABRT: {}", text(&o));
        assert!(
            flat(&o).contains("MLGATE_CHANNEL_FAULT: aborting after"),
            "{}",
            text(&o)
        );
        // Clients still see the channel before the publish, whole and verified.
        let names = tough_targets(&p.join("stable"));
        assert_eq!(names.len(), 1 + i, "{fault}: {names:?}");
        // Publishing again finishes the job (the half-written version is replaced).
        let o = publish(p, &b);
        assert_eq!(o.status.code(), Some(0), "{fault}: {}", text(&o));
        assert_eq!(tough_targets(&p.join("stable")).len(), 2 + i);
    }
}
