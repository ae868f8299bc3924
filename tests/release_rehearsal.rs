//! A rehearsal of the workflows `mlgate init --release` writes, from tag to device, on this machine.
//!
//! An example repository (examples/breast-cancer with a `release:` block, a self-test input and dynamic-int8
//! quantization) is pushed to a local bare git repository ("origin") with its channel branch, made by `mlgate
//! channel init` as README says. The test renders the workflows with the binary, parses them, and runs every job in
//! `needs` order and every matrix entry: each `run:` step with `bash -eo pipefail` (GitHub's default shell) in a
//! fresh clone of origin, with the workflow's, job's and step's `env:`. GitHub expressions are replaced from a small
//! table (a tag, the matrix values, the secrets, the token) and one it does not know fails the test, as does a
//! `${{ }}` inside a `run:` script (values must reach scripts through `env:`). `uses:` steps run their local
//! equivalents: checkout clones origin at the ref, mlgate's action runs `mlgate check` (or nothing for `command:
//! install`; the built binary is on PATH), upload/download-artifact copy to and from a shared folder,
//! upload-pages-artifact and deploy-pages copy the channel branch into the folder a local static server serves
//! ("GitHub Pages"), and the attestation step is skipped with a note. `mlgate publish --github` talks to the local
//! fake GitHub of tests/common/fake_github.rs.
//!
//! Then a device pulls from the served channel with the pinned root and key, and the self-test (its health check)
//! passes; the deploy workflow's staging pull and promotion to stable run the same way, and a device pulls from
//! stable; the refresh workflow re-signs both channels. What this cannot show is GitHub itself: runners, the
//! permissions and environments, reviewers, Pages, artifact attestations, the Action's download (README, "How
//! this is tested").

mod common;
#[path = "common/fake_github.rs"]
mod fake_github;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use fake_github::{Fake, REPO, TOKEN};
use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The first release: every model (`vX.Y.Z`); the second is one model's (GTO's `NAME@vX.Y.Z`).
const TAG: &str = "v1.2.0";
const MODEL_TAG: &str = "diagnosis@v1.3.0";
const BRANCH: &str = "mlgate-channel";

/// Serves the files under a folder, as GitHub Pages serves the deployed site.
struct Static(PathBuf);

impl Respond for Static {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let rel = req.url.path().trim_start_matches('/');
        if rel.split('/').any(|s| s == ".." || s.starts_with('.')) {
            return ResponseTemplate::new(404);
        }
        match std::fs::read(self.0.join(rel)) {
            Ok(bytes) if req.method.as_str() == "GET" => {
                ResponseTemplate::new(200).set_body_bytes(bytes)
            }
            _ => ResponseTemplate::new(404),
        }
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "advice.detachedHead=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "git {args:?}\n{}", common::text(&o));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn copy_dir(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(from).unwrap();
        if rel.components().any(|c| c.as_os_str() == ".git") {
            continue;
        }
        let dest = to.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else if e.file_type().is_file() {
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// The machine the workflows run on: origin, the shared artifact store, the Pages folder and its server, the
/// fake GitHub, the secrets.
struct World {
    tmp: tempfile::TempDir,
    fake: Fake,
    pages_url: String,
    _pages: MockServer,
    secrets: BTreeMap<String, String>,
    jobs_run: usize,
    /// The tag the workflows run for.
    tag: String,
    /// The current workflow run, and the last run of the release workflow (what `workflow_run` names).
    run: usize,
    release_run: usize,
}

impl World {
    fn path(&self, p: &str) -> PathBuf {
        self.tmp.path().join(p)
    }

    fn new() -> World {
        let tmp = tempfile::tempdir().unwrap();
        let fake = Fake::new();
        fake.with(|s| s.local_downloads = true);
        std::fs::create_dir_all(tmp.path().join("site")).unwrap();
        let pages = fake.rt.block_on(MockServer::start());
        fake.rt.block_on(
            Mock::given(any())
                .respond_with(Static(tmp.path().join("site")))
                .mount(&pages),
        );
        let pages_url = format!("{}/", pages.uri());
        World {
            tmp,
            fake,
            pages_url,
            _pages: pages,
            secrets: BTreeMap::new(),
            jobs_run: 0,
            tag: TAG.into(),
            run: 0,
            release_run: 0,
        }
    }

    /// The example repository with its release block, keys, channel branch and tag, pushed to origin.
    fn setup(&mut self) {
        let keys = self.path("keys");
        std::fs::create_dir_all(&keys).unwrap();
        for k in ["mlgate", "beta", "stable"] {
            common::ok(&keys, &["keygen", "--name", k]);
        }
        self.secrets.insert(
            "MLGATE_SIGNING_KEY".into(),
            std::fs::read_to_string(keys.join("mlgate.key")).unwrap(),
        );
        self.secrets.insert(
            "MLGATE_CHANNEL_KEY".into(),
            std::fs::read_to_string(keys.join("beta.key")).unwrap(),
        );
        self.secrets.insert(
            "MLGATE_STABLE_CHANNEL_KEY".into(),
            std::fs::read_to_string(keys.join("stable.key")).unwrap(),
        );

        let origin = self.path("origin.git");
        std::fs::create_dir_all(&origin).unwrap();
        git(&origin, &["init", "-q", "--bare"]);

        // The channel branch, as README's bootstrap makes it.
        let chan = self.path("maintainer-channel");
        std::fs::create_dir_all(&chan).unwrap();
        git(&chan, &["init", "-q", "-b", BRANCH]);
        for (dir, key) in [("beta", "beta.key"), ("stable", "stable.key")] {
            common::ok(
                &chan,
                &[
                    "channel",
                    "init",
                    "--dir",
                    dir,
                    "--key",
                    keys.join(key).to_str().unwrap(),
                    "--bundle-pubkey",
                    keys.join("mlgate.pub").to_str().unwrap(),
                ],
            );
        }
        git(&chan, &["add", "-A"]);
        git(&chan, &["commit", "-q", "-m", "channels"]);
        git(&chan, &["push", "-q", origin.to_str().unwrap(), BRANCH]);

        // The repository: the example, a self-test input, the public key, the beta root, the release block.
        let work = self.path("maintainer");
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/breast-cancer"),
            &work,
        );
        let holdout = std::fs::read_to_string(work.join("data/holdout.csv")).unwrap();
        let selftest: String = holdout
            .lines()
            .take(4)
            .map(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                format!("{}\n", cells[1..cells.len() - 1].join(","))
            })
            .collect();
        std::fs::write(work.join("data/selftest.csv"), selftest).unwrap();
        std::fs::copy(keys.join("mlgate.pub"), work.join("mlgate.pub")).unwrap();
        std::fs::create_dir_all(work.join("channels")).unwrap();
        std::fs::copy(
            chan.join("beta/root.json"),
            work.join("channels/beta.root.json"),
        )
        .unwrap();
        // A second model that dynamic-int8 can quantize (an MLP regressor; the logistic regression is an
        // ai.onnx.ml LinearClassifier, bundled in float), with its own self-test.
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models");
        std::fs::copy(
            fixtures.join("diabetes_mlp.onnx"),
            work.join("models/risk.onnx"),
        )
        .unwrap();
        std::fs::copy(
            fixtures.join("data/diabetes_test.csv"),
            work.join("data/risk.csv"),
        )
        .unwrap();
        let risk = std::fs::read_to_string(work.join("data/risk.csv")).unwrap();
        let selftest: String = risk
            .lines()
            .take(4)
            .map(|l| format!("{}\n", l.rsplit_once(',').unwrap().0))
            .collect();
        std::fs::write(work.join("data/risk-selftest.csv"), selftest).unwrap();
        let mut config = std::fs::read_to_string(work.join("mlgate.yml")).unwrap();
        config.push_str(&format!(
            "  risk:\n    path: models/risk.onnx\n    eval: {{data: data/risk.csv, label: target}}\n    \
             gates:\n      r2: {{min: 0.4}}\n\
             release:\n  models:\n    - model: diagnosis\n      targets: [linux-aarch64, linux-x86_64]\n      \
             labels: [malignant, benign]\n      selftest: data/selftest.csv\n    - model: risk\n      \
             targets: [linux-aarch64]\n      quantize: {{mode: dynamic-int8, max_drop: 0.1}}\n      \
             selftest: data/risk-selftest.csv\n  pubkey: mlgate.pub\n  channel:\n    url: {}\n    \
             root: channels/beta.root.json\n",
            self.pages_url
        ));
        std::fs::write(work.join("mlgate.yml"), config).unwrap();
        let o = common::ok(&work, &["init", "--release"]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.contains("wrote .github/workflows/mlgate-release.yml"),
            "{out}"
        );
        git(&work, &["init", "-q", "-b", "main"]);
        git(&work, &["add", "-A"]);
        git(
            &work,
            &["commit", "-q", "-m", "example with a release block"],
        );
        git(&work, &["tag", TAG]);
        git(
            &work,
            &["push", "-q", origin.to_str().unwrap(), "main", "--tags"],
        );
    }

    /// A new tag on the maintainer's main branch, pushed; the workflows then run for it.
    fn tag(&mut self, tag: &str) {
        let work = self.path("maintainer");
        git(&work, &["tag", tag]);
        git(
            &work,
            &[
                "push",
                "-q",
                self.path("origin.git").to_str().unwrap(),
                "--tags",
            ],
        );
        self.tag = tag.to_string();
    }

    fn artifacts(&self, run: usize) -> PathBuf {
        self.path(&format!("artifacts/{run}"))
    }

    /// A GitHub expression's value, from the table of what this rehearsal knows; anything else fails the test.
    fn expression(&self, expr: &str, ctx: &Ctx) -> String {
        let e = expr.trim();
        if let Some(name) = e.strip_prefix("secrets.") {
            return self
                .secrets
                .get(name)
                .unwrap_or_else(|| panic!("unknown secret {name}"))
                .clone();
        }
        if let Some(key) = e.strip_prefix("matrix.") {
            return ctx
                .matrix
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("no matrix value {key}"))
                .to_string();
        }
        match e {
            "github.event_name == 'workflow_dispatch' && inputs.tag || github.ref_name"
            | "env.MLGATE_TAG" => self.tag.clone(),
            "github.token" => TOKEN.into(),
            "github.event.workflow_run.id" => self.release_run.to_string(),
            "steps.deployment.outputs.page_url" => self.pages_url.clone(),
            "github.event.workflow_run.conclusion == 'success' && github.event.workflow_run.event != 'pull_request'" => {
                "true".into()
            }
            "hashFiles('dist/*.tar.gz') != ''" => {
                let any = std::fs::read_dir(ctx.dir.join("dist")).is_ok_and(|mut d| {
                    d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".tar.gz")))
                });
                any.to_string()
            }
            _ => panic!("the rehearsal does not know the expression ${{{{ {e} }}}}"),
        }
    }

    /// `s` with every `${{ }}` replaced.
    fn substitute(&self, s: &str, ctx: &Ctx) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find("${{") {
            out.push_str(&rest[..i]);
            let j = rest[i..].find("}}").expect("an unclosed ${{") + i;
            out.push_str(&self.expression(&rest[i + 3..j], ctx));
            rest = &rest[j + 2..];
        }
        out.push_str(rest);
        out
    }

    fn env_of(&self, v: Option<&Value>, ctx: &Ctx, into: &mut BTreeMap<String, String>) {
        for (k, v) in v.and_then(Value::as_object).into_iter().flatten() {
            let raw = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            into.insert(k.clone(), self.substitute(&raw, ctx));
        }
    }

    /// Runs every job of the workflow at `rel` (in the repository) in `needs` order.
    fn run_workflow(&mut self, rel: &str) {
        self.run += 1;
        if rel.ends_with("mlgate-release.yml") {
            self.release_run = self.run;
        }
        let text = std::fs::read_to_string(self.path("maintainer").join(rel)).unwrap();
        let wf: Value = serde_saphyr::from_str(&text).unwrap();
        let jobs = wf["jobs"].as_object().unwrap().clone();
        let mut done: Vec<String> = vec![];
        while done.len() < jobs.len() {
            let (name, job) = jobs
                .iter()
                .find(|(n, j)| !done.contains(n) && needs(j).iter().all(|d| done.contains(d)))
                .unwrap_or_else(|| panic!("{rel}: a cycle in `needs`"));
            let entries: Vec<Value> = match job.pointer("/strategy/matrix/include") {
                Some(Value::Array(a)) => a.clone(),
                _ => vec![Value::Object(Default::default())],
            };
            for (i, m) in entries.iter().enumerate() {
                self.run_job(rel, &wf, name, job, m, i);
            }
            done.push(name.clone());
        }
    }

    fn run_job(
        &mut self,
        rel: &str,
        wf: &Value,
        name: &str,
        job: &Value,
        matrix: &Value,
        i: usize,
    ) {
        self.jobs_run += 1;
        let dir = self.path(&format!("runs/{}-{name}-{i}", self.jobs_run));
        let temp = self.path(&format!("runs/{}-temp", self.jobs_run));
        std::fs::create_dir_all(&temp).unwrap();
        let ctx = Ctx {
            matrix: matrix.as_object().cloned().unwrap_or_default(),
            dir: dir.clone(),
        };
        if let Some(cond) = job.get("if").and_then(Value::as_str) {
            assert_eq!(
                self.substitute(&format!("${{{{ {cond} }}}}"), &ctx),
                "true",
                "{rel} {name}: if"
            );
        }
        let mut env = BTreeMap::new();
        self.env_of(wf.get("env"), &ctx, &mut env);
        self.env_of(job.get("env"), &ctx, &mut env);
        for step in job["steps"].as_array().unwrap() {
            let mut step_env = env.clone();
            self.env_of(step.get("env"), &ctx, &mut step_env);
            if let Some(cond) = step.get("if").and_then(Value::as_str) {
                if self.substitute(&format!("${{{{ {cond} }}}}"), &ctx) != "true" {
                    continue;
                }
            }
            let with = |k: &str| -> Option<String> {
                step.get("with").and_then(|w| w.get(k)).map(|v| match v {
                    Value::String(s) => self.substitute(s, &ctx),
                    other => other.to_string(),
                })
            };
            if let Some(script) = step.get("run").and_then(Value::as_str) {
                assert!(
                    !script.contains("${{"),
                    "{rel} {name}: a run script interpolates an expression (use env:)\n{script}"
                );
                self.run_script(rel, name, &dir, &temp, script, &step_env);
                continue;
            }
            let uses = step["uses"].as_str().unwrap();
            let action = uses.split('@').next().unwrap();
            match action {
                "actions/checkout" => {
                    git(
                        self.tmp.path(),
                        &["clone", "-q", "origin.git", dir.to_str().unwrap()],
                    );
                    if let Some(r) = with("ref") {
                        git(&dir, &["checkout", "-q", &r]);
                    }
                }
                "mlgate/mlgate" => match with("command").as_deref() {
                    Some("install") => {}
                    None | Some("check") => {
                        let config = with("config").unwrap_or_else(|| "mlgate.yml".into());
                        let report = with("report-dir").unwrap_or_else(|| "mlgate-report".into());
                        let o = common::mlgate()
                            .current_dir(&dir)
                            .args([
                                "check",
                                "--config",
                                &config,
                                "--report-dir",
                                &report,
                                "--no-comment",
                            ])
                            .output()
                            .unwrap();
                        assert_eq!(
                            o.status.code(),
                            Some(0),
                            "{rel} {name}: the gate\n{}",
                            common::text(&o)
                        );
                    }
                    Some(other) => panic!("{rel}: the action's command {other}"),
                },
                "actions/upload-artifact" => {
                    let from = dir.join(with("path").unwrap());
                    // Artifacts belong to their workflow run.
                    let to = self.artifacts(self.run).join(with("name").unwrap());
                    if from.exists() {
                        copy_dir(&from, &to);
                    } else {
                        assert_eq!(
                            with("if-no-files-found").as_deref(),
                            Some("ignore"),
                            "{rel} {name}"
                        );
                    }
                }
                "actions/download-artifact" => {
                    let to = dir.join(with("path").unwrap());
                    let run = with("run-id").map_or(self.run, |r| r.parse().unwrap());
                    let store = self.artifacts(run);
                    if let Some(n) = with("name") {
                        assert!(store.join(&n).exists(), "{rel} {name}: no artifact {n}");
                        copy_dir(&store.join(n), &to);
                    } else {
                        let pattern = glob::Pattern::new(&with("pattern").unwrap()).unwrap();
                        assert_eq!(with("merge-multiple").as_deref(), Some("true"));
                        for e in std::fs::read_dir(&store).unwrap() {
                            let e = e.unwrap();
                            if pattern.matches(&e.file_name().to_string_lossy()) {
                                copy_dir(&e.path(), &to);
                            }
                        }
                    }
                }
                "actions/attest" => {
                    eprintln!(
                        "note: {rel} {name}: artifact attestation skipped (GitHub's service)"
                    );
                }
                "actions/upload-pages-artifact" => {
                    let pending = self.path("pages-artifact");
                    let _ = std::fs::remove_dir_all(&pending);
                    copy_dir(&dir.join(with("path").unwrap()), &pending);
                }
                "actions/deploy-pages" => {
                    let site = self.path("site");
                    std::fs::remove_dir_all(&site).unwrap();
                    copy_dir(&self.path("pages-artifact"), &site);
                }
                other => panic!("{rel} {name}: no local equivalent of {other}"),
            }
        }
    }

    fn run_script(
        &self,
        rel: &str,
        job: &str,
        dir: &Path,
        temp: &Path,
        script: &str,
        env: &BTreeMap<String, String>,
    ) {
        let bin = Path::new(env!("CARGO_BIN_EXE_mlgate")).parent().unwrap();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let home = self.path("home");
        std::fs::create_dir_all(&home).unwrap();
        let o = Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
            .current_dir(dir)
            .env_clear()
            .env("PATH", path)
            .env("HOME", &home)
            .env("NO_COLOR", "1")
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .env("GITHUB_REPOSITORY", REPO)
            .env("RUNNER_TEMP", temp)
            // GitHub's hosts, which a runner is given: here the fake's.
            .env("GITHUB_API_URL", self.fake.api.uri())
            .env("MLGATE_GITHUB_UPLOAD_URL", self.fake.uploads.uri())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .envs(env)
            .output()
            .unwrap();
        let all = common::text(&o);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{rel} {job}: a run step failed\n{script}\n{all}"
        );
        for secret in self.secrets.values() {
            let line = secret.lines().nth(1).unwrap_or(secret);
            assert!(!all.contains(line), "{rel} {job}: a secret in the output");
        }
        assert!(!all.contains(TOKEN), "{rel} {job}: the token in the output");
        eprintln!("--- {rel} {job}\n{all}");
    }

    /// `mlgate pull` from `channel` (a folder of the served site) into `device`, as a device does.
    fn pull(&self, channel: &str, root: &Path, device: &str, model: &str) -> String {
        let o = common::mlgate()
            .current_dir(self.tmp.path())
            .args([
                "pull",
                "--channel",
                &format!("{}{channel}/", self.pages_url),
            ])
            .arg("--root")
            .arg(root)
            .args([
                "--dir",
                device,
                "--target",
                "linux-aarch64",
                "--model",
                model,
            ])
            .arg("--pubkey")
            .arg(self.path("keys/mlgate.pub"))
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "pull from {channel}\n{}",
            common::text(&o)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}

/// The values a job's expressions may read.
struct Ctx {
    matrix: serde_json::Map<String, Value>,
    dir: PathBuf,
}

fn needs(job: &Value) -> Vec<String> {
    match job.get("needs") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => vec![],
    }
}

fn assets(w: &World, tag: &str) -> Vec<String> {
    let release = w
        .fake
        .with(|s| s.releases.iter().find(|r| r.tag == tag).cloned())
        .unwrap_or_else(|| panic!("a release of {tag}"));
    assert!(!release.draft);
    let mut names: Vec<String> = release
        .assets
        .iter()
        .map(|a| {
            a.name
                .split_once('.')
                .map_or(a.name.clone(), |(_, n)| n.to_string())
        })
        .collect();
    names.sort();
    names
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn the_generated_workflows_take_a_tag_to_a_device() {
    let mut w = World::new();
    w.setup();

    // v1.2.0: every model. The release of the tag on the fake GitHub holds one bundle per model and target, and
    // Pages serves the beta channel.
    w.run_workflow(".github/workflows/mlgate-release.yml");
    assert_eq!(
        assets(&w, TAG),
        [
            "SHA256SUMS",
            "diagnosis-1.2.0-linux-aarch64.tar.gz",
            "diagnosis-1.2.0-linux-x86_64.tar.gz",
            "risk-1.2.0-linux-aarch64.tar.gz",
        ]
    );
    assert!(w.path("site/beta/timestamp.json").exists());

    // Devices with the pinned root and key pull each model; the self-test is the health check.
    let beta_root = w.path("maintainer/channels/beta.root.json");
    for model in ["diagnosis", "risk"] {
        let device = format!("device-{model}");
        let out = w.pull("beta", &beta_root, &device, model);
        assert!(out.contains("1.2.0"), "{out}");
        let manifest =
            std::fs::read_to_string(w.path(&device).join("current/files/manifest.json")).unwrap();
        assert!(manifest.contains("selftest"), "{manifest}");
        if model == "risk" {
            assert!(manifest.contains("int8"), "{manifest}");
        }
    }

    // The deploy workflow: the staging pull, then the promotion of the same bundles to stable.
    w.run_workflow(".github/workflows/mlgate-deploy.yml");
    let stable_root = w.path("maintainer-channel/stable/root.json");
    let out = w.pull("stable", &stable_root, "device-stable", "risk");
    assert!(out.contains("1.2.0"), "{out}");

    // diagnosis@v1.3.0: that model alone (the other matrix entries bundle nothing), on a release of that tag.
    w.tag(MODEL_TAG);
    w.run_workflow(".github/workflows/mlgate-release.yml");
    assert_eq!(
        assets(&w, MODEL_TAG),
        [
            "SHA256SUMS",
            "diagnosis-1.3.0-linux-aarch64.tar.gz",
            "diagnosis-1.3.0-linux-x86_64.tar.gz"
        ]
    );
    let out = w.pull("beta", &beta_root, "device-diagnosis", "diagnosis");
    assert!(out.contains("1.3.0"), "{out}");
    let out = w.pull("beta", &beta_root, "device-risk", "risk");
    assert!(!out.contains("1.3.0"), "{out}");
    w.run_workflow(".github/workflows/mlgate-deploy.yml");
    let out = w.pull(
        "stable",
        &stable_root,
        "device-stable-diagnosis",
        "diagnosis",
    );
    assert!(out.contains("1.3.0"), "{out}");

    // The scheduled refresh re-signs both channels' timestamps and the expiry check passes.
    let before = json(&w.path("site/stable/timestamp.json"));
    w.run_workflow(".github/workflows/mlgate-channel-refresh.yml");
    let after = json(&w.path("site/stable/timestamp.json"));
    assert!(
        after["signed"]["version"].as_u64() > before["signed"]["version"].as_u64(),
        "{before} {after}"
    );
    // The branch holds what was served: beta and stable, pushed by the jobs.
    let log = git(&w.path("origin.git"), &["log", "--format=%s", BRANCH]);
    for line in [
        format!("mlgate: publish {TAG} to beta"),
        format!("mlgate: publish {MODEL_TAG} to beta"),
        "mlgate: promote the release to stable".into(),
        "mlgate: refresh the channels".into(),
    ] {
        assert!(log.contains(&line), "{log}");
    }
}
