//! Metrics equal scikit-learn's to 1e-9: hand-made edge cases (`golden/metric_cases.json`) and the real models'
//! onnxruntime predictions on their held-out data (`golden/<model>.{outputs,metrics}.json`), all made by
//! `tests/fixtures/models/make_models.py` with scikit-learn 1.9.1.

use std::path::{Path, PathBuf};

use mlgate::model::metrics::{
    classification, regression, ClassificationMetrics, RegressionMetrics, Scores,
};
use serde_json::Value;

const TOL: f64 = 1e-9;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models")
}

fn load(rel: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join(rel)).unwrap()).unwrap()
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn rows(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(floats).collect()
}

fn close(name: &str, key: &str, got: Option<f64>, want: &Value) {
    match (got, want.as_f64()) {
        (Some(g), Some(w)) => assert!(
            (g - w).abs() <= TOL * w.abs().max(1.0),
            "{name} {key}: {g} vs {w}"
        ),
        (None, None) => {}
        (g, _) => panic!("{name} {key}: got {g:?}, scikit-learn {want}"),
    }
}

fn check_classification(name: &str, m: &ClassificationMetrics, expected: &Value) {
    let fields: [(&str, Option<f64>); 17] = [
        ("accuracy", Some(m.accuracy)),
        ("balanced_accuracy", Some(m.balanced_accuracy)),
        ("precision_macro", Some(m.precision_macro)),
        ("precision_micro", Some(m.precision_micro)),
        ("precision_weighted", Some(m.precision_weighted)),
        ("recall_macro", Some(m.recall_macro)),
        ("recall_micro", Some(m.recall_micro)),
        ("recall_weighted", Some(m.recall_weighted)),
        ("f1_macro", Some(m.f1_macro)),
        ("f1_micro", Some(m.f1_micro)),
        ("f1_weighted", Some(m.f1_weighted)),
        ("precision_binary", m.precision_binary),
        ("recall_binary", m.recall_binary),
        ("f1_binary", m.f1_binary),
        ("roc_auc", m.roc_auc),
        ("log_loss", m.log_loss),
        ("confusion_matrix", None),
    ];
    let mut compared = 0;
    for (key, got) in fields {
        let Some(want) = expected.get(key) else {
            continue;
        };
        if key == "confusion_matrix" {
            let want: Vec<Vec<u64>> = serde_json::from_value(want.clone()).unwrap();
            assert_eq!(m.confusion_matrix, want, "{name} confusion_matrix");
        } else {
            close(name, key, got, want);
        }
        compared += 1;
    }
    assert!(compared >= 12, "{name}: only {compared} metrics compared");
}

fn check_regression(name: &str, m: &RegressionMetrics, expected: &Value) {
    for (key, got) in [
        ("mae", m.mae),
        ("mse", m.mse),
        ("rmse", m.rmse),
        ("r2", m.r2),
        ("mape", m.mape),
        ("max_error", m.max_error),
    ] {
        close(name, key, Some(got), &expected[key]);
    }
}

#[test]
fn hand_made_cases_match_scikit_learn() {
    let cases = load("golden/metric_cases.json");
    for c in cases["classification"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let labels = ints(&c["class_labels"]);
        let probs = rows(&c["y_prob"]);
        let scores = Scores {
            class_labels: &labels,
            rows: &probs,
        };
        let m = classification(&ints(&c["y_true"]), &ints(&c["y_pred"]), Some(&scores), 1);
        check_classification(name, &m, &c["expected"]);
    }
    for c in cases["regression"].as_array().unwrap() {
        let m = regression(&floats(&c["y_true"]), &floats(&c["y_pred"]));
        check_regression(c["name"].as_str().unwrap(), &m, &c["expected"]);
    }
}

/// The `target` column of an eval CSV (the last column).
fn targets(rel: &str) -> Vec<f64> {
    let mut r = csv::Reader::from_path(fixtures().join(rel)).unwrap();
    let at = r
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "target")
        .unwrap();
    r.records()
        .map(|rec| rec.unwrap()[at].parse::<f64>().unwrap())
        .collect()
}

#[test]
fn real_models_predictions_match_scikit_learn() {
    for model in [
        "breast_cancer_logreg",
        "breast_cancer_forest",
        "wine_logreg",
    ] {
        let out = load(&format!("golden/{model}.outputs.json"));
        let golden = load(&format!("golden/{model}.metrics.json"));
        let y_true: Vec<i64> = targets(golden["eval_data"].as_str().unwrap())
            .iter()
            .map(|&t| t as i64)
            .collect();
        let labels = ints(&golden["class_labels"]);
        let probs = rows(&out["outputs"]["probabilities"]);
        let scores = Scores {
            class_labels: &labels,
            rows: &probs,
        };
        let m = classification(&y_true, &ints(&out["outputs"]["label"]), Some(&scores), 1);
        check_classification(model, &m, &golden["metrics"]);
    }
    for model in ["diabetes_mlp", "diabetes_linear"] {
        let out = load(&format!("golden/{model}.outputs.json"));
        let golden = load(&format!("golden/{model}.metrics.json"));
        let y_true = targets(golden["eval_data"].as_str().unwrap());
        let pred: Vec<f64> = rows(&out["outputs"]["variable"])
            .iter()
            .map(|r| r[0])
            .collect();
        check_regression(model, &regression(&y_true, &pred), &golden["metrics"]);
    }
}
