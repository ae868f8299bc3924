//! Files the commands write: `check --report-dir` (report.json + report.md) and `schema infer -o`.

use std::process::Command;

fn mlgate() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mlgate"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env("GITHUB_ACTIONS", "false")
        .env_remove("GITHUB_TOKEN");
    c
}

#[test]
fn check_writes_report_json_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let out = mlgate()
        .args([
            "check",
            "-c",
            "examples/wine-bugs/mlgate.yml",
            "--format",
            "json",
            "--report-dir",
        ])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json = std::fs::read_to_string(dir.path().join("out/report.json")).unwrap();
    let report: mlgate::report::Report = serde_json::from_str(&json).unwrap();
    assert_eq!(report.verdict, mlgate::report::Verdict::Fail);
    // What was printed is the same report.
    assert_eq!(String::from_utf8(out.stdout).unwrap(), json);
    let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(md.starts_with("## ❌ mlgate: fail"), "{md}");
}

#[test]
fn schema_infer_writes_a_schema_the_data_passes() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("cells.schema.json");
    let out = mlgate()
        .args([
            "schema",
            "infer",
            "examples/breast-cancer/data/train.csv",
            "-o",
        ])
        .arg(&schema)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = mlgate()
        .args([
            "validate",
            "examples/breast-cancer/data/train.csv",
            "--schema",
        ])
        .arg(&schema)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_failed_write_leaves_no_file_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("missing-folder/cells.schema.json");
    let out = mlgate()
        .args([
            "schema",
            "infer",
            "examples/breast-cancer/data/train.csv",
            "-o",
        ])
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!target.exists());
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not write"));
}

#[test]
fn in_github_actions_check_writes_summary_and_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let outputs = dir.path().join("outputs.txt");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let out = mlgate()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .args([
            "check",
            "-c",
            "examples/wine-bugs/mlgate.yml",
            "--report-dir",
        ])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    // The default rendering in Actions: annotations first, then the human text.
    assert!(
        stdout.starts_with("::error file=examples/wine-bugs/data/incoming.csv,line=2,col=3,"),
        "{stdout}"
    );
    let s = std::fs::read_to_string(&summary).unwrap();
    assert!(s.starts_with("earlier step\n## ❌ mlgate: fail"), "{s}");
    assert!(s.contains("10 of 22 findings are annotated"), "{s}");
    let o = std::fs::read_to_string(&outputs).unwrap();
    assert!(
        o.contains(
            "verdict=fail\nchecks=4\nfailed=2\nwarned=0\npassed=2\nfindings=22\nreport-dir="
        ),
        "{o}"
    );
}

/// trycmd folds every backslash of the output into `/` before comparing (`tests/cmd/validate-fail-json.toml`
/// shows `/"name/"`), so it cannot see JSON escaping: here the JSON output is parsed, and the quotes in a message
/// come back as quotes.
#[test]
fn json_output_is_valid_json_with_its_escapes() {
    let out = mlgate()
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/data"))
        .args([
            "validate",
            "people-bad.csv",
            "--schema",
            "people.schema.json",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(r#""field \"name\" is required but the cell is empty""#),
        "{text}"
    );
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let messages: Vec<&str> = report["checks"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.contains(&"field \"name\" is required but the cell is empty"),
        "{messages:?}"
    );
}
