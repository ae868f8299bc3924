//! The HTML rendering (`mlgate report REPORT.json --html -o FILE`): one self-contained file to attach to a release
//! or open from a CI artifact. Inline CSS and SVG, no script, no external URL (no font, image or stylesheet is
//! fetched). Every string from the report goes through [`escape`] with [`Ctx::Html`]: a report can come from a
//! pull request's own code.

use std::fmt::Write;

use super::charts::{self, DriftChart, MetricBar};
use super::escape::{escape, Ctx};
use super::{group, people, Check, Report, Severity, Status, Verdict};

/// Findings listed per check in the collapsed table.
const LISTED_PER_CHECK: usize = 200;

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1f2328;background:#fff}
main{max-width:1100px;margin:0 auto;padding:0 24px 48px}
.verdict{padding:28px 24px;color:#fff}
.verdict h1{margin:0;font-size:32px}
.verdict p{margin:6px 0 0;font-size:16px}
.verdict.pass{background:#1a7f37}
.verdict.fail{background:#cf222e}
h2{border-bottom:1px solid #d1d9e0;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;margin:8px 0;font-size:14px}
th,td{border:1px solid #d1d9e0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.s-pass{color:#1a7f37}.s-fail{color:#cf222e}.s-warn{color:#9a6700}.s-skip{color:#59636e}
code{font-family:ui-monospace,monospace;font-size:90%;background:#f6f8fa;padding:1px 4px;border-radius:4px}
.charts{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:0;border:1px solid #d1d9e0;border-radius:6px;padding:8px}
figcaption{font-size:14px;margin-bottom:4px}
.legend{font-size:13px;color:#59636e}
.ref{fill:#8c959f}.cur{fill:#0969da}.bad{fill:#cf222e}
svg text{font-size:11px;fill:#59636e}
li{margin:4px 0}
footer{color:#59636e;font-size:12px;margin-top:40px}
";

fn h(s: &str) -> String {
    escape(s, Ctx::Html)
}

fn status_class(s: Status) -> &'static str {
    match s {
        Status::Pass => "s-pass",
        Status::Skip => "s-skip",
        Status::Warn => "s-warn",
        Status::Fail => "s-fail",
    }
}

pub fn render_html(report: &Report) -> String {
    let mut out = String::new();
    let (word, class) = match report.verdict {
        Verdict::Pass => ("pass", "pass"),
        Verdict::Fail => ("fail", "fail"),
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>mlgate: {word}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
    );
    banner(&mut out, report, word, class);
    out.push_str("<main>\n");
    checks_table(&mut out, report);
    for c in report.checks.iter().filter(|c| c.kind == "drift") {
        drift_section(&mut out, c);
    }
    for c in report.checks.iter().filter(|c| c.kind == "metric") {
        metric_section(&mut out, c);
    }
    let with_findings: Vec<&Check> = report
        .checks
        .iter()
        .filter(|c| !c.findings.is_empty())
        .collect();
    if !with_findings.is_empty() {
        out.push_str("<h2>Findings</h2>\n");
    }
    for c in with_findings {
        findings_section(&mut out, c);
    }
    let _ = write!(
        out,
        "<footer>mlgate {} · report version {}</footer>\n</main>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        report.version
    );
    out
}

fn banner(out: &mut String, report: &Report, word: &str, class: &str) {
    let counts = report.status_counts();
    let n = |s| counts.get(&s).copied().unwrap_or(0);
    let _ = writeln!(
        out,
        "<header class=\"verdict {class}\"><h1>mlgate: {word}</h1>\
         <p>{} checks: {} failed, {} warned, {} passed, {} skipped</p></header>",
        report.checks.len(),
        n(Status::Fail),
        n(Status::Warn),
        n(Status::Pass),
        n(Status::Skip)
    );
}

fn checks_table(out: &mut String, report: &Report) {
    out.push_str("<h2>Checks</h2>\n");
    if report.checks.is_empty() {
        out.push_str("<p>No checks ran.</p>\n");
        return;
    }
    out.push_str("<table>\n<tr><th>Status</th><th>Check</th><th>Summary</th></tr>\n");
    for c in &report.checks {
        let _ = writeln!(
            out,
            "<tr><td class=\"{}\"><b>{}</b></td><td><code>{}</code></td><td>{}</td></tr>",
            status_class(c.status),
            c.status.as_str(),
            h(&c.id),
            h(&c.summary)
        );
    }
    out.push_str("</table>\n");
}

fn drift_section(out: &mut String, c: &Check) {
    let (charts, all) = charts::drift_charts(c);
    if charts.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<h2>Drift: <code>{}</code></h2>\n<p class=\"legend\"><svg width=\"10\" height=\"10\"><rect class=\"ref\" \
         width=\"10\" height=\"10\"/></svg> reference &nbsp; <svg width=\"10\" height=\"10\"><rect class=\"cur\" \
         width=\"10\" height=\"10\"/></svg> current (share of rows per bin)</p>",
        h(&c.id)
    );
    if all > charts.len() {
        let _ = writeln!(
            out,
            "<p class=\"legend\">The {} columns that drift most of {all}; the table below has every one.</p>",
            charts.len()
        );
    }
    out.push_str("<div class=\"charts\">\n");
    for d in &charts {
        drift_svg(out, d);
    }
    out.push_str("</div>\n");
    drift_table(out, c);
}

/// Every column of the drift check (charted or not), in the report's order.
fn drift_table(out: &mut String, c: &Check) {
    let cols = c
        .figures
        .get("columns")
        .and_then(serde_json::Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    out.push_str("<table>\n<tr><th>Column</th><th>Test</th><th>p-value</th><th>Drift</th></tr>\n");
    for col in cols {
        let drifted = col["drifted"] == serde_json::Value::Bool(true);
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td class=\"{}\">{}</td></tr>",
            h(col["column"].as_str().unwrap_or("")),
            h(col["test"].as_str().unwrap_or("")),
            col["p_value"].as_f64().map(people).unwrap_or_else(|| "–".into()),
            if drifted { "s-fail" } else { "s-pass" },
            if drifted { "drifted" } else { "no drift" }
        );
    }
    out.push_str("</table>\n");
}

/// Reference and current bars side by side per bin, both scaled to the larger share, the first and last bin
/// named under the axis; each bar's `<title>` tells its share.
fn drift_svg(out: &mut String, d: &DriftChart) {
    let (w, plot_h, top) = (340.0, 120.0, 8.0);
    let n = d.bins.len() as f64;
    let slot = w / n;
    let bar = (slot * 0.4).max(1.0);
    let max = d
        .reference
        .iter()
        .chain(&d.current)
        .fold(0.0f64, |a, b| a.max(*b))
        .max(f64::MIN_POSITIVE);
    let status = if d.drifted { "drifted" } else { "no drift" };
    let _ = writeln!(
        out,
        "<figure><figcaption><code>{}</code> {} · {}</figcaption>\
         <svg width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">",
        h(&d.column),
        h(&d.test),
        status,
        w + 20.0,
        plot_h + top + 34.0,
        w + 20.0,
        plot_h + top + 34.0,
        h(&format!("drift of {}", d.column))
    );
    for (i, bin) in d.bins.iter().enumerate() {
        let x = 10.0 + i as f64 * slot + slot * 0.1;
        for (j, (share, class, side)) in [
            (d.reference[i], "ref", "reference"),
            (d.current[i], "cur", "current"),
        ]
        .into_iter()
        .enumerate()
        {
            let bh = share / max * plot_h;
            let _ = writeln!(
                out,
                "<rect class=\"{class}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{bh:.1}\"><title>{}: {side} {}</title></rect>",
                x + j as f64 * bar,
                top + plot_h - bh,
                h(bin),
                people(share)
            );
        }
    }
    let axis = top + plot_h;
    let _ = writeln!(
        out,
        "<line x1=\"10\" y1=\"{axis}\" x2=\"{}\" y2=\"{axis}\" stroke=\"#8c959f\"/>",
        w + 10.0
    );
    let first = super::clip(&d.bins[0], 28);
    let last = super::clip(&d.bins[d.bins.len() - 1], 28);
    let _ = writeln!(
        out,
        "<text x=\"10\" y=\"{}\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text></svg></figure>",
        axis + 16.0,
        h(&first),
        w + 10.0,
        axis + 30.0,
        h(&last)
    );
}

fn metric_section(out: &mut String, c: &Check) {
    let bars = charts::metric_bars(c);
    if bars.is_empty() {
        return;
    }
    let _ = writeln!(out, "<h2>Model metrics: <code>{}</code></h2>", h(&c.id));
    let has_baseline = bars.iter().any(|b| b.baseline.is_some());
    if has_baseline {
        out.push_str(
            "<p class=\"legend\"><svg width=\"10\" height=\"10\"><rect class=\"ref\" width=\"10\" height=\"10\"/></svg> \
             baseline &nbsp; <svg width=\"10\" height=\"10\"><rect class=\"cur\" width=\"10\" height=\"10\"/></svg> \
             this run (each metric on its own scale)</p>\n",
        );
    }
    metric_svg(out, &bars);
    out.push_str("<table>\n<tr><th>Metric</th><th>Value</th><th>Baseline</th></tr>\n");
    for b in &bars {
        let _ = writeln!(
            out,
            "<tr><td class=\"{}\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            if b.failed { "s-fail" } else { "" },
            h(&b.name),
            people(b.value),
            b.baseline.map(people).unwrap_or_else(|| "–".into())
        );
    }
    out.push_str("</table>\n");
}

/// One row per metric: this run's bar over the baseline's, scaled to the larger of the two (metrics differ in
/// unit and range, so no common axis), the number at the end.
fn metric_svg(out: &mut String, bars: &[MetricBar]) {
    let (label_w, plot_w, row_h) = (170.0, 360.0, 30.0);
    let height = bars.len() as f64 * row_h + 8.0;
    let _ = writeln!(
        out,
        "<svg width=\"{}\" height=\"{height}\" role=\"img\" aria-label=\"metrics against the baseline\">",
        label_w + plot_w + 90.0
    );
    for (i, b) in bars.iter().enumerate() {
        let y = 4.0 + i as f64 * row_h;
        let scale = b
            .value
            .abs()
            .max(b.baseline.map(f64::abs).unwrap_or(0.0))
            .max(f64::MIN_POSITIVE);
        let len = |v: f64| v.abs() / scale * plot_w;
        let _ = writeln!(
            out,
            "<text x=\"0\" y=\"{:.1}\">{}</text>",
            y + 15.0,
            h(&super::clip(&b.name, 26))
        );
        let class = if b.failed { "bad" } else { "cur" };
        let _ = writeln!(
            out,
            "<rect class=\"{class}\" x=\"{label_w}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"12\"><title>{}: {}</title></rect>",
            len(b.value),
            h(&b.name),
            people(b.value)
        );
        if let Some(base) = b.baseline {
            let _ = writeln!(
                out,
                "<rect class=\"ref\" x=\"{label_w}\" y=\"{:.1}\" width=\"{:.1}\" height=\"8\"><title>baseline {}</title></rect>",
                y + 13.0,
                len(base),
                people(base)
            );
        }
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            label_w + len(b.value) + 6.0,
            y + 11.0,
            people(b.value)
        );
    }
    out.push_str("</svg>\n");
}

fn findings_section(out: &mut String, c: &Check) {
    let total = c.total_findings().max(c.findings.len() as u64);
    let _ = writeln!(
        out,
        "<h3 class=\"{}\"><code>{}</code>: {total} finding{}</h3>\n<ul>",
        status_class(c.status),
        h(&c.id),
        if total == 1 { "" } else { "s" }
    );
    for g in group::group(&c.findings) {
        let sev = match g.severity() {
            Severity::Error => "s-fail",
            Severity::Warning => "s-warn",
        };
        let _ = writeln!(
            out,
            "<li><code class=\"{sev}\">{}</code> {}</li>",
            h(g.code),
            h(&g.sentence())
        );
    }
    out.push_str("</ul>\n");
    let _ = writeln!(
        out,
        "<details><summary>Every finding of <code>{}</code></summary>\n<table>\n\
         <tr><th>Location</th><th>Row</th><th>Field</th><th>Value</th><th>Code</th><th>Message</th></tr>",
        h(&c.id)
    );
    for f in c.findings.iter().take(LISTED_PER_CHECK) {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            h(&f.location().unwrap_or_default()),
            f.row.map(|r| r.to_string()).unwrap_or_default(),
            h(f.field.as_deref().unwrap_or("")),
            h(&super::clip(f.value.as_deref().unwrap_or(""), 60)),
            h(&f.code),
            h(&super::clip(&f.message, 300))
        );
    }
    out.push_str("</table>\n");
    let listed = c.findings.len().min(LISTED_PER_CHECK) as u64;
    if total > listed {
        let _ = writeln!(
            out,
            "<p>{} more not listed; report.json has the first {}.</p>",
            total - listed,
            super::MAX_FINDINGS_PER_CHECK
        );
    }
    out.push_str("</details>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Finding;

    #[test]
    fn no_url_no_script_and_hostile_text_stays_text() {
        let evil = "<script>alert(1)</script><img src=x onerror=alert(1)> https://evil.example \"'";
        let mut c = Check::new(evil, "schema");
        c.status = Status::Fail;
        c.summary = evil.into();
        let mut f = Finding::new(evil, Severity::Error, evil);
        f.value = Some(evil.into());
        f.field = Some(evil.into());
        c.findings = vec![f];
        let html = render_html(&Report::new(vec![c]));
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("class=\"verdict fail\""), "{html}");
    }

    #[test]
    fn at_most_six_drift_charts_and_every_column_in_the_table() {
        let mut c = Check::new("d", "drift");
        let cols: Vec<serde_json::Value> = (0..8)
            .map(|i| {
                serde_json::json!({"column": format!("c{i}"), "test": "ks", "drifted": i % 2 == 0,
                    "p_value": 0.01 * i as f64,
                    "histogram": {"bins": ["a", "b"], "reference": [1, 2], "current": [2, 1]}})
            })
            .collect();
        c.figures.insert("columns".into(), serde_json::json!(cols));
        let html = render_html(&Report::new(vec![c]));
        assert_eq!(html.matches("<figure>").count(), 6);
        assert!(html.contains("The 6 columns that drift most of 8"));
        assert_eq!(html.matches("<tr><td><code>c").count(), 8);
    }
}
