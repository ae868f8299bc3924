//! The GitHub REST API through octocrab, with mlgate's retry rules. The rest of the crate is synchronous: this
//! module owns a current-thread tokio runtime and blocks on each request, so tokio stays inside `github/`.
//!
//! Retries: a 5xx backs off exponentially; a 429, or a 403 whose message says it is a rate limit (primary or
//! secondary), waits as GitHub documents: `retry-after` seconds when given, else until `x-ratelimit-reset`
//! when no requests remain, else at least 60 s. A wait longer than the policy's bound is not waited: the
//! request fails instead (the caller warns and carries on; the verdict never depends on the API).

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Method, StatusCode};
use octocrab::Octocrab;
use serde_json::Value;
use sha2::Digest;

/// A GitHub token. It is printed nowhere: Debug and Display show `***`.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// `None` for an empty or blank token.
    pub fn new(text: &str) -> Option<Token> {
        let t = text.trim();
        (!t.is_empty()).then(|| Token(t.to_string()))
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How hard to retry.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Requests per call, the first included.
    pub max_attempts: u32,
    /// The first 5xx backoff; it doubles with each retry.
    pub backoff: Duration,
    /// The longest single wait; a rate limit that asks for longer fails the request instead.
    pub max_wait: Duration,
    /// When set, waits are recorded here instead of slept (tests check the computed waits without waiting).
    pub record_waits: Option<Arc<Mutex<Vec<Duration>>>>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            backoff: Duration::from_secs(1),
            max_wait: Duration::from_secs(300),
            record_waits: None,
        }
    }
}

/// GitHub's advice when a rate-limit response names no time: wait at least a minute.
pub const RATE_LIMIT_MIN_WAIT: Duration = Duration::from_secs(60);

/// A failed API call.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{method} {path}: HTTP {status}: {message}")]
    Status {
        method: String,
        path: String,
        status: u16,
        message: String,
    },
    #[error("{method} {path}: rate limited; GitHub asks to wait {wait_secs} s, longer than mlgate waits ({bound_secs} s)")]
    RateLimited {
        method: String,
        path: String,
        wait_secs: u64,
        bound_secs: u64,
    },
    #[error("{method} {path}: {message}")]
    Transport {
        method: String,
        path: String,
        message: String,
    },
    #[error("could not set up the GitHub client for {api_url}: {message}")]
    Setup { api_url: String, message: String },
    #[error("{path}: cannot read the file to upload: {message}")]
    File { path: String, message: String },
    /// An `upload_url` (from a server answer) that points elsewhere than the API or the configured upload host:
    /// the token is never sent there.
    #[error("GitHub answered an upload_url on {url}, which is neither the API ({api}) nor the upload host ({upload}): refused")]
    UploadHost {
        url: String,
        api: String,
        upload: String,
    },
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// One answer: status, headers and the body as text.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl ApiResponse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The `rel="next"` page of a `Link` header, as a path and query (the client adds its base URI, and only
    /// then sends the token: octocrab withholds it from absolute URLs to other hosts).
    pub fn next_page(&self) -> Option<String> {
        let link = self.headers.get("link")?.to_str().ok()?;
        let next = link.split(',').find(|part| {
            part.split(';')
                .skip(1)
                .any(|p| p.trim().replace(' ', "") == "rel=\"next\"")
        })?;
        let url = next.split(';').next()?.trim();
        let url = url.strip_prefix('<')?.strip_suffix('>')?;
        let uri: http::Uri = url.parse().ok()?;
        uri.path_and_query().map(|pq| pq.as_str().to_string())
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// True for GitHub's rate-limit answers: 429, or 403 with no requests left or a message that says so.
pub fn is_rate_limit(status: u16, headers: &HeaderMap, body: &str) -> bool {
    if status == 429 {
        return true;
    }
    if status != 403 {
        return false;
    }
    let lower = body.to_ascii_lowercase();
    header_u64(headers, "x-ratelimit-remaining") == Some(0)
        || headers.contains_key("retry-after")
        || lower.contains("rate limit")
}

/// How long to wait before retrying attempt `attempt` (0-based) of a request that got `status`, or `None` when
/// the answer is not worth retrying. `now` is seconds since the epoch (for `x-ratelimit-reset`).
pub fn retry_wait(
    status: u16,
    headers: &HeaderMap,
    body: &str,
    attempt: u32,
    now: u64,
    policy: &RetryPolicy,
) -> Option<Duration> {
    if is_rate_limit(status, headers, body) {
        if let Some(secs) = header_u64(headers, "retry-after") {
            return Some(Duration::from_secs(secs));
        }
        if header_u64(headers, "x-ratelimit-remaining") == Some(0) {
            if let Some(reset) = header_u64(headers, "x-ratelimit-reset") {
                // One second more: the reset time is when the window ends, not after.
                return Some(Duration::from_secs(reset.saturating_sub(now) + 1));
            }
        }
        // No time given: at least a minute, doubling with each retry (GitHub's advice for secondary limits).
        return Some(RATE_LIMIT_MIN_WAIT * 2u32.saturating_pow(attempt));
    }
    if (500..600).contains(&status) {
        return Some(policy.backoff * 2u32.saturating_pow(attempt));
    }
    None
}

/// A GitHub API client bound to one base URI and token.
pub struct Client {
    octo: Octocrab,
    /// The same token and hosts, with the timeouts of long uploads.
    uploader: Octocrab,
    runtime: tokio::runtime::Runtime,
    policy: RetryPolicy,
    /// Where API calls go, and where asset uploads may go (`upload_url` answers are checked against both).
    api_base: http::Uri,
    upload_base: http::Uri,
}

/// What one request carries.
#[derive(Clone, Copy)]
enum Payload<'a> {
    Empty,
    Json(&'a Value),
    /// A file, streamed from disk in chunks with its `Content-Length` (never held in memory whole).
    File {
        path: &'a Path,
        len: u64,
        content_type: &'a str,
    },
}

/// The upload host that goes with an API base: `uploads.github.com` for `api.github.com`, else GitHub
/// Enterprise's `https://HOST/api/uploads` (the API's own host).
pub fn default_upload_url(api_url: &str) -> String {
    match api_url.trim_end_matches('/') {
        "https://api.github.com" => "https://uploads.github.com".into(),
        other => match other.strip_suffix("/api/v3") {
            Some(host) => format!("{host}/api/uploads"),
            None => other.to_string(),
        },
    }
}

/// A file read in chunks as body frames; it ends after the first read error (hyper then aborts the request).
struct Chunks {
    file: Option<std::fs::File>,
}

/// An upload whose writes make no progress for this long fails (and is retried).
const UPLOAD_STALL: Duration = Duration::from_secs(60);

/// The longest one upload attempt may take, answer included: ten minutes plus the file at 256 KiB/s (a 2 GiB
/// asset: about 2.5 hours), so a server that never answers cannot hold a release job forever.
pub fn upload_deadline(len: u64) -> Duration {
    Duration::from_secs(600 + len / (256 * 1024))
}

/// 64 KiB: large enough for few syscalls, small enough that memory stays flat whatever the file's size.
const CHUNK: usize = 64 * 1024;

impl Iterator for Chunks {
    type Item = Result<http_body::Frame<bytes::Bytes>, std::io::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let file = self.file.as_mut()?;
        let mut buf = vec![0u8; CHUNK];
        match file.read(&mut buf) {
            Ok(0) => {
                self.file = None;
                None
            }
            Ok(n) => {
                buf.truncate(n);
                crate::progress::advance(n as u64);
                Some(Ok(http_body::Frame::data(bytes::Bytes::from(buf))))
            }
            Err(e) => {
                self.file = None;
                Some(Err(e))
            }
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("policy", &self.policy)
            .finish()
    }
}

impl Client {
    /// `api_url` is `GITHUB_API_URL` (`https://api.github.com`, or `https://HOST/api/v3` on GitHub Enterprise).
    pub fn new(api_url: &str, token: &Token, policy: RetryPolicy) -> Result<Client, ApiError> {
        Client::with_upload_url(api_url, &default_upload_url(api_url), token, policy)
    }

    /// As [`Client::new`], with the host release assets are uploaded to (`upload_url` answers must point at it
    /// or at the API; the token is sent to both and nowhere else).
    pub fn with_upload_url(
        api_url: &str,
        upload_url: &str,
        token: &Token,
        policy: RetryPolicy,
    ) -> Result<Client, ApiError> {
        let setup = |message: String| ApiError::Setup {
            api_url: api_url.to_string(),
            message,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| setup(e.to_string()))?;
        // octocrab's service stack spawns onto the runtime it is built in.
        let build = |read: Option<Duration>, write: Option<Duration>| {
            let _guard = runtime.enter();
            Octocrab::builder()
                .base_uri(api_url)
                .map_err(|e| setup(e.to_string()))?
                .upload_uri(upload_url)
                .map_err(|e| setup(format!("upload URL {upload_url}: {e}")))?
                .personal_token(token.expose().to_string())
                .set_connect_timeout(Some(Duration::from_secs(10)))
                .set_read_timeout(read)
                .set_write_timeout(write)
                .build()
                .map_err(|e| setup(e.to_string()))
        };
        // A hung API must not hang the gate: each request gives up, and is retried, after these.
        let octo = build(Some(Duration::from_secs(30)), None)?;
        // Uploads: while a body takes minutes to send, hyper keeps a read pending (it watches for an early
        // answer), which a 30 s read timeout would cut. A write that stalls for a minute fails instead, and each
        // attempt has an overall bound ([`upload_deadline`]).
        let uploader = build(None, Some(UPLOAD_STALL))?;
        let parse = |u: &str| {
            u.parse::<http::Uri>()
                .map_err(|e| setup(format!("{u}: {e}")))
        };
        Ok(Client {
            octo,
            uploader,
            runtime,
            policy,
            api_base: parse(api_url)?,
            upload_base: parse(upload_url)?,
        })
    }

    /// The URL to POST an asset to: the release's `upload_url` template (`...{?name,label}`) with its
    /// parameters filled. It comes from a server answer, so its scheme and host must be the API's or the
    /// configured upload host's; anything else is refused rather than sent the token.
    pub fn upload_target(&self, template: &str, name: &str) -> Result<String, ApiError> {
        let base = template.split('{').next().unwrap_or(template);
        let refused = || ApiError::UploadHost {
            url: base.to_string(),
            api: self.api_base.to_string(),
            upload: self.upload_base.to_string(),
        };
        let uri: http::Uri = base.parse().map_err(|_| refused())?;
        let same = |b: &http::Uri| b.scheme() == uri.scheme() && b.authority() == uri.authority();
        if uri.authority().is_none() || !(same(&self.upload_base) || same(&self.api_base)) {
            return Err(refused());
        }
        let sep = if base.contains('?') { '&' } else { '?' };
        Ok(format!("{base}{sep}name={}", percent_encode(name)))
    }

    pub fn delete(&self, path: &str) -> Result<ApiResponse, ApiError> {
        self.send(Method::DELETE, path, Payload::Empty)
    }

    /// POSTs a file to `url` (from [`Client::upload_target`]) streamed from disk, retried like any request
    /// (the file is reopened for each attempt).
    pub fn upload_file(
        &self,
        url: &str,
        path: &Path,
        content_type: &str,
    ) -> Result<ApiResponse, ApiError> {
        let len = std::fs::metadata(path)
            .map_err(|e| ApiError::File {
                path: path.display().to_string(),
                message: e.to_string(),
            })?
            .len();
        let payload = Payload::File {
            path,
            len,
            content_type,
        };
        // A bar on a terminal for a long upload (a retried upload counts its bytes again).
        let _bar =
            crate::progress::Task::bytes(&format!("uploading {}", path.display()), Some(len));
        self.send(Method::POST, url, payload)
    }

    /// Downloads an asset's bytes (`Accept: application/octet-stream`, following GitHub's redirect to its
    /// storage host, which never gets the token) and returns their SHA-256 (hex) and length, hashed as they
    /// stream in.
    pub fn download_sha256(&self, path: &str) -> Result<(String, u64), ApiError> {
        self.runtime.block_on(self.download_sha256_async(path))
    }

    async fn download_sha256_async(&self, path: &str) -> Result<(String, u64), ApiError> {
        use http_body_util::BodyExt;
        let transport = |e: &dyn fmt::Display| ApiError::Transport {
            method: "GET".into(),
            path: path.to_string(),
            message: e.to_string(),
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::ACCEPT,
            http::HeaderValue::from_static("application/octet-stream"),
        );
        let mut url = path.to_string();
        let mut res = self
            .octo
            ._get_with_headers(url.as_str(), Some(headers))
            .await
            .map_err(|e| transport(&e))?;
        // A few redirects at most (the API answers 302 to its storage host).
        for _ in 0..3 {
            if !res.status().is_redirection() {
                break;
            }
            url = res
                .headers()
                .get(http::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| transport(&"a redirect without a Location"))?
                .to_string();
            res = self
                .octo
                ._get_with_headers(url.as_str(), None)
                .await
                .map_err(|e| transport(&e))?;
        }
        if !res.status().is_success() {
            return Err(ApiError::Status {
                method: "GET".into(),
                path: url,
                status: res.status().as_u16(),
                message: "the asset could not be downloaded".into(),
            });
        }
        let mut body = res.into_body();
        let mut hasher = sha2::Sha256::new();
        let mut len = 0u64;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| transport(&e))?;
            if let Some(data) = frame.data_ref() {
                hasher.update(data);
                len += data.len() as u64;
            }
        }
        Ok((crate::sign::hex(&hasher.finalize()), len))
    }

    pub fn get(&self, path: &str) -> Result<ApiResponse, ApiError> {
        self.request(Method::GET, path, None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<ApiResponse, ApiError> {
        self.request(Method::POST, path, Some(body))
    }

    pub fn patch(&self, path: &str, body: &Value) -> Result<ApiResponse, ApiError> {
        self.request(Method::PATCH, path, Some(body))
    }

    /// Sends one request, retrying as the policy allows; a non-2xx answer left after retries is an error.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<ApiResponse, ApiError> {
        let payload = body.map_or(Payload::Empty, Payload::Json);
        self.send(method, path, payload)
    }

    fn send(&self, method: Method, path: &str, payload: Payload) -> Result<ApiResponse, ApiError> {
        self.runtime
            .block_on(self.request_async(method, path, payload))
    }

    async fn send_once(
        &self,
        method: &Method,
        path: &str,
        payload: Payload<'_>,
    ) -> Result<ApiResponse, String> {
        let json = match payload {
            Payload::Json(v) => Some(v),
            _ => None,
        };
        // With its causes: "client error (SendRequest)" alone does not say that a timeout or a reset happened.
        let text = |e: octocrab::Error| crate::channel::repo::error_chain(&e);
        let res = match (method, payload) {
            (_, Payload::File { len, .. }) => {
                let request = file_request(method, path, payload)?;
                let deadline = upload_deadline(len);
                tokio::time::timeout(deadline, self.uploader.execute(request))
                    .await
                    .map_err(|_| format!("no answer within {} s", deadline.as_secs()))?
                    .map_err(text)?
            }
            (&Method::POST, _) => self.octo._post(path, json).await.map_err(text)?,
            (&Method::PATCH, _) => self.octo._patch(path, json).await.map_err(text)?,
            (&Method::DELETE, _) => self.octo._delete(path, None::<&()>).await.map_err(text)?,
            _ => self.octo._get(path).await.map_err(text)?,
        };
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = self.octo.body_to_string(res).await.map_err(text)?;
        Ok(ApiResponse {
            status,
            headers,
            body,
        })
    }

    async fn request_async(
        &self,
        method: Method,
        path: &str,
        payload: Payload<'_>,
    ) -> Result<ApiResponse, ApiError> {
        let mut attempt = 0;
        loop {
            if let Payload::File { path: file, .. } = payload {
                // A file that cannot be read is not worth retrying: say which.
                std::fs::File::open(file).map_err(|e| ApiError::File {
                    path: file.display().to_string(),
                    message: e.to_string(),
                })?;
            }
            let res = self.send_once(&method, path, payload).await;
            let res = match res {
                Ok(r) => r,
                Err(e) => {
                    // A connection failure is retried like a 5xx.
                    if attempt + 1 < self.policy.max_attempts {
                        self.wait(self.policy.backoff * 2u32.saturating_pow(attempt))
                            .await;
                        attempt += 1;
                        continue;
                    }
                    return Err(ApiError::Transport {
                        method: method.to_string(),
                        path: path.to_string(),
                        message: e.to_string(),
                    });
                }
            };
            if StatusCode::from_u16(res.status).is_ok_and(|s| s.is_success()) {
                return Ok(res);
            }
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let wait = retry_wait(
                res.status,
                &res.headers,
                &res.body,
                attempt,
                now,
                &self.policy,
            );
            match wait {
                Some(w) if attempt + 1 < self.policy.max_attempts => {
                    if w > self.policy.max_wait {
                        return Err(ApiError::RateLimited {
                            method: method.to_string(),
                            path: path.to_string(),
                            wait_secs: w.as_secs(),
                            bound_secs: self.policy.max_wait.as_secs(),
                        });
                    }
                    self.wait(w).await;
                    attempt += 1;
                }
                _ => {
                    let message = res.json()["message"]
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| crate::report::clip(res.body.trim(), 200));
                    return Err(ApiError::Status {
                        method: method.to_string(),
                        path: path.to_string(),
                        status: res.status,
                        message,
                    });
                }
            }
        }
    }

    async fn wait(&self, d: Duration) {
        match &self.policy.record_waits {
            Some(log) => {
                if let Ok(mut log) = log.lock() {
                    log.push(d);
                }
            }
            None => tokio::time::sleep(d).await,
        }
    }
}

/// The request of a [`Payload::File`]: `Content-Type`, `Content-Length` and the file's chunks as the body.
fn file_request(
    method: &Method,
    url: &str,
    payload: Payload<'_>,
) -> Result<http::Request<octocrab::OctoBody>, String> {
    let Payload::File {
        path,
        len,
        content_type,
    } = payload
    else {
        return Err("not a file payload".into());
    };
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let body = http_body_util::StreamBody::new(futures::stream::iter(Chunks { file: Some(file) }));
    http::Request::builder()
        .method(method.clone())
        .uri(url)
        .header(http::header::CONTENT_TYPE, content_type)
        .header(http::header::CONTENT_LENGTH, len)
        .header(http::header::ACCEPT, "application/vnd.github+json")
        .body(octocrab::OctoBody::new(body))
        .map_err(|e| e.to_string())
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn token_is_never_shown() {
        let t = Token::new(" ghp_secret ").unwrap();
        assert_eq!(format!("{t} {t:?}"), "*** Token(***)");
        assert!(Token::new("  ").is_none());
    }

    #[test]
    fn waits_follow_githubs_rules() {
        let p = RetryPolicy::default();
        let none = HeaderMap::new();
        // 5xx: exponential backoff.
        assert_eq!(
            retry_wait(502, &none, "", 0, 0, &p),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            retry_wait(500, &none, "", 2, 0, &p),
            Some(Duration::from_secs(4))
        );
        // Not retried: a plain 403, 404, 422.
        assert_eq!(
            retry_wait(
                403,
                &none,
                r#"{"message":"Resource not accessible by integration"}"#,
                0,
                0,
                &p
            ),
            None
        );
        assert_eq!(retry_wait(422, &none, "", 0, 0, &p), None);
        // Retry-After wins.
        let h = headers(&[("retry-after", "7")]);
        assert_eq!(
            retry_wait(429, &h, "", 0, 0, &p),
            Some(Duration::from_secs(7))
        );
        // Primary limit exhausted: until the reset.
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1000"),
        ]);
        assert_eq!(
            retry_wait(403, &h, "", 0, 940, &p),
            Some(Duration::from_secs(61))
        );
        // A secondary limit that names no time: at least 60 s, doubling.
        let body =
            r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes."}"#;
        assert_eq!(
            retry_wait(403, &none, body, 0, 0, &p),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            retry_wait(403, &none, body, 1, 0, &p),
            Some(Duration::from_secs(120))
        );
    }

    #[test]
    fn upload_hosts_follow_the_api() {
        assert_eq!(
            default_upload_url("https://api.github.com/"),
            "https://uploads.github.com"
        );
        assert_eq!(
            default_upload_url("https://ghe.example.com/api/v3"),
            "https://ghe.example.com/api/uploads"
        );
    }

    #[test]
    fn an_upload_url_must_be_on_the_api_or_the_upload_host() {
        let token = Token::new("t").unwrap();
        let c = Client::with_upload_url(
            "https://api.github.com",
            "https://uploads.github.com",
            &token,
            RetryPolicy::default(),
        )
        .unwrap();
        let t = "https://uploads.github.com/repos/o/r/releases/1/assets{?name,label}";
        assert_eq!(
            c.upload_target(t, "a b+c.tar.gz").unwrap(),
            "https://uploads.github.com/repos/o/r/releases/1/assets?name=a%20b%2Bc.tar.gz"
        );
        assert!(c
            .upload_target("https://api.github.com/x/assets{?name,label}", "n")
            .is_ok());
        for bad in [
            "https://evil.example.com/repos/o/r/releases/1/assets{?name,label}",
            "http://uploads.github.com/repos/o/r/releases/1/assets{?name,label}",
            "https://uploads.github.com:8443/repos/o/r/releases/1/assets{?name,label}",
            "/repos/o/r/releases/1/assets{?name,label}",
        ] {
            let e = c.upload_target(bad, "n").unwrap_err().to_string();
            assert!(e.contains("neither the API"), "{bad}: {e}");
        }
    }

    #[test]
    fn next_page_is_a_relative_path() {
        let r = ApiResponse {
            status: 200,
            headers: headers(&[(
                "link",
                r#"<https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=2>; rel="next", <https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=3>; rel="last""#,
            )]),
            body: String::new(),
        };
        assert_eq!(
            r.next_page().as_deref(),
            Some("/repositories/1/issues/2/comments?per_page=100&page=2")
        );
    }
}
