//! `mlgate publish --github OWNER/REPO --tag TAG`: the approved bundles are hosted as assets of a GitHub Release
//! instead of the channel's `targets/` folder, and their TUF targets record the assets' download URLs.
//!
//! Asset names: a bundle is uploaded as `<sha256>.<name>` when the channel uses consistent snapshots (mlgate's
//! always do), which is the file name every TUF client (tough, python-tuf) requests for target `<name>` under a
//! targets base URL. So `https://github.com/OWNER/REPO/releases/download/TAG/` is a standard targets base URL for
//! the targets published under TAG, and the recorded URL (`custom.mlgate.url`) is exactly what such a client
//! fetches there. Next to each bundle go its sidecars when they exist (`BUNDLE.minisig`, `BUNDLE.intoto.jsonl`,
//! uploaded as `<asset>.minisig`, `<asset>.intoto.jsonl`) and one `SHA256SUMS` of this run's assets.
//!
//! The release is published and its assets confirmed before the channel's metadata is written: a device never
//! reads a target whose asset is missing. A crash in between leaves a published release and an unchanged channel;
//! the re-run keeps every asset (same digests) and writes the metadata.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::github::release::{self, ReleaseFile, Synced};
use crate::github::Client;

use super::ChannelError;

/// Where to host the bundles.
pub struct GithubRelease {
    pub client: Client,
    /// `OWNER/REPO`.
    pub repo: String,
    pub tag: String,
}

/// A bundle to host: its file, its target name and SHA-256 (hex).
pub struct Hosted<'a> {
    pub path: &'a Path,
    pub name: &'a str,
    pub sha256: &'a str,
}

/// Sidecar files uploaded with a bundle when they sit next to it.
const SIDECARS: [&str; 2] = ["minisig", "intoto.jsonl"];

/// The asset name of a bundle: what a TUF client requests for its target.
pub fn asset_name(name: &str, sha256: &str, consistent_snapshot: bool) -> String {
    if consistent_snapshot {
        format!("{sha256}.{name}")
    } else {
        name.to_string()
    }
}

/// Uploads and publishes; returns each bundle's download URL by target name, or the conflicts (exit 1).
pub fn host(
    gh: &GithubRelease,
    bundles: &[Hosted<'_>],
    consistent_snapshot: bool,
) -> Result<Result<BTreeMap<String, String>, Vec<String>>, ChannelError> {
    release::check_repo(&gh.repo)?;
    release::check_tag(&gh.tag)?;
    let sums_dir = tempfile::tempdir().map_err(|e| ChannelError::io(&std::env::temp_dir(), e))?;
    let mut files = Vec::new();
    let mut asset_of = BTreeMap::new();
    for b in bundles {
        let asset = asset_name(b.name, b.sha256, consistent_snapshot);
        release::check_asset_name(&asset)?;
        files.push(file(b.path, &asset, Some(b.sha256))?);
        for ext in SIDECARS {
            let side = sidecar(b.path, ext);
            if side.is_file() {
                files.push(file(&side, &format!("{asset}.{ext}"), None)?);
            }
        }
        asset_of.insert(b.name.to_string(), asset);
    }
    let sums = write_sums(sums_dir.path(), &files)?;
    files.push(sums);
    let synced = match release::sync(&gh.client, &gh.repo, &gh.tag, &files)? {
        Ok(s) => s,
        Err(problems) => return Ok(Err(problems)),
    };
    urls_of(&synced, &asset_of).map(Ok)
}

fn sidecar(bundle: &Path, ext: &str) -> PathBuf {
    let mut s = bundle.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// A file to upload; its SHA-256 computed streaming unless already known (a bundle's, from its TUF target).
fn file(path: &Path, name: &str, sha256: Option<&str>) -> Result<ReleaseFile, ChannelError> {
    let size = std::fs::metadata(path)
        .map_err(|e| ChannelError::io(path, e))?
        .len();
    let sha256 = match sha256 {
        Some(s) => s.to_string(),
        None => sha256_file(path)?,
    };
    Ok(ReleaseFile {
        name: name.to_string(),
        path: path.to_path_buf(),
        sha256,
        size,
    })
}

fn sha256_file(path: &Path) -> Result<String, ChannelError> {
    use sha2::Digest;
    let mut f = std::fs::File::open(path).map_err(|e| ChannelError::io(path, e))?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = std::io::Read::read(&mut f, &mut buf).map_err(|e| ChannelError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(crate::sign::hex(&h.finalize()))
}

/// `SHA256SUMS` of the assets (`sha256sum -c` reads it), sorted by name so a re-run writes the same bytes.
fn write_sums(dir: &Path, files: &[ReleaseFile]) -> Result<ReleaseFile, ChannelError> {
    let mut lines: Vec<String> = files
        .iter()
        .map(|f| format!("{}  {}\n", f.sha256, f.name))
        .collect();
    lines.sort_by(|a, b| a[66..].cmp(&b[66..]));
    let path = dir.join("SHA256SUMS");
    let mut out = std::fs::File::create(&path).map_err(|e| ChannelError::io(&path, e))?;
    out.write_all(lines.concat().as_bytes())
        .map_err(|e| ChannelError::io(&path, e))?;
    file(&path, "SHA256SUMS", None)
}

fn urls_of(
    synced: &Synced,
    asset_of: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ChannelError> {
    let mut out = BTreeMap::new();
    for (name, asset) in asset_of {
        let url = synced.urls.get(asset).ok_or_else(|| {
            ChannelError::tuf(format!("the release lists no URL for asset {asset}"))
        })?;
        out.insert(name.clone(), url.clone());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundles_are_named_as_tuf_clients_request_them() {
        assert_eq!(asset_name("w.tar.gz", "ab", true), "ab.w.tar.gz");
        assert_eq!(asset_name("w.tar.gz", "ab", false), "w.tar.gz");
        assert_eq!(
            sidecar(Path::new("dist/w.tar.gz"), "minisig"),
            PathBuf::from("dist/w.tar.gz.minisig")
        );
    }

    #[test]
    fn sums_are_sorted_by_name() {
        let d = tempfile::tempdir().unwrap();
        let f = |name: &str, c: char| ReleaseFile {
            name: name.into(),
            path: d.path().join(name),
            sha256: c.to_string().repeat(64),
            size: 1,
        };
        let sums = write_sums(d.path(), &[f("b", 'b'), f("a", 'a')]).unwrap();
        let text = std::fs::read_to_string(&sums.path).unwrap();
        assert_eq!(
            text,
            format!("{}  a\n{}  b\n", "a".repeat(64), "b".repeat(64))
        );
        assert_eq!(sums.name, "SHA256SUMS");
    }
}
