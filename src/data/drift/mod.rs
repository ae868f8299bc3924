//! Data drift between a reference and a current table, with Evidently 0.7's default test selection and SciPy's
//! statistics (see `stats`). Each file is read once (`columns`); the result is one report check of kind `drift`.
//!
//! Per column, Evidently's rules (`_get_default_stattest`), with unique values counted over reference and current
//! together, after dropping nulls and ±inf:
//! - reference ≤ 1000 values: numerical with > 5 unique → `ks` (drift if p ≤ 0.05); ≤ 5 unique and categorical →
//!   `chisquare` (p < 0.05), or `z` (p < 0.05) when there are at most 2 unique values;
//! - reference > 1000 values: numerical with > 5 unique → `wasserstein` normed by the reference std (≥ 0.1);
//!   everything else → `jensenshannon` (≥ 0.1).
//!
//! The dataset drifts when the share of drifted columns is ≥ `drift_share` (0.5).

pub mod columns;
#[cfg(feature = "full")]
pub mod shard;
pub mod sketch;
pub mod stats;

use std::collections::{BTreeSet, HashMap};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::data::schema::{FieldType, Schema};
use crate::data::{DataError, Source};
use crate::report::{Check, Finding, Severity, Status};

use columns::{Column, Key, Table};

/// Numeric values kept exactly per column and side; beyond it the quantile sketch takes over.
pub const EXACT_LIMIT: usize = 4_000_000;

/// Bins of the numeric histograms in the report.
const HIST_BINS: usize = 10;
/// Categories listed in the categorical histograms (the rest are summed as "other").
const HIST_CATEGORIES: usize = 10;

/// A drift test, as named in mlgate.yml.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    /// Two-sample Kolmogorov–Smirnov (numerical; drift if p ≤ threshold, default 0.05).
    Ks,
    /// Chi-square goodness of fit of current counts to reference proportions (drift if p < threshold, 0.05).
    Chisquare,
    /// Two-proportion z-test (drift if p < threshold, 0.05).
    Z,
    /// Wasserstein distance over the reference standard deviation (numerical; drift if ≥ threshold, 0.1).
    Wasserstein,
    /// Jensen–Shannon distance (drift if ≥ threshold, 0.1).
    Jensenshannon,
    /// Population stability index (drift if ≥ threshold, 0.1).
    Psi,
    /// Kullback–Leibler divergence (drift if ≥ threshold, 0.1).
    KlDiv,
    /// TFDV's L-infinity distance between the category frequencies (drift if ≥ threshold, 0.1).
    LInfinity,
}

impl Test {
    pub fn name(self) -> &'static str {
        match self {
            Test::Ks => "ks",
            Test::Chisquare => "chisquare",
            Test::Z => "z",
            Test::Wasserstein => "wasserstein",
            Test::Jensenshannon => "jensenshannon",
            Test::Psi => "psi",
            Test::KlDiv => "kl_div",
            Test::LInfinity => "l_infinity",
        }
    }

    pub fn default_threshold(self) -> f64 {
        match self {
            Test::Ks | Test::Chisquare | Test::Z => 0.05,
            _ => 0.1,
        }
    }

    /// Whether the score is a p-value (drift when small) rather than a distance (drift when large).
    pub fn is_p_value(self) -> bool {
        matches!(self, Test::Ks | Test::Chisquare | Test::Z)
    }

    fn numerical_only(self) -> bool {
        matches!(self, Test::Ks | Test::Wasserstein)
    }
}

/// How a column is tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Numerical,
    Categorical,
}

/// Per-column choices.
#[derive(Debug, Clone, Default)]
pub struct ColumnOptions {
    pub test: Option<Test>,
    pub threshold: Option<f64>,
}

/// Plain options: callers (config, flags) fill them.
#[derive(Debug, Clone)]
pub struct DriftOptions {
    /// The dataset's name in the report.
    pub subject: String,
    pub drift_share: f64,
    pub exclude: Vec<String>,
    pub columns: IndexMap<String, ColumnOptions>,
    pub exact_limit: usize,
}

impl DriftOptions {
    pub fn new(subject: impl Into<String>) -> Self {
        DriftOptions {
            subject: subject.into(),
            drift_share: 0.5,
            exclude: vec![],
            columns: IndexMap::new(),
            exact_limit: EXACT_LIMIT,
        }
    }
}

/// Both distributions of a column, binned alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Bin labels: `[lo, hi)` ranges for numbers, values for categories.
    pub bins: Vec<String>,
    pub reference: Vec<u64>,
    pub current: Vec<u64>,
}

/// One column's result, as the report's `figures.columns` holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnDrift {
    pub column: String,
    #[serde(rename = "type")]
    pub kind: ColumnKind,
    pub test: String,
    /// The test's statistic (KS D, chi-square, z, or the distance itself). `null` when not finite.
    pub statistic: Option<f64>,
    /// The p-value, for `ks`, `chisquare` and `z` (`null` when undefined, e.g. chi-square of one category).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    pub threshold: f64,
    pub drifted: bool,
    /// `exact`, or `sketch` when the quantile sketch stood in for the values (`sketch_error` bounds it).
    pub method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sketch_error: Option<f64>,
    pub reference_count: u64,
    pub current_count: u64,
    pub unique_values: u64,
    pub histogram: Histogram,
}

/// The score a test produced.
#[derive(Debug, Clone, Copy)]
struct Score {
    statistic: f64,
    p_value: Option<f64>,
}

/// Runs drift between two tables and returns the `drift` check.
pub fn drift(
    reference: &Source,
    current: &Source,
    schema: Option<&Schema>,
    opts: &DriftOptions,
) -> Result<Check, DataError> {
    // The two files are independent: read them on two threads (each is still one pass).
    let (r, c) = std::thread::scope(|s| {
        let rh = s.spawn(|| columns::collect(reference, opts.exact_limit));
        let c = columns::collect(current, opts.exact_limit);
        let r = rh.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        (r, c)
    });
    judge(r?, c?, &Sides::of(reference, current), schema, opts)
}

/// The drift check of two collected tables (one run's, or the merge of a sharded run's): refused when a side has
/// no rows, else every column compared, and the sides' origins said.
pub fn judge(
    mut r: Table,
    mut c: Table,
    sides: &Sides,
    schema: Option<&Schema>,
    opts: &DriftOptions,
) -> Result<Check, DataError> {
    for (t, file, side) in [
        (&r, &sides.reference, "reference"),
        (&c, &sides.current, "current"),
    ] {
        if t.rows == 0 {
            return Err(DataError::Format {
                path: file.clone(),
                message: format!("the {side} data set has no rows: drift needs data on both sides"),
                help: Some(
                    "check that the file is the one meant, and that it is not just a header".into(),
                ),
            });
        }
    }
    let mut check = compare(&mut r, &mut c, sides, schema, opts);
    // Data from an object store or a DVC remote: the report says from where, for each side.
    for (figures, prefix) in [
        (&sides.current_origin, ""),
        (&sides.reference_origin, "reference_"),
    ] {
        for (k, v) in figures {
            check.figures.insert(format!("{prefix}{k}"), v.clone());
        }
    }
    Ok(check)
}

/// The two sides' names, for findings, and where their data came from (an object store, a DVC remote).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sides {
    pub reference: String,
    pub current: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_origin: Vec<(String, serde_json::Value)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub current_origin: Vec<(String, serde_json::Value)>,
}

impl Sides {
    pub fn of(reference: &Source, current: &Source) -> Sides {
        Sides {
            reference: reference.display.clone(),
            current: current.display.clone(),
            reference_origin: crate::data::source::figures(&reference.origin),
            current_origin: crate::data::source::figures(&current.origin),
        }
    }
}

fn schema_kind(schema: Option<&Schema>, name: &str) -> Option<ColumnKind> {
    let s = schema?;
    let f = s.fields.iter().find(|f| f.name == name)?;
    Some(match f.ftype {
        FieldType::Number | FieldType::Integer => ColumnKind::Numerical,
        _ => ColumnKind::Categorical,
    })
}

/// What kind of values a side holds, to detect a type that changed between reference and current.
fn value_class(c: &Column) -> &'static str {
    if c.texts > 0 {
        "text"
    } else if c.bools > 0 && c.ints + c.floats == 0 {
        "boolean"
    } else if c.bools > 0 {
        "text"
    } else {
        "number"
    }
}

fn finding(code: &str, sev: Severity, file: &str, field: &str, msg: String) -> Finding {
    let mut f = Finding::new(code, sev, msg);
    f.file = Some(file.to_string());
    f.field = Some(field.to_string());
    f
}

/// Every column of the reference against the same column of the current data: the tested columns' results, and
/// the findings (columns on one side only, untestable columns, drifted columns).
fn compare(
    r: &mut Table,
    c: &mut Table,
    sides: &Sides,
    schema: Option<&Schema>,
    opts: &DriftOptions,
) -> Check {
    let cur_index: HashMap<String, usize> = c
        .columns
        .iter()
        .enumerate()
        .map(|(i, col)| (col.name.clone(), i))
        .collect();
    let mut findings = column_set_findings(r, c, &sides.reference, opts);
    let mut results: Vec<ColumnDrift> = vec![];
    for rc in r.columns.iter_mut() {
        if opts.exclude.contains(&rc.name) {
            continue;
        }
        let Some(&ci) = cur_index.get(&rc.name) else {
            findings.push(finding(
                "missing-column",
                Severity::Error,
                &sides.current,
                &rc.name,
                format!(
                    "column {:?} is in the reference but not in the current data",
                    rc.name
                ),
            ));
            continue;
        };
        match compare_column(rc, &mut c.columns[ci], sides, schema, opts) {
            Ok((result, drift_finding)) => {
                findings.extend(drift_finding);
                results.push(result);
            }
            Err(untestable) => findings.push(*untestable),
        }
    }
    build_check(r, c, results, findings, opts)
}

/// Names in the options that neither table has, and columns that only the current data has.
fn column_set_findings(r: &Table, c: &Table, reference: &str, opts: &DriftOptions) -> Vec<Finding> {
    let mut findings = vec![];
    let ref_names: BTreeSet<&str> = r.columns.iter().map(|x| x.name.as_str()).collect();
    let cur_names: BTreeSet<&str> = c.columns.iter().map(|x| x.name.as_str()).collect();
    for name in &opts.exclude {
        if !ref_names.contains(name.as_str()) && !cur_names.contains(name.as_str()) {
            findings.push(finding(
                "unknown-column",
                Severity::Warning,
                reference,
                name,
                format!("`exclude` names column {name:?}, which neither table has"),
            ));
        }
    }
    for name in opts.columns.keys() {
        if !ref_names.contains(name.as_str()) {
            findings.push(finding(
                "unknown-column",
                Severity::Warning,
                reference,
                name,
                format!(
                    "drift options name column {name:?}, which the reference table does not have"
                ),
            ));
        }
    }
    for col in &c.columns {
        if !ref_names.contains(col.name.as_str()) && !opts.exclude.contains(&col.name) {
            findings.push(finding(
                "missing-column",
                Severity::Error,
                reference,
                &col.name,
                format!(
                    "column {:?} is in the current data but not in the reference",
                    col.name
                ),
            ));
        }
    }
    findings
}

/// One column on both sides: its test, score and decision, with a `column-drift` finding when it drifted;
/// `Err` is the finding of a column that cannot be tested.
fn compare_column(
    rc: &mut Column,
    cc: &mut Column,
    sides: &Sides,
    schema: Option<&Schema>,
    opts: &DriftOptions,
) -> Result<(ColumnDrift, Option<Finding>), Box<Finding>> {
    let kind = testable_kind(rc, cc, sides, schema)?;
    let copts = opts.columns.get(&rc.name).cloned().unwrap_or_default();
    let unique = union_count(rc, cc);
    let test = copts
        .test
        .unwrap_or_else(|| default_test(kind, rc.present(), unique));
    if test.numerical_only() && kind != ColumnKind::Numerical {
        return Err(Box::new(finding(
            "invalid-test",
            Severity::Error,
            &sides.reference,
            &rc.name,
            format!(
                "test `{}` needs a numerical column, and {:?} is categorical",
                test.name(),
                rc.name
            ),
        )));
    }
    let threshold = copts.threshold.unwrap_or(test.default_threshold());
    let sketched = rc.sketch_error().is_some() || cc.sketch_error().is_some();
    let sketch_error =
        sketched.then(|| rc.sketch_error().unwrap_or(0.0) + cc.sketch_error().unwrap_or(0.0));
    let score = run_test(test, kind, rc, cc);
    let drifted = decide(test, score, threshold);
    let drift_finding = drifted.then(|| {
        let mut f = finding(
            "column-drift",
            Severity::Warning,
            &sides.current,
            &rc.name,
            describe(test, score, threshold, &rc.name),
        );
        f.value = Some(fmt_num(score_value(test, score)));
        f
    });
    let result = ColumnDrift {
        column: rc.name.clone(),
        kind,
        test: test.name().to_string(),
        // Non-finite numbers become JSON null (a chi-square with a category new in current is infinite).
        statistic: Some(score.statistic),
        p_value: score.p_value,
        threshold,
        drifted,
        method: if sketched { "sketch" } else { "exact" }.to_string(),
        sketch_error,
        reference_count: rc.present(),
        current_count: cc.present(),
        unique_values: unique as u64,
        histogram: histogram(kind, rc, cc),
    };
    Ok((result, drift_finding))
}

/// The column's kind when it can be tested at all: values on both sides, of one class, numeric when the schema
/// says numerical, and not too many categories; else the finding that says why not.
fn testable_kind(
    rc: &Column,
    cc: &Column,
    sides: &Sides,
    schema: Option<&Schema>,
) -> Result<ColumnKind, Box<Finding>> {
    let name = &rc.name;
    if rc.present() == 0 || cc.present() == 0 {
        let (file, side) = if rc.present() == 0 {
            (&sides.reference, "reference")
        } else {
            (&sides.current, "current")
        };
        return Err(Box::new(finding(
            "empty-column",
            Severity::Error,
            file,
            name,
            format!(
                "column {name:?} has no values in the {side} data (every cell is missing, NaN or infinite)"
            ),
        )));
    }
    let (rk, ck) = (value_class(rc), value_class(cc));
    if rk != ck {
        return Err(Box::new(finding(
            "type-mismatch",
            Severity::Error,
            &sides.current,
            name,
            format!(
                "column {name:?} holds {rk} values in the reference but {ck} values in the current data"
            ),
        )));
    }
    let kind = schema_kind(schema, name).unwrap_or_else(|| infer_kind(rc));
    if kind == ColumnKind::Numerical && !rc.is_numeric() {
        return Err(Box::new(finding(
            "type-mismatch",
            Severity::Error,
            &sides.reference,
            name,
            format!("column {name:?} is numerical in the schema but holds non-numeric values"),
        )));
    }
    if (rc.overflow || cc.overflow) && kind == ColumnKind::Categorical {
        return Err(Box::new(finding(
            "too-many-categories",
            Severity::Warning,
            &sides.reference,
            name,
            format!(
                "column {name:?} has more than {} distinct values: not tested as categorical (exclude it, or declare it a number in the schema)",
                columns::MAX_DISTINCT
            ),
        )));
    }
    Ok(kind)
}

/// Evidently's column type inference for pandas columns: floats are numerical; integers are categorical when
/// they take at most 10 distinct values (`INTEGER_CARDINALITY_LIMIT`); booleans and text are categorical.
fn infer_kind(rc: &Column) -> ColumnKind {
    if !rc.is_numeric() {
        return ColumnKind::Categorical;
    }
    if rc.is_integer_dtype() && rc.distinct() <= 10 && !rc.overflow {
        ColumnKind::Categorical
    } else {
        ColumnKind::Numerical
    }
}

fn union_count(r: &Column, c: &Column) -> usize {
    if r.overflow || c.overflow {
        return columns::MAX_DISTINCT + 1;
    }
    r.distinct() + c.keys().filter(|k| !r.has(k)).count()
}

/// Evidently 0.7's `_get_default_stattest`.
pub fn default_test(kind: ColumnKind, reference_rows: u64, unique: usize) -> Test {
    if reference_rows <= 1000 {
        match kind {
            ColumnKind::Numerical if unique > 5 => Test::Ks,
            _ if unique > 2 => Test::Chisquare,
            _ => Test::Z,
        }
    } else {
        match kind {
            ColumnKind::Numerical if unique > 5 => Test::Wasserstein,
            _ => Test::Jensenshannon,
        }
    }
}

fn score_value(test: Test, s: Score) -> f64 {
    if test.is_p_value() {
        s.p_value.unwrap_or(f64::NAN)
    } else {
        s.statistic
    }
}

/// Evidently's decisions: `ks` p ≤ threshold, `chisquare`/`z` p < threshold, distances ≥ threshold.
/// A NaN score never drifts (as in Python, every comparison with NaN is false).
fn decide(test: Test, s: Score, threshold: f64) -> bool {
    let v = score_value(test, s);
    match test {
        Test::Ks => v <= threshold,
        Test::Chisquare | Test::Z => v < threshold,
        _ => v >= threshold,
    }
}

fn fmt_num(x: f64) -> String {
    crate::report::people(x)
}

fn describe(test: Test, s: Score, threshold: f64, name: &str) -> String {
    if test.is_p_value() {
        let op = if test == Test::Ks { "≤" } else { "<" };
        format!(
            "column {name:?} drifted: {} p-value {} {op} {}",
            test.name(),
            fmt_num(score_value(test, s)),
            fmt_num(threshold)
        )
    } else {
        format!(
            "column {name:?} drifted: {} {} ≥ {}",
            test.name(),
            fmt_num(s.statistic),
            fmt_num(threshold)
        )
    }
}

/// Category keys over both sides, in a stable order (Python's sort for the z-test's "first key").
fn union_keys(r: &Column, c: &Column) -> Vec<Key> {
    let mut keys: BTreeSet<Key> = r.keys().collect();
    keys.extend(c.keys());
    keys.into_iter().collect()
}

fn count_of(col: &Column, k: &Key) -> f64 {
    col.count_of(k) as f64
}

fn run_test(test: Test, kind: ColumnKind, r: &Column, c: &Column) -> Score {
    match test {
        Test::Ks => {
            let (rn, cn) = (r.present(), c.present());
            let (rv, rw) = r.sorted();
            let (cv, cw) = c.sorted();
            let d = stats::ks_statistic_weighted(rv, rw, cv, cw);
            let (d, p, _) = if rw.is_none() && cw.is_none() {
                stats::ks_pvalue(d, rv.len() as u64, cv.len() as u64)
            } else {
                stats::ks_pvalue(d, rn, cn)
            };
            Score {
                statistic: d,
                p_value: Some(p),
            }
        }
        Test::Wasserstein => {
            let (rn, rs, rss) = (r.present() as f64, r.sum, r.sumsq);
            let (rv, rw) = r.sorted();
            let std = if rw.is_none() {
                stats::std_pop(rv)
            } else {
                let mean = rs / rn;
                (rss / rn - mean * mean).max(0.0).sqrt()
            };
            let (cv, cw) = c.sorted();
            let w = stats::wasserstein_weighted(rv, rw, cv, cw);
            Score {
                statistic: w / std.max(0.001),
                p_value: None,
            }
        }
        Test::Chisquare => {
            let keys = union_keys(r, c);
            let k_norm = c.present() as f64 / r.present() as f64;
            let exp: Vec<f64> = keys.iter().map(|k| count_of(r, k) * k_norm).collect();
            let obs: Vec<f64> = keys.iter().map(|k| count_of(c, k)).collect();
            let (stat, p) = stats::chisquare(&obs, &exp);
            Score {
                statistic: stat,
                p_value: Some(p),
            }
        }
        Test::Z => {
            if r.distinct() == 1 && c.distinct() == 1 && r.keys().eq(c.keys()) {
                return Score {
                    statistic: 0.0,
                    p_value: Some(1.0),
                };
            }
            let keys = union_keys(r, c);
            let first = &keys[0];
            let (n1, n2) = (r.present() as f64, c.present() as f64);
            let (z, p) = stats::z_test(n1 - count_of(r, first), n1, n2 - count_of(c, first), n2);
            Score {
                statistic: z,
                p_value: Some(p),
            }
        }
        Test::Jensenshannon => {
            let (rp, cp) = binned(kind, r, c, false);
            Score {
                statistic: stats::jensenshannon(&rp, &cp),
                p_value: None,
            }
        }
        Test::Psi => {
            let (rp, cp) = binned(kind, r, c, true);
            Score {
                statistic: stats::psi(&rp, &cp),
                p_value: None,
            }
        }
        Test::KlDiv => {
            let (rp, cp) = binned(kind, r, c, true);
            Score {
                statistic: stats::kl_div(&rp, &cp),
                p_value: None,
            }
        }
        Test::LInfinity => {
            let (rp, cp) = binned(kind, r, c, false);
            Score {
                statistic: stats::l_infinity(&rp, &cp),
                p_value: None,
            }
        }
    }
}

/// Counts of sorted (possibly weighted) values per bin, scaled to the side's count.
fn weighted_histogram(col: &Column, edges: &[f64]) -> Vec<f64> {
    let n = col.present() as f64;
    let (v, w) = col.sorted();
    let mut out = vec![0.0; edges.len() - 1];
    let mut total = 0.0;
    for (i, &x) in v.iter().enumerate() {
        let wt = w.map_or(1.0, |w| w[i]);
        total += wt;
        if let Some(b) = stats::bin_index(x, edges) {
            out[b] += wt;
        }
    }
    if w.is_some() && total > 0.0 {
        out.iter_mut().for_each(|x| *x *= n / total);
    }
    out
}

/// Evidently's `get_binned_data`: shares per bin for each side. Numerical columns with more than 20 unique
/// reference values are cut into Sturges bins over both sides; anything else is counted per value.
fn binned(kind: ColumnKind, r: &Column, c: &Column, fill: bool) -> (Vec<f64>, Vec<f64>) {
    let (rn, cn) = (r.present() as f64, c.present() as f64);
    let ref_unique = if r.overflow { usize::MAX } else { r.distinct() };
    let (mut rp, mut cp) = if kind == ColumnKind::Numerical && ref_unique > 20 {
        let edges = stats::sturges_edges(
            (r.present() + c.present()) as usize,
            r.min.min(c.min),
            r.max.max(c.max),
            r.is_integer_dtype() && c.is_integer_dtype(),
        );
        let rh = weighted_histogram(r, &edges);
        let ch = weighted_histogram(c, &edges);
        (
            rh.iter().map(|x| x / rn).collect::<Vec<_>>(),
            ch.iter().map(|x| x / cn).collect::<Vec<_>>(),
        )
    } else {
        let keys = union_keys(r, c);
        (
            keys.iter().map(|k| count_of(r, k) / rn).collect(),
            keys.iter().map(|k| count_of(c, k) / cn).collect(),
        )
    };
    if fill {
        stats::fill_zeroes(&mut rp);
        stats::fill_zeroes(&mut cp);
    }
    (rp, cp)
}

/// The report's small histograms: 10 equal-width bins over both sides for numbers, the 10 most frequent values
/// (over both sides) and "other" for categories.
fn histogram(kind: ColumnKind, r: &Column, c: &Column) -> Histogram {
    if kind == ColumnKind::Numerical && (r.overflow || c.overflow || union_count(r, c) > HIST_BINS)
    {
        let (lo, hi) = (r.min.min(c.min), r.max.max(c.max));
        let edges = stats::linspace(
            if lo == hi { lo - 0.5 } else { lo },
            if lo == hi { hi + 0.5 } else { hi },
            HIST_BINS + 1,
        );
        let rh = weighted_histogram(r, &edges);
        let ch = weighted_histogram(c, &edges);
        let bins = edges
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                let close = if i == HIST_BINS - 1 { "]" } else { ")" };
                format!("[{}, {}{close}", short(w[0]), short(w[1]))
            })
            .collect();
        return Histogram {
            bins,
            reference: rh.iter().map(|x| x.round() as u64).collect(),
            current: ch.iter().map(|x| x.round() as u64).collect(),
        };
    }
    let mut keys = union_keys(r, c);
    // Numbers with few values read best in value order; categories by frequency.
    if kind == ColumnKind::Numerical {
        let shown = keys.len().min(HIST_CATEGORIES);
        let mut h = Histogram {
            bins: keys[..shown].iter().map(Key::label).collect(),
            reference: keys[..shown]
                .iter()
                .map(|k| count_of(r, k) as u64)
                .collect(),
            current: keys[..shown]
                .iter()
                .map(|k| count_of(c, k) as u64)
                .collect(),
        };
        if keys.len() > shown {
            h.bins.push("(other)".into());
            h.reference
                .push(r.present() - h.reference.iter().sum::<u64>());
            h.current.push(c.present() - h.current.iter().sum::<u64>());
        }
        return h;
    }
    keys.sort_by(|a, b| {
        let (ta, tb) = (
            count_of(r, a) + count_of(c, a),
            count_of(r, b) + count_of(c, b),
        );
        tb.total_cmp(&ta).then_with(|| a.cmp(b))
    });
    let shown = keys.len().min(HIST_CATEGORIES);
    let mut h = Histogram {
        bins: keys[..shown].iter().map(Key::label).collect(),
        reference: keys[..shown]
            .iter()
            .map(|k| count_of(r, k) as u64)
            .collect(),
        current: keys[..shown]
            .iter()
            .map(|k| count_of(c, k) as u64)
            .collect(),
    };
    if keys.len() > shown || r.overflow || c.overflow {
        let rs: u64 = h.reference.iter().sum();
        let cs: u64 = h.current.iter().sum();
        h.bins.push("(other)".into());
        h.reference.push(r.present() - rs);
        h.current.push(c.present() - cs);
    }
    h
}

/// A histogram edge: 4 decimals, not [`crate::report::people`], so that the edges of narrow bins over big
/// values (90000.1 to 90000.9) stay distinct labels.
fn short(x: f64) -> String {
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

fn build_check(
    r: &Table,
    c: &Table,
    results: Vec<ColumnDrift>,
    findings: Vec<Finding>,
    opts: &DriftOptions,
) -> Check {
    let tested = results.len();
    let drifted = results.iter().filter(|x| x.drifted).count();
    let share = if tested == 0 {
        0.0
    } else {
        drifted as f64 / tested as f64
    };
    let dataset_drift = tested > 0 && share >= opts.drift_share;
    let errors = findings.iter().any(|f| f.severity == Severity::Error);
    let status = if dataset_drift || errors {
        Status::Fail
    } else if drifted > 0 || !findings.is_empty() {
        Status::Warn
    } else {
        Status::Pass
    };
    let mut summary = format!(
        "{drifted} of {tested} columns drifted (share {:.2}, dataset drifts at ≥ {})",
        share, opts.drift_share
    );
    if dataset_drift {
        summary = format!("dataset drift: {summary}");
    }
    let problems = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    if problems > 0 {
        summary.push_str(&format!(
            "; {problems} column{} could not be compared",
            if problems == 1 { "" } else { "s" }
        ));
    }
    let mut figures = IndexMap::new();
    figures.insert("reference_rows".into(), r.rows.into());
    figures.insert("current_rows".into(), c.rows.into());
    figures.insert("columns_tested".into(), tested.into());
    figures.insert("columns_drifted".into(), drifted.into());
    figures.insert("drifted_share".into(), share.into());
    figures.insert("drift_share".into(), opts.drift_share.into());
    figures.insert("dataset_drift".into(), dataset_drift.into());
    figures.insert(
        "columns".into(),
        serde_json::to_value(&results).unwrap_or_default(),
    );
    let mut counts = std::collections::BTreeMap::new();
    for f in &findings {
        *counts.entry(f.code.clone()).or_insert(0) += 1;
    }
    Check {
        id: format!("{}/drift", opts.subject),
        kind: "drift".into(),
        subject: opts.subject.clone(),
        status,
        summary,
        figures,
        counts,
        findings,
        truncated: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_selection_follows_evidently() {
        use ColumnKind::*;
        assert_eq!(default_test(Numerical, 1000, 6), Test::Ks);
        assert_eq!(default_test(Numerical, 1000, 5), Test::Chisquare);
        assert_eq!(default_test(Numerical, 1000, 2), Test::Z);
        assert_eq!(default_test(Categorical, 1000, 3), Test::Chisquare);
        assert_eq!(default_test(Categorical, 10, 1), Test::Z);
        assert_eq!(default_test(Numerical, 1001, 6), Test::Wasserstein);
        assert_eq!(default_test(Numerical, 1001, 5), Test::Jensenshannon);
        assert_eq!(default_test(Categorical, 5000, 50), Test::Jensenshannon);
    }

    #[test]
    fn nan_scores_never_drift() {
        let s = Score {
            statistic: f64::NAN,
            p_value: Some(f64::NAN),
        };
        assert!(!decide(Test::Chisquare, s, 0.05));
        assert!(!decide(Test::Psi, s, 0.1));
    }
}
