//! DVC-tracked data, read from the DVC remote without `dvc pull` and without Python.
//!
//! A path is tracked when a `PATH.dvc` pointer (or a `.dvc` of a folder above it) or a `dvc.lock` stage output
//! names it. Its bytes are in the remote that `.dvc/config` (then `.dvc/config.local`) names, content-addressed
//! by MD5: `files/md5/XX/REST` since DVC 3 (outputs that say `hash: md5`), `XX/REST` in DVC 2's layout. A folder
//! output's MD5 ends in `.dir` and names a JSON manifest of `{relpath, md5}`. What is read is checked against the
//! MD5 the pointer names.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::data::DataError;

/// Where a DVC remote keeps its objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    /// An object-store URL (`s3://bucket/prefix`, ...).
    Url(String),
    /// A folder (a "local remote"), absolute.
    Folder(PathBuf),
}

impl Store {
    /// The location of the object `rel` in this store.
    fn join(&self, rel: &str) -> Store {
        match self {
            Store::Url(u) => Store::Url(format!("{}/{rel}", u.trim_end_matches('/'))),
            Store::Folder(p) => Store::Folder(p.join(rel)),
        }
    }

    /// As shown in reports, and as the allow-list of remote locations matches it.
    pub fn shown(&self) -> String {
        match self {
            Store::Url(u) => u.clone(),
            Store::Folder(p) => p.display().to_string(),
        }
    }
}

/// A DVC remote as `.dvc/config` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteConfig {
    pub name: String,
    pub store: Store,
    /// `endpointurl`: an S3-compatible server.
    pub endpoint: Option<String>,
}

/// A tracked file, resolved to its object in the remote.
#[derive(Debug, Clone)]
pub struct Tracked {
    /// The `.dvc` file or `dvc.lock` that names it, as shown.
    pub pointer: String,
    /// The file's MD5 (the version of the file that the pointer names).
    pub md5: String,
    pub remote: RemoteConfig,
    /// The object that holds the file's bytes.
    pub object: Store,
    /// DVC 2's layout and hash: a text file's MD5 was taken with CRLF line ends turned into LF.
    pub dvc2: bool,
}

fn err(path: &Path, message: impl Into<String>) -> DataError {
    DataError::Format {
        path: path.display().to_string(),
        message: message.into(),
        help: Some("DVC files are written by `dvc add` / `dvc repro`; see also .dvc/config".into()),
    }
}

/// One `outs:` entry of a `.dvc` file or a `dvc.lock` stage.
#[derive(Debug, Clone, Deserialize)]
pub struct Out {
    pub path: String,
    #[serde(default)]
    pub md5: Option<String>,
    /// `md5` in DVC 3's files; absent in DVC 2's.
    #[serde(default)]
    pub hash: Option<String>,
    /// The remote this output goes to, when not the default.
    #[serde(default)]
    pub remote: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DvcFile {
    #[serde(default)]
    outs: Vec<Out>,
}

#[derive(Debug, Deserialize)]
struct Stage {
    #[serde(default)]
    outs: Vec<Out>,
}

#[derive(Debug, Deserialize)]
struct LockFile {
    #[serde(default)]
    stages: HashMap<String, Stage>,
}

/// The outputs of a `.dvc` file.
pub fn parse_dvc_file(text: &str, path: &Path) -> Result<Vec<Out>, DataError> {
    let f: DvcFile = serde_saphyr::from_str(text).map_err(|e| {
        err(
            path,
            format!("not a readable .dvc file: {}", first_line(&e.to_string())),
        )
    })?;
    Ok(f.outs)
}

/// The outputs of every stage of a `dvc.lock`.
pub fn parse_lock(text: &str, path: &Path) -> Result<Vec<Out>, DataError> {
    let f: LockFile = serde_saphyr::from_str(text).map_err(|e| {
        err(
            path,
            format!("not a readable dvc.lock: {}", first_line(&e.to_string())),
        )
    })?;
    let mut names: Vec<_> = f.stages.into_iter().collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(names.into_iter().flat_map(|(_, s)| s.outs).collect())
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

/// `.dvc/config` in DVC's INI dialect (configobj): `[core]` and `['remote "name"']` sections of `key = value`.
/// Returns section → key → value.
pub fn parse_ini(text: &str) -> HashMap<String, HashMap<String, String>> {
    let mut out: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut section = String::new();
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if let Some(inner) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            let inner = inner.trim();
            // `'remote "s3"'` and `remote "s3"` are both written.
            let unquoted = inner
                .strip_prefix('\'')
                .and_then(|r| r.strip_suffix('\''))
                .unwrap_or(inner);
            section = unquoted
                .replace('"', "")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            continue;
        }
        if let Some((k, v)) = t.split_once('=') {
            let v = v.trim();
            let v = v
                .strip_prefix('\'')
                .and_then(|r| r.strip_suffix('\''))
                .or_else(|| v.strip_prefix('"').and_then(|r| r.strip_suffix('"')))
                .unwrap_or(v);
            out.entry(section.clone())
                .or_default()
                .insert(k.trim().to_ascii_lowercase(), v.to_string());
        }
    }
    out
}

/// The DVC project that holds `path`: the nearest folder upward with a `.dvc` folder.
pub fn project_root(path: &Path) -> Option<PathBuf> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    abs.ancestors()
        .skip(1)
        .find(|d| d.join(".dvc").is_dir())
        .map(Path::to_path_buf)
}

/// The remote named `name` (else the default, `core.remote`) in `.dvc/config` and `.dvc/config.local`.
pub fn remote(root: &Path, name: Option<&str>) -> Result<RemoteConfig, DataError> {
    let dir = root.join(".dvc");
    let mut ini: HashMap<String, HashMap<String, String>> = HashMap::new();
    for file in ["config", "config.local"] {
        let p = dir.join(file);
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        for (section, keys) in parse_ini(&text) {
            ini.entry(section).or_default().extend(keys);
        }
    }
    let config = dir.join("config");
    let name = match name {
        Some(n) => n.to_string(),
        None => ini
            .get("core")
            .and_then(|c| c.get("remote"))
            .cloned()
            .ok_or_else(|| {
                err(
                    &config,
                    "no default remote (`core.remote`); run `dvc remote add -d NAME URL`",
                )
            })?,
    };
    let section = ini
        .get(&format!("remote {name}"))
        .ok_or_else(|| err(&config, format!("no remote named {name:?}")))?;
    let url = section
        .get("url")
        .ok_or_else(|| err(&config, format!("remote {name:?} has no url")))?;
    let store = if super::is_url(url) {
        Store::Url(url.clone())
    } else if url.contains("://") {
        return Err(err(
            &config,
            format!("remote {name:?}: {url} is not read by mlgate (s3://, gs://, azure:// or a folder are)"),
        ));
    } else {
        // DVC resolves a relative folder against the config file's folder.
        let p = Path::new(url);
        Store::Folder(if p.is_absolute() {
            p.to_path_buf()
        } else {
            dir.join(p)
        })
    };
    Ok(RemoteConfig {
        name,
        store,
        endpoint: section.get("endpointurl").cloned(),
    })
}

/// Where the object of `md5` is in a remote: DVC 3's `files/md5/XX/REST` or DVC 2's `XX/REST`.
fn is_md5(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn object_path(md5: &str, dvc2: bool) -> String {
    // Callers pass a checked MD5; anything else is kept whole rather than cut inside a character.
    let (a, b) = md5.get(..2).zip(md5.get(2..)).unwrap_or(("", md5));
    if dvc2 {
        format!("{a}/{b}")
    } else {
        format!("files/md5/{a}/{b}")
    }
}

/// A pointer's output that tracks `target` (the output itself, or a folder above it), and `target`'s path
/// inside that folder.
struct Hit {
    pointer: PathBuf,
    out: Out,
    inside: Option<String>,
}

fn match_out(outs: Vec<Out>, base: &Path, target: &Path, pointer: &Path) -> Option<Hit> {
    for out in outs {
        let out_path = normalize(&base.join(&out.path));
        if out_path == target {
            return Some(Hit {
                pointer: pointer.to_path_buf(),
                out,
                inside: None,
            });
        }
        if let Ok(rest) = target.strip_prefix(&out_path) {
            let inside = rest.to_string_lossy().replace('\\', "/");
            return Some(Hit {
                pointer: pointer.to_path_buf(),
                out,
                inside: Some(inside),
            });
        }
    }
    None
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// The `.dvc` file or `dvc.lock` output that tracks `target`, searching from its folder up to the project root.
fn find_pointer(root: &Path, target: &Path) -> Result<Option<Hit>, DataError> {
    for a in target.ancestors() {
        if !a.starts_with(root) || a == root {
            break;
        }
        let mut name = a.as_os_str().to_owned();
        name.push(".dvc");
        let pointer = PathBuf::from(name);
        if pointer.is_file() {
            let text = read(&pointer)?;
            let outs = parse_dvc_file(&text, &pointer)?;
            let base = pointer.parent().unwrap_or(root);
            if let Some(hit) = match_out(outs, base, target, &pointer) {
                return Ok(Some(hit));
            }
        }
    }
    for dir in target.ancestors().skip(1) {
        if !dir.starts_with(root) {
            break;
        }
        let lock = dir.join("dvc.lock");
        if lock.is_file() {
            let outs = parse_lock(&read(&lock)?, &lock)?;
            if let Some(hit) = match_out(outs, dir, target, &lock) {
                return Ok(Some(hit));
            }
        }
    }
    Ok(None)
}

fn read(p: &Path) -> Result<String, DataError> {
    std::fs::read_to_string(p).map_err(|e| DataError::Io {
        path: p.display().to_string(),
        err: e,
    })
}

/// Reads a small object (a folder manifest) from a remote.
pub type Fetch<'a> = dyn Fn(&Store, &RemoteConfig) -> Result<Vec<u8>, DataError> + 'a;

/// The tracked file at `path`, when DVC tracks it: its pointer, MD5 and object. A folder output's manifest is
/// fetched (by `fetch`) to find the file's own MD5. `None` when no pointer names the path.
pub fn locate(path: &Path, fetch: &Fetch<'_>) -> Result<Option<Tracked>, DataError> {
    let Some(root) = project_root(path) else {
        return Ok(None);
    };
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| DataError::Io {
                path: path.display().to_string(),
                err: e,
            })?
            .join(path)
    };
    let target = normalize(&abs);
    let Some(hit) = find_pointer(&root, &target)? else {
        return Ok(None);
    };
    let shown_pointer = hit
        .pointer
        .strip_prefix(&root)
        .unwrap_or(&hit.pointer)
        .display()
        .to_string();
    let md5 = hit.out.md5.clone().ok_or_else(|| {
        err(
            &hit.pointer,
            format!(
                "output {:?} has no md5 (is it committed: `dvc commit`?)",
                hit.out.path
            ),
        )
    })?;
    // The MD5 names the object's path in the remote: 32 hex digits (then `.dir` for a folder) and nothing else.
    // Fuzzing found a pointer whose other text panicked in `object_path`; `../` would also leave the cache.
    if !is_md5(md5.strip_suffix(".dir").unwrap_or(&md5)) {
        return Err(err(&hit.pointer, format!("{md5:?} is not an MD5")));
    }
    let dvc2 = hit.out.hash.as_deref() != Some("md5");
    let remote = remote(&root, hit.out.remote.as_deref())?;
    let md5 = match (&hit.inside, md5.strip_suffix(".dir")) {
        (None, None) => md5,
        (None, Some(_)) => {
            return Err(err(
                &hit.pointer,
                format!(
                    "{:?} is a folder output: name a file inside it",
                    hit.out.path
                ),
            ))
        }
        (Some(inside), None) => {
            return Err(err(
                &hit.pointer,
                format!(
                    "{:?} is a file, not a folder: there is no {inside:?} in it",
                    hit.out.path
                ),
            ))
        }
        (Some(inside), Some(dir_md5)) => {
            let manifest_obj = remote.store.join(&object_path(&md5, dvc2));
            let bytes = fetch(&manifest_obj, &remote)?;
            let got = md5_hex(&bytes);
            if got != dir_md5 {
                return Err(err(
                    &hit.pointer,
                    format!(
                        "the folder manifest {} has MD5 {got}, not the {dir_md5} that the pointer names",
                        manifest_obj.shown()
                    ),
                ));
            }
            file_in_manifest(&bytes, inside).ok_or_else(|| {
                err(
                    &hit.pointer,
                    format!(
                        "the folder {:?} (version {md5}) has no file {inside:?}",
                        hit.out.path
                    ),
                )
            })?
        }
    };
    if !is_md5(&md5) {
        return Err(err(&hit.pointer, format!("{md5:?} is not an MD5")));
    }
    let object = remote.store.join(&object_path(&md5, dvc2));
    Ok(Some(Tracked {
        pointer: shown_pointer,
        md5,
        remote,
        object,
        dvc2,
    }))
}

#[derive(Deserialize)]
struct ManifestEntry {
    md5: String,
    relpath: String,
}

/// The MD5 of `relpath` in a `.dir` manifest.
pub fn file_in_manifest(bytes: &[u8], relpath: &str) -> Option<String> {
    let entries: Vec<ManifestEntry> = serde_json::from_slice(bytes).ok()?;
    entries
        .into_iter()
        .find(|e| e.relpath.replace('\\', "/") == relpath)
        .map(|e| e.md5)
}

pub fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest;
    hex(&md5::Md5::digest(bytes))
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks the MD5 of the bytes that pass through; at their end, a mismatch with the pointer is an error naming
/// both digests. DVC 2 took a text file's MD5 with CRLF turned into LF, so that one is taken too.
pub struct Md5Check<R> {
    inner: R,
    raw: md5::Md5,
    dos2unix: Option<(md5::Md5, bool)>,
    expected: String,
    done: bool,
}

impl<R> Md5Check<R> {
    pub fn new(inner: R, expected: &str, dvc2: bool) -> Self {
        use md5::Digest;
        Md5Check {
            inner,
            raw: md5::Md5::new(),
            dos2unix: dvc2.then(|| (md5::Md5::new(), false)),
            expected: expected.to_string(),
            done: false,
        }
    }
}

impl<R: std::io::Read> std::io::Read for Md5Check<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use md5::Digest;
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() && !self.done {
            self.done = true;
            let raw = hex(&self.raw.clone().finalize());
            let d2u = self.dos2unix.as_ref().map(|(h, cr)| {
                let mut h = h.clone();
                if *cr {
                    h.update(b"\r");
                }
                hex(&h.finalize())
            });
            if raw != self.expected && d2u.as_deref() != Some(self.expected.as_str()) {
                return Err(std::io::Error::other(format!(
                    "the content's MD5 is {raw}, but the DVC pointer names {}: the remote object is corrupt",
                    self.expected
                )));
            }
            return Ok(0);
        }
        let chunk = &buf[..n];
        self.raw.update(chunk);
        if let Some((h, pending_cr)) = &mut self.dos2unix {
            let mut start = 0;
            if *pending_cr {
                if chunk.first() != Some(&b'\n') {
                    h.update(b"\r");
                }
                *pending_cr = false;
            }
            let mut i = 0;
            while i < chunk.len() {
                if chunk[i] == b'\r' {
                    if i + 1 == chunk.len() {
                        h.update(&chunk[start..i]);
                        *pending_cr = true;
                        start = chunk.len();
                    } else if chunk[i + 1] == b'\n' {
                        h.update(&chunk[start..i]);
                        start = i + 1;
                    }
                }
                i += 1;
            }
            h.update(&chunk[start..]);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn dvc3_and_dvc2_layouts() {
        assert_eq!(
            object_path("b202f333fba4fd38d4b8e5e693077aab", false),
            "files/md5/b2/02f333fba4fd38d4b8e5e693077aab"
        );
        assert_eq!(
            object_path("b202f333fba4fd38d4b8e5e693077aab", true),
            "b2/02f333fba4fd38d4b8e5e693077aab"
        );
        assert_eq!(
            object_path("2143b682c62957698d0026d581acaa5d.dir", false),
            "files/md5/21/43b682c62957698d0026d581acaa5d.dir"
        );
    }

    #[test]
    fn dvc_file_and_lock_parse() {
        let outs = parse_dvc_file(
            "outs:\n- md5: b202f333fba4fd38d4b8e5e693077aab\n  size: 10\n  hash: md5\n  path: x.csv\n",
            Path::new("x.csv.dvc"),
        )
        .unwrap();
        assert_eq!(outs.len(), 1);
        assert_eq!(outs[0].path, "x.csv");
        assert_eq!(outs[0].hash.as_deref(), Some("md5"));
        let lock = "schema: '2.0'\nstages:\n  prep:\n    cmd: python prep.py\n    deps:\n    - path: prep.py\n      md5: aa\n    outs:\n    - path: out/train.csv\n      hash: md5\n      md5: 0123456789abcdef0123456789abcdef\n      size: 3\n";
        let outs = parse_lock(lock, Path::new("dvc.lock")).unwrap();
        assert_eq!(outs[0].path, "out/train.csv");
        let e = parse_dvc_file("outs: [", Path::new("bad.dvc")).unwrap_err();
        assert!(e.to_string().contains("bad.dvc"), "{e}");
    }

    #[test]
    fn config_ini_with_local_overrides() {
        let ini = parse_ini(
            "[core]\n    remote = storage\n['remote \"storage\"']\n    url = s3://bucket/dvc\n    endpointurl = http://127.0.0.1:9000\n# a comment\n[remote \"other\"]\nurl = ../store\n",
        );
        assert_eq!(ini["core"]["remote"], "storage");
        assert_eq!(ini["remote storage"]["url"], "s3://bucket/dvc");
        assert_eq!(
            ini["remote storage"]["endpointurl"],
            "http://127.0.0.1:9000"
        );
        assert_eq!(ini["remote other"]["url"], "../store");

        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".dvc")).unwrap();
        std::fs::write(
            dir.path().join(".dvc/config"),
            "[core]\n    remote = storage\n['remote \"storage\"']\n    url = s3://bucket/dvc\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join(".dvc/config.local"),
            "['remote \"storage\"']\n    endpointurl = http://127.0.0.1:9000\n",
        )
        .unwrap();
        let r = remote(dir.path(), None).unwrap();
        assert_eq!(r.store, Store::Url("s3://bucket/dvc".into()));
        assert_eq!(r.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        let e = remote(dir.path(), Some("nope")).unwrap_err();
        assert!(e.to_string().contains("no remote named \"nope\""), "{e}");
    }

    #[test]
    fn manifests_name_files_by_relpath() {
        let m = br#"[{"md5": "e6ffa7d44cc21b5cfa06811bc8f2eb75", "relpath": "one.csv"}, {"md5": "f4d5d0c0671be202bc241807c243e80b", "relpath": "sub/two.csv"}]"#;
        assert_eq!(
            file_in_manifest(m, "sub/two.csv").as_deref(),
            Some("f4d5d0c0671be202bc241807c243e80b")
        );
        assert_eq!(file_in_manifest(m, "three.csv"), None);
    }

    fn read_all(r: impl Read) -> std::io::Result<Vec<u8>> {
        let mut out = vec![];
        let mut r = r;
        r.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn md5_is_checked_at_the_end() {
        let data = b"a,b\r\n1,2\r\n".to_vec();
        assert!(read_all(Md5Check::new(
            &data[..],
            "b202f333fba4fd38d4b8e5e693077aab",
            false
        ))
        .is_ok());
        let e = read_all(Md5Check::new(
            &data[..],
            "00000000000000000000000000000000",
            false,
        ))
        .unwrap_err();
        assert!(
            e.to_string().contains("b202f333fba4fd38d4b8e5e693077aab"),
            "{e}"
        );
        // DVC 2 named a text file by the MD5 of its LF form.
        let lf = md5_hex(b"a,b\n1,2\n");
        assert!(read_all(Md5Check::new(&data[..], &lf, true)).is_ok());
        // ... also when a CR and its LF arrive in different reads.
        let chunked = std::io::Cursor::new(data.clone()).chain(&b""[..]);
        struct OneByte<R>(R);
        impl<R: Read> Read for OneByte<R> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = buf.len().min(1);
                self.0.read(&mut buf[..n])
            }
        }
        assert!(read_all(Md5Check::new(OneByte(chunked), &lf, true)).is_ok());
        assert!(read_all(Md5Check::new(&data[..], &lf, false)).is_err());
    }

    #[test]
    fn pointers_are_found_for_files_and_folders() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join(".dvc")).unwrap();
        std::fs::write(
            root.join(".dvc/config"),
            "[core]\n    remote = s\n['remote \"s\"']\n    url = ../store\n",
        )
        .unwrap();
        std::fs::create_dir(root.join("data")).unwrap();
        std::fs::write(
            root.join("data/x.csv.dvc"),
            "outs:\n- md5: b202f333fba4fd38d4b8e5e693077aab\n  size: 10\n  hash: md5\n  path: x.csv\n",
        )
        .unwrap();
        let no_fetch =
            |_: &Store, _: &RemoteConfig| -> Result<Vec<u8>, DataError> { unreachable!() };
        let t = locate(&root.join("data/x.csv"), &no_fetch)
            .unwrap()
            .unwrap();
        assert_eq!(t.pointer, "data/x.csv.dvc");
        assert_eq!(t.md5, "b202f333fba4fd38d4b8e5e693077aab");
        assert_eq!(
            t.object,
            Store::Folder(root.join(".dvc/../store/files/md5/b2/02f333fba4fd38d4b8e5e693077aab"))
        );
        assert!(locate(&root.join("data/other.csv"), &no_fetch)
            .unwrap()
            .is_none());

        // A folder output: the manifest is fetched and must match its MD5.
        let manifest =
            br#"[{"md5": "e6ffa7d44cc21b5cfa06811bc8f2eb75", "relpath": "one.csv"}]"#.to_vec();
        let dir_md5 = md5_hex(&manifest);
        std::fs::write(
            root.join("data/d.dvc"),
            format!("outs:\n- md5: {dir_md5}.dir\n  path: d\n"),
        )
        .unwrap();
        let m = manifest.clone();
        let fetch =
            move |_: &Store, _: &RemoteConfig| -> Result<Vec<u8>, DataError> { Ok(m.clone()) };
        let t = locate(&root.join("data/d/one.csv"), &fetch)
            .unwrap()
            .unwrap();
        assert_eq!(t.md5, "e6ffa7d44cc21b5cfa06811bc8f2eb75");
        assert!(t.dvc2, "no `hash: md5`: DVC 2's layout");
        let e = locate(&root.join("data/d/two.csv"), &fetch).unwrap_err();
        assert!(e.to_string().contains("has no file \"two.csv\""), "{e}");
        let e = locate(&root.join("data/d"), &fetch).unwrap_err();
        assert!(e.to_string().contains("folder output"), "{e}");
        let tampered =
            |_: &Store, _: &RemoteConfig| -> Result<Vec<u8>, DataError> { Ok(b"[]".to_vec()) };
        let e = locate(&root.join("data/d/one.csv"), &tampered).unwrap_err();
        assert!(e.to_string().contains("folder manifest"), "{e}");

        // dvc.lock outputs.
        std::fs::write(
            root.join("dvc.lock"),
            "schema: '2.0'\nstages:\n  prep:\n    cmd: x\n    outs:\n    - path: out/train.csv\n      hash: md5\n      md5: 0123456789abcdef0123456789abcdef\n",
        )
        .unwrap();
        let t = locate(&root.join("out/train.csv"), &no_fetch)
            .unwrap()
            .unwrap();
        assert_eq!(t.pointer, "dvc.lock");
        assert!(!t.dvc2);
    }
}
