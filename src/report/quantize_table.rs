//! The table of a `quantization` check: one row per variant (float, then the quantized one) with its size, the
//! gated metric, its drop, argmax agreement with the float model and the largest output difference.

use std::fmt::Write;

use serde_json::Value;

use super::escape::{escape, Ctx};
use super::metric_table::num;
use super::people;
use super::Check;

const HEAD: [&str; 7] = [
    "variant",
    "size (bytes)",
    "size ratio",
    "metric",
    "drop",
    "argmax agreement",
    "max abs diff",
];

fn rows(check: &Check) -> Vec<[String; 7]> {
    let metric = check
        .figures
        .get("metric")
        .and_then(Value::as_str)
        .unwrap_or("metric");
    let Some(variants) = check.figures.get("variants").and_then(Value::as_array) else {
        return vec![];
    };
    variants
        .iter()
        .map(|v| {
            let m = match v["metric"].as_f64() {
                Some(_) => format!("{metric} {}", num(&v["metric"])),
                None => "–".into(),
            };
            let agreement = match v["argmax_agreement"].as_f64() {
                Some(a) => format!("{}%", people(a * 100.0)),
                None => "–".into(),
            };
            let diff = match v["max_abs_diff"].as_f64() {
                Some(d) => people(d),
                None => "–".into(),
            };
            [
                v["variant"].as_str().unwrap_or("").to_string(),
                v["size"]
                    .as_u64()
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
                v["size_ratio"].as_f64().map(people).unwrap_or_default(),
                m,
                num(&v["drop"]),
                agreement,
                diff,
            ]
        })
        .collect()
}

pub(super) fn render_human(out: &mut String, check: &Check) {
    let rows = rows(check);
    if rows.is_empty() {
        return;
    }
    let mut widths = HEAD.map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let parts: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("      {}", parts.join("  ").trim_end())
    };
    let _ = writeln!(out, "{}", line(&HEAD.map(String::from)));
    for r in &rows {
        let _ = writeln!(out, "{}", line(r));
    }
}

pub(super) fn render_markdown(out: &mut String, check: &Check) {
    let rows = rows(check);
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n**{}**\n", escape(&check.id, Ctx::Code));
    let _ = writeln!(out, "| {} |", HEAD.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(HEAD.len()));
    for r in &rows {
        let cells: Vec<String> = r.iter().map(|c| escape(c, Ctx::Markdown)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
}
