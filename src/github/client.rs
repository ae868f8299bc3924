//! The GitHub REST API through octocrab, with mlgate's retry rules. The rest of the crate is synchronous: this
//! module owns a current-thread tokio runtime and blocks on each request, so tokio stays inside `github/`.
//!
//! Retries: a 5xx backs off exponentially; a 429, or a 403 whose message says it is a rate limit (primary or
//! secondary), waits as GitHub documents: `retry-after` seconds when given, else until `x-ratelimit-reset`
//! when no requests remain, else at least 60 s. A wait longer than the policy's bound is not waited: the
//! request fails instead (the caller warns and carries on; the verdict never depends on the API).

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Method, StatusCode};
use octocrab::Octocrab;
use serde_json::Value;

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
    runtime: tokio::runtime::Runtime,
    policy: RetryPolicy,
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
        let setup = |message: String| ApiError::Setup {
            api_url: api_url.to_string(),
            message,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| setup(e.to_string()))?;
        // octocrab's service stack spawns onto the runtime it is built in.
        let octo = {
            let _guard = runtime.enter();
            Octocrab::builder()
                .base_uri(api_url)
                .map_err(|e| setup(e.to_string()))?
                .personal_token(token.expose().to_string())
                // A hung API must not hang the gate: each request gives up, and is retried, after these.
                .set_connect_timeout(Some(Duration::from_secs(10)))
                .set_read_timeout(Some(Duration::from_secs(30)))
                .build()
                .map_err(|e| setup(e.to_string()))?
        };
        Ok(Client {
            octo,
            runtime,
            policy,
        })
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
        self.runtime
            .block_on(self.request_async(method, path, body))
    }

    async fn send_once(
        &self,
        method: &Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<ApiResponse, octocrab::Error> {
        let res = match *method {
            Method::POST => self.octo._post(path, body).await?,
            Method::PATCH => self.octo._patch(path, body).await?,
            _ => self.octo._get(path).await?,
        };
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = self.octo.body_to_string(res).await?;
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
        body: Option<&Value>,
    ) -> Result<ApiResponse, ApiError> {
        let mut attempt = 0;
        loop {
            let res = self.send_once(&method, path, body).await;
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
