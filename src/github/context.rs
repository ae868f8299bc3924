//! Where a run is, read from the GitHub Actions environment and the event payload (`GITHUB_EVENT_PATH`): the
//! repository, the pull request, its head commit, the run and job. The check stage writes the part the publish
//! stage cannot know (`mlgate-context.json` beside report.json): a `workflow_run` run has no pull-request
//! context of its own when the pull request comes from a fork.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::fsutil::write_atomic;

/// The file `mlgate check --report-dir` writes for `mlgate github publish`.
pub const CONTEXT_FILE: &str = "mlgate-context.json";

/// The run's environment, as GitHub Actions describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionsContext {
    /// `owner/name` (`GITHUB_REPOSITORY`).
    pub repository: String,
    /// `GITHUB_SERVER_URL`, `https://github.com` by default.
    pub server_url: String,
    /// `GITHUB_API_URL`, `https://api.github.com` by default (GitHub Enterprise: `https://HOST/api/v3`).
    pub api_url: String,
    pub event_name: String,
    /// The pull request's number, on `pull_request` events (and `workflow_run` events of a same-repository PR).
    pub pr_number: Option<u64>,
    /// The pull request's head commit (not the merge commit `GITHUB_SHA` names), else `GITHUB_SHA`.
    pub head_sha: Option<String>,
    /// The `owner/name` the pull request's head commit lives in (a fork's, for a fork's pull request), on
    /// `pull_request` and `workflow_run` events.
    pub head_repository: Option<String>,
    pub run_id: Option<String>,
    pub job: String,
    /// The folder the command runs in, relative to `GITHUB_WORKSPACE` ("" at the root).
    pub path_prefix: String,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl ActionsContext {
    /// Reads the environment. Missing values stay empty; an unreadable event payload is ignored (the PR number
    /// and head commit are then unknown, and nothing is posted where they are needed).
    pub fn from_env() -> ActionsContext {
        let payload = var("GITHUB_EVENT_PATH")
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .unwrap_or(Value::Null);
        let event_name = var("GITHUB_EVENT_NAME").unwrap_or_default();
        let mut ctx = ActionsContext {
            repository: var("GITHUB_REPOSITORY").unwrap_or_default(),
            server_url: var("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into()),
            api_url: var("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into()),
            event_name,
            pr_number: None,
            head_sha: var("GITHUB_SHA"),
            head_repository: None,
            run_id: var("GITHUB_RUN_ID"),
            job: var("GITHUB_JOB").unwrap_or_default(),
            path_prefix: path_prefix(
                var("GITHUB_WORKSPACE").map(PathBuf::from).as_deref(),
                std::env::current_dir().ok().as_deref(),
            ),
        };
        ctx.apply_payload(&payload);
        ctx
    }

    /// Takes the pull request's number and head commit from an event payload.
    pub fn apply_payload(&mut self, payload: &Value) {
        if let Some(pr) = payload.get("pull_request").filter(|v| v.is_object()) {
            self.pr_number = pr["number"].as_u64().or(payload["number"].as_u64());
            if let Some(sha) = pr["head"]["sha"].as_str() {
                self.head_sha = Some(sha.to_string());
            }
            self.head_repository = pr["head"]["repo"]["full_name"].as_str().map(str::to_string);
        }
        if let Some(run) = payload.get("workflow_run").filter(|v| v.is_object()) {
            if let Some(sha) = run["head_sha"].as_str() {
                self.head_sha = Some(sha.to_string());
            }
            self.head_repository = run["head_repository"]["full_name"]
                .as_str()
                .map(str::to_string);
            // Empty for a fork's pull request: then the number comes from the check stage's context file.
            self.pr_number = run["pull_requests"]
                .as_array()
                .and_then(|prs| prs.first())
                .and_then(|p| p["number"].as_u64());
        }
    }
}

/// `cwd` relative to `workspace`, with `/` separators; "" when either is unknown or `cwd` is outside.
fn path_prefix(workspace: Option<&Path>, cwd: Option<&Path>) -> String {
    let (Some(ws), Some(cwd)) = (workspace, cwd) else {
        return String::new();
    };
    let ws = ws.canonicalize().unwrap_or_else(|_| ws.to_path_buf());
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    cwd.strip_prefix(&ws)
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_default()
}

/// What the check stage knew, for the publish stage: written beside report.json.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunContext {
    pub version: u32,
    /// The config file as given to `mlgate check` (part of the sticky comment's marker).
    pub config: String,
    /// The check stage's job id (the other part of the marker).
    pub job: String,
    #[serde(default)]
    pub pr_number: Option<u64>,
    #[serde(default)]
    pub head_sha: Option<String>,
    #[serde(default)]
    pub run_id: Option<String>,
    #[serde(default)]
    pub path_prefix: String,
}

/// A commit id as git writes it: 40 hexadecimal digits (SHA-1), or 64 (SHA-256 repositories).
pub fn is_commit_sha(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A workflow run's id: digits only.
pub fn is_run_id(s: &str) -> bool {
    (1..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// A config path, job id or folder as mlgate writes them into the context file: letters, digits and `._/-`, at
/// most 200 bytes, no `..` component. Anything else did not come from `mlgate check`.
pub fn is_safe_name(s: &str) -> bool {
    s.len() <= 200
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._/-".contains(&b))
        && !s.split('/').any(|c| c == "..")
}

impl RunContext {
    /// Checks every value against the form `mlgate check` writes, so that nothing else reaches a URL, the
    /// comment's marker or the log. The error names the field, never its value (the artifact is untrusted).
    pub fn validate(&self) -> Result<(), String> {
        let bad = |field: &str, form: &str| {
            Err(format!(
                "the artifact's {CONTEXT_FILE} has an invalid `{field}` (expected {form}); nothing posted"
            ))
        };
        if self.version != 1 {
            return bad("version", "1");
        }
        if self.config.is_empty() || !is_safe_name(&self.config) {
            return bad("config", "a relative path of letters, digits and ._/-");
        }
        if !is_safe_name(&self.job) {
            return bad("job", "letters, digits and ._-");
        }
        if !is_safe_name(&self.path_prefix) {
            return bad("path_prefix", "a relative path of letters, digits and ._/-");
        }
        if self.head_sha.as_deref().is_some_and(|s| !is_commit_sha(s)) {
            return bad("head_sha", "a commit id of 40 hexadecimal digits");
        }
        if self.run_id.as_deref().is_some_and(|s| !is_run_id(s)) {
            return bad("run_id", "digits");
        }
        Ok(())
    }

    pub fn new(config: &Path, actions: &ActionsContext) -> RunContext {
        RunContext {
            version: 1,
            config: config.to_string_lossy().replace('\\', "/"),
            job: actions.job.clone(),
            pr_number: actions.pr_number,
            head_sha: actions.head_sha.clone(),
            run_id: actions.run_id.clone(),
            path_prefix: actions.path_prefix.clone(),
        }
    }

    pub fn write(&self, dir: &Path) -> Result<(), Error> {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        write_atomic(&dir.join(CONTEXT_FILE), text.as_bytes())
    }

    pub fn read(dir: &Path) -> Result<RunContext, Error> {
        let path = dir.join(CONTEXT_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::Usage(format!(
                "{}: cannot read it ({e}); `mlgate check --report-dir {}` writes it in GitHub Actions",
                path.display(),
                dir.display()
            ))
        })?;
        serde_json::from_str(&text).map_err(|e| {
            Error::Usage(format!(
                "{}: not an mlgate context file ({e}); expected {{\"version\": 1, \"config\", \"job\", \"pr_number\", \"head_sha\", ...}}",
                path.display()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pull_request_payload_gives_number_and_head_sha() {
        let mut c = ActionsContext {
            head_sha: Some("merge".into()),
            ..Default::default()
        };
        c.apply_payload(
            &json!({"number": 7, "pull_request": {"number": 7, "head": {"sha": "abc"}}}),
        );
        assert_eq!(c.pr_number, Some(7));
        assert_eq!(c.head_sha.as_deref(), Some("abc"));
    }

    #[test]
    fn workflow_run_of_a_fork_has_no_number() {
        let mut c = ActionsContext::default();
        c.apply_payload(&json!({"workflow_run": {"head_sha": "def", "pull_requests": []}}));
        assert_eq!(c.pr_number, None);
        assert_eq!(c.head_sha.as_deref(), Some("def"));
    }

    #[test]
    fn prefix_is_the_folder_below_the_workspace() {
        let ws = Path::new("/w/repo");
        assert_eq!(
            path_prefix(Some(ws), Some(Path::new("/w/repo/ml/a"))),
            "ml/a"
        );
        assert_eq!(path_prefix(Some(ws), Some(Path::new("/elsewhere"))), "");
        assert_eq!(path_prefix(None, Some(Path::new("/w/repo"))), "");
    }
}
