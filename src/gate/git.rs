//! Files as they are at a git ref (`git show REF:./PATH`), read from the clone the command runs in: the base
//! branch's model for a baseline, the base branch's config and schemas for gate changes and `--config-from`.

use std::path::Path;
use std::process::Command;

/// Why a file at a ref could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git: {0}")]
    NoGit(String),
    #[error("the ref {0:?} is not in this clone")]
    NoRef(String),
    #[error("git show failed: {0}")]
    Show(String),
}

impl GitError {
    /// What to do about it, for the user.
    pub fn help(&self, reference: &str) -> String {
        match self {
            GitError::NoGit(_) => "this needs git on PATH, inside the repository's clone".into(),
            _ => {
                let branch = reference.strip_prefix("origin/").unwrap_or(reference);
                format!(
                    "fetch the base ref first: `git fetch --depth=1 origin {branch}` (actions/checkout clones one commit)"
                )
            }
        }
    }
}

fn git(dir: &Path, args: &[&str]) -> Result<std::process::Output, GitError> {
    Command::new("git")
        .arg("-C")
        .arg(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
        .args(args)
        .output()
        .map_err(|e| GitError::NoGit(e.to_string()))
}

/// The bytes of `path` (relative to `dir`) at `reference`; `Ok(None)` when the ref exists but the file does not
/// (a new file). `dir` must be inside the clone.
pub fn file_at_ref(dir: &Path, reference: &str, path: &str) -> Result<Option<Vec<u8>>, GitError> {
    // A ref that starts with `-` would be read as an option.
    if reference.starts_with('-') {
        return Err(GitError::NoRef(reference.into()));
    }
    let verify = git(
        dir,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{reference}^{{commit}}"),
        ],
    )?;
    if !verify.status.success() {
        return Err(GitError::NoRef(reference.into()));
    }
    let rel = format!("{reference}:./{}", path.trim_start_matches("./"));
    let shown = git(dir, &["show", &rel])?;
    if !shown.status.success() {
        let stderr = String::from_utf8_lossy(&shown.stderr);
        if stderr.contains("exists on disk, but not in") || stderr.contains("does not exist in") {
            return Ok(None);
        }
        return Err(GitError::Show(stderr.trim().to_string()));
    }
    Ok(Some(shown.stdout))
}
