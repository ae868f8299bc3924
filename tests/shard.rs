//! Sharded checks: `check --shard I/N` for every I, then `merge`, gives byte for byte the report of one
//! unsharded `check` (issue 18, point 4), with planted errors whose keys repeat across shard boundaries; and
//! partials that do not belong together are refused (exit 2). CLI cases: tests/cmd/merge-*.toml.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{run, text};

fn write_bytes(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}

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

/// A repository: the CSV, a Parquet file of several row groups (drifting from its reference, split by row groups
/// too), a partitioned folder of seven parts whose keys repeat across parts, and the fixtures' JSON Lines glob.
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
    whole_env(d, &[])
}

/// `mlgate` in `d` with these environment variables.
fn run_env(d: &Path, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    common::mlgate()
        .current_dir(d)
        .envs(env.iter().copied())
        .args(args)
        .output()
        .unwrap()
}

fn whole_env(d: &Path, env: &[(&str, &str)]) -> (String, Option<i32>) {
    let o = run_env(d, env, &["check", "--format", "json"]);
    (String::from_utf8(o.stdout).unwrap(), o.status.code())
}

/// Every shard of `n` (blocks of `rows` records), then the merge: the merged report and the merge's exit code.
fn sharded(d: &Path, n: u32, rows: u64) -> (String, Option<i32>) {
    sharded_env(d, n, rows, &[])
}

fn sharded_env(d: &Path, n: u32, rows: u64, env: &[(&str, &str)]) -> (String, Option<i32>) {
    let out = d.join(format!("shards-{n}-{rows}"));
    let out_s = out.display().to_string();
    let mut partials = vec![];
    for i in 1..=n {
        let o = run_env(
            d,
            env,
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
    // The merge takes the exact limit from the partials, not from its environment.
    let o = run(d, &args);
    let printed = String::from_utf8(o.stdout.clone()).unwrap();
    let written = std::fs::read_to_string(&merged).unwrap_or_default();
    assert_eq!(printed, written, "{}", text(&o));
    (written, o.status.code())
}

/// The records each shard of `n` checked of dataset `name`.
fn shard_rows(d: &Path, n: u32, rows: u64, name: &str) -> Vec<u64> {
    per_shard(d, n, rows, "dataset", name, &["state", "data_rows"])
}

/// For each shard of `n`: the number at `path` in its partial's `kind` slot ("dataset" or "drift") for `name`.
fn per_shard(d: &Path, n: u32, rows: u64, kind: &str, name: &str, path: &[&str]) -> Vec<u64> {
    (1..=n)
        .map(|i| {
            let p = d.join(format!("shards-{n}-{rows}/partial-{i}-of-{n}.json"));
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
            let slots = v["shard"]["slots"].as_array().unwrap();
            let slot = slots.iter().find(|s| s[kind]["subject"] == name).unwrap();
            let at = path.iter().fold(&slot[kind], |v, key| &v[*key]);
            at.as_u64().unwrap()
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
            // big.csv's 9,000 records: each shard parses its half of the bytes (the records are of 5 to 10
            // bytes, so the later half holds fewer), not blocks of --shard-rows.
            let got = shard_rows(d, n, rows, "big");
            assert_eq!(got.iter().sum::<u64>(), 9000, "{got:?}");
            assert!(got[0] > 4096 && got[1] > 3000, "{got:?}");
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
    // The side file of key checks beside a partial: one byte changed, or missing.
    let keys = three[1].with_extension("keys");
    let saved = std::fs::read(&keys).unwrap();
    assert!(!saved.is_empty());
    let mut changed = saved.clone();
    let i = changed.len() / 2;
    changed[i] ^= 1;
    write_bytes(&keys, &changed);
    merge_fails(
        d,
        &[&three[0], &three[1], &three[2]],
        "the side file of key checks does not match its partial report",
    );
    std::fs::remove_file(&keys).unwrap();
    merge_fails(d, &[&three[0], &three[1], &three[2]], "could not read");
    write_bytes(&keys, &saved);
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

/// A CSV whose every line is a cut candidate near some N's target: quoted newlines (some doubled-quote escapes
/// right before them), blank lines, CRLF, quoted `\r` and `\r\n` (cell text, yet line ends for the numbering) and
/// a quote inside an unquoted field; ids and codes that repeat far back.
fn quoted_csv() -> String {
    let mut t = String::from("id,code,note\r\n");
    for i in 1..=300u64 {
        let id = if i % 29 == 0 { i / 7 } else { i };
        let code = if i % 31 == 0 {
            format!("k{}", i / 5)
        } else {
            format!("k{i}")
        };
        let note = match i % 6 {
            0 => "\"a\nb\"".to_string(),
            1 => "\"say \"\"hi\"\"\n,\nthere\"".to_string(),
            2 => "plain".to_string(),
            3 if i % 12 == 9 => "\"\r\"".to_string(),
            3 => "\"\n\"".to_string(),
            4 => "x\"y".to_string(),
            5 if i % 12 == 11 => "\"p\r\nq\"".to_string(),
            _ => "\"\"".to_string(),
        };
        t.push_str(&format!("{id},{code},{note}"));
        t.push_str(if i % 4 == 0 { "\r\n" } else { "\n" });
        if i % 11 == 0 {
            t.push('\n');
        }
        if i % 23 == 0 {
            t.push_str("\n\n");
        }
    }
    // Row 10 again: a duplicate row, its id and code repeated.
    t.push_str("10,k10,x\"y\n");
    t
}

/// JSON Lines of keyed objects with blank lines, a repeating primary key and a bad value.
fn keyed_jsonl() -> String {
    let mut t = String::new();
    for i in 1..=120u64 {
        let id = if i % 19 == 0 { i / 3 } else { i };
        if i % 10 == 0 {
            t.push('\n');
        }
        if i == 77 {
            t.push_str(&format!("{{\"id\": {id}, \"score\": \"high\"}}\n"));
        } else {
            t.push_str(&format!("{{\"id\": {id}, \"score\": {}}}\n", i % 13));
        }
    }
    t
}

/// A repository of single files that each shard cuts into ranges: quoted newlines, JSON Lines, Parquet row
/// groups, latin1, rows before the header, fewer records than shards; and files every shard reads whole
/// (gzip, UTF-16).
fn ranges_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("quoted.csv"), &quoted_csv());
    write(
        &d.join("quoted.schema.json"),
        r#"{"fields": [{"name": "id", "type": "integer"}, {"name": "code", "type": "string",
            "constraints": {"unique": true}}, {"name": "note", "type": "string", "constraints": {"maxLength": 12}}],
            "primaryKey": "id"}"#,
    );
    write(&d.join("keyed.jsonl"), &keyed_jsonl());
    write(
        &d.join("keyed.schema.json"),
        r#"{"fields": [{"name": "id", "type": "integer"}, {"name": "score", "type": "integer",
            "constraints": {"maximum": 11}}], "primaryKey": "id"}"#,
    );
    parquet_file(&d.join("groups.parquet"), 0.0);
    write(
        &d.join("groups.schema.json"),
        r#"{"fields": [{"name": "id", "type": "integer"},
            {"name": "x", "type": "number", "constraints": {"maximum": 2.5}}], "primaryKey": "id"}"#,
    );
    // latin1: "é" is one byte, 0xe9; rows before the header (header_row 3).
    let mut latin = b"exported by a tool\nversion 2\nname,city\n".to_vec();
    for i in 1..=60u64 {
        let city: &[u8] = if i % 7 == 0 { b"Orl\xe9ans" } else { b"Lyon" };
        let name = if i % 16 == 0 { i / 4 } else { i };
        latin.extend_from_slice(format!("n{name},").as_bytes());
        latin.extend_from_slice(city);
        latin.push(b'\n');
    }
    std::fs::write(d.join("latin.csv"), &latin).unwrap();
    write(
        &d.join("latin.schema.json"),
        r#"{"fields": [{"name": "name", "type": "string", "constraints": {"unique": true}},
            {"name": "city", "type": "string", "constraints": {"enum": ["Lyon"]}}]}"#,
    );
    write(&d.join("tiny.csv"), "id,code,note\n1,a,x\n1,b,\"y\nz\"\n");
    // A UTF-8 BOM before a quoted first cell, no header; TSV, where a quote is text.
    let mut bom = String::from("\u{feff}");
    let mut tabs = String::from("id\tcode\tnote\n");
    for i in 1..=50u64 {
        let id = if i % 17 == 0 { i / 2 } else { i };
        bom.push_str(&format!("\"{id}\",b{i},\"n\n{i}\"\n"));
        tabs.push_str(&format!("{id}\tt{i}\t\"open {i}\n"));
    }
    write(&d.join("bom.csv"), &bom);
    write(&d.join("tabs.tsv"), &tabs);
    // UTF-16LE with its BOM, and gzip: every shard reads these whole.
    let mut utf16 = vec![0xff, 0xfe];
    for u in "id,code,note\n1,a,x\n2,a,y\n3,b,z\n".encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    std::fs::write(d.join("wide.csv"), &utf16).unwrap();
    let mut gz = flate2::write::GzEncoder::new(vec![], flate2::Compression::default());
    std::io::Write::write_all(&mut gz, quoted_csv().as_bytes()).unwrap();
    std::fs::write(d.join("packed.csv.gz"), gz.finish().unwrap()).unwrap();
    write(
        &d.join("mlgate.yml"),
        "version: 1\ndatasets:\n  \
         quoted:\n    path: quoted.csv\n    schema: quoted.schema.json\n    duplicate_rows: true\n  \
         keyed:\n    path: keyed.jsonl\n    schema: keyed.schema.json\n  \
         groups:\n    path: groups.parquet\n    schema: groups.schema.json\n  \
         latin:\n    path: latin.csv\n    schema: latin.schema.json\n    dialect:\n      encoding: latin1\n      \
         header_row: 3\n  \
         tiny:\n    path: tiny.csv\n    schema: quoted.schema.json\n  \
         bom:\n    path: bom.csv\n    schema: quoted.schema.json\n    dialect:\n      header: false\n  \
         tabs:\n    path: tabs.tsv\n    schema: quoted.schema.json\n  \
         wide:\n    path: wide.csv\n    schema: quoted.schema.json\n  \
         packed:\n    path: packed.csv.gz\n    schema: quoted.schema.json\n",
    );
    dir
}

/// A dataset's state in each partial of a sharded run.
fn states(d: &Path, n: u32, rows: u64, name: &str) -> Vec<serde_json::Value> {
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
            ds["dataset"]["state"].clone()
        })
        .collect()
}

/// The shares the shards read of a file: contiguous, from the header's end (or the first record) to the end.
fn assert_tiled(states: &[serde_json::Value], what: &str, first: u64, last: u64) {
    let mut next = first;
    for (i, s) in states.iter().enumerate() {
        assert_eq!(s["split"], "range", "{what}: shard {}", i + 1);
        let w = s["window"].as_object().unwrap();
        let w = w.get("bytes").or(w.get("row_groups")).unwrap();
        assert_eq!(
            w["start"].as_u64(),
            Some(next),
            "{what}: shard {} {w}",
            i + 1
        );
        next = w["end"].as_u64().unwrap();
    }
    assert_eq!(next, last, "{what}");
}

fn assert_same(one: &str, merged: &str, n: u32) {
    if merged != one {
        let a: Vec<&str> = one.lines().collect();
        let b: Vec<&str> = merged.lines().collect();
        let at = a
            .iter()
            .zip(&b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        panic!(
            "{n} shards: first difference at line {}:\n  one run: {:?}\n  merged:  {:?}",
            at + 1,
            a.get(at),
            b.get(at)
        );
    }
}

#[test]
fn shards_parse_only_their_bytes_and_row_groups_and_merge_to_one_run() {
    let dir = ranges_repo();
    let d = dir.path();
    let (one, code) = whole(d);
    assert_eq!(code, Some(1), "{one}");
    for needle in [
        "\"primary-key\"",
        "\"unique-error\"",
        "\"duplicate-row\"",
        "\"blank-row\"",
        "\"type-error\"",
        "Orléans",
        "\"line\":",
    ] {
        assert!(one.contains(needle), "{needle} not in {one}");
    }
    let size = |f: &str| std::fs::metadata(d.join(f)).unwrap().len();
    // 11 shards: more than the Parquet file's 9 row groups.
    for n in [1u32, 2, 3, 5, 7, 11] {
        let (merged, code) = sharded(d, n, 4);
        assert_eq!(code, Some(1), "{n} shards");
        assert_same(&one, &merged, n);
        // The header's 14 bytes (with its CRLF) are every shard's prefix; the first shard's share starts after.
        assert_tiled(
            &states(d, n, 4, "quoted"),
            "quoted.csv",
            14,
            size("quoted.csv"),
        );
        assert_tiled(
            &states(d, n, 4, "keyed"),
            "keyed.jsonl",
            0,
            size("keyed.jsonl"),
        );
        let latin_head = "exported by a tool\nversion 2\nname,city\n".len() as u64;
        assert_tiled(
            &states(d, n, 4, "latin"),
            "latin.csv",
            latin_head,
            size("latin.csv"),
        );
        assert_tiled(&states(d, n, 4, "tiny"), "tiny.csv", 13, size("tiny.csv"));
        // No header: the first shard starts after the BOM (the header's place).
        assert_tiled(&states(d, n, 4, "bom"), "bom.csv", 3, size("bom.csv"));
        assert_tiled(&states(d, n, 4, "tabs"), "tabs.tsv", 13, size("tabs.tsv"));
        // 200 rows in row groups of 23: 9 groups.
        assert_tiled(&states(d, n, 4, "groups"), "groups.parquet", 0, 9);
        for name in ["quoted", "keyed", "groups"] {
            let rows: u64 = states(d, n, 4, name)
                .iter()
                .map(|s| s["data_rows"].as_u64().unwrap())
                .sum();
            let want = match name {
                "quoted" => 301 + 27 + 2 * 13,
                "keyed" => 120,
                _ => 200,
            };
            assert_eq!(rows, want, "{name}: {n} shards");
        }
        // Fewer records than shards: the later shards of tiny.csv have none.
        if n >= 3 {
            let tiny = states(d, n, 4, "tiny");
            assert_eq!(
                tiny.iter().filter(|s| s["data_rows"] == 0).count() as u32,
                n - 2
            );
        }
        // Compressed and UTF-16 files cannot be cut: every shard parses them, and checks its blocks of records.
        for name in ["wide", "packed"] {
            for s in states(d, n, 4, name) {
                assert_eq!(s["split"], "records", "{name}");
                assert!(s.get("window").is_none(), "{name}");
            }
        }
    }
}

/// Bad input in one shard's share is the error one run gives, with the same line: invalid UTF-8 in the middle of
/// a file, an unterminated quote at its end. The other shards, which do not read those bytes, run.
#[test]
fn a_shard_reports_bad_input_in_its_share_as_one_run_does() {
    for (name, tail) in [
        ("utf8", &b"77,\xff\xfe,x\n"[..]),
        ("quote", &b"78,\"open,x\n"[..]),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let mut data = b"id,code,note\n".to_vec();
        for i in 1..=120u64 {
            if i == 77 && name == "utf8" {
                data.extend_from_slice(tail);
                continue;
            }
            data.extend_from_slice(format!("{i},c{i},\"n\n{i}\"\n").as_bytes());
        }
        if name == "quote" {
            data.extend_from_slice(tail);
            data.extend_from_slice(b"79,c79,x\n");
        }
        std::fs::write(d.join("bad.csv"), &data).unwrap();
        write(
            &d.join("bad.schema.json"),
            r#"{"fields": [{"name": "id", "type": "integer"}, {"name": "code", "type": "string"},
                {"name": "note", "type": "string"}]}"#,
        );
        write(
            &d.join("mlgate.yml"),
            "version: 1\ndatasets:\n  bad:\n    path: bad.csv\n    schema: bad.schema.json\n",
        );
        let one = run(d, &["check"]);
        assert_eq!(one.status.code(), Some(2), "{name}: {}", text(&one));
        let wanted = String::from_utf8_lossy(&one.stderr).into_owned();
        // Rows of two lines each: row 77 (with the header, line 154), or the open quote of row 78 (line 242).
        let at = if name == "quote" {
            "bad.csv:242"
        } else {
            "bad.csv:154"
        };
        assert!(wanted.contains(at), "{name}: {wanted}");
        let mut failed = vec![];
        for i in 1..=3 {
            let o = run(
                d,
                &["check", "--shard", &format!("{i}/3"), "--report-dir", "out"],
            );
            match o.status.code() {
                Some(0) => {}
                Some(2) => {
                    assert_eq!(
                        String::from_utf8_lossy(&o.stderr),
                        wanted,
                        "{name}: shard {i}"
                    );
                    failed.push(i);
                }
                _ => panic!("{name}: shard {i}: {}", text(&o)),
            }
        }
        // Invalid UTF-8 two thirds in: shard 2 or 3 (by bytes); the open quote reads to the end: the last shard.
        let want: &[u32] = if name == "quote" { &[3] } else { &[2] };
        assert_eq!(failed, want, "{name}");
    }
}

/// A table for drift: a float column of many values, text categories, booleans, few integers (categorical),
/// a column with missing cells, many distinct texts, and a column named `only` (each side names it otherwise).
/// `shift` moves the distributions.
fn drift_csv(rows: u64, shift: u64, only: &str) -> String {
    let mut t = format!("num,cat,flag,small,nully,note,{only}\n");
    for i in 0..rows {
        let num = ((i * 7919 + shift * 131) % 1009) as f64 / 7.0 + shift as f64 * 3.0;
        let cat = ["red", "green", "blue", "grey"][((i * (shift + 1)) % 7 % 4) as usize];
        let flag = if (i + shift).is_multiple_of(3) {
            "True"
        } else {
            "False"
        };
        let nully = if i.is_multiple_of(4) {
            String::new()
        } else {
            format!("{}.5", (i + shift) % 50)
        };
        t.push_str(&format!(
            "{num:.4},{cat},{flag},{},{nully},n{},{}\n",
            (i + shift) % 5,
            (i * 13 + shift) % 301,
            i % 11
        ));
    }
    t
}

/// The same table as Parquet, in row groups of 97 rows (nulls as Parquet nulls).
fn drift_parquet(path: &Path, rows: u64, shift: u64, only: &str) {
    use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
    let text = drift_csv(rows, shift, only);
    let recs: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let f = |j: usize| -> ArrayRef {
        Arc::new(Float64Array::from(
            recs.iter()
                .map(|r| r[j].parse::<f64>().ok())
                .collect::<Vec<_>>(),
        ))
    };
    let i = |j: usize| -> ArrayRef {
        Arc::new(Int64Array::from(
            recs.iter()
                .map(|r| r[j].parse::<i64>().unwrap())
                .collect::<Vec<_>>(),
        ))
    };
    let s = |j: usize| -> ArrayRef {
        Arc::new(StringArray::from(
            recs.iter().map(|r| r[j]).collect::<Vec<_>>(),
        ))
    };
    let b: ArrayRef = Arc::new(BooleanArray::from(
        recs.iter().map(|r| r[2] == "True").collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_from_iter([
        ("num", f(0)),
        ("cat", s(1)),
        ("flag", b),
        ("small", i(3)),
        ("nully", f(4)),
        ("note", s(5)),
        (only, i(6)),
    ])
    .unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(97))
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

const DRIFT_SCHEMA: &str = r#"{"fields": [{"name": "num", "type": "number"}, {"name": "cat", "type": "string"},
    {"name": "flag", "type": "boolean"}, {"name": "small", "type": "integer"},
    {"name": "nully", "type": "number"}, {"name": "note", "type": "string"},
    {"name": "cur_only", "type": "integer"}]}"#;

/// Drift between current and reference tables of 2,400 and 3,000 rows: CSV (split by bytes), Parquet (by row
/// groups) and a gzip reference (every shard reads it whole and takes blocks of records).
fn drift_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("cur.csv"), &drift_csv(2400, 1, "cur_only"));
    write(&d.join("ref.csv"), &drift_csv(3000, 0, "ref_only"));
    let mut gz = flate2::write::GzEncoder::new(vec![], flate2::Compression::default());
    std::io::Write::write_all(&mut gz, drift_csv(3000, 0, "ref_only").as_bytes()).unwrap();
    write_bytes(&d.join("ref.csv.gz"), &gz.finish().unwrap());
    drift_parquet(&d.join("cur.parquet"), 2400, 1, "cur_only");
    drift_parquet(&d.join("ref.parquet"), 3000, 0, "ref_only");
    write(&d.join("t.schema.json"), DRIFT_SCHEMA);
    let mut yml = String::from("version: 1\ndatasets:\n");
    for (name, cur, reference) in [
        ("dcsv", "cur.csv", "ref.csv"),
        ("dpq", "cur.parquet", "ref.parquet"),
        ("dgz", "cur.csv", "ref.csv.gz"),
    ] {
        yml.push_str(&format!(
            "  {name}:\n    path: {cur}\n    schema: t.schema.json\n    drift:\n      reference: {reference}\n"
        ));
    }
    write(&d.join("mlgate.yml"), &yml);
    dir
}

/// The drift check of `dataset` in a report.
fn drift_of(report: &str, dataset: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(report).unwrap();
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == format!("{dataset}/drift"))
        .unwrap_or_else(|| panic!("no drift of {dataset} in {report}"))
        .clone()
}

fn methods(check: &serde_json::Value) -> Vec<String> {
    check["figures"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["method"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn sharded_drift_merges_to_one_run_byte_for_byte() {
    let dir = drift_repo();
    let d = dir.path();
    let (one, code) = whole(d);
    assert_eq!(code, Some(1), "{one}");
    for name in ["dcsv", "dpq", "dgz"] {
        let c = drift_of(&one, name);
        let tested: Vec<&str> = c["figures"]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["test"].as_str().unwrap())
            .collect();
        // Every kind of column is tested, the one-sided columns are findings.
        assert_eq!(tested.len(), 6, "{name}: {c}");
        assert!(
            tested.contains(&"wasserstein") && tested.contains(&"jensenshannon"),
            "{c}"
        );
        assert_eq!(c["counts"]["missing-column"], 2, "{name}: {c}");
        assert!(methods(&c).iter().all(|m| m == "exact"), "{c}");
    }
    for (n, rows) in [(1, 65_536), (2, 7), (3, 1000), (5, 3)] {
        let (merged, code) = sharded(d, n, rows);
        assert_eq!(code, Some(1), "{n} shards");
        assert_same(&one, &merged, n);
    }
    // Every shard wrote its side file of drift values.
    assert!(d.join("shards-5-3/partial-5-of-5.drift").exists());
}

#[test]
fn sharded_drift_past_the_exact_limit_in_total_but_no_shard_is_one_run() {
    let dir = drift_repo();
    let d = dir.path();
    // 1,000 exact values per column: one run's 3,000 reference values pass it, no shard's share of 4 or 5 does.
    let env = [("MLGATE_DRIFT_EXACT_LIMIT", "1000")];
    let (one, code) = whole_env(d, &env);
    assert_eq!(code, Some(1), "{one}");
    assert!(
        methods(&drift_of(&one, "dcsv")).contains(&"sketch".to_string()),
        "{one}"
    );
    for (n, rows) in [(4, 100), (5, 7)] {
        let (merged, code) = sharded_env(d, n, rows, &env);
        assert_eq!(code, Some(1), "{n} shards");
        assert_same(&one, &merged, n);
    }
}

/// 40,000 values a side: past the sketch's own buffers (16,384), so a shard's sketch is compacted.
fn sketch_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, shift) in [("cur.csv", 300u64), ("ref.csv", 0)] {
        let mut t = String::from("x\n");
        for i in 0..40_000u64 {
            t.push_str(&format!("{}\n", ((i * 7919 + shift) % 40_000) as f64 / 8.0));
        }
        write(&d.join(name), &t);
    }
    write(
        &d.join("x.schema.json"),
        r#"{"fields": [{"name": "x", "type": "number"}]}"#,
    );
    write(
        &d.join("mlgate.yml"),
        "version: 1\ndatasets:\n  xs:\n    path: cur.csv\n    schema: x.schema.json\n    drift:\n      \
         reference: ref.csv\n      columns:\n        x:\n          test: ks\n",
    );
    dir
}

#[test]
fn a_shard_past_the_exact_limit_merges_sketches_within_their_bound() {
    let dir = sketch_repo();
    let d = dir.path();
    let (exact, _) = whole(d);
    let exact = &drift_of(&exact, "xs")["figures"]["columns"][0];
    assert_eq!(exact["method"], "exact", "{exact}");
    let env = [("MLGATE_DRIFT_EXACT_LIMIT", "1000")];
    for n in [2, 3] {
        let (merged, _) = sharded_env(d, n, 65_536, &env);
        let m = &drift_of(&merged, "xs")["figures"]["columns"][0];
        assert_eq!(m["method"], "sketch", "{m}");
        let bound = m["sketch_error"].as_f64().unwrap();
        assert!(bound > 0.0 && bound < 0.01, "{m}");
        let (de, dm) = (
            exact["statistic"].as_f64().unwrap(),
            m["statistic"].as_f64().unwrap(),
        );
        assert!(
            (de - dm).abs() <= bound,
            "{n} shards: KS {dm} against exact {de}, bound {bound}"
        );
        assert_eq!(m["reference_count"], exact["reference_count"]);
        assert_eq!(m["current_count"], exact["current_count"]);
    }
}

/// The reference rows each shard of `n` collected for the drift of dataset `name`.
fn drift_rows(d: &Path, n: u32, rows: u64, name: &str) -> Vec<u64> {
    per_shard(d, n, rows, "drift", name, &["reference", "rows"])
}

#[test]
fn a_drift_side_file_missing_or_changed_is_refused() {
    let dir = drift_repo();
    let d = dir.path();
    let two = partials(d, 2, "drift-two");
    let side = two[1].with_extension("drift");
    let saved = std::fs::read(&side).unwrap();
    assert!(!saved.is_empty());
    let mut changed = saved.clone();
    let i = changed.len() / 3;
    changed[i] ^= 1;
    write_bytes(&side, &changed);
    merge_fails(
        d,
        &[&two[0], &two[1]],
        "partial-2-of-2.drift: its drift values do not match the SHA-256 its partial report holds",
    );
    std::fs::remove_file(&side).unwrap();
    merge_fails(d, &[&two[0], &two[1]], "could not read");
    merge_fails(d, &[&two[0], &two[1]], "partial-2-of-2.drift");
    write_bytes(&side, &saved);
    let o = run(
        d,
        &[
            "merge",
            two[0].to_str().unwrap(),
            two[1].to_str().unwrap(),
            "-o",
            "ok.json",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // The reference changed between the shards (the current data did not).
    let mut grown = drift_csv(3000, 0, "ref_only");
    grown.push_str("1,red,True,1,,n1,1\n");
    write(&d.join("ref.csv"), &grown);
    let other = partials(d, 2, "drift-grown");
    merge_fails(
        d,
        &[&two[0], &other[1]],
        "the drift of dataset `dcsv` was checked otherwise than in",
    );
}

#[test]
fn an_empty_reference_share_is_fine_and_an_empty_reference_is_one_runs_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("cur.csv"), &drift_csv(40, 1, "cur_only"));
    // Two records: most of 5 shards get none.
    write(&d.join("ref.csv"), &drift_csv(2, 0, "cur_only"));
    write(&d.join("t.schema.json"), DRIFT_SCHEMA);
    write(
        &d.join("mlgate.yml"),
        "version: 1\ndatasets:\n  few:\n    path: cur.csv\n    schema: t.schema.json\n    drift:\n      \
         reference: ref.csv\n",
    );
    let (one, _) = whole(d);
    drift_of(&one, "few");
    for n in [3, 5] {
        let (merged, _) = sharded(d, n, 1);
        assert_same(&one, &merged, n);
    }
    let rows = drift_rows(d, 5, 1, "few");
    assert_eq!(rows.iter().sum::<u64>(), 2, "{rows:?}");
    assert!(rows.contains(&0), "{rows:?}");
    // Only a header: one run cannot compare, nor can the merge, with the same words.
    write(&d.join("ref.csv"), &drift_csv(0, 0, "cur_only"));
    let o = run(d, &["check"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let wanted = "the reference data set has no rows: drift needs data on both sides";
    assert!(common::flat(&o).contains(wanted), "{}", text(&o));
    let parts = partials(d, 3, "empty");
    merge_fails(d, &[&parts[0], &parts[1], &parts[2]], wanted);
}

#[test]
fn sharded_drift_of_a_reference_outside_the_repository_shows_no_values() {
    let outside = tempfile::tempdir().unwrap();
    let reference = outside.path().join("ref.csv");
    write(&reference, &drift_csv(300, 0, "cur_only"));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join(".git")).unwrap();
    write(&d.join("cur.csv"), &drift_csv(200, 1, "cur_only"));
    write(&d.join("t.schema.json"), DRIFT_SCHEMA);
    write(
        &d.join("mlgate.yml"),
        &format!(
            "version: 1\ndatasets:\n  out:\n    path: cur.csv\n    schema: t.schema.json\n    drift:\n      \
             reference: {}\n",
            reference.display()
        ),
    );
    let allow = "--allow-outside-repo";
    let one = run(d, &["check", "--format", "json", allow]);
    let one = String::from_utf8(one.stdout).unwrap();
    let drift = drift_of(&one, "out");
    assert!(!drift.to_string().contains("histogram"), "{drift}");
    let mut partials = vec![];
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let o = run(d, &["check", "--shard", &shard, "--report-dir", "o", allow]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        partials.push(format!("o/partial-{i}-of-3.json"));
    }
    let mut args = vec!["merge", "--format", "json"];
    args.extend(partials.iter().map(String::as_str));
    let merged = run(d, &args);
    assert_same(&one, &String::from_utf8(merged.stdout).unwrap(), 3);
}
