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
use sha2::Digest;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const REPO: &str = "octo-org/models";
const TAG: &str = "v1.0.0";
const TOKEN: &str = "ghp_FAKEtoken0123456789abcdefSECRET";

fn resource(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/resources/github")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Clone, Debug)]
struct FakeAsset {
    id: u64,
    name: String,
    state: String,
    bytes: Vec<u8>,
    /// false: the asset predates GitHub's digests (`digest: null`).
    has_digest: bool,
}

#[derive(Clone, Debug)]
struct FakeRelease {
    id: u64,
    tag: String,
    draft: bool,
    immutable: bool,
    assets: Vec<FakeAsset>,
}

/// What the fake holds, and the faults it plays.
#[derive(Default)]
struct State {
    api: String,
    uploads: String,
    storage: String,
    releases: Vec<FakeRelease>,
    next_id: u64,
    /// Items per page for both lists.
    page: usize,
    /// The next N uploads answer 502 and leave an asset in state `starter`.
    fail_uploads: usize,
    /// The next upload finds the same file already uploaded by "another run" and answers 422.
    race_upload: bool,
    /// The next N requests to the API answer a secondary rate limit (403, retry-after: 3).
    rate_limited: usize,
    /// PATCH answers 500 (a crash between upload and publish, as the next run sees it).
    fail_publish: bool,
    /// A published release becomes immutable (the repository's setting).
    immutable_on_publish: bool,
    /// An upload_url on this origin instead of the upload server.
    upload_origin: Option<String>,
    /// Download URLs on the upload server (which then serves them) instead of https://github.com.
    local_downloads: bool,
    /// Download URLs that name another file than the asset's name.
    renamed_downloads: bool,
    /// Uploads are stored with their first byte changed (same size): GitHub's digest then differs.
    corrupt_uploads: bool,
    /// Uploads answer 422 for another reason than an existing asset (nothing stored).
    invalid_uploads: bool,
}

impl State {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn release_json(&self, r: &FakeRelease) -> Value {
        let mut v = resource("release.json");
        let origin = self.upload_origin.as_deref().unwrap_or(&self.uploads);
        v["id"] = json!(r.id);
        v["tag_name"] = json!(r.tag);
        v["name"] = json!(r.tag);
        v["draft"] = json!(r.draft);
        v["immutable"] = json!(r.immutable);
        v["url"] = json!(format!("{}/repos/{REPO}/releases/{}", self.api, r.id));
        v["upload_url"] = json!(format!(
            "{origin}/repos/{REPO}/releases/{}/assets{{?name,label}}",
            r.id
        ));
        v["html_url"] = json!(format!("https://github.com/{REPO}/releases/tag/{}", r.tag));
        v["assets"] = json!(r
            .assets
            .iter()
            .map(|a| self.asset_json(r, a))
            .collect::<Vec<_>>());
        v
    }

    fn asset_json(&self, r: &FakeRelease, a: &FakeAsset) -> Value {
        let mut v = resource("release_asset.json");
        // A draft's download URL names a temporary tag; it is final once the release is published.
        let tag = if r.draft {
            format!("untagged-{}", r.id)
        } else {
            r.tag.clone()
        };
        v["id"] = json!(a.id);
        v["name"] = json!(a.name);
        v["state"] = json!(a.state);
        v["size"] = json!(a.bytes.len());
        v["digest"] = if a.has_digest && a.state == "uploaded" {
            json!(format!("sha256:{}", sha256(&a.bytes)))
        } else {
            Value::Null
        };
        v["url"] = json!(format!(
            "{}/repos/{REPO}/releases/assets/{}",
            self.api, a.id
        ));
        let host = if self.local_downloads {
            self.uploads.as_str()
        } else {
            "https://github.com"
        };
        let prefix = if self.renamed_downloads {
            "renamed-"
        } else {
            ""
        };
        v["browser_download_url"] = json!(format!(
            "{host}/{REPO}/releases/download/{tag}/{prefix}{}",
            a.name
        ));
        v
    }

    /// One page of `items`, with GitHub's `Link` header when more follow.
    fn page(&self, req: &Request, items: Vec<Value>) -> ResponseTemplate {
        let n: usize = query(req, "page").and_then(|p| p.parse().ok()).unwrap_or(1);
        let size = self.page.max(1);
        let chunk: Vec<Value> = items
            .iter()
            .skip((n - 1) * size)
            .take(size)
            .cloned()
            .collect();
        let mut t = ResponseTemplate::new(200).set_body_json(Value::Array(chunk));
        if n * size < items.len() {
            let next = format!("{}{}?per_page=100&page={}", self.api, req.url.path(), n + 1);
            let last = items.len().div_ceil(size);
            let last = format!("{}{}?per_page=100&page={last}", self.api, req.url.path());
            t = t.insert_header(
                "link",
                format!(r#"<{next}>; rel="next", <{last}>; rel="last""#),
            );
        }
        t
    }
}

fn query(req: &Request, key: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn message(status: u16, msg: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "message": msg,
        "documentation_url": "https://docs.github.com/rest/releases",
        "status": status.to_string(),
    }))
}

/// The API side.
struct Api(Arc<Mutex<State>>);

impl Respond for Api {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = self.0.lock().unwrap();
        if s.rate_limited > 0 {
            s.rate_limited -= 1;
            return ResponseTemplate::new(403)
                .insert_header("retry-after", "3")
                .insert_header("x-ratelimit-remaining", "4000")
                .set_body_json(resource("secondary_rate_limit.json"));
        }
        let base = format!("/repos/{REPO}/releases");
        let path = req.url.path().to_string();
        let rest = path.strip_prefix(&base).unwrap_or("!");
        let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
        match (req.method.as_str(), parts.as_slice()) {
            ("GET", []) => {
                // Newest first, as GitHub lists them.
                let items = s.releases.iter().rev().map(|r| s.release_json(r)).collect();
                s.page(req, items)
            }
            ("POST", []) => {
                let body: Value = serde_json::from_slice(&req.body).unwrap();
                let id = s.id();
                let r = FakeRelease {
                    id,
                    tag: body["tag_name"].as_str().unwrap().to_string(),
                    draft: body["draft"].as_bool().unwrap_or(false),
                    immutable: false,
                    assets: vec![],
                };
                s.releases.push(r.clone());
                ResponseTemplate::new(201).set_body_json(s.release_json(&r))
            }
            ("GET", [id, "assets"]) => {
                let id: u64 = id.parse().unwrap();
                let Some(r) = s.releases.iter().find(|r| r.id == id) else {
                    return message(404, "Not Found");
                };
                let items = r.assets.iter().map(|a| s.asset_json(r, a)).collect();
                s.page(req, items)
            }
            ("PATCH", [id]) => {
                if s.fail_publish {
                    return ResponseTemplate::new(500).set_body_json(resource("server_error.json"));
                }
                let id: u64 = id.parse().unwrap();
                let immutable = s.immutable_on_publish;
                let Some(r) = s.releases.iter_mut().find(|r| r.id == id) else {
                    return message(404, "Not Found");
                };
                r.draft = false;
                r.immutable = immutable;
                let r = r.clone();
                ResponseTemplate::new(200).set_body_json(s.release_json(&r))
            }
            ("DELETE", ["assets", id]) => {
                let id: u64 = id.parse().unwrap();
                for r in &mut s.releases {
                    r.assets.retain(|a| a.id != id);
                }
                ResponseTemplate::new(204)
            }
            ("GET", ["assets", id]) => {
                // `Accept: application/octet-stream`: GitHub redirects to its storage host.
                let location = format!("{}/storage/{id}", s.storage);
                ResponseTemplate::new(302).insert_header("location", location.as_str())
            }
            _ => message(404, "Not Found"),
        }
    }
}

/// The upload host; also mounted on a third server, the storage host asset downloads are redirected to
/// (`/storage/ID`), as GitHub's objects host is neither the API nor the upload host.
struct Uploads(Arc<Mutex<State>>);

impl Respond for Uploads {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = self.0.lock().unwrap();
        if let Some(id) = req.url.path().strip_prefix("/storage/") {
            let id: u64 = id.parse().unwrap();
            let bytes = s
                .releases
                .iter()
                .flat_map(|r| &r.assets)
                .find(|a| a.id == id)
                .map(|a| a.bytes.clone())
                .unwrap_or_default();
            return ResponseTemplate::new(200).set_body_bytes(bytes);
        }
        let download = format!("/{REPO}/releases/download/");
        if let Some(rest) = req.url.path().strip_prefix(&download) {
            let (tag, name) = rest.split_once('/').unwrap();
            let bytes = s
                .releases
                .iter()
                .filter(|r| r.tag == tag && !r.draft)
                .flat_map(|r| &r.assets)
                .find(|a| a.name == name && a.state == "uploaded")
                .map(|a| a.bytes.clone());
            return match bytes {
                Some(b) => ResponseTemplate::new(200).set_body_bytes(b),
                None => ResponseTemplate::new(404),
            };
        }
        let base = format!("/repos/{REPO}/releases/");
        let Some(id) = req
            .url
            .path()
            .strip_prefix(&base)
            .and_then(|r| r.strip_suffix("/assets"))
            .and_then(|id| id.parse::<u64>().ok())
        else {
            return message(404, "Not Found");
        };
        let name = query(req, "name").unwrap();
        let new_id = s.id();
        let failing = s.fail_uploads > 0;
        if failing {
            s.fail_uploads -= 1;
        }
        if s.invalid_uploads {
            return ResponseTemplate::new(422).set_body_json(json!({
                "message": "Validation Failed",
                "errors": [{"resource": "ReleaseAsset", "code": "custom", "field": "name", "message": "name is invalid"}],
                "documentation_url": "https://docs.github.com/rest/releases/assets#upload-a-release-asset",
                "status": "422"
            }));
        }
        let race = std::mem::take(&mut s.race_upload);
        let corrupt = s.corrupt_uploads;
        let Some(r) = s.releases.iter_mut().find(|r| r.id == id) else {
            return message(404, "Not Found");
        };
        if race {
            r.assets.push(FakeAsset {
                id: new_id,
                name: name.clone(),
                state: "uploaded".into(),
                bytes: req.body.clone(),
                has_digest: true,
            });
        }
        if r.assets.iter().any(|a| a.name == name) {
            return ResponseTemplate::new(422).set_body_json(resource("already_exists.json"));
        }
        let mut asset = FakeAsset {
            id: new_id,
            name,
            state: "uploaded".into(),
            bytes: req.body.clone(),
            has_digest: true,
        };
        if corrupt {
            if let Some(b) = asset.bytes.first_mut() {
                *b ^= 0xff;
            }
        }
        if failing {
            asset.state = "starter".into();
            asset.bytes.truncate(asset.bytes.len() / 2);
            r.assets.push(asset);
            return ResponseTemplate::new(502).set_body_string("Bad Gateway");
        }
        r.assets.push(asset.clone());
        let r = r.clone();
        ResponseTemplate::new(201).set_body_json(s.asset_json(&r, &asset))
    }
}

struct Fake {
    rt: tokio::runtime::Runtime,
    api: MockServer,
    uploads: MockServer,
    storage: MockServer,
    state: Arc<Mutex<State>>,
}

impl Fake {
    fn new() -> Fake {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (api, uploads, storage) = rt.block_on(async {
            (
                MockServer::start().await,
                MockServer::start().await,
                MockServer::start().await,
            )
        });
        let state = Arc::new(Mutex::new(State {
            api: api.uri(),
            uploads: uploads.uri(),
            storage: storage.uri(),
            next_id: 100,
            page: 100,
            ..State::default()
        }));
        rt.block_on(async {
            Mock::given(any())
                .respond_with(Api(state.clone()))
                .mount(&api)
                .await;
            Mock::given(any())
                .respond_with(Uploads(state.clone()))
                .mount(&uploads)
                .await;
            Mock::given(any())
                .respond_with(Uploads(state.clone()))
                .mount(&storage)
                .await;
        });
        Fake {
            rt,
            api,
            uploads,
            storage,
            state,
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    /// Method and path (with the query) of every request, API and uploads, in order per server.
    fn calls(&self, server: &MockServer) -> Vec<String> {
        self.rt
            .block_on(server.received_requests())
            .unwrap_or_default()
            .iter()
            .map(|r| {
                let q = r.url.query().map(|q| format!("?{q}")).unwrap_or_default();
                format!("{} {}{q}", r.method, r.url.path())
            })
            .collect()
    }

    fn requests(&self, server: &MockServer) -> Vec<Request> {
        self.rt
            .block_on(server.received_requests())
            .unwrap_or_default()
    }

    /// The writes (anything but GET) both servers received.
    fn writes(&self) -> Vec<String> {
        let mut w: Vec<String> = self.calls(&self.api);
        w.extend(self.calls(&self.uploads));
        w.retain(|c| !c.starts_with("GET "));
        w
    }

    fn release(&self) -> FakeRelease {
        self.with(|s| {
            s.releases
                .iter()
                .find(|r| r.tag == TAG)
                .cloned()
                .expect("a release of the tag")
        })
    }

    /// A release of TAG holding `files` (name, bytes) as uploaded assets.
    fn seed(&self, draft: bool, immutable: bool, files: &[(String, Vec<u8>)]) -> u64 {
        self.with(|s| {
            let id = s.id();
            let assets = files
                .iter()
                .map(|(n, b)| FakeAsset {
                    id: s.id(),
                    name: n.clone(),
                    state: "uploaded".into(),
                    bytes: b.clone(),
                    has_digest: true,
                })
                .collect();
            s.releases.push(FakeRelease {
                id,
                tag: TAG.into(),
                draft,
                immutable,
                assets,
            });
            id
        })
    }
}

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
