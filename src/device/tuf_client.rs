//! The client under test of the TUF conformance suite (tuf-conformance, `CLIENT-CLI.md`): `init`, `refresh` and
//! `download` over `mlgate pull`'s own TUF layer ([`super::pull::load_tuf`], tough's client), so the suite tests
//! what devices run. `mlgate tuf-client` (hidden) is its command line; `tests/tuf_conformance.rs` runs the suite.
//!
//! The protocol reads the trusted metadata in `--metadata-dir` under non-versioned names (`root.json`,
//! `timestamp.json`, ...), and lists every `*.json` there as a role. tough's datastore also keeps
//! `latest_known_time.json`, so it lives in a subfolder ([`DATASTORE`]) and its roles are mirrored into the
//! metadata folder after every run, failed runs included (the suite checks what a client kept after a refusal).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use tough::{ExpirationEnforcement, Repository, TargetName};

use super::pull::{block_on, folder_url, load_tuf};
use super::DeviceError;

/// tough's datastore inside `--metadata-dir`.
pub const DATASTORE: &str = "tough";
/// The datastore's own clock file, which is not a role.
const CLOCK_FILE: &str = "latest_known_time.json";
/// One request's timeout: the suite's server answers on 127.0.0.1.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Where a client run finds the repository.
#[derive(Debug, Clone)]
pub struct Remote {
    pub metadata_dir: PathBuf,
    pub metadata_url: url::Url,
}

/// `init`: trusts the given root (a copy in the metadata folder; no request is made, nothing is checked yet).
pub fn init(metadata_dir: &Path, trusted_root: &Path) -> Result<(), DeviceError> {
    let bytes = std::fs::read(trusted_root).map_err(|e| DeviceError::io(trusted_root, e))?;
    let dest = metadata_dir.join("root.json");
    crate::fsutil::write_atomic(&dest, &bytes).map_err(|e| DeviceError::io(&dest, e))
}

/// `refresh`: the TUF client workflow for the top-level roles (tough also loads every delegated role).
pub fn refresh(remote: &Remote) -> Result<(), DeviceError> {
    // No target is fetched: the targets URL only has to be a valid one.
    let targets = remote.metadata_url.clone();
    block_on(load(remote, targets))?.map(|_| ())
}

/// `download`: refreshes, then fetches each target in order with the same client, into `target_dir` under its
/// encoded name. A target already there with the length and SHA-256 the metadata states is not fetched again.
pub fn download(
    remote: &Remote,
    targets_url: &url::Url,
    names: &[String],
    target_dir: &Path,
) -> Result<(), DeviceError> {
    block_on(async {
        let repo = load(remote, folder_url(targets_url)).await?;
        for name in names {
            fetch(&repo, name, target_dir).await?;
        }
        Ok(())
    })?
}

/// Loads the repository with the datastore, then mirrors the trusted roles, whatever the outcome.
async fn load(remote: &Remote, targets: url::Url) -> Result<Repository, DeviceError> {
    let datastore = remote.metadata_dir.join(DATASTORE);
    std::fs::create_dir_all(&datastore).map_err(|e| DeviceError::io(&datastore, e))?;
    // tough keeps the newest root it verified in its datastore; before the first refresh, the one `init` stored.
    let kept = datastore.join("root.json");
    let root_path = if kept.is_file() {
        kept
    } else {
        remote.metadata_dir.join("root.json")
    };
    let root = std::fs::read(&root_path).map_err(|e| DeviceError::io(&root_path, e))?;
    let loaded = load_tuf(
        &root,
        (folder_url(&remote.metadata_url), targets),
        &datastore,
        TIMEOUT,
        ExpirationEnforcement::Safe,
    )
    .await;
    mirror(&datastore, &remote.metadata_dir)?;
    loaded.map_err(|e| DeviceError::Channel {
        url: remote.metadata_url.to_string(),
        message: crate::text::error_chain(&e),
    })
}

/// Makes the metadata folder's `*.json` the datastore's roles: copies each (atomically), and removes the roles
/// tough removed (timestamp and snapshot after a key rotation).
fn mirror(datastore: &Path, metadata_dir: &Path) -> Result<(), DeviceError> {
    let roles = json_files(datastore)?;
    for name in &roles {
        let from = datastore.join(name);
        let bytes = std::fs::read(&from).map_err(|e| DeviceError::io(&from, e))?;
        let to = metadata_dir.join(name);
        crate::fsutil::write_atomic(&to, &bytes).map_err(|e| DeviceError::io(&to, e))?;
    }
    for name in json_files(metadata_dir)? {
        // root.json stays: before the first successful load it is the root `init` was given.
        if name != "root.json" && !roles.contains(&name) {
            let path = metadata_dir.join(&name);
            std::fs::remove_file(&path).map_err(|e| DeviceError::io(&path, e))?;
        }
    }
    Ok(())
}

/// The names of the role files (`*.json`, the clock file aside) directly in `dir`.
fn json_files(dir: &Path) -> Result<Vec<String>, DeviceError> {
    let entries = std::fs::read_dir(dir).map_err(|e| DeviceError::io(dir, e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| DeviceError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") && name != CLOCK_FILE && entry.path().is_file() {
            names.push(name);
        }
    }
    Ok(names)
}

/// Fetches one target into `target_dir` (a temporary file there, renamed once the whole stream verified).
async fn fetch(repo: &Repository, name: &str, target_dir: &Path) -> Result<(), DeviceError> {
    let refused = |message: String| DeviceError::Channel {
        url: format!("target {name}"),
        message,
    };
    let target_name = TargetName::new(name).map_err(|e| refused(e.to_string()))?;
    let target = repo
        .targets()
        .signed
        .find_target(&target_name, false)
        .map_err(|e| refused(crate::text::error_chain(&e)))?;
    let dest = target_dir.join(file_name(name));
    if is_cached(&dest, target.length, &target.hashes.sha256) {
        return Ok(());
    }
    let mut stream = match repo.read_target(&target_name).await {
        Ok(Some(s)) => Box::pin(s),
        Ok(None) => return Err(refused("not in the repository's targets".into())),
        Err(e) => return Err(refused(crate::text::error_chain(&e))),
    };
    let mut tmp =
        tempfile::NamedTempFile::new_in(target_dir).map_err(|e| DeviceError::io(target_dir, e))?;
    while let Some(chunk) = stream.next().await {
        let bytes = chunk.map_err(|e| refused(crate::text::error_chain(&e)))?;
        tmp.write_all(&bytes)
            .map_err(|e| DeviceError::io(tmp.path(), e))?;
    }
    tmp.persist(&dest)
        .map_err(|e| DeviceError::io(&dest, e.error))?;
    Ok(())
}

/// Whether `path` holds a file of this length and SHA-256.
fn is_cached(path: &Path, length: u64, sha256: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    match std::fs::read(path) {
        Ok(bytes) => bytes.len() as u64 == length && Sha256::digest(&bytes).as_slice() == sha256,
        Err(_) => false,
    }
}

/// A target path as one file name: bytes other than ASCII letters, digits, `-`, `_` and a `.` that does not lead
/// are percent-encoded, so `a/b` and `../x` stay inside the folder and the same target always gets the same name.
pub fn file_name(target: &str) -> String {
    let mut out = String::with_capacity(target.len());
    for (i, b) in target.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (b == b'.' && i > 0);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() {
        out.push_str("%00");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_file_names_stay_in_the_folder() {
        assert_eq!(file_name("file1.txt"), "file1.txt");
        assert_eq!(file_name("a/b c.txt"), "a%2Fb%20c.txt");
        assert_eq!(file_name("../x"), "%2E.%2Fx");
        assert_eq!(file_name(".."), "%2E.");
        assert_eq!(file_name(""), "%00");
    }

    #[test]
    fn init_stores_the_root_and_mirror_follows_the_datastore() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("initial_root.json");
        std::fs::write(&root, b"{\"signed\":{}}").unwrap();
        let meta = dir.path().join("metadata");
        std::fs::create_dir(&meta).unwrap();
        init(&meta, &root).unwrap();
        assert_eq!(
            std::fs::read(meta.join("root.json")).unwrap(),
            b"{\"signed\":{}}"
        );

        let store = meta.join(DATASTORE);
        std::fs::create_dir(&store).unwrap();
        std::fs::write(store.join("timestamp.json"), b"t").unwrap();
        std::fs::write(store.join(CLOCK_FILE), b"c").unwrap();
        std::fs::write(meta.join("snapshot.json"), b"old").unwrap();
        mirror(&store, &meta).unwrap();
        let mut names = json_files(&meta).unwrap();
        names.sort();
        assert_eq!(names, ["root.json", "timestamp.json"]);
    }

    #[test]
    fn init_names_an_unreadable_root() {
        let dir = tempfile::tempdir().unwrap();
        let err = init(dir.path(), &dir.path().join("missing.json")).unwrap_err();
        assert!(err.to_string().contains("missing.json"), "{err}");
    }
}
