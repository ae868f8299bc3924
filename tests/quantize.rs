//! `mlgate quantize` and `mlgate bundle --quantize`: the fixture models quantized with dynamic-int8 agree with
//! their float models on the eval sets and keep their accuracy; the bytes are deterministic (the SHA-256 that
//! `tests/fixtures/quantize/make_golden.py` recorded); tract's outputs on the quantized models match
//! onnxruntime's; bad input is refused with exit 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mlgate::model::{self, DataSpec, EvalOptions, Model};
use mlgate::quantize::{self, GateOptions, MetricSpec, Mode, QuantizeError, QuantizeOptions};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn models() -> PathBuf {
    fixtures().join("models")
}

fn mlgate() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mlgate"));
    c.env("NO_COLOR", "1")
        .env("GITHUB_ACTIONS", "false")
        .env("SOURCE_DATE_EPOCH", "1700000000");
    c
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn gate(data: &str, label: &str) -> GateOptions {
    GateOptions {
        data: DataSpec {
            path: models().join(data),
            label: label.into(),
            features: None,
            format: None,
        },
        eval: EvalOptions {
            latency_runs: 0,
            ..EvalOptions::default()
        },
        metric: MetricSpec::default(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Each classifier keeps its accuracy within half a point and agrees with its float model on at least 98% of
/// the eval rows; the file is at most 0.3x the float one when the weights dominate it.
#[test]
fn dynamic_int8_keeps_accuracy_and_agrees_with_the_float_model() {
    let dir = tempfile::tempdir().unwrap();
    // (model, data, label, largest size ratio)
    let cases = [
        // The MLP's weights are 93% of its file; the rest (biases, graph) stays as it is.
        ("digits_mlp.onnx", "data/digits_flat_test.npz", "y", 0.4),
        ("digits_cnn.onnx", "data/digits_test.npz", "y", 0.3),
    ];
    for (file, data, label, max_ratio) in cases {
        let out = dir.path().join(file.replace(".onnx", ".int8.onnx"));
        let outcome = quantize::quantize_file(&QuantizeOptions {
            model: models().join(file),
            mode: Mode::DynamicInt8,
            output: out.clone(),
            gate: Some(gate(data, label)),
            keep_failed: false,
            calibration: None,
        })
        .unwrap_or_else(|e| panic!("{file}: {e}"));
        let q = &outcome.quantized;
        eprintln!("{file}: {:?} {:?}", outcome.float, q);
        assert!(outcome.passed, "{file}: {:?}", outcome.check);
        assert!(outcome.written && out.exists());
        assert_eq!(outcome.metric.as_ref().unwrap().0, "accuracy");
        let drop = q.drop.unwrap();
        assert!(drop <= 0.005, "{file}: accuracy drop {drop}");
        let agreement = q.argmax_agreement.unwrap();
        assert!(agreement >= 0.98, "{file}: argmax agreement {agreement}");
        let ratio = q.size as f64 / outcome.float.size as f64;
        assert!(ratio <= max_ratio, "{file}: size ratio {ratio}");
        // The written model is the one judged: it loads and evaluates to the reported accuracy.
        let m = Model::load(&out).unwrap();
        let spec = DataSpec {
            path: models().join(data),
            label: label.into(),
            features: None,
            format: None,
        };
        let d = model::input::read(&spec, &m.input.name).unwrap();
        let ev = model::evaluate(
            &m,
            &d,
            &EvalOptions {
                latency_runs: 0,
                ..EvalOptions::default()
            },
        )
        .unwrap();
        assert_eq!(ev.metrics["accuracy"], q.metric, "{file}");
    }
}

/// A regressor is gated on r2 by default; agreement is undefined, the output difference is reported. The
/// diabetes MLP takes unscaled features (ages next to blood serum values) and one activation scale per run cannot
/// hold them all: r2 drops by about 0.07, so the gate fails it and nothing is written.
#[test]
fn a_regressor_is_gated_on_r2() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = quantize::quantize_file(&QuantizeOptions {
        model: models().join("diabetes_mlp.onnx"),
        mode: Mode::DynamicInt8,
        output: dir.path().join("d.onnx"),
        gate: Some(gate("data/diabetes_test.csv", "target")),
        keep_failed: false,
        calibration: None,
    })
    .unwrap();
    assert_eq!(outcome.metric.as_ref().unwrap().0, "r2");
    assert_eq!(outcome.quantized.argmax_agreement, None);
    assert!(outcome.quantized.max_abs_diff.unwrap() > 0.0);
    assert!(!outcome.passed, "{:?}", outcome.check);
    assert!(outcome.quantized.drop.unwrap() > 0.01);
    assert!(!outcome.written && !dir.path().join("d.onnx").exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "the temporary file is removed"
    );
}

/// The same model quantizes to the same bytes as when the golden file was made, and tract's outputs on it are
/// within one output quantization step of onnxruntime's (run in the same batches), with the same argmax.
#[test]
fn quantized_bytes_and_outputs_match_the_onnxruntime_golden() {
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("quantize/golden.json")).unwrap(),
    )
    .unwrap();
    let batch = golden["batch"].as_u64().unwrap() as usize;
    let dir = tempfile::tempdir().unwrap();
    for (file, g) in golden["models"].as_object().unwrap() {
        let bytes = std::fs::read(models().join(file)).unwrap();
        let q = quantize::quantize_bytes(&bytes, Mode::DynamicInt8, file).unwrap();
        assert_eq!(
            hex(&Sha256::digest(&q.bytes)),
            g["sha256"].as_str().unwrap(),
            "{file}: the quantized bytes changed"
        );
        let path = dir.path().join(file);
        std::fs::write(&path, &q.bytes).unwrap();
        let m = Model::load(&path).unwrap();
        let spec = DataSpec {
            path: models().join(g["eval_data"].as_str().unwrap()),
            label: String::new(),
            features: None,
            format: None,
        };
        let mut d = model::input::read(&spec, &m.input.name).unwrap();
        if d.feature_names.last().map(String::as_str) == Some("target") {
            // The CSV's last column is the target, not a feature.
            let spec = DataSpec {
                label: "target".into(),
                ..spec
            };
            d = model::input::read(&spec, &m.input.name).unwrap();
        }
        let plan = model::eval::plan_for(&m, &d, batch).unwrap();
        let (outs, _) = model::eval::run_all(&m, &plan, &d, batch).unwrap();
        for o in &outs {
            let Some(expected) = g["outputs"][&o.name].as_array() else {
                continue;
            };
            let expected: Vec<f64> = expected
                .iter()
                .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
                .collect();
            assert_eq!(expected.len(), o.data.len(), "{file} {}", o.name);
            if !o.dtype.is_float() {
                assert_eq!(o.data, expected, "{file} {}: labels", o.name);
                continue;
            }
            // One step of the output: its range over 255 (uint8 activations), as DynamicQuantizeLinear sees it.
            let range = expected.iter().fold(0f64, |m, v| m.max(v.abs()));
            let step = range / 255.0;
            let worst = o
                .data
                .iter()
                .zip(&expected)
                .map(|(a, b)| (a - b).abs())
                .fold(0f64, f64::max);
            eprintln!(
                "{file} {}: max |tract - ort| {worst:.3e}, step {step:.3e}",
                o.name
            );
            assert!(worst <= step, "{file} {}: {worst} > {step}", o.name);
            if o.width >= 2 {
                for (r, (a, b)) in o
                    .data
                    .chunks(o.width)
                    .zip(expected.chunks(o.width))
                    .enumerate()
                {
                    assert_eq!(
                        model::eval::argmax(a),
                        model::eval::argmax(b),
                        "{file}: row {r}"
                    );
                }
            }
        }
    }
}

/// fp16 (NNEF): the MLP and the regressor keep their metrics (f16 holds the diabetes features that one int8
/// scale per run cannot), the bytes are the same on every run, and the file loads in tract as NNEF.
#[test]
fn fp16_keeps_the_metrics_and_writes_deterministic_nnef() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "digits_mlp.onnx",
            "data/digits_flat_test.npz",
            "y",
            "accuracy",
        ),
        (
            "diabetes_mlp.onnx",
            "data/diabetes_test.csv",
            "target",
            "r2",
        ),
    ];
    for (file, data, label, metric) in cases {
        let out = dir.path().join(file.replace(".onnx", ".fp16.nnef.tgz"));
        let outcome = quantize::quantize_file(&QuantizeOptions {
            model: models().join(file),
            mode: Mode::Fp16,
            output: out.clone(),
            gate: Some(gate(data, label)),
            keep_failed: false,
            calibration: None,
        })
        .unwrap_or_else(|e| panic!("{file}: {e}"));
        eprintln!("{file}: {:?}", outcome.quantized);
        assert!(outcome.passed, "{file}: {:?}", outcome.check);
        assert_eq!(outcome.metric.as_ref().unwrap().0, metric);
        assert!(outcome.quantized.drop.unwrap().abs() <= 0.001, "{file}");
        if metric == "accuracy" {
            assert_eq!(outcome.quantized.argmax_agreement, Some(1.0));
            assert!(outcome.quantized.size * 2 < outcome.float.size + 1000);
        }
        let bytes = std::fs::read(&out).unwrap();
        let again = quantize::fp16_bytes(
            &std::fs::read(models().join(file)).unwrap(),
            &models().join(file),
        )
        .unwrap();
        assert_eq!(again.bytes, bytes, "{file}: fp16 bytes differ between runs");
        let m = Model::load(&out).unwrap();
        assert_eq!(m.format, mlgate::model::ModelFormat::Nnef);
        assert_eq!(m.input.dtype, Some(tract_onnx::prelude::DatumType::F32));
    }
}

#[test]
fn a_model_without_matmul_gemm_or_conv_is_refused() {
    let bytes = std::fs::read(models().join("wine_logreg.onnx")).unwrap();
    let err = quantize::quantize_bytes(&bytes, Mode::DynamicInt8, "wine_logreg.onnx").unwrap_err();
    assert!(
        matches!(err, QuantizeError::NothingToQuantize { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("LinearClassifier"), "{err}");
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("q.onnx");
    let cases: [(&[&str], &str); 6] = [
        (&["bad/not_a_model.onnx"], "not an ONNX model"),
        (&["bad/truncated.onnx"], "not an ONNX model"),
        (&["digits_cnn.tflite"], "it is a TFLite model"),
        (&["wine_logreg.onnx"], "nothing to quantize"),
        (
            // The CNN's eval images against the MLP's flat input.
            &[
                "digits_mlp.onnx",
                "--data",
                "data/digits_test.npz",
                "--label",
                "y",
            ],
            "has another rank",
        ),
        (
            &[
                "digits_mlp.onnx",
                "--data",
                "data/digits_flat_test.npz",
                "--label",
                "y",
                "--metric",
                "mae",
            ],
            "not a metric of this classification model",
        ),
    ];
    for (args, expected) in cases {
        let o = mlgate()
            .current_dir(models())
            .arg("quantize")
            .args(args)
            .args(["--mode", "dynamic-int8", "-o"])
            .arg(&out)
            .output()
            .unwrap();
        let t = text(&o);
        let flat: String = t
            .split(|c: char| c.is_whitespace() || c == '│')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(o.status.code(), Some(2), "{args:?}: {t}");
        assert!(flat.contains(expected), "{args:?}: {t}");
        assert!(!out.exists(), "{args:?}: nothing is written");
    }
    let o = mlgate()
        .current_dir(models())
        .args(["quantize", "digits_mlp.onnx", "--mode", "int4"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("invalid value 'int4'"), "{}", text(&o));
}

/// A variant that fails the gate exits 1 and is not written, unless --keep-failed.
#[test]
fn a_failing_variant_exits_1_and_is_written_only_with_keep_failed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("q.onnx");
    // The diabetes MLP loses 0.07 of r2 (see a_regressor_is_gated_on_r2).
    let args = [
        "quantize",
        "diabetes_mlp.onnx",
        "--mode",
        "dynamic-int8",
        "--data",
        "data/diabetes_test.csv",
        "--label",
        "target",
        "--format",
        "json",
    ];
    let o = mlgate()
        .current_dir(models())
        .args(args)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!out.exists());
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["verdict"], "fail");
    assert_eq!(
        report["checks"][0]["findings"][0]["code"],
        "quantization-drop"
    );
    let o = mlgate()
        .current_dir(models())
        .args(args)
        .arg("-o")
        .arg(&out)
        .arg("--keep-failed")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(out.exists());
}

/// `bundle --quantize` carries the quantized model (precision int8) and the gate's figures in the manifest,
/// byte-identical across runs; a failing gate bundles nothing.
#[test]
fn bundle_quantize_records_the_quantization_in_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let run = |out: &str, max_drop: &str| {
        mlgate()
            .current_dir(models())
            .args([
                "bundle",
                "digits_cnn.onnx",
                "--target",
                "linux-aarch64",
                "--quantize",
                "dynamic-int8",
                "--data",
                "data/digits_test.npz",
                "--label",
                "y",
                "--metric",
                "log_loss",
                &format!("--max-drop={max_drop}"),
                "-o",
            ])
            .arg(dir.path().join(out))
            .output()
            .unwrap()
    };
    let a = run("a", "1");
    assert!(a.status.success(), "{}", text(&a));
    let b = run("b", "1");
    assert!(b.status.success(), "{}", text(&b));
    let name = "digits_cnn-0.0.0-linux-aarch64.tar.gz";
    let bytes_a = std::fs::read(dir.path().join("a").join(name)).unwrap();
    assert_eq!(
        bytes_a,
        std::fs::read(dir.path().join("b").join(name)).unwrap()
    );
    let files = mlgate::edge::archive::read_tar_gz(
        &dir.path().join("a").join(name),
        mlgate::edge::archive::Limits::default(),
    )
    .unwrap();
    assert!(
        files.contains_key("models/digits_cnn.int8.onnx"),
        "{:?}",
        files.keys()
    );
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest["artifacts"][0]["precision"], "int8");
    let q = &manifest["quantization"];
    assert_eq!(q["mode"], "dynamic-int8");
    assert_eq!(q["metric"], "log_loss");
    assert!(q["quantized_size"].as_u64().unwrap() < q["float_size"].as_u64().unwrap());
    assert!(q["argmax_agreement"].as_f64().unwrap() >= 0.98);
    // The bundled model runs.
    let o = mlgate()
        .current_dir(models())
        .arg("run")
        .arg(dir.path().join("a").join(name))
        .args(["--target", "linux-aarch64"])
        .args(["--input", "data/digits_test.npy", "--format", "json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));

    let failed = run("c", "-1");
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed));
    assert!(
        text(&failed).contains("nothing was bundled"),
        "{}",
        text(&failed)
    );
    assert!(!dir.path().join("c").join(name).exists());
}

/// `bundle --quantize fp16` carries the NNEF file (format nnef, precision fp16), which `mlgate run` runs.
#[test]
fn bundle_quantize_fp16_carries_nnef_that_runs() {
    let dir = tempfile::tempdir().unwrap();
    let o = mlgate()
        .current_dir(models())
        .args([
            "bundle",
            "digits_mlp.onnx",
            "--target",
            "linux-armv7",
            "--quantize",
            "fp16",
            "--data",
            "data/digits_flat_test.npz",
            "--label",
            "y",
            "-o",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let bundle = dir.path().join("digits_mlp-0.0.0-linux-armv7.tar.gz");
    let files =
        mlgate::edge::archive::read_tar_gz(&bundle, mlgate::edge::archive::Limits::default())
            .unwrap();
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    let artifact = &manifest["artifacts"][0];
    assert_eq!(artifact["path"], "models/digits_mlp.fp16.nnef.tgz");
    assert_eq!(artifact["format"], "nnef");
    assert_eq!(artifact["precision"], "fp16");
    assert_eq!(manifest["quantization"]["mode"], "fp16");
    assert_eq!(manifest["quantization"]["argmax_agreement"], 1.0);
    // A bundle is gzip too, but not an NNEF model.
    let o = mlgate()
        .current_dir(models())
        .arg("eval")
        .arg(&bundle)
        .args(["--data", "data/digits_flat_test.npz", "--label", "y"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("without graph.nnef"), "{}", text(&o));
    let o = mlgate()
        .current_dir(models())
        .arg("run")
        .arg(&bundle)
        .args(["--target", "linux-armv7"])
        .args(["--input", "data/digits_flat_test.npz", "--format", "json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
}

/// `--mode auto` keeps the smallest variant that passes and that is smaller than the float model: dynamic-int8 for
/// the digits MLP; fp16 for the diabetes MLP, whose int8 variant fails (the output's extension follows the
/// mode); nothing for the logistic regression, which has no int8 variant and whose fp16 file is larger.
#[test]
fn auto_keeps_the_smallest_passing_variant() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "digits_mlp.onnx",
            "data/digits_flat_test.npz",
            "y",
            Some("digits_mlp.int8.onnx"),
        ),
        (
            "diabetes_mlp.onnx",
            "data/diabetes_test.csv",
            "target",
            Some("diabetes_mlp.int8.nnef.tgz"),
        ),
        ("wine_logreg.onnx", "data/wine_test.csv", "target", None),
    ];
    for (file, data, label, written) in cases {
        // -o names the int8 file; fp16 gets the same stem with its own extension.
        let asked = dir.path().join(file.replace(".onnx", ".int8.onnx"));
        let outcome = quantize::quantize_auto(
            &models().join(file),
            Some(&asked),
            &models().join(file),
            &gate(data, label),
            None,
            false,
        )
        .unwrap_or_else(|e| panic!("{file}: {e}"));
        let variants = outcome.check.figures["variants"].as_array().unwrap();
        eprintln!("{file}: {}", outcome.check.summary);
        match written {
            Some(name) => {
                assert!(
                    outcome.passed && outcome.written,
                    "{file}: {:?}",
                    outcome.check
                );
                assert_eq!(outcome.output, dir.path().join(name));
                assert!(outcome.output.exists());
                assert_eq!(variants.len(), 3, "{file}: float and both modes");
            }
            None => {
                assert!(!outcome.passed && !outcome.written, "{file}");
                assert_eq!(variants.len(), 2, "{file}: float and fp16");
                assert_eq!(outcome.check.findings[0].code, "quantization-no-variant");
            }
        }
    }
    assert!(!dir.path().join("wine_logreg.int8.nnef.tgz").exists());
    let o = mlgate()
        .current_dir(models())
        .args([
            "quantize",
            "digits_mlp.onnx",
            "--mode",
            "auto",
            "--data",
            "data/digits_flat_test.npz",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("--mode auto keeps the smallest variant"),
        "{}",
        text(&o)
    );
}

/// `bundle --quantize auto` bundles the chosen variant: fp16 for the diabetes MLP.
#[test]
fn bundle_quantize_auto_bundles_the_chosen_variant() {
    let dir = tempfile::tempdir().unwrap();
    let o = mlgate()
        .current_dir(models())
        .args([
            "bundle",
            "diabetes_mlp.onnx",
            "--target",
            "linux-x86_64",
            "--quantize",
            "auto",
            "--data",
            "data/diabetes_test.csv",
            "--label",
            "target",
            "-o",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let files = mlgate::edge::archive::read_tar_gz(
        &dir.path().join("diabetes_mlp-0.0.0-linux-x86_64.tar.gz"),
        mlgate::edge::archive::Limits::default(),
    )
    .unwrap();
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(
        manifest["artifacts"][0]["path"],
        "models/diabetes_mlp.fp16.nnef.tgz"
    );
    assert_eq!(manifest["quantization"]["mode"], "fp16");
    assert_eq!(manifest["quantization"]["chosen_by_auto"], true);
}

fn calibration(data: &str, label: &str, method: quantize::Calibrate) -> quantize::Calibration {
    quantize::Calibration {
        data: DataSpec {
            path: models().join(data),
            label: label.into(),
            features: None,
            format: None,
        },
        method,
        batch_size: 256,
    }
}

/// The operator types of an ONNX file's graph.
fn op_types(bytes: &[u8]) -> Vec<String> {
    let m = quantize::onnx::decode(bytes).unwrap();
    m.graph
        .unwrap()
        .node
        .into_iter()
        .map(|n| n.op_type)
        .collect()
}

/// static-int8 (minmax and percentile calibration on the eval rows): both digits classifiers keep their
/// accuracy within one point and agree with their float models on at least 99% of the rows; every MatMul and
/// Conv became QLinearMatMul/QLinearConv, Softmax stays float; the file loads in tract and the bytes are the
/// same on a second run.
#[test]
fn static_int8_keeps_accuracy_and_agrees_with_the_float_model() {
    let dir = tempfile::tempdir().unwrap();
    // (model, data, label, largest size ratio, QLinear ops expected)
    let cases = [
        (
            "digits_mlp.onnx",
            "data/digits_flat_test.npz",
            "y",
            0.4,
            &["QLinearMatMul"][..],
        ),
        (
            "digits_cnn.onnx",
            "data/digits_test.npz",
            "y",
            0.31,
            &["QLinearConv", "QLinearMatMul"][..],
        ),
    ];
    for (file, data, label, max_ratio, qops) in cases {
        for method in [quantize::Calibrate::MinMax, quantize::Calibrate::Percentile] {
            let out = dir.path().join(file.replace(".onnx", ".static-int8.onnx"));
            let cal = calibration(data, label, method);
            let outcome = quantize::quantize_file(&QuantizeOptions {
                model: models().join(file),
                mode: Mode::StaticInt8,
                output: out.clone(),
                gate: Some(gate(data, label)),
                keep_failed: false,
                calibration: Some(cal.clone()),
            })
            .unwrap_or_else(|e| panic!("{file} {method:?}: {e}"));
            let q = &outcome.quantized;
            eprintln!("{file} {method:?}: {:?} {:?}", outcome.float, q);
            assert!(outcome.passed, "{file}: {:?}", outcome.check);
            assert!(outcome.written && out.exists());
            let drop = q.drop.unwrap();
            assert!(drop <= 0.01, "{file} {method:?}: accuracy drop {drop}");
            let agreement = q.argmax_agreement.unwrap();
            assert!(
                agreement >= 0.99,
                "{file} {method:?}: argmax agreement {agreement}"
            );
            let ratio = q.size as f64 / outcome.float.size as f64;
            assert!(ratio <= max_ratio, "{file}: size ratio {ratio}");
            let bytes = std::fs::read(&out).unwrap();
            let ops = op_types(&bytes);
            for op in qops {
                assert!(ops.iter().any(|o| o == op), "{file}: no {op} in {ops:?}");
            }
            for op in ["MatMul", "Conv", "Gemm", "QLinearSoftmax"] {
                assert!(!ops.iter().any(|o| o == op), "{file}: {op} left in {ops:?}");
            }
            if file == "digits_mlp.onnx" {
                assert!(ops.iter().any(|o| o == "Softmax"), "{ops:?}");
            }
            // tract loads the written file; the same calibration gives the same bytes.
            Model::load(&out).unwrap();
            let again = quantize::quantize_bytes_with(
                &std::fs::read(models().join(file)).unwrap(),
                Mode::StaticInt8,
                &models().join(file),
                Some(&cal),
            )
            .unwrap();
            assert_eq!(again.bytes, bytes, "{file} {method:?}: not deterministic");
        }
    }
}

/// static-int8 refuses calibration data of the wrong shape, and needs calibration data at all (exit 2, nothing
/// written).
#[test]
fn static_int8_bad_calibration_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("q.onnx");
    let cases: [(&[&str], &str); 2] = [
        (
            // The CNN's images to calibrate the MLP's flat input.
            &[
                "digits_mlp.onnx",
                "--data",
                "data/digits_flat_test.npz",
                "--label",
                "y",
                "--calibration",
                "data/digits_test.npz",
            ],
            "has another rank",
        ),
        (&["digits_mlp.onnx"], "pass --calibration DATA or --data"),
    ];
    for (args, expected) in cases {
        let o = mlgate()
            .current_dir(models())
            .arg("quantize")
            .args(args)
            .args(["--mode", "static-int8", "-o"])
            .arg(&out)
            .output()
            .unwrap();
        let t = text(&o);
        let flat: String = t
            .split(|c: char| c.is_whitespace() || c == '│')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(o.status.code(), Some(2), "{args:?}: {t}");
        assert!(flat.contains(expected), "{args:?}: {t}");
        assert!(!out.exists(), "{args:?}: nothing is written");
    }
}

/// `--mode auto` tries static-int8 when calibration data is given, and not otherwise.
#[test]
fn auto_tries_static_int8_with_calibration_data() {
    let dir = tempfile::tempdir().unwrap();
    let file = "digits_mlp.onnx";
    let asked = dir.path().join("digits_mlp.int8.onnx");
    for (cal, expected) in [
        (None, vec!["float", "dynamic-int8", "fp16"]),
        (
            Some(calibration(
                "data/digits_flat_test.npz",
                "y",
                quantize::Calibrate::MinMax,
            )),
            vec!["float", "dynamic-int8", "static-int8", "fp16"],
        ),
    ] {
        let outcome = quantize::quantize_auto(
            &models().join(file),
            Some(&asked),
            &models().join(file),
            &gate("data/digits_flat_test.npz", "y"),
            cal.as_ref(),
            false,
        )
        .unwrap();
        let names: Vec<&str> = outcome.check.figures["variants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["variant"].as_str().unwrap())
            .collect();
        assert_eq!(names, expected);
        assert!(outcome.passed, "{}", outcome.check.summary);
    }
}

/// static-int8 (minmax, calibrated on the eval inputs): onnxruntime loads the files (make_golden.py) and tract's
/// outputs on them match its outputs, with the same argmax on every row. The bytes are not compared: the ranges
/// come from tract's float kernels, which may round differently on another CPU.
#[test]
fn static_int8_outputs_match_the_onnxruntime_golden() {
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("quantize/golden.json")).unwrap(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cases = golden["static"].as_object().unwrap();
    assert_eq!(cases.len(), 2);
    for (file, g) in cases {
        let data = g["eval_data"].as_str().unwrap();
        let bytes = std::fs::read(models().join(file)).unwrap();
        let cal = calibration(data, "y", quantize::Calibrate::MinMax);
        let q = quantize::quantize_bytes_with(
            &bytes,
            Mode::StaticInt8,
            &models().join(file),
            Some(&cal),
        )
        .unwrap();
        assert_eq!(q.bytes.len() as u64, g["size"].as_u64().unwrap(), "{file}");
        let path = dir.path().join(file);
        std::fs::write(&path, &q.bytes).unwrap();
        let m = Model::load(&path).unwrap();
        let spec = DataSpec {
            path: models().join(data),
            label: "y".into(),
            features: None,
            format: None,
        };
        let d = model::input::read(&spec, &m.input.name).unwrap();
        let plan = model::eval::plan_for(&m, &d, 50).unwrap();
        let (outs, _) = model::eval::run_all(&m, &plan, &d, 50).unwrap();
        let mut compared = 0;
        for o in &outs {
            let Some(expected) = g["outputs"][&o.name].as_array() else {
                continue;
            };
            compared += 1;
            let expected: Vec<f64> = expected
                .iter()
                .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
                .collect();
            assert_eq!(expected.len(), o.data.len(), "{file} {}", o.name);
            if !o.dtype.is_float() {
                assert_eq!(o.data, expected, "{file} {}: labels", o.name);
                continue;
            }
            let worst = o
                .data
                .iter()
                .zip(&expected)
                .map(|(a, b)| (a - b).abs())
                .fold(0f64, f64::max);
            eprintln!("{file} {}: max |tract - ort| {worst:.3e}", o.name);
            assert!(worst <= 1e-5, "{file} {}: {worst}", o.name);
            if o.width >= 2 {
                for (r, (a, b)) in o
                    .data
                    .chunks(o.width)
                    .zip(expected.chunks(o.width))
                    .enumerate()
                {
                    assert_eq!(
                        model::eval::argmax(a),
                        model::eval::argmax(b),
                        "{file}: row {r}"
                    );
                }
            }
        }
        assert!(compared > 0, "{file}: no output compared");
    }
}

/// `bundle --quantize static-int8` (percentile calibration on a separate --calibration file) carries the
/// static-int8 ONNX file, which `mlgate run` runs.
#[test]
fn bundle_quantize_static_int8_carries_a_model_that_runs() {
    let dir = tempfile::tempdir().unwrap();
    let o = mlgate()
        .current_dir(models())
        .args([
            "bundle",
            "digits_mlp.onnx",
            "--target",
            "linux-aarch64",
            "--quantize",
            "static-int8",
            "--calibration",
            "data/digits_flat_test.npz",
            "--calibrate",
            "percentile",
            "--data",
            "data/digits_flat_test.npz",
            "--label",
            "y",
            "-o",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let bundle = dir.path().join("digits_mlp-0.0.0-linux-aarch64.tar.gz");
    let files =
        mlgate::edge::archive::read_tar_gz(&bundle, mlgate::edge::archive::Limits::default())
            .unwrap();
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    let artifact = &manifest["artifacts"][0];
    assert_eq!(artifact["path"], "models/digits_mlp.static-int8.onnx");
    assert_eq!(artifact["precision"], "int8");
    assert_eq!(manifest["quantization"]["mode"], "static-int8");
    let ops = op_types(&files["models/digits_mlp.static-int8.onnx"]);
    assert!(ops.iter().any(|o| o == "QLinearMatMul"), "{ops:?}");
    let o = mlgate()
        .current_dir(models())
        .arg("run")
        .arg(&bundle)
        .args(["--target", "linux-aarch64"])
        .args(["--input", "data/digits_flat_test.npz", "--format", "json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
}
