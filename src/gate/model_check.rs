//! The `metric` check of one model: its metrics, each against its gate and its baseline, with the bootstrap
//! interval of every delta, as one [`Check`] (figures and findings as DESIGN.md's report contract fixes them).

use indexmap::IndexMap;
use serde_json::{json, Value};

use super::threshold::{direction_of, evaluate, Direction, GateOutcome, GateSpec, Missing};
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
    let values = metric_values(input);
    let intervals = bootstrap_intervals(input);
    let base_label = input.baseline.map(Baseline::label);
    let mut rows_out = vec![];
    let mut summary_parts = vec![];
    let mut status = Status::Pass;
    for (name, value) in &values {
        let m = Metric {
            name,
            value: *value,
            baseline: baseline_value(input, name),
            interval: intervals.get(name).copied(),
            spec: input.gates.get(name),
        };
        let mut metric_status = Status::Skip;
        if let Some(spec) = m.spec {
            let outcome = evaluate(name, spec, m.value, m.baseline, m.interval)?;
            metric_status = outcome.status;
            status = status.max(outcome.status);
            if outcome.status != Status::Pass {
                let f = gate_finding(&m, &outcome, input.config_file.clone());
                *check.counts.entry(f.code.clone()).or_insert(0) += 1;
                check.findings.push(f);
            }
            if outcome.status != Status::Skip {
                summary_parts.push((outcome.status, m.summary(spec, outcome.status, &base_label)));
            }
        }
        rows_out.push(m.row(metric_status));
    }
    if !ev.nan_rows.is_empty() {
        status = Status::Fail;
        let (f, part) = nan_finding(ev);
        *check.counts.entry(f.code.clone()).or_insert(0) += 1;
        check.findings.insert(0, f);
        summary_parts.insert(0, (Status::Fail, part));
    }
    if summary_parts.is_empty() {
        summary_parts = headline_parts(input, &values, &base_label);
    }
    // What failed first, then what warned, then the rest, each in config order.
    summary_parts.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
    let parts: Vec<String> = summary_parts.into_iter().map(|(_, p)| p).collect();
    check.status = status;
    check.summary = parts.join("; ");
    check.figures.insert("model".into(), json!(ev.model));
    check.figures.insert("task".into(), json!(ev.task.as_str()));
    check.figures.insert("rows".into(), json!(ev.rows));
    check
        .figures
        .insert("baseline".into(), baseline_figure(input.baseline));
    check
        .figures
        .insert("metrics".into(), Value::Array(rows_out));
    if let Some(confusion) = confusion_figure(ev) {
        check.figures.insert("confusion_matrix".into(), confusion);
    }
    Ok(check)
}

/// The evaluated metrics, then a metrics file's (which override), then every gated metric (missing ones as None).
fn metric_values(input: &MetricCheckInput<'_>) -> IndexMap<String, Option<f64>> {
    let mut values: IndexMap<String, Option<f64>> = input.evaluation.metrics.clone();
    for (k, v) in &input.extra_metrics {
        values.insert(k.clone(), *v);
    }
    for k in input.gates.keys() {
        values.entry(k.clone()).or_insert(None);
    }
    values
}

fn baseline_value(input: &MetricCheckInput<'_>, name: &str) -> Option<f64> {
    input
        .baseline
        .and_then(|b| b.metrics.get(name).copied().flatten())
}

/// Paired bootstrap of every quality metric against a baseline evaluated on the same rows (none otherwise).
fn bootstrap_intervals(input: &MetricCheckInput<'_>) -> IndexMap<String, Interval> {
    let mut intervals = IndexMap::new();
    let (Some(cand), Some(base)) = (
        &input.evaluation.scored,
        input.baseline.and_then(|b| b.scored.as_ref()),
    ) else {
        return intervals;
    };
    if cand.rows() != base.rows() || cand.task() != base.task() {
        return intervals;
    }
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
    intervals
}

/// One metric with what it is judged against.
struct Metric<'a> {
    name: &'a str,
    value: Option<f64>,
    baseline: Option<f64>,
    interval: Option<Interval>,
    spec: Option<&'a GateSpec>,
}

impl Metric<'_> {
    fn delta(&self) -> Option<f64> {
        Some(self.value? - self.baseline?)
    }

    /// The summary's part: `accuracy 0.91 ≥ 0.9 (+0.01 vs origin/main, 95% CI [...])`.
    fn summary(&self, spec: &GateSpec, status: Status, base_label: &Option<String>) -> String {
        let mut part = format!(
            "{} {}",
            self.name,
            self.value.map(short).unwrap_or_else(|| "missing".into())
        );
        if let Some(v) = self.value {
            part.push_str(&bounds_text(spec, status, v));
        }
        if let (Some(d), Some(l)) = (self.delta(), base_label) {
            let sign = if d > 0.0 { "+" } else { "" };
            part.push_str(&format!(" ({sign}{} vs {l}", short(d)));
            if let Some(i) = self.interval {
                part.push_str(&format!(", 95% CI [{}, {}]", short(i.low), short(i.high)));
            }
            part.push(')');
        }
        part
    }

    /// The metric's row in the check's `metrics` figure.
    fn row(&self, status: Status) -> Value {
        let delta = self.delta();
        let relative = match (delta, self.baseline) {
            (Some(d), Some(b)) if b != 0.0 => Some(d / b.abs()),
            _ => None,
        };
        let direction = self
            .spec
            .and_then(|s| s.direction)
            .or_else(|| direction_of(self.name));
        json!({
            "name": self.name,
            "value": num(self.value),
            "baseline": num(self.baseline),
            "delta": num(delta),
            "relative_delta": num(relative),
            "interval": self.interval.map(|i| json!([i.low, i.high])).unwrap_or(Value::Null),
            "gate": self.spec.map(|s| Value::String(gate_text(s))).unwrap_or(Value::Null),
            "direction": match direction {
                Some(Direction::HigherIsBetter) => json!("higher_is_better"),
                Some(Direction::LowerIsBetter) => json!("lower_is_better"),
                None => Value::Null,
            },
            "status": status.as_str(),
        })
    }
}

/// The bounds a value met (` ≥ 0.9`) or, when it did not pass, the ones it broke (` < 0.9`).
fn bounds_text(spec: &GateSpec, status: Status, v: f64) -> String {
    let mut out = String::new();
    if status == Status::Pass {
        if let Some(m) = spec.min {
            out.push_str(&format!(" ≥ {}", short(m)));
        }
        if let Some(m) = spec.max {
            out.push_str(&format!(" ≤ {}", short(m)));
        }
    } else {
        if let Some(m) = spec.min.filter(|m| v < *m) {
            out.push_str(&format!(" < {}", short(m)));
        }
        if let Some(m) = spec.max.filter(|m| v > *m) {
            out.push_str(&format!(" > {}", short(m)));
        }
    }
    out
}

/// The finding of a gate that did not pass: `metric-missing` when there was no value, else `metric-gate`.
fn gate_finding(m: &Metric<'_>, outcome: &GateOutcome, config_file: Option<String>) -> Finding {
    let code = if outcome.value.is_none() {
        "metric-missing"
    } else {
        "metric-gate"
    };
    let severity = if outcome.status == Status::Fail {
        Severity::Error
    } else {
        Severity::Warning
    };
    let mut f = Finding::new(code, severity, outcome.reasons.join("; "));
    f.file = config_file;
    f.field = Some(m.name.to_string());
    f.value = m.value.map(|v| v.to_string());
    f
}

/// The finding and summary part of a model whose output was NaN on some rows.
fn nan_finding(ev: &Evaluation) -> (Finding, String) {
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
    let part = format!("output NaN on {} of {} rows", ev.nan_rows.len(), ev.rows);
    (f, part)
}

/// The summary when no gate is set: the task's headline metrics (with the delta to the baseline) and the rows.
fn headline_parts(
    input: &MetricCheckInput<'_>,
    values: &IndexMap<String, Option<f64>>,
    base_label: &Option<String>,
) -> Vec<(Status, String)> {
    let headline: &[&str] = match input.evaluation.task {
        crate::model::Task::Classification => &["accuracy", "f1_macro"],
        crate::model::Task::Regression => &["r2", "rmse"],
    };
    let mut parts = vec![];
    for h in headline {
        if let Some(Some(v)) = values.get(*h) {
            let mut part = format!("{h} {}", short(*v));
            if let (Some(b), Some(l)) = (baseline_value(input, h), base_label) {
                let d = v - b;
                let sign = if d > 0.0 { "+" } else { "" };
                part.push_str(&format!(" ({sign}{} vs {l})", short(d)));
            }
            parts.push((Status::Pass, part));
        }
    }
    parts.push((Status::Pass, format!("{} rows", input.evaluation.rows)));
    parts
}

fn baseline_figure(baseline: Option<&Baseline>) -> Value {
    match baseline {
        None => Value::Null,
        Some(b) => match &b.source {
            BaselineSource::Git { reference, path } => {
                json!({"source": "git", "ref": reference, "path": path, "rows": b.rows})
            }
            BaselineSource::Report { path } => {
                json!({"source": "report", "path": path, "rows": b.rows})
            }
        },
    }
}

/// The confusion matrix of a classifier, its labels named by the class names when the model has them.
fn confusion_figure(ev: &Evaluation) -> Option<Value> {
    let (labels, matrix) = ev.scored.as_ref().and_then(Scored::confusion)?;
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
    Some(json!({"labels": label_values, "matrix": matrix}))
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
