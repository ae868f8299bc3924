//! The human rendering: a verdict line, one line per check, the first findings of each failing check.
//! Styles are ANSI; callers print through `anstream`, which strips them when NO_COLOR is set or out is no terminal.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use super::{clip, Report, Severity, Status, Verdict};

/// Findings shown per check; the rest are counted.
const SHOWN_PER_CHECK: usize = 20;

fn style(status: Status) -> Style {
    let color = match status {
        Status::Pass => AnsiColor::Green,
        Status::Skip => AnsiColor::BrightBlack,
        Status::Warn => AnsiColor::Yellow,
        Status::Fail => AnsiColor::Red,
    };
    Style::new().fg_color(Some(color.into())).bold()
}

pub fn render_human(report: &Report) -> String {
    let mut out = String::new();
    let dim = Style::new().dimmed();
    for check in &report.checks {
        let st = style(check.status);
        let _ = writeln!(
            out,
            "{st}{:<4}{st:#}  {}  {}",
            check.status.as_str(),
            check.id,
            check.summary
        );
        if check.kind == "metric" {
            super::metric_table::render_human(&mut out, check);
        }
        if check.kind == "quantization" {
            super::quantize_table::render_human(&mut out, check);
        }
        if check.status == Status::Pass || check.status == Status::Skip {
            continue;
        }
        for f in check.findings.iter().take(SHOWN_PER_CHECK) {
            let sev = match f.severity {
                Severity::Error => style(Status::Fail),
                Severity::Warning => style(Status::Warn),
            };
            let loc = f.location().unwrap_or_default();
            let mut pos = String::new();
            if let Some(r) = f.row {
                let _ = write!(pos, " row {r}");
            }
            if let Some(field) = &f.field {
                let _ = write!(pos, " field {field:?}");
            }
            let _ = writeln!(
                out,
                "      {dim}{loc}{pos}{dim:#}  {sev}{}{sev:#}: {}",
                f.code,
                clip(&f.message, 300)
            );
        }
        let total = check.total_findings() as usize;
        let shown = check.findings.len().min(SHOWN_PER_CHECK);
        if total > shown {
            let by_code: Vec<String> = check
                .counts
                .iter()
                .map(|(c, n)| format!("{c} {n}"))
                .collect();
            let _ = writeln!(
                out,
                "      {dim}… {} more ({}); --format json lists the first {}{dim:#}",
                total - shown,
                by_code.join(", "),
                super::MAX_FINDINGS_PER_CHECK
            );
        }
    }
    let counts = report.status_counts();
    let failed = counts.get(&Status::Fail).copied().unwrap_or(0);
    let warned = counts.get(&Status::Warn).copied().unwrap_or(0);
    let (st, word) = match report.verdict {
        Verdict::Pass => (style(Status::Pass), "PASS"),
        Verdict::Fail => (style(Status::Fail), "FAIL"),
    };
    let _ = writeln!(
        out,
        "\n{st}{word}{st:#}  {} checks: {} failed, {} warned, {} passed",
        report.checks.len(),
        failed,
        warned,
        counts.get(&Status::Pass).copied().unwrap_or(0)
    );
    out
}
