//! Partitioned datasets: a folder (with Hive-style `key=value/` folders) or a glob of files read as one table.
//! The CLI cases are in tests/cmd/check-partitioned.toml and validate-partitioned-*.toml.

mod common;

use std::path::Path;
use std::sync::Arc;

use mlgate::data::{validate, Dialect, Schema, Source, ValidateOptions};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const SCHEMA: &str = r#"{"fields": [
    {"name": "id", "type": "integer", "constraints": {"required": true}},
    {"name": "parent", "type": "integer"},
    {"name": "age", "type": "integer", "constraints": {"maximum": 120}},
    {"name": "year", "type": "integer", "constraints": {"minimum": 2020}}],
  "primaryKey": "id",
  "foreignKeys": [{"fields": "parent", "reference": {"resource": "", "fields": "id"}}]}"#;

/// Seven parts under `year=` folders, each a few batches long, with planted errors: ids that repeat earlier parts,
/// parents defined in later parts or nowhere, ages out of range, and a year folder below the minimum.
/// Returns the ids the parts hold.
fn partitioned(dir: &Path) -> std::collections::HashSet<String> {
    let mut ids = std::collections::HashSet::new();
    let mut id = 0u64;
    for part in 0..7u64 {
        let year = 2019 + part / 2;
        let mut text = String::from("id,parent,age\n");
        for i in 0..3000u64 {
            id += 1;
            let line = match (id * 7919) % 500 {
                0 => format!("{},1,30", id / 3), // repeats an earlier id, often in another part
                1 => format!("{id},{},30", id + 4000), // a parent in a later part
                2 => format!("{id},99999999,30"), // a parent nowhere
                3 => format!("{id},1,300"),      // above the maximum
                _ => format!("{id},{},{}", id.max(2) - 1, i % 90),
            };
            ids.insert(line.split(',').next().unwrap().to_string());
            text.push_str(&line);
            text.push('\n');
        }
        write(&dir.join(format!("year={year}/part-{part:04}.csv")), &text);
    }
    ids
}

fn report(source: &Source, workers: usize) -> serde_json::Value {
    let schema = Schema::parse(SCHEMA, "schema.json").unwrap();
    let mut opts = ValidateOptions::new("t");
    opts.workers = workers;
    opts.max_findings = 100_000;
    let v = validate(source, Some(&schema), &opts).unwrap();
    serde_json::to_value(&v.checks).unwrap()
}

#[test]
fn parts_read_as_one_table_and_the_report_does_not_depend_on_the_workers() {
    let dir = tempfile::tempdir().unwrap();
    let ids = partitioned(dir.path());
    let source = Source::new(dir.path(), None, Dialect::default()).unwrap();
    assert_eq!(source.parts.len(), 7);
    let one = report(&source, 0);
    assert_eq!(one, report(&source, 4), "workers change nothing");
    let findings = one[0]["findings"].as_array().unwrap();
    let codes = |code: &str| findings.iter().filter(|f| f["code"] == code).count();
    // The year folder is a column typed by the schema: 2019 is below the minimum, in each row of two parts.
    assert_eq!(
        findings
            .iter()
            .filter(|f| f["field"] == "year" && f["code"] == "constraint-error")
            .count(),
        6000
    );
    assert!(codes("primary-key") > 10 && codes("foreign-key") > 10);
    // Every finding names its own part and a row within it.
    for f in findings {
        let file = f["file"].as_str().unwrap();
        assert!(file.contains("/year=20") && file.ends_with(".csv"), "{f}");
        assert!(f["row"].as_u64().unwrap() <= 3001, "{f}");
    }
    // A repeat of a key first seen in another part says where.
    let across = findings
        .iter()
        .find(|f| f["code"] == "primary-key" && f["message"].as_str().unwrap().contains(" of "))
        .expect("a primary key that repeats another part's");
    assert!(
        across["message"].as_str().unwrap().contains("part-"),
        "{across}"
    );
    // A parent defined in a later part is no finding: only the ones that are nowhere.
    for f in findings.iter().filter(|f| f["code"] == "foreign-key") {
        assert!(!ids.contains(f["value"].as_str().unwrap()), "{f}");
    }
    assert!(findings.iter().any(|f| f["value"] == "99999999"));
}

#[test]
fn a_glob_takes_the_matching_files_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("b.jsonl"), "{\"id\": 2, \"age\": 200}\n");
    write(
        &d.join("a.jsonl"),
        "{\"id\": 1, \"age\": 20}\n{\"id\": 1}\n",
    );
    write(&d.join("c.csv"), "id,age\nnot read,0\n");
    let source = Source::new(d.join("*.jsonl"), None, Dialect::default()).unwrap();
    let names: Vec<_> = source
        .parts
        .iter()
        .map(|p| p.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["a.jsonl", "b.jsonl"]);
    let schema = Schema::parse(
        r#"{"fields": [{"name": "id", "type": "integer", "constraints": {"unique": true}},
            {"name": "age", "type": "integer", "constraints": {"maximum": 120}}]}"#,
        "s.json",
    )
    .unwrap();
    let v = validate(&source, Some(&schema), &ValidateOptions::new("t")).unwrap();
    let f = &v.checks[0].findings;
    assert_eq!(v.rows, 3);
    assert_eq!(f.len(), 2, "{f:?}");
    assert_eq!(f[0].code, "unique-error");
    assert!(f[0].file.as_deref().unwrap().ends_with("a.jsonl"));
    assert_eq!(f[0].message, "\"1\" in unique field \"id\" repeats row 2");
    assert!(f[1].file.as_deref().unwrap().ends_with("b.jsonl"));
    assert_eq!((f[1].row, f[1].line), (Some(2), Some(1)));
}

fn parquet_part(path: &Path, ids: &[i64]) {
    use arrow_array::{ArrayRef, Int64Array, RecordBatch};
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let col: ArrayRef = Arc::new(Int64Array::from(ids.to_vec()));
    let batch = RecordBatch::try_from_iter([("id", col)]).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[test]
fn parquet_parts_get_their_partition_columns() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    parquet_part(&d.join("country=fr/city=paris/0.parquet"), &[1, 2]);
    parquet_part(&d.join("country=fr/city=lyon/0.parquet"), &[3]);
    parquet_part(
        &d.join("country=__HIVE_DEFAULT_PARTITION__/city=x/0.parquet"),
        &[2],
    );
    let schema = Schema::parse(
        r#"{"fields": [{"name": "id", "type": "integer"},
            {"name": "country", "type": "string", "constraints": {"required": true}},
            {"name": "city", "type": "string", "constraints": {"pattern": "[a-z]+"}}],
            "primaryKey": "id"}"#,
        "s.json",
    )
    .unwrap();
    let source = Source::new(d, None, Dialect::default()).unwrap();
    let v = validate(&source, Some(&schema), &ValidateOptions::new("t")).unwrap();
    let f = &v.checks[0].findings;
    assert_eq!(v.rows, 4);
    let got: Vec<_> = f
        .iter()
        .map(|f| (f.code.as_str(), f.row, f.field.as_deref()))
        .collect();
    // Sorted: country=__HIVE_DEFAULT_PARTITION__ first, whose null country breaks `required`; its id 2 is seen
    // again in country=fr/city=paris.
    assert_eq!(
        got,
        [
            ("constraint-error", Some(2), Some("country")),
            ("primary-key", Some(3), None)
        ]
    );
    assert!(
        f[1].message.contains("repeats row 2 of"),
        "{}",
        f[1].message
    );
}

#[test]
fn a_part_with_another_header_is_an_error_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("1.csv"), "id,age\n1,2\n");
    write(&d.join("2.csv"), "id,years\n1,2\n");
    let source = Source::new(d, None, Dialect::default()).unwrap();
    let e = validate(&source, None, &ValidateOptions::new("t"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("2.csv") && e.contains("1.csv's [id, age]"),
        "{e}"
    );
}

#[cfg(unix)]
#[test]
fn a_part_that_links_out_of_the_repository_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    write(&outside.path().join("secret.csv"), "id\n1\n");
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    std::fs::create_dir(r.join(".git")).unwrap();
    write(&r.join("data/a.csv"), "id\n1\n");
    std::os::unix::fs::symlink(outside.path().join("secret.csv"), r.join("data/b.csv")).unwrap();
    write(
        &r.join("s.json"),
        r#"{"fields": [{"name": "id", "type": "integer"}]}"#,
    );
    write(
        &r.join("mlgate.yml"),
        "version: 1\ndatasets:\n  d:\n    path: \"data/*.csv\"\n    schema: s.json\n",
    );
    let o = common::run(r, &["check", "-c", "mlgate.yml"]);
    let out = common::text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("data/b.csv") && out.contains("leads out"),
        "{out}"
    );
    // A glob whose fixed part leaves the repository is refused at the config, with its key.
    write(
        &r.join("mlgate.yml"),
        "version: 1\ndatasets:\n  d:\n    path: \"../*/x/*.csv\"\n    schema: s.json\n",
    );
    let o = common::run(r, &["check", "-c", "mlgate.yml"]);
    let out = common::text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("datasets.d.path"), "{out}");
}
