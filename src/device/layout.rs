//! The install layout: release folders, the `current` and `previous` links, staging, pruning, fsync.
//!
//! Every change that a reader can see is one `rename`: a release folder moves from staging into `releases/`
//! complete and synced; a link is made under a temporary name, then renamed over the old one. A crash leaves the
//! old state or the new one, plus staging or trash folders that the next run removes.

use std::path::{Path, PathBuf};

use super::DeviceError;

pub const RELEASES_DIR: &str = "releases";
pub const CURRENT: &str = "current";
pub const PREVIOUS: &str = "previous";
pub const TUF_DIR: &str = "tuf";
const STAGING_PREFIX: &str = ".staging-";
const TRASH_PREFIX: &str = ".trash-";
const LOCK_FILE: &str = ".mlgate-lock";

/// A release's folder name: `VERSION-SHA8` (the first 8 hex digits of the bundle's SHA-256).
pub fn release_dir_name(version: &str, sha256: &str) -> String {
    let short = sha256.get(..8).unwrap_or(sha256);
    // Versions are checked SemVer by the bundle check; anything else is replaced so a name never leaves the folder.
    let version: String = version
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._+-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{version}-{short}")
}

/// Creates the device folder and takes its lock (released by the system when the process ends, crash included).
pub fn open(dir: &Path) -> Result<std::fs::File, DeviceError> {
    for d in [dir.to_path_buf(), dir.join(RELEASES_DIR), dir.join(TUF_DIR)] {
        std::fs::create_dir_all(&d).map_err(|e| DeviceError::io(&d, e))?;
    }
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| DeviceError::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(DeviceError::Io {
            path: dir.display().to_string(),
            message: "another mlgate pull or rollback is running on this folder (its lock is held)"
                .into(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(DeviceError::io(&path, e)),
    }
}

/// Removes what a crashed run left: staging folders (never visible) and trash (already replaced).
pub fn clean(dir: &Path) {
    for base in [dir.to_path_buf(), dir.join(RELEASES_DIR)] {
        let Ok(entries) = std::fs::read_dir(&base) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(STAGING_PREFIX) || name.starts_with(TRASH_PREFIX) {
                let _ = std::fs::remove_dir_all(e.path());
            } else if name.ends_with(".tmp-link") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// A staging folder in the device folder (same file system: the move into `releases/` is a rename).
pub fn staging(dir: &Path) -> Result<tempfile::TempDir, DeviceError> {
    tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(dir)
        .map_err(|e| DeviceError::io(dir, e))
}

/// Makes every file and folder under `root` durable (files first, then the folders that name them).
pub fn sync_tree(root: &Path) -> Result<(), DeviceError> {
    for entry in walkdir::WalkDir::new(root).contents_first(true) {
        let entry = entry.map_err(|e| DeviceError::io(root, e))?;
        let path = entry.path();
        if entry.file_type().is_symlink() {
            continue;
        }
        std::fs::File::open(path)
            .and_then(|f| f.sync_all())
            .map_err(|e| DeviceError::io(path, e))?;
    }
    Ok(())
}

/// Syncs a folder so that a rename in it survives a power cut (where the platform allows it).
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Moves a complete, synced release folder to `releases/NAME`. A folder of that name already there that records
/// the same bundle digest (`same`: its `release.json` says so) is complete (only ever placed by this rename, only
/// ever removed through the trash) and maybe what `current` points at: it is kept, and the staged copy dropped.
/// One that records another digest (8 hex digits of a name can collide) is replaced through the trash.
pub fn place_release(
    dir: &Path,
    staged: &Path,
    name: &str,
    same: impl Fn(&Path) -> bool,
) -> Result<PathBuf, DeviceError> {
    let releases = dir.join(RELEASES_DIR);
    let dest = releases.join(name);
    if dest.is_dir() {
        if same(&dest) {
            let _ = std::fs::remove_dir_all(staged);
            return Ok(dest);
        }
        trash(dir, &dest)?;
    }
    std::fs::rename(staged, &dest).map_err(|e| DeviceError::io(&dest, e))?;
    sync_dir(&releases);
    Ok(dest)
}

/// Removes a release folder: renamed into the trash first (one atomic step), then deleted.
pub fn trash(dir: &Path, path: &Path) -> Result<(), DeviceError> {
    let bin = tempfile::Builder::new()
        .prefix(TRASH_PREFIX)
        .tempdir_in(dir)
        .map_err(|e| DeviceError::io(dir, e))?;
    let to = bin.path().join("r");
    std::fs::rename(path, &to).map_err(|e| DeviceError::io(path, e))?;
    if let Some(parent) = path.parent() {
        sync_dir(parent);
    }
    drop(bin);
    Ok(())
}

/// Points the link `name` (`current` or `previous`) at `releases/RELEASE`, atomically: a new link under a
/// temporary name, then a rename over the old one, then a sync of the folder.
pub fn set_link(dir: &Path, name: &str, release: &str) -> Result<(), DeviceError> {
    let tmp = dir.join(format!("{name}.tmp-link"));
    let _ = std::fs::remove_file(&tmp);
    let target = Path::new(RELEASES_DIR).join(release);
    symlink(&target, &tmp).map_err(|e| DeviceError::io(&tmp, e))?;
    let link = dir.join(name);
    std::fs::rename(&tmp, &link).map_err(|e| DeviceError::io(&link, e))?;
    sync_dir(dir);
    Ok(())
}

/// Removes a link (a missing one is fine).
pub fn remove_link(dir: &Path, name: &str) -> Result<(), DeviceError> {
    let link = dir.join(name);
    match std::fs::remove_file(&link) {
        Ok(()) => {
            sync_dir(dir);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(DeviceError::io(&link, e)),
    }
}

/// The release folder name a link points at, when it is a link into `releases/`.
pub fn link_target(dir: &Path, name: &str) -> Option<String> {
    let t = std::fs::read_link(dir.join(name)).ok()?;
    let rel = t.strip_prefix(RELEASES_DIR).ok()?;
    Some(rel.to_str()?.to_string())
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_target: &Path, _link: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other(
        "the device layout needs symbolic links (Linux devices)",
    ))
}

/// Keeps the newest `keep` releases of `order` (oldest first) and any named in `pinned`; removes the others.
/// Returns the names kept, in order.
pub fn prune(dir: &Path, order: &[String], keep: usize, pinned: &[&str]) -> Vec<String> {
    let cut = order.len().saturating_sub(keep);
    let mut kept = Vec::new();
    for (i, name) in order.iter().enumerate() {
        if i >= cut || pinned.contains(&name.as_str()) {
            kept.push(name.clone());
            continue;
        }
        let path = dir.join(RELEASES_DIR).join(name);
        if path.exists() && trash(dir, &path).is_err() {
            // Still on disk: keep it listed so a later run removes it.
            kept.push(name.clone());
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_names_are_version_and_short_digest() {
        assert_eq!(
            release_dir_name("1.2.0", &"ab".repeat(32)),
            "1.2.0-abababab"
        );
        assert_eq!(release_dir_name("../x", "12"), ".._x-12");
    }

    #[test]
    fn links_swap_and_releases_prune() {
        let d = tempfile::tempdir().unwrap();
        let _lock = open(d.path()).unwrap();
        for r in ["a", "b", "c"] {
            let s = staging(d.path()).unwrap();
            std::fs::write(s.path().join("f"), r).unwrap();
            sync_tree(s.path()).unwrap();
            place_release(d.path(), &s.keep(), r, |_| false).unwrap();
        }
        set_link(d.path(), CURRENT, "c").unwrap();
        set_link(d.path(), PREVIOUS, "a").unwrap();
        assert_eq!(link_target(d.path(), CURRENT).as_deref(), Some("c"));
        assert_eq!(
            std::fs::read_to_string(d.path().join("current/f")).unwrap(),
            "c"
        );
        let order: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let kept = prune(d.path(), &order, 1, &["a", "c"]);
        assert_eq!(kept, ["a", "c"]);
        assert!(!d.path().join("releases/b").exists());
        clean(d.path());
        let left: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with('.') && n != LOCK_FILE)
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn a_second_holder_of_the_lock_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let _lock = open(d.path()).unwrap();
        let e = open(d.path()).unwrap_err().to_string();
        assert!(
            e.contains("another mlgate pull or rollback is running"),
            "{e}"
        );
    }
}
