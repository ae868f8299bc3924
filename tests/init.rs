//! `mlgate init` on repositories made of the committed fixtures: each model's task is the one `mlgate eval` finds,
//! a model that does not load or whose outputs do not tell is said so, the config it writes (an insta snapshot),
//! and `mlgate check` accepts that config as written and with its models block filled in.

mod common;

use std::path::Path;

use common::{ok, text};
use mlgate::init::{init, InitOptions};
use mlgate::model::{self, DataSpec, EvalOptions, Task};
use mlgate::quantize::onnx::{
    encode, node, value_info, GraphProto, ModelProto, OperatorSetIdProto,
};
use mlgate::quantize::onnx_pb::{
    tensor_shape_proto::{dimension, Dimension},
    type_proto, TensorShapeProto, TypeProto, ValueInfoProto,
};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn copy(fixture: &str, repo: &Path, to: &str) {
    let dest = repo.join(to);
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    std::fs::copy(Path::new(FIXTURES).join(fixture), dest).unwrap();
}

fn options(dir: &Path) -> InitOptions {
    InitOptions {
        dir: dir.to_path_buf(),
        force: false,
        action: "mlgate/mlgate@v0".into(),
        default_branch: "main".into(),
        shards: None,
    }
}

/// The `task:` init wrote for each model of the commented `models:` block (`None`: not told).
fn tasks_written(yml: &str) -> Vec<(String, Option<String>)> {
    let mut found: Vec<(String, Option<String>)> = vec![];
    for line in yml.lines().skip_while(|l| *l != "# models:") {
        if let Some(name) = line.strip_prefix("#   ").and_then(|l| l.strip_suffix(':')) {
            if !name.starts_with(' ') {
                found.push((name.to_string(), None));
            }
        }
        if let Some(task) = line.strip_prefix("#     task: ") {
            let task = task.split_whitespace().next().unwrap().to_string();
            found.last_mut().unwrap().1 = Some(task);
        }
    }
    found
}

/// Every fixture model tract loads, with its evaluation data and label column (from models.json): init writes the
/// task that `mlgate eval` then finds on the data, without being told.
#[test]
fn each_fixture_models_task_is_the_one_eval_finds() {
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(FIXTURES).join("models/models.json")).unwrap(),
    )
    .unwrap();
    let repo = tempfile::tempdir().unwrap();
    let mut cases = vec![];
    for m in manifest["models"].as_array().unwrap() {
        let file = m["file"].as_str().unwrap();
        // Not loadable by tract (int8 TFLite): the load-failure case below covers it.
        if file == "digits_cnn_int8.tflite" {
            continue;
        }
        let to = format!(
            "models/{}",
            file.replace('.', "_") + "." + file.rsplit('.').next().unwrap()
        );
        copy(&format!("models/{file}"), repo.path(), &to);
        let data = Path::new(FIXTURES)
            .join("models")
            .join(m["eval_data"].as_str().unwrap());
        cases.push((to, data, m["label_column"].as_str().unwrap().to_string()));
    }
    init(&options(repo.path())).unwrap();
    let yml = std::fs::read_to_string(repo.path().join("mlgate.yml")).unwrap();
    let written = tasks_written(&yml);
    assert_eq!(written.len(), cases.len(), "{yml}");
    for (path, data, label) in &cases {
        let stem = Path::new(path).file_stem().unwrap().to_str().unwrap();
        let task = &written.iter().find(|(name, _)| name == stem).unwrap().1;
        let evaluated = model::evaluate_file(
            &repo.path().join(path),
            &DataSpec {
                path: data.clone(),
                label: label.clone(),
                features: None,
                format: None,
            },
            &EvalOptions {
                latency_runs: 0,
                ..EvalOptions::default()
            },
        )
        .unwrap();
        assert_eq!(
            task.as_deref(),
            Some(evaluated.task.as_str()),
            "{path}: init wrote {task:?}, eval found {:?}\n{yml}",
            evaluated.task
        );
    }
    // The two the issue named: the regressor is no classifier.
    let task_of = |n: &str| {
        written
            .iter()
            .find(|(name, _)| name == n)
            .unwrap()
            .1
            .clone()
    };
    assert_eq!(
        task_of("diabetes_linear_onnx").as_deref(),
        Some(Task::Regression.as_str())
    );
    assert_eq!(task_of("diabetes_mlp_onnx").as_deref(), Some("regression"));
    assert_eq!(
        task_of("breast_cancer_logreg_onnx").as_deref(),
        Some("classification")
    );
    assert_eq!(
        task_of("digits_cnn_tflite").as_deref(),
        Some("classification")
    );
}

/// An ONNX model whose input takes any number of features and whose output is that input (Identity), declared by
/// name only: nothing tells the output's width until data is given, so its task cannot be told.
fn any_width_model() -> Vec<u8> {
    let dim = |v: dimension::Value| Dimension {
        value: Some(v),
        ..Default::default()
    };
    let input = ValueInfoProto {
        name: "X".into(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: 1, // FLOAT
                shape: Some(TensorShapeProto {
                    dim: vec![
                        dim(dimension::Value::DimParam("N".into())),
                        dim(dimension::Value::DimParam("features".into())),
                    ],
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    };
    encode(&ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 17,
        }],
        graph: Some(GraphProto {
            name: "any_width".into(),
            node: vec![node("Identity", "identity", &["X"], &["Y"])],
            input: vec![input],
            output: vec![value_info("Y")],
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// A small repository: a regressor, a classifier, a model that does not load, one whose outputs do not tell its
/// task, a pickle, and the diabetes test split cut in two (train and holdout: the same columns) with the breast
/// cancer test split (the classifier's data).
fn small_repo() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    copy("models/diabetes_linear.onnx", r, "models/regressor.onnx");
    copy(
        "models/breast_cancer_logreg.onnx",
        r,
        "models/classifier.onnx",
    );
    copy("models/bad/truncated.onnx", r, "models/broken.onnx");
    std::fs::write(r.join("models/any_width.onnx"), any_width_model()).unwrap();
    copy("pickles/safe/iris-log1p-p5.pkl", r, "models/legacy.pkl");
    copy(
        "models/data/breast_cancer_test.csv",
        r,
        "data/breast_cancer.csv",
    );
    let diabetes =
        std::fs::read_to_string(Path::new(FIXTURES).join("models/data/diabetes_test.csv")).unwrap();
    let mut lines = diabetes.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    for (name, half) in [("train", 0), ("holdout", 1)] {
        let mut text = format!("{header}\n");
        for row in rows.iter().skip(half).step_by(2) {
            text.push_str(row);
            text.push('\n');
        }
        std::fs::write(r.join(format!("data/{name}.csv")), text).unwrap();
    }
    repo
}

#[test]
fn init_writes_what_it_finds() {
    let repo = small_repo();
    let o = ok(repo.path(), &["init"]);
    let yml = std::fs::read_to_string(repo.path().join("mlgate.yml")).unwrap();
    insta::assert_snapshot!(format!(
        "stdout:\n{}\nstderr:\n{}\nmlgate.yml:\n{yml}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    ));
    let tasks = tasks_written(&yml);
    let expected = [
        ("any_width", None),
        ("broken", None),
        ("classifier", Some("classification")),
        ("regressor", Some("regression")),
    ];
    assert_eq!(
        tasks,
        expected.map(|(n, t)| (n.to_string(), t.map(String::from))),
        "{yml}"
    );
    // What was not told is said, on stderr and in the config, rather than guessed.
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(
            "note: models/any_width.onnx: task not told by its outputs (`Y` any type of any shape: a type or width the graph leaves to the data)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("note: models/broken.onnx: task not told, mlgate could not load it: not a valid ONNX model"),
        "{stderr}"
    );
    assert!(
        yml.contains("#     # task not told by its outputs"),
        "{yml}"
    );
    assert!(
        yml.contains("#     # task not told, mlgate could not load it: "),
        "{yml}"
    );
}

/// The models block uncommented for `keep`, with each one's data, label and gate value filled in.
fn fill_in(yml: &str, keep: &[(&str, &str, &str, &str)]) -> String {
    let mut out = vec![];
    let mut in_models = false;
    let mut kept: Option<&(&str, &str, &str, &str)> = None;
    for line in yml.lines() {
        if line == "# models:" {
            in_models = true;
            out.push("models:".to_string());
            continue;
        }
        if !in_models {
            out.push(line.to_string());
            continue;
        }
        if let Some(name) = line.strip_prefix("#   ").and_then(|l| l.strip_suffix(':')) {
            kept = keep.iter().find(|k| k.0 == name);
        }
        if let Some((_, data, label, value)) = kept {
            out.push(
                line[2..]
                    .replace("DATA_FILE", data)
                    .replace("LABEL_COLUMN", label)
                    .replace("VALUE", value),
            );
        }
    }
    out.join("\n") + "\n"
}

/// init never writes a config mlgate then refuses: `mlgate check` passes it as written, and once the models block
/// is filled in as its comments say (the data, the label column, a gate value), the models are evaluated with the
/// task init wrote.
#[test]
fn check_accepts_the_config_init_writes() {
    let repo = small_repo();
    ok(repo.path(), &["init"]);
    let o = ok(repo.path(), &["check"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("pass  holdout/drift"), "{}", text(&o));
    assert!(
        out.contains("pass  models/legacy.pkl/artifact-safety"),
        "{}",
        text(&o)
    );

    let yml = std::fs::read_to_string(repo.path().join("mlgate.yml")).unwrap();
    let filled = fill_in(
        &yml,
        &[
            ("classifier", "data/breast_cancer.csv", "target", "0.9"),
            ("regressor", "data/holdout.csv", "target", "0.2"),
        ],
    );
    std::fs::write(repo.path().join("mlgate.yml"), &filled).unwrap();
    let o = common::run(repo.path(), &["check", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{filled}\n{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let metric = |subject: &str| {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["subject"] == subject && c["kind"] == "metric")
            .unwrap_or_else(|| panic!("no metric check of {subject}: {report}"))
            .clone()
    };
    assert_eq!(metric("classifier")["status"], "pass");
    assert_eq!(metric("regressor")["status"], "pass");
}
