//! The GitHub API side against a local fake GitHub (wiremock) that answers with the payload shapes GitHub
//! documents (tests/resources/github/): the sticky comment created or updated, someone else's marker comment
//! left alone, more than 100 comments paged, a fork's 403, a 500 then success, a secondary rate limit, and a
//! check run with 120 annotations in three requests. Waits are recorded, not slept.

#[path = "common/fake_server.rs"]
mod fake_server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fake_server::Fake;
use mlgate::github::{publish, PublishOptions, RetryPolicy, Target, Token};
use mlgate::report::{Check, Finding, Report, Severity, Status};
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

const REPO: &str = "octo-org/ml-repo";
const SHA: &str = "ce587453ced02b1526dfb4cb910479d431683101";
const MARKER: &str = "<!-- mlgate:mlgate.yml:gate -->";
const FAKE_TOKEN: &str = "ghp_FAKEtoken0123456789abcdefSECRET";

fn resource(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/resources/github")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn comment(id: u64, login: &str, body: &str) -> Value {
    let mut c = resource("issue_comment.json");
    c["id"] = json!(id);
    c["body"] = json!(body);
    c["user"]["login"] = json!(login);
    c["html_url"] = json!(format!(
        "https://github.com/{REPO}/pull/42#issuecomment-{id}"
    ));
    c
}

fn json_response(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

fn report(findings: usize) -> Report {
    let mut c = Check::new("train", "schema");
    c.status = Status::Fail;
    c.summary = format!("{findings} cells do not match the schema");
    for i in 0..findings {
        let mut f = Finding::new(
            "type-error",
            Severity::Error,
            format!("cell {i} is not an integer"),
        );
        f.file = Some("data/train.csv".into());
        f.line = Some(i as u64 + 2);
        c.findings.push(f);
    }
    c.counts.insert("type-error".into(), findings as u64);
    Report::new(vec![c])
}

fn target(pr: Option<u64>) -> Target {
    Target {
        repository: REPO.into(),
        pr_number: pr,
        head_sha: Some(SHA.into()),
        config: "mlgate.yml".into(),
        job: "gate".into(),
        server_url: "https://github.com".into(),
        path_prefix: String::new(),
        run_id: Some("99".into()),
        confirm: None,
    }
}

fn options(fake: &Fake) -> (PublishOptions, Arc<Mutex<Vec<Duration>>>) {
    let waits = Arc::new(Mutex::new(vec![]));
    let opts = PublishOptions {
        api_url: fake.uri(),
        token: Token::new(FAKE_TOKEN).unwrap(),
        policy: RetryPolicy {
            record_waits: Some(waits.clone()),
            ..RetryPolicy::default()
        },
    };
    (opts, waits)
}

fn comments_path() -> String {
    format!("/repos/{REPO}/issues/42/comments")
}

/// The usual answers: who the token is, and a check run accepted.
fn mount_basics(fake: &Fake) {
    fake.mount(
        Mock::given(method("GET"))
            .and(path("/user"))
            .respond_with(json_response(200, resource("user.json"))),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path(format!("/repos/{REPO}/check-runs")))
            .respond_with(json_response(201, resource("check_run.json"))),
    );
}

#[test]
fn creates_the_comment_when_there_is_none_and_sends_the_token() {
    let fake = Fake::new();
    mount_basics(&fake);
    fake.mount(
        Mock::given(method("GET"))
            .and(path(comments_path()))
            .respond_with(json_response(200, json!([comment(5, "octocat", "LGTM")]))),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path(comments_path()))
            .respond_with(json_response(201, comment(10, "mlgate-bot", "x")))
            .expect(1),
    );
    let (opts, _) = options(&fake);
    let out = publish(&report(3), &target(Some(42)), &opts);
    assert!(out.warnings.is_empty(), "{out:?}");
    assert!(out.notes.iter().any(|n| n.contains("commented")), "{out:?}");
    let posted = &fake.requests_to("POST", &comments_path())[0];
    let body: Value = posted.body_json().unwrap();
    let text = body["body"].as_str().unwrap();
    assert!(text.starts_with(MARKER), "{text}");
    assert!(text.contains("## ❌ mlgate: fail"), "{text}");
    assert!(text.contains(&format!(
        "https://github.com/{REPO}/blob/{SHA}/data/train.csv#L2"
    )));
    let auth = posted
        .headers
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(auth, format!("Bearer {FAKE_TOKEN}"));
    fake.verify();
}

#[test]
fn updates_its_own_comment_and_leaves_anothers_marker_comment_alone() {
    let fake = Fake::new();
    mount_basics(&fake);
    fake.mount(
        Mock::given(method("GET"))
            .and(path(comments_path()))
            .respond_with(json_response(
                200,
                json!([
                    comment(1, "someone-else", &format!("quoting: {MARKER} old")),
                    comment(2, "mlgate-bot", &format!("{MARKER}\n## ✅ mlgate: pass")),
                ]),
            )),
    );
    fake.mount(
        Mock::given(method("PATCH"))
            .and(path(format!("/repos/{REPO}/issues/comments/2")))
            .respond_with(json_response(200, comment(2, "mlgate-bot", "x")))
            .expect(1),
    );
    fake.mount(
        Mock::given(method("PATCH"))
            .and(path(format!("/repos/{REPO}/issues/comments/1")))
            .respond_with(json_response(200, comment(1, "someone-else", "x")))
            .expect(0),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path(comments_path()))
            .respond_with(json_response(201, comment(3, "mlgate-bot", "x")))
            .expect(0),
    );
    let (opts, _) = options(&fake);
    let out = publish(&report(1), &target(Some(42)), &opts);
    assert!(out.warnings.is_empty(), "{out:?}");
    assert!(
        out.notes.iter().any(|n| n.contains("updated the comment")),
        "{out:?}"
    );
    // What was sent: the new report under the marker, replacing the old pass.
    let patched = fake.requests_to("PATCH", &format!("/repos/{REPO}/issues/comments/2"));
    let body: Value = patched[0].body_json().unwrap();
    let body = body["body"].as_str().unwrap();
    assert!(body.starts_with(MARKER), "{body}");
    assert!(body.contains("## ❌ mlgate: fail"), "{body}");
    assert!(body.contains("cell 0 is not an integer"), "{body}");
    fake.verify();
}

#[test]
fn with_the_actions_token_its_bot_is_self() {
    let fake = Fake::new();
    // GET /user is refused to an installation token, as GitHub answers it.
    fake.mount(
        Mock::given(method("GET"))
            .and(path("/user"))
            .respond_with(json_response(403, resource("forbidden_integration.json"))),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path(format!("/repos/{REPO}/check-runs")))
            .respond_with(json_response(201, resource("check_run.json"))),
    );
    fake.mount(
        Mock::given(method("GET"))
            .and(path(comments_path()))
            .respond_with(json_response(
                200,
                json!([comment(8, "github-actions[bot]", &format!("{MARKER}\nold"))]),
            )),
    );
    fake.mount(
        Mock::given(method("PATCH"))
            .and(path(format!("/repos/{REPO}/issues/comments/8")))
            .respond_with(json_response(200, comment(8, "github-actions[bot]", "x")))
            .expect(1),
    );
    let (opts, _) = options(&fake);
    let out = publish(&report(1), &target(Some(42)), &opts);
    assert!(out.warnings.is_empty(), "{out:?}");
    fake.verify();
}

#[test]
fn pages_beyond_100_comments() {
    let fake = Fake::new();
    mount_basics(&fake);
    let next = format!(
        "<{}/repos/{REPO}/issues/42/comments?per_page=100&page=2>; rel=\"next\", <{}/repos/{REPO}/issues/42/comments?per_page=100&page=2>; rel=\"last\"",
        fake.uri(),
        fake.uri()
    );
    // Registered first, so it answers page 2 before the catch-all below answers page 1.
    fake.mount(
        Mock::given(method("GET"))
            .and(path(comments_path()))
            .and(query_param("page", "2"))
            .respond_with(json_response(
                200,
                json!([comment(777, "mlgate-bot", &format!("{MARKER}\nold"))]),
            ))
            .expect(1),
    );
    let first: Vec<Value> = (1000..1100).map(|i| comment(i, "octocat", "+1")).collect();
    fake.mount(
        Mock::given(method("GET"))
            .and(path(comments_path()))
            .and(query_param("per_page", "100"))
            .respond_with(json_response(200, json!(first)).insert_header("link", next.as_str()))
            .expect(1),
    );
    fake.mount(
        Mock::given(method("PATCH"))
            .and(path(format!("/repos/{REPO}/issues/comments/777")))
            .respond_with(json_response(200, comment(777, "mlgate-bot", "x")))
            .expect(1),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path(comments_path()))
            .respond_with(json_response(201, json!({})))
            .expect(0),
    );
    let (opts, _) = options(&fake);
    let out = publish(&report(1), &target(Some(42)), &opts);
    assert!(out.warnings.is_empty(), "{out:?}");
    // The second page was asked for with the token too (a relative path, not the absolute Link URL).
    let page2 = fake
        .requests_to("GET", &comments_path())
        .into_iter()
        .find(|r| r.url.query().is_some_and(|q| q.contains("page=2")))
        .unwrap();
    assert!(page2.headers.contains_key("authorization"));
    fake.verify();
}

#[test]
fn a_forks_403_is_a_warning() {
    let fake = Fake::new();
    fake.mount(
        Mock::given(method("GET"))
            .and(path("/user"))
            .respond_with(json_response(403, resource("forbidden_integration.json"))),
    );
    fake.mount(
        Mock::given(method("GET"))
            .and(path(comments_path()))
            .respond_with(json_response(200, json!([]))),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path(comments_path()))
            .respond_with(json_response(403, resource("forbidden_integration.json")))
            .expect(1),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path(format!("/repos/{REPO}/check-runs")))
            .respond_with(json_response(403, resource("forbidden_integration.json")))
            .expect(1),
    );
    let (opts, waits) = options(&fake);
    let out = publish(&report(2), &target(Some(42)), &opts);
    assert_eq!(out.warnings.len(), 2, "{out:?}");
    assert!(
        out.warnings[0].contains("Resource not accessible by integration"),
        "{out:?}"
    );
    assert!(out.warnings[0].contains("fork"), "{out:?}");
    // Not a rate limit: no retry.
    assert!(waits.lock().unwrap().is_empty());
    fake.verify();
}

#[test]
fn a_500_is_retried_after_a_backoff() {
    let fake = Fake::new();
    mount_basics(&fake);
    fake.mount(
        Mock::given(method("GET"))
            .and(path(comments_path()))
            .respond_with(json_response(200, json!([]))),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path(comments_path()))
            .respond_with(json_response(500, resource("server_error.json")))
            .up_to_n_times(1)
            .expect(1),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path(comments_path()))
            .respond_with(json_response(201, comment(10, "mlgate-bot", "x")))
            .expect(1),
    );
    let (opts, waits) = options(&fake);
    let out = publish(&report(1), &target(Some(42)), &opts);
    assert!(out.warnings.is_empty(), "{out:?}");
    assert_eq!(*waits.lock().unwrap(), vec![Duration::from_secs(1)]);
    fake.verify();
}

#[test]
fn a_secondary_rate_limit_waits_as_told() {
    let fake = Fake::new();
    mount_basics(&fake);
    fake.mount(
        Mock::given(method("GET"))
            .and(path(comments_path()))
            .respond_with(json_response(200, json!([]))),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path(comments_path()))
            .respond_with(
                json_response(403, resource("secondary_rate_limit.json"))
                    .insert_header("retry-after", "1"),
            )
            .up_to_n_times(1)
            .expect(1),
    );
    // The same limit again without a time: at least 60 s.
    fake.mount(
        Mock::given(method("POST"))
            .and(path(comments_path()))
            .respond_with(json_response(403, resource("secondary_rate_limit.json")))
            .up_to_n_times(1)
            .expect(1),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path(comments_path()))
            .respond_with(json_response(201, comment(10, "mlgate-bot", "x")))
            .expect(1),
    );
    let (opts, waits) = options(&fake);
    let out = publish(&report(1), &target(Some(42)), &opts);
    assert!(out.warnings.is_empty(), "{out:?}");
    assert_eq!(
        *waits.lock().unwrap(),
        vec![Duration::from_secs(1), Duration::from_secs(120)]
    );
    fake.verify();
}

#[test]
fn a_rate_limit_longer_than_the_bound_is_not_waited() {
    let fake = Fake::new();
    mount_basics(&fake);
    fake.mount(
        Mock::given(method("GET"))
            .and(path(comments_path()))
            .respond_with(json_response(200, json!([]))),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path(comments_path()))
            .respond_with(
                json_response(429, json!({"message": "API rate limit exceeded"}))
                    .insert_header("retry-after", "3600"),
            )
            .expect(1),
    );
    let (opts, waits) = options(&fake);
    let out = publish(&report(1), &target(Some(42)), &opts);
    assert_eq!(out.warnings.len(), 1, "{out:?}");
    assert!(out.warnings[0].contains("3600 s"), "{out:?}");
    assert!(waits.lock().unwrap().is_empty());
    fake.verify();
}

#[test]
fn a_check_run_with_120_annotations_takes_three_requests() {
    let fake = Fake::new();
    fake.mount(
        Mock::given(method("POST"))
            .and(path(format!("/repos/{REPO}/check-runs")))
            .respond_with(json_response(201, resource("check_run.json")))
            .expect(1),
    );
    fake.mount(
        Mock::given(method("PATCH"))
            .and(path(format!("/repos/{REPO}/check-runs/4")))
            .respond_with(json_response(200, resource("check_run.json")))
            .expect(2),
    );
    let (opts, _) = options(&fake);
    // Not a pull request: the check run only.
    let out = publish(&report(120), &target(None), &opts);
    assert!(out.warnings.is_empty(), "{out:?}");
    let created: Value = fake.requests_to("POST", &format!("/repos/{REPO}/check-runs"))[0]
        .body_json()
        .unwrap();
    assert_eq!(created["head_sha"], SHA);
    assert_eq!(created["conclusion"], "failure");
    assert_eq!(
        created["output"]["annotations"].as_array().unwrap().len(),
        50
    );
    assert_eq!(
        created["output"]["annotations"][0],
        json!({"path": "data/train.csv", "start_line": 2, "end_line": 2, "annotation_level": "failure",
               "title": "mlgate train/schema type-error", "message": "cell 0 is not an integer"})
    );
    let sizes: Vec<usize> = fake
        .requests_to("PATCH", &format!("/repos/{REPO}/check-runs/4"))
        .iter()
        .map(|r| {
            r.body_json::<Value>().unwrap()["output"]["annotations"]
                .as_array()
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(sizes, vec![50, 20]);
    fake.verify();
}

fn mlgate() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mlgate"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_OUTPUT")
        .env_remove("GITHUB_WORKSPACE")
        .env_remove("GITHUB_SHA");
    c
}

fn all_text_under(dir: &Path) -> String {
    let mut s = String::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p: PathBuf = e.unwrap().path();
        s.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
    }
    s
}

/// Through the binary, in a pull request's Actions job whose token cannot write: the same exit code as without a
/// token, a warning, and the token nowhere in what was printed or written.
#[test]
fn check_on_a_fork_keeps_its_exit_code_and_never_shows_the_token() {
    let fake = Fake::new();
    fake.mount(
        Mock::given(method("GET"))
            .and(path("/user"))
            .respond_with(json_response(403, resource("forbidden_integration.json"))),
    );
    fake.mount(
        Mock::given(method("GET"))
            .and(path(comments_path()))
            .respond_with(json_response(200, json!([]))),
    );
    fake.mount(
        Mock::given(method("POST"))
            .respond_with(json_response(403, resource("forbidden_integration.json"))),
    );
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(
        &event,
        json!({"number": 42, "pull_request": {"number": 42, "head": {"sha": SHA}}}).to_string(),
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let run = |token: Option<&str>| {
        let mut c = mlgate();
        c.args([
            "check",
            "-c",
            "examples/wine-bugs/mlgate.yml",
            "--format",
            "json",
            "--report-dir",
        ])
        .arg(&out_dir)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_API_URL", fake.uri())
        .env("GITHUB_REPOSITORY", REPO)
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_JOB", "gate")
        .env("GITHUB_RUN_ID", "99")
        .env_remove("GITHUB_TOKEN");
        if let Some(t) = token {
            c.arg("--token").arg(t);
        }
        c.output().unwrap()
    };
    let without = run(None);
    let with = run(Some(FAKE_TOKEN));
    assert_eq!(without.status.code(), Some(1));
    assert_eq!(with.status.code(), without.status.code());
    assert_eq!(
        with.stdout, without.stdout,
        "the report does not depend on the API"
    );
    let stderr = String::from_utf8_lossy(&with.stderr);
    assert!(
        stderr.contains("warning: could not post the comment"),
        "{stderr}"
    );
    assert!(stderr.contains("fork"), "{stderr}");
    let everything = format!(
        "{}{}{}",
        String::from_utf8_lossy(&with.stdout),
        stderr,
        all_text_under(&out_dir)
    );
    assert!(!everything.contains(FAKE_TOKEN));
    assert!(!everything.contains("FAKEtoken"));
    // The context file for the publish stage.
    let ctx: Value = serde_json::from_str(
        &std::fs::read_to_string(out_dir.join("mlgate-context.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(ctx["pr_number"], 42);
    assert_eq!(ctx["head_sha"], SHA);
    assert_eq!(ctx["config"], "examples/wine-bugs/mlgate.yml");
    assert_eq!(ctx["job"], "gate");
}

/// Runs `mlgate github publish` on `out_dir` as the `workflow_run` stage of a fork's pull request would.
fn publish_from_workflow_run(fake: &Fake, out_dir: &Path, event: &Value) -> std::process::Output {
    let event_path = out_dir.with_file_name("event.json");
    std::fs::write(&event_path, event.to_string()).unwrap();
    mlgate()
        .args(["github", "publish", "--report-dir"])
        .arg(out_dir)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_API_URL", fake.uri())
        .env("GITHUB_REPOSITORY", REPO)
        .env("GITHUB_EVENT_NAME", "workflow_run")
        .env("GITHUB_EVENT_PATH", &event_path)
        .env("GITHUB_TOKEN", FAKE_TOKEN)
        .output()
        .unwrap()
}

/// A saved report and context file as the check stage of a fork's pull request writes them.
fn saved_run(dir: &Path, pr: u64) -> PathBuf {
    let out_dir = dir.join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    std::fs::write(out_dir.join("report.json"), report(2).to_json()).unwrap();
    std::fs::write(
        out_dir.join("mlgate-context.json"),
        json!({"version": 1, "config": "mlgate.yml", "job": "gate", "pr_number": pr, "head_sha": SHA, "run_id": "98", "path_prefix": ""}).to_string(),
    )
    .unwrap();
    out_dir
}

/// GitHub's `workflow_run` payload for a fork's pull request: it lists no pull requests, but names the head
/// commit and the head repository.
fn fork_run_event(head_sha: &str) -> Value {
    json!({"workflow_run": {"id": 98, "head_sha": head_sha, "event": "pull_request", "pull_requests": [],
        "head_repository": {"full_name": "forker/ml-repo"}, "repository": {"full_name": REPO}}})
}

/// The workflow_run stage: `github publish` reads the report and the context file, confirms the pull request
/// with GitHub, and posts with its token.
#[test]
fn publish_posts_a_saved_report_from_a_workflow_run() {
    let fake = Fake::new();
    mount_basics(&fake);
    fake.mount(
        Mock::given(method("GET"))
            .and(path(format!("/repos/{REPO}/pulls/42")))
            .respond_with(json_response(200, resource("pull_request.json")))
            .expect(1),
    );
    fake.mount(
        Mock::given(method("GET"))
            .and(path(comments_path()))
            .respond_with(json_response(200, json!([]))),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path(comments_path()))
            .respond_with(json_response(201, comment(10, "mlgate-bot", "x")))
            .expect(1),
    );
    let dir = tempfile::tempdir().unwrap();
    let out_dir = saved_run(dir.path(), 42);
    let o = publish_from_workflow_run(&fake, &out_dir, &fork_run_event(SHA));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("commented"), "{stderr}");
    assert!(!stderr.contains(FAKE_TOKEN));
    let posted = fake.requests_to("POST", &comments_path());
    let body: Value = serde_json::from_slice(&posted[0].body).unwrap();
    let body = body["body"].as_str().unwrap();
    assert!(body.starts_with(MARKER), "{body}");
    assert!(body.contains("cell 1 is not an integer"), "{body}");
    fake.verify();

    // An artifact that names another commit than the run it came from is not posted.
    let o = publish_from_workflow_run(&fake, &out_dir, &fork_run_event("0000000"));
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nothing posted"));
}

/// A fork's artifact that names someone else's pull request (5) to overwrite its sticky comment: GitHub says
/// PR 5's head is another commit in another repository, so nothing is posted there; the check run still goes
/// on the run's own head commit.
#[test]
fn publish_refuses_a_pull_request_number_github_does_not_confirm() {
    let fake = Fake::new();
    mount_basics(&fake);
    let mut victim = resource("pull_request.json");
    victim["number"] = json!(5);
    victim["head"]["sha"] = json!("1111111111111111111111111111111111111111");
    victim["head"]["repo"]["full_name"] = json!("octo-org/ml-repo");
    fake.mount(
        Mock::given(method("GET"))
            .and(path(format!("/repos/{REPO}/pulls/5")))
            .respond_with(json_response(200, victim)),
    );
    let victim_comments = format!("/repos/{REPO}/issues/5/comments");
    for m in ["GET", "POST", "PATCH"] {
        fake.mount(
            Mock::given(method(m))
                .and(path(victim_comments.clone()))
                .respond_with(json_response(500, json!({})))
                .expect(0),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let out_dir = saved_run(dir.path(), 5);
    let o = publish_from_workflow_run(&fake, &out_dir, &fork_run_event(SHA));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("names pull request #5, but its head commit is not the workflow run's"),
        "{stderr}"
    );
    let runs = fake.requests_to("POST", &format!("/repos/{REPO}/check-runs"));
    assert_eq!(runs.len(), 1, "the check run goes on the run's own commit");
    let run: Value = serde_json::from_slice(&runs[0].body).unwrap();
    assert_eq!(run["head_sha"], SHA);
    fake.verify();

    // The same PR with the right head commit but a head repository other than the run's is refused too.
    let mut other_repo = resource("pull_request.json");
    other_repo["head"]["repo"]["full_name"] = json!("someone-else/ml-repo");
    let fake2 = Fake::new();
    mount_basics(&fake2);
    fake2.mount(
        Mock::given(method("GET"))
            .and(path(format!("/repos/{REPO}/pulls/42")))
            .respond_with(json_response(200, other_repo)),
    );
    let out_dir = saved_run(dir.path(), 42);
    let o = publish_from_workflow_run(&fake2, &out_dir, &fork_run_event(SHA));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("its head repository is not the workflow run's"),
        "{stderr}"
    );
    assert!(fake2.requests_to("POST", &comments_path()).is_empty());
}

/// Values of the context file are checked before use and never printed: a head_sha with a newline and a
/// workflow command does not reach the log.
#[test]
fn publish_refuses_a_forged_context_file_without_echoing_it() {
    let fake = Fake::new();
    mount_basics(&fake);
    let dir = tempfile::tempdir().unwrap();
    let out_dir = saved_run(dir.path(), 42);
    std::fs::write(
        out_dir.join("mlgate-context.json"),
        json!({"version": 1, "config": "mlgate.yml", "job": "gate", "pr_number": 42,
               "head_sha": format!("{SHA}\n::add-mask::x\n::error::forged"), "run_id": "98", "path_prefix": ""})
        .to_string(),
    )
    .unwrap();
    let o = publish_from_workflow_run(&fake, &out_dir, &fork_run_event(SHA));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("invalid `head_sha`"), "{stderr}");
    assert!(!stderr.contains("::"), "{stderr}");
    assert!(fake.requests().is_empty(), "nothing was sent");
}

/// clap would print an `env` value in `--help`; the token's is hidden.
#[test]
fn help_never_shows_the_token() {
    for args in [
        &["check", "--help"][..],
        &["github", "publish", "--help"][..],
    ] {
        let o = mlgate()
            .args(args)
            .env("GITHUB_TOKEN", FAKE_TOKEN)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0));
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(all.contains("GITHUB_TOKEN"), "{all}");
        assert!(!all.contains(FAKE_TOKEN), "{all}");
    }
}

/// GitHub Enterprise: GITHUB_API_URL is `https://HOST/api/v3`; every request, the next pages included, keeps the
/// path prefix.
#[test]
fn an_enterprise_api_url_keeps_its_path() {
    let fake = Fake::new();
    let base = "/api/v3";
    fake.mount(
        Mock::given(method("GET"))
            .and(path(format!("{base}/user")))
            .respond_with(json_response(200, resource("user.json"))),
    );
    let next = format!(
        "<{}{base}/repos/{REPO}/issues/42/comments?per_page=100&page=2>; rel=\"next\"",
        fake.uri()
    );
    fake.mount(
        Mock::given(method("GET"))
            .and(path(format!("{base}{}", comments_path())))
            .and(query_param("page", "2"))
            .respond_with(json_response(200, json!([])))
            .expect(1),
    );
    fake.mount(
        Mock::given(method("GET"))
            .and(path(format!("{base}{}", comments_path())))
            .respond_with(json_response(200, json!([])).insert_header("link", next.as_str()))
            .expect(1),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path(format!("{base}{}", comments_path())))
            .respond_with(json_response(201, comment(10, "mlgate-bot", "x")))
            .expect(1),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path(format!("{base}/repos/{REPO}/check-runs")))
            .respond_with(json_response(201, resource("check_run.json")))
            .expect(1),
    );
    let (mut opts, _) = options(&fake);
    opts.api_url = format!("{}{base}", fake.uri());
    let out = publish(&report(1), &target(Some(42)), &opts);
    assert!(out.warnings.is_empty(), "{out:?}");
    fake.verify();
}

/// Nothing listening: each call is retried, then given up with a warning.
#[test]
fn an_unreachable_api_is_a_warning() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let waits = Arc::new(Mutex::new(vec![]));
    let opts = PublishOptions {
        api_url: closed,
        token: Token::new(FAKE_TOKEN).unwrap(),
        policy: RetryPolicy {
            record_waits: Some(waits.clone()),
            ..RetryPolicy::default()
        },
    };
    let out = publish(&report(1), &target(Some(42)), &opts);
    assert_eq!(out.warnings.len(), 2, "{out:?}");
    assert!(!format!("{out:?}").contains(FAKE_TOKEN));
    // Three waits (1 s, 2 s, 4 s) before each call's fourth and last attempt.
    assert_eq!(waits.lock().unwrap().len(), 6);
}
