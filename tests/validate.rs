//! Validation behaviour beyond the conformance corpus: gzip, encodings, dialects, the findings cap,
//! the `x-mlgate` extension block (tolerances, severities, table checks) and `fieldsMatch`.

use std::io::Write;
use std::path::{Path, PathBuf};

use mlgate::data::{validate, Dialect, Schema, Source, ValidateOptions, Validation};
use mlgate::report::{Severity, Status};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn run(path: &Path, schema: &str, dialect: Dialect) -> Validation {
    let schema = Schema::parse(schema, "schema.json").unwrap();
    let source = Source::new(path, None, dialect).unwrap();
    validate(&source, Some(&schema), &ValidateOptions::new("t")).unwrap()
}

const AGE: &str = r#"{"fields": [{"name": "id", "type": "integer"}, {"name": "age", "type": "integer",
    "constraints": {"maximum": 120}}]}"#;

#[test]
fn gzip_csv_is_read_transparently() {
    let dir = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"id,age\n1,30\n2,130\n").unwrap();
    let p = write(dir.path(), "t.csv.gz", &gz.finish().unwrap());
    let v = run(&p, AGE, Dialect::default());
    let f = &v.checks[0].findings;
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].line, f[0].row, f[0].field_number),
        (Some(3), Some(3), Some(2))
    );
}

#[test]
fn tsv_bom_crlf_and_header_row() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "t.tsv",
        b"\xEF\xBB\xBF# exported\r\nid\tage\r\n1\t30\r\n2\t130\r\n",
    );
    let d = Dialect {
        header_row: Some(2),
        ..Dialect::default()
    };
    let v = run(&p, AGE, d);
    let f = &v.checks[0].findings;
    assert_eq!(v.rows, 2);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].line, f[0].row), (Some(4), Some(4)));
}

#[test]
fn declared_latin1_is_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "t.csv", b"name\nJos\xe9\n");
    let schema = r#"{"fields": [{"name": "name", "constraints": {"enum": ["José"]}}]}"#;
    let d = Dialect {
        encoding: Some("latin1".into()),
        ..Dialect::default()
    };
    assert_eq!(run(&p, schema, d).checks[0].status, Status::Pass);
}

#[test]
fn quoted_newlines_keep_lines_and_rows_apart() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "t.csv", b"id,age\n1,\"3\n0\"\n\n2,130\n");
    let v = run(&p, AGE, Dialect::default());
    let codes: Vec<_> = v.checks[0]
        .findings
        .iter()
        .map(|f| (f.code.as_str(), f.row, f.line))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("type-error", Some(2), Some(2)),
            ("blank-row", Some(3), Some(4)),
            ("constraint-error", Some(4), Some(5))
        ]
    );
}

/// A `\r` inside a quoted cell is the cell's text, as Frictionless and the `csv` crate read it (only line ends
/// outside quotes are normalised); for the line numbers it still ends a line, a lone one as well as a `\r\n`.
#[test]
fn quoted_carriage_returns_stay_in_the_cell() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "t.csv",
        b"id,note\r\n1,\"a\rb\"\r\n2,\"c\r\nd\",\"e\rf\"\r3,xyz\r\n4,ok\n",
    );
    let schema = r#"{"fields": [{"name": "id", "type": "integer"},
        {"name": "note", "type": "string", "constraints": {"maxLength": 2}}]}"#;
    let v = run(&p, schema, Dialect::default());
    let found: Vec<_> = v.checks[0]
        .findings
        .iter()
        .map(|f| (f.code.as_str(), f.row, f.line, f.value.as_deref()))
        .collect();
    assert_eq!(
        found,
        vec![
            ("constraint-error", Some(2), Some(2), Some("a\rb")),
            ("constraint-error", Some(3), Some(4), Some("c\r\nd")),
            ("extra-cell", Some(3), Some(4), Some("e\rf")),
            ("constraint-error", Some(4), Some(7), Some("xyz")),
        ]
    );
    assert_eq!(v.rows, 4);
}

/// U+FEFF at the start of a later line is text, also on a line the full CSV parser reads (found by the
/// csv_differential fuzz target: csv-core dropped it as a byte-order mark, then read the quote after it as opening).
#[test]
fn a_byte_order_mark_inside_the_file_is_text() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "t.csv",
        "note\n\u{feff}\"a\"\"b\",c\n".as_bytes(),
    );
    let schema =
        r#"{"fields": [{"name": "note", "type": "string", "constraints": {"maxLength": 1}}]}"#;
    let v = run(&p, schema, Dialect::default());
    let f = &v.checks[0].findings;
    let values: Vec<_> = f
        .iter()
        .map(|f| (f.code.as_str(), f.value.as_deref()))
        .collect();
    assert_eq!(
        values,
        vec![
            ("constraint-error", Some("\u{feff}\"a\"\"b\"")),
            ("extra-cell", Some("c"))
        ]
    );
}

#[test]
fn findings_are_capped_but_counts_stay_exact() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = b"id,age\n".to_vec();
    for i in 0..5000 {
        data.extend_from_slice(format!("{i},999\n").as_bytes());
    }
    let p = write(dir.path(), "t.csv", &data);
    let v = run(&p, AGE, Dialect::default());
    let c = &v.checks[0];
    assert_eq!(c.findings.len(), 1000);
    assert_eq!(c.counts["constraint-error"], 5000);
    assert!(c.truncated);
    assert_eq!(c.findings[999].row, Some(1001));
}

#[test]
fn mostly_tolerates_a_share_and_severity_downgrades() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = b"id,age\n".to_vec();
    for i in 0..100 {
        data.extend_from_slice(format!("{i},{}\n", if i < 2 { 999 } else { 30 }).as_bytes());
    }
    let p = write(dir.path(), "t.csv", &data);
    let tolerant = r#"{"fields": [{"name": "id", "type": "integer"}, {"name": "age", "type": "integer",
        "constraints": {"maximum": 120}}],
        "x-mlgate": {"fields": {"age": {"constraints": {"maximum": {"mostly": 0.95}}}}}}"#;
    let c = &run(&p, tolerant, Dialect::default()).checks[0];
    assert_eq!(c.status, Status::Warn);
    assert!(c.findings.iter().all(|f| f.severity == Severity::Warning));
    let strict = tolerant.replace("0.95", "0.99");
    assert_eq!(
        run(&p, &strict, Dialect::default()).checks[0].status,
        Status::Fail
    );
    let warn_only = r#"{"fields": [{"name": "id", "type": "integer"}, {"name": "age", "type": "integer",
        "constraints": {"maximum": 120}}], "x-mlgate": {"severity": "warn"}}"#;
    assert_eq!(
        run(&p, warn_only, Dialect::default()).checks[0].status,
        Status::Warn
    );
}

#[test]
fn table_checks_use_exact_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "t.csv",
        b"id,age,c\n1,10,a\n2,,b\n3,30,c\n4,40,a\n",
    );
    let schema = r#"{"fields": [{"name": "id", "type": "integer"}, {"name": "age", "type": "integer"},
        {"name": "c"}],
        "x-mlgate": {"rows": {"min": 5},
          "fields": {"age": {"max_null_fraction": 0.2, "mean": {"min": 20, "max": 30}, "min": {"min": 0}, "max": {"max": 40}},
                     "c": {"max_distinct": 2, "severity": "warn"}}}}"#;
    let v = run(&p, schema, Dialect::default());
    let t = &v.checks[1];
    assert_eq!(t.kind, "table");
    let got: Vec<(&str, Option<&str>, Severity)> = t
        .findings
        .iter()
        .map(|f| (f.code.as_str(), f.field.as_deref(), f.severity))
        .collect();
    assert_eq!(
        got,
        vec![
            ("row-count", None, Severity::Error),
            ("null-fraction", Some("age"), Severity::Error),
            ("distinct-count", Some("c"), Severity::Warning),
        ]
    );
    // mean of 10, 30, 40 is 26.67: inside [20, 30].
    assert_eq!(
        t.figures["fields"]["age"]["mean"]
            .as_f64()
            .map(|m| (m * 100.0).round()),
        Some(2667.0)
    );
}

#[test]
fn fields_match_equal_matches_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "t.csv", b"age,id\n30,1\n130,2\n");
    let schema = r#"{"fieldsMatch": "equal", "fields": [{"name": "id", "type": "integer"},
        {"name": "age", "type": "integer", "constraints": {"maximum": 120}}]}"#;
    let f = &run(&p, schema, Dialect::default()).checks[0].findings;
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].field.as_deref(), f[0].field_number, f[0].row),
        (Some("age"), Some(1), Some(3))
    );
    let subset = r#"{"fieldsMatch": "subset", "fields": [{"name": "id", "type": "integer"}]}"#;
    assert_eq!(
        run(&p, subset, Dialect::default()).checks[0].status,
        Status::Pass
    );
    let exact =
        r#"{"fields": [{"name": "id", "type": "integer"}, {"name": "age", "type": "integer"}]}"#;
    let codes: Vec<String> = run(&p, exact, Dialect::default()).checks[0]
        .findings
        .iter()
        .map(|f| f.code.clone())
        .collect();
    assert!(codes.contains(&"incorrect-label".to_string()), "{codes:?}");
}

#[test]
fn jsonl_rows_count_the_virtual_header() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "t.jsonl",
        b"{\"id\": 1, \"age\": 30}\n{\"id\": 2, \"age\": 130}\n{\"id\": \"x\"}\n",
    );
    let v = run(&p, AGE, Dialect::default());
    let got: Vec<_> = v.checks[0]
        .findings
        .iter()
        .map(|f| (f.code.as_str(), f.line, f.row))
        .collect();
    assert_eq!(
        got,
        vec![
            ("constraint-error", Some(2), Some(3)),
            ("type-error", Some(3), Some(4))
        ]
    );
}

#[test]
fn bad_jsonl_line_is_an_error_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "t.jsonl", b"{\"id\": 1}\n{\"id\": \n");
    let schema = Schema::parse(AGE, "s.json").unwrap();
    let source = Source::new(&p, None, Dialect::default()).unwrap();
    let e = validate(&source, Some(&schema), &ValidateOptions::new("t")).unwrap_err();
    assert!(e.to_string().contains("t.jsonl:2:"), "{e}");
}

/// A table of many batches with findings of every stage: cell checks (worker threads) and key checks (the
/// merging thread) on the same rows, blank rows, missing and extra cells, duplicate rows, foreign keys seen
/// before and after their reference. Each number of workers must give the report of one thread, byte for byte.
#[test]
fn the_report_does_not_depend_on_the_number_of_workers() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = b"id,code,age,parent,grp,x\n".to_vec();
    let mut seed: u64 = 42;
    let mut next = |m: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % m
    };
    for i in 0..20_000u64 {
        let line = match next(400) {
            0 => String::new(),                                // blank row
            1 => format!("{i},abc,30"),                        // missing cells
            2 => format!("{i},abc,30,1,a,0.5,extra"),          // an extra cell
            3 => format!("{},abc,30,1,a,0.5", next(i.max(1))), // repeats an earlier id
            4 => format!("{i},ABC,30,1,a,0.5"),                // pattern
            5 => format!("{i},abc,300,1,a,0.5"),               // maximum
            6 => format!("{i},abc,forty,1,a,0.5"),             // type
            7 => format!("{i},abc,30,{},a,0.5", i + 5),        // references a later id
            8 => format!("{i},abc,30,999999,a,0.5"),           // references no id
            9 => format!("{i},abc,30,1,z,0.5"),                // enum
            10 => "7,abc,30,1,a,0.5".to_string(),              // a duplicate row
            _ => format!(
                "{i},abc,{},1,{},{}",
                20 + next(60),
                ["a", "b", "c"][next(3) as usize],
                next(1000) as f64 / 7.0
            ),
        };
        data.extend_from_slice(line.as_bytes());
        data.push(b'\n');
    }
    let p = write(dir.path(), "t.csv", &data);
    let schema = r#"{"fields": [
        {"name": "id", "type": "integer", "constraints": {"required": true, "unique": true}},
        {"name": "code", "type": "string", "constraints": {"pattern": "^[a-z]{3}$"}},
        {"name": "age", "type": "integer", "constraints": {"maximum": 120}},
        {"name": "parent", "type": "integer"},
        {"name": "grp", "type": "string", "constraints": {"enum": ["a", "b", "c"]}},
        {"name": "x", "type": "number"}],
        "primaryKey": ["id", "grp"],
        "foreignKeys": [{"fields": "parent", "reference": {"resource": "", "fields": "id"}}],
        "x-mlgate": {"fields": {"x": {"mean": {"min": 0, "max": 1000}, "max_distinct": 5000},
                                "grp": {"max_distinct": 2}}}}"#;
    let schema = Schema::parse(schema, "schema.json").unwrap();
    let source = Source::new(&p, None, Dialect::default()).unwrap();
    let report = |workers: usize, max_findings: usize| {
        let mut opts = ValidateOptions::new("t");
        opts.workers = workers;
        opts.max_findings = max_findings;
        opts.duplicate_rows = true;
        let v = validate(&source, Some(&schema), &opts).unwrap();
        assert_eq!(v.rows, 20_000);
        serde_json::to_string_pretty(&v.checks).unwrap()
    };
    for max_findings in [1_000, 37] {
        let one_thread = report(0, max_findings);
        assert!(one_thread.contains("unique-error") && one_thread.contains("foreign-key"));
        assert!(one_thread.contains("duplicate-row") && one_thread.contains("blank-row"));
        for workers in [1, 2, 3] {
            let got = report(workers, max_findings);
            if got != one_thread {
                let (a, b) = (dir.path().join("one.json"), dir.path().join("many.json"));
                std::fs::write(&a, &one_thread).unwrap();
                std::fs::write(&b, &got).unwrap();
                let diff = std::process::Command::new("diff").arg(&a).arg(&b).output();
                let diff = diff.map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
                panic!("{workers} workers, at most {max_findings} findings: the report differs from one thread's:\n{}",
                    diff.unwrap_or_default().chars().take(3000).collect::<String>());
            }
        }
    }
}

/// Records longer than the reader's buffer, quoted (with newlines inside) and not, keep their rows and lines.
#[test]
fn records_longer_than_the_read_buffer() {
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(700_000);
    let quoted = format!("\"{}\n{}\"", "y".repeat(300_000), "z".repeat(400_000));
    let data = format!("id,s\n1,{long}\n2,{quoted}\n\n3,{long}\n4,short\n");
    let p = write(dir.path(), "t.csv", data.as_bytes());
    let schema = r#"{"fields": [{"name": "id", "type": "integer"}, {"name": "s", "type": "string",
        "constraints": {"maxLength": 10}}]}"#;
    let v = run(&p, schema, Dialect::default());
    let got: Vec<_> = v.checks[0]
        .findings
        .iter()
        .map(|f| (f.code.as_str(), f.row, f.line))
        .collect();
    assert_eq!(
        got,
        vec![
            ("constraint-error", Some(2), Some(2)),
            ("constraint-error", Some(3), Some(3)),
            ("blank-row", Some(4), Some(5)),
            ("constraint-error", Some(5), Some(6)),
        ]
    );
    assert_eq!(v.rows, 5);
}

/// Unique integers are held exactly, whatever their order and spread: repeats name the row of the first
/// sighting, and integers that one double cannot tell apart (2^53 and 2^53 + 1) are different values.
#[test]
fn unique_integers_name_the_first_row_of_each_repeat() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = b"id,code\n".to_vec();
    let mut first_row = std::collections::HashMap::new();
    let mut want = Vec::new();
    // A scattered dense range, a descending run, far-apart values and the two neighbours past 2^53.
    let values: Vec<i64> = (0..6_000i64)
        .map(|i| (i * 7_919) % 6_000)
        .chain((0..3_000i64).rev().map(|i| -i))
        .chain((0..500i64).map(|i| i * 1_000_000_007))
        .chain([
            9_007_199_254_740_992,
            9_007_199_254_740_993,
            i64::MIN,
            i64::MAX,
            i64::MIN,
        ])
        .collect();
    for (i, v) in values.iter().enumerate() {
        let row = i as u64 + 2;
        data.extend_from_slice(format!("{v},{}\n", v % 97).as_bytes());
        match first_row.get(v) {
            Some(first) => want.push((row, format!("repeats row {first}"))),
            None => {
                first_row.insert(*v, row);
            }
        }
    }
    let p = write(dir.path(), "t.csv", &data);
    let schema = r#"{"fields": [
        {"name": "id", "type": "integer", "constraints": {"unique": true}},
        {"name": "code", "type": "integer"}], "primaryKey": ["id"]}"#;
    let v = run(&p, schema, Dialect::default());
    let c = &v.checks[0];
    let got: Vec<(u64, String)> = c
        .findings
        .iter()
        .filter(|f| f.code == "unique-error")
        .map(|f| {
            let at = f.message.find("repeats").unwrap();
            (f.row.unwrap(), f.message[at..].to_string())
        })
        .collect();
    assert_eq!(got, want);
    // The primary key, one integer field too, repeats on the same rows.
    let pk: Vec<u64> = c
        .findings
        .iter()
        .filter(|f| f.code == "primary-key")
        .map(|f| f.row.unwrap())
        .collect();
    assert_eq!(pk, want.iter().map(|w| w.0).collect::<Vec<_>>());
    assert!(!want.is_empty());
}

#[test]
fn a_table_check_message_shows_numbers_for_people_and_the_figures_keep_them_whole() {
    let dir = tempfile::tempdir().unwrap();
    // Mean 270101.3 / 3 = 90033.7666…
    let p = write(dir.path(), "t.csv", b"x\n90000.1\n90000.2\n90101\n");
    let schema = r#"{"fields": [{"name": "x", "type": "number"}],
        "x-mlgate": {"fields": {"x": {"mean": {"max": 1000}}}}}"#;
    let v = run(&p, schema, Dialect::default());
    let table = v.checks.iter().find(|c| c.kind == "table").unwrap();
    let f = &table.findings[0];
    assert_eq!(f.code, "field-mean");
    assert!(
        f.message
            .starts_with(r#"the mean of "x" is 90034; expected"#),
        "{}",
        f.message
    );
    // The finding's value and the figures keep full precision for JSON.
    assert!(
        f.value.as_deref().unwrap().starts_with("90033.7666"),
        "{f:?}"
    );
    let mean = table.figures["fields"]["x"]["mean"].as_f64().unwrap();
    assert!((mean - 90_033.766_666_666_67).abs() < 1e-6, "{mean}");
}

#[test]
fn a_short_row_breaks_the_required_constraint_of_its_absent_cells() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "t.csv", b"id,city\n1,paris\n2\n");
    let schema = r#"{"fields": [{"name": "id", "type": "integer"},
        {"name": "city", "type": "string", "constraints": {"required": true}}]}"#;
    let v = run(&p, schema, Dialect::default());
    let f = &v.checks[0].findings;
    let got: Vec<_> = f
        .iter()
        .map(|f| (f.row, f.field_number, f.code.as_str(), f.column))
        .collect();
    assert_eq!(
        got,
        [
            (Some(3), Some(2), "constraint-error", None),
            (Some(3), Some(2), "missing-cell", None)
        ]
    );
    assert_eq!(
        f[0].message,
        r#"field "city" is required but the row has no cell for it"#
    );
    assert_eq!(f[0].field.as_deref(), Some("city"));
    assert_eq!(f[0].value, None);
}
