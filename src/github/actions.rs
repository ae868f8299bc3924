//! `GITHUB_STEP_SUMMARY` and `GITHUB_OUTPUT`: files the runner reads after the step. Both are appended to, as
//! the runner expects. A summary over GitHub's 1 MiB limit is dropped whole by the runner, so it is trimmed at a
//! line boundary with a last line that says what was left out.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::report::{render_markdown, Report, Status};

/// GitHub's limit for one step's summary.
pub const SUMMARY_LIMIT: usize = 1024 * 1024;

/// The files GitHub Actions gives a step, read from the environment.
#[derive(Debug, Clone, Default)]
pub struct ActionsEnv {
    pub summary: Option<PathBuf>,
    pub output: Option<PathBuf>,
}

impl ActionsEnv {
    /// `None` outside GitHub Actions (`GITHUB_ACTIONS` is not `true`).
    pub fn from_env() -> Option<ActionsEnv> {
        if std::env::var("GITHUB_ACTIONS").ok().as_deref() != Some("true") {
            return None;
        }
        let path = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Some(ActionsEnv {
            summary: path("GITHUB_STEP_SUMMARY"),
            output: path("GITHUB_OUTPUT"),
        })
    }
}

/// The markdown report for the job summary, at most `limit` bytes, with a note on annotations left out.
pub fn summary_markdown(report: &Report, limit: usize) -> String {
    let mut md = render_markdown(report);
    let total: u64 = report.checks.iter().map(|c| c.total_findings()).sum();
    let annotated = crate::report::annotated_count(report) as u64;
    if total > annotated {
        md.push_str(&format!(
            "\n{} of {} findings are annotated in the diff (GitHub shows 10 errors and 10 warnings per step); all are above or in report.json.\n",
            annotated, total
        ));
    }
    if md.len() <= limit {
        return md;
    }
    let note_room = 200;
    let mut cut = limit.saturating_sub(note_room);
    while cut > 0 && !md.is_char_boundary(cut) {
        cut -= 1;
    }
    let cut = md[..cut].rfind('\n').map_or(0, |i| i + 1);
    let left_lines = md[cut..].lines().count();
    let mut out = md[..cut].to_string();
    // Close an open <details> so GitHub still renders what is kept.
    if out.matches("<details").count() > out.matches("</details>").count() {
        out.push_str("\n</details>\n");
    }
    out.push_str(&format!(
        "\n**{left_lines} more lines left out:** the job summary is limited to 1 MiB; report.json has every finding.\n"
    ));
    out
}

fn append(path: &Path, text: &str) -> Result<(), Error> {
    let err = |source| Error::Write {
        path: path.display().to_string(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(err)?;
    f.write_all(text.as_bytes()).map_err(err)
}

/// Appends the summary and the outputs (`verdict`, `checks`, `failed`, `warned`, `passed`, `findings`,
/// `report-dir`) for the step.
pub fn write_actions_files(
    env: &ActionsEnv,
    report: &Report,
    report_dir: Option<&Path>,
) -> Result<(), Error> {
    if let Some(p) = &env.summary {
        append(p, &summary_markdown(report, SUMMARY_LIMIT))?;
    }
    if let Some(p) = &env.output {
        let count = |s: Status| report.checks.iter().filter(|c| c.status == s).count();
        let findings: u64 = report.checks.iter().map(|c| c.total_findings()).sum();
        let verdict = match report.verdict {
            crate::report::Verdict::Pass => "pass",
            crate::report::Verdict::Fail => "fail",
        };
        let mut text = format!(
            "verdict={verdict}\nchecks={}\nfailed={}\nwarned={}\npassed={}\nfindings={findings}\n",
            report.checks.len(),
            count(Status::Fail),
            count(Status::Warn),
            count(Status::Pass),
        );
        if let Some(d) = report_dir {
            text.push_str(&format!("report-dir={}\n", d.display()));
        }
        append(p, &text)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Check, Finding, Severity};

    fn big_report(n: usize) -> Report {
        let findings: Vec<Finding> = (0..n)
            .map(|i| {
                let mut f = Finding::new(
                    "type-error",
                    Severity::Error,
                    format!("cell {i} is not a valid integer"),
                );
                f.file = Some("data.csv".into());
                f.line = Some(i as u64 + 2);
                f
            })
            .collect();
        let mut counts = std::collections::BTreeMap::new();
        counts.insert("type-error".to_string(), n as u64);
        Report::new(vec![Check {
            id: "d/schema".into(),
            kind: "schema".into(),
            subject: "d".into(),
            status: Status::Fail,
            summary: "bad".into(),
            figures: Default::default(),
            counts,
            findings,
            truncated: false,
        }])
    }

    #[test]
    fn summary_is_trimmed_at_a_line_with_a_note() {
        let md = summary_markdown(&big_report(40), 2000);
        assert!(md.len() <= 2000, "{}", md.len());
        assert!(md.contains("more lines left out"), "{md}");
        assert!(md.contains("</details>"));
    }

    #[test]
    fn small_summary_is_whole_and_says_what_was_not_annotated() {
        let md = summary_markdown(&big_report(12), SUMMARY_LIMIT);
        assert!(!md.contains("left out"));
        assert!(md.contains("10 of 12 findings are annotated"), "{md}");
    }
}
