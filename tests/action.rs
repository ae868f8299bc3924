//! The GitHub Action and the workflows `mlgate init` writes:
//! - action.yml validates against SchemaStore's github-action schema (check-jsonschema, vendored schemas: no
//!   network), and the generated workflows against the github-workflow schema;
//! - the generated workflows and this repository's own (ci.yml, release.yml) have zero findings from actionlint,
//!   and zero from zizmor;
//! - every `uses:` is pinned to the commit src/pins.rs names.
//!
//! scripts/install-mlgate.sh, the Action's install step, is tested in tests/install_script.rs.
//!
//! check-jsonschema and actionlint come from tests/actions/requirements.txt (PyPI) in the venv whose python
//! $MLGATE_INTEROP_PYTHON names (`.ci/run` sets it up), or from PATH. Without them these tests say they skipped,
//! unless MLGATE_REQUIRE_INTEROP=1 or CI=true, where they fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn required() -> bool {
    std::env::var("MLGATE_REQUIRE_INTEROP").is_ok_and(|v| v == "1")
        || std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A tool from the interop venv or PATH; `None` (after saying why) when it is absent and not required.
fn tool(name: &str) -> Option<PathBuf> {
    let venv = std::env::var_os("MLGATE_INTEROP_PYTHON")
        .map(PathBuf::from)
        .and_then(|py| py.parent().map(|d| d.join(name)));
    let local = root().join(".venv-interop/bin").join(name);
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    let found = venv
        .filter(|p| p.is_file())
        .or_else(|| Some(local).filter(|p| p.is_file()))
        .or(on_path);
    if found.is_none() {
        assert!(
            !required(),
            "{name} is required (MLGATE_REQUIRE_INTEROP=1 or CI=true): .ci/run installs it from tests/actions/requirements.txt"
        );
        eprintln!("skipped: {name} not found (pip install -r tests/actions/requirements.txt into .venv-interop)");
    }
    found
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn action_yml_matches_schemastores_github_action_schema() {
    let Some(cj) = tool("check-jsonschema") else {
        return;
    };
    let o = Command::new(cj)
        .args(["--builtin-schema", "vendor.github-actions"])
        .arg(root().join("action.yml"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
}

/// A repository with data and a model, initialised by the binary.
fn initialised_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::copy(
        root().join("examples/breast-cancer/data/train.csv"),
        dir.path().join("data/train.csv"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("models")).unwrap();
    std::fs::write(dir.path().join("models/clf.onnx"), b"not really onnx").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_mlgate"))
        .args(["init", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    // A release block with every option that changes the workflows, then `init --release`.
    let config = dir.path().join("mlgate.yml");
    let mut text_ = std::fs::read_to_string(&config).unwrap();
    text_.push_str(RELEASE_BLOCK);
    std::fs::write(&config, text_).unwrap();
    std::fs::write(dir.path().join("mlgate.pub"), "key").unwrap();
    std::fs::create_dir_all(dir.path().join("channels")).unwrap();
    std::fs::write(dir.path().join("channels/beta.root.json"), "{}").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_mlgate"))
        .args(["init", "--release", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    // The sharded gate (`init --shards 3`: three shard jobs and a merge job), in a repository of its own.
    std::fs::create_dir_all(dir.path().join("sharded")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_mlgate"))
        .args(["init", "--shards", "3", "--dir"])
        .arg(dir.path().join("sharded"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    dir
}

const RELEASE_BLOCK: &str = r#"models:
  clf:
    path: models/clf.onnx
    eval: {data: data/train.csv, label: diagnosis}
release:
  models:
    - model: clf
      targets: [linux-aarch64, linux-x86_64, linux-armv7]
      quantize: {mode: dynamic-int8, max_drop: 0.02}
      labels: [malignant, benign]
      selftest: data/train.csv
  pubkey: mlgate.pub
  channel:
    url: https://octo-org.github.io/models/
    root: channels/beta.root.json
  health_cmd: test -f "$MLGATE_BUNDLE"
"#;

/// Every file under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// `mlgate init` over an existing file writes nothing at all (trycmd's `init-exists` compares only the files it
/// lists, so it cannot see an extra one): the folder holds exactly what it held, byte for byte.
#[test]
fn init_over_an_existing_file_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::copy(
        root().join("examples/breast-cancer/data/train.csv"),
        dir.path().join("data/train.csv"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    std::fs::write(
        dir.path().join(".github/workflows/mlgate-comment.yml"),
        "mine\n",
    )
    .unwrap();
    let before = tree(dir.path());
    let o = Command::new(env!("CARGO_BIN_EXE_mlgate"))
        .args(["init", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(tree(dir.path()), before, "nothing written");
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".github/workflows/mlgate-comment.yml")).unwrap(),
        "mine\n"
    );
}

fn workflows(dir: &Path) -> Vec<PathBuf> {
    [
        "mlgate.yml",
        "mlgate-comment.yml",
        "mlgate-release.yml",
        "mlgate-deploy.yml",
        "mlgate-channel-refresh.yml",
    ]
    .iter()
    .map(|f| dir.join(".github/workflows").join(f))
    .chain([dir.join("sharded/.github/workflows/mlgate.yml")])
    .collect()
}

#[test]
fn generated_workflows_have_no_actionlint_findings() {
    let Some(actionlint) = tool("actionlint") else {
        return;
    };
    let dir = initialised_repo();
    let o = Command::new(actionlint)
        .arg("-no-color")
        .args(workflows(dir.path()))
        .arg(root().join(".github/workflows/ci.yml"))
        .arg(root().join(".github/workflows/release.yml"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(o.stdout.is_empty(), "{}", text(&o));
}

/// zizmor, the GitHub Actions security linter, offline with its default persona: no finding on the generated
/// workflows, action.yml or this repository's own workflows. Findings that must stay carry zizmor's inline
/// ignore with the reason in the file itself.
#[test]
fn workflows_and_action_have_no_zizmor_findings() {
    let Some(zizmor) = tool("zizmor") else {
        return;
    };
    let dir = initialised_repo();
    let o = Command::new(zizmor)
        .args(["--offline", "--no-progress", "--format", "plain"])
        .args(workflows(dir.path()))
        .arg(root().join("action.yml"))
        .arg(root().join(".github/workflows"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("No findings to report"),
        "{}",
        text(&o)
    );
}

/// Every `uses:` line in `text`: the action and the ref after `@`, and the rest of the line.
fn uses_lines(text: &str) -> Vec<(String, String, String)> {
    text.lines()
        .filter_map(|l| l.trim().trim_start_matches("- ").strip_prefix("uses:"))
        .map(|rest| {
            let rest = rest.trim();
            let (spec, comment) = rest.split_once(' ').unwrap_or((rest, ""));
            let (action, r) = spec.split_once('@').unwrap_or((spec, ""));
            (action.to_string(), r.to_string(), comment.to_string())
        })
        .collect()
}

/// Every `uses:` that mlgate writes or ships is pinned to a full commit SHA with the version in a comment, and
/// to the commit of the one table in the code (src/pins.rs). The one exception is mlgate's own action in a
/// development build, which says so with zizmor's ignore and how to pin it; `--action` pins it.
#[test]
fn every_uses_is_pinned_to_the_commit_in_the_table() {
    let dir = initialised_repo();
    let mut files: Vec<PathBuf> = workflows(dir.path());
    files.push(root().join("action.yml"));
    for e in std::fs::read_dir(root().join(".github/workflows")).unwrap() {
        files.push(e.unwrap().path());
    }
    let mut seen = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (action, r, comment) in uses_lines(&text) {
            seen += 1;
            if action == "mlgate/mlgate" && !mlgate::pins::is_full_sha(&r) {
                assert!(
                    comment.contains("zizmor: ignore[unpinned-uses]")
                        && comment.contains("--action"),
                    "{}: {action}@{r} {comment}",
                    f.display()
                );
                continue;
            }
            assert!(
                mlgate::pins::is_full_sha(&r),
                "{}: {action}@{r} is not pinned",
                f.display()
            );
            assert!(
                comment.starts_with("# "),
                "{}: {action}@{r} names no version",
                f.display()
            );
            if action != "mlgate/mlgate" {
                let pin = mlgate::pins::PINS.iter().find(|p| p.action == action);
                let pin = pin
                    .unwrap_or_else(|| panic!("{}: {action} is not in src/pins.rs", f.display()));
                assert_eq!(
                    (r.as_str(), comment.as_str()),
                    (pin.sha, format!("# {}", pin.version).as_str())
                );
            }
        }
    }
    assert!(seen >= 8, "found only {seen} uses: lines");

    // --action pins mlgate's own action; a tag is refused.
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let pinned = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_mlgate"))
        .args(["init", "--action", &format!("mlgate/mlgate@{sha}"), "--dir"])
        .arg(pinned.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let gate = std::fs::read_to_string(pinned.path().join(".github/workflows/mlgate.yml")).unwrap();
    assert!(
        gate.contains(&format!("uses: mlgate/mlgate@{sha}\n")),
        "{gate}"
    );
    let o = Command::new(env!("CARGO_BIN_EXE_mlgate"))
        .args(["init", "--action", "mlgate/mlgate@v1", "--dir"])
        .arg(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn generated_workflows_match_schemastores_workflow_schema() {
    let Some(cj) = tool("check-jsonschema") else {
        return;
    };
    let dir = initialised_repo();
    let o = Command::new(cj)
        .args(["--builtin-schema", "vendor.github-workflows"])
        .args(workflows(dir.path()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
}

/// mlgate's own release workflow: no pull-request trigger, nothing granted at the top, and the signing key, the
/// write permissions and the release itself only in the `publish` job, which runs for a pushed tag in the
/// `release` environment (README, Releasing mlgate). zizmor checks pinning and injection; this checks the layout.
#[test]
fn release_workflow_keeps_secrets_and_write_permissions_in_the_publish_job() {
    use serde_json::Value;
    let text = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    let wf: Value = serde_saphyr::from_str(&text).unwrap();
    let on = wf["on"].as_object().unwrap();
    let triggers: Vec<&str> = on.keys().map(String::as_str).collect();
    assert_eq!(triggers, ["push", "workflow_dispatch"]);
    assert_eq!(wf["permissions"], serde_json::json!({}));
    let jobs = wf["jobs"].as_object().unwrap();
    for (name, job) in jobs {
        let body = serde_json::to_string(job).unwrap();
        let writes = job["permissions"]
            .as_object()
            .unwrap_or_else(|| panic!("job {name} sets no permissions"))
            .values()
            .any(|v| v == "write");
        if name == "publish" {
            assert!(writes && body.contains("secrets."), "{body}");
            assert_eq!(job["if"], "github.event_name == 'push'");
            assert_eq!(job["environment"], "release");
        } else {
            assert!(!writes, "job {name} may write");
            assert!(!body.contains("secrets."), "job {name} reads a secret");
        }
        if let Some(steps) = job["steps"].as_array() {
            for s in steps.iter().filter(|s| {
                s["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("actions/checkout@"))
            }) {
                assert_eq!(s["with"]["persist-credentials"], false, "job {name}");
            }
        }
    }
    assert!(jobs.contains_key("publish"));
}

/// The Action installs the release of its own commit: action.yml's default `version` is Cargo.toml's (a release
/// commit changes both; release.yml refuses a tag that differs from Cargo.toml).
#[test]
fn action_default_version_is_the_crate_version() {
    let action: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(root().join("action.yml")).unwrap())
            .unwrap();
    assert_eq!(
        action["inputs"]["version"]["default"],
        env!("CARGO_PKG_VERSION")
    );
}

/// `init --shards 3`: the gate as three shard jobs, each checking its share with a read-only token and uploading
/// its partial report, and one merge job that makes the report and uploads it for mlgate-comment.yml as the
/// one-job gate does.
#[test]
fn sharded_gate_runs_n_shards_then_one_merge_job_with_read_only_permissions() {
    let dir = initialised_repo();
    let gate =
        std::fs::read_to_string(dir.path().join("sharded/.github/workflows/mlgate.yml")).unwrap();
    for wanted in [
        "name: mlgate\n",
        "shard: [1, 2, 3]",
        "args: --shard ${{ matrix.shard }}/3",
        "name: mlgate-shard-${{ matrix.shard }}",
        "needs: shard",
        "pattern: mlgate-shard-*",
        "run: mlgate merge mlgate-shards/partial-*-of-3.json --config mlgate.yml --report-dir mlgate-report",
        "name: mlgate-report\n",
        "permissions:\n  contents: read\n  pull-requests: read\n",
    ] {
        assert!(gate.contains(wanted), "{wanted:?} not in\n{gate}");
    }
    assert!(!gate.contains(": write"), "{gate}");
    let o = Command::new(env!("CARGO_BIN_EXE_mlgate"))
        .args(["init", "--shards", "1", "--dir"])
        .arg(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
