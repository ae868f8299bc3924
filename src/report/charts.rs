//! What the charts show, read once from a report's figures: drift histograms (reference against current bin
//! shares) and model metrics against their baseline. The HTML report draws them as SVG, markdown as Mermaid.
//! Labels here are raw, untrusted text (column names and categories come from the data): each renderer escapes
//! them for its own syntax.

use serde_json::Value;

use super::Check;

/// Drift charts drawn per check: the columns that drift most (the rest are in the table).
pub const MAX_DRIFT_CHARTS: usize = 6;
/// Bins (or categories) per drift chart; the rest of a categorical column's categories are left out.
pub const MAX_BINS: usize = 20;

/// One drift column's histogram as shares of each side's total.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftChart {
    pub column: String,
    pub test: String,
    pub drifted: bool,
    pub p_value: Option<f64>,
    pub bins: Vec<String>,
    pub reference: Vec<f64>,
    pub current: Vec<f64>,
}

/// One metric with its baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricBar {
    pub name: String,
    pub value: f64,
    pub baseline: Option<f64>,
    pub failed: bool,
}

fn shares(v: &Value) -> Vec<f64> {
    let counts: Vec<f64> = v
        .as_array()
        .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(0.0)).collect())
        .unwrap_or_default();
    let total: f64 = counts.iter().sum();
    counts
        .iter()
        .map(|c| if total > 0.0 { c / total } else { 0.0 })
        .collect()
}

/// The drift check's columns that have a histogram, drifted ones first, then by p-value (smallest first), at
/// most [`MAX_DRIFT_CHARTS`]; also how many columns had a histogram in all.
pub fn drift_charts(c: &Check) -> (Vec<DriftChart>, usize) {
    let cols = c
        .figures
        .get("columns")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut charts: Vec<DriftChart> = cols.iter().filter_map(drift_chart).collect();
    let all = charts.len();
    charts.sort_by(|a, b| {
        b.drifted.cmp(&a.drifted).then(
            a.p_value
                .unwrap_or(f64::INFINITY)
                .total_cmp(&b.p_value.unwrap_or(f64::INFINITY)),
        )
    });
    charts.truncate(MAX_DRIFT_CHARTS);
    (charts, all)
}

fn drift_chart(col: &Value) -> Option<DriftChart> {
    let h = col.get("histogram")?;
    let mut bins: Vec<String> = h["bins"]
        .as_array()?
        .iter()
        .map(|b| match b {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    let (mut reference, mut current) = (shares(&h["reference"]), shares(&h["current"]));
    let n = bins.len().min(reference.len()).min(current.len());
    if n == 0 {
        return None;
    }
    let n = n.min(MAX_BINS);
    bins.truncate(n);
    reference.truncate(n);
    current.truncate(n);
    Some(DriftChart {
        column: col["column"].as_str().unwrap_or("").to_string(),
        test: col["test"].as_str().unwrap_or("").to_string(),
        drifted: col["drifted"] == Value::Bool(true),
        p_value: col["p_value"].as_f64(),
        bins,
        reference,
        current,
    })
}

/// A metric check's metrics that have a numeric value, with their baselines where there are.
pub fn metric_bars(c: &Check) -> Vec<MetricBar> {
    c.figures
        .get("metrics")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|m| {
                    Some(MetricBar {
                        name: m["name"].as_str()?.to_string(),
                        value: m["value"].as_f64()?,
                        baseline: m["baseline"].as_f64(),
                        failed: m["status"] == "fail",
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drifted_columns_come_first_and_counts_become_shares() {
        let mut c = Check::new("d", "drift");
        let col = |name: &str, drifted: bool, p: f64| {
            json!({"column": name, "test": "ks", "drifted": drifted, "p_value": p,
                   "histogram": {"bins": ["a", "b"], "reference": [1, 3], "current": [2, 2]}})
        };
        c.figures.insert(
            "columns".into(),
            json!([col("x", false, 0.5), col("y", true, 0.01), col("z", true, 0.001), {"column": "w"}]),
        );
        let (charts, all) = drift_charts(&c);
        assert_eq!(all, 3);
        let names: Vec<&str> = charts.iter().map(|c| c.column.as_str()).collect();
        assert_eq!(names, ["z", "y", "x"]);
        assert_eq!(charts[0].reference, [0.25, 0.75]);
        assert_eq!(charts[0].current, [0.5, 0.5]);
    }

    #[test]
    fn metrics_without_a_number_are_left_out() {
        let mut c = Check::new("m", "metric");
        c.figures.insert(
            "metrics".into(),
            json!([{"name": "accuracy", "value": 0.9, "baseline": 0.95, "status": "fail"},
                   {"name": "odd", "value": "x"}]),
        );
        assert_eq!(
            metric_bars(&c),
            [MetricBar {
                name: "accuracy".into(),
                value: 0.9,
                baseline: Some(0.95),
                failed: true
            }]
        );
    }
}
