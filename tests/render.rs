//! The renderings of one report (the failing wine example), as insta snapshots: markdown (the PR comment and
//! job summary), human (colour stripped), github annotations and the JSON report.
//! Review changes with `cargo insta review` or `INSTA_UPDATE=always cargo test --test render`.

use std::path::Path;

use mlgate::config::Config;
use mlgate::report::{render_github, render_human, render_markdown, Report};

fn wine() -> Report {
    // Relative to the package root (cargo's working directory for tests), so paths in the report are stable.
    let config = Config::load(Path::new("examples/wine-bugs/mlgate.yml")).unwrap();
    mlgate::check::run(&config).unwrap()
}

#[test]
fn markdown() {
    insta::assert_snapshot!(render_markdown(&wine()));
}

#[test]
fn human_without_colour() {
    insta::assert_snapshot!(anstream::adapter::strip_str(&render_human(&wine())).to_string());
}

#[test]
fn github_annotations() {
    insta::assert_snapshot!(render_github(&wine()));
}

#[test]
fn json_report() {
    let report = wine();
    let json = report.to_json();
    // The JSON is the stable, versioned contract: it round-trips.
    let back: Report = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
    insta::assert_snapshot!(json);
}

/// A `metric` check with a git baseline, gates, intervals and a confusion matrix, as `mlgate check` wrote it in
/// `tests/model_gates.rs`'s repository (latency and throughput fixed so that the snapshot is stable).
fn metric() -> Report {
    let text = std::fs::read_to_string("tests/fixtures/reports/metric-baseline.json").unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn metric_markdown() {
    insta::assert_snapshot!(render_markdown(&metric()));
}

#[test]
fn metric_human_without_colour() {
    insta::assert_snapshot!(anstream::adapter::strip_str(&render_human(&metric())).to_string());
}
