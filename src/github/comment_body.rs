//! The pull-request comment's markdown, from `templates/comment.md.j2`: the verdict first, one line per check,
//! the metric table (baseline deltas, intervals), the drift tables, the findings grouped by pattern (the first of each group
//! linked to its line at the pull request's head commit), and the details folded. Kept within GitHub's 65,536-character limit.

use serde::Serialize;
use serde_json::Value;

use crate::report::{self, escape, Check, Ctx, Finding, Report, Status, Verdict};
use crate::templates::{self, TemplateError};

/// GitHub's limit for an issue comment's body, in characters.
pub const COMMENT_LIMIT: usize = 65_536;

/// Findings per check in its folded details.
const DETAILS_PER_CHECK: usize = 50;

/// Where links in the comment point: files at the head commit, and the run that has the job summary.
#[derive(Debug, Clone, Default)]
pub struct Links {
    /// `https://github.com` (or a GitHub Enterprise server).
    pub server_url: String,
    /// `owner/name`.
    pub repository: String,
    pub head_sha: Option<String>,
    /// The folder `mlgate check` ran in, relative to the repository root ("" at the root).
    pub path_prefix: String,
    pub run_id: Option<String>,
}

impl Links {
    /// `SERVER/OWNER/REPO/blob/SHA/PATH#LNN` for a finding's file, when the file is inside the repository.
    pub fn file_url(&self, file: &str, line: Option<u64>) -> Option<String> {
        // Only a commit id goes into a URL: a report artifact could hold anything here.
        let sha = self
            .head_sha
            .as_deref()
            .filter(|s| super::context::is_commit_sha(s))?;
        // Only files inside the repository have a page there.
        let outside = file.starts_with('/') || file.split(['/', '\\']).any(|c| c == "..");
        if self.repository.is_empty() || outside {
            return None;
        }
        let file = file.trim_start_matches("./");
        let path = if self.path_prefix.is_empty() {
            file.to_string()
        } else {
            format!("{}/{file}", self.path_prefix.trim_end_matches('/'))
        };
        let path: String = path
            .split('/')
            .map(percent_encode_segment)
            .collect::<Vec<_>>()
            .join("/");
        let anchor = line.map(|l| format!("#L{l}")).unwrap_or_default();
        Some(format!(
            "{}/{}/blob/{sha}/{path}{anchor}",
            self.server_url.trim_end_matches('/'),
            self.repository
        ))
    }

    fn run_url(&self) -> Option<String> {
        let id = self
            .run_id
            .as_deref()
            .filter(|s| super::context::is_run_id(s))?;
        if self.repository.is_empty() {
            return None;
        }
        Some(format!(
            "{}/{}/actions/runs/{id}",
            self.server_url.trim_end_matches('/'),
            self.repository
        ))
    }
}

/// Keeps URL-safe characters of a path segment, encodes the rest (spaces, parentheses, `#`, `?`).
fn percent_encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Serialize)]
struct CheckLine {
    icon: &'static str,
    id: String,
    summary: String,
}

#[derive(Serialize)]
struct MetricLine {
    icon: &'static str,
    model: String,
    name: String,
    value: String,
    baseline: String,
    delta: String,
    interval: String,
    gate: String,
}

#[derive(Serialize)]
struct BaselineLine {
    model: String,
    text: String,
}

/// One check's findings, grouped by pattern (markdown, escaped by the report).
#[derive(Serialize)]
struct FindingGroups {
    icon: &'static str,
    id: String,
    title: String,
    list: String,
}

#[derive(Serialize)]
struct Details {
    icon: &'static str,
    id: String,
    title: String,
    body: String,
}

#[derive(Serialize)]
struct View {
    marker: String,
    /// What the pull request changes in its own gates, escaped; shown before anything else.
    gate_changes: Vec<String>,
    gates_base: String,
    verdict: &'static str,
    failed: usize,
    total: usize,
    checks: Vec<CheckLine>,
    metrics: Vec<MetricLine>,
    baselines: Vec<BaselineLine>,
    /// Mermaid charts of the quality metrics against their baselines (markdown, labels made inert by the report).
    metric_charts: Vec<String>,
    drift: Vec<String>,
    findings: Vec<FindingGroups>,
    details: Vec<Details>,
    run_url: Option<String>,
}

fn icon(status: Status) -> &'static str {
    match status {
        Status::Pass => "✅",
        Status::Skip => "⏭️",
        Status::Warn => "⚠️",
        Status::Fail => "❌",
    }
}

fn status_icon(text: &str) -> &'static str {
    match text {
        "pass" => icon(Status::Pass),
        "fail" => icon(Status::Fail),
        "warn" => icon(Status::Warn),
        _ => icon(Status::Skip),
    }
}

/// A number as people read it, as every text rendering shows it ([`crate::report::people`]).
fn num(x: f64) -> String {
    crate::report::people(x)
}

fn opt_num(v: &Value) -> String {
    v.as_f64().map(num).unwrap_or_else(|| "–".into())
}

/// `+0.012 (+1.5%)`: the change against the baseline, signed, with the relative change when known.
fn delta_text(m: &Value) -> String {
    let Some(d) = m["delta"].as_f64() else {
        return "–".into();
    };
    let sign = if d > 0.0 { "+" } else { "" };
    let mut s = format!("{sign}{}", num(d));
    if let Some(r) = m["relative_delta"].as_f64() {
        let sign = if r > 0.0 { "+" } else { "" };
        let pct = format!("{:.2}", r * 100.0);
        let pct = pct.trim_end_matches('0').trim_end_matches('.');
        s.push_str(&format!(" ({sign}{pct}%)"));
    }
    s
}

fn interval_text(v: &Value) -> String {
    match v.as_array().map(|a| a.as_slice()) {
        Some([lo, hi]) => format!("[{}, {}]", opt_num(lo), opt_num(hi)),
        _ => "–".into(),
    }
}

fn text(v: &Value) -> String {
    v.as_str().map(report_cell).unwrap_or_default()
}

fn report_cell(s: &str) -> String {
    escape(s, Ctx::Markdown)
}

fn metric_lines(c: &Check) -> Vec<MetricLine> {
    let Some(metrics) = c.figures.get("metrics").and_then(Value::as_array) else {
        return vec![];
    };
    metrics
        .iter()
        .map(|m| {
            let arrow = match m["direction"].as_str() {
                Some("higher_is_better") => " ↑",
                Some("lower_is_better") => " ↓",
                _ => "",
            };
            MetricLine {
                icon: status_icon(m["status"].as_str().unwrap_or("skip")),
                model: escape(&c.subject, Ctx::TableCode),
                name: format!("{}{arrow}", text(&m["name"])),
                value: opt_num(&m["value"]),
                baseline: opt_num(&m["baseline"]),
                delta: delta_text(m),
                interval: interval_text(&m["interval"]),
                gate: m["gate"]
                    .as_str()
                    .map(report_cell)
                    .unwrap_or_else(|| "–".into()),
            }
        })
        .collect()
}

fn baseline_line(c: &Check) -> Option<BaselineLine> {
    let b = c.figures.get("baseline")?;
    if !b.is_object() {
        return None;
    }
    let mut text = match b["source"].as_str() {
        Some("git") => format!(
            "baseline from git {}",
            escape(b["ref"].as_str().unwrap_or("?"), Ctx::Code)
        ),
        Some("report") => "baseline from a report".to_string(),
        _ => "baseline".to_string(),
    };
    if let Some(p) = b["path"].as_str() {
        text.push_str(&format!(", {}", escape(p, Ctx::Code)));
    }
    if let Some(n) = b["rows"].as_u64() {
        text.push_str(&format!(", {n} rows"));
    }
    Some(BaselineLine {
        model: escape(&c.subject, Ctx::Code),
        text,
    })
}

fn confusion_markdown(c: &Check) -> Option<String> {
    let cm = c.figures.get("confusion_matrix")?;
    let labels: Vec<String> = cm["labels"]
        .as_array()?
        .iter()
        .map(|l| match l {
            Value::String(s) => report_cell(s),
            other => report_cell(&other.to_string()),
        })
        .collect();
    let rows = cm["matrix"].as_array()?;
    let mut out = format!(
        "Confusion matrix (rows: true label, columns: predicted)\n\n| | {} |\n|---|{}\n",
        labels.join(" | "),
        "---|".repeat(labels.len())
    );
    for (label, row) in labels.iter().zip(rows) {
        let cells: Vec<String> = row
            .as_array()
            .map(|r| r.iter().map(opt_num).collect())
            .unwrap_or_default();
        out.push_str(&format!("| **{label}** | {} |\n", cells.join(" | ")));
    }
    Some(out)
}

fn finding_groups(c: &Check, links: &Links) -> FindingGroups {
    let total = c.total_findings().max(c.findings.len() as u64);
    let link = |f: &Finding| {
        f.file
            .as_deref()
            .and_then(|file| links.file_url(file, f.line))
    };
    FindingGroups {
        icon: icon(c.status),
        id: escape(&c.id, Ctx::Code),
        title: format!("{total} finding{}", if total == 1 { "" } else { "s" }),
        list: report::render_groups_markdown(c, &link),
    }
}

fn findings_table(c: &Check, links: &Links) -> String {
    let mut out = String::from(
        "| Location | Row | Field | Value | Code | Message |\n|---|---|---|---|---|---|\n",
    );
    for f in c.findings.iter().take(DETAILS_PER_CHECK) {
        let loc = f.location().map(|l| report_cell(&l)).unwrap_or_default();
        let loc = match f
            .file
            .as_deref()
            .and_then(|file| links.file_url(file, f.line))
        {
            Some(url) if !loc.is_empty() => format!("[{loc}]({url})"),
            _ => loc,
        };
        out.push_str(&format!(
            "| {loc} | {} | {} | {} | {} | {} |\n",
            f.row.map(|r| r.to_string()).unwrap_or_default(),
            report_cell(f.field.as_deref().unwrap_or("")),
            f.value
                .as_deref()
                .map(|v| escape(&report::clip(v, 40), Ctx::TableCode))
                .unwrap_or_default(),
            escape(&f.code, Ctx::TableCode),
            report_cell(&report::clip(&f.message, 200)),
        ));
    }
    let total = c.total_findings();
    let listed = c.findings.len().min(DETAILS_PER_CHECK) as u64;
    if total > listed {
        let by_code: Vec<String> = c
            .counts
            .iter()
            .map(|(k, n)| format!("{} {n}", escape(k, Ctx::Code)))
            .collect();
        out.push_str(&format!(
            "\n{} more not listed. All findings by code: {}.\n",
            total - listed,
            by_code.join(", ")
        ));
    }
    out
}

fn view(report: &Report, marker: &str, links: &Links) -> View {
    let metric_checks: Vec<&Check> = report
        .checks
        .iter()
        .filter(|c| c.kind == "metric")
        .collect();
    let mut details = vec![];
    for c in &metric_checks {
        if let Some(body) = confusion_markdown(c) {
            details.push(Details {
                icon: icon(c.status),
                id: escape(&c.id, Ctx::Html),
                title: "confusion matrix".into(),
                body,
            });
        }
    }
    for c in report.checks.iter().filter(|c| !c.findings.is_empty()) {
        let total = c.total_findings();
        details.push(Details {
            icon: icon(c.status),
            id: escape(&c.id, Ctx::Html),
            title: format!("{total} finding{}", if total == 1 { "" } else { "s" }),
            body: findings_table(c, links),
        });
    }
    let (gate_changes, gates_base) = report::gate_changes(report);
    View {
        marker: marker.to_string(),
        gate_changes,
        gates_base,
        verdict: match report.verdict {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
        },
        failed: report
            .checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .count(),
        total: report.checks.len(),
        checks: report
            .checks
            .iter()
            .map(|c| CheckLine {
                icon: icon(c.status),
                id: escape(&c.id, Ctx::TableCode),
                summary: report_cell(&c.summary),
            })
            .collect(),
        metrics: metric_checks.iter().flat_map(|c| metric_lines(c)).collect(),
        baselines: metric_checks
            .iter()
            .filter_map(|c| baseline_line(c))
            .collect(),
        metric_charts: metric_checks
            .iter()
            .map(|c| report::metric_chart_markdown(c))
            .filter(|s| !s.is_empty())
            .collect(),
        drift: report
            .checks
            .iter()
            .filter(|c| c.kind == "drift")
            .map(report::render_drift_markdown)
            .filter(|s| !s.is_empty())
            .collect(),
        findings: report
            .checks
            .iter()
            .filter(|c| !c.findings.is_empty())
            .map(|c| finding_groups(c, links))
            .collect(),
        details,
        run_url: links.run_url(),
    }
}

/// The comment's markdown, untrimmed.
pub fn render_comment(
    report: &Report,
    marker: &str,
    links: &Links,
) -> Result<String, TemplateError> {
    let ctx = minijinja::Value::from(minijinja::value::Serde(view(report, marker, links)));
    templates::render("comment.md.j2", ctx, |_| {})
}

/// Cuts `body` to at most `limit` characters at a line boundary, closes an open `<details>`, and says where the
/// rest is (the job summary of `run_url`, and report.json).
pub fn trim_comment(body: &str, limit: usize, run_url: Option<&str>) -> String {
    if body.chars().count() <= limit {
        return body.to_string();
    }
    let note_room = 400;
    let keep_chars = limit.saturating_sub(note_room);
    let cut_byte = body
        .char_indices()
        .nth(keep_chars)
        .map_or(body.len(), |(i, _)| i);
    let cut = body[..cut_byte].rfind('\n').map_or(0, |i| i + 1);
    let left_lines = body[cut..].lines().count();
    let mut out = body[..cut].to_string();
    if out.matches("<details").count() > out.matches("</details>").count() {
        out.push_str("\n</details>\n");
    }
    let summary = match run_url {
        Some(u) => format!("[the job summary]({u})"),
        None => "the job summary".to_string(),
    };
    out.push_str(&format!(
        "\n**{left_lines} more lines left out:** a comment is limited to 65,536 characters; {summary} and report.json have everything.\n"
    ));
    out
}

/// The comment as posted: rendered, then trimmed to GitHub's limit.
pub fn comment_markdown(
    report: &Report,
    marker: &str,
    links: &Links,
) -> Result<String, TemplateError> {
    let body = render_comment(report, marker, links)?;
    Ok(trim_comment(
        &body,
        COMMENT_LIMIT,
        links.run_url().as_deref(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(num(0.91234567), "0.9123");
        assert_eq!(num(2.0), "2");
        assert_eq!(num(-0.00001), "-1e-5");
        assert_eq!(
            delta_text(&serde_json::json!({"delta": 0.0125, "relative_delta": 0.015})),
            "+0.0125 (+1.5%)"
        );
    }

    #[test]
    fn links_point_at_the_head_commit() {
        let links = Links {
            server_url: "https://github.com/".into(),
            repository: "o/r".into(),
            head_sha: Some("0123456789abcdef0123456789abcdef01234567".into()),
            path_prefix: "ml".into(),
            run_id: Some("7".into()),
        };
        assert_eq!(
            links.file_url("./data/my file.csv", Some(3)).unwrap(),
            "https://github.com/o/r/blob/0123456789abcdef0123456789abcdef01234567/ml/data/my%20file.csv#L3"
        );
        let forged = Links {
            head_sha: Some("abc) ![x](http://t".into()),
            run_id: Some("7#x".into()),
            ..links.clone()
        };
        assert_eq!(forged.file_url("data/a.csv", None), None);
        assert_eq!(forged.run_url(), None);
        assert_eq!(links.file_url("/etc/passwd", None), None);
        assert_eq!(links.file_url("../x.csv", None), None);
        assert!(links.file_url("data/a..b.csv", None).is_some());
    }

    #[test]
    fn trimming_keeps_the_limit_in_characters_and_says_so() {
        let body: String = (0..5000).map(|i| format!("| ü row {i} |\n")).collect();
        let body = format!("<details>\n{body}");
        let out = trim_comment(&body, 10_000, Some("https://x/run"));
        assert!(out.chars().count() <= 10_000);
        assert!(out.contains("more lines left out"));
        assert!(out.contains("[the job summary](https://x/run)"));
        assert!(out.contains("</details>"));
    }
}
