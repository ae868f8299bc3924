//! The GitHub Action and the workflows `mlgate init` writes:
//! - action.yml validates against SchemaStore's github-action schema (check-jsonschema, vendored schemas: no
//!   network), and the generated workflows against the github-workflow schema;
//! - the generated workflows have zero findings from actionlint;
//! - scripts/install-mlgate.sh installs a fake release served by a local HTTP server when its SHA-256 matches
//!   the committed checksum, and refuses it when it does not.
//!
//! check-jsonschema and actionlint come from tests/actions/requirements.txt (PyPI) in the venv whose python
//! $MLGATE_INTEROP_PYTHON names (`.ci/run` sets it up), or from PATH. Without them these tests say they skipped,
//! unless MLGATE_REQUIRE_INTEROP=1 or CI=true, where they fail.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn required() -> bool {
    std::env::var("MLGATE_REQUIRE_INTEROP").is_ok_and(|v| v == "1")
        || std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A tool from the interop venv or PATH; `None` (after saying why) when it is absent and not required.
fn tool(name: &str) -> Option<PathBuf> {
    let venv = std::env::var_os("MLGATE_INTEROP_PYTHON")
        .map(PathBuf::from)
        .and_then(|py| py.parent().map(|d| d.join(name)));
    let local = root().join(".venv-interop/bin").join(name);
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    let found = venv
        .filter(|p| p.is_file())
        .or_else(|| Some(local).filter(|p| p.is_file()))
        .or(on_path);
    if found.is_none() {
        assert!(
            !required(),
            "{name} is required (MLGATE_REQUIRE_INTEROP=1 or CI=true): .ci/run installs it from tests/actions/requirements.txt"
        );
        eprintln!("skipped: {name} not found (pip install -r tests/actions/requirements.txt into .venv-interop)");
    }
    found
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn action_yml_matches_schemastores_github_action_schema() {
    let Some(cj) = tool("check-jsonschema") else {
        return;
    };
    let o = Command::new(cj)
        .args(["--builtin-schema", "vendor.github-actions"])
        .arg(root().join("action.yml"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
}

/// A repository with data and a model, initialised by the binary.
fn initialised_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::copy(
        root().join("examples/breast-cancer/data/train.csv"),
        dir.path().join("data/train.csv"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("models")).unwrap();
    std::fs::write(dir.path().join("models/clf.onnx"), b"not really onnx").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_mlgate"))
        .args(["init", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    // A release block with every option that changes the workflows, then `init --release`.
    let config = dir.path().join("mlgate.yml");
    let mut text_ = std::fs::read_to_string(&config).unwrap();
    text_.push_str(RELEASE_BLOCK);
    std::fs::write(&config, text_).unwrap();
    std::fs::write(dir.path().join("mlgate.pub"), "key").unwrap();
    std::fs::create_dir_all(dir.path().join("channels")).unwrap();
    std::fs::write(dir.path().join("channels/beta.root.json"), "{}").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_mlgate"))
        .args(["init", "--release", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    dir
}

const RELEASE_BLOCK: &str = r#"models:
  clf:
    path: models/clf.onnx
    eval: {data: data/train.csv, label: diagnosis}
release:
  models:
    - model: clf
      targets: [linux-aarch64, linux-x86_64, linux-armv7]
      quantize: {mode: dynamic-int8, max_drop: 0.02}
      labels: [malignant, benign]
      selftest: data/train.csv
  pubkey: mlgate.pub
  channel:
    url: https://octo-org.github.io/models/
    root: channels/beta.root.json
  health_cmd: test -f "$MLGATE_BUNDLE"
"#;

/// Every file under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// `mlgate init` over an existing file writes nothing at all (trycmd's `init-exists` compares only the files it
/// lists, so it cannot see an extra one): the folder holds exactly what it held, byte for byte.
#[test]
fn init_over_an_existing_file_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::copy(
        root().join("examples/breast-cancer/data/train.csv"),
        dir.path().join("data/train.csv"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    std::fs::write(
        dir.path().join(".github/workflows/mlgate-comment.yml"),
        "mine\n",
    )
    .unwrap();
    let before = tree(dir.path());
    let o = Command::new(env!("CARGO_BIN_EXE_mlgate"))
        .args(["init", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(tree(dir.path()), before, "nothing written");
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".github/workflows/mlgate-comment.yml")).unwrap(),
        "mine\n"
    );
}

fn workflows(dir: &Path) -> Vec<PathBuf> {
    [
        "mlgate.yml",
        "mlgate-comment.yml",
        "mlgate-release.yml",
        "mlgate-deploy.yml",
        "mlgate-channel-refresh.yml",
    ]
    .iter()
    .map(|f| dir.join(".github/workflows").join(f))
    .collect()
}

#[test]
fn generated_workflows_have_no_actionlint_findings() {
    let Some(actionlint) = tool("actionlint") else {
        return;
    };
    let dir = initialised_repo();
    let o = Command::new(actionlint)
        .arg("-no-color")
        .args(workflows(dir.path()))
        .arg(root().join(".github/workflows/ci.yml"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(o.stdout.is_empty(), "{}", text(&o));
}

/// zizmor, the GitHub Actions security linter, offline with its default persona: no finding on the generated
/// workflows, action.yml or this repository's own workflows. Findings that must stay carry zizmor's inline
/// ignore with the reason in the file itself.
#[test]
fn workflows_and_action_have_no_zizmor_findings() {
    let Some(zizmor) = tool("zizmor") else {
        return;
    };
    let dir = initialised_repo();
    let o = Command::new(zizmor)
        .args(["--offline", "--no-progress", "--format", "plain"])
        .args(workflows(dir.path()))
        .arg(root().join("action.yml"))
        .arg(root().join(".github/workflows"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("No findings to report"),
        "{}",
        text(&o)
    );
}

/// Every `uses:` line in `text`: the action and the ref after `@`, and the rest of the line.
fn uses_lines(text: &str) -> Vec<(String, String, String)> {
    text.lines()
        .filter_map(|l| l.trim().trim_start_matches("- ").strip_prefix("uses:"))
        .map(|rest| {
            let rest = rest.trim();
            let (spec, comment) = rest.split_once(' ').unwrap_or((rest, ""));
            let (action, r) = spec.split_once('@').unwrap_or((spec, ""));
            (action.to_string(), r.to_string(), comment.to_string())
        })
        .collect()
}

/// Every `uses:` that mlgate writes or ships is pinned to a full commit SHA with the version in a comment, and
/// to the commit of the one table in the code (src/pins.rs). The one exception is mlgate's own action in a
/// development build, which says so with zizmor's ignore and how to pin it; `--action` pins it.
#[test]
fn every_uses_is_pinned_to_the_commit_in_the_table() {
    let dir = initialised_repo();
    let mut files: Vec<PathBuf> = workflows(dir.path());
    files.push(root().join("action.yml"));
    for e in std::fs::read_dir(root().join(".github/workflows")).unwrap() {
        files.push(e.unwrap().path());
    }
    let mut seen = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (action, r, comment) in uses_lines(&text) {
            seen += 1;
            if action == "mlgate/mlgate" && !mlgate::pins::is_full_sha(&r) {
                assert!(
                    comment.contains("zizmor: ignore[unpinned-uses]")
                        && comment.contains("--action"),
                    "{}: {action}@{r} {comment}",
                    f.display()
                );
                continue;
            }
            assert!(
                mlgate::pins::is_full_sha(&r),
                "{}: {action}@{r} is not pinned",
                f.display()
            );
            assert!(
                comment.starts_with("# "),
                "{}: {action}@{r} names no version",
                f.display()
            );
            if action != "mlgate/mlgate" {
                let pin = mlgate::pins::PINS.iter().find(|p| p.action == action);
                let pin = pin
                    .unwrap_or_else(|| panic!("{}: {action} is not in src/pins.rs", f.display()));
                assert_eq!(
                    (r.as_str(), comment.as_str()),
                    (pin.sha, format!("# {}", pin.version).as_str())
                );
            }
        }
    }
    assert!(seen >= 8, "found only {seen} uses: lines");

    // --action pins mlgate's own action; a tag is refused.
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let pinned = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_mlgate"))
        .args(["init", "--action", &format!("mlgate/mlgate@{sha}"), "--dir"])
        .arg(pinned.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let gate = std::fs::read_to_string(pinned.path().join(".github/workflows/mlgate.yml")).unwrap();
    assert!(
        gate.contains(&format!("uses: mlgate/mlgate@{sha}\n")),
        "{gate}"
    );
    let o = Command::new(env!("CARGO_BIN_EXE_mlgate"))
        .args(["init", "--action", "mlgate/mlgate@v1", "--dir"])
        .arg(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn generated_workflows_match_schemastores_workflow_schema() {
    let Some(cj) = tool("check-jsonschema") else {
        return;
    };
    let dir = initialised_repo();
    let o = Command::new(cj)
        .args(["--builtin-schema", "vendor.github-workflows"])
        .args(workflows(dir.path()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
}

/// Serves `files` (URL path → bytes) on 127.0.0.1 until `requests` were answered or 60 s passed.
fn serve(files: Vec<(String, Vec<u8>)>, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut answered = 0;
        while answered < requests && Instant::now() < deadline {
            let Ok((stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            answered += 1;
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut reader = BufReader::new(&stream);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).map_or(true, |n| n == 0) || h == "\r\n" {
                    break;
                }
            }
            let mut out = &stream;
            match files.iter().find(|(p, _)| *p == path) {
                Some((_, body)) => {
                    let _ = write!(
                        out,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = out.write_all(body);
                }
                None => {
                    let _ = write!(
                        out,
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nNot Found"
                    );
                }
            }
        }
    });
    format!("http://{addr}")
}

const VERSION: &str = "9.9.9";
const ASSET: &str = "mlgate-v9.9.9-x86_64-unknown-linux-musl.tar.gz";

/// A release archive whose `mlgate` is a script that prints a known line.
fn fake_release(work: &Path) -> Vec<u8> {
    let stage = work.join("stage/mlgate-v9.9.9");
    std::fs::create_dir_all(&stage).unwrap();
    std::fs::write(stage.join("mlgate"), "#!/bin/sh\necho fake mlgate 9.9.9\n").unwrap();
    let archive = work.join(ASSET);
    let o = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(work.join("stage"))
        .arg("mlgate-v9.9.9")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    std::fs::read(archive).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs the install script from a copy of the action whose checksum file holds `checksum` for the fake asset.
fn install(checksum: Option<&str>, base_url: &str, work: &Path) -> (Output, PathBuf, PathBuf) {
    let action = work.join("action");
    std::fs::create_dir_all(action.join("scripts")).unwrap();
    std::fs::copy(
        root().join("scripts/install-mlgate.sh"),
        action.join("scripts/install-mlgate.sh"),
    )
    .unwrap();
    let mut sums = std::fs::read_to_string(root().join("scripts/mlgate-release.sha256")).unwrap();
    if let Some(c) = checksum {
        sums.push_str(&format!("{c}  {ASSET}\n"));
    }
    std::fs::write(action.join("scripts/mlgate-release.sha256"), sums).unwrap();
    let runner_temp = work.join("runner-temp");
    std::fs::create_dir_all(&runner_temp).unwrap();
    let github_path = work.join("github-path");
    let o = Command::new("bash")
        .arg(action.join("scripts/install-mlgate.sh"))
        .env("MLGATE_VERSION", VERSION)
        .env("MLGATE_RELEASE_BASE_URL", base_url)
        .env("MLGATE_NO_CARGO_FALLBACK", "1")
        .env("GITHUB_ACTION_PATH", &action)
        .env("GITHUB_PATH", &github_path)
        .env("RUNNER_TEMP", &runner_temp)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .output()
        .unwrap();
    (o, runner_temp.join("mlgate-9.9.9/bin/mlgate"), github_path)
}

fn have_install_tools() -> bool {
    let ok = ["bash", "curl", "tar", "sha256sum"].iter().all(|t| {
        Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {t}"))
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !ok {
        assert!(!required(), "bash, curl, tar and sha256sum are required");
        eprintln!("skipped: bash, curl, tar or sha256sum not found");
    }
    ok
}

#[test]
fn install_script_installs_a_release_whose_checksum_matches() {
    if !have_install_tools() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let archive = fake_release(work.path());
    let url = serve(vec![(format!("/v{VERSION}/{ASSET}"), archive.clone())], 1);
    let (o, bin, github_path) = install(Some(&sha256_hex(&archive)), &url, work.path());
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("verified"),
        "{}",
        text(&o)
    );
    let run = Command::new(&bin).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&run.stdout), "fake mlgate 9.9.9\n");
    let path_line = std::fs::read_to_string(github_path).unwrap();
    assert_eq!(path_line.trim(), bin.parent().unwrap().to_string_lossy());
}

#[test]
fn install_script_refuses_a_release_whose_checksum_does_not_match() {
    if !have_install_tools() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let archive = fake_release(work.path());
    let url = serve(vec![(format!("/v{VERSION}/{ASSET}"), archive)], 1);
    let wrong = "0".repeat(64);
    let (o, bin, github_path) = install(Some(&wrong), &url, work.path());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("checksum mismatch"),
        "{}",
        text(&o)
    );
    assert!(!bin.exists());
    assert!(!github_path.exists());
}

/// Without a checksum for the release, the script downloads nothing and turns to a source build; the build itself
/// is not run here (MLGATE_NO_CARGO_FALLBACK=1 stops it with exit 3: a cargo install of mlgate takes many minutes).
#[test]
fn install_script_turns_to_a_source_build_without_a_committed_checksum() {
    if !have_install_tools() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    // No server request is made: without a checksum nothing is downloaded.
    let (o, bin, _) = install(None, "http://127.0.0.1:9", work.path());
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("no committed checksum") && out.contains("cargo install --locked"),
        "{}",
        text(&o)
    );
    assert!(!bin.exists());
}
