//! Drift numbers against Evidently 0.7.23 and SciPy 1.17.1: `tests/fixtures/drift/golden.json`, written by
//! `tests/fixtures/drift/make_golden.py` (pinned in its requirements.txt) from the CSV pairs beside it.
//! Every statistic and p-value must agree to 1e-6 (relative for numbers above 1) with the same drift decision.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use mlgate::data::drift::{self, ColumnOptions, DriftOptions, Test};
use mlgate::data::{Dialect, Source};
use serde_json::Value;

const TESTS: [(&str, Test); 8] = [
    ("ks", Test::Ks),
    ("chisquare", Test::Chisquare),
    ("z", Test::Z),
    ("wasserstein", Test::Wasserstein),
    ("jensenshannon", Test::Jensenshannon),
    ("psi", Test::Psi),
    ("kl_div", Test::KlDiv),
    ("l_infinity", Test::LInfinity),
];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/drift")
}

fn golden() -> Value {
    let text = std::fs::read_to_string(dir().join("golden.json")).expect("golden.json");
    serde_json::from_str(&text).expect("golden.json parses")
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        _ => f64::NAN,
    }
}

/// Agreement to 1e-6 relative to the golden value, however small it is: an absolute tolerance would let a
/// p-value of 5.8e-124 pass as 0. Exact zeros must be zero (or below 1e-300, where f64 runs out).
fn same(got: f64, want: f64) -> bool {
    if want.is_nan() {
        return got.is_nan();
    }
    if want.is_infinite() {
        return got == want;
    }
    if want == 0.0 {
        return got.abs() <= 1e-300;
    }
    (got - want).abs() <= 1e-6 * want.abs()
}

/// Runs drift on a pair, every column forced to `test` when given; returns the report's per-column results.
fn run(pair: &str, test: Option<Test>) -> (Value, IndexMap<String, Value>) {
    let src = |side: &str| {
        Source::new(
            dir().join(format!("pairs/{pair}.{side}.csv")),
            None,
            Dialect::default(),
        )
        .expect("source")
    };
    let mut opts = DriftOptions::new(pair);
    if let Some(t) = test {
        let text = std::fs::read_to_string(dir().join(format!("pairs/{pair}.ref.csv"))).unwrap();
        for name in text.lines().next().unwrap().split(',') {
            opts.columns.insert(
                name.to_string(),
                ColumnOptions {
                    test: Some(t),
                    threshold: None,
                },
            );
        }
    }
    let check = drift::drift(&src("ref"), &src("cur"), None, &opts).expect("drift runs");
    let figures = serde_json::to_value(&check.figures).unwrap();
    let mut cols = IndexMap::new();
    for c in figures["columns"].as_array().unwrap() {
        cols.insert(c["column"].as_str().unwrap().to_string(), c.clone());
    }
    (figures, cols)
}

/// A column's statistic, which must be present: serde_json writes a non-finite f64 as `null`, so a present
/// `null` is the infinite statistic (a category on one side only), while a missing key fails.
fn statistic(c: &Value) -> f64 {
    match c.get("statistic").expect("the column has a statistic") {
        Value::Null => f64::INFINITY,
        v => num(v),
    }
}

/// The score Evidently compares with the threshold: the p-value for p-value tests, else the statistic.
fn score(c: &Value) -> f64 {
    match c.get("p_value") {
        Some(p) => num(p),
        None => statistic(c),
    }
}

#[test]
fn default_selection_scores_and_decisions_match_evidently() {
    let g = golden();
    let mut compared = 0;
    for (pair, want) in g["pairs"].as_object().unwrap() {
        let (figures, cols) = run(pair, None);
        for (name, w) in want["columns"].as_object().unwrap() {
            let c = &cols[name.as_str()];
            let ctx = format!("{pair}/{name}");
            let kind = if w["type"] == "num" {
                "numerical"
            } else {
                "categorical"
            };
            assert_eq!(c["type"], kind, "{ctx}: type");
            assert_eq!(c["unique_values"], w["unique"], "{ctx}: unique values");
            assert_eq!(c["reference_count"], w["reference_count"], "{ctx}");
            assert_eq!(c["current_count"], w["current_count"], "{ctx}");
            assert_eq!(c["test"], w["default_test"], "{ctx}: default test");
            let (got, exp) = (score(c), num(&w["default_score"]));
            assert!(same(got, exp), "{ctx}: score {got} vs Evidently {exp}");
            assert_eq!(c["drifted"], w["default_drifted"], "{ctx}: decision");
            compared += 1;
        }
        assert_eq!(
            figures["columns_drifted"], want["drifted_columns"],
            "{pair}"
        );
        assert!(same(
            figures["drifted_share"].as_f64().unwrap(),
            num(&want["drifted_share"])
        ));
        assert_eq!(figures["dataset_drift"], want["dataset_drift"], "{pair}");
    }
    assert!(compared > 50, "{compared}");
}

#[test]
fn every_test_matches_evidently_and_scipy() {
    let g = golden();
    for (pair, want) in g["pairs"].as_object().unwrap() {
        for (tname, test) in TESTS {
            let (_, cols) = run(pair, Some(test));
            for (name, w) in want["columns"].as_object().unwrap() {
                let ctx = format!("{pair}/{name}/{tname}");
                let Some(c) = cols.get(name.as_str()) else {
                    // Only numerical-only tests on categorical columns are refused.
                    assert!(
                        matches!(test, Test::Ks | Test::Wasserstein) && w["type"] == "cat",
                        "{ctx}: no result"
                    );
                    continue;
                };
                let s = &w["scipy"];
                match test {
                    Test::Ks => {
                        assert!(
                            same(num(&c["statistic"]), num(&s["ks_statistic"])),
                            "{ctx}: D"
                        );
                        let (got, exp) = (score(c), num(&s["ks_pvalue"]));
                        assert!(same(got, exp), "{ctx}: p {got} vs SciPy {exp}");
                    }
                    Test::Chisquare => {
                        let exp = num(&s["chisquare_statistic"]);
                        let got = statistic(c);
                        assert!(same(got, exp), "{ctx}: chi2 {got} vs {exp}");
                        let (got, exp) = (score(c), num(&s["chisquare_pvalue"]));
                        assert!(same(got, exp), "{ctx}: p {got} vs SciPy {exp}");
                    }
                    Test::Jensenshannon => {
                        let (got, exp) = (score(c), num(&s["jensenshannon_distance"]));
                        assert!(same(got, exp), "{ctx}: {got} vs SciPy {exp}");
                    }
                    Test::LInfinity => {
                        // Evidently has no L-infinity test (it is TFDV's): the distance is held to the
                        // golden's NumPy formula on Evidently's binning, and the decision to the documented rule,
                        // drift when the distance is at least the threshold (0.1 by default).
                        let (got, exp) = (score(c), num(&s["l_infinity"]));
                        assert!(same(got, exp), "{ctx}: {got} vs {exp}");
                        assert_eq!(c["threshold"].as_f64(), Some(0.1), "{ctx}: threshold");
                        assert_eq!(c["drifted"], Value::Bool(exp >= 0.1), "{ctx}: decision");
                        continue;
                    }
                    _ => {}
                }
                let e = &w["tests"][tname];
                let (got, exp) = (score(c), num(&e["score"]));
                assert!(same(got, exp), "{ctx}: {got} vs Evidently {exp}");
                assert_eq!(c["drifted"], e["drifted"], "{ctx}: decision");
                assert!(same(c["threshold"].as_f64().unwrap(), num(&e["threshold"])));
            }
        }
    }
}

/// Past the exact limit the sketch stands in; the report says so, and the KS statistic and the normed
/// Wasserstein distance stay within the sketch's stated bound of the exact ones.
#[test]
fn sketch_results_stay_within_their_bound() {
    let src = |side: &str| {
        Source::new(
            dir().join(format!("pairs/ks_asymp.{side}.csv")),
            None,
            Dialect::default(),
        )
        .expect("source")
    };
    let run_with = |limit: usize, test: Test| {
        let mut opts = DriftOptions::new("sketch");
        opts.exact_limit = limit;
        opts.columns.insert(
            "x".into(),
            ColumnOptions {
                test: Some(test),
                threshold: None,
            },
        );
        let check = drift::drift(&src("ref"), &src("cur"), None, &opts).expect("drift runs");
        serde_json::to_value(&check.figures).unwrap()["columns"][0].clone()
    };
    for test in [Test::Ks, Test::Wasserstein] {
        let exact = run_with(drift::EXACT_LIMIT, test);
        // 12 000 current values against a limit of 100: the current side goes through the sketch.
        let sketched = run_with(100, test);
        assert_eq!(exact["method"], "exact");
        assert_eq!(sketched["method"], "sketch");
        let bound = sketched["sketch_error"].as_f64().unwrap();
        assert!((0.0..0.01).contains(&bound), "{bound}");
        let (e, s) = (num(&exact["statistic"]), num(&sketched["statistic"]));
        // KS: the CDF error bound; Wasserstein: the bound times the value range over the reference std (~1).
        let slack = if test == Test::Ks {
            bound
        } else {
            bound * 10.0
        };
        assert!(
            (e - s).abs() <= slack + 1e-12,
            "{test:?}: exact {e} sketch {s} bound {bound}"
        );
    }
}

/// With enough values that the sketch compacts, its bound is positive and still holds.
#[test]
fn compacting_sketch_holds_its_bound() {
    let dir = tempfile::tempdir().unwrap();
    // Deterministic pseudo-random values (a 64-bit LCG), the current side shifted a little.
    let mut state: u64 = 42;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut write = |name: &str, n: usize, shift: f64| {
        let mut s = String::from("x\n");
        for _ in 0..n {
            let v: f64 = (0..4).map(|_| next()).sum::<f64>() + shift;
            s.push_str(&format!("{v:.6}\n"));
        }
        let p = dir.path().join(name);
        std::fs::write(&p, s).unwrap();
        Source::new(p, None, Dialect::default()).unwrap()
    };
    let (r, c) = (write("r.csv", 60_000, 0.0), write("c.csv", 50_000, 0.05));
    for test in [Test::Ks, Test::Wasserstein] {
        let run = |limit: usize| {
            let mut opts = DriftOptions::new("big");
            opts.exact_limit = limit;
            opts.columns.insert(
                "x".into(),
                ColumnOptions {
                    test: Some(test),
                    threshold: None,
                },
            );
            let check = drift::drift(&r, &c, None, &opts).unwrap();
            serde_json::to_value(&check.figures).unwrap()["columns"][0].clone()
        };
        let (exact, sketched) = (run(drift::EXACT_LIMIT), run(1000));
        assert_eq!(sketched["method"], "sketch");
        let bound = sketched["sketch_error"].as_f64().unwrap();
        assert!(bound > 0.0 && bound < 0.001, "{bound}");
        let (e, s) = (num(&exact["statistic"]), num(&sketched["statistic"]));
        // Values span 4 (+0.05) and the std is about 0.58: the Wasserstein slack is bound * range / std.
        let slack = if test == Test::Ks {
            bound
        } else {
            bound * 4.05 / 0.57
        };
        assert!(
            (e - s).abs() <= slack,
            "{test:?}: exact {e} sketch {s} bound {bound}"
        );
    }
}
