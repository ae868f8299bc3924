//! Evaluation: the data checked against the model's input, run in batches, the outputs read as labels,
//! probabilities or values, and the metrics computed. Also the operational figures: latency at batch 1,
//! throughput, file size and parameter count.

use std::time::{Duration, Instant};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use tract_onnx::prelude::*;

use super::error::{chain, ModelError};
use super::input::{EvalData, Truth};
use super::load::{dtype_name, Dim, Model, Plan};
use super::metrics::{self, Scores};
use super::npy::NpyData;
use super::outputs::{OutputFact, OutputRoles};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    Classification,
    Regression,
}

impl Task {
    pub fn as_str(self) -> &'static str {
        match self {
            Task::Classification => "classification",
            Task::Regression => "regression",
        }
    }
}

#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// Told by the model's outputs when not given.
    pub task: Option<Task>,
    /// Rows per run.
    pub batch_size: usize,
    /// Names of the classes in the model's class order (overrides the model's metadata).
    pub class_names: Option<Vec<String>>,
    /// Single-row runs timed for the latency percentiles (0: none).
    pub latency_runs: usize,
    /// The positive class of binary metrics (scikit-learn's default 1).
    pub pos_label: i64,
    /// Threads running batches (0: one per core). The outputs do not depend on it.
    pub threads: usize,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            task: None,
            batch_size: 256,
            class_names: None,
            latency_runs: 200,
            pos_label: 1,
            threads: 0,
        }
    }
}

/// One output tensor's values for every row, row-major, `width` values a row.
#[derive(Debug, Clone)]
pub struct OutputRows {
    pub name: String,
    pub dtype: DatumType,
    pub width: usize,
    pub data: Vec<f64>,
}

impl OutputRows {
    fn row(&self, r: usize) -> &[f64] {
        &self.data[r * self.width..(r + 1) * self.width]
    }
}

/// What the model predicted, row-aligned with the truth.
#[derive(Debug, Clone, PartialEq)]
pub enum Scored {
    Classification {
        y_true: Vec<i64>,
        y_pred: Vec<i64>,
        /// Columns in `class_labels` order.
        probabilities: Option<Vec<Vec<f64>>>,
        class_labels: Vec<i64>,
        pos_label: i64,
    },
    Regression {
        y_true: Vec<f64>,
        y_pred: Vec<f64>,
    },
}

/// Names of the quality metrics of a task, in report order.
pub fn quality_metric_names(task: Task, binary: bool) -> Vec<&'static str> {
    match task {
        Task::Classification => {
            let mut v = vec![
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
            ];
            if binary {
                v.extend(["precision_binary", "recall_binary", "f1_binary"]);
            }
            v.extend(["roc_auc", "log_loss"]);
            v
        }
        Task::Regression => vec!["mae", "mse", "rmse", "r2", "mape", "max_error"],
    }
}

/// The operational metrics, in report order.
pub const OPERATIONAL_METRICS: [&str; 6] = [
    "latency_p50",
    "latency_p95",
    "latency_p99",
    "throughput",
    "model_size",
    "parameter_count",
];

impl Scored {
    pub fn task(&self) -> Task {
        match self {
            Scored::Classification { .. } => Task::Classification,
            Scored::Regression { .. } => Task::Regression,
        }
    }

    pub fn rows(&self) -> usize {
        match self {
            Scored::Classification { y_true, .. } => y_true.len(),
            Scored::Regression { y_true, .. } => y_true.len(),
        }
    }

    pub fn is_binary(&self) -> bool {
        match self {
            Scored::Classification { class_labels, .. } => class_labels.len() <= 2,
            Scored::Regression { .. } => false,
        }
    }

    /// The quality metrics on all rows (`rows = None`) or on the given rows (a bootstrap resample).
    pub fn metrics(&self, rows: Option<&[usize]>) -> IndexMap<&'static str, Option<f64>> {
        let pick = |n: usize| -> Vec<usize> {
            rows.map(<[usize]>::to_vec)
                .unwrap_or_else(|| (0..n).collect())
        };
        let mut m = IndexMap::new();
        match self {
            Scored::Classification {
                y_true,
                y_pred,
                probabilities,
                class_labels,
                pos_label,
            } => {
                let idx = pick(y_true.len());
                let t: Vec<i64> = idx.iter().map(|&i| y_true[i]).collect();
                let p: Vec<i64> = idx.iter().map(|&i| y_pred[i]).collect();
                let probs: Option<Vec<Vec<f64>>> = probabilities
                    .as_ref()
                    .map(|pr| idx.iter().map(|&i| pr[i].clone()).collect());
                let scores = probs.as_ref().map(|rows| Scores { class_labels, rows });
                let c = metrics::classification(&t, &p, scores.as_ref(), *pos_label);
                let all = [
                    ("accuracy", Some(c.accuracy)),
                    ("balanced_accuracy", Some(c.balanced_accuracy)),
                    ("precision_macro", Some(c.precision_macro)),
                    ("precision_micro", Some(c.precision_micro)),
                    ("precision_weighted", Some(c.precision_weighted)),
                    ("recall_macro", Some(c.recall_macro)),
                    ("recall_micro", Some(c.recall_micro)),
                    ("recall_weighted", Some(c.recall_weighted)),
                    ("f1_macro", Some(c.f1_macro)),
                    ("f1_micro", Some(c.f1_micro)),
                    ("f1_weighted", Some(c.f1_weighted)),
                    ("precision_binary", c.precision_binary),
                    ("recall_binary", c.recall_binary),
                    ("f1_binary", c.f1_binary),
                    ("roc_auc", c.roc_auc),
                    ("log_loss", c.log_loss),
                ];
                let names = quality_metric_names(Task::Classification, self.is_binary());
                for (k, v) in all {
                    if names.contains(&k) {
                        m.insert(k, v);
                    }
                }
            }
            Scored::Regression { y_true, y_pred } => {
                let idx = pick(y_true.len());
                let t: Vec<f64> = idx.iter().map(|&i| y_true[i]).collect();
                let p: Vec<f64> = idx.iter().map(|&i| y_pred[i]).collect();
                let r = metrics::regression(&t, &p);
                m.insert("mae", Some(r.mae));
                m.insert("mse", Some(r.mse));
                m.insert("rmse", Some(r.rmse));
                m.insert("r2", Some(r.r2));
                m.insert("mape", Some(r.mape));
                m.insert("max_error", Some(r.max_error));
            }
        }
        m
    }

    /// Labels and matrix (rows: true, columns: predicted), classification only.
    pub fn confusion(&self) -> Option<(Vec<i64>, Vec<Vec<u64>>)> {
        match self {
            Scored::Classification {
                y_true,
                y_pred,
                pos_label,
                ..
            } => {
                let c = metrics::classification(y_true, y_pred, None, *pos_label);
                Some((c.labels, c.confusion_matrix))
            }
            Scored::Regression { .. } => None,
        }
    }
}

/// A model's evaluation on its data.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub model: String,
    pub task: Task,
    pub rows: usize,
    /// `None` when the outputs held NaN (then no quality metric is computed).
    pub scored: Option<Scored>,
    /// Rows (0-based) whose output held NaN.
    pub nan_rows: Vec<usize>,
    /// Names of the classes in class order, when known.
    pub class_names: Option<Vec<String>>,
    /// Quality then operational metrics; `None` where undefined.
    pub metrics: IndexMap<String, Option<f64>>,
}

/// Checks the data's shape and type against the model's input; the error says what was expected and given.
pub fn check_input(model: &Model, data: &EvalData) -> Result<(), ModelError> {
    let input = &model.input;
    let from_table = data.from_table;
    let given = if from_table {
        format!(
            "{} feature column{} ({} rows)",
            data.item()[0],
            if data.item()[0] == 1 { "" } else { "s" },
            data.rows()
        )
    } else {
        data.features.describe()
    };
    let mismatch = |what: &str| ModelError::Input {
        path: model.display.clone(),
        message: format!(
            "input `{}` {what}: the model expects {}, the data {} gives {given}",
            input.name,
            input.describe(),
            data.display
        ),
        help: Some(if from_table {
            "list the model's feature columns in input order with --features (`eval.features` in mlgate.yml)".into()
        } else {
            "save the array with the model's input shape and dtype (np.save(path, x.astype(np.float32)))".into()
        }),
    };
    if let Some(dims) = &input.dims {
        if dims.len() != data.features.shape.len() {
            return Err(mismatch("has another rank"));
        }
        for (d, &n) in dims.iter().zip(&data.features.shape).skip(1) {
            if let Dim::Fixed(f) = d {
                if *f != n {
                    return Err(mismatch("has another shape"));
                }
            }
        }
    }
    let dt = input.dtype.unwrap_or(DatumType::F32);
    let ok = match (&data.features.data, dt) {
        // Table cells are numbers: cast to the model's float type (CSV values are written from float64).
        (NpyData::F64(_), DatumType::F32 | DatumType::F64) if from_table => true,
        (NpyData::F32(_), DatumType::F32) => true,
        (NpyData::F64(_), DatumType::F64) => true,
        (NpyData::I64(_), DatumType::I64) => true,
        (NpyData::I32(_), DatumType::I32) => true,
        (NpyData::U8(_), DatumType::U8) => true,
        (NpyData::I8(_), DatumType::I8) => true,
        (NpyData::Bool(_), DatumType::Bool) => true,
        _ => false,
    };
    if !ok {
        let dt_name = dtype_name(dt);
        return Err(mismatch(&format!(
            "has another element type ({dt_name} expected, {} given)",
            data.features.data.dtype()
        )));
    }
    Ok(())
}

/// The input rows `start..end` as a tensor of `batch` rows (zero rows appended when the plan's batch is fixed).
fn batch_tensor(
    data: &EvalData,
    dt: DatumType,
    start: usize,
    end: usize,
    batch: usize,
) -> TractResult<Tensor> {
    let per: usize = data.item().iter().product();
    let mut shape = vec![batch];
    shape.extend_from_slice(data.item());
    let (a, b) = (start * per, end * per);
    let pad = (batch - (end - start)) * per;
    macro_rules! build {
        ($v:expr, $t:ty) => {{
            let mut buf: Vec<$t> = $v[a..b].to_vec();
            buf.resize(buf.len() + pad, <$t>::default());
            Tensor::from_shape::<$t>(&shape, &buf)
        }};
    }
    match (&data.features.data, dt) {
        (NpyData::F64(v), DatumType::F32) => {
            let mut buf: Vec<f32> = v[a..b].iter().map(|&x| x as f32).collect();
            buf.resize(buf.len() + pad, 0.0);
            Tensor::from_shape::<f32>(&shape, &buf)
        }
        (NpyData::F64(v), _) => build!(v, f64),
        (NpyData::F32(v), _) => build!(v, f32),
        (NpyData::I64(v), _) => build!(v, i64),
        (NpyData::I32(v), _) => build!(v, i32),
        (NpyData::U8(v), _) => build!(v, u8),
        (NpyData::I8(v), _) => build!(v, i8),
        (NpyData::Bool(v), _) => build!(v, bool),
    }
}

/// Runs every row through the model, `plan.batch` (or `batch_size`) rows at a time, on every core. Returns each
/// output's rows and the wall-clock time spent running.
pub fn run_all(
    model: &Model,
    plan: &Plan,
    data: &EvalData,
    batch_size: usize,
) -> Result<(Vec<OutputRows>, Duration), ModelError> {
    run_all_on(model, plan, data, batch_size, 0)
}

/// Threads for `batches` runs: `requested`, or one per core when it is 0; never more than there are batches.
pub fn thread_count(requested: usize, batches: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let n = if requested == 0 { cores } else { requested };
    n.clamp(1, batches.max(1))
}

/// [`run_all`] on `threads` threads (0: one per core). Every batch is the same run whatever the thread count (the
/// same rows, the same batch shape, one plan shared read-only; each run has its own tract state), so the outputs
/// are identical to one thread's, bit for bit.
pub fn run_all_on(
    model: &Model,
    plan: &Plan,
    data: &EvalData,
    batch_size: usize,
    threads: usize,
) -> Result<(Vec<OutputRows>, Duration), ModelError> {
    let rows = data.rows();
    let step = plan.batch.unwrap_or(batch_size.max(1));
    let batches: Vec<(usize, usize)> = (0..rows)
        .step_by(step)
        .map(|start| (start, (start + step).min(rows)))
        .collect();
    let threads = thread_count(threads, batches.len());
    let t0 = Instant::now();
    let bar = crate::progress::Task::rows(&format!("running {}", model.display), rows as u64);
    let results = if threads == 1 {
        run_batches(model, plan, data, &batches, &bar)
    } else {
        run_batches_parallel(model, plan, data, &batches, threads, &bar)?
    };
    drop(bar);
    let spent = t0.elapsed();
    let mut outs: Vec<OutputRows> = vec![];
    for result in results {
        let batch = result?;
        if outs.is_empty() {
            outs = batch
                .iter()
                .enumerate()
                .map(|(i, b)| OutputRows {
                    name: output_name(model, i),
                    dtype: b.dtype,
                    width: 0,
                    data: vec![],
                })
                .collect();
        }
        for (o, b) in outs.iter_mut().zip(batch) {
            o.width = b.width;
            match b.values {
                Some(v) => o.data.extend_from_slice(&v),
                // Strings and other non-numeric outputs are not read.
                None => o.width = 0,
            }
        }
    }
    Ok((outs, spent))
}

/// One output of one batch: its values for the batch's real rows (padding dropped).
struct BatchOutput {
    dtype: DatumType,
    width: usize,
    values: Option<Vec<f64>>,
}

type BatchResult = Result<Vec<BatchOutput>, ModelError>;

/// Runs `batches` in order, stopping at the first error (which is returned last); each batch's rows count on
/// the progress bar.
fn run_batches(
    model: &Model,
    plan: &Plan,
    data: &EvalData,
    batches: &[(usize, usize)],
    bar: &crate::progress::Task,
) -> Vec<BatchResult> {
    let mut results = Vec::with_capacity(batches.len());
    for &(start, end) in batches {
        let r = run_batch(model, plan, data, start, end);
        bar.advance((end - start) as u64);
        let failed = r.is_err();
        results.push(r);
        if failed {
            break;
        }
    }
    results
}

/// Runs batch `i` on thread `i % threads`, then puts the results back in batch order. Each thread stops at its
/// first error; the earliest failed batch is then the first error in order, as one thread would have reported.
fn run_batches_parallel(
    model: &Model,
    plan: &Plan,
    data: &EvalData,
    batches: &[(usize, usize)],
    threads: usize,
    bar: &crate::progress::Task,
) -> Result<Vec<BatchResult>, ModelError> {
    let per_thread: Vec<Vec<BatchResult>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let mine: Vec<(usize, usize)> =
                    batches.iter().skip(t).step_by(threads).copied().collect();
                scope.spawn(move || run_batches(model, plan, data, &mine, bar))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().map_err(|_| ModelError::Run {
                    path: model.display.clone(),
                    message: "an evaluation thread panicked".into(),
                })
            })
            .collect::<Result<_, _>>()
    })?;
    let mut iters: Vec<_> = per_thread.into_iter().map(Vec::into_iter).collect();
    let mut ordered = Vec::with_capacity(batches.len());
    'batches: for i in 0..batches.len() {
        match iters[i % threads].next() {
            Some(r) => {
                let failed = r.is_err();
                ordered.push(r);
                if failed {
                    break 'batches;
                }
            }
            // That thread stopped at an error; a result before it in order is an error already pushed.
            None => break 'batches,
        }
    }
    Ok(ordered)
}

fn output_name(model: &Model, i: usize) -> String {
    model
        .outputs
        .get(i)
        .map(|o| o.name.clone())
        .unwrap_or_else(|| format!("output {i}"))
}

/// Rows `start..end` through the model (a panic in tract is a failed run), each output read as f64 values.
fn run_batch(model: &Model, plan: &Plan, data: &EvalData, start: usize, end: usize) -> BatchResult {
    let run_err = |message: String| ModelError::Run {
        path: model.display.clone(),
        message,
    };
    let dt = model.input.dtype.unwrap_or(DatumType::F32);
    let run_rows = plan.batch.unwrap_or(end - start);
    let input = batch_tensor(data, dt, start, end, run_rows).map_err(|e| run_err(chain(&e)))?;
    let result = crate::untrusted::catch(|| plan.run(input))
        .map_err(|_| run_err(format!("tract panicked on rows {}..{}", start + 1, end)))?
        .map_err(|e| run_err(format!("rows {}..{}: {}", start + 1, end, chain(&e))))?;
    let mut outputs = Vec::with_capacity(result.len());
    for (i, t) in result.iter().enumerate() {
        let lead = t.shape().first().copied();
        if lead != Some(run_rows) || run_rows == 0 {
            return Err(ModelError::Output {
                path: model.display.clone(),
                message: format!(
                    "output `{}` has shape {:?} for a batch of {run_rows}: its first dimension is not the batch",
                    output_name(model, i),
                    t.shape()
                ),
                help: None,
            });
        }
        let width = t.len() / run_rows;
        let values = tensor_f64(t).map(|mut v| {
            v.truncate((end - start) * width);
            v
        });
        outputs.push(BatchOutput {
            dtype: t.datum_type(),
            width,
            values,
        });
    }
    Ok(outputs)
}

/// A numeric tensor's values as f64 (exact for f32 and integer labels); `None` for strings and the like.
fn tensor_f64(t: &Tensor) -> Option<Vec<f64>> {
    let t = if t.datum_type() == DatumType::TDim {
        t.cast_to::<i64>().ok()?.into_owned()
    } else {
        t.clone()
    };
    if !(t.datum_type().is_float()
        || t.datum_type().is_integer()
        || t.datum_type() == DatumType::Bool)
    {
        return None;
    }
    let c = t.cast_to::<f64>().ok()?;
    let v = c.to_plain_array_view::<f64>().ok()?;
    Some(v.iter().copied().collect())
}

/// The index of the largest value, the first one on ties (NumPy's argmax); NaN never wins.
pub fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in row.iter().enumerate() {
        if x > row[best] || row[best].is_nan() {
            best = i;
        }
    }
    best
}

/// The facts of a run's outputs for [`OutputRoles`]: an output whose values do not fill `rows` rows is not read.
pub fn run_facts(outs: &[OutputRows], rows: usize) -> Vec<Option<OutputFact>> {
    outs.iter()
        .map(|o| {
            let complete = o.data.len() == rows * o.width;
            Some(OutputFact {
                dtype: o.dtype,
                width: if complete { o.width } else { 0 },
            })
        })
        .collect()
}

/// Reads the outputs as the task needs them.
fn interpret(
    model: &Model,
    outs: &[OutputRows],
    data: &EvalData,
    opts: &EvalOptions,
    class_names: Option<&[String]>,
) -> Result<(Task, Option<Scored>, Vec<usize>), ModelError> {
    let rows = data.rows();
    let roles = OutputRoles::of(&run_facts(outs, rows));
    let label_out = roles.label.map(|i| &outs[i]);
    let prob_out = roles.probabilities.map(|i| &outs[i]);
    let value_out = roles.value.map(|i| &outs[i]);
    // Without labels, probabilities or a value the regression branch says what is missing.
    let task = opts
        .task
        .unwrap_or(roles.task().unwrap_or(Task::Regression));
    let out_err = |message: String| {
        ModelError::Output {
        path: model.display.clone(),
        message,
        help: Some(format!(
            "the model's outputs are {}; a classifier gives int labels [N] and/or float probabilities [N, classes], a regressor float values [N] or [N, 1]",
            outs.iter()
                .map(|o| format!("`{}` {} ×{}", o.name, dtype_name(o.dtype), o.width))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
    };
    let float_used: Vec<&OutputRows> = match task {
        Task::Classification => prob_out.or(value_out).into_iter().collect(),
        Task::Regression => value_out.into_iter().collect(),
    };
    let mut nan_rows: Vec<usize> = (0..rows)
        .filter(|&r| {
            float_used
                .iter()
                .any(|o| o.row(r).iter().any(|x| x.is_nan()))
        })
        .collect();
    nan_rows.dedup();
    match task {
        Task::Regression => {
            let Some(v) = value_out else {
                return Err(out_err(
                    "no output gives one value per row, as a regressor's does".into(),
                ));
            };
            let Truth::Numbers(y_true) = &data.truth else {
                return Err(ModelError::Data {
                    path: data.display.clone(),
                    message: "the label column holds text; a regression target must be numeric"
                        .into(),
                    help: None,
                });
            };
            if !nan_rows.is_empty() {
                return Ok((task, None, nan_rows));
            }
            Ok((
                task,
                Some(Scored::Regression {
                    y_true: y_true.clone(),
                    y_pred: v.data.clone(),
                }),
                nan_rows,
            ))
        }
        Task::Classification => {
            // Probabilities as [N, k]; a single sigmoid column is the positive class's probability.
            let (probabilities, k) = match (prob_out, value_out) {
                (Some(p), _) => (
                    Some((0..rows).map(|r| p.row(r).to_vec()).collect::<Vec<_>>()),
                    p.width,
                ),
                (None, Some(v)) if label_out.is_none() => (
                    Some(
                        (0..rows)
                            .map(|r| vec![1.0 - v.data[r], v.data[r]])
                            .collect(),
                    ),
                    2,
                ),
                _ => (None, 0),
            };
            let class_labels: Vec<i64> = match (&model.class_labels, k) {
                (Some(c), k) if k == 0 || c.len() == k => c.clone(),
                (_, k) if k > 0 => (0..k as i64).collect(),
                _ => vec![],
            };
            let y_pred: Vec<i64> = match (label_out, &probabilities) {
                (Some(l), _) if !(model.label_output_unreliable && probabilities.is_some()) => {
                    l.data.iter().map(|&x| x as i64).collect()
                }
                (_, Some(p)) => p.iter().map(|row| class_labels[argmax(row)]).collect(),
                _ => {
                    return Err(out_err(
                        "no output gives class labels or probabilities".into(),
                    ))
                }
            };
            let class_labels = if class_labels.is_empty() {
                let mut c: Vec<i64> = y_pred.clone();
                c.sort_unstable();
                c.dedup();
                c
            } else {
                class_labels
            };
            let y_true = truth_classes(data, &class_labels, class_names)?;
            if !nan_rows.is_empty() {
                return Ok((task, None, nan_rows));
            }
            Ok((
                task,
                Some(Scored::Classification {
                    y_true,
                    y_pred,
                    probabilities,
                    class_labels,
                    pos_label: opts.pos_label,
                }),
                nan_rows,
            ))
        }
    }
}

/// True classes as the model's class labels: integer labels as they are, names through the class names.
fn truth_classes(
    data: &EvalData,
    class_labels: &[i64],
    class_names: Option<&[String]>,
) -> Result<Vec<i64>, ModelError> {
    let bad = |message: String, help: Option<String>| ModelError::Data {
        path: data.display.clone(),
        message,
        help,
    };
    match &data.truth {
        Truth::Numbers(v) => v
            .iter()
            .enumerate()
            .map(|(r, &x)| {
                if x.fract() == 0.0 && x.abs() < 9.0e15 {
                    Ok(x as i64)
                } else {
                    Err(bad(
                        format!("label {x} of row {} is not a class (an integer)", r + 1),
                        Some(
                            "for a regression model pass --task regression (`task: regression`)"
                                .into(),
                        ),
                    ))
                }
            })
            .collect(),
        Truth::Text(v) => {
            let Some(names) = class_names else {
                return Err(bad(
                    format!("the labels are names ({:?}, ...) but the model gives no class names", v[0]),
                    Some("list the classes in the model's order: `class_names: [...]` in mlgate.yml or --class-names".into()),
                ));
            };
            v.iter()
                .map(|s| {
                    names
                        .iter()
                        .position(|n| n == s)
                        .map(|i| class_labels.get(i).copied().unwrap_or(i as i64))
                        .ok_or_else(|| {
                            bad(
                                format!(
                                    "label {s:?} is not one of the class names {}",
                                    names.join(", ")
                                ),
                                None,
                            )
                        })
                })
                .collect()
        }
    }
}

/// Linear-interpolated percentile of sorted data (NumPy's default).
fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64))
}

/// Latency at batch 1 in milliseconds: `runs` single-row runs after one warm-up run.
fn latencies(model: &Model, plan: &Plan, data: &EvalData, runs: usize) -> Option<Vec<f64>> {
    if runs == 0 || data.rows() == 0 {
        return None;
    }
    let owned;
    let one = match plan.batch {
        None | Some(1) => plan,
        Some(_) => {
            owned = model.plan(Some(1), data.item()).ok()?;
            &owned
        }
    };
    let dt = model.input.dtype.unwrap_or(DatumType::F32);
    let n = runs.min(data.rows());
    let mut times = Vec::with_capacity(n);
    let warm = batch_tensor(data, dt, 0, 1, 1).ok()?;
    one.run(warm).ok()?;
    for r in 0..n {
        let t = batch_tensor(data, dt, r, r + 1, 1).ok()?;
        let t0 = Instant::now();
        one.run(t).ok()?;
        times.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Some(times)
}

/// A plan for the data: any batch size when the model allows it, else the configured batch (Keras exports
/// through tf2onnx need a concrete batch).
pub fn plan_for(model: &Model, data: &EvalData, batch_size: usize) -> Result<Plan, ModelError> {
    match model.plan(None, data.item()) {
        Ok(p) => Ok(p),
        Err(first) => model
            .plan(Some(batch_size.max(1)), data.item())
            .map_err(|_| first),
    }
}

/// Evaluates `model` on `data`.
pub fn evaluate(
    model: &Model,
    data: &EvalData,
    opts: &EvalOptions,
) -> Result<Evaluation, ModelError> {
    check_input(model, data)?;
    let plan = plan_for(model, data, opts.batch_size)?;
    let (outs, spent) = run_all_on(model, &plan, data, opts.batch_size, opts.threads)?;
    let class_names: Option<Vec<String>> = opts
        .class_names
        .clone()
        .or_else(|| model.class_names.clone());
    let (task, scored, nan_rows) = interpret(model, &outs, data, opts, class_names.as_deref())?;
    let mut metrics: IndexMap<String, Option<f64>> = IndexMap::new();
    match &scored {
        Some(s) => {
            for (k, v) in s.metrics(None) {
                metrics.insert(k.to_string(), v);
            }
        }
        None => {
            let binary = model.class_labels.as_ref().is_none_or(|c| c.len() <= 2);
            for k in quality_metric_names(task, binary) {
                metrics.insert(k.to_string(), None);
            }
        }
    }
    let lat = latencies(model, &plan, data, opts.latency_runs);
    let p = |q: f64| lat.as_deref().and_then(|l| percentile(l, q));
    metrics.insert("latency_p50".into(), p(0.5));
    metrics.insert("latency_p95".into(), p(0.95));
    metrics.insert("latency_p99".into(), p(0.99));
    let secs = spent.as_secs_f64();
    metrics.insert(
        "throughput".into(),
        (secs > 0.0).then(|| data.rows() as f64 / secs),
    );
    metrics.insert("model_size".into(), Some(model.file_size as f64));
    metrics.insert("parameter_count".into(), Some(model.parameter_count as f64));
    Ok(Evaluation {
        model: model.display.clone(),
        task,
        rows: data.rows(),
        scored,
        nan_rows,
        class_names,
        metrics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[0.2, 0.5, 0.5]), 1);
        assert_eq!(argmax(&[f64::NAN, 0.1]), 1);
    }

    #[test]
    fn percentiles_interpolate() {
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
