//! Bundle archives: tar.gz files that are byte-identical across runs and machines, and a reader that refuses
//! anything a hostile archive could use to write outside its folder or to exhaust the device.
//!
//! Written: entries sorted by name, regular files only, mode 0644, uid/gid 0, no user or group names, a fixed
//! mtime, and a gzip header with mtime 0, no file name and OS "unknown" (255), at a fixed compression level.
//! Read: only regular files (and plain folders) with relative paths made of normal components; `..`, absolute
//! paths, symbolic and hard links, devices, duplicate names, entries over the size limit and too many entries
//! are refused with the entry's name.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path};

use flate2::read::GzDecoder;
use flate2::{Compression, GzBuilder};
use tar::{EntryType, Header};

use super::EdgeError;

/// The mtime written into every entry: 1980-01-01, the earliest date every archive format and tool accepts.
pub const FIXED_MTIME: u64 = 315_532_800;

/// Limits a reader holds an archive to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest entry, in bytes.
    pub max_entry_bytes: u64,
    /// Largest total of all entries, in bytes.
    pub max_total_bytes: u64,
    /// Most entries.
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entry_bytes: 4 << 30,
            max_total_bytes: 8 << 30,
            max_entries: 10_000,
        }
    }
}

/// Writes `files` (archive name -> bytes) as a deterministic tar.gz.
pub fn write_tar_gz(files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, EdgeError> {
    let gz = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::new(6));
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    // BTreeMap iterates in byte order of the names: the same order on every machine.
    for (name, bytes) in files {
        check_name(name).map_err(|m| EdgeError::Archive {
            path: "(bundle being written)".into(),
            message: format!("entry {name:?}: {m}"),
        })?;
        let mut h = Header::new_ustar();
        h.set_entry_type(EntryType::Regular);
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(FIXED_MTIME);
        tar.append_data(&mut h, name, bytes.as_slice())
            .map_err(|e| EdgeError::Archive {
                path: "(bundle being written)".into(),
                message: format!("entry {name:?}: {e}"),
            })?;
    }
    let gz = tar.into_inner().map_err(|e| EdgeError::Archive {
        path: "(bundle being written)".into(),
        message: e.to_string(),
    })?;
    gz.finish().map_err(|e| EdgeError::Archive {
        path: "(bundle being written)".into(),
        message: e.to_string(),
    })
}

/// A name this module writes and accepts: relative, `/`-separated, only normal components.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("an empty name".into());
    }
    if name.starts_with('/') || name.starts_with('\\') || name.contains(':') {
        return Err("an absolute path".into());
    }
    if name.contains('\\') {
        return Err("a backslash in the name".into());
    }
    for c in Path::new(name).components() {
        match c {
            Component::Normal(_) => {}
            Component::ParentDir => {
                return Err("a `..` component: it would point outside the bundle".into())
            }
            Component::CurDir => return Err("a `.` component".into()),
            Component::RootDir | Component::Prefix(_) => return Err("an absolute path".into()),
        }
    }
    Ok(())
}

/// Reads every file of the tar.gz at `path` into memory, refusing what [`Limits`] and the module's rules refuse.
pub fn read_tar_gz(path: &Path, limits: Limits) -> Result<BTreeMap<String, Vec<u8>>, EdgeError> {
    let shown = path.display().to_string();
    let bad = |message: String| EdgeError::Archive {
        path: shown.clone(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| EdgeError::Io {
        path: shown.clone(),
        err: e,
    })?;
    let mut archive = tar::Archive::new(GzDecoder::new(std::io::BufReader::new(file)));
    let mut files = BTreeMap::new();
    let mut total = 0u64;
    let entries = archive
        .entries()
        .map_err(|e| bad(format!("not a tar.gz archive: {e}")))?;
    for (i, entry) in entries.enumerate() {
        let mut entry =
            entry.map_err(|e| bad(format!("entry {}: not a valid tar entry: {e}", i + 1)))?;
        if i >= limits.max_entries {
            return Err(bad(format!("more than {} entries", limits.max_entries)));
        }
        let raw = entry
            .path()
            .map_err(|e| bad(format!("entry {}: unreadable name: {e}", i + 1)))?;
        let name = raw.to_string_lossy().replace('\\', "/");
        let kind = entry.header().entry_type();
        match kind {
            EntryType::Regular | EntryType::Continuous => {}
            EntryType::Directory => {
                check_name(name.trim_end_matches('/'))
                    .map_err(|m| bad(format!("entry {name:?}: {m}")))?;
                continue;
            }
            EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .ok()
                    .flatten()
                    .map(|t| t.display().to_string());
                return Err(bad(format!(
                    "entry {name:?} is a symbolic link (to {}): bundles hold regular files only",
                    target.unwrap_or_default()
                )));
            }
            EntryType::Link => {
                let target = entry
                    .link_name()
                    .ok()
                    .flatten()
                    .map(|t| t.display().to_string());
                return Err(bad(format!(
                    "entry {name:?} is a hard link (to {}): bundles hold regular files only",
                    target.unwrap_or_default()
                )));
            }
            other => {
                return Err(bad(format!(
                    "entry {name:?} is a {other:?} entry: bundles hold regular files only"
                )))
            }
        }
        check_name(&name).map_err(|m| bad(format!("entry {name:?}: {m}")))?;
        let size = entry.header().size().unwrap_or(u64::MAX);
        if size > limits.max_entry_bytes {
            return Err(bad(format!(
                "entry {name:?} is {size} bytes, over the limit of {} bytes",
                limits.max_entry_bytes
            )));
        }
        total = total.saturating_add(size);
        if total > limits.max_total_bytes {
            return Err(bad(format!(
                "the entries add up to more than {} bytes",
                limits.max_total_bytes
            )));
        }
        if files.contains_key(&name) {
            return Err(bad(format!(
                "entry {name:?} appears twice: a later copy could replace what was checked"
            )));
        }
        let mut bytes = Vec::with_capacity(size.min(1 << 26) as usize);
        // Never trust the header's size: read at most one byte more than it allows.
        (&mut entry)
            .take(limits.max_entry_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| bad(format!("entry {name:?}: {e}")))?;
        if bytes.len() as u64 > limits.max_entry_bytes {
            return Err(bad(format!(
                "entry {name:?} is over the limit of {} bytes",
                limits.max_entry_bytes
            )));
        }
        files.insert(name, bytes);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_outside_the_bundle_are_refused() {
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "C:/x",
            "a\\b",
            "./a",
            "",
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        for good in ["manifest.json", "models/m.onnx", "a/b/c.bin"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn output_is_byte_identical() {
        let files = BTreeMap::from([
            ("b.txt".to_string(), b"bee".to_vec()),
            ("a/model.onnx".to_string(), vec![7u8; 5000]),
        ]);
        let one = write_tar_gz(&files).unwrap();
        let two = write_tar_gz(&files).unwrap();
        assert_eq!(one, two);
        // gzip header: magic, deflate, no flags, mtime 0, OS 255.
        assert_eq!(&one[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.tar.gz");
        std::fs::write(&p, &one).unwrap();
        assert_eq!(read_tar_gz(&p, Limits::default()).unwrap(), files);
    }
}
