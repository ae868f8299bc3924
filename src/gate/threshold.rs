//! One metric against its gate, the way MLflow's MetricThreshold judges it: an absolute bound, an absolute and a
//! relative change against a baseline, and a missing metric fails unless the gate says `warn` or `skip`.
//! With `require_significance`, a drop fails only when the bootstrap interval of the delta excludes zero.

use serde::{Deserialize, Serialize};

use super::Interval;
use crate::report::Status;

/// Which way is better for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
}

/// The direction of a built-in metric; `None` for a custom one (its gate must say).
pub fn direction_of(metric: &str) -> Option<Direction> {
    use Direction::*;
    let higher = [
        "accuracy",
        "balanced_accuracy",
        "roc_auc",
        "r2",
        "throughput",
        "precision_macro",
        "precision_micro",
        "precision_weighted",
        "precision_binary",
        "recall_macro",
        "recall_micro",
        "recall_weighted",
        "recall_binary",
        "f1_macro",
        "f1_micro",
        "f1_weighted",
        "f1_binary",
    ];
    let lower = [
        "log_loss",
        "mae",
        "mse",
        "rmse",
        "mape",
        "max_error",
        "latency_p50",
        "latency_p95",
        "latency_p99",
        "model_size",
        "parameter_count",
    ];
    if higher.contains(&metric) {
        Some(HigherIsBetter)
    } else if lower.contains(&metric) {
        Some(LowerIsBetter)
    } else {
        None
    }
}

/// What a missing metric does to its gate.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    #[default]
    Fail,
    Warn,
    Skip,
}

/// One metric's gate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GateSpec {
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The largest allowed worsening against the baseline, in the metric's units.
    pub max_drop: Option<f64>,
    /// The largest allowed worsening as a share of the baseline value (0.01 = 1%).
    pub max_relative_drop: Option<f64>,
    pub missing: Missing,
    /// Required for custom metrics; built-in metrics know theirs.
    pub direction: Option<Direction>,
    /// A drop fails only when the delta's interval excludes zero.
    pub require_significance: bool,
}

/// The verdict on one metric, with every reason that made it so.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateOutcome {
    pub status: Status,
    pub value: Option<f64>,
    pub baseline: Option<f64>,
    /// value - baseline.
    pub delta: Option<f64>,
    pub reasons: Vec<String>,
}

fn fmt(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// Judges `value` (None when the metric could not be computed) against `spec`, and against `baseline` when there
/// is one. `interval` is the bootstrap interval of `value - baseline`, if computed.
pub fn evaluate(
    metric: &str,
    spec: &GateSpec,
    value: Option<f64>,
    baseline: Option<f64>,
    interval: Option<Interval>,
) -> Result<GateOutcome, String> {
    let direction = spec
        .direction
        .or_else(|| direction_of(metric))
        .ok_or_else(|| format!("metric {metric:?} is not built in: its gate must give a `direction` (higher_is_better or lower_is_better)"))?;
    let mut reasons = vec![];
    let mut status = Status::Pass;
    let Some(v) = value.filter(|v| !v.is_nan()) else {
        let status = match spec.missing {
            Missing::Fail => Status::Fail,
            Missing::Warn => Status::Warn,
            Missing::Skip => Status::Skip,
        };
        return Ok(GateOutcome {
            status,
            value: None,
            baseline,
            delta: None,
            reasons: vec![format!("{metric} could not be computed")],
        });
    };
    if let Some(m) = spec.min.filter(|m| v < *m) {
        status = Status::Fail;
        reasons.push(format!(
            "{metric} = {} is below the minimum {}",
            fmt(v),
            fmt(m)
        ));
    }
    if let Some(m) = spec.max.filter(|m| v > *m) {
        status = Status::Fail;
        reasons.push(format!(
            "{metric} = {} is above the maximum {}",
            fmt(v),
            fmt(m)
        ));
    }
    let delta = baseline.map(|b| v - b);
    if let (Some(b), Some(d)) = (baseline, delta) {
        // How much worse than the baseline, in the metric's units (positive = worse).
        let worsening = match direction {
            Direction::HigherIsBetter => -d,
            Direction::LowerIsBetter => d,
        };
        let significant = match (spec.require_significance, interval) {
            (false, _) => true,
            (true, Some(i)) => !i.contains(0.0),
            // Asked for significance but no interval: cannot tell, so do not fail on noise.
            (true, None) => false,
        };
        let mut drop_reasons = vec![];
        if let Some(md) = spec.max_drop.filter(|md| worsening > *md) {
            drop_reasons.push(format!(
                "{metric} worsened by {} against the baseline {} (max_drop {})",
                fmt(worsening),
                fmt(b),
                fmt(md)
            ));
        }
        if let Some(r) = spec.max_relative_drop {
            let rel = if b == 0.0 {
                if worsening > 0.0 {
                    f64::INFINITY
                } else {
                    0.0
                }
            } else {
                worsening / b.abs()
            };
            if rel > r {
                drop_reasons.push(format!(
                    "{metric} worsened by {:.2}% against the baseline {} (max_relative_drop {:.2}%)",
                    rel * 100.0,
                    fmt(b),
                    r * 100.0
                ));
            }
        }
        if !drop_reasons.is_empty() {
            if significant {
                status = Status::Fail;
            } else {
                if status == Status::Pass {
                    status = Status::Warn;
                }
                drop_reasons
                    .iter_mut()
                    .for_each(|r| r.push_str("; not significant: the 95% interval includes 0"));
            }
            reasons.extend(drop_reasons);
        }
    }
    Ok(GateOutcome {
        status,
        value: Some(v),
        baseline,
        delta,
        reasons,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> GateSpec {
        GateSpec {
            min: Some(0.85),
            max_drop: Some(0.01),
            ..GateSpec::default()
        }
    }

    #[test]
    fn absolute_and_baseline_gates() {
        let ok = evaluate("accuracy", &spec(), Some(0.9), Some(0.905), None).unwrap();
        assert_eq!(ok.status, Status::Pass);
        assert!((ok.delta.unwrap() + 0.005).abs() < 1e-12);
        let low = evaluate("accuracy", &spec(), Some(0.8), None, None).unwrap();
        assert_eq!(low.status, Status::Fail);
        assert_eq!(
            low.reasons,
            vec!["accuracy = 0.8 is below the minimum 0.85"]
        );
        let dropped = evaluate("accuracy", &spec(), Some(0.88), Some(0.9), None).unwrap();
        assert_eq!(dropped.status, Status::Fail);
        // Lower is better for log loss: a rise is the drop.
        let s = GateSpec {
            max_relative_drop: Some(0.05),
            ..GateSpec::default()
        };
        assert_eq!(
            evaluate("log_loss", &s, Some(0.2), Some(0.25), None)
                .unwrap()
                .status,
            Status::Pass
        );
        assert_eq!(
            evaluate("log_loss", &s, Some(0.3), Some(0.25), None)
                .unwrap()
                .status,
            Status::Fail
        );
    }

    #[test]
    fn missing_metrics_and_custom_directions() {
        assert_eq!(
            evaluate("accuracy", &spec(), None, None, None)
                .unwrap()
                .status,
            Status::Fail
        );
        let warn = GateSpec {
            missing: Missing::Warn,
            ..spec()
        };
        assert_eq!(
            evaluate("accuracy", &warn, Some(f64::NAN), None, None)
                .unwrap()
                .status,
            Status::Warn
        );
        assert!(evaluate("my_score", &spec(), Some(1.0), None, None)
            .unwrap_err()
            .contains("direction"));
        let custom = GateSpec {
            direction: Some(Direction::LowerIsBetter),
            max: Some(2.0),
            ..GateSpec::default()
        };
        assert_eq!(
            evaluate("my_score", &custom, Some(3.0), None, None)
                .unwrap()
                .status,
            Status::Fail
        );
    }

    #[test]
    fn significance_turns_noise_into_a_warning() {
        let s = GateSpec {
            max_drop: Some(0.0),
            require_significance: true,
            ..GateSpec::default()
        };
        let noisy = Interval {
            low: -0.03,
            high: 0.01,
        };
        let o = evaluate("accuracy", &s, Some(0.89), Some(0.9), Some(noisy)).unwrap();
        assert_eq!(o.status, Status::Warn);
        assert!(o.reasons[0].contains("not significant"));
        let real = Interval {
            low: -0.03,
            high: -0.001,
        };
        assert_eq!(
            evaluate("accuracy", &s, Some(0.89), Some(0.9), Some(real))
                .unwrap()
                .status,
            Status::Fail
        );
    }
}
