//! The accuracy gate: the float and the quantized model run with tract on the same data; the report gives, for
//! each variant, its size, the gated metric (with labels), argmax agreement with the float model and the largest
//! absolute output difference. The quantized variant fails when the metric drops by more than `max_drop`.

use std::path::Path;

use indexmap::IndexMap;
use serde_json::{json, Value};

use super::{Mode, QuantizeError, QuantizeOptions, Quantized};
use crate::model::eval::{self, argmax, OutputRows};
use crate::model::{input, DataSpec, EvalData, EvalOptions, Model, OutputRoles, Task};
use crate::report::{people, Check, Finding, Severity, Status};

/// The data the variants are judged on, and the gate.
#[derive(Debug, Clone)]
pub struct GateOptions {
    /// `label` empty: no labels, so only agreement and output difference are reported.
    pub data: DataSpec,
    pub eval: EvalOptions,
    pub metric: MetricSpec,
}

/// The gated metric and how far it may drop.
#[derive(Debug, Clone, Default)]
pub struct MetricSpec {
    /// `None`: accuracy for classifiers, r2 for regressors.
    pub name: Option<String>,
    /// `None`: 0.01 (one point) for the metrics in [0, 1] where higher is better; required for the others.
    pub max_drop: Option<f64>,
}

/// Metrics where higher is better, in [0, 1] (r2 at most 1): the default drop of one point applies.
const HIGHER_IS_BETTER: [&str; 15] = [
    "accuracy",
    "balanced_accuracy",
    "precision_macro",
    "precision_micro",
    "precision_weighted",
    "recall_macro",
    "recall_micro",
    "recall_weighted",
    "f1_macro",
    "f1_micro",
    "f1_weighted",
    "precision_binary",
    "recall_binary",
    "f1_binary",
    "roc_auc",
];

/// The default allowed drop: one point.
pub const DEFAULT_MAX_DROP: f64 = 0.01;

/// One model's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// `float`, or the mode.
    pub name: String,
    pub size: u64,
    pub metric: Option<f64>,
    /// Float metric minus this one (higher-is-better metrics), or this one minus the float one (errors, losses).
    pub drop: Option<f64>,
    /// Share of rows whose predicted class (label output, else argmax of the scores) is the float model's.
    pub argmax_agreement: Option<f64>,
    /// Largest |float - quantized| over every float output.
    pub max_abs_diff: Option<f64>,
}

/// The result of quantizing under the gate.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub mode: Mode,
    pub float: Variant,
    pub quantized: Variant,
    /// The gated metric and its allowed drop, when labels were given.
    pub metric: Option<(String, f64)>,
    pub rows: Option<usize>,
    pub passed: bool,
    /// The quantized model was written to `output`.
    pub written: bool,
    /// Where the quantized model goes (`--mode auto` sets the extension of the chosen mode).
    pub output: std::path::PathBuf,
    pub check: Check,
}

impl Outcome {
    /// The manifest's `quantization` value.
    pub fn manifest_entry(&self) -> Value {
        json!({
            "mode": self.mode.as_str(),
            "chosen_by_auto": self.check.figures.get("mode").and_then(Value::as_str) == Some("auto"),
            "float_size": self.float.size,
            "quantized_size": self.quantized.size,
            "metric": self.metric.as_ref().map(|(m, _)| m.clone()),
            "metric_float": self.float.metric,
            "metric_quantized": self.quantized.metric,
            "drop": self.quantized.drop,
            "max_drop": self.metric.as_ref().map(|(_, d)| *d),
            "argmax_agreement": self.quantized.argmax_agreement,
            "max_output_diff": self.quantized.max_abs_diff,
            "rows": self.rows,
        })
    }

    pub(super) fn record_written(&mut self) {
        self.check
            .figures
            .insert("written".into(), Value::Bool(self.written));
    }
}

fn is_higher_better(metric: &str) -> bool {
    HIGHER_IS_BETTER.contains(&metric) || metric == "r2"
}

/// The predicted class of each row: the label output when there is one, else the argmax of the probabilities
/// (the outputs as `mlgate eval` reads them, [`OutputRoles`]). `None` for a regressor.
fn predictions(outs: &[OutputRows], rows: usize) -> Option<Vec<i64>> {
    let roles = OutputRoles::of(&eval::run_facts(outs, rows));
    if let Some(l) = roles.label.map(|i| &outs[i]) {
        return Some(l.data.iter().map(|&x| x as i64).collect());
    }
    let p = &outs[roles.probabilities?];
    Some(
        p.data
            .chunks(p.width)
            .map(|row| argmax(row) as i64)
            .collect(),
    )
}

/// Agreement and the largest absolute difference between the float outputs of two runs.
fn compare(a: &[OutputRows], b: &[OutputRows], rows: usize) -> (Option<f64>, Option<f64>) {
    let agreement = match (predictions(a, rows), predictions(b, rows)) {
        (Some(pa), Some(pb)) if rows > 0 => {
            let same = pa.iter().zip(&pb).filter(|(x, y)| x == y).count();
            Some(same as f64 / rows as f64)
        }
        _ => None,
    };
    let mut max: Option<f64> = None;
    for (oa, ob) in a.iter().zip(b) {
        if !oa.dtype.is_float() || oa.data.len() != ob.data.len() {
            continue;
        }
        for (x, y) in oa.data.iter().zip(&ob.data) {
            let d = (x - y).abs();
            // NaN in the quantized outputs is the worst difference there is.
            let d = if d.is_nan() { f64::INFINITY } else { d };
            max = Some(max.map_or(d, |m: f64| m.max(d)));
        }
    }
    (agreement, max)
}

fn run(model: &Model, data: &EvalData, batch: usize) -> Result<Vec<OutputRows>, QuantizeError> {
    eval::check_input(model, data)?;
    let plan = eval::plan_for(model, data, batch)?;
    Ok(eval::run_all(model, &plan, data, batch)?.0)
}

fn bytes_text(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64)
    } else if n >= 1 << 10 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// Evaluates the float model (`opts.model`) and the quantized one (at `quantized_path`) and judges the latter.
pub(super) fn judge(
    opts: &QuantizeOptions,
    float_bytes: &[u8],
    quantized: &Quantized,
    quantized_path: &Path,
) -> Result<Outcome, QuantizeError> {
    let name = opts
        .model
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("model")
        .to_string();
    let mode = opts.mode;
    let mut float = Variant {
        name: "float".into(),
        size: float_bytes.len() as u64,
        metric: None,
        drop: None,
        argmax_agreement: None,
        max_abs_diff: None,
    };
    let mut quant = Variant {
        name: mode.as_str().into(),
        size: quantized.bytes.len() as u64,
        ..float.clone()
    };
    let ratio = quant.size as f64 / float.size.max(1) as f64;
    let mut check = Check::new(&name, "quantization");
    let mut metric: Option<(String, f64)> = None;
    let mut rows = None;
    let mut passed = true;
    let mut judged = String::new();
    if let Some(g) = &opts.gate {
        let float_model = Model::load(&opts.model)?;
        let mut quant_model = Model::load(quantized_path)?;
        quant_model.display = opts.output.display().to_string();
        let data = input::read(&g.data, &float_model.input.name)?;
        rows = Some(data.rows());
        let batch = g.eval.batch_size.max(1);
        let fo = run(&float_model, &data, batch)?;
        let qo = run(&quant_model, &data, batch)?;
        let (agreement, diff) = compare(&fo, &qo, data.rows());
        float.argmax_agreement = agreement.map(|_| 1.0);
        float.max_abs_diff = diff.map(|_| 0.0);
        quant.argmax_agreement = agreement;
        quant.max_abs_diff = diff;
        if !g.data.label.is_empty() {
            let eopts = EvalOptions {
                latency_runs: 0,
                ..g.eval.clone()
            };
            let fe = eval::evaluate(&float_model, &data, &eopts)?;
            let qe = eval::evaluate(&quant_model, &data, &eopts)?;
            let m = g.metric.name.clone().unwrap_or_else(|| {
                match fe.task {
                    Task::Classification => "accuracy",
                    Task::Regression => "r2",
                }
                .to_string()
            });
            let Some(fv) = fe.metrics.get(&m) else {
                let known: Vec<&str> = fe
                    .metrics
                    .keys()
                    .map(String::as_str)
                    .filter(|k| !eval::OPERATIONAL_METRICS.contains(k))
                    .collect();
                return Err(QuantizeError::Usage(format!(
                    "--metric {m}: not a metric of this {} model; its metrics are {}",
                    fe.task.as_str(),
                    known.join(", ")
                )));
            };
            let higher = is_higher_better(&m);
            let max_drop = match g.metric.max_drop {
                Some(d) => d,
                None if higher => DEFAULT_MAX_DROP,
                None => {
                    return Err(QuantizeError::Usage(format!(
                        "--metric {m} is an error measure in the data's units: say how much it may grow with --max-drop"
                    )))
                }
            };
            let qv = qe.metrics.get(&m).copied().flatten();
            float.metric = *fv;
            quant.metric = qv;
            quant.drop = match (fv, qv) {
                (Some(f), Some(q)) if higher => Some(f - q),
                (Some(f), Some(q)) => Some(q - f),
                _ => None,
            };
            float.drop = fv.map(|_| 0.0);
            // Beyond the allowed drop, or undefined (NaN outputs), fails. A tolerance of 1e-12 keeps an exact
            // one-point drop of 0.01 from failing on rounding.
            passed = quant.drop.is_some_and(|d| d <= max_drop + 1e-12);
            judged = match (fv, qv, quant.drop) {
                (Some(f), Some(q), Some(d)) => {
                    let (f, q, d) = (people(*f), people(q), people(d));
                    format!(", {m} {f} → {q} (drop {d}, at most {max_drop})")
                }
                _ => format!(", {m} undefined for the quantized model (NaN outputs?)"),
            };
            if !passed {
                let mut f = Finding::new(
                    "quantization-drop",
                    Severity::Error,
                    match quant.drop {
                        Some(d) => format!(
                            "{m} drops by {} after {} quantization, more than --max-drop {max_drop}",
                            people(d),
                            mode.as_str()
                        ),
                        None => format!("{m} of the quantized model is undefined"),
                    },
                );
                f.file = Some(g.data.path.display().to_string());
                check.counts.insert("quantization-drop".into(), 1);
                check.findings.push(f);
            }
            metric = Some((m, max_drop));
        }
        if let Some(a) = quant.argmax_agreement {
            judged.push_str(&format!(", argmax agreement {}", pct(a)));
        }
        if let Some(d) = quant.max_abs_diff {
            judged.push_str(&format!(", max output diff {}", people(d)));
        }
        if g.data.label.is_empty() {
            judged.push_str(" (no labels: not gated)");
        }
    } else {
        judged.push_str(" (not evaluated: pass --data to gate it)");
    }
    check.status = if passed { Status::Pass } else { Status::Fail };
    check.summary = format!(
        "{}: {}, {} → {} ({:.2}x){judged}",
        mode.as_str(),
        quantized.described,
        bytes_text(float.size),
        bytes_text(quant.size),
        ratio
    );
    let variant_json = |v: &Variant| {
        json!({
            "variant": v.name,
            "size": v.size,
            "size_ratio": v.size as f64 / float.size.max(1) as f64,
            "metric": v.metric,
            "drop": v.drop,
            "argmax_agreement": v.argmax_agreement,
            "max_abs_diff": v.max_abs_diff,
        })
    };
    let mut figures: IndexMap<String, Value> = IndexMap::new();
    figures.insert("mode".into(), json!(mode.as_str()));
    figures.insert("model".into(), json!(opts.model.display().to_string()));
    figures.insert("output".into(), json!(opts.output.display().to_string()));
    figures.insert("written".into(), json!(false));
    figures.insert(
        "metric".into(),
        json!(metric.as_ref().map(|(m, _)| m.clone())),
    );
    figures.insert("max_drop".into(), json!(metric.as_ref().map(|(_, d)| *d)));
    figures.insert("rows".into(), json!(rows));
    figures.insert("quantized_ops".into(), json!(quantized.summary.quantized));
    figures.insert(
        "left_in_float".into(),
        Value::Array(
            quantized
                .summary
                .skipped
                .iter()
                .map(|(n, r)| json!({"node": n, "reason": r}))
                .collect(),
        ),
    );
    figures.insert(
        "variants".into(),
        json!([variant_json(&float), variant_json(&quant)]),
    );
    check.figures = figures;
    Ok(Outcome {
        mode,
        float,
        quantized: quant,
        metric,
        rows,
        passed,
        written: false,
        output: opts.output.clone(),
        check,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::prelude::DatumType;

    fn out(dtype: DatumType, width: usize, data: Vec<f64>) -> OutputRows {
        OutputRows {
            name: "o".into(),
            dtype,
            width,
            data,
        }
    }

    #[test]
    fn agreement_uses_labels_else_argmax() {
        let a = vec![out(DatumType::F32, 2, vec![0.9, 0.1, 0.2, 0.8])];
        let b = vec![out(DatumType::F32, 2, vec![0.6, 0.4, 0.7, 0.3])];
        let (agree, diff) = compare(&a, &b, 2);
        assert_eq!(agree, Some(0.5));
        assert!((diff.unwrap() - 0.5).abs() < 1e-12);
        let la = vec![out(DatumType::I64, 1, vec![1.0, 0.0])];
        let lb = vec![out(DatumType::I64, 1, vec![1.0, 0.0])];
        assert_eq!(compare(&la, &lb, 2), (Some(1.0), None));
    }

    #[test]
    fn a_regressor_has_no_agreement() {
        let a = vec![out(DatumType::F32, 1, vec![1.0, 2.0])];
        let b = vec![out(DatumType::F32, 1, vec![1.5, f64::NAN])];
        let (agree, diff) = compare(&a, &b, 2);
        assert_eq!(agree, None);
        assert_eq!(diff, Some(f64::INFINITY));
    }
}
