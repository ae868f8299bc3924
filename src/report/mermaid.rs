//! Mermaid charts (`xychart-beta`), which GitHub draws in comments and job summaries without an image host: the
//! drift histograms (reference as bars, current as a line, shares of rows per bin) and the quality metrics against
//! their baseline. They come beside the tables, never instead of them.
//!
//! Labels come from the data (column names, categories) and Mermaid has its own injection surface: a `"` ends a
//! quoted label, a line break starts a new statement (`click` callbacks, `%%{init}%%` directives), and labels
//! may be drawn as HTML. [`label`] keeps letters, digits and a few inert punctuation marks, replaces everything
//! else with a space, and clips; no label can then leave its quotes, its line or the code fence.

use std::fmt::Write;

use super::charts::{self, DriftChart, MetricBar};
use super::Check;

/// Characters of one label or title.
const LABEL_CHARS: usize = 40;
/// Metrics in one chart.
const MAX_METRICS: usize = 20;

/// `s` as the inside of a quoted Mermaid string: letters and digits of any script, spaces, and `.,:;_+-*=()[]`.
/// `%` (directives), `"`, `'`, backticks, `<>&#{}|\/@`, line breaks and controls become spaces (without `/` no
/// URL survives, without `@` no mention).
pub(crate) fn label(s: &str) -> String {
    let kept: String = s
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || " .,:;_+-*=()[]".contains(c) {
                c
            } else {
                ' '
            }
        })
        .collect();
    let trimmed = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    let clipped = super::clip(&trimmed, LABEL_CHARS);
    if clipped.is_empty() {
        "_".into()
    } else {
        clipped
    }
}

fn number(x: f64) -> String {
    if x.is_finite() {
        let s = format!("{x:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s.is_empty() || s == "-" {
            "0".into()
        } else {
            s.to_string()
        }
    } else {
        "0".into()
    }
}

fn list(xs: &[f64]) -> String {
    xs.iter().map(|x| number(*x)).collect::<Vec<_>>().join(", ")
}

fn labels<'a>(xs: impl Iterator<Item = &'a str>) -> String {
    xs.map(|s| format!("\"{}\"", label(s)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An upper end for the y axis a little above `max`, so the tallest bar does not touch the top.
fn top(max: f64) -> String {
    number((max * 1.1).max(0.01))
}

fn drift_chart(out: &mut String, d: &DriftChart) {
    let max = d
        .reference
        .iter()
        .chain(&d.current)
        .fold(0.0f64, |a, b| a.max(*b));
    let status = if d.drifted { "drifted" } else { "no drift" };
    let _ = writeln!(
        out,
        "\n```mermaid\nxychart-beta\n    title \"{} ({}, {status})\"\n    x-axis [{}]\n    y-axis \"share of rows\" 0 --> {}\n    bar [{}]\n    line [{}]\n```",
        label(&d.column),
        label(&d.test),
        labels(d.bins.iter().map(String::as_str)),
        top(max),
        list(&d.reference),
        list(&d.current)
    );
}

/// The drift check's histograms as charts (bars: reference, line: current), the columns that drift most first;
/// empty when the check has none.
pub fn drift_charts_markdown(c: &Check) -> String {
    let (charts, all) = charts::drift_charts(c);
    let mut out = String::new();
    if charts.is_empty() {
        return out;
    }
    let _ = write!(
        out,
        "\nShare of rows per bin: bars the reference, the line the current data"
    );
    if all > charts.len() {
        let _ = write!(
            out,
            " ({} columns that drift most of {all}; the table has every one)",
            charts.len()
        );
    }
    out.push_str(".\n");
    for d in &charts {
        drift_chart(&mut out, d);
    }
    out
}

/// Quality metrics (values and baselines between 0 and 1, one scale) as bars with the baseline as a line; empty
/// without a baseline. Latency, throughput and size differ in unit and stay in the table.
pub fn metric_chart_markdown(c: &Check) -> String {
    let bars: Vec<MetricBar> = charts::metric_bars(c)
        .into_iter()
        .filter(|b| {
            let unit = |x: f64| (0.0..=1.0).contains(&x);
            unit(b.value) && b.baseline.is_some_and(unit)
        })
        .take(MAX_METRICS)
        .collect();
    if bars.is_empty() {
        return String::new();
    }
    let values: Vec<f64> = bars.iter().map(|b| b.value).collect();
    let baselines: Vec<f64> = bars.iter().filter_map(|b| b.baseline).collect();
    let min = values
        .iter()
        .chain(&baselines)
        .fold(1.0f64, |a, b| a.min(*b));
    // Start the axis below the smallest value so that differences of a few points show.
    let bottom = ((min - 0.05).max(0.0) * 20.0).floor() / 20.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nBars this run, the line the baseline.\n\n```mermaid\nxychart-beta\n    title \"{} against the baseline\"\n    x-axis [{}]\n    y-axis \"value\" {} --> 1\n    bar [{}]\n    line [{}]\n```",
        label(&c.subject),
        labels(bars.iter().map(|b| b.name.as_str())),
        number(bottom),
        list(&values),
        list(&baselines)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hostile_labels_cannot_leave_their_quotes_line_or_fence() {
        let evil =
            "a\"] \n%%{init: {'theme':'dark'}}%%\nclick A call alert() `x` <b onclick=1>&#34;</b>";
        let l = label(evil);
        for bad in ['"', '\n', '%', '{', '`', '<', '>', '&', '#', '\'', '/', '@'] {
            assert!(!l.contains(bad), "{bad:?} in {l:?}");
        }
        assert_eq!(l, "a ] init: theme : dark click A call ale…");
        assert_eq!(
            label("see https://evil.example @octocat"),
            "see https: evil.example octocat"
        );
        assert_eq!(label("€ prix (°C)"), "prix ( C)");
        assert_eq!(label(""), "_");
    }

    #[test]
    fn a_drift_chart_has_bars_and_a_line() {
        let mut c = Check::new("d", "drift");
        c.figures.insert(
            "columns".into(),
            json!([{"column": "amount", "test": "ks", "drifted": true, "p_value": 0.001,
                    "histogram": {"bins": ["[0, 1)", "[1, 2]"], "reference": [1, 3], "current": [3, 1]}}]),
        );
        let md = drift_charts_markdown(&c);
        assert!(md.contains("```mermaid\nxychart-beta\n    title \"amount (ks, drifted)\"\n    x-axis [\"[0, 1)\", \"[1, 2]\"]\n    y-axis \"share of rows\" 0 --> 0.825\n    bar [0.25, 0.75]\n    line [0.75, 0.25]\n```"), "{md}");
    }

    #[test]
    fn metrics_on_one_scale_only() {
        let mut c = Check::new("m", "metric");
        c.figures.insert(
            "metrics".into(),
            json!([{"name": "accuracy", "value": 0.9, "baseline": 0.95},
                   {"name": "latency_p50", "value": 12.0, "baseline": 10.0},
                   {"name": "f1", "value": 0.8}]),
        );
        let md = metric_chart_markdown(&c);
        assert!(md.contains("    x-axis [\"accuracy\"]\n    y-axis \"value\" 0.85 --> 1\n    bar [0.9]\n    line [0.95]"), "{md}");
    }
}
