//! The shipped example repositories run as they are: breast-cancer passes; wine-bugs fails with exactly the
//! findings its generator planted (`examples/wine-bugs/expected.json`, cross-checked with frictionless 5.21.0).

use std::collections::BTreeSet;
use std::path::Path;

use mlgate::config::Config;
use mlgate::report::{Status, Verdict};
use serde_json::Value;

fn example(name: &str) -> mlgate::report::Report {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
        .join("mlgate.yml");
    mlgate::check::run(&Config::load(&path).unwrap()).unwrap()
}

#[test]
fn breast_cancer_passes() {
    let report = example("breast-cancer");
    assert_eq!(report.verdict, Verdict::Pass);
    assert!(
        report.checks.iter().all(|c| c.status == Status::Pass),
        "{report:#?}"
    );
    assert!(report.checks.len() >= 2);
    // The model gate: the logistic regression evaluated with tract on the holdout rows.
    let metric = report
        .checks
        .iter()
        .find(|c| c.kind == "metric")
        .expect("a metric check");
    assert_eq!(metric.subject, "diagnosis");
    assert_eq!(metric.figures["rows"], 114);
}

#[test]
fn wine_bugs_fails_at_the_planted_lines() {
    let report = example("wine-bugs");
    assert_eq!(report.verdict, Verdict::Fail);
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/wine-bugs/expected.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let incoming = &expected["datasets"]["incoming"];
    let want: BTreeSet<(u64, u64, String)> = incoming["cell_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["field_number"].as_u64().unwrap(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let schema = report
        .checks
        .iter()
        .find(|c| c.id == "incoming/schema")
        .unwrap();
    let got: BTreeSet<(u64, u64, String)> = schema
        .findings
        .iter()
        .map(|f| (f.row.unwrap(), f.field_number.unwrap(), f.code.clone()))
        .collect();
    assert_eq!(got, want);
    // Plain CSV: every finding's physical line is its row, and it names the file.
    for f in &schema.findings {
        assert_eq!(f.line, f.row);
        assert_eq!(
            f.file
                .as_deref()
                .map(|p| p.ends_with("wine-bugs/data/incoming.csv")),
            Some(true)
        );
    }
    // The table checks that the planted bugs break, by field and code.
    let table = report
        .checks
        .iter()
        .find(|c| c.id == "incoming/table")
        .unwrap();
    assert_eq!(table.status, Status::Fail);
    let code_of = |check: &str| match check {
        "max_null_fraction" => "null-fraction",
        "max" => "field-max",
        "min" => "field-min",
        "mean" => "field-mean",
        "max_distinct" => "distinct-count",
        other => panic!("unknown table check {other}"),
    };
    let want: BTreeSet<(String, String)> = incoming["table_check_failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["field"].as_str().unwrap().to_string(),
                code_of(t["check"].as_str().unwrap()).to_string(),
            )
        })
        .collect();
    let got: BTreeSet<(String, String)> = table
        .findings
        .iter()
        .map(|f| (f.field.clone().unwrap(), f.code.clone()))
        .collect();
    assert_eq!(got, want);
    // The clean training set passes its contract.
    assert!(report
        .checks
        .iter()
        .filter(|c| c.subject == "train")
        .all(|c| c.status == Status::Pass));
}
