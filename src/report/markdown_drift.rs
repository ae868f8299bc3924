//! The markdown of a `drift` check: one compact table, with both distributions as text sparklines, then the
//! histograms as Mermaid charts ([`super::mermaid`]): GitHub shows both in a comment without any image hosting.

use std::fmt::Write;

use serde_json::Value;

use super::escape::{escape, Ctx};
use super::Check;

fn cell(s: &str) -> String {
    escape(s, Ctx::Markdown)
}

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Shares of each bin as bar characters, scaled to the larger of the two sides' largest share so that the two
/// sparklines of a row compare.
fn sparkline(counts: &[f64], total: f64, top: f64) -> String {
    counts
        .iter()
        .map(|c| {
            let share = if total > 0.0 { c / total } else { 0.0 };
            if share <= 0.0 || top <= 0.0 {
                ' '
            } else {
                let i = ((share / top) * 7.0).round() as usize;
                BARS[i.min(7)]
            }
        })
        .collect()
}

fn num(v: &Value) -> String {
    match v.as_f64() {
        None => "–".into(),
        Some(x) => super::people(x),
    }
}

fn counts(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

pub(crate) fn render_drift(out: &mut String, c: &Check) {
    let Some(cols) = c.figures.get("columns").and_then(Value::as_array) else {
        return;
    };
    if cols.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n<details open><summary>📊 <code>{}</code>: drift per column</summary>\n",
        escape(&c.id, Ctx::Html)
    );
    let _ = writeln!(
        out,
        "| Column | Type | Test | Statistic | p-value | Threshold | Drift | Reference | Current | Bins |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    for col in cols {
        let h = &col["histogram"];
        let (r, cu) = (counts(&h["reference"]), counts(&h["current"]));
        let (rt, ct) = (r.iter().sum::<f64>(), cu.iter().sum::<f64>());
        let max_share = |v: &[f64], t: f64| {
            v.iter()
                .map(|x| if t > 0.0 { x / t } else { 0.0 })
                .fold(0.0, f64::max)
        };
        let top = max_share(&r, rt).max(max_share(&cu, ct));
        let bins: Vec<&str> = h["bins"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let bins_text = match (bins.first(), bins.last()) {
            (Some(f), Some(l)) if f.starts_with('[') => {
                let lo = f.trim_start_matches('[').split(',').next().unwrap_or("");
                let hi = l
                    .trim_end_matches([']', ')'])
                    .rsplit(", ")
                    .next()
                    .unwrap_or("");
                format!("{} bins, {lo} … {hi}", bins.len())
            }
            _ => bins.join(", "),
        };
        let drift = if col["drifted"] == Value::Bool(true) {
            "❌ drifted"
        } else {
            "✅"
        };
        let method = if col["method"] == "sketch" {
            " (sketch)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "| {} | {} | {}{} | {} | {} | {} | {} | `{}` | `{}` | {} |",
            cell(col["column"].as_str().unwrap_or("")),
            cell(col["type"].as_str().unwrap_or("")),
            cell(col["test"].as_str().unwrap_or("")),
            method,
            num(&col["statistic"]),
            col.get("p_value").map(num).unwrap_or_default(),
            num(&col["threshold"]),
            drift,
            sparkline(&r, rt, top),
            sparkline(&cu, ct, top),
            cell(&super::clip(&bins_text, 80)),
        );
    }
    let share = c.figures.get("drifted_share").map(num).unwrap_or_default();
    let limit = c.figures.get("drift_share").map(num).unwrap_or_default();
    let _ = writeln!(
        out,
        "\nDrifted share {share} (the dataset drifts at ≥ {limit})."
    );
    out.push_str(&super::mermaid::drift_charts_markdown(c));
    let _ = writeln!(out, "\n</details>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_compare_both_sides() {
        assert_eq!(sparkline(&[1.0, 0.0, 3.0], 4.0, 0.75), "▃ █");
    }
}
