//! The one report every judging command produces (DESIGN.md, "The report").
//!
//! `{"version": 1, "verdict": "pass"|"fail", "checks": [...]}`. Every output format is a rendering of this value:
//! no check formats itself, and this module knows nothing of GitHub or of the command line.

mod annotations;
mod charts;
mod escape;
mod group;
mod html;
mod human;
mod junit;
mod markdown;
mod markdown_drift;
mod mermaid;
mod metric_table;
mod number;
mod quantize_table;
mod sarif;

pub use annotations::{annotated_count, render_github};
pub use html::render_html;
pub use human::render_human;
pub use junit::render_junit;
pub use markdown::render_markdown;
pub use mermaid::metric_chart_markdown;
pub use number::people;
pub use sarif::render_sarif;

pub use escape::{escape, Ctx};
pub use group::{group, render_groups_markdown, Group};

/// The changes a pull request makes to its own gates (the `gate-change` check's findings), escaped for
/// markdown, and the ref they were compared with as a code span: what the comment and the summary show first.
pub fn gate_changes(report: &Report) -> (Vec<String>, String) {
    let Some(c) = report.checks.iter().find(|c| c.kind == "gate-change") else {
        return (vec![], String::new());
    };
    let base = c
        .figures
        .get("base_ref")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("the base branch");
    // No findings: the base could not be read, and the check's own line says why.
    let lines = c
        .findings
        .iter()
        .map(|f| escape(&f.message, Ctx::Markdown))
        .collect();
    (lines, escape(base, Ctx::Code))
}

/// The drift table of one `drift` check in markdown (empty when it has no columns).
pub fn render_drift_markdown(check: &Check) -> String {
    let mut out = String::new();
    markdown_drift::render_drift(&mut out, check);
    out
}

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// The report format's version. Bump it only with a breaking change to the JSON shape.
pub const REPORT_VERSION: u32 = 1;

/// Findings kept per check; the counts per code stay exact beyond it.
pub const MAX_FINDINGS_PER_CHECK: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Skip,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Skip => "skip",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub version: u32,
    pub verdict: Verdict,
    pub checks: Vec<Check>,
}

impl Report {
    /// A report whose verdict follows from its checks: fail when any check failed.
    pub fn new(checks: Vec<Check>) -> Self {
        let verdict = if checks.iter().any(|c| c.status == Status::Fail) {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        Report {
            version: REPORT_VERSION,
            verdict,
            checks,
        }
    }

    pub fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Number of checks per status, for summaries.
    pub fn status_counts(&self) -> BTreeMap<Status, usize> {
        let mut m = BTreeMap::new();
        for c in &self.checks {
            *m.entry(c.status).or_insert(0) += 1;
        }
        m
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// Stable identifier, `SUBJECT/KIND` (e.g. `train/schema`).
    pub id: String,
    /// `schema`, `table`, `drift`, `metric`, `signature`, ...
    pub kind: String,
    /// The dataset or model the check is about.
    pub subject: String,
    pub status: Status,
    /// One line a person reads first.
    pub summary: String,
    /// The check's figures (rows read, bytes, statistics, ...), in a stable order.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub figures: IndexMap<String, serde_json::Value>,
    /// Exact number of findings per code, whether or not each finding was kept.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub counts: BTreeMap<String, u64>,
    /// The first [`MAX_FINDINGS_PER_CHECK`] findings.
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// True when findings were left out (their counts are still exact).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

impl Check {
    /// A passing check `SUBJECT/KIND` with no summary, figures or findings yet.
    pub fn new(subject: &str, kind: &str) -> Self {
        Check {
            id: format!("{subject}/{kind}"),
            kind: kind.into(),
            subject: subject.into(),
            status: Status::Pass,
            summary: String::new(),
            figures: IndexMap::new(),
            counts: BTreeMap::new(),
            findings: vec![],
            truncated: false,
        }
    }

    pub fn total_findings(&self) -> u64 {
        self.counts.values().sum()
    }
}

/// One problem found. Data findings use Frictionless' codes and positions: `row` is the record number with the
/// header as row 1, `line` the physical line (1-based), `field_number` 1-based.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub code: String,
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Column within the line (1-based, in characters), where the reader knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_number: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The Table Schema constraint a `constraint-error` breaks (`maximum`, `enum`, `required`, ...): what
    /// grouped renderings group by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    pub message: String,
}

impl Finding {
    pub fn new(code: impl Into<String>, severity: Severity, message: impl Into<String>) -> Self {
        Finding {
            code: code.into(),
            severity,
            file: None,
            line: None,
            column: None,
            row: None,
            field: None,
            field_number: None,
            value: None,
            constraint: None,
            message: message.into(),
        }
    }

    /// `file:line:column` as far as it is known.
    pub fn location(&self) -> Option<String> {
        let file = self.file.as_deref()?;
        Some(match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
            (Some(l), None) => format!("{file}:{l}"),
            _ => file.to_string(),
        })
    }
}

/// Shortens a value for display, on a character boundary.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_follows_checks() {
        let mut c = Check {
            id: "a/schema".into(),
            kind: "schema".into(),
            subject: "a".into(),
            status: Status::Warn,
            summary: String::new(),
            figures: IndexMap::new(),
            counts: BTreeMap::new(),
            findings: vec![],
            truncated: false,
        };
        assert_eq!(Report::new(vec![c.clone()]).verdict, Verdict::Pass);
        c.status = Status::Fail;
        assert_eq!(Report::new(vec![c]).verdict, Verdict::Fail);
        assert_eq!(Report::new(vec![]).verdict, Verdict::Pass);
    }

    #[test]
    fn clip_keeps_char_boundaries() {
        assert_eq!(clip("héllo wörld", 5), "héll…");
        assert_eq!(clip("abc", 5), "abc");
    }
}
