//! A local fake GitHub for release publishing (`mlgate publish --github`): wiremock servers for the API, the
//! upload host and the storage host asset downloads are redirected to, sharing one in-memory state and answering
//! with the payloads GitHub documents (tests/resources/github/release.json, release_asset.json,
//! already_exists.json). Used by tests/github_release.rs and tests/release_rehearsal.rs
//! (`#[path = "common/fake_github.rs"] mod fake_github;`).
#![allow(dead_code)]

use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use sha2::Digest;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const REPO: &str = "octo-org/models";
pub const TAG: &str = "v1.0.0";
pub const TOKEN: &str = "ghp_FAKEtoken0123456789abcdefSECRET";

pub fn resource(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/resources/github")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

pub fn sha256(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Clone, Debug)]
pub struct FakeAsset {
    pub id: u64,
    pub name: String,
    pub state: String,
    pub bytes: Vec<u8>,
    /// false: the asset predates GitHub's digests (`digest: null`).
    pub has_digest: bool,
}

#[derive(Clone, Debug)]
pub struct FakeRelease {
    pub id: u64,
    pub tag: String,
    pub draft: bool,
    pub immutable: bool,
    pub assets: Vec<FakeAsset>,
}

/// What the fake holds, and the faults it plays.
#[derive(Default)]
pub struct State {
    pub api: String,
    pub uploads: String,
    pub storage: String,
    pub releases: Vec<FakeRelease>,
    pub next_id: u64,
    /// Items per page for both lists.
    pub page: usize,
    /// The next N uploads answer 502 and leave an asset in state `starter`.
    pub fail_uploads: usize,
    /// The next upload finds the same file already uploaded by "another run" and answers 422.
    pub race_upload: bool,
    /// The next N requests to the API answer a secondary rate limit (403, retry-after: 3).
    pub rate_limited: usize,
    /// PATCH answers 500 (a crash between upload and publish, as the next run sees it).
    pub fail_publish: bool,
    /// A published release becomes immutable (the repository's setting).
    pub immutable_on_publish: bool,
    /// An upload_url on this origin instead of the upload server.
    pub upload_origin: Option<String>,
    /// Download URLs on the upload server (which then serves them) instead of https://github.com.
    pub local_downloads: bool,
    /// Download URLs that name another file than the asset's name.
    pub renamed_downloads: bool,
    /// Uploads are stored with their first byte changed (same size): GitHub's digest then differs.
    pub corrupt_uploads: bool,
    /// Uploads answer 422 for another reason than an existing asset (nothing stored).
    pub invalid_uploads: bool,
}

impl State {
    pub fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn release_json(&self, r: &FakeRelease) -> Value {
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

    pub fn asset_json(&self, r: &FakeRelease, a: &FakeAsset) -> Value {
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
    pub fn page(&self, req: &Request, items: Vec<Value>) -> ResponseTemplate {
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

pub fn query(req: &Request, key: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

pub fn message(status: u16, msg: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "message": msg,
        "documentation_url": "https://docs.github.com/rest/releases",
        "status": status.to_string(),
    }))
}

/// The API side.
pub struct Api(pub Arc<Mutex<State>>);

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
pub struct Uploads(pub Arc<Mutex<State>>);

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

pub struct Fake {
    pub rt: tokio::runtime::Runtime,
    pub api: MockServer,
    pub uploads: MockServer,
    pub storage: MockServer,
    pub state: Arc<Mutex<State>>,
}

impl Fake {
    pub fn new() -> Fake {
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

    pub fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    /// Method and path (with the query) of every request, API and uploads, in order per server.
    pub fn calls(&self, server: &MockServer) -> Vec<String> {
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

    pub fn requests(&self, server: &MockServer) -> Vec<Request> {
        self.rt
            .block_on(server.received_requests())
            .unwrap_or_default()
    }

    /// The writes (anything but GET) both servers received.
    pub fn writes(&self) -> Vec<String> {
        let mut w: Vec<String> = self.calls(&self.api);
        w.extend(self.calls(&self.uploads));
        w.retain(|c| !c.starts_with("GET "));
        w
    }

    pub fn release(&self) -> FakeRelease {
        self.with(|s| {
            s.releases
                .iter()
                .find(|r| r.tag == TAG)
                .cloned()
                .expect("a release of the tag")
        })
    }

    /// A release of TAG holding `files` (name, bytes) as uploaded assets.
    pub fn seed(&self, draft: bool, immutable: bool, files: &[(String, Vec<u8>)]) -> u64 {
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
