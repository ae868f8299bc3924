//! The markdown rendering: what the pull-request comment and the job summary show.

use std::fmt::Write;

use super::escape::{escape, Ctx};
use super::{clip, Report, Status, Verdict};

/// Findings listed per check in markdown; the counts stay exact.
const LISTED_PER_CHECK: usize = 50;

fn icon(status: Status) -> &'static str {
    match status {
        Status::Pass => "✅",
        Status::Skip => "⏭️",
        Status::Warn => "⚠️",
        Status::Fail => "❌",
    }
}

fn cell(s: &str) -> String {
    escape(s, Ctx::Markdown)
}

fn code(s: &str) -> String {
    escape(s, Ctx::TableCode)
}

pub fn render_markdown(report: &Report) -> String {
    let mut out = String::new();
    let failed = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .count();
    match report.verdict {
        Verdict::Pass => {
            let _ = writeln!(out, "## ✅ mlgate: pass\n");
        }
        Verdict::Fail => {
            let _ = writeln!(
                out,
                "## ❌ mlgate: fail ({failed} of {} checks failed)\n",
                report.checks.len()
            );
        }
    }
    let (gate_changes, base) = super::gate_changes(report);
    if !gate_changes.is_empty() {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> **This pull request changes its own gates** (against {base}):"
        );
        for g in &gate_changes {
            let _ = writeln!(out, "> - {g}");
        }
        let _ = writeln!(out);
    }
    if report.checks.is_empty() {
        let _ = writeln!(out, "No checks ran.");
        return out;
    }
    let _ = writeln!(out, "| | Check | Summary |\n|---|---|---|");
    for c in &report.checks {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            icon(c.status),
            code(&c.id),
            cell(&c.summary)
        );
    }
    for c in report.checks.iter().filter(|c| c.kind == "drift") {
        super::markdown_drift::render_drift(&mut out, c);
    }
    for c in report.checks.iter().filter(|c| c.kind == "metric") {
        super::metric_table::render_markdown(&mut out, c);
    }
    for c in report.checks.iter().filter(|c| c.kind == "quantization") {
        super::quantize_table::render_markdown(&mut out, c);
    }
    let with_findings: Vec<_> = report
        .checks
        .iter()
        .filter(|c| !c.findings.is_empty())
        .collect();
    if !with_findings.is_empty() {
        let _ = writeln!(out, "\n### Findings");
    }
    for c in &with_findings {
        let total = c.total_findings().max(c.findings.len() as u64);
        let _ = writeln!(
            out,
            "\n{} {}: {} finding{}\n",
            icon(c.status),
            escape(&c.id, Ctx::Code),
            total,
            if total == 1 { "" } else { "s" }
        );
        out.push_str(&super::group::render_groups_markdown(c, &|_| None));
        let _ = writeln!(
            out,
            "\n<details><summary>Every finding of <code>{}</code></summary>\n",
            escape(&c.id, Ctx::Html),
        );
        let _ = writeln!(
            out,
            "| Location | Row | Field | Value | Code | Message |\n|---|---|---|---|---|---|"
        );
        for f in c.findings.iter().take(LISTED_PER_CHECK) {
            let loc = f.location().unwrap_or_default();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                cell(&loc),
                f.row.map(|r| r.to_string()).unwrap_or_default(),
                cell(f.field.as_deref().unwrap_or("")),
                f.value
                    .as_deref()
                    .map(|v| code(&clip(v, 40)))
                    .unwrap_or_default(),
                code(&f.code),
                cell(&clip(&f.message, 200))
            );
        }
        if total as usize > c.findings.len().min(LISTED_PER_CHECK) {
            let by_code: Vec<String> = c
                .counts
                .iter()
                .map(|(k, n)| format!("{} {n}", escape(k, Ctx::Code)))
                .collect();
            let _ = writeln!(
                out,
                "\n{} more not listed. All findings by code: {}.",
                total as usize - c.findings.len().min(LISTED_PER_CHECK),
                by_code.join(", ")
            );
        }
        let _ = writeln!(out, "\n</details>");
    }
    out
}
