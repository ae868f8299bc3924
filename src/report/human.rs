//! The human rendering: a verdict line, one line per check, the findings of each failing check grouped by
//! pattern ([`super::group`]).
//! Styles are ANSI; callers print through `anstream`, which strips them when NO_COLOR is set or out is no terminal.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use super::{clip, Report, Severity, Status, Verdict};

/// Finding groups shown per check; the rest are counted.
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
        let groups = super::group::group(&check.findings);
        for g in groups.iter().take(SHOWN_PER_CHECK) {
            let sev = match g.severity() {
                Severity::Error => style(Status::Fail),
                Severity::Warning => style(Status::Warn),
            };
            // One finding keeps its exact place; a group names its file (its rows are in the sentence).
            let loc = match g.findings.as_slice() {
                [f] => f.location(),
                fs => fs[0].file.clone(),
            }
            .unwrap_or_default();
            let _ = writeln!(
                out,
                "      {dim}{loc}{dim:#}  {sev}{}{sev:#}: {}",
                g.code,
                clip(&g.sentence(), 300)
            );
        }
        let total = check.total_findings() as usize;
        let kept = check.findings.len();
        if groups.len() > SHOWN_PER_CHECK || total > kept {
            let by_code: Vec<String> = check
                .counts
                .iter()
                .map(|(c, n)| format!("{c} {n}"))
                .collect();
            let mut more = vec![];
            if groups.len() > SHOWN_PER_CHECK {
                more.push(format!("{} more groups", groups.len() - SHOWN_PER_CHECK));
            }
            if total > kept {
                let past = total - kept;
                let s = if past == 1 { "" } else { "s" };
                more.push(format!("{past} finding{s} past the first {kept}"));
            }
            let _ = writeln!(
                out,
                "      {dim}… {} (all {total}: {}); --format json lists the first {}{dim:#}",
                more.join(", "),
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
