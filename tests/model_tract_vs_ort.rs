//! tract against ONNX Runtime on every fixture model (`tests/fixtures/models/models.json`): outputs within 1e-4
//! of onnxruntime's golden outputs (tf.lite's for the TFLite model), identical predicted labels, and the metrics
//! of tract's predictions equal to scikit-learn's golden metrics.
//!
//! Metrics that only count labels (accuracy, precision, recall, F1, the regression errors when the outputs are
//! equal) must match to 1e-9. ROC AUC and log loss read the float32 probabilities themselves, which differ from
//! onnxruntime's in the last bits (up to ~1e-6): they are held to 1e-5, relative.

use std::path::{Path, PathBuf};

use mlgate::model::{self, DataSpec, EvalOptions, Model, Scored};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models")
}

fn load(rel: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join(rel)).unwrap()).unwrap()
}

const OUTPUT_TOL: f64 = 1e-4;

/// The eval data of a models.json entry.
fn spec_of(entry: &Value) -> DataSpec {
    DataSpec {
        path: fixtures().join(entry["eval_data"].as_str().unwrap()),
        label: entry["label_column"].as_str().unwrap_or("y").to_string(),
        features: entry["feature_columns"]
            .as_array()
            .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect()),
        format: None,
    }
}

#[test]
fn tract_matches_onnxruntime_on_every_fixture_model() {
    let manifest = load("models.json");
    let models = manifest["models"].as_array().unwrap();
    assert!(models.len() >= 7, "every fixture model is listed");
    for entry in models {
        let file = entry["file"].as_str().unwrap();
        // Bad-input fixtures are listed for completeness; they are tested in model_bad_input.rs.
        if entry.get("bad_input").is_some() {
            continue;
        }
        // Quantized TFLite models are bundled for another runtime; the claim that tract cannot run them holds.
        if entry["evaluable_by_tract"] == false {
            assert!(
                Model::load(&fixtures().join(file)).is_err(),
                "{file} is marked not evaluable by tract, but tract loads it: mark it evaluable"
            );
            continue;
        }
        let model = Model::load(&fixtures().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let spec = spec_of(entry);
        let data = model::input::read(&spec, &model.input.name).unwrap();
        let opts = EvalOptions {
            latency_runs: 0,
            ..EvalOptions::default()
        };
        let ev = model::evaluate(&model, &data, &opts).unwrap_or_else(|e| panic!("{file}: {e}"));
        let golden = load(entry["golden_outputs"].as_str().unwrap());
        let outputs = &golden["outputs"];
        match ev.scored.as_ref().unwrap() {
            Scored::Classification {
                y_pred,
                probabilities,
                ..
            } => {
                let want_labels: Vec<i64> = outputs["label"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_i64().unwrap())
                    .collect();
                assert_eq!(y_pred, &want_labels, "{file}: predicted labels");
                let probs = probabilities.as_ref().unwrap();
                let want = outputs["probabilities"].as_array().unwrap();
                assert_eq!(probs.len(), want.len(), "{file}");
                let mut max_diff = 0.0f64;
                for (got, w) in probs.iter().zip(want) {
                    let w = w.as_array().unwrap();
                    assert_eq!(got.len(), w.len(), "{file}: classes");
                    for (g, w) in got.iter().zip(w) {
                        max_diff = max_diff.max((g - w.as_f64().unwrap()).abs());
                    }
                }
                assert!(
                    max_diff <= OUTPUT_TOL,
                    "{file}: probabilities differ by {max_diff}"
                );
            }
            Scored::Regression { y_pred, .. } => {
                let want = outputs["variable"].as_array().unwrap();
                assert_eq!(y_pred.len(), want.len());
                for (g, w) in y_pred.iter().zip(want) {
                    let w = w.as_array().unwrap()[0].as_f64().unwrap();
                    assert!((g - w).abs() <= OUTPUT_TOL, "{file}: {g} vs {w}");
                }
            }
        }
        let metrics = load(entry["golden_metrics"].as_str().unwrap());
        let mut compared = 0;
        for (k, want) in metrics["metrics"].as_object().unwrap() {
            // Not metrics: the matrix is compared below, its labels and the script's warnings are context.
            if matches!(
                k.as_str(),
                "confusion_matrix" | "confusion_matrix_labels" | "warnings"
            ) {
                continue;
            }
            // Every metric scikit-learn gives must be reported: a lost roc_auc must fail, not go unnoticed.
            let got = ev.metrics.get(k).unwrap_or_else(|| {
                panic!("{file}: mlgate does not report {k}, which scikit-learn gives")
            });
            let tol = if k == "roc_auc" || k == "log_loss" {
                1e-5
            } else {
                1e-9
            };
            match (got, want.as_f64()) {
                (Some(g), Some(w)) => assert!(
                    (g - w).abs() <= tol * w.abs().max(1.0),
                    "{file} {k}: tract {g} vs scikit-learn {w}"
                ),
                (None, None) => {}
                (g, _) => panic!("{file} {k}: got {g:?}, scikit-learn {want}"),
            }
            compared += 1;
        }
        assert!(compared >= 6, "{file}: only {compared} metrics compared");
        if let Some(cm) = metrics["metrics"].get("confusion_matrix") {
            let want: Vec<Vec<u64>> = serde_json::from_value(cm.clone()).unwrap();
            assert_eq!(
                ev.scored.as_ref().unwrap().confusion().unwrap().1,
                want,
                "{file}: confusion matrix"
            );
        }
    }
}

#[test]
fn binary_forest_labels_come_from_the_probabilities() {
    // tract's own `label` output of a binary TreeEnsembleClassifier is wrong (always 0); mlgate must not use it.
    let m = Model::load(&fixtures().join("breast_cancer_forest.onnx")).unwrap();
    assert!(m.label_output_unreliable);
    let m = Model::load(&fixtures().join("wine_logreg.onnx")).unwrap();
    assert!(!m.label_output_unreliable);
    assert_eq!(m.class_labels, Some(vec![0, 1, 2]));
}

#[test]
fn operational_figures_are_reported() {
    let spec = DataSpec {
        path: fixtures().join("data/wine_test.csv"),
        label: "target".into(),
        features: None,
        format: None,
    };
    let opts = EvalOptions {
        latency_runs: 5,
        ..EvalOptions::default()
    };
    let ev = model::evaluate_file(&fixtures().join("wine_logreg.onnx"), &spec, &opts).unwrap();
    assert_eq!(ev.metrics["model_size"], Some(648.0));
    // 13 x 3 coefficients and 3 intercepts.
    assert_eq!(ev.metrics["parameter_count"], Some(42.0));
    for k in ["latency_p50", "latency_p95", "latency_p99", "throughput"] {
        assert!(ev.metrics[k].is_some_and(|v| v > 0.0), "{k}");
    }
    assert!(ev.metrics["latency_p50"] <= ev.metrics["latency_p99"]);
}

/// A .npy of labels beside a .npy of images, as `--label labels.npy` reads them.
#[test]
fn npy_features_with_a_labels_file() {
    let arrays = model::npy::read_arrays(&fixtures().join("data/digits_test.npz")).unwrap();
    let y = &arrays.iter().find(|(n, _)| n == "y").unwrap().1;
    let model::npy::NpyData::I64(labels) = &y.data else {
        panic!("y is int64")
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures().join("data/digits_test.npy"),
        dir.path().join("x.npy"),
    )
    .unwrap();
    let mut header = format!(
        "{{'descr': '<i8', 'fortran_order': False, 'shape': ({},), }}",
        labels.len()
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend(labels.iter().flat_map(|l| l.to_le_bytes()));
    std::fs::write(dir.path().join("labels.npy"), bytes).unwrap();
    let spec = DataSpec {
        path: dir.path().join("x.npy"),
        label: "labels.npy".into(),
        features: None,
        format: None,
    };
    let opts = EvalOptions {
        latency_runs: 0,
        ..EvalOptions::default()
    };
    let ev = model::evaluate_file(&fixtures().join("digits_cnn.onnx"), &spec, &opts).unwrap();
    let golden = load("golden/digits_cnn.metrics.json");
    let want = golden["metrics"]["accuracy"].as_f64().unwrap();
    assert!((ev.metrics["accuracy"].unwrap() - want).abs() < 1e-12);
}

/// Batches run on several threads give the same outputs as one thread, bit for bit, and the same predictions and
/// quality metrics, on every fixture model tract runs; small batches so that every thread runs several.
#[test]
fn several_threads_give_one_threads_outputs_bit_for_bit() {
    use model::eval::{plan_for, run_all_on};
    let manifest = load("models.json");
    let mut compared = 0;
    for entry in manifest["models"].as_array().unwrap() {
        let file = entry["file"].as_str().unwrap();
        if entry.get("bad_input").is_some() || entry["evaluable_by_tract"] == false {
            continue;
        }
        let model = Model::load(&fixtures().join(file)).unwrap();
        let spec = spec_of(entry);
        let data = model::input::read(&spec, &model.input.name).unwrap();
        let plan = plan_for(&model, &data, 7).unwrap();
        let (one, _) = run_all_on(&model, &plan, &data, 7, 1).unwrap();
        let (three, _) = run_all_on(&model, &plan, &data, 7, 3).unwrap();
        assert_eq!(one.len(), three.len(), "{file}");
        for (a, b) in one.iter().zip(&three) {
            assert_eq!(
                (&a.name, a.width, a.dtype),
                (&b.name, b.width, b.dtype),
                "{file}"
            );
            assert_eq!(
                a.data.len(),
                data.rows() * a.width,
                "{file}: {} rows",
                a.name
            );
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a.data), bits(&b.data), "{file}: output {}", a.name);
        }
        let opts = |threads| EvalOptions {
            latency_runs: 0,
            batch_size: 7,
            threads,
            ..EvalOptions::default()
        };
        let e1 = model::evaluate(&model, &data, &opts(1)).unwrap();
        let e3 = model::evaluate(&model, &data, &opts(3)).unwrap();
        assert!(e1.scored.is_some(), "{file}: scored");
        assert_eq!(e1.scored, e3.scored, "{file}");
        for (k, v) in &e1.metrics {
            if !matches!(
                k.as_str(),
                "throughput" | "latency_p50" | "latency_p95" | "latency_p99"
            ) {
                assert_eq!(
                    v.map(f64::to_bits),
                    e3.metrics[k].map(f64::to_bits),
                    "{file}: {k}"
                );
            }
        }
        compared += 1;
    }
    assert!(compared >= 6, "{compared} models compared");
}
