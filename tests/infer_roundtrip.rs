//! Property: every table passes the schema `schema infer` writes for it.
//!
//! Random tables mix integer, number, boolean, date, datetime, categorical and free-text columns, with empty
//! cells. Blank rows are left out on purpose: a row of empty cells is a `blank-row` whatever the schema says.

use mlgate::data::infer::{infer, InferOptions};
use mlgate::data::{validate, Dialect, Schema, Source, ValidateOptions};
use mlgate::report::Status;
use proptest::prelude::*;

fn cell(kind: u8) -> BoxedStrategy<String> {
    match kind {
        0 => (-1_000_000i64..1_000_000)
            .prop_map(|i| i.to_string())
            .boxed(),
        1 => prop_oneof![
            (-1e6f64..1e6).prop_map(|x| x.to_string()),
            Just("NaN".to_string()),
            (-50i64..50).prop_map(|i| format!("{i}.5e1")),
        ]
        .boxed(),
        2 => prop_oneof![Just("true"), Just("false"), Just("True"), Just("FALSE")]
            .prop_map(String::from)
            .boxed(),
        3 => (1900i32..2100, 1u32..13, 1u32..29)
            .prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"))
            .boxed(),
        4 => (0i64..4_000_000_000)
            .prop_map(|s| {
                chrono::DateTime::from_timestamp(s, 0)
                    .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                    .unwrap_or_default()
            })
            .boxed(),
        5 => prop_oneof![Just("red"), Just("green"), Just("blue")]
            .prop_map(String::from)
            .boxed(),
        _ => "[ -~]{0,12}|[a-zé,\"\n]{1,6}".boxed(),
    }
}

fn table() -> impl Strategy<Value = Vec<Vec<String>>> {
    (1usize..6, 0usize..25)
        .prop_flat_map(|(cols, rows)| (proptest::collection::vec(0u8..7, cols), Just(rows)))
        .prop_flat_map(|(kinds, rows)| {
            let row = kinds
                .iter()
                .enumerate()
                .map(|(i, &k)| {
                    // The first column is never empty, so no row is blank.
                    if i == 0 {
                        cell(k).prop_filter("non-empty", |s| !s.is_empty()).boxed()
                    } else {
                        prop_oneof![4 => cell(k), 1 => Just(String::new())].boxed()
                    }
                })
                .collect::<Vec<_>>();
            proptest::collection::vec(row, rows)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    #[test]
    fn tables_pass_their_inferred_schema(rows in table()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let width = rows.first().map_or(1, Vec::len);
        let mut w = csv::Writer::from_path(&path).unwrap();
        w.write_record((0..width).map(|i| format!("c{i}"))).unwrap();
        for r in &rows {
            w.write_record(r).unwrap();
        }
        w.flush().unwrap();
        drop(w);
        let source = Source::new(&path, None, Dialect::default()).unwrap();
        let inferred = infer(&source, &InferOptions::default()).unwrap();
        let text = serde_json::to_string(&inferred.schema).unwrap();
        let schema = Schema::parse(&text, "inferred.json").unwrap();
        let v = validate(&source, Some(&schema), &ValidateOptions::new("t")).unwrap();
        let check = &v.checks[0];
        prop_assert_eq!(check.status, Status::Pass, "schema {} findings {:?}", text, check.findings);
    }
}
