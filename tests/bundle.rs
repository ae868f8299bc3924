//! Edge bundles: deterministic bytes, what a device checks, and the archives it refuses.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mlgate::edge::archive::{read_tar_gz, Limits};
use mlgate::edge::{check_bundle, CheckOptions};
use mlgate::sign::PublicKey;

mod common;
use common::{flat, mlgate, model, text};

/// A folder with a key pair and a passing report.
fn workdir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let o = mlgate()
        .current_dir(d.path())
        .arg("keygen")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let report = serde_json::json!({"version": 1, "verdict": "pass", "checks": [{
        "id": "wine/metric", "kind": "metric", "subject": "wine", "status": "pass", "summary": "",
        "figures": {"metrics": [{"name": "accuracy", "value": 0.9777}]}, "findings": []}]});
    std::fs::write(d.path().join("report.json"), report.to_string()).unwrap();
    d
}

fn bundle(dir: &Path, out: &str, signed: bool) -> PathBuf {
    let mut c = mlgate();
    c.current_dir(dir)
        .arg("bundle")
        .arg(model())
        .args([
            "--target",
            "linux-aarch64",
            "--name",
            "wine",
            "--bundle-version",
            "1.2.0",
        ])
        .args([
            "--labels",
            "class_0,class_1,class_2",
            "--report",
            "report.json",
            "-o",
            out,
        ]);
    if signed {
        c.args([
            "--key",
            "mlgate.key",
            "--commit",
            "0123456789abcdef0123456789abcdef01234567",
        ]);
    }
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    dir.join(out).join("wine-1.2.0-linux-aarch64.tar.gz")
}

#[test]
fn bundles_are_byte_identical_across_runs() {
    let d = workdir();
    for signed in [false, true] {
        let a = std::fs::read(bundle(d.path(), "a", signed)).unwrap();
        let b = std::fs::read(bundle(d.path(), "b", signed)).unwrap();
        assert_eq!(a, b, "signed: {signed}");
    }
    let files = read_tar_gz(
        &d.path().join("a/wine-1.2.0-linux-aarch64.tar.gz"),
        Limits::default(),
    )
    .unwrap();
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "SHA256SUMS",
            "SHA256SUMS.minisig",
            "attestation.intoto.jsonl",
            "manifest.json",
            "manifest.json.minisig",
            "models/wine_logreg.onnx",
            "models/wine_logreg.onnx.minisig"
        ]
    );
    let manifest: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest["target"], "linux-aarch64");
    assert_eq!(manifest["artifacts"][0]["format"], "onnx");
    assert_eq!(manifest["artifacts"][0]["precision"], "fp32");
    assert_eq!(manifest["labels"][2], "class_2");
    assert_eq!(manifest["metrics"]["accuracy"], 0.9777);
    assert_eq!(manifest["min_tract_version"], "0.23.9");
}

#[test]
fn system_tools_read_the_bundle() {
    // GNU tar extracts it, and `sha256sum -c` accepts its SHA256SUMS: no mlgate needed on the device to check.
    let d = workdir();
    let b = bundle(d.path(), "out", false);
    let x = d.path().join("x");
    std::fs::create_dir(&x).unwrap();
    let o = Command::new("tar")
        .arg("xzf")
        .arg(&b)
        .arg("-C")
        .arg(&x)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&x)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = Command::new("tar").arg("tvzf").arg(&b).output().unwrap();
    let listing = String::from_utf8_lossy(&o.stdout);
    assert!(
        listing.lines().all(|l| l.starts_with("-rw-r--r-- 0/0")),
        "{listing}"
    );
    assert!(listing.contains("1980-01-01"), "{listing}");
}

#[test]
fn a_device_checks_digests_signatures_and_the_attestation() {
    let d = workdir();
    let b = bundle(d.path(), "out", true);
    let key = PublicKey::load(&d.path().join("mlgate.pub")).unwrap();
    let with = |keys: Vec<PublicKey>| CheckOptions {
        keys,
        ..CheckOptions::default()
    };
    let ok = check_bundle(&b, &with(vec![key.clone()])).unwrap();
    assert_eq!(
        ok.report.verdict,
        mlgate::report::Verdict::Pass,
        "{}",
        ok.report.to_json()
    );

    // Another key: every signature is refused, with the key IDs.
    let other = tempfile::tempdir().unwrap();
    let o = mlgate()
        .current_dir(other.path())
        .arg("keygen")
        .output()
        .unwrap();
    assert!(o.status.success());
    let wrong = PublicKey::load(&other.path().join("mlgate.pub")).unwrap();
    // The list's signature is checked first, and nothing after an untrusted list is read.
    let bad = check_bundle(&b, &with(vec![wrong])).unwrap();
    assert_eq!(bad.report.verdict, mlgate::report::Verdict::Fail);
    let json = bad.report.to_json();
    assert!(
        json.contains("key-mismatch") && json.contains("nothing after it was read"),
        "{json}"
    );

    // An unsigned bundle is refused when keys are pinned.
    let u = bundle(d.path(), "plain", false);
    let r = check_bundle(&u, &with(vec![key])).unwrap();
    assert!(
        r.report
            .to_json()
            .contains("entry 2 is manifest.json, expected SHA256SUMS.minisig"),
        "{}",
        r.report.to_json()
    );
}

#[test]
fn a_model_that_does_not_match_the_manifest_is_refused() {
    // Rebuilt by hand with another model under the same name and a matching SHA256SUMS: only the manifest
    // still names the approved model's digest.
    let d = workdir();
    let b = bundle(d.path(), "out", false);
    let mut files = read_tar_gz(&b, Limits::default()).unwrap();
    files.insert(
        "models/wine_logreg.onnx".into(),
        b"not the approved model".to_vec(),
    );
    let sums: String = files
        .iter()
        .filter(|(n, _)| n.as_str() != "SHA256SUMS")
        .map(|(n, bytes)| format!("{}  {n}\n", sha256_hex(bytes)))
        .collect();
    files.insert("SHA256SUMS".into(), sums.into_bytes());
    let forged = d.path().join("forged.tar.gz");
    std::fs::write(
        &forged,
        mlgate::edge::archive::write_tar_gz(&files).unwrap(),
    )
    .unwrap();
    let r = check_bundle(&forged, &CheckOptions::default()).unwrap();
    let json = r.report.to_json();
    assert_eq!(r.report.verdict, mlgate::report::Verdict::Fail, "{json}");
    assert!(json.contains("manifest-mismatch"), "{json}");
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    mlgate::sign::hex(&sha2::Sha256::digest(b))
}

/// A tar.gz with raw headers, so that names and kinds the tar crate would refuse to write can be tested.
fn raw_tar_gz(entries: &[(&str, tar::EntryType, &[u8], Option<&str>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, kind, data, link) in entries {
        let mut h = tar::Header::new_old();
        {
            let old = h.as_old_mut();
            old.name[..name.len()].copy_from_slice(name.as_bytes());
            if let Some(l) = link {
                old.linkname[..l.len()].copy_from_slice(l.as_bytes());
            }
        }
        h.set_entry_type(*kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &out).unwrap();
    gz.finish().unwrap()
}

#[test]
fn hostile_archives_are_refused_with_the_entry_named() {
    use tar::EntryType::{Link, Regular, Symlink};
    let d = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "dotdot",
            raw_tar_gz(&[("../evil", Regular, b"x", None)]),
            "\"../evil\": a `..` component",
        ),
        (
            "nested dotdot",
            raw_tar_gz(&[("models/../../evil", Regular, b"x", None)]),
            "a `..` component",
        ),
        (
            "absolute",
            raw_tar_gz(&[("/etc/evil", Regular, b"x", None)]),
            "an absolute path",
        ),
        (
            "symlink",
            raw_tar_gz(&[("models/m.onnx", Symlink, b"", Some("/etc/passwd"))]),
            "is a symbolic link (to /etc/passwd)",
        ),
        (
            "hard link",
            raw_tar_gz(&[("a", Regular, b"x", None), ("b", Link, b"", Some("a"))]),
            "is a hard link (to a)",
        ),
        (
            "duplicate",
            raw_tar_gz(&[
                ("manifest.json", Regular, b"{}", None),
                ("manifest.json", Regular, b"{}", None),
            ]),
            "appears twice",
        ),
        (
            "oversized",
            raw_tar_gz(&[("big.bin", Regular, &[0u8; 4096], None)]),
            "over the limit of 1000 bytes",
        ),
    ];
    let limits = Limits {
        max_entry_bytes: 1000,
        ..Limits::default()
    };
    for (what, bytes, expected) in cases {
        let p = d.path().join(format!("{}.tar.gz", what.replace(' ', "_")));
        std::fs::write(&p, bytes).unwrap();
        let err = read_tar_gz(&p, limits).expect_err(what).to_string();
        assert!(err.contains(expected), "{what}: {err}");
        assert!(err.contains(&p.display().to_string()), "{what}: {err}");
        // Nothing was written anywhere: the reader only reads.
        assert!(!d.path().join("evil").exists() && !Path::new("/etc/evil").exists());
    }
    // Not a tar.gz at all.
    let p = d.path().join("junk.tar.gz");
    std::fs::write(&p, b"junk").unwrap();
    assert!(read_tar_gz(&p, limits)
        .unwrap_err()
        .to_string()
        .contains("refused"));
}

#[test]
fn bundle_command_errors() {
    let d = workdir();
    let o = mlgate()
        .current_dir(d.path())
        .arg("bundle")
        .arg(model())
        .args(["--target", "windows"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains(
            "unknown target \"windows\": the targets are linux-x86_64, linux-aarch64, linux-armv7"
        ),
        "{}",
        text(&o)
    );
    let o = mlgate()
        .current_dir(d.path())
        .arg("bundle")
        .arg(model())
        .args(["--target", "linux-armv7", "--key", "mlgate.key"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(flat(&o).contains("pass --report"), "{}", text(&o));
    std::fs::write(
        d.path().join("fail.json"),
        r#"{"version": 1, "verdict": "fail", "checks": []}"#,
    )
    .unwrap();
    let o = mlgate()
        .current_dir(d.path())
        .arg("bundle")
        .arg(model())
        .args(["--target", "linux-armv7", "--report", "fail.json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(flat(&o).contains("nothing was bundled"), "{}", text(&o));
    std::fs::write(d.path().join("notes.txt"), b"hello").unwrap();
    let o = mlgate()
        .current_dir(d.path())
        .args(["bundle", "notes.txt", "--target", "linux-armv7"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains("neither an ONNX nor a TFLite model (it starts with `hello`)"),
        "{}",
        text(&o)
    );
    assert!(std::fs::read_dir(d.path()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".tar.gz")));
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models")
}

const WINE_FEATURES: &str =
    "alcohol,malic_acid,ash,alcalinity_of_ash,magnesium,total_phenols,flavanoids,\
nonflavanoid_phenols,proanthocyanins,color_intensity,hue,od280_od315_of_diluted_wines,proline";

#[test]
fn run_checks_the_bundle_then_predicts_what_onnxruntime_predicts() {
    let d = workdir();
    let b = bundle(d.path(), "out", true);
    let o = mlgate()
        .current_dir(d.path())
        .arg("run")
        .arg(&b)
        .arg("--input")
        .arg(fixtures().join("data/wine_test.csv"))
        .args([
            "--features",
            WINE_FEATURES,
            "--pubkey",
            "mlgate.pub",
            "--target",
            "linux-aarch64",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(out["report"]["verdict"], "pass");
    let golden: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("golden/wine_logreg.outputs.json")).unwrap(),
    )
    .unwrap();
    let want: Vec<String> = golden["outputs"]["label"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| format!("class_{}", l.as_i64().unwrap()))
        .collect();
    let got: Vec<String> = out["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["prediction"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, want);
    // Every row's probabilities, each class, against onnxruntime's.
    let rows = out["predictions"].as_array().unwrap();
    let golden_rows = golden["outputs"]["probabilities"].as_array().unwrap();
    assert_eq!(rows.len(), golden_rows.len());
    for (r, (p, g)) in rows.iter().zip(golden_rows).enumerate() {
        let (scores, golden_p) = (p["scores"].as_array().unwrap(), g.as_array().unwrap());
        assert_eq!(scores.len(), golden_p.len(), "row {r}");
        for (a, b) in scores.iter().zip(golden_p) {
            assert!(
                (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-4,
                "row {r}: {a} vs {b}"
            );
        }
    }

    // The manifest describes the model's tensors.
    let files = read_tar_gz(&b, Limits::default()).unwrap();
    let m: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(m["inputs"][0]["dtype"], "float32");
    assert_eq!(m["inputs"][0]["shape"][1], 13);
    assert_eq!(m["outputs"][1]["shape"][1], 3, "{}", m["outputs"]);
}

#[test]
fn run_refuses_a_bundle_signed_by_another_key() {
    let d = workdir();
    let b = bundle(d.path(), "out", true);
    let other = tempfile::tempdir().unwrap();
    let o = mlgate()
        .current_dir(other.path())
        .arg("keygen")
        .output()
        .unwrap();
    assert!(o.status.success());
    let o = mlgate()
        .current_dir(d.path())
        .arg("run")
        .arg(&b)
        .arg("--input")
        .arg(fixtures().join("data/wine_test.csv"))
        .args([
            "--features",
            WINE_FEATURES,
            "--target",
            "linux-aarch64",
            "--pubkey",
        ])
        .arg(other.path().join("mlgate.pub"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("key-mismatch"), "{}", text(&o));
    assert!(
        !text(&o).contains("prediction"),
        "a refused bundle is not run: {}",
        text(&o)
    );
}

#[test]
fn run_takes_numpy_input_for_an_image_model() {
    let d = tempfile::tempdir().unwrap();
    let o = mlgate()
        .current_dir(d.path())
        .arg("bundle")
        .arg(fixtures().join("digits_cnn.onnx"))
        .args(["--target", "linux-x86_64", "-o", "."])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = mlgate()
        .current_dir(d.path())
        .args([
            "run",
            "digits_cnn-0.0.0-linux-x86_64.tar.gz",
            "--target",
            "linux-x86_64",
            "--input",
        ])
        .arg(fixtures().join("data/digits_test.npy"))
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let golden: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("golden/digits_cnn.outputs.json")).unwrap(),
    )
    .unwrap();
    let preds = out["predictions"].as_array().unwrap();
    assert_eq!(preds.len(), 450);
    let outputs = golden["outputs"].as_object().unwrap();
    let probs = outputs.values().find(|v| v[0].is_array()).unwrap();
    for (p, g) in preds.iter().zip(probs.as_array().unwrap()) {
        let g: Vec<f64> = g
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let best = (0..g.len()).fold(0, |b, i| if g[i] > g[b] { i } else { b });
        assert_eq!(p["prediction"], best as u64);
    }
}

/// A full-integer int8 TFLite made by TensorFlow's converter (`make_int8_tflite.py`): tract cannot load it, so it is
/// bundled as it is, described from its flatbuffer, and `mlgate run` refuses it.
#[test]
fn a_quantized_tflite_model_is_bundled_as_it_is_and_not_run() {
    let d = tempfile::tempdir().unwrap();
    let src = fixtures().join("digits_cnn_int8.tflite");
    let o = mlgate()
        .current_dir(d.path())
        .arg("bundle")
        .arg(&src)
        .args(["--target", "linux-aarch64", "-o", "."])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let b = d.path().join("digits_cnn_int8-0.0.0-linux-aarch64.tar.gz");
    let files = read_tar_gz(&b, Limits::default()).unwrap();
    assert_eq!(
        files["models/digits_cnn_int8.tflite"],
        std::fs::read(&src).unwrap(),
        "packaged as it is"
    );
    let m: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    let a = &m["artifacts"][0];
    assert_eq!(a["format"], "tflite");
    assert_eq!(a["precision"], "int8");
    assert_eq!(a["evaluable_by_tract"], false);

    // The tensors are the ones TensorFlow Lite reports (models.json, written by tf.lite.Interpreter).
    let fixtures_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("models.json")).unwrap())
            .unwrap();
    let entry = fixtures_json["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["file"] == "digits_cnn_int8.tflite")
        .unwrap();
    assert_eq!(a["sha256"], entry["sha256"]);
    for side in ["inputs", "outputs"] {
        let (got, want) = (&m[side][0], &entry[side][0]);
        assert_eq!(got["name"], want["name"], "{side}");
        assert_eq!(got["dtype"], "int8", "{side}");
        assert_eq!(got["shape"], want["shape"], "{side}");
        assert_eq!(
            got["quantization"]["zero_point"],
            want["quantization"]["zero_point"]
        );
        let (g, w) = (
            got["quantization"]["scale"].as_f64().unwrap(),
            want["quantization"]["scale"].as_f64().unwrap(),
        );
        assert!((g - w).abs() <= w * 1e-6, "{side}: scale {g} against {w}");
    }
    assert_eq!(m["inputs"][0]["shape"], serde_json::json!([1, 8, 8, 1]));

    // `mlgate run` checks the bundle, then refuses to run what tract cannot run: exit 2, no predictions.
    let o = mlgate()
        .current_dir(d.path())
        .arg("run")
        .arg(&b)
        .args(["--target", "linux-aarch64", "--input"])
        .arg(fixtures().join("data/digits_test.npy"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let all = flat(&o);
    assert!(
        all.contains("tract cannot run the model in this bundle")
            && all.contains("models/digits_cnn_int8.tflite (tflite int8)"),
        "{all}"
    );
    assert!(!all.contains("prediction\""), "{all}");

    // A float TFLite model tract runs keeps its fp32 precision and stays evaluable.
    let o = mlgate()
        .current_dir(d.path())
        .arg("bundle")
        .arg(fixtures().join("digits_cnn.tflite"))
        .args(["--target", "linux-aarch64", "-o", "."])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let files = read_tar_gz(
        &d.path().join("digits_cnn-0.0.0-linux-aarch64.tar.gz"),
        Limits::default(),
    )
    .unwrap();
    let m: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(m["artifacts"][0]["precision"], "fp32");
    assert_eq!(m["artifacts"][0]["evaluable_by_tract"], true);
    assert_eq!(m["inputs"][0]["dtype"], "float32");
    assert!(m["inputs"][0].get("quantization").is_none());
}

#[test]
fn a_truncated_tflite_model_is_not_bundled() {
    let d = tempfile::tempdir().unwrap();
    let o = mlgate()
        .current_dir(d.path())
        .arg("bundle")
        .arg(fixtures().join("bad/truncated.tflite"))
        .args(["--target", "linux-aarch64", "-o", "."])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains("not a valid TFLite flatbuffer"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
}

/// The first `rows` rows of a fixture table without its last column (the label): a self-test input.
fn golden_rows(table: &str, rows: usize, dest: &Path) {
    let text = std::fs::read_to_string(fixtures().join("data").join(table)).unwrap();
    let cut: String = text
        .lines()
        .take(rows + 1)
        .map(|l| format!("{}\n", &l[..l.rfind(',').unwrap()]))
        .collect();
    std::fs::write(dest, cut).unwrap();
}

fn run_selftest(dir: &Path, bundle: &Path, extra: &[&str]) -> Output {
    mlgate()
        .current_dir(dir)
        .arg("run")
        .arg(bundle)
        .args(["--selftest", "--target", "linux-aarch64"])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn a_selftest_is_packed_signed_and_run() {
    let d = workdir();
    let p = d.path();
    golden_rows("wine_test.csv", 5, &p.join("golden.csv"));
    let o = mlgate()
        .current_dir(p)
        .arg("bundle")
        .arg(model())
        .args([
            "--target",
            "linux-aarch64",
            "--name",
            "wine",
            "--bundle-version",
            "1.2.0",
        ])
        .args(["--report", "report.json", "-o", "st", "--key", "mlgate.key"])
        .args(["--commit", "0123456789abcdef0123456789abcdef01234567"])
        .args(["--selftest", "golden.csv", "--selftest-tolerance", "1e-5"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let b = p.join("st/wine-1.2.0-linux-aarch64.tar.gz");
    let files = read_tar_gz(&b, Limits::default()).unwrap();
    for entry in [
        "selftest/input.csv",
        "selftest/input.csv.minisig",
        "selftest/expected.json",
        "selftest/expected.json.minisig",
    ] {
        assert!(files.contains_key(entry), "{entry}: {:?}", files.keys());
    }
    let sums = String::from_utf8(files["SHA256SUMS"].clone()).unwrap();
    assert!(sums.contains("  selftest/input.csv\n"), "{sums}");
    assert!(sums.contains("  selftest/expected.json\n"), "{sums}");
    let m: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(
        m["selftest"],
        serde_json::json!({"input": "selftest/input.csv", "expected": "selftest/expected.json", "rows": 5,
            "atol": 1e-5, "rtol": 1e-4})
    );
    let expected: serde_json::Value =
        serde_json::from_slice(&files["selftest/expected.json"]).unwrap();
    assert_eq!(expected["outputs"][1]["width"], 3, "{expected}");
    assert_eq!(
        expected["outputs"][1]["values"].as_array().unwrap().len(),
        15
    );
    // The attestation names the self-test's files like the model.
    let att = String::from_utf8(files["attestation.intoto.jsonl"].clone()).unwrap();
    let env: serde_json::Value = serde_json::from_str(att.trim()).unwrap();
    let payload = base64_decode(env["payload"].as_str().unwrap());
    assert!(payload.contains("selftest/expected.json"), "{payload}");

    let o = run_selftest(p, &b, &["--pubkey", "mlgate.pub"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let f = flat(&o);
    assert!(
        f.contains(
            "self-test passed: 20 values compared (atol 0.00001, rtol 0.0001); worst difference"
        ),
        "{f}"
    );
    let o = run_selftest(p, &b, &["--pubkey", "mlgate.pub", "--format", "json"]);
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let check = out["report"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "selftest")
        .unwrap()
        .clone();
    assert_eq!(check["status"], "pass", "{check}");
    assert_eq!(check["figures"]["values"], 20);

    // A tampered expected output is refused by the digests before anything runs.
    let mut tampered = files.clone();
    let bytes = tampered.get_mut("selftest/expected.json").unwrap();
    let at = bytes.iter().position(|b| b.is_ascii_digit()).unwrap();
    bytes[at] = if bytes[at] == b'9' { b'8' } else { b'9' };
    let t = p.join("tampered.tar.gz");
    std::fs::write(&t, mlgate::edge::archive::write_tar_gz(&tampered).unwrap()).unwrap();
    let o = run_selftest(p, &t, &["--pubkey", "mlgate.pub"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(flat(&o).contains("selftest/expected.json"), "{}", text(&o));
    assert!(!flat(&o).contains("self-test passed"), "{}", text(&o));
}

fn base64_decode(s: &str) -> String {
    use base64::Engine;
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(s).unwrap()).unwrap()
}

#[test]
fn a_selftest_packed_with_another_model_fails_with_the_worst_difference() {
    let d = workdir();
    let p = d.path();
    let golden = p.join("golden.csv");
    golden_rows("breast_cancer_test.csv", 8, &golden);
    // The expected outputs come from the forest; the bundle carries the logistic regression, which gives other
    // probabilities on the same rows. The library allows it (expected outputs are data, signed like the rest):
    // it is what a self-test is there to catch.
    let forest = fixtures().join("breast_cancer_forest.onnx");
    let logreg = fixtures().join("breast_cancer_logreg.onnx");
    let selftest = mlgate::edge::selftest::prepare(&forest, &golden, 1e-4, 1e-4).unwrap();
    let described = mlgate::edge::describe::describe(&logreg).unwrap();
    let built = mlgate::edge::build_bundle(&mlgate::edge::BundleOptions {
        model: logreg,
        name: "cancer".into(),
        version: "1.0.0".into(),
        target: mlgate::edge::Target::named("linux-aarch64").unwrap(),
        inputs: described.inputs,
        outputs: described.outputs,
        evaluable_by_tract: true,
        labels: vec![],
        preprocessing: None,
        report: None,
        signing: None,
        precision: None,
        quantization: None,
        selftest: Some(selftest),
        oms_key: None,
    })
    .unwrap();
    let b = p.join(&built.file_name);
    std::fs::write(&b, &built.bytes).unwrap();
    let o = run_selftest(p, &b, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let f = flat(&o);
    assert!(f.contains("self-test failed: "), "{f}");
    assert!(f.contains("worst difference"), "{f}");
    assert!(f.contains("at output "), "{f}");

    // Without a self-test, `run --selftest` says so (exit 2).
    let plain = bundle(p, "plain", false);
    let o = run_selftest(p, &plain, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains("the bundle has no self-test"),
        "{}",
        text(&o)
    );
}

#[test]
fn selftest_input_errors() {
    let d = workdir();
    let p = d.path();
    let bundle_with = |data: &str| {
        mlgate()
            .current_dir(p)
            .arg("bundle")
            .arg(model())
            .args(["--target", "linux-aarch64", "-o", "out", "--selftest", data])
            .output()
            .unwrap()
    };
    std::fs::write(p.join("big.csv"), vec![b'1'; (1 << 20) + 1]).unwrap();
    let o = bundle_with("big.csv");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains("big.csv: the self-test input is 1048577 bytes, over the limit of 1048576 bytes (1 MiB)"),
        "{}",
        text(&o)
    );
    std::fs::write(p.join("golden"), "a,b\n1,2\n").unwrap();
    let o = bundle_with("golden");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains("golden: the self-test input has no file extension"),
        "{}",
        text(&o)
    );
    let o = bundle_with("missing.csv");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(flat(&o).contains("missing.csv"), "{}", text(&o));
    // The label column left in: the model's input does not fit, said before anything is written.
    let o = bundle_with(fixtures().join("data/wine_test.csv").to_str().unwrap());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!p.join("out").exists());
    golden_rows("wine_test.csv", 2, &p.join("g.csv"));
    let o = mlgate()
        .current_dir(p)
        .arg("bundle")
        .arg(model())
        .args([
            "--target",
            "linux-aarch64",
            "--selftest",
            "g.csv",
            "--selftest-tolerance=-1",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        flat(&o).contains("tolerance must be a finite number >= 0"),
        "{}",
        text(&o)
    );
}

/// `workdir()` with P-256 keys `oms` and `other`, and a bundle signed with mlgate.key that carries the model's
/// OMS signature made with oms.key (built with `--oms-key` into `out`).
fn oms_workdir() -> (tempfile::TempDir, PathBuf) {
    let d = workdir();
    for name in ["oms", "other"] {
        let o = mlgate()
            .current_dir(d.path())
            .args(["keygen", "--algorithm", "p256", "--name", name])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
    }
    let b = oms_bundle(d.path(), "out");
    (d, b)
}

fn oms_bundle(dir: &Path, out: &str) -> PathBuf {
    let o = mlgate()
        .current_dir(dir)
        .arg("bundle")
        .arg(model())
        .args(["--target", "linux-aarch64", "--name", "wine"])
        .args(["--bundle-version", "1.2.0", "--report", "report.json"])
        .args(["--key", "mlgate.key", "--commit", "0123456789abcdef"])
        .args(["--oms-key", "oms.key", "-o", out])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    dir.join(out).join("wine-1.2.0-linux-aarch64.tar.gz")
}

fn run_wine(dir: &Path, bundle: &Path, extra: &[&str]) -> Output {
    mlgate()
        .current_dir(dir)
        .arg("run")
        .arg(bundle)
        .arg("--input")
        .arg(fixtures().join("data/wine_test.csv"))
        .args(["--features", WINE_FEATURES, "--target", "linux-aarch64"])
        .args(extra)
        .output()
        .unwrap()
}

/// The bundle at `from` with `edit` applied, rewritten unsigned with SHA256SUMS and the manifest made to match:
/// what anyone can make, so only the OMS signature stands between it and the device.
fn reforged(
    from: &Path,
    to: &Path,
    edit: impl FnOnce(&mut std::collections::BTreeMap<String, Vec<u8>>),
) {
    let mut files = read_tar_gz(from, Limits::default()).unwrap();
    files.retain(|n, _| !n.ends_with(".minisig") && n != "attestation.intoto.jsonl");
    edit(&mut files);
    let model = &files["models/wine_logreg.onnx"];
    let mut manifest: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    manifest["artifacts"][0]["sha256"] = sha256_hex(model).into();
    manifest["artifacts"][0]["size"] = model.len().into();
    files.insert(
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    );
    files.remove("SHA256SUMS");
    let sums: String = files
        .iter()
        .map(|(n, b)| format!("{}  {n}\n", sha256_hex(b)))
        .collect();
    files.insert("SHA256SUMS".into(), sums.into_bytes());
    std::fs::write(to, mlgate::edge::archive::write_tar_gz(&files).unwrap()).unwrap();
}

#[test]
fn a_bundle_carries_the_models_oms_signature_and_run_checks_it() {
    let (d, b) = oms_workdir();
    let p = d.path();
    // Deterministic (ECDSA per RFC 6979), listed and signed like every entry.
    let again = oms_bundle(p, "again");
    assert_eq!(std::fs::read(&b).unwrap(), std::fs::read(&again).unwrap());
    let files = read_tar_gz(&b, Limits::default()).unwrap();
    assert!(files.contains_key("models/wine_logreg.onnx.sig.minisig"));
    let sums = String::from_utf8(files["SHA256SUMS"].clone()).unwrap();
    assert!(sums.contains("  models/wine_logreg.onnx.sig\n"), "{sums}");

    let o = run_wine(
        p,
        &b,
        &["--pubkey", "mlgate.pub", "--oms-pubkey", "oms.pub.pem"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        flat(&o).contains("1 OMS signature(s) verify with a pinned P-256 key and match the model"),
        "{}",
        text(&o)
    );
    // Present, no OMS key pinned: held against the model's digest, and said to be unverified.
    let o = run_wine(p, &b, &["--pubkey", "mlgate.pub"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        flat(&o).contains("NOT verified: no --oms-pubkey"),
        "{}",
        text(&o)
    );

    // Another key.
    let o = run_wine(
        p,
        &b,
        &["--pubkey", "mlgate.pub", "--oms-pubkey", "other.pub.pem"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        flat(&o).contains("models/wine_logreg.onnx.sig: signed by another key"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("prediction"), "{}", text(&o));

    // A pinned OMS key requires the signature.
    let plain = bundle(p, "plain", true);
    let o = run_wine(
        p,
        &plain,
        &["--pubkey", "mlgate.pub", "--oms-pubkey", "oms.pub.pem"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        flat(&o).contains("--oms-pubkey pins an OMS key, but the bundle carries no OMS signature of models/wine_logreg.onnx"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_changed_model_or_a_signature_over_other_files_is_refused() {
    let (d, b) = oms_workdir();
    let p = d.path();
    // The model changed, SHA256SUMS and the manifest rewritten to match: the OMS signature refuses it.
    let changed = p.join("changed.tar.gz");
    reforged(&b, &changed, |f| {
        f.get_mut("models/wine_logreg.onnx").unwrap().push(0);
    });
    for pinned in [true, false] {
        let extra: &[&str] = if pinned {
            &["--oms-pubkey", "oms.pub.pem"]
        } else {
            &[]
        };
        let o = run_wine(p, &changed, extra);
        assert_eq!(o.status.code(), Some(1), "pinned {pinned}: {}", text(&o));
        assert!(
            flat(&o).contains("the OMS signature signs")
                && flat(&o).contains("the model changed after signing"),
            "{}",
            text(&o)
        );
    }
    // A valid signature by the pinned key, over a folder rather than the bundle's one model file.
    let folder = p.join("folder");
    std::fs::create_dir(&folder).unwrap();
    std::fs::copy(model(), folder.join("wine_logreg.onnx")).unwrap();
    std::fs::write(folder.join("config.json"), b"{}").unwrap();
    let o = mlgate()
        .current_dir(p)
        .args([
            "sign",
            "--format",
            "oms",
            "folder",
            "--key",
            "oms.key",
            "-o",
            "folder.sig",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let other_files = p.join("other-files.tar.gz");
    let sig = std::fs::read(p.join("folder.sig")).unwrap();
    reforged(&b, &other_files, |f| {
        f.insert("models/wine_logreg.onnx.sig".into(), sig);
    });
    let o = run_wine(p, &other_files, &["--oms-pubkey", "oms.pub.pem"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        flat(&o).contains(
            "the OMS signature covers other files (config.json, wine_logreg.onnx), not the one model file models/wine_logreg.onnx"
        ),
        "{}",
        text(&o)
    );
    // Not a Sigstore bundle at all.
    let malformed = p.join("malformed.tar.gz");
    reforged(&b, &malformed, |f| {
        f.insert("models/wine_logreg.onnx.sig".into(), b"not json".to_vec());
    });
    let o = run_wine(p, &malformed, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        flat(&o).contains("models/wine_logreg.onnx.sig: not a Sigstore bundle"),
        "{}",
        text(&o)
    );
}
