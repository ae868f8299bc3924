//! Reading a channel (tough's own client, over the folder) and writing new metadata into it atomically, in TUF's
//! order: targets, then snapshot, then timestamp.
//!
//! Every version of targets and snapshot has its own file name (consistent snapshots), so writing version N+1
//! never touches what clients read now; `timestamp.json` is the one file replaced, by a rename, last. A crash at
//! any point leaves either the old timestamp (and so the old, complete set) or the new one (and the new set).

use std::io::Write;
use std::path::{Path, PathBuf};

use tough::{ExpirationEnforcement, FilesystemTransport, Repository, RepositoryLoader};

use super::config::ChannelConfig;
use super::ChannelError;
/// Kept here too: the channel's writing side names it by this path.
pub use crate::text::error_chain;

pub const SPEC_VERSION: &str = "1.0.0";
pub const ROOT_FILE: &str = "root.json";
pub const TIMESTAMP_FILE: &str = "timestamp.json";
pub const TARGETS_DIR: &str = "targets";
const STAGING_PREFIX: &str = ".mlgate-staging-";
const LOCK_FILE: &str = ".mlgate-lock";

/// Test hook: `MLGATE_CHANNEL_FAULT=after-targets` (or `after-snapshot`) aborts the process right after that
/// file is in place, as a crash would. Tests use it to show that the channel still reads consistently.
const FAULT_ENV: &str = "MLGATE_CHANNEL_FAULT";

/// A channel folder, its settings and its verified metadata.
pub struct Channel {
    pub dir: PathBuf,
    pub config: ChannelConfig,
    pub repo: Repository,
}

impl Channel {
    /// Loads the channel at `dir`: its settings, then its metadata through tough's client, from the first root
    /// (walking every rotation) to the timestamp. Expiry is not enforced here: the publisher must be able to read
    /// an expired channel to refresh it, and `status` reports expiry itself.
    pub fn load(dir: &Path) -> Result<Channel, ChannelError> {
        if !dir.is_dir() {
            return Err(ChannelError::NotAChannel {
                path: dir.display().to_string(),
                message: "no such folder".into(),
            });
        }
        let config = ChannelConfig::load(dir)?;
        let dir = std::fs::canonicalize(dir).map_err(|e| ChannelError::io(dir, e))?;
        let first_root = ["1.root.json", ROOT_FILE]
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.is_file())
            .ok_or_else(|| ChannelError::NotAChannel {
                path: dir.display().to_string(),
                message: "no root.json".into(),
            })?;
        let root_bytes =
            std::fs::read(&first_root).map_err(|e| ChannelError::io(&first_root, e))?;
        let metadata_url = dir_url(&dir)?;
        let targets_url = dir_url(&dir.join(TARGETS_DIR))?;
        let repo = super::block_on(
            RepositoryLoader::new(&root_bytes, metadata_url, targets_url)
                .transport(FilesystemTransport)
                .expiration_enforcement(ExpirationEnforcement::Unsafe)
                .load(),
        )?
        .map_err(|e| ChannelError::Malformed {
            path: dir.display().to_string(),
            message: error_chain(&e),
        })?;
        let channel = Channel { dir, config, repo };
        channel.check_root_copy()?;
        Ok(channel)
    }

    /// `root.json` is what devices pin and what the editor starts from: it must be the newest root.
    fn check_root_copy(&self) -> Result<(), ChannelError> {
        let path = self.dir.join(ROOT_FILE);
        let bytes = std::fs::read(&path).map_err(|e| ChannelError::io(&path, e))?;
        let copy: tough::schema::Signed<tough::schema::Root> = serde_json::from_slice(&bytes)
            .map_err(|e| ChannelError::Malformed {
                path: path.display().to_string(),
                message: format!("not a TUF root: {e}"),
            })?;
        if copy.signed != self.repo.root().signed {
            return Err(ChannelError::Malformed {
                path: path.display().to_string(),
                message: format!(
                    "root.json is version {}, but the newest root is version {}",
                    copy.signed.version,
                    self.repo.root().signed.version
                ),
            });
        }
        Ok(())
    }

    /// Loads the channel for writing: first takes the channel's lock (`.mlgate-lock`, an advisory file lock the
    /// system releases when the process ends, crash included), so two publishers never interleave versions.
    pub fn load_for_writing(dir: &Path) -> Result<(Channel, std::fs::File), ChannelError> {
        if !dir.join(super::config::CONFIG_FILE).is_file() {
            // Let load() say what is missing.
            return Err(Channel::load(dir)
                .err()
                .unwrap_or_else(|| ChannelError::NotAChannel {
                    path: dir.display().to_string(),
                    message: "no settings file".into(),
                }));
        }
        let path = dir.join(LOCK_FILE);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| ChannelError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(ChannelError::Io {
                    path: dir.display().to_string(),
                    message: "another mlgate is writing this channel (its lock is held); run one publish at a time"
                        .into(),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(ChannelError::io(&path, e)),
        }
        Ok((Channel::load(dir)?, file))
    }

    pub fn root_path(&self) -> PathBuf {
        self.dir.join(ROOT_FILE)
    }
}

fn dir_url(dir: &Path) -> Result<url::Url, ChannelError> {
    url::Url::from_directory_path(dir)
        .map_err(|()| ChannelError::io(dir, "cannot be turned into a file URL"))
}

/// A staging folder inside the channel (same file system, so renames out of it are atomic). Staging folders a
/// crashed run left behind are removed first: nothing in them was ever part of the channel.
pub fn staging(dir: &Path) -> Result<tempfile::TempDir, ChannelError> {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(STAGING_PREFIX) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(dir)
        .map_err(|e| ChannelError::io(dir, e))
}

/// Moves `names` from `staged` into `dir`, in the order given, each made durable before it becomes visible.
pub fn install(staged: &Path, dir: &Path, names: &[String]) -> Result<(), ChannelError> {
    for name in names {
        let from = staged.join(name);
        let to = dir.join(name);
        std::fs::File::open(&from)
            .and_then(|f| f.sync_all())
            .map_err(|e| ChannelError::io(&from, e))?;
        std::fs::rename(&from, &to).map_err(|e| ChannelError::io(&to, e))?;
        sync_dir(dir);
        make_world_readable(&to);
        fault_point(name);
    }
    Ok(())
}

fn fault_point(name: &str) {
    let Ok(fault) = std::env::var(FAULT_ENV) else {
        return;
    };
    let role = name
        .trim_end_matches(".json")
        .rsplit('.')
        .next()
        .unwrap_or("");
    if fault == format!("after-{role}") {
        let _ = writeln!(std::io::stderr(), "{FAULT_ENV}: aborting after {name}");
        std::process::abort();
    }
}

/// The rename itself is durable once the folder is synced (where the platform allows it).
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Metadata and bundles are served to everyone; temporary files are created owner-only.
pub fn make_world_readable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644));
    }
    let _ = path;
}

/// Copies a bundle into `targets/` under its consistent-snapshot name `<sha256>.<name>`, through a temporary
/// file and a rename. An existing file of that name already holds those bytes (its name is their digest).
pub fn store_target(
    dir: &Path,
    bundle: &Path,
    name: &str,
    sha256_hex: &str,
) -> Result<PathBuf, ChannelError> {
    let tdir = dir.join(TARGETS_DIR);
    std::fs::create_dir_all(&tdir).map_err(|e| ChannelError::io(&tdir, e))?;
    let dest = tdir.join(format!("{sha256_hex}.{name}"));
    if dest.is_file() {
        return Ok(dest);
    }
    let mut tmp = tempfile::NamedTempFile::new_in(&tdir).map_err(|e| ChannelError::io(&tdir, e))?;
    let mut src = std::fs::File::open(bundle).map_err(|e| ChannelError::io(bundle, e))?;
    std::io::copy(&mut src, tmp.as_file_mut()).map_err(|e| ChannelError::io(&dest, e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| ChannelError::io(&dest, e))?;
    tmp.persist(&dest)
        .map_err(|e| ChannelError::io(&dest, e.error))?;
    make_world_readable(&dest);
    Ok(dest)
}
