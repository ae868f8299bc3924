//! `--format junit` and `--format sarif` read by other tools: junitparser (PyPI) reads the JUnit XML as the JUnit
//! report actions do (suites, cases, failures with their type, skips), hostile text included; the SARIF validates
//! against the official SARIF 2.1.0 JSON schema (`sarif-2.1.0-rtm.5.json` from Microsoft's npm package
//! `@microsoft/jest-sarif`, which `.ci/run` unpacks and names in $MLGATE_SARIF_SCHEMA) with check-jsonschema.
//! Under MLGATE_REQUIRE_INTEROP=1 a missing tool or schema fails; elsewhere the test is skipped with a note.

mod common;

use std::path::{Path, PathBuf};

use common::{interop_python, mlgate, text};
use mlgate::report::{render_junit, render_sarif, Check, Finding, Report, Severity, Status};

/// The wine example's report rendered by the CLI (exit 1: it fails).
fn wine(format: &str) -> String {
    let o = mlgate()
        .args([
            "check",
            "-c",
            "examples/wine-bugs/mlgate.yml",
            "--format",
            format,
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    String::from_utf8(o.stdout).unwrap()
}

/// Markup, quotes, control characters and a right-to-left override in every string, and each status.
fn hostile() -> Report {
    let evil = "</failure><x a=\"'&\u{0}\u{7}\u{1b}]]>\u{202E} line\nbreak";
    let mut fail = Check::new(evil, "schema");
    fail.status = Status::Fail;
    fail.summary = evil.into();
    let mut f = Finding::new(evil, Severity::Error, evil);
    f.file = Some(format!("data/{evil}.csv"));
    f.line = Some(2);
    f.column = Some(3);
    f.field = Some(evil.into());
    fail.findings = vec![f, Finding::new("w", Severity::Warning, evil)];
    fail.counts.insert(evil.into(), 2);
    let mut skip = Check::new("s", "drift");
    skip.status = Status::Skip;
    skip.summary = evil.into();
    let mut warn = Check::new("w", "table");
    warn.status = Status::Warn;
    warn.findings = vec![Finding::new("null-fraction", Severity::Warning, evil)];
    Report::new(vec![fail, skip, warn, Check::new("p", "schema")])
}

const READ_JUNIT: &str = r#"
import sys
from junitparser import JUnitXml
for suite in JUnitXml.fromfile(sys.argv[1]):
    print(suite.name, suite.tests, suite.failures, suite.errors, suite.skipped)
    for case in suite:
        print(case.classname, repr(case.name), [(type(r).__name__, r.type) for r in case.result])
"#;

fn read_junit(python: &Path, xml: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    std::fs::write(&path, xml).unwrap();
    let o = std::process::Command::new(python)
        .args(["-c", READ_JUNIT])
        .arg(&path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn junitparser_reads_the_junit_xml() {
    let Some(python) = interop_python("junitparser") else {
        return;
    };
    assert_eq!(
        read_junit(&python, &wine("junit")),
        "mlgate 4 2 0 0\n\
         schema 'train/schema' []\n\
         table 'train/table' []\n\
         schema 'incoming/schema' [('Failure', 'constraint-error')]\n\
         table 'incoming/table' [('Failure', 'distinct-count, field-max, field-mean, null-fraction')]\n"
    );
    // Hostile text stays text, and characters XML cannot hold do not break the document.
    let got = read_junit(&python, &render_junit(&hostile()));
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(lines[0], "mlgate 4 1 0 1");
    // Python's repr: `\'` a quote, `\u202e` the override, `\n` the line break; U+FFFD for NUL, BEL and ESC.
    let evil = "</failure><x a=\"\\'&\u{FFFD}\u{FFFD}\u{FFFD}]]>\\u202e line\\nbreak";
    assert_eq!(
        lines[1],
        format!("schema '{evil}/schema' [('Failure', '{evil}')]"),
        "{got}"
    );
    assert_eq!(lines[2], "drift 's/drift' [('Skipped', None)]");
    assert_eq!(lines[3], "table 'w/table' []");
}

/// The SARIF 2.1.0 schema file, or None (skipped) when $MLGATE_SARIF_SCHEMA does not name one.
fn sarif_schema() -> Option<PathBuf> {
    let found = std::env::var_os("MLGATE_SARIF_SCHEMA")
        .map(PathBuf::from)
        .filter(|p| p.is_file());
    if found.is_none() {
        assert!(
            !std::env::var("MLGATE_REQUIRE_INTEROP").is_ok_and(|v| v == "1"),
            "$MLGATE_SARIF_SCHEMA (the SARIF 2.1.0 schema .ci/run unpacks from @microsoft/jest-sarif) is required in CI"
        );
        eprintln!("note: no $MLGATE_SARIF_SCHEMA: skipping the SARIF schema test");
    }
    found
}

fn validate(python: &Path, schema: &Path, sarif: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.sarif");
    std::fs::write(&path, sarif).unwrap();
    // The rtm.5 schema has a pattern (`language`) that ECMA-262 regexes refuse but Python's accept.
    std::process::Command::new(python)
        .args([
            "-m",
            "check_jsonschema",
            "--regex-variant",
            "python",
            "--schemafile",
        ])
        .arg(schema)
        .arg(&path)
        .output()
        .unwrap()
}

#[test]
fn the_sarif_is_valid_against_the_sarif_2_1_0_schema() {
    let Some(python) = interop_python("check_jsonschema") else {
        return;
    };
    let Some(schema) = sarif_schema() else { return };
    let metric: Report = serde_json::from_str(
        &std::fs::read_to_string("tests/fixtures/reports/drift-and-metrics.json").unwrap(),
    )
    .unwrap();
    for sarif in [
        wine("sarif"),
        render_sarif(&hostile()),
        render_sarif(&metric),
    ] {
        let o = validate(&python, &schema, &sarif);
        assert!(o.status.success(), "{}\n{sarif}", text(&o));
    }
    // The validator does refuse what the schema forbids.
    let o = validate(
        &python,
        &schema,
        r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "bogus": 1}}}]}"#,
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

#[test]
fn sarif_results_point_at_lines_and_columns() {
    let log: serde_json::Value = serde_json::from_str(&wine("sarif")).unwrap();
    let first = &log["runs"][0]["results"][0];
    assert_eq!(first["ruleId"], "constraint-error");
    assert_eq!(first["level"], "error");
    let loc = &first["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"],
        "examples/wine-bugs/data/incoming.csv"
    );
    assert_eq!(loc["region"]["startLine"], 2);
    assert_eq!(loc["region"]["startColumn"], 3);
    // Every result has a location: GitHub refuses a whole file when one has none.
    for r in log["runs"][0]["results"].as_array().unwrap() {
        assert!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].is_string());
    }
}
