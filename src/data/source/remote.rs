//! Objects in S3, Google Cloud Storage, Azure Blob Storage or at an `https://` URL, read with `object_store`.
//!
//! The readers are synchronous (they run on threads of their own), object_store is async: each [`Remote`] owns a
//! small current-thread tokio runtime. Text is streamed by a thread that drives the GET's body and hands chunks
//! over a bounded channel (the network and the parsing overlap, memory stays bounded); Parquet is read through
//! ranged GETs ([`RemoteChunks`]), so only the footer and the column chunks the reader asks for are fetched.

use std::io::Read;
use std::ops::Range;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use object_store::path::Path as ObjPath;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, RetryConfig};

use crate::data::DataError;

/// Seconds without a byte from the server before a read gives up (`MLGATE_REMOTE_TIMEOUT` changes it).
const DEFAULT_TIMEOUT_SECS: u64 = 30;
/// Chunks of a streamed body in flight between the network thread and the reader.
const CHUNKS_IN_FLIGHT: usize = 16;
/// Parquet is fetched in blocks of this size, and this many blocks are kept (the column chunks of a row group
/// are read interleaved, each column from its own place in the file).
const BLOCK: u64 = 1 << 20;
const BLOCKS_KEPT: usize = 64;

/// A remote object: its URL as the user wrote it, the store that reads it and its path in that store.
pub struct Remote {
    pub url: String,
    store: Arc<dyn ObjectStore>,
    path: ObjPath,
    rt: Arc<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote").field("url", &self.url).finish()
    }
}

fn bad_url(url: &str, message: impl Into<String>) -> DataError {
    DataError::Remote {
        url: url.to_string(),
        message: message.into(),
        help: Some("remote data is s3://BUCKET/KEY, gs://BUCKET/KEY, az://CONTAINER/KEY or https://HOST/PATH".into()),
    }
}

/// Whether plain `http://` may be used towards `host`: only this machine, unless `MLGATE_REMOTE_ALLOW_HTTP=1`
/// (credentials and data would otherwise cross the network in clear).
fn http_allowed(host: &str) -> bool {
    let loopback =
        matches!(host, "localhost" | "127.0.0.1" | "::1" | "[::1]") || host.starts_with("127.");
    loopback || std::env::var("MLGATE_REMOTE_ALLOW_HTTP").is_ok_and(|v| v == "1")
}

fn host_of(endpoint: &str) -> Option<String> {
    url::Url::parse(endpoint)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
}

fn client_options(allow_http: bool) -> ClientOptions {
    let secs = std::env::var("MLGATE_REMOTE_TIMEOUT")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(DEFAULT_TIMEOUT_SECS);
    // No timeout on a whole request (a large object's body takes as long as it takes), a timeout on each read.
    ClientOptions::new()
        .with_allow_http(allow_http)
        .with_timeout_disabled()
        .with_connect_timeout(Duration::from_secs(secs.min(10)))
        .with_read_timeout(Duration::from_secs(secs))
}

fn retry() -> RetryConfig {
    RetryConfig {
        max_retries: 3,
        retry_timeout: Duration::from_secs(30),
        ..RetryConfig::default()
    }
}

/// Options a caller adds to what the environment says (a DVC remote's `endpointurl`).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// An S3-compatible endpoint (MinIO, a local test server), overriding `AWS_ENDPOINT_URL`.
    pub endpoint: Option<String>,
}

impl Remote {
    /// The store for `url`, with credentials from the standard environment of its cloud. Nothing is fetched yet.
    pub fn open(url: &str, opts: &Options) -> Result<Remote, DataError> {
        let parsed = url::Url::parse(url).map_err(|e| bad_url(url, format!("not a URL: {e}")))?;
        let scheme = parsed.scheme().to_ascii_lowercase();
        let (store, path): (Arc<dyn ObjectStore>, ObjPath) = match scheme.as_str() {
            "s3" | "s3a" => (s3(url, opts)?, key_of(&parsed)),
            "gs" => {
                let store = object_store::gcp::GoogleCloudStorageBuilder::from_env()
                    .with_url(url)
                    .with_client_options(client_options(false))
                    .with_retry(retry())
                    .build()
                    .map_err(|e| store_error(url, e))?;
                (Arc::new(store), key_of(&parsed))
            }
            "az" | "azure" | "abfs" | "abfss" => {
                let store = object_store::azure::MicrosoftAzureBuilder::from_env()
                    .with_url(url)
                    .with_client_options(client_options(false))
                    .with_retry(retry())
                    .build()
                    .map_err(|e| store_error(url, e))?;
                (Arc::new(store), key_of(&parsed))
            }
            "http" | "https" => http(url, &parsed)?,
            _ => return Err(bad_url(url, format!("unknown scheme {scheme:?}"))),
        };
        if path.as_ref().is_empty() {
            return Err(bad_url(
                url,
                "the URL names no object (a bucket alone is not a file)",
            ));
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| DataError::Remote {
                url: url.to_string(),
                message: format!("cannot start the I/O runtime: {e}"),
                help: None,
            })?;
        Ok(Remote {
            url: url.to_string(),
            store,
            path,
            rt: Arc::new(rt),
        })
    }

    /// The object's size (a HEAD request): also how a missing object or a refused credential shows first.
    pub fn size(&self) -> Result<u64, DataError> {
        let meta = self
            .rt
            .block_on(self.store.head(&self.path))
            .map_err(|e| store_error(&self.url, e))?;
        Ok(meta.size)
    }

    /// The object's bytes as a stream: a thread runs the GET and sends its chunks over a bounded channel. The
    /// request is made before this returns, so that a missing object or a refused credential is an error here.
    pub fn reader(&self) -> Result<Box<dyn Read + Send>, DataError> {
        let (tx, rx) = sync_channel::<std::io::Result<Bytes>>(CHUNKS_IN_FLIGHT);
        let (ready_tx, ready_rx) = sync_channel::<Result<(), DataError>>(1);
        let (store, path, url, rt) = (
            self.store.clone(),
            self.path.clone(),
            self.url.clone(),
            self.rt.clone(),
        );
        std::thread::Builder::new()
            .name("mlgate-remote".into())
            .spawn(move || {
                rt.block_on(async move {
                    let got = match store.get(&path).await {
                        Ok(g) => g,
                        Err(e) => {
                            let _ = ready_tx.send(Err(store_error(&url, e)));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    let mut body = got.into_stream();
                    while let Some(chunk) = body.next().await {
                        let chunk = chunk.map_err(|e| std::io::Error::other(describe(&e)));
                        let stop = chunk.is_err();
                        if tx.send(chunk).is_err() || stop {
                            return;
                        }
                    }
                })
            })
            .map_err(|e| DataError::Remote {
                url: self.url.clone(),
                message: format!("cannot start the download thread: {e}"),
                help: None,
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Box::new(ChunkStream {
                rx,
                current: Bytes::new(),
            })),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(DataError::Remote {
                url: self.url.clone(),
                message: "the download stopped before it started".into(),
                help: None,
            }),
        }
    }

    /// One ranged GET.
    pub fn range(&self, range: Range<u64>) -> Result<Bytes, DataError> {
        self.rt
            .block_on(self.store.get_range(&self.path, range))
            .map_err(|e| store_error(&self.url, e))
    }
}

/// The key part of `s3://bucket/key` style URLs.
fn key_of(url: &url::Url) -> ObjPath {
    let key = url.path().trim_start_matches('/');
    // The URL is percent-encoded; object_store's path wants the raw key.
    let raw = percent_decode(key);
    ObjPath::from(raw.as_str())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn s3(url: &str, opts: &Options) -> Result<Arc<dyn ObjectStore>, DataError> {
    // The AWS SDKs and DVC name an S3-compatible endpoint AWS_ENDPOINT_URL; object_store's from_env reads it too.
    let endpoint = opts
        .endpoint
        .clone()
        .or_else(|| std::env::var("AWS_ENDPOINT_URL_S3").ok())
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
        .filter(|e| !e.trim().is_empty());
    let allow_http = match &endpoint {
        Some(e) if e.starts_with("http://") => {
            let host = host_of(e).unwrap_or_default();
            if !http_allowed(&host) {
                return Err(DataError::Remote {
                    url: url.to_string(),
                    message: format!("the endpoint {e} is plain http:// to another machine"),
                    help: Some(
                        "use https://, or set MLGATE_REMOTE_ALLOW_HTTP=1 if the network is trusted"
                            .into(),
                    ),
                });
            }
            true
        }
        _ => false,
    };
    let mut b = object_store::aws::AmazonS3Builder::from_env()
        .with_url(url)
        .with_client_options(client_options(allow_http))
        .with_allow_http(allow_http)
        .with_retry(retry());
    if let Some(e) = endpoint {
        b = b.with_endpoint(e);
    }
    let store = b.build().map_err(|e| store_error(url, e))?;
    Ok(Arc::new(store))
}

fn http(url: &str, parsed: &url::Url) -> Result<(Arc<dyn ObjectStore>, ObjPath), DataError> {
    let host = parsed.host_str().unwrap_or_default().to_string();
    let allow_http = parsed.scheme() == "http";
    if allow_http && !http_allowed(&host) {
        return Err(DataError::Remote {
            url: url.to_string(),
            message: "plain http:// to another machine".into(),
            help: Some(
                "use https://, or set MLGATE_REMOTE_ALLOW_HTTP=1 if the network is trusted".into(),
            ),
        });
    }
    if parsed.query().is_some() {
        return Err(bad_url(
            url,
            "a query string (a pre-signed URL) is not supported: the object is read with ranged GETs of its path",
        ));
    }
    let base = &parsed[..url::Position::BeforePath];
    let store = object_store::http::HttpBuilder::new()
        .with_url(base)
        .with_client_options(client_options(allow_http))
        .with_retry(retry())
        .build()
        .map_err(|e| store_error(url, e))?;
    Ok((Arc::new(store), key_of(parsed)))
}

/// The innermost description of an error: object_store wraps reqwest wraps hyper wraps io, and the useful part
/// (connection refused, timed out) is at the bottom.
fn describe(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}

/// An object_store error as a [`DataError`] that names the URL and what went wrong, in the user's terms.
pub fn store_error(url: &str, e: object_store::Error) -> DataError {
    use object_store::Error as E;
    let detail = describe(&e);
    let lower = detail.to_ascii_lowercase();
    let (message, help): (String, &str) = match &e {
        E::NotFound { .. } => (
            "no such object (404)".into(),
            "check the bucket, the key and the spelling; DVC objects exist once `dvc push` has run",
        ),
        E::PermissionDenied { .. } => (
            format!("access denied (403): {detail}"),
            "the credentials in the environment may not read this object (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, \
             GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_ACCOUNT_KEY, ...)",
        ),
        E::Unauthenticated { .. } => (
            format!("not authenticated (401): {detail}"),
            "the credentials in the environment were refused",
        ),
        _ if lower.contains("credential") || lower.contains("metadata") || lower.contains("token") => (
            format!("no usable credentials: {detail}"),
            "set the cloud's credentials in the environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or a \
             web identity), GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_ACCOUNT_NAME and a key or token",
        ),
        // Before timeouts: object_store's retry message always names its `retry_timeout`.
        _ if lower.contains("connection refused")
            || lower.contains("tcp connect error")
            || lower.contains("dns error")
            || lower.contains("failed to lookup") =>
        {
            (
                format!("cannot connect: {detail}"),
                "check the endpoint (AWS_ENDPOINT_URL, a DVC remote's endpointurl) and the network",
            )
        }
        _ if lower.contains("timed out") || lower.contains("operation timeout") => (
            format!("timed out: {detail}"),
            "the server did not answer in time (MLGATE_REMOTE_TIMEOUT sets the seconds to wait)",
        ),
        _ => (detail, "check the URL and the credentials in the environment"),
    };
    DataError::Remote {
        url: url.to_string(),
        message,
        help: Some(help.into()),
    }
}

/// The reading end of [`Remote::reader`].
struct ChunkStream {
    rx: Receiver<std::io::Result<Bytes>>,
    current: Bytes,
}

impl Read for ChunkStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.recv() {
                Ok(chunk) => self.current = chunk?,
                // The sender is gone: the body ended.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}

/// A remote Parquet file for parquet's synchronous reader: ranged GETs in aligned blocks, the last
/// [`BLOCKS_KEPT`] kept, so the footer costs one or two requests and each column chunk a few.
pub struct RemoteChunks {
    remote: Arc<Remote>,
    len: u64,
    blocks: Mutex<Vec<(u64, Bytes)>>,
}

impl RemoteChunks {
    pub fn new(remote: Arc<Remote>, len: u64) -> RemoteChunks {
        RemoteChunks {
            remote,
            len,
            blocks: Mutex::new(Vec::new()),
        }
    }

    fn block(&self, index: u64) -> std::io::Result<Bytes> {
        let start = index * BLOCK;
        {
            let mut blocks = self
                .blocks
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?;
            if let Some(pos) = blocks.iter().position(|(s, _)| *s == start) {
                let b = blocks.remove(pos);
                let bytes = b.1.clone();
                blocks.push(b);
                return Ok(bytes);
            }
        }
        let end = (start + BLOCK).min(self.len);
        let bytes = self
            .remote
            .range(start..end)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let mut blocks = self
            .blocks
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?;
        if blocks.len() >= BLOCKS_KEPT {
            blocks.remove(0);
        }
        blocks.push((start, bytes.clone()));
        Ok(bytes)
    }

    /// `length` bytes from `start`, from the blocks that hold them.
    pub fn bytes_at(&self, start: u64, length: usize) -> std::io::Result<Bytes> {
        let end = start.saturating_add(length as u64).min(self.len);
        if start >= end {
            return Ok(Bytes::new());
        }
        let (first, last) = (start / BLOCK, (end - 1) / BLOCK);
        if first == last {
            let b = self.block(first)?;
            let a = (start - first * BLOCK) as usize;
            return Ok(b.slice(a..a + (end - start) as usize));
        }
        let mut out = Vec::with_capacity((end - start) as usize);
        for i in first..=last {
            let b = self.block(i)?;
            let bs = i * BLOCK;
            let a = start.max(bs) - bs;
            let z = end.min(bs + b.len() as u64) - bs;
            out.extend_from_slice(&b[a as usize..z as usize]);
        }
        Ok(Bytes::from(out))
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A `Read` from an offset of a [`RemoteChunks`] (parquet reads page headers this way).
pub struct ChunksFrom {
    chunks: Arc<RemoteChunks>,
    pos: u64,
}

impl ChunksFrom {
    pub fn new(chunks: Arc<RemoteChunks>, pos: u64) -> ChunksFrom {
        ChunksFrom { chunks, pos }
    }
}

impl Read for ChunksFrom {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // At most to the end of the current block: one request at a time.
        let to_block_end = (BLOCK - self.pos % BLOCK) as usize;
        let want = buf.len().min(to_block_end);
        let b = self.chunks.bytes_at(self.pos, want)?;
        buf[..b.len()].copy_from_slice(&b);
        self.pos += b.len() as u64;
        Ok(b.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_percent_decoded() {
        let u = url::Url::parse("s3://b/a%20b/c.csv").unwrap();
        assert_eq!(key_of(&u).as_ref(), "a b/c.csv");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%4"), "%4");
    }

    #[test]
    fn plain_http_is_for_this_machine_only() {
        assert!(http_allowed("127.0.0.1"));
        assert!(http_allowed("localhost"));
    }

    #[test]
    fn a_bucket_alone_is_not_a_file() {
        let e = Remote::open("s3://bucket", &Options::default()).unwrap_err();
        assert!(e.to_string().contains("names no object"), "{e}");
    }

    #[test]
    fn a_presigned_url_is_refused_clearly() {
        let e = Remote::open(
            "https://h.example/x.csv?X-Amz-Signature=1",
            &Options::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("query string"), "{e}");
    }
}
