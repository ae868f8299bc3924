//! Sharded checks: `check --shard I/N` for every I, then `merge`, gives byte for byte the report of one
//! unsharded `check` (issue 18, point 4), with planted errors whose keys repeat across shard boundaries; and
//! partials that do not belong together are refused (exit 2). CLI cases: tests/cmd/merge-*.toml.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{run, text};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const PEOPLE_SCHEMA: &str = r#"{"fields": [
    {"name": "id", "type": "integer", "constraints": {"required": true}},
    {"name": "parent", "type": "integer"},
    {"name": "code", "type": "string", "constraints": {"unique": true}},
    {"name": "note", "type": "string"},
    {"name": "score", "type": "number", "constraints": {"maximum": 100}}],
  "primaryKey": "id",
  "uniqueKeys": [["parent", "note"]],
  "foreignKeys": [{"fields": "parent", "reference": {"resource": "", "fields": "id"}}],
  "x-mlgate": {"rows": {"min": 1},
    "fields": {"score": {"mean": {"min": 0, "max": 10}, "min": {"min": 0}, "max_distinct": 40,
                         "max_null_fraction": 0.01}}}}"#;

/// A CSV with quoted newlines (so lines and rows differ) and planted errors: ids that repeat rows far back (other
/// shards at any N), unique codes and unique keys repeated, parents defined later or nowhere, bad numbers,
/// scores above the maximum, blank rows, short and long rows.
fn people_csv() -> String {
    let mut t = String::from("id,parent,code,note,score\n");
    for i in 1..=400u64 {
        let row = match i % 37 {
            0 => format!("{},1,c{i},\"two\nlines\",1.5", i / 5), // repeats an earlier id
            5 => format!("{i},{},c{},x,2", i + 50, i / 3),       // a later parent; a repeated code
            9 => format!("{i},999999,c{i},y,3"),                 // a parent nowhere
            13 => format!("{i},1,c{i},note,abc"),                // not a number
            17 => format!("{i},1,c{i},note,250.25"),             // above the maximum
            21 => ",,,,".to_string(),                            // blank
            25 => format!("{i},1,c{i}"),                         // short
            29 => format!("{i},1,c{i},note,1,extra"),            // long
            33 => format!("{i},1,c{i},\"same\",0.1"),            // (1, same) repeats
            _ => format!("{i},{},c{i},\"n {i}\",{}.{}", i.max(2) - 1, i % 9, i % 7),
        };
        t.push_str(&row);
        t.push('\n');
    }
    t
}

/// More records than the reader's batches (2,048) and the blocks of the default --shard-rows, so blocks and
/// batches do not line up: ids that repeat far back, values above the maximum.
fn big_csv() -> String {
    let mut t = String::from("id,v\n");
    for i in 1..=9000u64 {
        let id = if i % 997 == 0 { i / 3 } else { i };
        t.push_str(&format!("{id},{}\n", i % 97));
    }
    t
}

fn parquet_file(path: &Path, shift: f64) {
    use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(23))
        .build();
    let file = std::fs::File::create(path).unwrap();
    let ids: Vec<i64> = (1..=200)
        .map(|i| if i % 41 == 0 { i / 4 } else { i })
        .collect();
    let xs: Vec<f64> = (1..=200).map(|i| (i % 13) as f64 * 0.25 + shift).collect();
    let id: ArrayRef = Arc::new(Int64Array::from(ids));
    let x: ArrayRef = Arc::new(Float64Array::from(xs));
    let batch = RecordBatch::try_from_iter([("id", id), ("x", x)]).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// A repository: the CSV, a Parquet file of several row groups (drifting from its reference: drift runs whole in
/// shard 1), a partitioned folder of seven parts whose keys
/// repeat across parts, and the fixtures' JSON Lines glob.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("people.csv"), &people_csv());
    write(&d.join("big.csv"), &big_csv());
    write(
        &d.join("big.schema.json"),
        r#"{"fields": [{"name": "id", "type": "integer"},
            {"name": "v", "type": "integer", "constraints": {"maximum": 95}}], "primaryKey": "id"}"#,
    );
    write(&d.join("people.schema.json"), PEOPLE_SCHEMA);
    parquet_file(&d.join("points.parquet"), 0.0);
    parquet_file(&d.join("points-reference.parquet"), 0.5);
    write(
        &d.join("points.schema.json"),
        r#"{"fields": [{"name": "id", "type": "integer"},
            {"name": "x", "type": "number", "constraints": {"maximum": 2.5}}], "primaryKey": "id",
            "x-mlgate": {"fields": {"x": {"mean": {"min": 0, "max": 1}}}}}"#,
    );
    let mut id = 0u64;
    for part in 0..7u64 {
        let mut t = String::from("id,age\n");
        for _ in 0..30 {
            id += 1;
            let shown = if id.is_multiple_of(17) { id / 2 } else { id };
            t.push_str(&format!("{shown},{}\n", (id * 7) % 130));
        }
        write(
            &d.join(format!("sales/year={}/part-{part}.csv", 2020 + part / 3)),
            &t,
        );
    }
    write(
        &d.join("sales.schema.json"),
        r#"{"fields": [{"name": "id", "type": "integer"},
            {"name": "age", "type": "integer", "constraints": {"maximum": 120}},
            {"name": "year", "type": "integer"}], "primaryKey": "id"}"#,
    );
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/partitioned");
    for f in [
        "events/day-1.jsonl",
        "events/day-2.jsonl",
        "events.schema.json",
    ] {
        write(
            &d.join(f),
            &std::fs::read_to_string(fixtures.join(f)).unwrap(),
        );
    }
    write(
        &d.join("mlgate.yml"),
        "version: 1\ndatasets:\n  people:\n    path: people.csv\n    schema: people.schema.json\n    \
         duplicate_rows: true\n  points:\n    path: points.parquet\n    schema: points.schema.json\n    \
         drift:\n      reference: points-reference.parquet\n  \
         sales:\n    path: sales\n    schema: sales.schema.json\n  events:\n    path: \"events/day-*.jsonl\"\n    \
         schema: events.schema.json\n  big:\n    path: big.csv\n    schema: big.schema.json\n",
    );
    dir
}

/// The unsharded report and the exit code.
fn whole(d: &Path) -> (String, Option<i32>) {
    let o = run(d, &["check", "--format", "json"]);
    (String::from_utf8(o.stdout).unwrap(), o.status.code())
}

/// Every shard of `n` (blocks of `rows` records), then the merge: the merged report and the merge's exit code.
fn sharded(d: &Path, n: u32, rows: u64) -> (String, Option<i32>) {
    let out = d.join(format!("shards-{n}-{rows}"));
    let out_s = out.display().to_string();
    let mut partials = vec![];
    for i in 1..=n {
        let o = run(
            d,
            &[
                "check",
                "--shard",
                &format!("{i}/{n}"),
                "--shard-rows",
                &rows.to_string(),
                "--report-dir",
                &out_s,
            ],
        );
        assert_eq!(o.status.code(), Some(0), "shard {i}/{n}\n{}", text(&o));
        partials.push(out.join(format!("partial-{i}-of-{n}.json")));
    }
    // The order on the command line does not matter.
    partials.reverse();
    let merged = out.join("merged.json");
    let mut args = vec!["merge".to_string()];
    args.extend(partials.iter().map(|p| p.display().to_string()));
    args.extend([
        "-o".into(),
        merged.display().to_string(),
        "--format".into(),
        "json".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run(d, &args);
    let printed = String::from_utf8(o.stdout.clone()).unwrap();
    let written = std::fs::read_to_string(&merged).unwrap_or_default();
    assert_eq!(printed, written, "{}", text(&o));
    (written, o.status.code())
}

/// The records each shard of `n` checked of dataset `name`.
fn shard_rows(d: &Path, n: u32, rows: u64, name: &str) -> Vec<u64> {
    (1..=n)
        .map(|i| {
            let p = d.join(format!("shards-{n}-{rows}/partial-{i}-of-{n}.json"));
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
            let slots = v["shard"]["slots"].as_array().unwrap();
            let ds = slots
                .iter()
                .find(|s| s["dataset"]["subject"] == name)
                .unwrap();
            ds["dataset"]["state"]["data_rows"].as_u64().unwrap()
        })
        .collect()
}

#[test]
fn merged_shards_are_the_unsharded_report_byte_for_byte() {
    let dir = repo();
    let d = dir.path();
    let (one, code) = whole(d);
    assert_eq!(code, Some(1), "{one}");
    // The planted errors are there, keys repeating far back among them.
    for needle in [
        "\"primary-key\"",
        "repeats row",
        "\"unique-error\"",
        "\"foreign-key\"",
        "\"duplicate-row\"",
        "\"blank-row\"",
        "\"extra-cell\"",
        "\"missing-cell\"",
        "\"type-error\"",
        "of sales/year=",
        "\"field-mean\"",
        "\"points/drift\"",
    ] {
        assert!(one.contains(needle), "{needle} not in {one}");
    }
    for (n, rows) in [(1, 65_536), (2, 7), (3, 16), (5, 3), (3, 1000), (2, 4096)] {
        let (merged, code) = sharded(d, n, rows);
        if (n, rows) == (2, 4096) {
            // big.csv's 9,000 records: blocks 1 and 3 in shard 1, block 2 in shard 2, across the reader's batches.
            assert_eq!(shard_rows(d, n, rows, "big"), [4096 + 808, 4096]);
        }
        assert_eq!(code, Some(1), "{n} shards");
        if merged != one {
            let a: Vec<&str> = one.lines().collect();
            let b: Vec<&str> = merged.lines().collect();
            let at = a
                .iter()
                .zip(&b)
                .position(|(x, y)| x != y)
                .unwrap_or(a.len().min(b.len()));
            panic!(
                "{n} shards of {rows} rows: first difference at line {}:\n  one run: {:?}\n  merged:  {:?}",
                at + 1,
                a.get(at),
                b.get(at)
            );
        }
    }
}

/// Runs every shard of `n` into `out` and returns the partials' paths.
fn partials(d: &Path, n: u32, out: &str) -> Vec<PathBuf> {
    (1..=n)
        .map(|i| {
            let o = run(
                d,
                &[
                    "check",
                    "--shard",
                    &format!("{i}/{n}"),
                    "--shard-rows",
                    "5",
                    "--report-dir",
                    out,
                ],
            );
            assert_eq!(o.status.code(), Some(0), "{}", text(&o));
            d.join(out).join(format!("partial-{i}-of-{n}.json"))
        })
        .collect()
}

fn merge_fails(d: &Path, files: &[&Path], wanted: &str) {
    let merged = d.join("refused.json");
    let mut args = vec!["merge".to_string()];
    args.extend(files.iter().map(|p| p.display().to_string()));
    args.extend(["-o".into(), merged.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run(d, &args);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // miette wraps long messages: compare the words.
    let err = String::from_utf8_lossy(&o.stderr).replace('│', " ");
    let err = err.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(err.contains(wanted), "{wanted:?} not in {err}");
    assert!(
        !merged.exists(),
        "nothing is written when the merge is refused"
    );
}

#[test]
fn partials_that_do_not_belong_together_are_refused() {
    let dir = repo();
    let d = dir.path();
    let three = partials(d, 3, "three");
    let two = partials(d, 2, "two");
    // A shard missing, a shard twice, shards of another N.
    merge_fails(d, &[&three[0], &three[2]], "missing shard 2/3");
    merge_fails(d, &[&three[0], &three[1], &three[1]], "are both shard 2/3");
    merge_fails(d, &[&three[0], &three[1], &two[1]], "is shard 2/2");
    // Another config: the same shard count, a config changed between shards.
    let yml = std::fs::read_to_string(d.join("mlgate.yml")).unwrap();
    write(&d.join("mlgate.yml"), &format!("{yml}# changed\n"));
    let other = partials(d, 3, "other");
    merge_fails(d, &[&three[0], &other[1], &three[2]], "different configs");
    write(&d.join("mlgate.yml"), &yml);
    // Other data: a file grew between shards.
    let mut csv = people_csv();
    csv.push_str("401,1,c401,late,1\n");
    write(&d.join("people.csv"), &csv);
    let grown = partials(d, 3, "grown");
    merge_fails(d, &[&three[0], &grown[1], &three[2]], "is not the data");
    // A tampered partial: a finding's row changed by hand.
    let text = std::fs::read_to_string(&three[1]).unwrap();
    let tampered = d.join("tampered.json");
    assert!(text.contains("\"row\":7"), "{text}");
    write(&tampered, &text.replacen("\"row\":7", "\"row\":8", 1));
    merge_fails(d, &[&three[0], &tampered, &three[2]], "changed after");
    // Not a partial at all: a plain report.
    let report = d.join("report.json");
    write(&report, &whole(d).0);
    merge_fails(d, &[&report], "not a partial report");
    merge_fails(d, &[&d.join("nowhere.json")], "could not read");
}

#[test]
fn a_shard_needs_a_report_dir_and_a_valid_index() {
    let dir = repo();
    let d = dir.path();
    let o = run(d, &["check", "--shard", "1/2"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--report-dir"));
    for bad in ["0/2", "3/2", "2", "a/b", "1/0"] {
        let o = run(d, &["check", "--shard", bad, "--report-dir", "x"]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("is not a shard"),
            "{bad}: {}",
            text(&o)
        );
    }
}
