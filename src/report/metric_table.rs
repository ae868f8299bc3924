//! The table of a `metric` check (one row per metric: value, baseline, delta, 95% interval, gate, status) in
//! markdown for the PR comment and in plain columns for the terminal, plus the confusion matrix in markdown.

use std::fmt::Write;

use serde_json::Value;

use super::escape::{escape, Ctx};
use super::Check;

fn cell(s: &str) -> String {
    escape(s, Ctx::Markdown)
}

/// A metric's number for people ([`super::people`]), with a real minus; a dash when there is none.
pub(crate) fn num(v: &Value) -> String {
    match v.as_f64() {
        None => "–".into(),
        Some(x) => super::people(x).replace('-', "−"),
    }
}

fn signed(v: &Value) -> String {
    match v.as_f64() {
        Some(x) if x > 0.0 => format!("+{}", num(v)),
        _ => num(v),
    }
}

fn interval(v: &Value) -> String {
    match v.as_array().map(|a| a.as_slice()) {
        Some([lo, hi]) => format!("[{}, {}]", num(lo), num(hi)),
        _ => "–".into(),
    }
}

fn status_icon(s: &str) -> &'static str {
    match s {
        "pass" => "✅",
        "fail" => "❌",
        "warn" => "⚠️",
        _ => "",
    }
}

/// Units of the operational metrics, shown after the name.
fn unit(name: &str) -> &'static str {
    match name {
        "latency_p50" | "latency_p95" | "latency_p99" => " (ms)",
        "throughput" => " (rows/s)",
        "model_size" => " (bytes)",
        _ => "",
    }
}

fn metrics(c: &Check) -> &[Value] {
    c.figures
        .get("metrics")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

pub(crate) fn render_markdown(out: &mut String, c: &Check) {
    let rows = metrics(c);
    if rows.is_empty() {
        return;
    }
    let has_baseline = !c.figures.get("baseline").is_none_or(Value::is_null);
    let mut title = format!("📈 <code>{}</code>: metrics", escape(&c.id, Ctx::Html));
    if let Some(n) = c
        .figures
        .get("rows")
        .and_then(Value::as_u64)
        .filter(|n| *n > 0)
    {
        let _ = write!(title, " on {n} rows");
    }
    if let Some(b) = c.figures.get("baseline").filter(|b| !b.is_null()) {
        let what = b
            .get("ref")
            .or_else(|| b.get("path"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let _ = write!(title, ", baseline <code>{}</code>", escape(what, Ctx::Html));
    }
    let _ = writeln!(out, "\n<details open><summary>{title}</summary>\n");
    if has_baseline {
        let _ = writeln!(
            out,
            "| Metric | Value | Baseline | Δ | 95% CI | Gate | |\n|---|---|---|---|---|---|---|"
        );
    } else {
        let _ = writeln!(out, "| Metric | Value | Gate | |\n|---|---|---|---|");
    }
    for r in rows {
        let name = r["name"].as_str().unwrap_or("");
        let gate = r["gate"].as_str().unwrap_or("");
        let icon = status_icon(r["status"].as_str().unwrap_or(""));
        if has_baseline {
            let _ = writeln!(
                out,
                "| {}{} | {} | {} | {} | {} | {} | {} |",
                cell(name),
                unit(name),
                num(&r["value"]),
                num(&r["baseline"]),
                signed(&r["delta"]),
                interval(&r["interval"]),
                cell(gate),
                icon
            );
        } else {
            let _ = writeln!(
                out,
                "| {}{} | {} | {} | {} |",
                cell(name),
                unit(name),
                num(&r["value"]),
                cell(gate),
                icon
            );
        }
    }
    out.push_str(&super::mermaid::metric_chart_markdown(c));
    render_confusion(out, c);
    let _ = writeln!(out, "\n</details>");
}

/// The confusion matrix when it is small enough to read in a comment.
fn render_confusion(out: &mut String, c: &Check) {
    let Some(cm) = c.figures.get("confusion_matrix") else {
        return;
    };
    let labels: Vec<String> = cm["labels"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|l| {
                    l.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| l.to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    let Some(matrix) = cm["matrix"].as_array() else {
        return;
    };
    if labels.is_empty() || labels.len() > 12 {
        return;
    }
    let _ = writeln!(out, "\nConfusion matrix (rows: true, columns: predicted)\n");
    let head: Vec<String> = labels.iter().map(|l| cell(l)).collect();
    let _ = writeln!(out, "| | {} |", head.join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(labels.len()));
    for (l, row) in labels.iter().zip(matrix) {
        let cells: Vec<String> = row
            .as_array()
            .map(|a| a.iter().map(|v| cell(&v.to_string())).collect())
            .unwrap_or_default();
        let _ = writeln!(out, "| **{}** | {} |", cell(l), cells.join(" | "));
    }
}

/// Plain columns for the terminal, indented under the check's line.
pub(crate) fn render_human(out: &mut String, c: &Check) {
    let rows = metrics(c);
    if rows.is_empty() {
        return;
    }
    let has_baseline = !c.figures.get("baseline").is_none_or(Value::is_null);
    let mut lines: Vec<[String; 6]> = vec![];
    for r in rows {
        let name = r["name"].as_str().unwrap_or("");
        lines.push([
            format!("{name}{}", unit(name)),
            num(&r["value"]),
            if has_baseline {
                format!("{} → ", num(&r["baseline"]))
            } else {
                String::new()
            },
            if has_baseline && !r["delta"].is_null() {
                format!(
                    "Δ {} {}",
                    signed(&r["delta"]),
                    if r["interval"].is_null() {
                        String::new()
                    } else {
                        interval(&r["interval"])
                    }
                )
            } else {
                String::new()
            },
            r["gate"]
                .as_str()
                .map(|g| format!("gate: {g}"))
                .unwrap_or_default(),
            match r["status"].as_str() {
                Some("skip") | None => String::new(),
                Some(s) => s.to_string(),
            },
        ]);
    }
    let w0 = lines
        .iter()
        .map(|l| l[0].chars().count())
        .max()
        .unwrap_or(0);
    let w1 = lines
        .iter()
        .map(|l| l[1].chars().count())
        .max()
        .unwrap_or(0);
    let w2 = lines
        .iter()
        .map(|l| l[2].chars().count())
        .max()
        .unwrap_or(0);
    let w3 = lines
        .iter()
        .map(|l| l[3].chars().count())
        .max()
        .unwrap_or(0);
    for l in lines {
        let line = format!(
            "      {:<w0$}  {:>w2$}{:<w1$}  {:<w3$}  {}  {}",
            l[0], l[2], l[1], l[3], l[4], l[5]
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_read_well() {
        assert_eq!(num(&json!(0.95104895)), "0.951");
        assert_eq!(num(&json!(-0.0125)), "−0.0125");
        assert_eq!(num(&json!(155998)), "155998");
        assert_eq!(num(&json!(0.00001)), "1e−5");
        assert_eq!(num(&Value::Null), "–");
        assert_eq!(signed(&json!(0.01)), "+0.01");
    }
}
