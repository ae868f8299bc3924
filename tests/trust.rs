//! A pull request's `mlgate.yml` is untrusted: its paths stay inside the repository, and what it changes in its
//! own gates is said first (or the gates are read from the base branch with `--config-from`). Each test builds a
//! small repository in a temporary folder and runs the mlgate binary on it.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn mlgate() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mlgate"));
    c.env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_BASE_REF")
        .env("NO_COLOR", "1");
    c
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=mlgate",
            "-c",
            "user.email=mlgate@example.invalid",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const SCHEMA: &str = r#"{"fields": [
  {"name": "id", "type": "integer", "constraints": {"required": true, "unique": true}},
  {"name": "age", "type": "integer", "constraints": {"required": true, "maximum": 120}}
]}"#;

/// `age` is missing on row 3 and 300 on row 4: the base schema fails both.
const DATA: &str = "id,age\n1,30\n2,\n3,300\n";

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A repository with the data contract on branch `main`, then a head commit that applies `change`.
fn repo(change: impl FnOnce(&Path)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "mlgate.yml", "version: 1\ndatasets:\n  people:\n    path: data/people.csv\n    schema: schemas/people.json\n");
    write(d, "schemas/people.json", SCHEMA);
    write(d, "data/people.csv", DATA);
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    git(d, &["checkout", "-q", "-b", "pr"]);
    change(d);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "--allow-empty", "-m", "pr"]);
    dir
}

fn check(dir: &Path, args: &[&str]) -> Output {
    mlgate()
        .current_dir(dir)
        .args(["check", "--format", "json"])
        .args(args)
        .output()
        .unwrap()
}

/// stderr with miette's line wrapping undone, so that a message reads as one line.
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .map(|l| l.trim_start().trim_start_matches(['│', '×']).trim())
        .collect::<Vec<_>>()
        .join(" ")
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// The pull request loosens its own contract: `required` and `maximum` dropped from `age`.
fn loosen(d: &Path) {
    write(
        d,
        "schemas/people.json",
        r#"{"fields": [
  {"name": "id", "type": "integer", "constraints": {"required": true, "unique": true}},
  {"name": "age", "type": "integer"}
]}"#,
    );
}

#[test]
fn a_pull_request_that_moves_its_gates_is_told_first() {
    let dir = repo(loosen);
    let o = check(dir.path(), &["--gates-base", "main"]);
    assert_eq!(o.status.code(), Some(0), "the loosened gate passes");
    let r = json(&o);
    let first = &r["checks"][0];
    assert_eq!(first["kind"], "gate-change");
    assert_eq!(first["status"], "warn");
    let changes: Vec<&str> = first["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        changes,
        [
            "column age: required removed (was true)",
            "column age: maximum removed (was 120)"
        ]
    );
    assert_eq!(first["findings"][0]["file"], "schemas/people.json");

    let md = mlgate()
        .current_dir(dir.path())
        .args(["check", "--format", "markdown", "--gates-base", "main"])
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&md.stdout);
    let warning = md
        .find("This pull request changes its own gates")
        .expect(&md);
    let table = md.find("| | Check |").expect(&md);
    assert!(warning < table, "the change comes before the checks:\n{md}");
    assert!(
        md.contains("> - column age: required removed (was true)"),
        "{md}"
    );
}

#[test]
fn config_changes_read_as_gates() {
    let dir = repo(|d| {
        write(
            d,
            "mlgate.yml",
            "version: 1\ndatasets:\n  people:\n    path: data/people.csv\n    schema: schemas/people.json\n    duplicate_rows: true\n",
        )
    });
    let r = json(&check(dir.path(), &["--gates-base", "main"]));
    assert_eq!(
        r["checks"][0]["findings"][0]["message"],
        "dataset people: duplicate_rows added: true"
    );
    assert_eq!(r["checks"][0]["findings"][0]["line"], 6);
}

#[test]
fn an_unchanged_gate_says_nothing_and_a_missing_base_is_a_warning() {
    let dir = repo(|_| {});
    let r = json(&check(dir.path(), &["--gates-base", "main"]));
    assert!(r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["kind"] != "gate-change"));
    let r = json(&check(dir.path(), &["--gates-base", "origin/nope"]));
    assert_eq!(r["checks"][0]["kind"], "gate-change");
    assert_eq!(r["checks"][0]["status"], "warn");
    let summary = r["checks"][0]["summary"].as_str().unwrap();
    assert!(
        summary.contains("could not compare the gates with origin/nope"),
        "{summary}"
    );
    assert!(
        summary.contains("git fetch --depth=1 origin nope"),
        "{summary}"
    );
}

#[test]
fn config_from_the_base_branch_keeps_its_goalposts() {
    let dir = repo(loosen);
    // The working tree's loosened schema passes; the base branch's fails the missing and the too-large age.
    assert_eq!(check(dir.path(), &[]).status.code(), Some(0));
    let o = check(dir.path(), &["--config-from", "main"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r = json(&o);
    let codes: Vec<&str> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["findings"].as_array().unwrap())
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["constraint-error", "constraint-error"]);
    // A ref that is not there is an error, not a silent fallback to the pull request's gates.
    let o = check(dir.path(), &["--config-from", "origin/nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("the ref \"origin/nope\" is not in this clone")
    );
}

/// mlgate.yml names paths that leave the repository: each is refused with its key and line, exit 2.
#[test]
fn paths_outside_the_repository_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    write(
        outside.path(),
        "secret.csv",
        "id,age\n1,AKIAIOSFODNN7EXAMPLE\n",
    );
    let cases = [
        (
            "absolute",
            format!("{}", outside.path().join("secret.csv").display()),
            "is an absolute path",
        ),
        (
            "climbs",
            "../../../../../../../../etc/hostname".to_string(),
            "climbs out of the repository",
        ),
    ];
    for (what, path, says) in cases {
        let dir = repo(|d| {
            write(
                d,
                "mlgate.yml",
                &format!("version: 1\ndatasets:\n  people:\n    path: {path}\n    schema: schemas/people.json\n"),
            )
        });
        let o = check(dir.path(), &[]);
        let stderr = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{what}: {stderr}");
        assert!(stderr.contains("mlgate.yml:4:11"), "{what}: {stderr}");
        assert!(
            stderr.contains("`datasets.people.path`"),
            "{what}: {stderr}"
        );
        assert!(stderr.contains(says), "{what}: {stderr}");
        assert!(o.stdout.is_empty());
    }
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_out_is_refused_and_allowed_files_show_no_values() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.csv", "id,age\n1,31337\n2,30\n");
    let dir = repo(|d| {
        std::os::unix::fs::symlink(outside.path().join("secret.csv"), d.join("data/linked.csv"))
            .unwrap();
        std::os::unix::fs::symlink(outside.path(), d.join("models")).unwrap();
        write(
            d,
            "mlgate.yml",
            "version: 1\ndatasets:\n  people:\n    path: data/linked.csv\n    schema: schemas/people.json\n",
        );
    });
    let o = check(dir.path(), &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("follows a symbolic link out of the repository"),
        "{err}"
    );

    // Trusted configs may opt out; the secret value then appears nowhere in the report.
    let o = check(dir.path(), &["--allow-outside-repo"]);
    assert_eq!(o.status.code(), Some(1), "31337 is above the maximum 120");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(!text.contains("31337"), "{text}");
    assert!(
        text.contains("hidden: the file is outside the repository"),
        "{text}"
    );

    // A glob that reaches through a linked folder is refused too.
    write(
        dir.path(),
        "mlgate.yml",
        "version: 1\nartifacts:\n  - models/*.csv\n",
    );
    let o = check(dir.path(), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("`artifacts[0]`"), "{}", stderr(&o));
}
