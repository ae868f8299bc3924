//! The check run: the verdict as a conclusion, the report as its text, and the findings as annotations on the
//! changed files. GitHub takes at most 50 annotations per request, so the first 50 go with the create and each
//! further 50 with an update (PATCH) of the same run.

use serde_json::{json, Value};

use super::client::{ApiError, Client};
use super::comment_body::Links;
use crate::report::{Report, Severity, Verdict};

/// GitHub's limit of annotations per request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;

/// Annotations posted at most (20 requests); the rest stay in the comment, the job summary and report.json.
pub const MAX_ANNOTATIONS: usize = 1000;

/// GitHub's limit for a check run's `output.text` and `output.summary`, in characters.
const OUTPUT_LIMIT: usize = 65_535;

/// The annotations for the report's findings that name a file and a line, most severe first.
pub fn annotations(report: &Report, links: &Links) -> Vec<Value> {
    let mut all: Vec<_> = report
        .checks
        .iter()
        .flat_map(|c| c.findings.iter().map(move |f| (c, f)))
        .filter(|(_, f)| f.file.is_some() && f.line.is_some())
        .collect();
    all.sort_by_key(|(_, f)| std::cmp::Reverse(f.severity));
    all.into_iter()
        .take(MAX_ANNOTATIONS)
        .map(|(c, f)| {
            let file = f.file.as_deref().unwrap_or("").trim_start_matches("./");
            let path = if links.path_prefix.is_empty() {
                file.to_string()
            } else {
                format!("{}/{file}", links.path_prefix.trim_end_matches('/'))
            };
            let line = f.line.unwrap_or(1);
            json!({
                "path": path,
                "start_line": line,
                "end_line": line,
                "annotation_level": match f.severity {
                    Severity::Error => "failure",
                    Severity::Warning => "warning",
                },
                "title": format!("mlgate {} {}", c.id, f.code),
                "message": crate::report::clip(&f.message, 1000),
            })
        })
        .collect()
}

/// The run's name on the pull request: `mlgate`, with the config named when it is not `mlgate.yml`.
pub fn run_name(config: &str) -> String {
    if config == "mlgate.yml" || config.is_empty() {
        "mlgate".into()
    } else {
        format!("mlgate ({config})")
    }
}

fn clip_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    crate::report::clip(s, max)
}

/// Creates a completed check run on `head_sha` and adds the annotations in batches; returns the run's id and
/// the number of requests made.
pub fn post(
    gh: &Client,
    repo: &str,
    head_sha: &str,
    name: &str,
    report: &Report,
    text: &str,
    links: &Links,
) -> Result<(u64, usize), ApiError> {
    let notes = annotations(report, links);
    let total: u64 = report.checks.iter().map(|c| c.total_findings()).sum();
    let failed = report
        .checks
        .iter()
        .filter(|c| c.status == crate::report::Status::Fail)
        .count();
    let (conclusion, title) = match report.verdict {
        Verdict::Pass => ("success", "mlgate: pass".to_string()),
        Verdict::Fail => (
            "failure",
            format!(
                "mlgate: fail ({failed} of {} checks failed)",
                report.checks.len()
            ),
        ),
    };
    let summary = format!(
        "{} checks, {failed} failed, {total} findings; {} annotated here.",
        report.checks.len(),
        notes.len()
    );
    let text = clip_chars(text, OUTPUT_LIMIT);
    let mut batches = notes.chunks(ANNOTATIONS_PER_REQUEST);
    let first: Vec<Value> = batches.next().map(<[Value]>::to_vec).unwrap_or_default();
    let created = gh.post(
        &format!("/repos/{repo}/check-runs"),
        &json!({
            "name": name,
            "head_sha": head_sha,
            "status": "completed",
            "conclusion": conclusion,
            "output": {"title": title, "summary": summary, "text": text, "annotations": first},
        }),
    )?;
    let id = created.json()["id"].as_u64().unwrap_or(0);
    let mut requests = 1;
    for batch in batches {
        gh.patch(
            &format!("/repos/{repo}/check-runs/{id}"),
            &json!({"output": {"title": title, "summary": summary, "annotations": batch}}),
        )?;
        requests += 1;
    }
    Ok((id, requests))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Check, Finding, Status};

    #[test]
    fn annotations_need_a_line_take_the_folder_prefix_and_put_errors_first() {
        let mut c = Check::new("d", "schema");
        c.status = Status::Fail;
        let mut warn = Finding::new("w", Severity::Warning, "a warning");
        warn.file = Some("./data/a.csv".into());
        warn.line = Some(3);
        let mut err = Finding::new("e", Severity::Error, "an error");
        err.file = Some("data/a.csv".into());
        err.line = Some(9);
        let mut no_line = Finding::new("t", Severity::Error, "a table finding");
        no_line.file = Some("data/a.csv".into());
        c.findings = vec![warn, no_line, err];
        let links = Links {
            path_prefix: "ml".into(),
            ..Links::default()
        };
        let notes = annotations(&Report::new(vec![c]), &links);
        assert_eq!(notes.len(), 2);
        assert_eq!(notes[0]["annotation_level"], "failure");
        assert_eq!(notes[0]["path"], "ml/data/a.csv");
        assert_eq!(notes[1]["annotation_level"], "warning");
        assert_eq!(notes[1]["start_line"], 3);
        assert_eq!(run_name("mlgate.yml"), "mlgate");
        assert_eq!(run_name("ml/mlgate.yml"), "mlgate (ml/mlgate.yml)");
    }
}
