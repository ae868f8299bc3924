//! Frictionless conformance: every case of `../shared/conformance/frictionless/manifest.json` (Frictionless' own
//! fixtures, with the `(row, field, code)` tuples frictionless-py 5.21.0 reports) must give the same set of tuples
//! and the same validity. The corpus is read in place; set MLGATE_CONFORMANCE_DIR to point elsewhere. Where the
//! corpus is absent (a user's clone without `../shared`), the test says it was skipped and why.
//!
//! `tests/fixtures/conformance/manifest.json` holds the project's own cases, for differences found since the
//! corpus was made; `generate_expected.py` next to it wrote their expected errors with frictionless-py 5.21.0, in
//! frictionless' order. They always run, and mlgate must report the same findings in the same order.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use mlgate::data::{self, Dialect, Format, Schema, Source, ValidateOptions};
use mlgate::report::Status;
use serde_json::Value;

type Tuple = (Option<u64>, Option<u64>, String);

/// Cases where mlgate deliberately differs from frictionless 5.21.0, with the reason. Empty: none differ.
const DELIBERATE_DIFFERENCES: &[(&str, &str)] = &[];

fn corpus() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("MLGATE_CONFORMANCE_DIR") {
        return Some(PathBuf::from(d));
    }
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/frictionless");
    d.join("manifest.json").exists().then_some(d)
}

fn run_case(dir: &Path, case: &Value) -> (bool, Vec<Tuple>) {
    let opts = &case["options"];
    let data_path = dir.join(case["data"].as_str().unwrap());
    let format = case["format"].as_str().and_then(Format::parse);
    let dialect = Dialect {
        delimiter: opts["delimiter"].as_str().and_then(|s| s.chars().next()),
        quote_char: None,
        header: opts["header"].as_bool().unwrap_or(true),
        header_row: opts["headerRows"]
            .as_array()
            .and_then(|a| a.first())
            .and_then(Value::as_u64),
        encoding: opts["encoding"].as_str().map(String::from),
    };
    let schema = case["schema"]
        .as_str()
        .map(|s| Schema::load(&dir.join(s)).expect("schema loads"));
    let mut vopts = ValidateOptions::new(case["id"].as_str().unwrap());
    vopts.max_findings = 100_000;
    vopts.duplicate_rows = opts["checks"]
        .as_array()
        .is_some_and(|c| c.iter().any(|x| x == "duplicate-row"));
    let source = Source::new(&data_path, format, dialect).expect("format known");
    match data::validate(&source, schema.as_ref(), &vopts) {
        Ok(v) => {
            let check = &v.checks[0];
            let tuples = check
                .findings
                .iter()
                .map(|f| (f.row, f.field_number, f.code.clone()))
                .collect();
            (check.status != Status::Fail, tuples)
        }
        // File-level errors are errors in Frictionless too (no row, no field).
        Err(e) => {
            let code = e.frictionless_code().unwrap_or("error").to_string();
            (false, vec![(None, None, code)])
        }
    }
}

#[test]
fn frictionless_conformance_corpus() {
    let Some(dir) = corpus() else {
        // Where the suite is required (.ci/run sets MLGATE_REQUIRE_INTEROP=1 and points at ../shared), its
        // absence is a failure, not a skip.
        assert!(
            std::env::var("MLGATE_REQUIRE_INTEROP").map_or(true, |v| v != "1"),
            "the Frictionless conformance corpus is required here: set MLGATE_CONFORMANCE_DIR"
        );
        eprintln!(
            "skipped: the Frictionless conformance corpus was not found at ../shared/conformance/frictionless \
             (set MLGATE_CONFORMANCE_DIR to run it)"
        );
        return;
    };
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let cases = manifest.as_array().unwrap();
    assert!(cases.len() >= 40, "the corpus has {} cases", cases.len());
    let mut failures = vec![];
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let expected_valid = case["valid"].as_bool().unwrap();
        let expected: BTreeSet<Tuple> = expected_errors(case).into_iter().collect();
        let (valid, got) = run_case(&dir, case);
        let got: BTreeSet<Tuple> = got.into_iter().collect();
        if let Some((_, why)) = DELIBERATE_DIFFERENCES.iter().find(|(c, _)| *c == id) {
            eprintln!("{id}: differs deliberately: {why}");
            continue;
        }
        if valid != expected_valid || got != expected {
            let missing: Vec<_> = expected.difference(&got).collect();
            let extra: Vec<_> = got.difference(&expected).collect();
            failures.push(format!("{id}: valid {valid} (expected {expected_valid}); missing {missing:?}; extra {extra:?}"));
        }
    }
    eprintln!(
        "conformance: {} cases, {} differ",
        cases.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "cases that differ from frictionless 5.21.0:\n{}",
        failures.join("\n")
    );
}

/// A case's expected `(row, field, code)` tuples, in the manifest's order.
fn expected_errors(case: &Value) -> Vec<Tuple> {
    case["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e[0].as_u64(),
                e[1].as_u64(),
                e[2].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn project_cases_match_frictionless_in_order() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conformance");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["frictionless"], "5.21.0");
    let cases = manifest["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    let mut failures = vec![];
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let expected_valid = case["valid"].as_bool().unwrap();
        let expected = expected_errors(case);
        let (valid, got) = run_case(&dir, case);
        if valid != expected_valid || got != expected {
            failures.push(format!(
                "{id}: valid {valid} (expected {expected_valid})\n  got      {got:?}\n  expected {expected:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "project cases that differ from frictionless 5.21.0:\n{}",
        failures.join("\n")
    );
}
