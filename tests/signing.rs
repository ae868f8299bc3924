//! Signing end to end, through the binary: keygen, sign, verify, attest; and interop with the tools people
//! already trust: Debian's `minisign` verifies mlgate's signatures (and makes signatures mlgate verifies), and
//! securesystemslib verifies mlgate's DSSE envelopes (and signs one mlgate verifies).
//!
//! `minisign` comes from `apt-get install minisign`; the Python side from tests/interop/requirements.txt in the
//! venv that $MLGATE_INTEROP_PYTHON names. `.ci/run` sets up both; elsewhere a missing tool skips its test with
//! a note, and under CI=true it fails the test instead.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn mlgate() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mlgate"));
    c.env("NO_COLOR", "1")
        .env("GITHUB_ACTIONS", "false")
        .env_remove("MLGATE_SIGNING_KEY")
        .env_remove("GITHUB_SHA")
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("GITHUB_RUN_ID")
        .env_remove("GITHUB_WORKFLOW_REF")
        .env("SOURCE_DATE_EPOCH", "1700000000");
    c
}

fn run(c: &mut Command) -> Output {
    c.output().expect("the mlgate binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `sha256sum` of models/a.onnx ("onnx bytes").
const A_ONNX_SHA256: &str = "c1650a9961b22b18b7919016db749eb46e2f14ad9da48dd02aa586fe8a335978";

fn keys() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys")
}

/// A tool the test needs: found, or skipped on a user's machine, or a failure where interop is required
/// (`MLGATE_REQUIRE_INTEROP=1`, which `.ci/run` sets, or `CI=true`).
fn required(name: &str, found: Option<PathBuf>) -> Option<PathBuf> {
    if found.is_none() {
        let must = std::env::var("MLGATE_REQUIRE_INTEROP").is_ok_and(|v| v == "1")
            || std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !must,
            "{name} is required (MLGATE_REQUIRE_INTEROP=1 or CI=true; .ci/run installs it)"
        );
        eprintln!("note: {name} not found: skipping this interop test");
    }
    found
}

fn minisign_bin() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("minisign"))
            .find(|p| p.is_file())
    });
    required("minisign", found)
}

fn interop_python() -> Option<PathBuf> {
    let found = std::env::var_os("MLGATE_INTEROP_PYTHON")
        .map(PathBuf::from)
        .filter(|p| p.exists());
    required("$MLGATE_INTEROP_PYTHON", found)
}

struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    fn new() -> Self {
        let w = Workdir {
            dir: tempfile::tempdir().unwrap(),
        };
        let o = run(mlgate().current_dir(w.path()).arg("keygen"));
        assert!(o.status.success(), "{}", text(&o));
        std::fs::create_dir(w.path().join("models")).unwrap();
        std::fs::write(w.path().join("models/a.onnx"), b"onnx bytes").unwrap();
        std::fs::write(w.path().join("models/b.tflite"), b"tflite bytes").unwrap();
        w
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn mlgate(&self) -> Command {
        let mut c = mlgate();
        c.current_dir(self.path());
        c
    }
    fn report(&self, verdict: &str) {
        std::fs::write(
            self.path().join("report.json"),
            format!(r#"{{"version": 1, "verdict": "{verdict}", "checks": []}}"#),
        )
        .unwrap();
    }
}

#[test]
fn keygen_writes_three_files_and_refuses_to_overwrite() {
    let w = Workdir::new();
    for f in ["mlgate.key", "mlgate.pub", "mlgate.pub.pem"] {
        assert!(w.path().join(f).is_file(), "{f}");
    }
    let key = std::fs::read_to_string(w.path().join("mlgate.key")).unwrap();
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"), "{key}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |f: &str| {
            std::fs::metadata(w.path().join(f))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("mlgate.key"), 0o600);
        assert_eq!(mode("mlgate.pub"), 0o644);
    }
    let o = run(w.mlgate().arg("keygen"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("pass --force"), "{}", text(&o));
    let o = run(w.mlgate().args(["keygen", "--force"]));
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn sign_then_verify_and_detect_tampering() {
    let w = Workdir::new();
    let o = run(w.mlgate().args([
        "sign",
        "models/a.onnx",
        "models/b.tflite",
        "-k",
        "mlgate.key",
    ]));
    assert!(o.status.success(), "{}", text(&o));
    let sig = std::fs::read_to_string(w.path().join("models/a.onnx.minisig")).unwrap();
    assert!(
        sig.contains(&format!(
            "trusted comment: timestamp:1700000000\tfile:a.onnx\tsha256:{A_ONNX_SHA256}\thashed"
        )),
        "{sig}"
    );
    let o = run(w
        .mlgate()
        .args(["verify", "models/a.onnx", "models/b.tflite"]));
    assert!(o.status.success(), "{}", text(&o));

    std::fs::write(w.path().join("models/a.onnx"), b"onnx bytez").unwrap();
    let o = run(w.mlgate().args([
        "verify",
        "models/a.onnx",
        "models/b.tflite",
        "--format",
        "json",
    ]));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["verdict"], "fail");
    assert_eq!(
        report["checks"][0]["findings"][0]["code"],
        "signature-invalid"
    );
    assert_eq!(report["checks"][1]["status"], "pass");
}

#[test]
fn the_signing_key_can_come_from_the_environment() {
    let w = Workdir::new();
    let key = std::fs::read_to_string(w.path().join("mlgate.key")).unwrap();
    let o = run(w
        .mlgate()
        .args(["sign", "models/a.onnx"])
        .env("MLGATE_SIGNING_KEY", key));
    assert!(o.status.success(), "{}", text(&o));
    let o = run(w.mlgate().args(["verify", "models/a.onnx"]));
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn the_signing_key_can_come_from_a_named_variable() {
    let w = Workdir::new();
    let key = std::fs::read_to_string(w.path().join("mlgate.key")).unwrap();
    let o = run(w
        .mlgate()
        .args(["sign", "models/a.onnx", "--key", "env:RELEASE_KEY"])
        .env("RELEASE_KEY", key));
    assert!(o.status.success(), "{}", text(&o));
    let o = run(w.mlgate().args(["verify", "models/a.onnx"]));
    assert!(o.status.success(), "{}", text(&o));

    let o = run(w
        .mlgate()
        .args(["sign", "models/b.tflite", "--key", "env:RELEASE_KEY"])
        .env_remove("RELEASE_KEY"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("$RELEASE_KEY is not set"), "{}", text(&o));
    assert!(!w.path().join("models/b.tflite.minisig").exists());

    let o = run(w
        .mlgate()
        .args(["sign", "models/b.tflite", "--key", "env:RELEASE_KEY"])
        .env("RELEASE_KEY", "not a key"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("$RELEASE_KEY"), "{}", text(&o));
    assert!(
        !text(&o).contains("not a key"),
        "the key's text is never printed: {}",
        text(&o)
    );
}

#[test]
fn several_pinned_keys_let_keys_rotate() {
    let w = Workdir::new();
    std::fs::create_dir(w.path().join("new")).unwrap();
    let o = run(w.mlgate().args(["keygen", "--out-dir", "new"]));
    assert!(o.status.success(), "{}", text(&o));
    // a.onnx signed with the old key, b.tflite with the new one.
    let o = run(w
        .mlgate()
        .args(["sign", "models/a.onnx", "-k", "mlgate.key"]));
    assert!(o.status.success(), "{}", text(&o));
    let o = run(w
        .mlgate()
        .args(["sign", "models/b.tflite", "-k", "new/mlgate.key"]));
    assert!(o.status.success(), "{}", text(&o));
    let o = run(w.mlgate().args([
        "verify",
        "models/a.onnx",
        "models/b.tflite",
        "--pubkey",
        "new/mlgate.pub",
        "--pubkey",
        "mlgate.pub",
    ]));
    assert!(o.status.success(), "{}", text(&o));
    // With the old key no longer pinned, a.onnx's signature is refused, and the message says which key signed it.
    let o = run(w.mlgate().args([
        "verify",
        "models/a.onnx",
        "models/b.tflite",
        "--pubkey",
        "new/mlgate.pub",
        "--format",
        "json",
    ]));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let finding = &report["checks"][0]["findings"][0];
    assert_eq!(finding["code"], "key-mismatch");
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("which is not a trusted key"),
        "{finding}"
    );
    assert_eq!(report["checks"][1]["status"], "pass");

    // Attestations too: signed by the old key, verified with both pinned, refused with the new one alone.
    w.report("pass");
    let o = run(w.mlgate().args([
        "attest",
        "models",
        "-k",
        "mlgate.key",
        "--report",
        "report.json",
        "--commit",
        "abc1234",
    ]));
    assert!(o.status.success(), "{}", text(&o));
    let verify = |pins: &[&str]| {
        let mut c = w.mlgate();
        c.args(["verify", "--attestation", "mlgate.intoto.jsonl"]);
        for p in pins {
            c.args(["--pubkey", p]);
        }
        run(&mut c)
    };
    let o = verify(&["new/mlgate.pub", "mlgate.pub"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = verify(&["new/mlgate.pub"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("no signature by this key"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_trusted_comment_with_a_wrong_sha256_fails() {
    let w = Workdir::new();
    let wrong = "0".repeat(64);
    let o = run(w.mlgate().args([
        "sign",
        "models/a.onnx",
        "-k",
        "mlgate.key",
        "-t",
        &format!("file:a.onnx\tsha256:{wrong}"),
    ]));
    assert!(o.status.success(), "{}", text(&o));
    let o = run(w.mlgate().args(["verify", "models/a.onnx"]));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("but the file's SHA-256 is {A_ONNX_SHA256}")),
        "{}",
        text(&o)
    );
}

#[test]
fn minisign_verifies_what_mlgate_signs() {
    let Some(minisign) = minisign_bin() else {
        return;
    };
    let w = Workdir::new();
    let o = run(w
        .mlgate()
        .args(["sign", "models/a.onnx", "-k", "mlgate.key"]));
    assert!(o.status.success(), "{}", text(&o));
    // -H: minisign insists on the prehashed form.
    let o = Command::new(&minisign)
        .current_dir(w.path())
        .args(["-V", "-H", "-m", "models/a.onnx", "-p", "mlgate.pub"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!(
            "timestamp:1700000000\tfile:a.onnx\tsha256:{A_ONNX_SHA256}\thashed"
        )),
        "{}",
        text(&o)
    );
    // And it refuses a changed file.
    std::fs::write(w.path().join("models/a.onnx"), b"changed").unwrap();
    let o = Command::new(&minisign)
        .current_dir(w.path())
        .args(["-V", "-m", "models/a.onnx", "-p", "mlgate.pub"])
        .output()
        .unwrap();
    assert!(!o.status.success(), "{}", text(&o));
}

#[test]
fn mlgate_signs_with_minisign_openssh_and_openssl_keys() {
    let Some(minisign) = minisign_bin() else {
        return;
    };
    let w = Workdir::new();
    for (secret, public) in [
        ("minisign.key", "minisign.pub"),
        ("openssh_ed25519", "openssh_ed25519.pub"),
        ("openssl_ed25519.key", "openssl_ed25519.pub.pem"),
    ] {
        let o = run(w
            .mlgate()
            .args(["sign", "models/a.onnx", "-k"])
            .arg(keys().join(secret)));
        assert!(o.status.success(), "{secret}: {}", text(&o));
        let o = run(w
            .mlgate()
            .args(["verify", "models/a.onnx", "-p"])
            .arg(keys().join(public)));
        assert!(o.status.success(), "{secret}: {}", text(&o));
        if secret == "minisign.key" {
            let o = Command::new(&minisign)
                .current_dir(w.path())
                .args(["-V", "-m", "models/a.onnx", "-p"])
                .arg(keys().join(public))
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", text(&o));
        }
    }
}

#[test]
fn mlgate_verifies_what_minisign_signs() {
    // Made by `minisign -S` (prehashed) and `minisign -S -l` (legacy) with minisign.key; see the fixture README.
    let o = run(mlgate().current_dir(keys()).args([
        "verify",
        "by-minisign.txt",
        "legacy.txt",
        "-p",
        "minisign.pub",
    ]));
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("made by minisign 0.11"), "{out}");
}

fn attest_and_verify(w: &Workdir) {
    w.report("pass");
    let o = run(w.mlgate().args([
        "attest",
        "models",
        "-k",
        "mlgate.key",
        "--report",
        "report.json",
        "--commit",
        "0123456789abcdef0123456789abcdef01234567",
    ]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("attested 2 files"), "{}", text(&o));
    let o = run(w.mlgate().args([
        "verify",
        "--attestation",
        "mlgate.intoto.jsonl",
        "--commit",
        "0123456",
    ]));
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn attest_then_verify_and_detect_tampering() {
    let w = Workdir::new();
    attest_and_verify(&w);
    let line = std::fs::read_to_string(w.path().join("mlgate.intoto.jsonl")).unwrap();
    let env: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(env["payloadType"], "application/vnd.in-toto+json");
    let payload = base64_decode(env["payload"].as_str().unwrap());
    let st: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(st["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(st["subject"][0]["name"], "models/a.onnx");
    assert_eq!(st["subject"][0]["digest"]["sha256"], A_ONNX_SHA256);
    assert_eq!(
        st["predicate"]["commit"],
        "0123456789abcdef0123456789abcdef01234567"
    );
    assert_eq!(st["predicate"]["report"]["verdict"], "pass");

    // A wrong commit, a changed file, a changed report: each fails verification.
    let o = run(w.mlgate().args([
        "verify",
        "--attestation",
        "mlgate.intoto.jsonl",
        "--commit",
        "fedcba9",
    ]));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("commit-mismatch"), "{}", text(&o));

    std::fs::write(w.path().join("models/b.tflite"), b"other").unwrap();
    let o = run(w.mlgate().args([
        "verify",
        "--attestation",
        "mlgate.intoto.jsonl",
        "--format",
        "json",
    ]));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let codes: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["findings"].as_array().unwrap())
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["digest-mismatch"]);

    // Only the named file: a.onnx still verifies.
    let o = run(w.mlgate().args([
        "verify",
        "--attestation",
        "mlgate.intoto.jsonl",
        "models/a.onnx",
    ]));
    assert!(o.status.success(), "{}", text(&o));
    // A file the attestation does not name.
    let o = run(w.mlgate().args([
        "verify",
        "--attestation",
        "mlgate.intoto.jsonl",
        "mlgate.pub",
    ]));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("not-attested"), "{}", text(&o));

    // The gate report lies where it was attested: a changed report fails too.
    w.report("pass ");
    let o = run(w.mlgate().args([
        "verify",
        "--attestation",
        "mlgate.intoto.jsonl",
        "models/a.onnx",
    ]));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("report-digest-mismatch"), "{}", text(&o));
}

#[test]
fn attest_in_actions_records_slsa_provenance() {
    let w = Workdir::new();
    w.report("pass");
    let o = run(w
        .mlgate()
        .args([
            "attest",
            "models",
            "-k",
            "mlgate.key",
            "--report",
            "report.json",
        ])
        .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
        .env("GITHUB_REPOSITORY", "acme/models")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env(
            "GITHUB_WORKFLOW_REF",
            "acme/models/.github/workflows/release.yml@refs/tags/v1",
        )
        .env("GITHUB_RUN_ID", "987654")
        .env("GITHUB_RUN_ATTEMPT", "1")
        .env("GITHUB_EVENT_NAME", "push")
        .env("RUNNER_ENVIRONMENT", "github-hosted")
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64"));
    assert!(o.status.success(), "{}", text(&o));
    let line = std::fs::read_to_string(w.path().join("mlgate.intoto.jsonl")).unwrap();
    let env: serde_json::Value = serde_json::from_str(&line).unwrap();
    let st: serde_json::Value =
        serde_json::from_slice(&base64_decode(env["payload"].as_str().unwrap())).unwrap();
    let p = &st["predicate"];
    assert_eq!(p["repository"], "acme/models");
    assert_eq!(p["commit"], "0123456789abcdef0123456789abcdef01234567");
    let slsa = &p["slsa"];
    assert_eq!(
        slsa["buildDefinition"]["externalParameters"]["workflow"]["path"],
        ".github/workflows/release.yml"
    );
    assert_eq!(
        slsa["buildDefinition"]["internalParameters"]["github"]["runner_os"],
        "Linux"
    );
    assert_eq!(
        slsa["buildDefinition"]["resolvedDependencies"][0]["digest"]["gitCommit"],
        "0123456789abcdef0123456789abcdef01234567"
    );
    assert_eq!(
        slsa["runDetails"]["metadata"]["invocationId"],
        "https://github.com/acme/models/actions/runs/987654/attempts/1"
    );
    let o = run(w.mlgate().args([
        "verify",
        "--attestation",
        "mlgate.intoto.jsonl",
        "--format",
        "json",
    ]));
    assert!(o.status.success(), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let figures = &report["checks"][0]["figures"];
    assert_eq!(
        figures["workflow"],
        ".github/workflows/release.yml@refs/tags/v1"
    );
    assert_eq!(figures["runner"], "github-hosted Linux X64");
}

/// Issue 6, point 5: one changed byte of the file, of the signature, of the trusted comment or of the envelope's
/// payload makes every verifier refuse: mlgate, Debian's minisign and securesystemslib.
#[test]
fn every_tampering_fails_in_every_verifier() {
    // Each outside verifier is checked when it is here (required where interop is: .ci/run); a missing one
    // skips only its own assertions, never mlgate's.
    let (minisign, python) = (minisign_bin(), interop_python());
    let accepts = |v: Option<bool>| v != Some(false);
    let refuses = |v: Option<bool>| v != Some(true);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/dsse_interop.py");
    let fresh = || {
        let w = Workdir::new();
        attest_and_verify(&w);
        let o = run(w
            .mlgate()
            .args(["sign", "models/a.onnx", "-k", "mlgate.key"]));
        assert!(o.status.success(), "{}", text(&o));
        w
    };
    let minisign_ok = |w: &Workdir| {
        minisign.as_ref().map(|m| {
            Command::new(m)
                .current_dir(w.path())
                .args(["-V", "-H", "-m", "models/a.onnx", "-p", "mlgate.pub"])
                .output()
                .unwrap()
                .status
                .success()
        })
    };
    let mlgate_sig_ok = |w: &Workdir| {
        run(w.mlgate().args(["verify", "models/a.onnx"]))
            .status
            .success()
    };
    let sslib_ok = |w: &Workdir| {
        python.as_ref().map(|py| {
            Command::new(py)
                .current_dir(w.path())
                .arg(&script)
                .args(["verify", "mlgate.intoto.jsonl", "mlgate.pub.pem", "."])
                .output()
                .unwrap()
                .status
                .success()
        })
    };
    let mlgate_att_ok = |w: &Workdir| {
        run(w
            .mlgate()
            .args(["verify", "--attestation", "mlgate.intoto.jsonl"]))
        .status
        .success()
    };

    // Untouched, all four accept.
    let w = fresh();
    assert!(
        accepts(minisign_ok(&w)) && mlgate_sig_ok(&w) && accepts(sslib_ok(&w)) && mlgate_att_ok(&w)
    );

    // One byte of the file.
    let w = fresh();
    flip_byte(&w.path().join("models/a.onnx"), 3);
    assert!(refuses(minisign_ok(&w)), "minisign accepted a changed file");
    assert!(!mlgate_sig_ok(&w), "mlgate accepted a changed file");
    assert!(
        refuses(sslib_ok(&w)),
        "securesystemslib accepted a changed file"
    );
    assert!(
        !mlgate_att_ok(&w),
        "mlgate accepted a changed attested file"
    );

    // One byte of the signature (inside the base64 line: decoded, one byte changed, encoded again).
    let w = fresh();
    edit_minisig(&w.path().join("models/a.onnx.minisig"), |lines| {
        let mut raw = base64_decode(&lines[1]);
        raw[20] ^= 1;
        lines[1] = base64_encode(&raw);
    });
    assert!(
        refuses(minisign_ok(&w)),
        "minisign accepted a changed signature"
    );
    assert!(!mlgate_sig_ok(&w), "mlgate accepted a changed signature");

    // One byte of the trusted comment.
    let w = fresh();
    edit_minisig(&w.path().join("models/a.onnx.minisig"), |lines| {
        lines[2] = lines[2].replacen("timestamp:1700000000", "timestamp:1700000001", 1);
    });
    assert!(
        refuses(minisign_ok(&w)),
        "minisign accepted a changed trusted comment"
    );
    assert!(
        !mlgate_sig_ok(&w),
        "mlgate accepted a changed trusted comment"
    );

    // One byte of the envelope's payload, and one of its signature.
    for field in ["payload", "sig"] {
        let w = fresh();
        let path = w.path().join("mlgate.intoto.jsonl");
        let mut env: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let slot = if field == "payload" {
            &mut env["payload"]
        } else {
            &mut env["signatures"][0]["sig"]
        };
        let mut raw = base64_decode(slot.as_str().unwrap());
        let at = raw.len() / 2;
        raw[at] ^= 1;
        *slot = base64_encode(&raw).into();
        std::fs::write(&path, format!("{env}\n")).unwrap();
        assert!(
            refuses(sslib_ok(&w)),
            "securesystemslib accepted a changed {field}"
        );
        assert!(!mlgate_att_ok(&w), "mlgate accepted a changed {field}");
    }
}

fn flip_byte(path: &Path, at: usize) {
    let mut b = std::fs::read(path).unwrap();
    b[at] ^= 1;
    std::fs::write(path, b).unwrap();
}

fn edit_minisig(path: &Path, edit: impl FnOnce(&mut Vec<String>)) {
    let mut lines: Vec<String> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    edit(&mut lines);
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

#[test]
fn attest_refuses_a_failed_report() {
    let w = Workdir::new();
    w.report("fail");
    let o = run(w.mlgate().args([
        "attest",
        "models",
        "-k",
        "mlgate.key",
        "--report",
        "report.json",
        "--commit",
        "abc",
    ]));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("nothing was attested"), "{}", text(&o));
    assert!(!w.path().join("mlgate.intoto.jsonl").exists());
    let o = run(w.mlgate().args([
        "sign",
        "models/a.onnx",
        "-k",
        "mlgate.key",
        "--report",
        "report.json",
    ]));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!w.path().join("models/a.onnx.minisig").exists());
}

#[test]
fn securesystemslib_verifies_mlgate_envelopes() {
    let Some(python) = interop_python() else {
        return;
    };
    let w = Workdir::new();
    attest_and_verify(&w);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/dsse_interop.py");
    let o = Command::new(&python)
        .current_dir(w.path())
        .arg(&script)
        .args(["verify", "mlgate.intoto.jsonl", "mlgate.pub.pem"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    // securesystemslib computes the same key ID that mlgate put in the envelope.
    let env: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(w.path().join("mlgate.intoto.jsonl")).unwrap(),
    )
    .unwrap();
    let keyid = env["signatures"][0]["keyid"].as_str().unwrap();
    assert!(out.contains(&format!("verified keyid={keyid}")), "{out}");
    assert!(out.contains("subject models/a.onnx sha256="), "{out}");

    // And the other way: securesystemslib signs a statement with mlgate's key; mlgate verifies it.
    let payload = base64_decode(env["payload"].as_str().unwrap());
    std::fs::write(w.path().join("statement.json"), payload).unwrap();
    let o = Command::new(&python)
        .current_dir(w.path())
        .arg(&script)
        .args(["sign", "statement.json", "mlgate.key", "by-sslib.json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = run(w
        .mlgate()
        .args(["verify", "--attestation", "by-sslib.json"]));
    assert!(o.status.success(), "{}", text(&o));
}
