//! The pull-request comment (templates/comment.md.j2) as an insta snapshot, on a report with schema findings
//! (the failing wine example), a drift check (breast-cancer train against holdout) and metric checks built by
//! hand to the metric-check contract. Review with `INSTA_UPDATE=always cargo test --test comment`.

use std::path::Path;

use mlgate::config::Config;
use mlgate::data::drift::{drift, DriftOptions};
use mlgate::data::{Dialect, Schema, Source};
use mlgate::github::comment_body::{comment_markdown, render_comment, Links, COMMENT_LIMIT};
use mlgate::report::{Check, Finding, Report, Severity, Status};
use serde_json::json;

fn metric_checks() -> Vec<Check> {
    let mut clf = Check::new("classifier", "metric");
    clf.id = "classifier/metric".into();
    clf.status = Status::Fail;
    clf.summary = "accuracy 0.912 below the gate 0.93; f1 within 0.01 of the baseline".into();
    clf.figures
        .insert("model".into(), json!("models/classifier.onnx"));
    clf.figures.insert("task".into(), json!("classification"));
    clf.figures.insert("rows".into(), json!(114));
    clf.figures.insert(
        "baseline".into(),
        json!({"source": "git", "ref": "origin/main", "path": "models/classifier.onnx", "rows": 114}),
    );
    clf.figures.insert(
        "metrics".into(),
        json!([
            {"name": "accuracy", "value": 0.9122807017543859, "baseline": 0.9385964912280702, "delta": -0.02631578947368418,
             "relative_delta": -0.028037383177570097, "interval": [0.8596, 0.9561], "gate": "≥ 0.93",
             "direction": "higher_is_better", "status": "fail"},
            {"name": "f1", "value": 0.93, "baseline": 0.935, "delta": -0.005, "relative_delta": -0.0053475935828877,
             "interval": null, "gate": "no drop > 0.01 vs baseline", "direction": "higher_is_better", "status": "pass"},
            {"name": "log_loss", "value": null, "baseline": null, "delta": null, "relative_delta": null,
             "interval": null, "gate": null, "direction": "lower_is_better", "status": "skip"}
        ]),
    );
    clf.figures.insert(
        "confusion_matrix".into(),
        json!({"labels": ["benign", "malignant"], "matrix": [[68, 4], [6, 36]]}),
    );
    let mut f = Finding::new(
        "metric-gate",
        Severity::Error,
        "accuracy 0.9123 is below the gate 0.93",
    );
    f.field = Some("accuracy".into());
    clf.findings.push(f);
    clf.counts.insert("metric-gate".into(), 1);

    let mut reg = Check::new("regressor", "metric");
    reg.id = "regressor/metric".into();
    reg.summary = "all gates pass; no baseline".into();
    reg.figures
        .insert("model".into(), json!("models/regressor.tflite"));
    reg.figures.insert("task".into(), json!("regression"));
    reg.figures.insert("rows".into(), json!(50));
    reg.figures.insert("baseline".into(), json!(null));
    reg.figures.insert(
        "metrics".into(),
        json!([{"name": "mae", "value": 0.41, "baseline": null, "delta": null, "relative_delta": null,
                "interval": [0.35, 0.47], "gate": "≤ 0.5", "direction": "lower_is_better", "status": "pass"}]),
    );
    vec![clf, reg]
}

fn report() -> Report {
    let wine = Config::load(Path::new("examples/wine-bugs/mlgate.yml")).unwrap();
    let mut checks = mlgate::check::run(&wine).unwrap().checks;
    let dir = Path::new("examples/breast-cancer");
    let schema = Schema::load(&dir.join("schemas/cells.schema.json")).unwrap();
    let reference = Source::new(dir.join("data/train.csv"), None, Dialect::default()).unwrap();
    let current = Source::new(dir.join("data/holdout.csv"), None, Dialect::default()).unwrap();
    let mut opts = DriftOptions::new("holdout");
    // A handful of columns keeps the snapshot readable.
    opts.exclude = schema_fields(&schema).into_iter().skip(4).collect();
    checks.push(drift(&reference, &current, Some(&schema), &opts).unwrap());
    checks.extend(metric_checks());
    Report::new(checks)
}

fn schema_fields(schema: &Schema) -> Vec<String> {
    schema.fields.iter().map(|f| f.name.clone()).collect()
}

fn links() -> Links {
    Links {
        server_url: "https://github.com".into(),
        repository: "octo-org/ml-repo".into(),
        head_sha: Some("ce587453ced02b1526dfb4cb910479d431683101".into()),
        path_prefix: String::new(),
        run_id: Some("1234567890".into()),
    }
}

#[test]
fn comment_with_schema_drift_and_metrics() {
    let md = render_comment(&report(), "<!-- mlgate:mlgate.yml:gate -->", &links()).unwrap();
    insta::assert_snapshot!(md);
}

#[test]
fn a_passing_report_is_short() {
    let md = render_comment(
        &Report::new(vec![]),
        "<!-- mlgate:mlgate.yml:gate -->",
        &links(),
    )
    .unwrap();
    insta::assert_snapshot!(md);
}

#[test]
fn a_huge_report_is_trimmed_to_githubs_limit() {
    let mut c = Check::new("big", "schema");
    c.status = Status::Fail;
    for i in 0..1000u64 {
        let mut f = Finding::new("type-error", Severity::Error, "x".repeat(150));
        f.file = Some("data/big.csv".into());
        f.line = Some(i + 2);
        c.findings.push(f);
    }
    c.counts.insert("type-error".into(), 1000);
    let mut checks = vec![];
    for i in 0..8 {
        let mut c = c.clone();
        c.id = format!("big{i}/schema");
        checks.push(c);
    }
    let md = comment_markdown(&Report::new(checks), "<!-- m -->", &links()).unwrap();
    assert!(
        md.chars().count() <= COMMENT_LIMIT,
        "{}",
        md.chars().count()
    );
    assert!(md.contains("more lines left out"));
    assert!(md.contains("https://github.com/octo-org/ml-repo/actions/runs/1234567890"));
    assert!(md.starts_with("<!-- m -->\n## ❌"));
}
