//! Data where it lives: mlgate reads CSV, JSON Lines and Parquet from a local S3 server (moto, from PyPI, started
//! here on 127.0.0.1), DVC-tracked data that the real `dvc push` put there, and `http://` sources from a wiremock
//! server, and names the URL in its findings and in its errors (404, 403, no credentials, unreachable, timeout).
//!
//! moto and dvc come from tests/interop/requirements.txt ($MLGATE_INTEROP_PYTHON); without them these tests skip
//! with a note, under MLGATE_REQUIRE_INTEROP=1 (CI) they fail.

mod common;
#[path = "common/fake_server.rs"]
mod fake_server;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use common::text;
use fake_server::Fake;
use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, ResponseTemplate};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// moto's S3 server on a free port of 127.0.0.1, stopped when dropped.
struct Moto {
    child: Child,
    endpoint: String,
    python: PathBuf,
}

impl Moto {
    fn start() -> Option<Moto> {
        let python = common::interop_python("moto.server")?;
        let port = free_port();
        let child = Command::new(&python)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Ready when it accepts connections (a readiness wait, not a timing assertion).
        for _ in 0..600 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Some(Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            python,
        })
    }

    /// Creates `bucket` (if new) and uploads each `(key, file)`, with boto3 (which moto brings).
    fn put(&self, bucket: &str, objects: &[(&str, &Path)]) {
        let script = r#"
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
bucket = sys.argv[2]
if bucket not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
    s3.create_bucket(Bucket=bucket)
args = sys.argv[3:]
for key, path in zip(args[::2], args[1::2]):
    s3.upload_file(path, bucket, key)
"#;
        let mut c = Command::new(&self.python);
        c.args(["-c", script, &self.endpoint, bucket]);
        for (k, p) in objects {
            c.arg(k).arg(p);
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "upload: {}", text(&o));
    }

    /// mlgate with the test server's endpoint and credentials, and nothing of this machine's AWS setup.
    fn mlgate(&self, dir: &Path) -> Command {
        let mut c = aws_clean(dir);
        c.env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing");
        c
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// mlgate in `dir` with no AWS variable of this machine, the region set, and the instance-metadata endpoint on
/// a closed local port (credentials are never looked for off this machine).
fn aws_clean(dir: &Path) -> Command {
    let mut c = common::mlgate();
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k.starts_with("MLGATE_REMOTE") {
            c.env_remove(k);
        }
    }
    c.current_dir(dir)
        .env("AWS_REGION", "us-east-1")
        .env(
            "AWS_METADATA_ENDPOINT",
            format!("http://127.0.0.1:{}", free_port()),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("MLGATE_REMOTE_TIMEOUT", "2");
    c
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}\n{}", text(o)))
}

/// The findings of the report's first check, without their `file`, and the set of `file`s they name.
fn findings(report: &Value) -> (Vec<Value>, Vec<String>) {
    let mut files = vec![];
    let list = report["checks"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let mut f = f.clone();
            if let Some(file) = f.as_object_mut().unwrap().remove("file") {
                files.push(file.as_str().unwrap().to_string());
            }
            f
        })
        .collect();
    files.dedup();
    (list, files)
}

/// people-bad.csv as JSON Lines and as Parquet (the same records, with the same planted errors).
fn write_formats(dir: &Path) {
    let csv = std::fs::read_to_string(fixtures().join("people-bad.csv")).unwrap();
    let mut jsonl = String::new();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    for l in lines {
        let obj: serde_json::Map<String, Value> = header
            .iter()
            .zip(l.split(','))
            .map(|(h, v)| (h.to_string(), Value::String(v.to_string())))
            .collect();
        jsonl.push_str(&Value::Object(obj).to_string());
        jsonl.push('\n');
    }
    std::fs::write(dir.join("people-bad.jsonl"), jsonl).unwrap();
    write_parquet(&dir.join("people-bad.parquet"));
}

/// A Parquet table of ids, names and ages in two row groups, with a repeated id and an age over the maximum.
fn write_parquet(path: &Path) {
    use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
    use std::sync::Arc;
    let batch = RecordBatch::try_from_iter(vec![
        (
            "id",
            Arc::new(Int64Array::from(vec![1, 2, 2, 4])) as ArrayRef,
        ),
        (
            "name",
            Arc::new(StringArray::from(vec!["ann", "bob", "cy", "dee"])) as ArrayRef,
        ),
        (
            "age",
            Arc::new(Int64Array::from(vec![30, 510, 40, 50])) as ArrayRef,
        ),
    ])
    .unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(2))
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[test]
fn s3_objects_are_validated_like_local_files_and_findings_name_the_url() {
    let Some(moto) = Moto::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    write_formats(dir.path());
    let csv = fixtures().join("people-bad.csv");
    let jsonl = dir.path().join("people-bad.jsonl");
    let parquet = dir.path().join("people-bad.parquet");
    moto.put(
        "data",
        &[
            ("people/people-bad.csv", csv.as_path()),
            ("people/people-bad.jsonl", jsonl.as_path()),
            ("people/people-bad.parquet", parquet.as_path()),
        ],
    );
    let schema = fixtures().join("people.schema.json");
    for (name, local) in [
        ("people-bad.csv", &csv),
        ("people-bad.jsonl", &jsonl),
        ("people-bad.parquet", &parquet),
    ] {
        let url = format!("s3://data/people/{name}");
        let args = |data: &str| {
            vec![
                "validate".to_string(),
                data.to_string(),
                "--schema".into(),
                schema.display().to_string(),
                "--format".into(),
                "json".into(),
            ]
        };
        let remote = moto.mlgate(dir.path()).args(args(&url)).output().unwrap();
        assert_eq!(remote.status.code(), Some(1), "{name}: {}", text(&remote));
        let local = moto
            .mlgate(dir.path())
            .args(args(local.to_str().unwrap()))
            .output()
            .unwrap();
        assert_eq!(local.status.code(), Some(1), "{}", text(&local));
        let (r, rj) = (json(&remote), json(&local));
        let ((rf, rfiles), (lf, _)) = (findings(&r), findings(&rj));
        assert!(!rf.is_empty(), "{name}: planted errors found");
        assert_eq!(
            rf, lf,
            "{name}: the same findings (lines, rows) as the local file"
        );
        assert_eq!(rfiles, vec![url.clone()], "{name}: findings name the URL");
        assert_eq!(r["checks"][0]["figures"]["source"], url.as_str());
    }
}

#[test]
fn config_urls_are_read_only_under_an_allowed_remote() {
    let Some(moto) = Moto::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let bad = fixtures().join("people-bad.csv");
    moto.put("data", &[("people-bad.csv", bad.as_path())]);
    std::fs::copy(
        fixtures().join("people.schema.json"),
        dir.path().join("people.schema.json"),
    )
    .unwrap();
    let config = "version: 1\ndatasets:\n  people:\n    path: s3://data/people-bad.csv\n    schema: people.schema.json\n";
    std::fs::write(dir.path().join("mlgate.yml"), config).unwrap();
    let refused = moto
        .mlgate(dir.path())
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    let err = flat(&refused.stderr);
    assert!(
        err.contains("mlgate.yml:4") && err.contains("s3://data/people-bad.csv"),
        "{err}"
    );
    assert!(
        err.contains("remotes:") && err.contains("--allow-remote"),
        "{err}"
    );

    // A prefix of another bucket's name is not that bucket.
    let other = moto
        .mlgate(dir.path())
        .args(["check", "--format", "json", "--allow-remote", "s3://dat"])
        .output()
        .unwrap();
    assert_eq!(other.status.code(), Some(2), "{}", text(&other));

    for allow in [vec!["--allow-remote", "s3://data"], vec![]] {
        if allow.is_empty() {
            std::fs::write(
                dir.path().join("mlgate.yml"),
                format!("{config}remotes: [s3://data/]\n"),
            )
            .unwrap();
        }
        let o = moto
            .mlgate(dir.path())
            .args(["check", "--format", "json"])
            .args(&allow)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let (f, files) = findings(&json(&o));
        assert_eq!(files, vec!["s3://data/people-bad.csv".to_string()]);
        assert_eq!(f[0]["line"], 3, "{f:?}");
    }
}

/// stderr without the diagnostic's frame and line wrapping (miette wraps at the terminal's width).
fn flat(stderr: &[u8]) -> String {
    let mut out = String::new();
    for line in String::from_utf8_lossy(stderr).lines() {
        let t = line.trim().trim_start_matches(['│', '×', '·']).trim();
        if t.is_empty() {
            continue;
        }
        if !out.is_empty() && !out.ends_with('-') {
            out.push(' ');
        }
        out.push_str(t);
    }
    out
}

fn assert_exit2_naming(o: &Output, url: &str, what: &str) {
    assert_eq!(o.status.code(), Some(2), "{}", text(o));
    let err = flat(&o.stderr);
    assert!(err.contains(url), "names the URL: {err}");
    assert!(err.to_lowercase().contains(what), "says {what:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn s3_errors_name_the_url_and_what_went_wrong() {
    let Some(moto) = Moto::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let good = fixtures().join("people.csv");
    moto.put("data", &[("people.csv", good.as_path())]);
    let url = "s3://data/missing.csv";
    let o = moto
        .mlgate(dir.path())
        .args(["validate", url])
        .output()
        .unwrap();
    assert_exit2_naming(&o, url, "no such object (404)");

    let url = "s3://no-such-bucket/people.csv";
    let o = moto
        .mlgate(dir.path())
        .args(["validate", url])
        .output()
        .unwrap();
    assert_exit2_naming(&o, url, "404");

    // No credentials anywhere (the metadata endpoint is a closed local port).
    let url = "s3://data/people.csv";
    let o = aws_clean(dir.path())
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .args(["validate", url])
        .output()
        .unwrap();
    assert_exit2_naming(&o, url, "credentials");

    // Nothing listens at the endpoint.
    let o = aws_clean(dir.path())
        .env(
            "AWS_ENDPOINT_URL",
            format!("http://127.0.0.1:{}", free_port()),
        )
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .args(["validate", url])
        .output()
        .unwrap();
    assert_exit2_naming(&o, url, "cannot connect");

    // Plain http:// to another machine is refused before anything is sent.
    let o = aws_clean(dir.path())
        .env("AWS_ENDPOINT_URL", "http://s3.example.org")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .args(["validate", url])
        .output()
        .unwrap();
    assert_exit2_naming(&o, url, "plain http://");
}

const ACCESS_DENIED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message></Error>"#;

#[test]
fn refused_credentials_and_timeouts_are_exit_2_naming_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new();
    fake.mount(
        Mock::given(any()).respond_with(ResponseTemplate::new(403).set_body_string(ACCESS_DENIED)),
    );
    let url = "s3://data/people.csv";
    let o = aws_clean(dir.path())
        .env("AWS_ENDPOINT_URL", fake.server.uri())
        .env("AWS_ACCESS_KEY_ID", "wrong")
        .env("AWS_SECRET_ACCESS_KEY", "wrong")
        .args(["validate", url])
        .output()
        .unwrap();
    assert_exit2_naming(&o, url, "access denied (403)");

    let slow = Fake::new();
    slow.mount(
        Mock::given(any()).respond_with(
            ResponseTemplate::new(200)
                .set_body_string("id\n1\n")
                .set_delay(std::time::Duration::from_secs(30)),
        ),
    );
    let url = format!("{}/people.csv", slow.server.uri());
    let o = aws_clean(dir.path())
        .env("MLGATE_REMOTE_TIMEOUT", "1")
        .args(["validate", &url])
        .output()
        .unwrap();
    assert_exit2_naming(&o, &url, "timed out");
}

#[test]
fn http_sources_are_read_and_their_errors_named() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new();
    let body = std::fs::read_to_string(fixtures().join("people-bad.csv")).unwrap();
    fake.mount(
        Mock::given(wiremock::matchers::path("/d/people-bad.csv"))
            .respond_with(ResponseTemplate::new(200).set_body_string(body)),
    );
    fake.mount(Mock::given(any()).respond_with(ResponseTemplate::new(404)));
    let url = format!("{}/d/people-bad.csv", fake.server.uri());
    let schema = fixtures().join("people.schema.json");
    let o = aws_clean(dir.path())
        .args([
            "validate",
            &url,
            "--schema",
            schema.to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let (f, files) = findings(&json(&o));
    assert_eq!(files, vec![url.clone()]);
    assert_eq!(f.len(), 8);

    let missing = format!("{}/d/nope.csv", fake.server.uri());
    let o = aws_clean(dir.path())
        .args(["validate", &missing])
        .output()
        .unwrap();
    assert_exit2_naming(&o, &missing, "404");
}

/// The real `dvc`, run with the venv's python.
fn dvc(python: &Path, moto: &Moto, dir: &Path, args: &[&str]) {
    let o = Command::new(python)
        .args(["-m", "dvc"])
        .args(args)
        .current_dir(dir)
        .env("DVC_NO_ANALYTICS", "1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .output()
        .unwrap();
    assert!(o.status.success(), "dvc {args:?}: {}", text(&o));
}

#[test]
fn dvc_pushed_data_is_read_from_the_remote_and_its_version_reported() {
    let Some(python) = common::interop_python("dvc_s3") else {
        return;
    };
    let Some(moto) = Moto::start() else { return };
    moto.put("dvc", &[]);
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    std::fs::create_dir(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join("data/parts")).unwrap();
    std::fs::copy(
        fixtures().join("people-bad.csv"),
        repo.join("data/train.csv"),
    )
    .unwrap();
    std::fs::copy(
        fixtures().join("people-bad.csv"),
        repo.join("data/parts/a.csv"),
    )
    .unwrap();
    std::fs::copy(fixtures().join("people.csv"), repo.join("data/parts/b.csv")).unwrap();
    std::fs::copy(
        fixtures().join("people.schema.json"),
        repo.join("people.schema.json"),
    )
    .unwrap();
    dvc(&python, &moto, repo, &["init", "--no-scm", "-q"]);
    dvc(
        &python,
        &moto,
        repo,
        &["remote", "add", "-d", "storage", "s3://dvc/store"],
    );
    dvc(
        &python,
        &moto,
        repo,
        &[
            "remote",
            "modify",
            "--local",
            "storage",
            "endpointurl",
            &moto.endpoint,
        ],
    );
    dvc(
        &python,
        &moto,
        repo,
        &["add", "-q", "data/train.csv", "data/parts"],
    );
    dvc(&python, &moto, repo, &["push", "-q"]);
    // As a CI checkout has it: the pointers, not the data, and no DVC cache.
    std::fs::remove_file(repo.join("data/train.csv")).unwrap();
    std::fs::remove_dir_all(repo.join("data/parts")).unwrap();
    std::fs::remove_dir_all(repo.join(".dvc/cache")).unwrap();
    let pointer = std::fs::read_to_string(repo.join("data/train.csv.dvc")).unwrap();
    let md5 = pointer
        .lines()
        .find_map(|l| l.trim().strip_prefix("- md5: "))
        .unwrap()
        .to_string();

    let config = "version: 1\ndatasets:\n  train:\n    path: data/train.csv\n    schema: people.schema.json\n  part_a:\n    path: data/parts/a.csv\n    schema: people.schema.json\n  part_b:\n    path: data/parts/b.csv\n    schema: people.schema.json\n";
    std::fs::write(repo.join("mlgate.yml"), config).unwrap();
    // .dvc/config comes with the pull request too: its remote must be allowed.
    let o = moto
        .mlgate(repo)
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    assert_exit2_naming(&o, "s3://dvc/store", "dvc remote \"storage\"");

    std::fs::write(
        repo.join("mlgate.yml"),
        format!("{config}remotes: [s3://dvc/store]\n"),
    )
    .unwrap();
    let o = moto
        .mlgate(repo)
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report = json(&o);
    let checks = report["checks"].as_array().unwrap();
    let train = checks.iter().find(|c| c["subject"] == "train").unwrap();
    assert_eq!(train["status"], "fail");
    assert_eq!(
        train["figures"]["dvc"]["md5"],
        md5.as_str(),
        "the DVC version checked"
    );
    assert_eq!(train["figures"]["dvc"]["pointer"], "data/train.csv.dvc");
    assert_eq!(train["figures"]["dvc"]["layout"], "dvc3");
    let object = format!("s3://dvc/store/files/md5/{}/{}", &md5[..2], &md5[2..]);
    assert_eq!(train["figures"]["source"], object.as_str());
    assert_eq!(train["figures"]["errors"], 8);
    let part_a = checks.iter().find(|c| c["subject"] == "part_a").unwrap();
    assert_eq!(part_a["figures"]["errors"], 8, "a file of a folder output");
    let part_b = checks.iter().find(|c| c["subject"] == "part_b").unwrap();
    assert_eq!(part_b["status"], "pass");

    // A corrupt object in the remote: the MD5 check names both digests.
    let other = fixtures().join("people.csv");
    moto.put("dvc", &[(&object["s3://dvc/".len()..], other.as_path())]);
    let o = moto
        .mlgate(repo)
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    assert_exit2_naming(&o, "data/train.csv", &md5);
}

/// A sharded check of a Parquet object cuts it by row groups (each shard fetches the footer and its own groups'
/// byte ranges): the merged report is one run's, byte for byte, with the primary key repeating across shards, and
/// the drift against a reference object (sharded too) names both objects as one run does.
#[test]
fn a_remote_parquet_file_is_sharded_by_row_groups() {
    let Some(moto) = Moto::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join(".git")).unwrap();
    write_parquet(&d.join("people.parquet"));
    moto.put(
        "data",
        &[("people.parquet", d.join("people.parquet").as_path())],
    );
    std::fs::copy(
        fixtures().join("people.schema.json"),
        d.join("people.schema.json"),
    )
    .unwrap();
    let config = "version: 1\nremotes:\n  - s3://data\ndatasets:\n  people:\n    path: s3://data/people.parquet\n    \
                  schema: people.schema.json\n    drift:\n      reference: s3://data/people.parquet\n";
    std::fs::write(d.join("mlgate.yml"), config).unwrap();
    let one = moto
        .mlgate(d)
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(one.status.code(), Some(1), "{}", text(&one));
    assert!(
        String::from_utf8_lossy(&one.stdout).contains("primary-key"),
        "{}",
        text(&one)
    );
    let drift = json(&one)["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "drift")
        .cloned()
        .unwrap();
    assert_eq!(
        drift["figures"]["reference_source"], "s3://data/people.parquet",
        "{drift}"
    );
    let mut partials = vec![];
    for i in 1..=2 {
        let o = moto
            .mlgate(d)
            .args(["check", "--shard", &format!("{i}/2"), "--report-dir", "out"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let p = d.join(format!("out/partial-{i}-of-2.json"));
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let state = &v["shard"]["slots"][0]["dataset"]["state"];
        assert_eq!(state["split"], "range");
        let groups = &state["window"]["row_groups"];
        assert_eq!(
            (groups["start"].as_u64(), groups["end"].as_u64()),
            (Some(i - 1), Some(i))
        );
        assert_eq!(state["data_rows"], 2);
        partials.push(p.display().to_string());
    }
    let merged = moto
        .mlgate(d)
        .args(["merge", &partials[0], &partials[1], "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(merged.status.code(), Some(1), "{}", text(&merged));
    assert_eq!(
        String::from_utf8_lossy(&merged.stdout),
        String::from_utf8_lossy(&one.stdout)
    );
}
