//! `mlgate publish --github OWNER/REPO --tag TAG` against a local fake GitHub: wiremock servers for the API, the
//! upload host and the storage host asset downloads are redirected to, sharing one in-memory state and answering
//! with the payloads GitHub documents (tests/resources/github/release.json, release_asset.json,
//! already_exists.json). Each test seeds the state and its faults, publishes through the library (so retry waits
//! are recorded, never slept) or the binary, and checks the requests the fake received (methods, paths, bodies,
//! headers) and what the channel holds. Devices (mlgate pull, python-tuf) then fetch from the release.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mlgate::channel::github::GithubRelease;
use mlgate::channel::{PublishOptions, Published};
use mlgate::github::{Client, RetryPolicy, Token};
use serde_json::{json, Value};
use wiremock::{MockServer, Request};

#[path = "common/fake_github.rs"]
mod fake_github;
use fake_github::*;

/// A workdir with keys, a channel and one signed bundle (with a `.minisig` sidecar next to it).
struct Setup {
    dir: tempfile::TempDir,
    bundle: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let dir = common::workdir();
        common::init_channel(dir.path());
        let bundle = common::bundle(dir.path(), "1.0.0");
        common::ok(
            dir.path(),
            &["sign", bundle.to_str().unwrap(), "--key", "mlgate.key"],
        );
        Setup { dir, bundle }
    }

    fn channel(&self) -> PathBuf {
        self.dir.path().join("stable")
    }

    fn bundle_bytes(&self) -> Vec<u8> {
        std::fs::read(&self.bundle).unwrap()
    }

    fn asset(&self) -> String {
        format!(
            "{}.wine-1.0.0-linux-aarch64.tar.gz",
            sha256(&self.bundle_bytes())
        )
    }

    /// The files a publish uploads, by asset name: the bundle, its signature and SHA256SUMS.
    fn expected_assets(&self) -> BTreeMap<String, Vec<u8>> {
        let bundle = self.bundle_bytes();
        let sig = std::fs::read(format!("{}.minisig", self.bundle.display())).unwrap();
        let asset = self.asset();
        let mut sums = [
            (asset.clone(), sha256(&bundle)),
            (format!("{asset}.minisig"), sha256(&sig)),
        ];
        sums.sort();
        let sums: String = sums.iter().map(|(n, h)| format!("{h}  {n}\n")).collect();
        BTreeMap::from([
            (asset.clone(), bundle),
            (format!("{asset}.minisig"), sig),
            ("SHA256SUMS".to_string(), sums.into_bytes()),
        ])
    }

    fn publish(&self, fake: &Fake, waits: &Arc<Mutex<Vec<Duration>>>) -> Result<Published, String> {
        let policy = RetryPolicy {
            record_waits: Some(waits.clone()),
            ..RetryPolicy::default()
        };
        let client = Client::with_upload_url(
            &fake.api.uri(),
            &fake.uploads.uri(),
            &Token::new(TOKEN).unwrap(),
            policy,
        )
        .unwrap();
        let key = mlgate::sign::KeyPair::load(&self.dir.path().join("channel.key")).unwrap();
        let keys = vec![mlgate::channel::keys::LoadedKey::new(&key, "channel.key").unwrap()];
        mlgate::channel::publish(PublishOptions {
            dir: self.channel(),
            bundles: vec![self.bundle.clone()],
            keys,
            github: Some(GithubRelease {
                client,
                repo: REPO.into(),
                tag: TAG.into(),
            }),
        })
        .map_err(|e| e.to_string())
    }

    /// The channel's newest targets version and its targets.
    fn targets(&self) -> (u64, Value) {
        let mut best = (0, Value::Null);
        for e in std::fs::read_dir(self.channel()).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().to_string();
            if let Some(v) = name.strip_suffix(".targets.json") {
                let v: u64 = v.parse().unwrap();
                if v > best.0 {
                    let t: Value =
                        serde_json::from_slice(&std::fs::read(self.channel().join(&name)).unwrap())
                            .unwrap();
                    best = (v, t["signed"]["targets"].clone());
                }
            }
        }
        best
    }
}

fn added(p: Result<Published, String>) -> u64 {
    match p {
        Ok(Published::Added {
            targets_version, ..
        }) => targets_version,
        other => panic!("expected the bundle published, got {other:?}"),
    }
}

fn conflict(p: Result<Published, String>) -> Vec<String> {
    match p {
        Ok(Published::ReleaseConflict { problems, .. }) => problems,
        other => panic!("expected a release conflict, got {other:?}"),
    }
}

/// The release holds exactly the expected assets, uploaded, with their bytes.
fn assert_assets(fake: &Fake, setup: &Setup) {
    let r = fake.release();
    let got: BTreeMap<String, Vec<u8>> = r
        .assets
        .iter()
        .map(|a| {
            assert_eq!(a.state, "uploaded", "{}", a.name);
            (a.name.clone(), a.bytes.clone())
        })
        .collect();
    assert_eq!(got.len(), r.assets.len(), "duplicate asset names");
    assert_eq!(got, setup.expected_assets());
}

#[test]
fn a_new_release_is_drafted_uploaded_streamed_published_then_the_channel_written() {
    let fake = Fake::new();
    let setup = Setup::new();
    let waits = Arc::new(Mutex::new(Vec::new()));
    let v = added(setup.publish(&fake, &waits));
    assert_eq!(v, 2);

    let release = fake.release();
    assert!(!release.draft);
    assert_assets(&fake, &setup);
    let asset = setup.asset();
    let id = release.id;
    // The order: find (list), create a draft, list its assets, upload, publish, list again.
    let api = fake.calls(&fake.api);
    assert_eq!(
        api,
        vec![
            format!("GET /repos/{REPO}/releases?per_page=100"),
            format!("POST /repos/{REPO}/releases"),
            format!("GET /repos/{REPO}/releases/{id}/assets?per_page=100"),
            format!("PATCH /repos/{REPO}/releases/{id}"),
            format!("GET /repos/{REPO}/releases/{id}/assets?per_page=100"),
        ]
    );
    let reqs = fake.requests(&fake.api);
    let created: Value = serde_json::from_slice(&reqs[1].body).unwrap();
    assert_eq!(created["tag_name"], TAG);
    assert_eq!(created["draft"], true);
    let patched: Value = serde_json::from_slice(&reqs[3].body).unwrap();
    assert_eq!(patched, json!({"draft": false}));
    // Uploads go to the upload host, one POST per file, with the token, Content-Length and the file's bytes.
    let uploads = fake.requests(&fake.uploads);
    let names: Vec<String> = uploads.iter().map(|r| query(r, "name").unwrap()).collect();
    assert_eq!(
        names,
        vec![
            asset.clone(),
            format!("{asset}.minisig"),
            "SHA256SUMS".into()
        ]
    );
    for r in &uploads {
        assert_eq!(r.method.as_str(), "POST");
        assert_eq!(r.url.path(), format!("/repos/{REPO}/releases/{id}/assets"));
        assert_eq!(
            r.headers.get("authorization").unwrap().to_str().unwrap(),
            format!("Bearer {TOKEN}")
        );
        let len: usize = r
            .headers
            .get("content-length")
            .unwrap()
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(len, r.body.len());
    }
    assert_eq!(uploads[0].body, setup.bundle_bytes());
    assert_eq!(
        uploads[0].headers.get("content-type").unwrap(),
        "application/octet-stream"
    );

    // The target records the published release's download URL; the bundle is not copied into targets/.
    let (_, targets) = setup.targets();
    let t = &targets["wine-1.0.0-linux-aarch64.tar.gz"];
    assert_eq!(
        t["custom"]["mlgate"]["url"],
        format!("https://github.com/{REPO}/releases/download/{TAG}/{asset}")
    );
    assert_eq!(t["hashes"]["sha256"], sha256(&setup.bundle_bytes()));
    assert!(!setup.channel().join("targets").join(&asset).exists());
    assert!(waits.lock().unwrap().is_empty());
}

#[test]
fn a_rerun_after_a_crash_between_upload_and_publish_uploads_nothing_twice() {
    let fake = Fake::new();
    let setup = Setup::new();
    let waits = Arc::new(Mutex::new(Vec::new()));
    fake.with(|s| s.fail_publish = true);
    let e = setup.publish(&fake, &waits).unwrap_err();
    assert!(e.contains("HTTP 500"), "{e}");
    // The channel was not written: its targets are still version 1.
    assert_eq!(setup.targets().0, 1);
    assert!(fake.release().draft);
    let first_uploads = fake.calls(&fake.uploads).len();
    assert_eq!(first_uploads, 3);

    fake.with(|s| s.fail_publish = false);
    assert_eq!(added(setup.publish(&fake, &waits)), 2);
    // No new release, no new upload: the draft the first run left is found, its assets kept, then published.
    assert_eq!(fake.calls(&fake.uploads).len(), first_uploads);
    let posts = fake
        .calls(&fake.api)
        .iter()
        .filter(|c| c.starts_with("POST "))
        .count();
    assert_eq!(posts, 1);
    assert_eq!(fake.with(|s| s.releases.len()), 1);
    assert!(!fake.release().draft);
    assert_assets(&fake, &setup);
}

#[test]
fn a_502_mid_upload_is_retried_and_the_starter_asset_it_left_is_replaced() {
    let fake = Fake::new();
    let setup = Setup::new();
    let waits = Arc::new(Mutex::new(Vec::new()));
    fake.with(|s| s.fail_uploads = 1);
    added(setup.publish(&fake, &waits));
    assert_assets(&fake, &setup);
    let asset = setup.asset();
    let id = fake.release().id;
    // 502 (leaving a `starter`), the retry meets 422 already_exists, a new listing shows the starter, which is
    // deleted, then the upload succeeds.
    let writes = fake.writes();
    let up = format!("POST /repos/{REPO}/releases/{id}/assets?name={asset}");
    assert_eq!(
        writes.iter().filter(|w| **w == up).count(),
        3,
        "{writes:#?}"
    );
    let deletes: Vec<&String> = writes.iter().filter(|w| w.starts_with("DELETE ")).collect();
    assert_eq!(deletes.len(), 1, "{writes:#?}");
    assert_eq!(*waits.lock().unwrap(), vec![Duration::from_secs(1)]);
}

#[test]
fn an_asset_stuck_in_starter_is_deleted_and_uploaded_again() {
    let fake = Fake::new();
    let setup = Setup::new();
    let waits = Arc::new(Mutex::new(Vec::new()));
    let expected = setup.expected_assets();
    let asset = setup.asset();
    let id = fake.seed(true, false, &[]);
    let stuck = fake.with(|s| {
        let aid = s.id();
        s.releases[0].assets.push(FakeAsset {
            id: aid,
            name: asset.clone(),
            state: "starter".into(),
            bytes: expected[&asset][..10].to_vec(),
            has_digest: true,
        });
        aid
    });
    added(setup.publish(&fake, &waits));
    assert_assets(&fake, &setup);
    let api_writes: Vec<String> = fake
        .calls(&fake.api)
        .into_iter()
        .filter(|c| !c.starts_with("GET "))
        .collect();
    assert_eq!(
        api_writes,
        vec![
            format!("DELETE /repos/{REPO}/releases/assets/{stuck}"),
            format!("PATCH /repos/{REPO}/releases/{id}"),
        ]
    );
    let uploads = fake.calls(&fake.uploads);
    assert_eq!(uploads.len(), 3, "{uploads:#?}");
    assert_eq!(
        uploads[0],
        format!("POST /repos/{REPO}/releases/{id}/assets?name={asset}")
    );
}

#[test]
fn a_422_already_exists_is_listed_again_and_an_identical_asset_kept() {
    let fake = Fake::new();
    let setup = Setup::new();
    let waits = Arc::new(Mutex::new(Vec::new()));
    fake.with(|s| s.race_upload = true);
    added(setup.publish(&fake, &waits));
    assert_assets(&fake, &setup);
    // Three uploads (the first answered 422, then found identical and kept) and no delete.
    let writes = fake.writes();
    assert!(
        !writes.iter().any(|w| w.starts_with("DELETE")),
        "{writes:#?}"
    );
    assert_eq!(
        writes
            .iter()
            .filter(|w| w.contains("/assets?name="))
            .count(),
        3
    );
}

#[test]
fn releases_and_assets_are_read_across_pages() {
    let fake = Fake::new();
    let setup = Setup::new();
    let waits = Arc::new(Mutex::new(Vec::new()));
    let files: Vec<(String, Vec<u8>)> = setup.expected_assets().into_iter().collect();
    // The release of the tag is the oldest of five, listed last; it holds the files and two other assets.
    let mut seeded = files.clone();
    seeded.push(("notes.txt".into(), b"notes".to_vec()));
    seeded.push(("a-first.txt".into(), b"first".to_vec()));
    fake.seed(false, false, &seeded);
    fake.with(|s| {
        for i in 0..4 {
            let id = s.id();
            s.releases.push(FakeRelease {
                id,
                tag: format!("v0.{i}.0"),
                draft: false,
                immutable: false,
                assets: vec![],
            });
        }
        s.page = 2;
    });
    added(setup.publish(&fake, &waits));
    let api = fake.calls(&fake.api);
    let release_pages: Vec<&String> = api
        .iter()
        .filter(|c| c.starts_with(&format!("GET /repos/{REPO}/releases?")))
        .collect();
    assert_eq!(release_pages.len(), 3, "{api:#?}");
    assert!(release_pages[2].ends_with("page=3"), "{api:#?}");
    let asset_pages = api.iter().filter(|c| c.contains("/assets?")).count();
    // Five assets at two a page: three pages, listed before and after (a published release: no PATCH).
    assert_eq!(asset_pages, 6, "{api:#?}");
    assert!(fake.writes().is_empty(), "{:#?}", fake.writes());
}

#[test]
fn an_immutable_release_that_matches_is_used_without_a_single_write() {
    let fake = Fake::new();
    let setup = Setup::new();
    let waits = Arc::new(Mutex::new(Vec::new()));
    let files: Vec<(String, Vec<u8>)> = setup.expected_assets().into_iter().collect();
    fake.seed(false, true, &files);
    assert_eq!(added(setup.publish(&fake, &waits)), 2);
    assert!(fake.writes().is_empty(), "{:#?}", fake.writes());
    let (_, targets) = setup.targets();
    assert_eq!(
        targets["wine-1.0.0-linux-aarch64.tar.gz"]["custom"]["mlgate"]["url"],
        format!(
            "https://github.com/{REPO}/releases/download/{TAG}/{}",
            setup.asset()
        )
    );
}

#[test]
fn an_immutable_release_that_differs_is_refused_without_a_single_write() {
    let fake = Fake::new();
    let setup = Setup::new();
    let waits = Arc::new(Mutex::new(Vec::new()));
    let mut files: Vec<(String, Vec<u8>)> = setup.expected_assets().into_iter().collect();
    let sums = files.iter_mut().find(|(n, _)| n == "SHA256SUMS").unwrap();
    sums.1 = b"something else\n".to_vec();
    let other = sha256(&sums.1);
    fake.seed(false, true, &files);
    let problems = conflict(setup.publish(&fake, &waits));
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains("immutable"), "{problems:#?}");
    assert!(
        problems[0].contains(&format!("sha256:{other}")),
        "{problems:#?}"
    );
    assert!(fake.writes().is_empty(), "{:#?}", fake.writes());
    assert_eq!(setup.targets().0, 1);

    // Missing from an immutable release: refused as well, nothing written.
    let fake = Fake::new();
    let files: Vec<(String, Vec<u8>)> = setup
        .expected_assets()
        .into_iter()
        .filter(|(n, _)| n != "SHA256SUMS")
        .collect();
    fake.seed(false, true, &files);
    let problems = conflict(setup.publish(&fake, &waits));
    assert!(
        problems[0].contains("has no asset SHA256SUMS"),
        "{problems:#?}"
    );
    assert!(fake.writes().is_empty());
}

#[test]
fn a_different_file_under_an_existing_name_is_a_conflict_naming_both_digests() {
    let fake = Fake::new();
    let setup = Setup::new();
    let waits = Arc::new(Mutex::new(Vec::new()));
    let asset = setup.asset();
    fake.seed(true, false, &[(asset.clone(), b"not the bundle".to_vec())]);
    let problems = conflict(setup.publish(&fake, &waits));
    let p = problems.join("\n");
    assert!(
        p.contains(&format!("sha256:{}", sha256(b"not the bundle"))),
        "{p}"
    );
    assert!(
        p.contains(&format!("sha256:{}", sha256(&setup.bundle_bytes()))),
        "{p}"
    );
    assert!(p.contains(&asset), "{p}");
    // Nothing uploaded, deleted or published; the channel unchanged.
    assert!(fake.writes().is_empty(), "{:#?}", fake.writes());
    assert_eq!(setup.targets().0, 1);
}

#[test]
fn assets_without_a_digest_are_downloaded_and_hashed() {
    let fake = Fake::new();
    let setup = Setup::new();
    let waits = Arc::new(Mutex::new(Vec::new()));
    let files: Vec<(String, Vec<u8>)> = setup.expected_assets().into_iter().collect();
    fake.seed(false, false, &files);
    fake.with(|s| {
        for a in &mut s.releases[0].assets {
            a.has_digest = false;
        }
    });
    added(setup.publish(&fake, &waits));
    assert!(fake.writes().is_empty(), "{:#?}", fake.writes());
    // Each asset fetched through the API (302) from the storage host, which never sees the token.
    let storage = fake.requests(&fake.storage);
    assert_eq!(storage.len(), 3);
    for r in &storage {
        assert!(r.url.path().starts_with("/storage/"));
        assert!(r.headers.get("authorization").is_none(), "{r:?}");
    }
    let api = fake.requests(&fake.api);
    let asset_gets: Vec<&Request> = api
        .iter()
        .filter(|r| r.url.path().contains("/releases/assets/"))
        .collect();
    assert_eq!(asset_gets.len(), 3);
    assert_eq!(
        asset_gets[0].headers.get("accept").unwrap(),
        "application/octet-stream"
    );
}

#[test]
fn a_secondary_rate_limit_waits_as_retry_after_says() {
    let fake = Fake::new();
    let setup = Setup::new();
    let waits = Arc::new(Mutex::new(Vec::new()));
    fake.with(|s| s.rate_limited = 1);
    added(setup.publish(&fake, &waits));
    assert_eq!(*waits.lock().unwrap(), vec![Duration::from_secs(3)]);
    let api = fake.calls(&fake.api);
    assert_eq!(api[0], api[1], "the listing is sent again after the wait");
    assert_assets(&fake, &setup);
}

#[test]
fn an_upload_url_on_another_host_is_refused_and_never_sent_the_token() {
    let fake = Fake::new();
    let setup = Setup::new();
    let waits = Arc::new(Mutex::new(Vec::new()));
    let elsewhere = fake.rt.block_on(MockServer::start());
    fake.with(|s| s.upload_origin = Some(elsewhere.uri()));
    let e = setup.publish(&fake, &waits).unwrap_err();
    assert!(e.contains("neither the API"), "{e}");
    assert!(e.contains(&elsewhere.uri()), "{e}");
    assert!(fake
        .rt
        .block_on(elsewhere.received_requests())
        .unwrap_or_default()
        .is_empty());
    assert_eq!(setup.targets().0, 1);
}

/// The command itself, against the fake: `$GITHUB_API_URL`, `$MLGATE_GITHUB_UPLOAD_URL`, `$GITHUB_TOKEN`.
fn publish_command(fake: &Fake, setup: &Setup) -> std::process::Output {
    common::mlgate()
        .current_dir(setup.dir.path())
        .env("GITHUB_API_URL", fake.api.uri())
        .env("MLGATE_GITHUB_UPLOAD_URL", fake.uploads.uri())
        .env("GITHUB_TOKEN", TOKEN)
        .args([
            "publish",
            setup.bundle.to_str().unwrap(),
            "--channel",
            "stable",
            "--key",
            "channel.key",
            "--github",
            REPO,
            "--tag",
            TAG,
        ])
        .output()
        .unwrap()
}

#[test]
fn the_command_publishes_and_prints_where_the_bundle_is_hosted() {
    let fake = Fake::new();
    let setup = Setup::new();
    let o = publish_command(&fake, &setup);
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!(
            "hosted at https://github.com/{REPO}/releases/download/{TAG}/{}",
            setup.asset()
        )),
        "{out}"
    );
    assert!(!common::text(&o).contains(TOKEN));
    assert_assets(&fake, &setup);
}

#[test]
fn the_command_exits_1_on_a_conflict_and_writes_nothing() {
    let fake = Fake::new();
    let setup = Setup::new();
    fake.seed(false, false, &[(setup.asset(), b"not the bundle".to_vec())]);
    let o = publish_command(&fake, &setup);
    assert_eq!(o.status.code(), Some(1), "{}", common::text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("GitHub release {REPO} {TAG}: refused:")),
        "{err}"
    );
    assert!(err.contains(&sha256(b"not the bundle")), "{err}");
    assert!(err.contains(&sha256(&setup.bundle_bytes())), "{err}");
    assert!(
        err.contains("nothing was uploaded and the channel was not changed"),
        "{err}"
    );
    assert!(!common::text(&o).contains(TOKEN));
    assert!(fake.writes().is_empty(), "{:#?}", fake.writes());
    assert_eq!(setup.targets().0, 1);
}

#[test]
fn a_device_pulls_the_bundle_from_the_release_through_the_recorded_url() {
    let fake = Fake::new();
    let setup = Setup::new();
    fake.with(|s| s.local_downloads = true);
    let o = publish_command(&fake, &setup);
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o));
    let d = setup.dir.path();
    std::fs::copy(d.join("stable/root.json"), d.join("pinned-root.json")).unwrap();
    let channel = url::Url::from_directory_path(setup.channel()).unwrap();
    let before = fake.calls(&fake.uploads).len();
    let o = common::ok(
        d,
        &[
            "pull",
            "--channel",
            channel.as_str(),
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
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("1.0.0"),
        "{}",
        common::text(&o)
    );
    // The bundle came from the release's download URL: the channel folder holds no copy.
    let calls = fake.calls(&fake.uploads)[before..].to_vec();
    assert_eq!(
        calls,
        vec![format!(
            "GET /{REPO}/releases/download/{TAG}/{}",
            setup.asset()
        )]
    );
    assert!(!setup.channel().join("targets").join(setup.asset()).exists());
    let installed = std::fs::read(d.join("device/current/bundle.tar.gz")).unwrap();
    assert_eq!(installed, setup.bundle_bytes());
}

#[test]
fn a_device_refuses_a_recorded_url_that_is_not_the_file_tuf_names() {
    let fake = Fake::new();
    let setup = Setup::new();
    // The release answers download URLs of another shape (a renamed file): the channel records it as given,
    // and the device refuses it rather than fetch something tough would not name.
    fake.with(|s| {
        s.local_downloads = true;
        s.renamed_downloads = true;
    });
    let o = publish_command(&fake, &setup);
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o));
    let d = setup.dir.path();
    std::fs::copy(d.join("stable/root.json"), d.join("pinned-root.json")).unwrap();
    let channel = url::Url::from_directory_path(setup.channel()).unwrap();
    let before = fake.calls(&fake.uploads).len();
    let o = common::run(
        d,
        &[
            "pull",
            "--channel",
            channel.as_str(),
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
    assert_eq!(o.status.code(), Some(1), "{}", common::text(&o));
    let t = common::text(&o);
    assert!(
        t.contains(&format!("does not end in /{}", setup.asset())),
        "{t}"
    );
    assert_eq!(fake.calls(&fake.uploads).len(), before, "nothing fetched");
}

/// A standard TUF client needs nothing of mlgate's: python-tuf, with the release's download folder as its targets
/// base URL, requests `<sha256>.<name>` there, which is the asset's name.
#[test]
fn python_tuf_fetches_the_target_from_the_release_folder() {
    let Some(python) = common::interop_python("tuf.ngclient") else {
        return;
    };
    let fake = Fake::new();
    let setup = Setup::new();
    fake.with(|s| s.local_downloads = true);
    let o = publish_command(&fake, &setup);
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o));
    let server = common::Server::start(&python, &setup.channel());
    let state = setup.dir.path().join("tuf-client");
    std::fs::create_dir_all(state.join("metadata")).unwrap();
    std::fs::create_dir_all(state.join("downloads")).unwrap();
    std::fs::copy(
        setup.channel().join("root.json"),
        state.join("metadata/root.json"),
    )
    .unwrap();
    let release_folder = format!("{}/{REPO}/releases/download/{TAG}/", fake.uploads.uri());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/tuf_client.py");
    let o = std::process::Command::new(&python)
        .arg(&script)
        .arg(state.join("metadata"))
        .arg(&server.url)
        .arg("wine-1.0.0-linux-aarch64.tar.gz")
        .arg(state.join("downloads"))
        .arg(&release_folder)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", common::text(&o));
    let result: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["target"]["sha256"], sha256(&setup.bundle_bytes()));
    assert_eq!(
        result["target"]["custom"]["mlgate"]["url"],
        format!("{release_folder}{}", setup.asset())
    );
    let gets: Vec<String> = fake
        .calls(&fake.uploads)
        .into_iter()
        .filter(|c| c.starts_with("GET "))
        .collect();
    assert_eq!(
        gets,
        vec![format!(
            "GET /{REPO}/releases/download/{TAG}/{}",
            setup.asset()
        )]
    );
}

#[test]
fn an_upload_whose_digest_github_reports_differently_is_an_error_and_not_published() {
    let fake = Fake::new();
    let setup = Setup::new();
    let waits = Arc::new(Mutex::new(Vec::new()));
    fake.with(|s| s.corrupt_uploads = true);
    let e = setup.publish(&fake, &waits).unwrap_err();
    assert!(e.contains("unexpected answer from GitHub"), "{e}");
    assert!(
        e.contains(&format!("sha256:{}", sha256(&setup.bundle_bytes()))),
        "{e}"
    );
    assert!(fake.release().draft, "the draft was not published");
    assert_eq!(setup.targets().0, 1);
}

#[test]
fn a_422_that_is_not_an_existing_asset_is_reported_as_it_came() {
    let fake = Fake::new();
    let setup = Setup::new();
    let waits = Arc::new(Mutex::new(Vec::new()));
    fake.with(|s| s.invalid_uploads = true);
    let e = setup.publish(&fake, &waits).unwrap_err();
    assert!(e.contains("HTTP 422: Validation Failed"), "{e}");
    // One upload, one listing to look for the asset, and no retry loop.
    assert_eq!(fake.calls(&fake.uploads).len(), 1);
    assert!(fake.release().draft);
    assert_eq!(setup.targets().0, 1);
}
