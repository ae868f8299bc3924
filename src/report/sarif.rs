//! The SARIF 2.1.0 rendering (`--format sarif`), for GitHub code scanning (`github/codeql-action/upload-sarif`).
//!
//! One run; `tool.driver.rules` has one rule per finding code (the rule id is the code), each result names its
//! rule, a level (`error` or `warning` from the finding's severity), the message, and where it is: the file as a
//! relative URI against `%SRCROOT%`, `startLine` the physical line (1-based) and `startColumn` the finding's
//! `column`, which counts characters (so the run says `columnKind: unicodeCodePoints`). A finding's
//! `field_number` is a column of the table, not of the text, and goes to the result's properties with the row and
//! the field.
//!
//! GitHub rejects a whole SARIF file when one result has no location, so findings without a file (a metric gate,
//! a check about the whole report) are not results: the run's properties count them, and the other formats show
//! them.

use serde_json::{json, Map, Value};

use super::{Finding, Report, Severity};

/// What a finding code means, for the rule's short description; codes not listed get a generic one.
const RULES: &[(&str, &str)] = &[
    ("blank-row", "A row has no values"),
    (
        "constraint-error",
        "A cell breaks a constraint of its field's schema",
    ),
    ("type-error", "A cell does not cast to its field's type"),
    ("missing-cell", "A row has fewer cells than the header"),
    ("extra-cell", "A row has more cells than the header"),
    ("unique-error", "A value of a unique field repeats"),
    ("primary-key", "A primary key repeats or is empty"),
    ("foreign-key", "A foreign key has no matching row"),
    ("row-count", "The number of rows is outside its range"),
    ("null-fraction", "A field has more empty cells than allowed"),
    ("field-min", "A field's minimum is outside its range"),
    ("field-max", "A field's maximum is outside its range"),
    ("field-mean", "A field's mean is outside its range"),
    (
        "distinct-count",
        "A field has more distinct values than allowed",
    ),
    (
        "column-drift",
        "A column's distribution drifted from the reference",
    ),
    ("metric-gate", "A model metric misses its gate"),
];

/// The `$schema` a SARIF 2.1.0 log names (the OASIS standard's schema, as SchemaStore serves it).
const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn render_sarif(report: &Report) -> String {
    let mut codes: Vec<&str> = vec![];
    let mut results = vec![];
    let mut unlocated = 0u64;
    for check in &report.checks {
        for f in &check.findings {
            let Some(file) = f.file.as_deref() else {
                unlocated += 1;
                continue;
            };
            let index = match codes.iter().position(|c| *c == f.code) {
                Some(i) => i,
                None => {
                    codes.push(&f.code);
                    codes.len() - 1
                }
            };
            results.push(result(&check.id, f, file, index));
        }
    }
    let rules: Vec<Value> = codes.iter().map(|c| rule(c)).collect();
    let log = json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "mlgate",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The directory mlgate ran in"}}},
            "results": results,
            "properties": {
                "verdict": report.verdict,
                "findingsWithoutFile": unlocated,
            },
        }],
    });
    // Serialising a `Value` cannot fail.
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

fn rule(code: &str) -> Value {
    let text = RULES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, t)| t.to_string())
        .unwrap_or_else(|| format!("mlgate finding {code}"));
    json!({
        "id": code,
        "name": code,
        "shortDescription": {"text": text},
        "help": {"text": format!("{text}. The result's message says what was found; mlgate's README describes the check.")},
    })
}

fn result(check_id: &str, f: &Finding, file: &str, rule_index: usize) -> Value {
    let mut location = json!({"artifactLocation": {"uri": uri(file), "uriBaseId": "%SRCROOT%"}});
    // GitHub needs startLine ≥ 1; a finding about a whole file has no region.
    if let Some(line) = f.line.filter(|l| *l >= 1) {
        let mut region = json!({"startLine": line});
        if let Some(col) = f.column.filter(|c| *c >= 1) {
            region["startColumn"] = json!(col);
        }
        location["region"] = region;
    }
    let mut props = Map::new();
    props.insert("check".into(), json!(check_id));
    for (k, v) in [("row", f.row), ("fieldNumber", f.field_number)] {
        if let Some(v) = v {
            props.insert(k.into(), json!(v));
        }
    }
    if let Some(field) = &f.field {
        props.insert("field".into(), json!(field));
    }
    json!({
        "ruleId": f.code,
        "ruleIndex": rule_index,
        "level": match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        },
        "message": {"text": f.message},
        "locations": [{"physicalLocation": location}],
        "properties": props,
    })
}

/// A path as a relative URI reference: separators as `/`, a leading `./` dropped, and every byte outside
/// RFC 3986's unreserved characters and `/` percent-encoded (spaces, `#`, `?` and `%` would change its meaning).
/// An absolute path becomes a `file://` URI.
fn uri(path: &str) -> String {
    let p = path.replace('\\', "/");
    let p = p.trim_start_matches("./");
    let mut out = String::new();
    if p.starts_with('/') {
        out.push_str("file://");
    }
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Check, Status};

    #[test]
    fn uris_are_relative_and_encoded() {
        assert_eq!(uri("./data/my file#1.csv"), "data/my%20file%231.csv");
        assert_eq!(uri("data\\win.csv"), "data/win.csv");
        assert_eq!(uri("/abs/é.csv"), "file:///abs/%C3%A9.csv");
    }

    #[test]
    fn results_have_rules_levels_and_regions_and_fileless_findings_are_counted() {
        let mut c = Check::new("d", "schema");
        c.status = Status::Fail;
        let mut a = Finding::new("type-error", Severity::Error, "bad");
        a.file = Some("d.csv".into());
        a.line = Some(4);
        a.column = Some(7);
        a.row = Some(4);
        a.field_number = Some(2);
        let mut b = Finding::new("null-fraction", Severity::Warning, "nulls");
        b.file = Some("d.csv".into());
        let fileless = Finding::new("metric-gate", Severity::Error, "accuracy");
        c.findings = vec![a.clone(), b, fileless, a];
        let log: Value = serde_json::from_str(&render_sarif(&Report::new(vec![c]))).unwrap();
        let run = &log["runs"][0];
        let rules: Vec<&str> = run["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(rules, ["type-error", "null-fraction"]);
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        assert_eq!(results[0]["level"], "error");
        assert_eq!(
            results[0]["locations"][0]["physicalLocation"]["region"],
            json!({"startLine": 4, "startColumn": 7})
        );
        assert_eq!(results[0]["properties"]["fieldNumber"], 2);
        assert_eq!(results[1]["level"], "warning");
        assert_eq!(results[1]["ruleIndex"], 1);
        assert!(results[1]["locations"][0]["physicalLocation"]
            .get("region")
            .is_none());
        assert_eq!(results[2]["ruleIndex"], 0);
        assert_eq!(run["properties"]["findingsWithoutFile"], 1);
        assert_eq!(run["properties"]["verdict"], "fail");
    }
}
