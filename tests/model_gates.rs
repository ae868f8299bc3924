//! `models:` in mlgate.yml end to end: gates, a git baseline (a temporary repository whose base commit holds one
//! model and whose head holds another), the paired-bootstrap interval, a report baseline and a metrics file.

use std::path::{Path, PathBuf};
use std::process::Command;

use mlgate::config::Config;
use mlgate::report::{Report, Severity, Status, Verdict};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models")
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=mlgate",
            "-c",
            "user.email=mlgate@example.invalid",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A repository whose `base` branch has the logistic regression as models/model.onnx and whose head has the
/// random forest at the same path (a worse model: accuracy 0.944 against 0.986 on the same 143 rows).
fn repo(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("models")).unwrap();
    std::fs::create_dir_all(d.join("data")).unwrap();
    std::fs::copy(
        fixtures().join("data/breast_cancer_test.csv"),
        d.join("data/test.csv"),
    )
    .unwrap();
    std::fs::copy(
        fixtures().join("breast_cancer_logreg.onnx"),
        d.join("models/model.onnx"),
    )
    .unwrap();
    git(d, &["init", "-q", "-b", "base"]);
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    git(d, &["checkout", "-q", "-b", "head"]);
    std::fs::copy(
        fixtures().join("breast_cancer_forest.onnx"),
        d.join("models/model.onnx"),
    )
    .unwrap();
    std::fs::write(d.join("mlgate.yml"), config).unwrap();
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "head"]);
    dir
}

fn run(dir: &Path) -> Report {
    let config = Config::load(&dir.join("mlgate.yml")).unwrap();
    mlgate::check::run(&config).unwrap()
}

fn metric<'a>(report: &'a Report, name: &str) -> &'a Value {
    report.checks[0].figures["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap()
}

const CONFIG: &str = "version: 1
models:
  cancer:
    path: models/model.onnx
    eval: {data: data/test.csv, label: target}
    baseline: {ref: base}
    bootstrap: {resamples: 300, seed: 7}
    gates:
      accuracy: {min: 0.9, max_drop: 0.01}
      roc_auc: {min: 0.95}
";

#[test]
fn git_baseline_is_re_evaluated_on_the_same_data() {
    let dir = repo(CONFIG);
    let report = run(dir.path());
    assert_eq!(report.verdict, Verdict::Fail);
    let c = &report.checks[0];
    assert_eq!(c.id, "cancer/metric");
    assert_eq!(c.kind, "metric");
    assert_eq!(c.status, Status::Fail);
    let keys: Vec<&str> = c.figures.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "model",
            "task",
            "rows",
            "baseline",
            "metrics",
            "confusion_matrix"
        ]
    );
    assert_eq!(c.figures["task"], "classification");
    assert_eq!(c.figures["rows"], 143);
    assert_eq!(
        c.figures["baseline"],
        serde_json::json!({"source": "git", "ref": "base", "path": "models/model.onnx", "rows": 143})
    );
    let acc = metric(&report, "accuracy");
    assert!((acc["value"].as_f64().unwrap() - 0.9440559440559441).abs() < 1e-12);
    assert!((acc["baseline"].as_f64().unwrap() - 0.986013986013986).abs() < 1e-12);
    let delta = acc["delta"].as_f64().unwrap();
    assert!((delta + 0.04195804195804196).abs() < 1e-12, "{delta}");
    let interval = acc["interval"].as_array().unwrap();
    let (lo, hi) = (interval[0].as_f64().unwrap(), interval[1].as_f64().unwrap());
    assert!(lo <= delta && delta <= hi && hi < 0.0, "[{lo}, {hi}]");
    assert_eq!(acc["gate"], "min 0.9, max_drop 0.01");
    assert_eq!(acc["direction"], "higher_is_better");
    assert_eq!(acc["status"], "fail");
    assert_eq!(metric(&report, "roc_auc")["status"], "pass");
    assert_eq!(metric(&report, "f1_macro")["status"], "skip");
    assert!(metric(&report, "latency_p50")["interval"].is_null());
    let f = &c.findings[0];
    assert_eq!(f.code, "metric-gate");
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.field.as_deref(), Some("accuracy"));
    assert!(f.file.as_deref().unwrap().ends_with("mlgate.yml"));
    assert!(
        f.message
            .contains("worsened by 0.041958 against the baseline 0.986014 (max_drop 0.01)"),
        "{}",
        f.message
    );
    assert!(
        c.summary
            .starts_with("accuracy 0.9441 (−0.04196 vs base, 95% CI ["),
        "{}",
        c.summary
    );
    // Deterministic: the same seed gives the same interval.
    assert_eq!(
        run(dir.path()).checks[0].figures["metrics"][0]["interval"],
        acc["interval"]
    );
}

#[test]
fn significance_turns_a_noisy_drop_into_a_warning() {
    // recall_binary drops by 0.022 (2 of 90 positives): its interval includes zero, so with require_significance
    // the drop only warns, while accuracy's drop (0.042, interval below zero) still fails.
    let config = "version: 1
models:
  cancer:
    path: models/model.onnx
    eval: {data: data/test.csv, label: target}
    baseline: {ref: base}
    require_significance: true
    bootstrap: {resamples: 400}
    gates:
      recall_binary: {max_drop: 0.01}
";
    let dir = repo(config);
    let report = run(dir.path());
    let recall = metric(&report, "recall_binary");
    let i = recall["interval"].as_array().unwrap();
    assert!(
        i[0].as_f64().unwrap() < 0.0 && i[1].as_f64().unwrap() > 0.0,
        "{recall}"
    );
    assert_eq!(recall["status"], "warn");
    assert!(report.checks[0].findings[0]
        .message
        .contains("not significant"));
    assert_eq!(report.checks[0].status, Status::Warn);
    assert_eq!(report.checks[0].findings[0].severity, Severity::Warning);
    assert_eq!(report.verdict, Verdict::Pass);
}

#[test]
fn a_missing_ref_says_how_to_fetch_it() {
    let dir = repo(&CONFIG.replace("ref: base", "ref: origin/main"));
    let config = Config::load(&dir.path().join("mlgate.yml")).unwrap();
    let e = mlgate::check::run(&config).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("the ref \"origin/main\" is not in this clone"),
        "{text}"
    );
    let help = miette::Diagnostic::help(&e).unwrap().to_string();
    assert!(help.contains("git fetch --depth=1 origin main"), "{help}");
    // Through the binary: could not run, exit 2, with the same help.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_mlgate"))
        .current_dir(dir.path())
        .args(["check", "--format", "json"])
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_BASE_REF")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("git fetch --depth=1 origin main"),
        "{stderr}"
    );
    assert!(o.stdout.is_empty(), "no report when it could not run");
}

#[test]
fn a_new_model_has_no_baseline() {
    let dir = repo(&CONFIG.replace("models/model.onnx", "models/new.onnx"));
    std::fs::copy(
        fixtures().join("breast_cancer_forest.onnx"),
        dir.path().join("models/new.onnx"),
    )
    .unwrap();
    let report = run(dir.path());
    let c = &report.checks[0];
    assert!(c.figures["baseline"].is_null());
    assert!(
        c.summary
            .ends_with("no baseline: models/new.onnx is not in base"),
        "{}",
        c.summary
    );
}

#[test]
fn report_baseline_and_metrics_file() {
    let dir = repo(CONFIG);
    let d = dir.path();
    let first = run(d);
    std::fs::write(d.join("previous.json"), first.to_json()).unwrap();
    std::fs::write(
        d.join("metrics.json"),
        r#"{"eval": {"bleu": 28.5}, "accuracy": 0.5}"#,
    )
    .unwrap();
    let config = "version: 1
models:
  cancer:
    path: models/model.onnx
    eval: {data: data/test.csv, label: target}
    baseline: {report: previous.json}
    gates:
      accuracy: {max_drop: 0.0}
  llm:
    metrics_file: metrics.json
    gates:
      eval.bleu: {min: 30, direction: higher_is_better}
      rouge: {min: 0.2, direction: higher_is_better, missing: warn}
";
    std::fs::write(d.join("mlgate.yml"), config).unwrap();
    let report = run(d);
    let c = &report.checks[0];
    assert_eq!(c.figures["baseline"]["source"], "report");
    assert_eq!(c.figures["baseline"]["rows"], 143);
    let acc = metric(&report, "accuracy");
    assert_eq!(acc["delta"], 0.0);
    assert!(acc["interval"].is_null());
    assert_eq!(acc["status"], "pass");
    let llm = &report.checks[1];
    assert_eq!(llm.status, Status::Fail);
    let codes: Vec<&str> = llm.findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["metric-gate", "metric-missing"]);
    assert_eq!(llm.findings[1].severity, Severity::Warning);
    assert_eq!(llm.findings[0].value.as_deref(), Some("28.5"));
}
