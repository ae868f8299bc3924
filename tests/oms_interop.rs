//! OpenSSF Model Signing interop, both ways, through the binaries: `model_signing verify key` (PyPI
//! `model-signing`, pinned in tests/interop/requirements.txt) accepts what `mlgate sign --format oms` signed, and
//! `mlgate verify --oms` accepts what `model_signing sign key` signed; a changed byte, an extra file, a missing
//! file and another key are refused by both. The keys are `mlgate keygen --algorithm p256`'s, so model_signing
//! also reads mlgate's key files. Without $MLGATE_INTEROP_PYTHON the tests say they skipped (and fail under
//! MLGATE_REQUIRE_INTEROP=1 or CI=true).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{interop_python, mlgate, text};

fn run(c: &mut Command) -> std::process::Output {
    c.output().expect("the command runs")
}

/// A folder with keys `oms` (signing) and `other`, and a model folder `model` with a nested file and a
/// `.gitignore` both tools leave out.
fn workdir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for name in ["oms", "other"] {
        let o = run(mlgate().current_dir(d.path()).args([
            "keygen",
            "--algorithm",
            "p256",
            "--name",
            name,
        ]));
        assert!(o.status.success(), "{}", text(&o));
    }
    let m = d.path().join("model");
    std::fs::create_dir_all(m.join("tokenizer")).unwrap();
    std::fs::write(m.join("model.onnx"), b"onnx bytes").unwrap();
    std::fs::write(m.join("config.json"), b"{\"layers\": 2}\n").unwrap();
    std::fs::write(m.join("tokenizer/vocab.txt"), b"a\nb\n").unwrap();
    std::fs::write(m.join(".gitignore"), b"*.tmp\n").unwrap();
    d
}

fn model_signing(py: &Path, dir: &Path) -> Command {
    let mut c = Command::new(py);
    c.current_dir(dir).args(["-m", "model_signing"]);
    c
}

fn python_verifies(py: &Path, dir: &Path, sig: &str, model: &str, key: &str) -> bool {
    let o = run(model_signing(py, dir).args([
        "verify",
        "key",
        model,
        "--signature",
        sig,
        "--public_key",
        key,
    ]));
    // model_signing 1.1.1 prints failures and exits 1; anything but 0 or 1 would be a crash.
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    o.status.success()
}

/// mlgate's exit code for `verify --oms`.
fn mlgate_verifies(dir: &Path, sig: &str, model: &str, key: &str) -> i32 {
    let o = run(mlgate()
        .current_dir(dir)
        .args(["verify", "--oms", sig, model, "--pubkey", key]));
    o.status.code().unwrap_or(-1)
}

/// One way to break a signed model; `Key` verifies with the other key.
#[derive(Debug, Clone, Copy)]
enum Tamper {
    ChangedByte,
    ExtraFile,
    MissingFile,
    Key,
}

const TAMPERS: [Tamper; 4] = [
    Tamper::ChangedByte,
    Tamper::ExtraFile,
    Tamper::MissingFile,
    Tamper::Key,
];

/// A copy of `model` broken by `t` (under `dir`), and the public key to verify it with.
fn tampered(dir: &Path, t: Tamper) -> (String, &'static str) {
    let name = format!("model-{t:?}");
    copy_dir(&dir.join("model"), &dir.join(&name));
    let m = dir.join(&name);
    let key = match t {
        Tamper::ChangedByte => {
            let mut bytes = std::fs::read(m.join("tokenizer/vocab.txt")).unwrap();
            bytes[0] ^= 1;
            std::fs::write(m.join("tokenizer/vocab.txt"), bytes).unwrap();
            "oms.pub.pem"
        }
        Tamper::ExtraFile => {
            std::fs::write(m.join("extra.bin"), b"added").unwrap();
            "oms.pub.pem"
        }
        Tamper::MissingFile => {
            std::fs::remove_file(m.join("config.json")).unwrap();
            "oms.pub.pem"
        }
        Tamper::Key => "other.pub.pem",
    };
    (name, key)
}

fn copy_dir(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let dest: PathBuf = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

fn both_refuse_every_tampering(py: &Path, dir: &Path, sig: &str) {
    for t in TAMPERS {
        let (model, key) = tampered(dir, t);
        assert!(
            !python_verifies(py, dir, sig, &model, key),
            "model_signing accepted {t:?}"
        );
        assert_eq!(mlgate_verifies(dir, sig, &model, key), 1, "mlgate on {t:?}");
    }
}

#[test]
fn model_signing_verifies_what_mlgate_signed() {
    let Some(py) = interop_python("model_signing") else {
        return;
    };
    let d = workdir();
    let o = run(mlgate()
        .current_dir(d.path())
        .args(["sign", "--format", "oms", "model", "-k", "oms.key"]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        d.path().join("model.sig").is_file(),
        "model.sig is the default name"
    );
    assert!(python_verifies(
        &py,
        d.path(),
        "model.sig",
        "model",
        "oms.pub.pem"
    ));
    assert_eq!(
        mlgate_verifies(d.path(), "model.sig", "model", "oms.pub.pem"),
        0
    );
    both_refuse_every_tampering(&py, d.path(), "model.sig");
}

#[test]
fn mlgate_verifies_what_model_signing_signed() {
    let Some(py) = interop_python("model_signing") else {
        return;
    };
    let d = workdir();
    let o = run(model_signing(&py, d.path()).args([
        "sign",
        "key",
        "model",
        "--private_key",
        "oms.key",
        "--signature",
        "model.sig",
    ]));
    assert!(
        o.status.success(),
        "model_signing reads mlgate's P-256 key: {}",
        text(&o)
    );
    assert_eq!(
        mlgate_verifies(d.path(), "model.sig", "model", "oms.pub.pem"),
        0
    );
    both_refuse_every_tampering(&py, d.path(), "model.sig");
}

#[test]
fn a_signature_inside_the_model_and_a_one_file_model_verify_both_ways() {
    let Some(py) = interop_python("model_signing") else {
        return;
    };
    let d = workdir();
    // mlgate signs into the model folder; model_signing signs one file.
    let o = run(mlgate().current_dir(d.path()).args([
        "sign",
        "--format",
        "oms",
        "model",
        "-k",
        "oms.key",
        "-o",
        "model/model.sig",
    ]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(python_verifies(
        &py,
        d.path(),
        "model/model.sig",
        "model",
        "oms.pub.pem"
    ));
    assert_eq!(
        mlgate_verifies(d.path(), "model/model.sig", "model", "oms.pub.pem"),
        0
    );

    let o = run(model_signing(&py, d.path()).args([
        "sign",
        "key",
        "model/model.onnx",
        "--private_key",
        "oms.key",
        "--signature",
        "onnx.sig",
    ]));
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        mlgate_verifies(d.path(), "onnx.sig", "model/model.onnx", "oms.pub.pem"),
        0
    );
    let o = run(mlgate().current_dir(d.path()).args([
        "sign",
        "--format",
        "oms",
        "model/config.json",
        "-k",
        "oms.key",
        "-o",
        "config.sig",
    ]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(python_verifies(
        &py,
        d.path(),
        "config.sig",
        "model/config.json",
        "oms.pub.pem"
    ));
    std::fs::write(d.path().join("model/config.json"), b"{\"layers\": 3}\n").unwrap();
    assert!(!python_verifies(
        &py,
        d.path(),
        "config.sig",
        "model/config.json",
        "oms.pub.pem"
    ));
    assert_eq!(
        mlgate_verifies(d.path(), "config.sig", "model/config.json", "oms.pub.pem"),
        1
    );
}
