//! Model metrics with scikit-learn's semantics (checked against goldens that scikit-learn 1.9 computed, to 1e-9).
//!
//! Classification: labels are the sorted union of the true and predicted labels, as `unique_labels` gives;
//! an undefined precision, recall or F1 (0/0) counts as 0.0 (scikit-learn's default `zero_division`); ROC AUC
//! counts tied pairs as one half; log loss clips probabilities to [eps, 1 - eps] with eps = f64::EPSILON and does
//! not renormalise rows. Regression: R² of a constant target is 1.0 when the prediction is perfect, else 0.0;
//! MAPE divides by max(|y|, eps).

use std::collections::BTreeSet;

use serde::Serialize;

/// Classification metrics; `None` where a metric is undefined for the data (e.g. ROC AUC with one class).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassificationMetrics {
    pub labels: Vec<i64>,
    pub accuracy: f64,
    pub balanced_accuracy: f64,
    pub precision_macro: f64,
    pub precision_micro: f64,
    pub precision_weighted: f64,
    pub recall_macro: f64,
    pub recall_micro: f64,
    pub recall_weighted: f64,
    pub f1_macro: f64,
    pub f1_micro: f64,
    pub f1_weighted: f64,
    /// Binary models only: precision, recall and F1 of the positive label.
    pub precision_binary: Option<f64>,
    pub recall_binary: Option<f64>,
    pub f1_binary: Option<f64>,
    pub roc_auc: Option<f64>,
    pub log_loss: Option<f64>,
    /// Rows: true label, columns: predicted label, both in `labels` order.
    pub confusion_matrix: Vec<Vec<u64>>,
}

fn ratio(num: f64, den: f64) -> f64 {
    if den == 0.0 {
        0.0
    } else {
        num / den
    }
}

/// Probabilities given as rows, with the columns in `class_labels` order.
pub struct Scores<'a> {
    pub class_labels: &'a [i64],
    pub rows: &'a [Vec<f64>],
}

pub fn classification(
    y_true: &[i64],
    y_pred: &[i64],
    scores: Option<&Scores<'_>>,
    pos_label: i64,
) -> ClassificationMetrics {
    let labels: Vec<i64> = y_true
        .iter()
        .chain(y_pred)
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let k = labels.len();
    let index = |l: i64| labels.binary_search(&l).ok();
    let mut cm = vec![vec![0u64; k]; k];
    for (&t, &p) in y_true.iter().zip(y_pred) {
        if let (Some(i), Some(j)) = (index(t), index(p)) {
            cm[i][j] += 1;
        }
    }
    let n = y_true.len() as f64;
    let tp: Vec<f64> = (0..k).map(|i| cm[i][i] as f64).collect();
    let support: Vec<f64> = (0..k).map(|i| cm[i].iter().sum::<u64>() as f64).collect();
    let predicted: Vec<f64> = (0..k)
        .map(|j| cm.iter().map(|r| r[j]).sum::<u64>() as f64)
        .collect();
    let precision: Vec<f64> = (0..k).map(|i| ratio(tp[i], predicted[i])).collect();
    let recall: Vec<f64> = (0..k).map(|i| ratio(tp[i], support[i])).collect();
    // F1 as scikit-learn computes it: 2tp / (2tp + fp + fn), 0 when that is 0/0.
    let f1: Vec<f64> = (0..k)
        .map(|i| {
            ratio(
                2.0 * tp[i],
                tp[i] + predicted[i] + tp[i] + support[i] - 2.0 * tp[i],
            )
        })
        .collect();
    let macro_ = |v: &[f64]| {
        if k == 0 {
            0.0
        } else {
            v.iter().sum::<f64>() / k as f64
        }
    };
    let total_support: f64 = support.iter().sum();
    let weighted = |v: &[f64]| {
        ratio(
            v.iter().zip(&support).map(|(x, s)| x * s).sum(),
            total_support,
        )
    };
    let sum_tp: f64 = tp.iter().sum();
    let sum_pred: f64 = predicted.iter().sum();
    let micro_p = ratio(sum_tp, sum_pred);
    let micro_r = ratio(sum_tp, total_support);
    let micro_f1 = ratio(2.0 * sum_tp, sum_pred + total_support);
    // Balanced accuracy: mean recall over the classes that occur in y_true.
    let present: Vec<f64> = (0..k)
        .filter(|&i| support[i] > 0.0)
        .map(|i| recall[i])
        .collect();
    let balanced = if present.is_empty() {
        0.0
    } else {
        present.iter().sum::<f64>() / present.len() as f64
    };
    let binary = k <= 2 && scores.is_none_or(|s| s.class_labels.len() <= 2);
    let pos = index(pos_label);
    let (pb, rb, fb) = match (binary, pos) {
        (true, Some(i)) => (Some(precision[i]), Some(recall[i]), Some(f1[i])),
        (true, None) => (Some(0.0), Some(0.0), Some(0.0)),
        _ => (None, None, None),
    };
    let (roc_auc, log_loss) = match scores {
        Some(s) => (roc_auc(y_true, s, pos_label), log_loss(y_true, s)),
        None => (None, None),
    };
    ClassificationMetrics {
        accuracy: ratio(
            y_true.iter().zip(y_pred).filter(|(a, b)| a == b).count() as f64,
            n,
        ),
        balanced_accuracy: balanced,
        precision_macro: macro_(&precision),
        precision_micro: micro_p,
        precision_weighted: weighted(&precision),
        recall_macro: macro_(&recall),
        recall_micro: micro_r,
        recall_weighted: weighted(&recall),
        f1_macro: macro_(&f1),
        f1_micro: micro_f1,
        f1_weighted: weighted(&f1),
        precision_binary: pb,
        recall_binary: rb,
        f1_binary: fb,
        roc_auc,
        log_loss,
        confusion_matrix: cm,
        labels,
    }
}

/// Area under the ROC curve of scores for a binary truth, by the rank-sum (Mann–Whitney U) with tied scores
/// getting their average rank, so a tied positive/negative pair counts one half. `None` with a single class.
pub fn binary_auc(is_positive: &[bool], score: &[f64]) -> Option<f64> {
    let n_pos = is_positive.iter().filter(|&&p| p).count();
    let n_neg = is_positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..score.len()).collect();
    order.sort_by(|&a, &b| score[a].total_cmp(&score[b]));
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && score[order[j + 1]] == score[order[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their mean.
        let mean_rank = (i + j + 2) as f64 / 2.0;
        for &o in &order[i..=j] {
            if is_positive[o] {
                rank_sum_pos += mean_rank;
            }
        }
        i = j + 1;
    }
    let u = rank_sum_pos - (n_pos * (n_pos + 1)) as f64 / 2.0;
    Some(u / (n_pos as f64 * n_neg as f64))
}

/// Binary: AUC of the positive label's column. Multiclass: one-vs-rest, unweighted mean over the classes.
fn roc_auc(y_true: &[i64], s: &Scores<'_>, pos_label: i64) -> Option<f64> {
    let column = |c: usize| -> Vec<f64> {
        s.rows
            .iter()
            .map(|r| r.get(c).copied().unwrap_or(f64::NAN))
            .collect()
    };
    if s.class_labels.len() == 2 {
        let c = s.class_labels.iter().position(|&l| l == pos_label)?;
        let truth: Vec<bool> = y_true.iter().map(|&t| t == pos_label).collect();
        return binary_auc(&truth, &column(c));
    }
    let mut total = 0.0;
    for (c, &label) in s.class_labels.iter().enumerate() {
        let truth: Vec<bool> = y_true.iter().map(|&t| t == label).collect();
        total += binary_auc(&truth, &column(c))?;
    }
    Some(total / s.class_labels.len() as f64)
}

/// Mean negative log-likelihood of the true class, probabilities clipped to [eps, 1 - eps].
fn log_loss(y_true: &[i64], s: &Scores<'_>) -> Option<f64> {
    if y_true.is_empty() {
        return None;
    }
    let eps = f64::EPSILON;
    let mut total = 0.0;
    for (t, row) in y_true.iter().zip(s.rows) {
        let c = s.class_labels.iter().position(|l| l == t)?;
        let p = row.get(c)?.clamp(eps, 1.0 - eps);
        total -= p.ln();
    }
    Some(total / y_true.len() as f64)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegressionMetrics {
    pub mae: f64,
    pub mse: f64,
    pub rmse: f64,
    pub r2: f64,
    pub mape: f64,
    pub max_error: f64,
}

pub fn regression(y_true: &[f64], y_pred: &[f64]) -> RegressionMetrics {
    let n = y_true.len().max(1) as f64;
    let err: Vec<f64> = y_true.iter().zip(y_pred).map(|(t, p)| t - p).collect();
    let mae = err.iter().map(|e| e.abs()).sum::<f64>() / n;
    let mse = err.iter().map(|e| e * e).sum::<f64>() / n;
    let mean = y_true.iter().sum::<f64>() / n;
    let ss_tot: f64 = y_true.iter().map(|t| (t - mean) * (t - mean)).sum();
    let ss_res: f64 = err.iter().map(|e| e * e).sum();
    let r2 = if ss_tot == 0.0 {
        if ss_res == 0.0 {
            1.0
        } else {
            0.0
        }
    } else {
        1.0 - ss_res / ss_tot
    };
    let mape = y_true
        .iter()
        .zip(&err)
        .map(|(t, e)| e.abs() / t.abs().max(f64::EPSILON))
        .sum::<f64>()
        / n;
    let max_error = err.iter().fold(0.0f64, |m, e| m.max(e.abs()));
    RegressionMetrics {
        mae,
        mse,
        rmse: mse.sqrt(),
        r2,
        mape,
        max_error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_ties_as_half() {
        assert_eq!(binary_auc(&[false, true], &[0.5, 0.5]), Some(0.5));
        assert_eq!(
            binary_auc(&[false, true, true], &[0.1, 0.9, 0.1]),
            Some(0.75)
        );
        assert_eq!(binary_auc(&[true, true], &[0.1, 0.9]), None);
    }
}
