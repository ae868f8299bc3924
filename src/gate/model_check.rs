//! The `metric` check of one model: its metrics, each against its gate and its baseline, with the bootstrap
//! interval of every delta, as one [`Check`] (figures and findings as DESIGN.md's report contract fixes them).

use indexmap::IndexMap;
use serde_json::{json, Value};

use super::threshold::{direction_of, evaluate, Direction, GateSpec, Missing};
use super::{paired_bootstrap_many, Interval};
use crate::model::{Evaluation, Scored};
use crate::report::{Check, Finding, Severity, Status};

/// The check's kind.
pub const KIND: &str = "metric";

/// Where a baseline came from.
#[derive(Debug, Clone, PartialEq)]
pub enum BaselineSource {
    /// The model at a git ref, re-evaluated on the same data.
    Git { reference: String, path: String },
    /// The metrics of a previous report.json.
    Report { path: String },
}

/// The baseline's metrics, and its per-row predictions when it was evaluated here (for the paired bootstrap).
#[derive(Debug, Clone)]
pub struct Baseline {
    pub source: BaselineSource,
    pub rows: Option<usize>,
    pub metrics: IndexMap<String, Option<f64>>,
    pub scored: Option<Scored>,
}

impl Baseline {
    /// `origin/main` or `report.json`, for summaries.
    pub fn label(&self) -> String {
        match &self.source {
            BaselineSource::Git { reference, .. } => reference.clone(),
            BaselineSource::Report { path } => path.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct BootstrapOptions {
    pub resamples: usize,
    pub seed: u64,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        BootstrapOptions {
            resamples: 1000,
            seed: 42,
        }
    }
}

/// Everything the check is made from.
pub struct MetricCheckInput<'a> {
    /// The model's name in mlgate.yml (or the file's stem for `mlgate eval`).
    pub name: &'a str,
    pub evaluation: &'a Evaluation,
    /// Metrics from a metrics file, added to (and overriding) the evaluated ones.
    pub extra_metrics: IndexMap<String, Option<f64>>,
    pub baseline: Option<&'a Baseline>,
    pub gates: &'a IndexMap<String, GateSpec>,
    pub bootstrap: BootstrapOptions,
    /// The config file, for findings.
    pub config_file: Option<String>,
}

/// Short numbers for summaries and gate texts: numbers for people ([`crate::report::people`]), a real minus.
pub fn short(x: f64) -> String {
    crate::report::people(x).replace('-', "−")
}

fn gate_text(spec: &GateSpec) -> String {
    let mut parts = vec![];
    if let Some(m) = spec.min {
        parts.push(format!("min {m}"));
    }
    if let Some(m) = spec.max {
        parts.push(format!("max {m}"));
    }
    if let Some(m) = spec.max_drop {
        parts.push(format!("max_drop {m}"));
    }
    if let Some(m) = spec.max_relative_drop {
        parts.push(format!("max_relative_drop {m}"));
    }
    match spec.missing {
        Missing::Fail => {}
        Missing::Warn => parts.push("missing: warn".into()),
        Missing::Skip => parts.push("missing: skip".into()),
    }
    if spec.require_significance && (spec.max_drop.is_some() || spec.max_relative_drop.is_some()) {
        parts.push("significant drops only".into());
    }
    parts.join(", ")
}

fn num(x: Option<f64>) -> Value {
    match x {
        Some(v) if v.is_finite() => json!(v),
        _ => Value::Null,
    }
}

/// Builds the check. `Err` names a gate that cannot be judged (a custom metric without a direction).
pub fn metric_check(input: &MetricCheckInput<'_>) -> Result<Check, String> {
    let ev = input.evaluation;
    let mut check = Check::new(input.name, KIND);
    let mut values: IndexMap<String, Option<f64>> = ev.metrics.clone();
    for (k, v) in &input.extra_metrics {
        values.insert(k.clone(), *v);
    }
    for k in input.gates.keys() {
        values.entry(k.clone()).or_insert(None);
    }
    // Paired bootstrap of every quality metric against a baseline evaluated on the same rows.
    let mut intervals: IndexMap<String, Interval> = IndexMap::new();
    if let (Some(cand), Some(b)) = (&ev.scored, input.baseline) {
        if let Some(base) = &b.scored {
            if cand.rows() == base.rows() && cand.task() == base.task() {
                let names: Vec<&'static str> = cand.metrics(None).keys().copied().collect();
                let found = paired_bootstrap_many(
                    cand.rows(),
                    input.bootstrap.resamples,
                    input.bootstrap.seed,
                    names.len(),
                    |rows, which| {
                        let s = if which == 0 { cand } else { base };
                        let m = s.metrics(Some(rows));
                        names.iter().map(|n| m.get(n).copied().flatten()).collect()
                    },
                );
                for (n, i) in names.iter().zip(found) {
                    if let Some(i) = i {
                        intervals.insert(n.to_string(), i);
                    }
                }
            }
        }
    }
    let mut rows_out = vec![];
    let mut summary_parts = vec![];
    let mut status = Status::Pass;
    let base_label = input.baseline.map(Baseline::label);
    for (name, value) in &values {
        let baseline_value = input
            .baseline
            .and_then(|b| b.metrics.get(name).copied().flatten());
        let interval = intervals.get(name).copied();
        let spec = input.gates.get(name);
        let direction = spec
            .and_then(|s| s.direction)
            .or_else(|| direction_of(name));
        let delta = match (value, baseline_value) {
            (Some(v), Some(b)) => Some(v - b),
            _ => None,
        };
        let relative = match (delta, baseline_value) {
            (Some(d), Some(b)) if b != 0.0 => Some(d / b.abs()),
            _ => None,
        };
        let mut metric_status = Status::Skip;
        if let Some(spec) = spec {
            let outcome = evaluate(name, spec, *value, baseline_value, interval)?;
            metric_status = outcome.status;
            status = status.max(outcome.status);
            let mut part = format!(
                "{name} {}",
                value.map(short).unwrap_or_else(|| "missing".into())
            );
            if let Some(v) = value {
                match outcome.status {
                    Status::Pass => {
                        if let Some(m) = spec.min {
                            part.push_str(&format!(" ≥ {}", short(m)));
                        }
                        if let Some(m) = spec.max {
                            part.push_str(&format!(" ≤ {}", short(m)));
                        }
                    }
                    _ => {
                        if let Some(m) = spec.min.filter(|m| *v < *m) {
                            part.push_str(&format!(" < {}", short(m)));
                        }
                        if let Some(m) = spec.max.filter(|m| *v > *m) {
                            part.push_str(&format!(" > {}", short(m)));
                        }
                    }
                }
            }
            if let (Some(d), Some(l)) = (delta, &base_label) {
                let sign = if d > 0.0 { "+" } else { "" };
                part.push_str(&format!(" ({sign}{} vs {l}", short(d)));
                if let Some(i) = interval {
                    part.push_str(&format!(", 95% CI [{}, {}]", short(i.low), short(i.high)));
                }
                part.push(')');
            }
            if outcome.status != Status::Pass {
                let missing = outcome.value.is_none();
                let mut f = Finding::new(
                    if missing {
                        "metric-missing"
                    } else {
                        "metric-gate"
                    },
                    if outcome.status == Status::Fail {
                        Severity::Error
                    } else {
                        Severity::Warning
                    },
                    outcome.reasons.join("; "),
                );
                f.file = input.config_file.clone();
                f.field = Some(name.clone());
                f.value = value.map(|v| v.to_string());
                *check.counts.entry(f.code.clone()).or_insert(0) += 1;
                check.findings.push(f);
            }
            if outcome.status != Status::Skip {
                summary_parts.push((outcome.status, part));
            }
        }
        rows_out.push(json!({
            "name": name,
            "value": num(*value),
            "baseline": num(baseline_value),
            "delta": num(delta),
            "relative_delta": num(relative),
            "interval": interval.map(|i| json!([i.low, i.high])).unwrap_or(Value::Null),
            "gate": spec.map(|s| Value::String(gate_text(s))).unwrap_or(Value::Null),
            "direction": match direction {
                Some(Direction::HigherIsBetter) => json!("higher_is_better"),
                Some(Direction::LowerIsBetter) => json!("lower_is_better"),
                None => Value::Null,
            },
            "status": metric_status.as_str(),
        }));
    }
    if !ev.nan_rows.is_empty() {
        status = Status::Fail;
        let first: Vec<String> = ev
            .nan_rows
            .iter()
            .take(10)
            .map(|r| (r + 1).to_string())
            .collect();
        let mut f = Finding::new(
            "nan-output",
            Severity::Error,
            format!(
                "the model's output is NaN on {} of {} rows (data rows {}{}); no quality metric can be computed",
                ev.nan_rows.len(),
                ev.rows,
                first.join(", "),
                if ev.nan_rows.len() > 10 { ", …" } else { "" }
            ),
        );
        f.file = Some(ev.model.clone());
        f.value = Some("NaN".into());
        *check.counts.entry(f.code.clone()).or_insert(0) += 1;
        check.findings.insert(0, f);
        summary_parts.insert(
            0,
            (
                Status::Fail,
                format!("output NaN on {} of {} rows", ev.nan_rows.len(), ev.rows),
            ),
        );
    }
    if summary_parts.is_empty() {
        // No gate: the headline metrics.
        let headline: &[&str] = match ev.task {
            crate::model::Task::Classification => &["accuracy", "f1_macro"],
            crate::model::Task::Regression => &["r2", "rmse"],
        };
        for h in headline {
            if let Some(Some(v)) = values.get(*h) {
                let mut part = format!("{h} {}", short(*v));
                if let (Some(b), Some(l)) = (
                    input
                        .baseline
                        .and_then(|b| b.metrics.get(*h).copied().flatten()),
                    &base_label,
                ) {
                    let d = v - b;
                    let sign = if d > 0.0 { "+" } else { "" };
                    part.push_str(&format!(" ({sign}{} vs {l})", short(d)));
                }
                summary_parts.push((Status::Pass, part));
            }
        }
        summary_parts.push((Status::Pass, format!("{} rows", ev.rows)));
    }
    // What failed first, then what warned, then the rest, each in config order.
    summary_parts.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
    let parts: Vec<String> = summary_parts.into_iter().map(|(_, p)| p).collect();
    check.status = status;
    check.summary = parts.join("; ");
    check.figures.insert("model".into(), json!(ev.model));
    check.figures.insert("task".into(), json!(ev.task.as_str()));
    check.figures.insert("rows".into(), json!(ev.rows));
    check.figures.insert(
        "baseline".into(),
        match input.baseline {
            None => Value::Null,
            Some(b) => match &b.source {
                BaselineSource::Git { reference, path } => {
                    json!({"source": "git", "ref": reference, "path": path, "rows": b.rows})
                }
                BaselineSource::Report { path } => {
                    json!({"source": "report", "path": path, "rows": b.rows})
                }
            },
        },
    );
    check
        .figures
        .insert("metrics".into(), Value::Array(rows_out));
    if let Some((labels, matrix)) = ev.scored.as_ref().and_then(Scored::confusion) {
        let names = ev.class_names.as_ref();
        let label_values: Vec<Value> = labels
            .iter()
            .map(|&l| {
                names
                    .and_then(|n| usize::try_from(l).ok().and_then(|i| n.get(i)))
                    .map(|s| json!(s))
                    .unwrap_or_else(|| json!(l))
            })
            .collect();
        check.figures.insert(
            "confusion_matrix".into(),
            json!({"labels": label_values, "matrix": matrix}),
        );
    }
    Ok(check)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_numbers() {
        assert_eq!(short(0.951048), "0.951");
        assert_eq!(short(-0.0125), "−0.0125");
        assert_eq!(short(1234.6), "1235");
        assert_eq!(short(12.345), "12.35");
        assert_eq!(short(0.0), "0");
        assert_eq!(short(0.00012), "1.2e−4");
    }
}
