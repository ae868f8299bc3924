//! Posting a report to a pull request: the sticky comment and the check run. Every API failure becomes a
//! warning: the verdict and the exit code never depend on the API (a fork's pull request gets a read-only token,
//! GitHub has outages, rate limits can outlast our patience).

use super::check_run;
use super::client::{ApiError, Client, RetryPolicy, Token};
use super::comment::{self, Posted};
use super::comment_body::{self, Links};
use super::context::{ActionsContext, RunContext};
use crate::report::Report;

/// Where to post.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// `owner/name`.
    pub repository: String,
    pub pr_number: Option<u64>,
    pub head_sha: Option<String>,
    /// The config and job, which make the comment's marker.
    pub config: String,
    pub job: String,
    pub server_url: String,
    pub path_prefix: String,
    pub run_id: Option<String>,
    /// Set when the pull request's number came from the artifact (a fork's pull request): the PR's own code
    /// wrote it, so it is used only after GitHub confirms it belongs to this run's head commit and repository.
    pub confirm: Option<PrClaim>,
}

/// What a pull request named by an artifact must match, from the `workflow_run` event (GitHub's own word).
#[derive(Debug, Clone, PartialEq)]
pub struct PrClaim {
    pub head_sha: String,
    pub head_repository: String,
}

impl Target {
    /// In the stage that ran `mlgate check`: everything comes from its own environment.
    pub fn from_actions(config: &str, actions: &ActionsContext) -> Target {
        Target {
            repository: actions.repository.clone(),
            pr_number: actions.pr_number,
            head_sha: actions.head_sha.clone(),
            config: config.to_string(),
            job: actions.job.clone(),
            server_url: actions.server_url.clone(),
            path_prefix: actions.path_prefix.clone(),
            run_id: actions.run_id.clone(),
            confirm: None,
        }
    }

    /// In the `workflow_run` stage: the repository and servers from this run's own environment (never from the
    /// artifact, which the pull request's code wrote), the pull request from the event when GitHub names it
    /// (same-repository PRs) and else from the check stage's context file (forks), to be confirmed with GitHub
    /// before use ([`PrClaim`]). Errors when the artifact's values are not of the form `mlgate check` writes, or
    /// name another head commit than the run it came from.
    pub fn for_publish(saved: &RunContext, actions: &ActionsContext) -> Result<Target, String> {
        saved.validate()?;
        let head_sha = if actions.event_name == "workflow_run" {
            if let (Some(ours), Some(theirs)) = (&actions.head_sha, &saved.head_sha) {
                if ours != theirs {
                    return Err(format!(
                        "the report is for commit {theirs} but the workflow run is for {ours}; nothing posted"
                    ));
                }
            }
            actions.head_sha.clone().or_else(|| saved.head_sha.clone())
        } else {
            saved.head_sha.clone().or_else(|| actions.head_sha.clone())
        };
        let confirm = match (actions.pr_number, saved.pr_number) {
            (None, Some(_)) => match (&actions.head_sha, &actions.head_repository) {
                (Some(sha), Some(repo)) if actions.event_name == "workflow_run" => Some(PrClaim {
                    head_sha: sha.clone(),
                    head_repository: repo.clone(),
                }),
                _ => {
                    return Err(
                        "the artifact names a pull request, but this run is not a `workflow_run` event that \
                         names the head commit and repository to confirm it with; nothing posted"
                            .into(),
                    )
                }
            },
            _ => None,
        };
        Ok(Target {
            repository: actions.repository.clone(),
            pr_number: actions.pr_number.or(saved.pr_number),
            head_sha,
            config: saved.config.clone(),
            job: saved.job.clone(),
            server_url: actions.server_url.clone(),
            path_prefix: saved.path_prefix.clone(),
            run_id: saved.run_id.clone().or_else(|| actions.run_id.clone()),
            confirm,
        })
    }

    pub fn links(&self) -> Links {
        Links {
            server_url: self.server_url.clone(),
            repository: self.repository.clone(),
            head_sha: self.head_sha.clone(),
            path_prefix: self.path_prefix.clone(),
            run_id: self.run_id.clone(),
        }
    }
}

/// What to post, with which token, through which API.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    pub api_url: String,
    pub token: Token,
    pub policy: RetryPolicy,
}

/// What happened: lines for the log, and warnings.
#[derive(Debug, Default, Clone)]
pub struct Published {
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
}

fn warning(what: &str, repo: &str, e: &ApiError) -> String {
    let why = match e.status() {
        Some(401) => " (the token was refused)",
        Some(403) | Some(404) => {
            " (the token cannot write here: a pull request from a fork gets a read-only token; post from a \
             workflow_run workflow with `mlgate github publish`, as `mlgate init` sets up)"
        }
        _ => "",
    };
    format!("could not post the {what} to {repo}: {e}{why}")
}

/// Posts the comment (on a pull request) and the check run (on a known head commit). Never fails.
pub fn publish(report: &Report, target: &Target, opts: &PublishOptions) -> Published {
    let mut out = Published::default();
    if target.repository.is_empty() {
        out.warnings
            .push("GITHUB_REPOSITORY is not set: nothing posted to GitHub".into());
        return out;
    }
    let gh = match Client::new(&opts.api_url, &opts.token, opts.policy.clone()) {
        Ok(c) => c,
        Err(e) => {
            out.warnings.push(e.to_string());
            return out;
        }
    };
    let links = target.links();
    let marker = comment::marker(&target.config, &target.job);
    let body = match comment_body::comment_markdown(report, &marker, &links) {
        Ok(b) => b,
        Err(e) => {
            out.warnings.push(e.to_string());
            return out;
        }
    };
    let repo = &target.repository;
    let pr_number = match (target.pr_number, &target.confirm) {
        (Some(n), Some(claim)) => match confirm_pull_request(&gh, repo, n, claim) {
            Ok(()) => Some(n),
            Err(why) => {
                out.warnings.push(why);
                None
            }
        },
        (n, None) => n,
        (None, Some(_)) => None,
    };
    match pr_number {
        Some(n) => match comment::upsert(&gh, repo, n, &marker, &body) {
            Ok(Posted::Created { url, .. }) => out.notes.push(format!("commented: {url}")),
            Ok(Posted::Updated { url, .. }) => {
                out.notes.push(format!("updated the comment: {url}"))
            }
            Err(e) => out.warnings.push(warning("comment", repo, &e)),
        },
        None if target.pr_number.is_some() => {}
        None => out
            .notes
            .push("not a pull request: no comment posted".into()),
    }
    if let Some(sha) = &target.head_sha {
        let name = check_run::run_name(&target.config);
        // The check run shows the comment's markdown without the marker line.
        let text = body.replacen(&format!("{marker}\n"), "", 1);
        match check_run::post(&gh, repo, sha, &name, report, &text, &links) {
            Ok((id, _)) => out.notes.push(format!("check run {id} posted on {sha}")),
            Err(e) => out.warnings.push(warning("check run", repo, &e)),
        }
    }
    out
}

/// Asks GitHub whether pull request `n` of `repo` is the one the workflow run came from: its head commit and
/// head repository are the run's, and its base is this repository. The artifact that named `n` was written by
/// the pull request's own code, which could name any other pull request to overwrite its comment.
fn confirm_pull_request(gh: &Client, repo: &str, n: u64, claim: &PrClaim) -> Result<(), String> {
    let refuse = |why: &str| {
        Err(format!(
            "the artifact names pull request #{n}, but {why}; no comment posted (the check run is still posted on \
             the run's own head commit)"
        ))
    };
    let pr = match gh.get(&format!("/repos/{repo}/pulls/{n}")) {
        Ok(r) => r.json(),
        Err(e) => return refuse(&format!("GitHub could not confirm it ({e})")),
    };
    let same =
        |a: &serde_json::Value, b: &str| a.as_str().is_some_and(|a| a.eq_ignore_ascii_case(b));
    if !same(&pr["head"]["sha"], &claim.head_sha) {
        return refuse("its head commit is not the workflow run's");
    }
    if !same(&pr["head"]["repo"]["full_name"], &claim.head_repository) {
        return refuse("its head repository is not the workflow run's");
    }
    if !same(&pr["base"]["repo"]["full_name"], repo) {
        return refuse("its base repository is not this one");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
    const OTHER: &str = "fedcba9876543210fedcba9876543210fedcba98";

    fn saved() -> RunContext {
        RunContext {
            version: 1,
            config: "ml/mlgate.yml".into(),
            job: "gate".into(),
            pr_number: Some(7),
            head_sha: Some(SHA.into()),
            run_id: Some("11".into()),
            path_prefix: "ml".into(),
        }
    }

    fn workflow_run(sha: &str, pr: Option<u64>) -> ActionsContext {
        ActionsContext {
            repository: "o/r".into(),
            server_url: "https://github.com".into(),
            api_url: "https://api.github.com".into(),
            event_name: "workflow_run".into(),
            pr_number: pr,
            head_sha: Some(sha.into()),
            head_repository: Some("fork/r".into()),
            run_id: Some("12".into()),
            job: "publish".into(),
            path_prefix: String::new(),
        }
    }

    #[test]
    fn publish_target_takes_the_pr_from_the_event_else_the_artifact_to_confirm() {
        let t = Target::for_publish(&saved(), &workflow_run(SHA, Some(9))).unwrap();
        assert_eq!(t.pr_number, Some(9));
        assert_eq!(t.confirm, None, "GitHub named it: nothing to confirm");
        assert_eq!(
            (t.config.as_str(), t.job.as_str(), t.repository.as_str()),
            ("ml/mlgate.yml", "gate", "o/r")
        );
        assert_eq!(
            t.run_id.as_deref(),
            Some("11"),
            "the run with the job summary"
        );
        let fork = Target::for_publish(&saved(), &workflow_run(SHA, None)).unwrap();
        assert_eq!(fork.pr_number, Some(7));
        assert_eq!(
            fork.confirm,
            Some(PrClaim {
                head_sha: SHA.into(),
                head_repository: "fork/r".into()
            })
        );
    }

    #[test]
    fn an_artifact_for_another_commit_is_refused() {
        assert!(Target::for_publish(&saved(), &workflow_run(OTHER, None)).is_err());
    }

    #[test]
    fn an_artifact_pr_without_a_workflow_run_to_confirm_it_is_refused() {
        let mut run = workflow_run(SHA, None);
        run.head_repository = None;
        assert!(Target::for_publish(&saved(), &run).is_err());
        let mut push = workflow_run(SHA, None);
        push.event_name = "push".into();
        assert!(Target::for_publish(&saved(), &push).is_err());
    }

    #[test]
    fn artifact_values_of_another_form_are_refused_without_echoing_them() {
        let cases: Vec<(&str, RunContext)> = vec![
            (
                "head_sha",
                RunContext {
                    head_sha: Some(format!("{SHA}\n::error::x")),
                    ..saved()
                },
            ),
            (
                "head_sha",
                RunContext {
                    head_sha: Some("abc".into()),
                    ..saved()
                },
            ),
            (
                "run_id",
                RunContext {
                    run_id: Some("1/../../x".into()),
                    ..saved()
                },
            ),
            (
                "config",
                RunContext {
                    config: "a.yml -->\n# pass".into(),
                    ..saved()
                },
            ),
            (
                "job",
                RunContext {
                    job: "gate<img>".into(),
                    ..saved()
                },
            ),
            (
                "path_prefix",
                RunContext {
                    path_prefix: "../x".into(),
                    ..saved()
                },
            ),
            (
                "version",
                RunContext {
                    version: 2,
                    ..saved()
                },
            ),
        ];
        for (field, ctx) in cases {
            let e = Target::for_publish(&ctx, &workflow_run(SHA, None)).unwrap_err();
            assert!(e.contains(&format!("`{field}`")), "{field}: {e}");
            assert!(
                !e.contains("::error") && !e.contains('<') && !e.contains('\n'),
                "{e}"
            );
        }
    }
}
