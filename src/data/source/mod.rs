//! Where a table's bytes come from: a local file, an object store (`s3://`, `gs://`, `az://`, `https://`) or a
//! DVC remote (a path that a `.dvc` pointer or `dvc.lock` tracks and that is not in the work tree). The readers
//! ask this module for a byte stream (or, for Parquet, for ranged reads) and do not care which.
//!
//! Remote sources are in the full build only: the device build reads local files.

#[cfg(feature = "full")]
pub mod dvc;
#[cfg(feature = "full")]
pub mod remote;

use std::io::Read;
use std::path::Path;
#[cfg(feature = "full")]
use std::sync::Arc;

use super::DataError;

/// Where a [`super::Source`]'s bytes are.
#[derive(Debug, Clone, Default)]
pub enum Origin {
    /// The file at the source's path.
    #[default]
    Local,
    /// An object in an object store, read from its URL.
    #[cfg(feature = "full")]
    Remote(Arc<remote::Remote>),
    /// A DVC-tracked file that is not in the work tree: its object in the DVC remote.
    #[cfg(feature = "full")]
    Dvc(Arc<DvcObject>),
}

/// A DVC-tracked file and the object its bytes are read from.
#[cfg(feature = "full")]
#[derive(Debug)]
pub struct DvcObject {
    pub tracked: dvc::Tracked,
    /// The object when the remote is an object store (a folder remote is read from disk).
    pub remote: Option<Arc<remote::Remote>>,
}

/// Whether `s` is a URL of an object store or web server (rather than a local path).
pub fn is_url(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    !rest.is_empty()
        && matches!(
            scheme.to_ascii_lowercase().as_str(),
            "s3" | "s3a" | "gs" | "az" | "abfs" | "abfss" | "azure" | "http" | "https"
        )
}

/// The remote locations this process may read from: `None` lets every one through (a user's command line names
/// what it reads), `Some` is `mlgate check`'s list (`remotes:` and `--allow-remote`), which also covers the DVC
/// remotes that `.dvc/config` names: a pull request can change that file too.
static ALLOWED: std::sync::RwLock<Option<Vec<String>>> = std::sync::RwLock::new(None);

/// Sets the remote locations that [`resolve`] lets through (see [`ALLOWED`]).
pub fn restrict_remotes(allowed: Option<Vec<String>>) {
    if let Ok(mut a) = ALLOWED.write() {
        *a = allowed;
    }
}

fn check_allowed(location: &str, what: &str) -> Result<(), DataError> {
    let guard = ALLOWED.read().map_err(|_| DataError::Remote {
        url: location.to_string(),
        message: "the list of allowed remote locations is unreadable".into(),
        help: None,
    })?;
    match guard.as_ref() {
        Some(list) if !allowed(location, list) => Err(DataError::Remote {
            url: location.to_string(),
            message: format!("{what} is not under an allowed remote location"),
            help: Some(
                "a pull request must not make the gate read any location with the runner's credentials: list the \
                 bucket or prefix under `remotes:` in mlgate.yml (read with --config-from in pull requests) or \
                 pass --allow-remote PREFIX"
                    .into(),
            ),
        }),
        _ => Ok(()),
    }
}

/// Where the bytes of `path` are: a URL is remote, a missing file that DVC tracks is in the DVC remote, anything
/// else is local. Nothing is read here but DVC's small files (and a folder output's manifest).
pub fn resolve(path: &Path) -> Result<Origin, DataError> {
    let text = path.to_string_lossy();
    if is_url(&text) {
        check_allowed(&text, "the URL")?;
        return remote_origin(&text);
    }
    if path.exists() {
        return Ok(Origin::Local);
    }
    dvc_origin(path)
}

#[cfg(feature = "full")]
fn remote_origin(url: &str) -> Result<Origin, DataError> {
    Ok(Origin::Remote(Arc::new(remote::Remote::open(
        url,
        &remote::Options::default(),
    )?)))
}

#[cfg(not(feature = "full"))]
fn remote_origin(url: &str) -> Result<Origin, DataError> {
    Err(DataError::Remote {
        url: url.to_string(),
        message: "this build of mlgate reads local files only (the `device` build has no object-store client)".into(),
        help: Some("copy the file to the device, or use the full build (the default features)".into()),
    })
}

#[cfg(not(feature = "full"))]
fn dvc_origin(_path: &Path) -> Result<Origin, DataError> {
    Ok(Origin::Local)
}

#[cfg(feature = "full")]
fn dvc_origin(path: &Path) -> Result<Origin, DataError> {
    let fetch = |store: &dvc::Store, rc: &dvc::RemoteConfig| -> Result<Vec<u8>, DataError> {
        let mut bytes = vec![];
        open_store(store, rc)?
            .read_to_end(&mut bytes)
            .map_err(|e| DataError::Io {
                path: store.shown(),
                err: e,
            })?;
        Ok(bytes)
    };
    let fetch = |store: &dvc::Store, rc: &dvc::RemoteConfig| {
        check_allowed(&store.shown(), &format!("DVC remote {:?}", rc.name))?;
        fetch(store, rc)
    };
    let Some(tracked) = dvc::locate(path, &fetch)? else {
        return Ok(Origin::Local);
    };
    check_allowed(
        &tracked.object.shown(),
        &format!(
            "DVC remote {:?} (of {})",
            tracked.remote.name, tracked.pointer
        ),
    )?;
    let remote = match &tracked.object {
        dvc::Store::Url(u) => Some(Arc::new(remote::Remote::open(
            u,
            &remote::Options {
                endpoint: tracked.remote.endpoint.clone(),
            },
        )?)),
        dvc::Store::Folder(_) => None,
    };
    Ok(Origin::Dvc(Arc::new(DvcObject { tracked, remote })))
}

#[cfg(feature = "full")]
fn open_store(
    store: &dvc::Store,
    rc: &dvc::RemoteConfig,
) -> Result<Box<dyn Read + Send>, DataError> {
    match store {
        dvc::Store::Url(u) => remote::Remote::open(
            u,
            &remote::Options {
                endpoint: rc.endpoint.clone(),
            },
        )?
        .reader(),
        dvc::Store::Folder(p) => Ok(Box::new(std::fs::File::open(p).map_err(|e| {
            DataError::Io {
                path: p.display().to_string(),
                err: e,
            }
        })?)),
    }
}

/// The bytes of a source, streamed: the file, the object's GET, or the DVC object with its MD5 checked at the end.
pub fn open(source: &super::Source) -> Result<Box<dyn Read + Send>, DataError> {
    match &source.origin {
        Origin::Local => {
            let file = std::fs::File::open(&source.path).map_err(|e| DataError::Io {
                path: source.display.clone(),
                err: e,
            })?;
            Ok(Box::new(file))
        }
        #[cfg(feature = "full")]
        Origin::Remote(r) => r.reader(),
        #[cfg(feature = "full")]
        Origin::Dvc(d) => {
            let inner = match &d.remote {
                Some(r) => r.reader()?,
                None => open_store(&d.tracked.object, &d.tracked.remote)?,
            };
            Ok(Box::new(dvc::Md5Check::new(
                inner,
                &d.tracked.md5,
                d.tracked.dvc2,
            )))
        }
    }
}

/// Models are read whole (tract takes bytes): a remote one is held in memory up to this size
/// (`MLGATE_REMOTE_MAX_BYTES` changes it).
const MAX_WHOLE_BYTES: u64 = 4 << 30;

/// The whole content of `path` when it is remote (a URL, or a DVC-tracked file not in the work tree), checked
/// like any read and refused past [`MAX_WHOLE_BYTES`]; `None` for a local file (the caller reads it).
pub fn read_whole_if_remote(path: &Path) -> Result<Option<Vec<u8>>, DataError> {
    let origin = resolve(path)?;
    if matches!(origin, Origin::Local) {
        return Ok(None);
    }
    let shown = remote_location(&origin).unwrap_or_else(|| path.display().to_string());
    let cap = std::env::var("MLGATE_REMOTE_MAX_BYTES")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(MAX_WHOLE_BYTES);
    let source = super::Source {
        path: path.to_path_buf(),
        display: shown.clone(),
        format: super::Format::Csv,
        dialect: super::Dialect::default(),
        parts: vec![],
        origin,
        window: None,
    };
    let mut bytes = vec![];
    open(&source)?
        .take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| DataError::Io {
            path: shown.clone(),
            err: e,
        })?;
    if bytes.len() as u64 > cap {
        return Err(DataError::Remote {
            url: shown,
            message: format!("larger than {cap} bytes, the most mlgate reads whole"),
            help: Some("set MLGATE_REMOTE_MAX_BYTES to a larger size".into()),
        });
    }
    Ok(Some(bytes))
}

/// The remote location a source reads from (a URL, or a DVC folder remote), for the allow-list of remote
/// locations; `None` for a local file.
pub fn remote_location(origin: &Origin) -> Option<String> {
    match origin {
        Origin::Local => None,
        #[cfg(feature = "full")]
        Origin::Remote(r) => Some(r.url.clone()),
        #[cfg(feature = "full")]
        Origin::Dvc(d) => Some(d.tracked.object.shown()),
    }
}

/// What a report says of where the data came from: the URL, or the DVC pointer, version (MD5) and remote.
pub fn figures(origin: &Origin) -> Vec<(String, serde_json::Value)> {
    match origin {
        Origin::Local => vec![],
        #[cfg(feature = "full")]
        Origin::Remote(r) => vec![("source".into(), serde_json::json!(r.url))],
        #[cfg(feature = "full")]
        Origin::Dvc(d) => {
            let t = &d.tracked;
            vec![
                ("source".into(), serde_json::json!(t.object.shown())),
                (
                    "dvc".into(),
                    serde_json::json!({
                        "pointer": t.pointer,
                        "md5": t.md5,
                        "remote": t.remote.name,
                        "layout": if t.dvc2 { "dvc2" } else { "dvc3" },
                    }),
                ),
            ]
        }
    }
}

/// Whether `location` (a URL or a folder) is under one of the `allowed` prefixes. A prefix matches whole path
/// segments: `s3://data` allows `s3://data/x.csv`, not `s3://data-private/x.csv`.
pub fn allowed(location: &str, allowed: &[String]) -> bool {
    allowed.iter().any(|prefix| {
        let p = prefix.trim_end_matches('/');
        !p.is_empty()
            && (location == p
                || location
                    .strip_prefix(p)
                    .is_some_and(|rest| rest.starts_with('/')))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_paths() {
        assert!(is_url("s3://bucket/key.csv"));
        assert!(is_url("gs://b/k"));
        assert!(is_url("az://container/k.parquet"));
        assert!(is_url("https://example.org/data.csv"));
        assert!(!is_url("data/train.csv"));
        assert!(!is_url("C:\\data\\x.csv"));
        assert!(!is_url("file:///etc/passwd"));
        assert!(!is_url("s3://"));
    }

    #[test]
    fn prefixes_match_whole_segments() {
        let a = vec![
            "s3://data".to_string(),
            "https://h.example/pub/".to_string(),
        ];
        assert!(allowed("s3://data/x.csv", &a));
        assert!(allowed("s3://data/sub/x.csv", &a));
        assert!(!allowed("s3://data-private/x.csv", &a));
        assert!(allowed("https://h.example/pub/x.csv", &a));
        assert!(!allowed("https://h.example/private/x.csv", &a));
        assert!(!allowed("s3://data/x.csv", &[]));
        assert!(!allowed("s3://x/y", &["".to_string()]));
    }
}
