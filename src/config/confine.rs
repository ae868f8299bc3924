//! Paths in `mlgate.yml` stay inside the repository.
//!
//! A pull request writes `mlgate.yml`, so its paths are untrusted: an absolute path, a `..` that climbs out, or a
//! symbolic link that leads out would let a pull request read any file of the runner (a credentials file, say)
//! and show its values in report.json and the public comment. The repository is the git work tree that holds
//! the config (found by its `.git`), else the config's own folder.

use std::path::{Component, Path, PathBuf};

/// How a path leaves the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Escape {
    Absolute,
    ClimbsOut,
    /// The path, or a folder on the way, is a symbolic link to somewhere outside.
    SymlinkOut,
}

impl Escape {
    pub fn describe(&self) -> &'static str {
        match self {
            Escape::Absolute => "is an absolute path",
            Escape::ClimbsOut => "climbs out of the repository with `..`",
            Escape::SymlinkOut => "follows a symbolic link out of the repository",
        }
    }
}

/// The repository root for a config in `config_dir`: the nearest folder upward with a `.git` (a folder, or the
/// file of a linked work tree or submodule), else `config_dir` itself. Canonical when it exists.
pub fn repo_root(config_dir: &Path) -> PathBuf {
    let start = canonical_or_self(config_dir);
    start
        .ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
        .unwrap_or(start)
}

fn canonical_or_self(p: &Path) -> PathBuf {
    let p = if p.as_os_str().is_empty() {
        Path::new(".")
    } else {
        p
    };
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

/// Checks that `written` (as in the config, relative to `base`, the config's folder) stays inside `root`: not
/// absolute, no `..` above the root, and no symbolic link on the way that leads out. A path that does not exist
/// yet is judged by its deepest existing folder.
pub fn check(root: &Path, base: &Path, written: &str) -> Result<(), Escape> {
    let w = Path::new(written);
    if w.is_absolute()
        || w.has_root()
        || matches!(w.components().next(), Some(Component::Prefix(_)))
    {
        return Err(Escape::Absolute);
    }
    let base = canonical_or_self(base);
    let joined = lexical_normalize(&base.join(w)).ok_or(Escape::ClimbsOut)?;
    if !joined.starts_with(root) {
        return Err(Escape::ClimbsOut);
    }
    // Resolve links: the path itself when it exists, else its deepest existing ancestor.
    let existing = joined.ancestors().find(|a| a.exists());
    if let Some(e) = existing {
        match e.canonicalize() {
            Ok(real) if real.starts_with(root) => {}
            Ok(_) => return Err(Escape::SymlinkOut),
            Err(_) => return Err(Escape::SymlinkOut),
        }
    }
    Ok(())
}

/// Checks a file found on disk (a glob's match, a folder's file): its real path must be inside `root`.
pub fn check_found(root: &Path, file: &Path) -> Result<(), Escape> {
    match file.canonicalize() {
        Ok(real) if real.starts_with(root) => Ok(()),
        _ => Err(Escape::SymlinkOut),
    }
}

/// `a/b/../c` -> `a/c` without touching the disk; `None` when `..` climbs above the start of an absolute path.
fn lexical_normalize(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() || out.as_os_str().is_empty() {
                    return None;
                }
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    Some(out)
}

/// The part of a glob pattern before its first wildcard, to check like a path.
pub fn glob_prefix(pattern: &str) -> &str {
    let cut = pattern.find(['*', '?', '[']).unwrap_or(pattern.len());
    match pattern[..cut].rfind('/') {
        Some(i) => &pattern[..i],
        None => ".",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_inside_pass_and_escapes_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("ml/data")).unwrap();
        std::fs::write(root.join("ml/data/a.csv"), "x\n").unwrap();
        let base = root.join("ml");
        assert_eq!(check(&root, &base, "data/a.csv"), Ok(()));
        assert_eq!(check(&root, &base, "../ml/data/a.csv"), Ok(()));
        assert_eq!(check(&root, &base, "data/new.csv"), Ok(()), "not there yet");
        assert_eq!(check(&root, &base, "/etc/passwd"), Err(Escape::Absolute));
        assert_eq!(
            check(&root, &base, "../../etc/passwd"),
            Err(Escape::ClimbsOut)
        );
        assert_eq!(
            check(&root, &base, "data/../../../x"),
            Err(Escape::ClimbsOut)
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_are_refused_wherever_they_are() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "k\n").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), root.join("link.csv")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("linkdir")).unwrap();
        std::fs::write(root.join("in.csv"), "x\n").unwrap();
        std::os::unix::fs::symlink(root.join("in.csv"), root.join("inner.csv")).unwrap();
        assert_eq!(check(&root, &root, "link.csv"), Err(Escape::SymlinkOut));
        assert_eq!(
            check(&root, &root, "linkdir/secret"),
            Err(Escape::SymlinkOut)
        );
        assert_eq!(
            check(&root, &root, "linkdir/not-there"),
            Err(Escape::SymlinkOut)
        );
        assert_eq!(
            check(&root, &root, "inner.csv"),
            Ok(()),
            "a link inside stays inside"
        );
        assert_eq!(
            check_found(&root, &root.join("link.csv")),
            Err(Escape::SymlinkOut)
        );
    }

    #[test]
    fn the_root_is_the_work_tree_else_the_config_folder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("repo/.git")).unwrap();
        std::fs::create_dir_all(root.join("repo/ml")).unwrap();
        std::fs::create_dir_all(root.join("plain")).unwrap();
        assert_eq!(repo_root(&root.join("repo/ml")), root.join("repo"));
        assert_eq!(repo_root(&root.join("plain")), root.join("plain"));
    }

    #[test]
    fn glob_prefixes() {
        assert_eq!(glob_prefix("models/*.pt"), "models");
        assert_eq!(glob_prefix("../x/**/*.pt"), "../x");
        assert_eq!(glob_prefix("*.pkl"), ".");
    }
}
