//! SLSA provenance v1 fields for a release made in GitHub Actions: which workflow, which run, which runner.
//!
//! The shape follows SLSA provenance v1 (`buildDefinition` + `runDetails`) with GitHub's workflow build type, as
//! `actions/attest-build-provenance` writes it, so people who read SLSA provenance find the fields where they
//! expect them. The values come from the Actions environment through a lookup function: this module reads no
//! environment itself, which keeps it testable.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// GitHub's build type for a workflow run.
pub const BUILD_TYPE: &str = "https://actions.github.io/buildtypes/workflow/v1";

/// `buildDefinition` and `runDetails` of SLSA provenance v1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    pub build_definition: BuildDefinition,
    pub run_details: RunDetails,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildDefinition {
    pub build_type: String,
    /// `{"workflow": {"ref", "repository", "path"}}`: what a person chose to run.
    pub external_parameters: serde_json::Value,
    /// `{"github": {"event_name", "run_id", "run_attempt", "runner_environment", "runner_os", ...}}`.
    pub internal_parameters: serde_json::Value,
    pub resolved_dependencies: Vec<ResourceDescriptor>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceDescriptor {
    pub uri: String,
    pub digest: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunDetails {
    pub builder: Builder,
    pub metadata: RunMetadata,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Builder {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunMetadata {
    /// The run's address: `SERVER/OWNER/REPO/actions/runs/RUN_ID/attempts/N`.
    pub invocation_id: String,
}

impl Provenance {
    /// The provenance of the current Actions run, given a lookup of environment variables; `None` outside
    /// GitHub Actions (no `GITHUB_RUN_ID`). `commit` is the attested commit.
    pub fn from_actions(lookup: impl Fn(&str) -> Option<String>, commit: &str) -> Option<Self> {
        let var = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
        let run_id = var("GITHUB_RUN_ID")?;
        let server = var("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into());
        let repository = var("GITHUB_REPOSITORY").unwrap_or_default();
        let repo_url = format!("{server}/{repository}");
        let attempt = var("GITHUB_RUN_ATTEMPT").unwrap_or_else(|| "1".into());
        // GITHUB_WORKFLOW_REF is `OWNER/REPO/PATH@REF`.
        let workflow_ref = var("GITHUB_WORKFLOW_REF");
        let (path, git_ref) = match workflow_ref.as_deref().and_then(|w| w.rsplit_once('@')) {
            Some((left, r)) => {
                let path = left
                    .strip_prefix(&format!("{repository}/"))
                    .unwrap_or(left)
                    .to_string();
                (path, r.to_string())
            }
            None => (String::new(), var("GITHUB_REF").unwrap_or_default()),
        };
        let mut github = serde_json::Map::new();
        for (key, env) in [
            ("event_name", "GITHUB_EVENT_NAME"),
            ("workflow", "GITHUB_WORKFLOW"),
            ("run_id", "GITHUB_RUN_ID"),
            ("run_attempt", "GITHUB_RUN_ATTEMPT"),
            ("repository_id", "GITHUB_REPOSITORY_ID"),
            ("repository_owner_id", "GITHUB_REPOSITORY_OWNER_ID"),
            ("runner_environment", "RUNNER_ENVIRONMENT"),
            ("runner_os", "RUNNER_OS"),
            ("runner_arch", "RUNNER_ARCH"),
            ("runner_name", "RUNNER_NAME"),
            ("actor", "GITHUB_ACTOR"),
        ] {
            if let Some(v) = var(env) {
                github.insert(key.into(), v.into());
            }
        }
        let builder = match &workflow_ref {
            Some(w) => format!("{server}/{w}"),
            None => format!("{repo_url}/actions"),
        };
        Some(Provenance {
            build_definition: BuildDefinition {
                build_type: BUILD_TYPE.into(),
                external_parameters: serde_json::json!({
                    "workflow": {"ref": git_ref, "repository": repo_url, "path": path}
                }),
                internal_parameters: serde_json::json!({ "github": github }),
                resolved_dependencies: vec![ResourceDescriptor {
                    uri: format!("git+{repo_url}@{git_ref}"),
                    digest: BTreeMap::from([("gitCommit".to_string(), commit.to_string())]),
                }],
            },
            run_details: RunDetails {
                builder: Builder { id: builder },
                metadata: RunMetadata {
                    invocation_id: format!("{repo_url}/actions/runs/{run_id}/attempts/{attempt}"),
                },
            },
        })
    }

    /// The workflow file and ref, e.g. `.github/workflows/release.yml@refs/tags/v1`.
    pub fn workflow(&self) -> String {
        let w = &self.build_definition.external_parameters["workflow"];
        format!(
            "{}@{}",
            w["path"].as_str().unwrap_or_default(),
            w["ref"].as_str().unwrap_or_default()
        )
    }

    /// The runner, e.g. `github-hosted Linux X64`.
    pub fn runner(&self) -> String {
        let g = &self.build_definition.internal_parameters["github"];
        ["runner_environment", "runner_os", "runner_arch"]
            .iter()
            .filter_map(|k| g[*k].as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions_env(k: &str) -> Option<String> {
        let v = match k {
            "GITHUB_RUN_ID" => "4242",
            "GITHUB_RUN_ATTEMPT" => "2",
            "GITHUB_SERVER_URL" => "https://github.com",
            "GITHUB_REPOSITORY" => "acme/models",
            "GITHUB_WORKFLOW_REF" => "acme/models/.github/workflows/release.yml@refs/tags/v1.2",
            "GITHUB_EVENT_NAME" => "push",
            "RUNNER_ENVIRONMENT" => "github-hosted",
            "RUNNER_OS" => "Linux",
            "RUNNER_ARCH" => "X64",
            _ => return None,
        };
        Some(v.into())
    }

    #[test]
    fn reads_the_actions_environment() {
        let p = Provenance::from_actions(actions_env, "abc123").unwrap();
        let j = serde_json::to_value(&p).unwrap();
        assert_eq!(j["buildDefinition"]["buildType"], BUILD_TYPE);
        assert_eq!(
            j["buildDefinition"]["externalParameters"]["workflow"],
            serde_json::json!({"ref": "refs/tags/v1.2", "repository": "https://github.com/acme/models",
                               "path": ".github/workflows/release.yml"})
        );
        assert_eq!(
            j["buildDefinition"]["resolvedDependencies"][0]["uri"],
            "git+https://github.com/acme/models@refs/tags/v1.2"
        );
        assert_eq!(
            j["buildDefinition"]["resolvedDependencies"][0]["digest"]["gitCommit"],
            "abc123"
        );
        assert_eq!(
            j["runDetails"]["metadata"]["invocationId"],
            "https://github.com/acme/models/actions/runs/4242/attempts/2"
        );
        assert_eq!(
            j["runDetails"]["builder"]["id"],
            "https://github.com/acme/models/.github/workflows/release.yml@refs/tags/v1.2"
        );
        assert_eq!(p.workflow(), ".github/workflows/release.yml@refs/tags/v1.2");
        assert_eq!(p.runner(), "github-hosted Linux X64");
    }

    #[test]
    fn absent_outside_actions() {
        assert!(Provenance::from_actions(|_| None, "abc").is_none());
    }
}
