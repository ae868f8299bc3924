//! Evaluation data: the features as one array of rows and the true labels, from a table (CSV, JSON Lines,
//! Parquet: feature columns in the file's order or as listed) or from NumPy arrays (.npz, or .npy files).

use std::path::{Path, PathBuf};

use crate::data::reader::{self, Record, RecordSink};
use crate::data::value::Cell;
use crate::data::{Dialect, Format, Source};

use super::error::ModelError;
use super::npy::{self, NpyArray, NpyData};

/// Where the evaluation data is and how to read it.
#[derive(Debug, Clone)]
pub struct DataSpec {
    pub path: PathBuf,
    /// The label column (tables), the label array's name (.npz), or a .npy file of labels; empty for data
    /// without labels (`mlgate run`): every column or the one array is then a feature.
    pub label: String,
    /// Feature columns in the model's input order; default every column but the label, in the file's order.
    pub features: Option<Vec<String>>,
    /// The table format when the name does not tell it.
    pub format: Option<Format>,
}

/// The true labels as read: numbers, or text (class names) to map once the classes are known.
#[derive(Debug, Clone, PartialEq)]
pub enum Truth {
    Numbers(Vec<f64>),
    Text(Vec<String>),
}

impl Truth {
    pub fn len(&self) -> usize {
        match self {
            Truth::Numbers(v) => v.len(),
            Truth::Text(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Features and labels, row-aligned.
#[derive(Debug, Clone)]
pub struct EvalData {
    /// `[rows, item...]`.
    pub features: NpyArray,
    pub truth: Truth,
    /// Names of the feature columns (tables) or the array (.npz).
    pub feature_names: Vec<String>,
    /// Read from a table: cells are numbers that may be cast to the model's float type; arrays are not cast.
    pub from_table: bool,
    pub display: String,
}

impl EvalData {
    pub fn rows(&self) -> usize {
        self.features.shape.first().copied().unwrap_or(0)
    }

    /// The shape of one row.
    pub fn item(&self) -> &[usize] {
        self.features.shape.get(1..).unwrap_or_default()
    }
}

fn is_array_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    name.ends_with(".npy") || name.ends_with(".npz")
}

/// Reads the evaluation data. `input_name` is the model's input, used to pick the array in a .npz.
pub fn read(spec: &DataSpec, input_name: &str) -> Result<EvalData, ModelError> {
    if is_array_file(&spec.path) {
        read_arrays(spec, input_name)
    } else {
        read_table(spec)
    }
}

fn read_arrays(spec: &DataSpec, input_name: &str) -> Result<EvalData, ModelError> {
    let display = spec.path.display().to_string();
    let data_err = |message: String, help: Option<String>| ModelError::Data {
        path: display.clone(),
        message,
        help,
    };
    let mut arrays = npy::read_arrays(&spec.path).map_err(|m| data_err(m, None))?;
    let label_file = spec.label.to_ascii_lowercase().ends_with(".npy");
    let labels = if spec.label.is_empty() {
        None
    } else if label_file {
        // A separate .npy of labels, relative to the data file's folder.
        let base = spec.path.parent().unwrap_or(Path::new(""));
        let lp = base.join(&spec.label);
        let mut l = npy::read_arrays(&lp).map_err(|m| ModelError::Data {
            path: lp.display().to_string(),
            message: m,
            help: None,
        })?;
        Some(l.remove(0).1)
    } else {
        let names: Vec<String> = arrays.iter().map(|(n, _)| n.clone()).collect();
        let i = arrays.iter().position(|(n, _)| *n == spec.label).ok_or_else(|| {
            data_err(
                format!(
                    "no label array {:?}; the file holds {}",
                    spec.label,
                    names.join(", ")
                ),
                Some("name the label array with --label (`label:` in mlgate.yml), or give a .npy file of labels".into()),
            )
        })?;
        Some(arrays.remove(i).1)
    };
    // The features: the array named like the model's input, else `x`/`X`, else the only one left.
    let pick = arrays
        .iter()
        .position(|(n, _)| n == input_name)
        .or_else(|| arrays.iter().position(|(n, _)| n == "x" || n == "X"))
        .or_else(|| (arrays.len() == 1).then_some(0));
    let Some(i) = pick else {
        let names: Vec<String> = arrays.iter().map(|(n, _)| n.clone()).collect();
        return Err(data_err(
            format!(
                "cannot tell which array holds the features among {}",
                names.join(", ")
            ),
            Some(format!(
                "name it `x` or `{input_name}` (the model's input), or keep only the features and the labels"
            )),
        ));
    };
    let (name, features) = arrays.remove(i);
    if features.shape.is_empty() {
        return Err(data_err(
            format!("array {name:?} is a scalar; the features need one row per example"),
            None,
        ));
    }
    let rows = features.shape[0];
    let truth = Truth::Numbers(labels.map(|l| l.data.to_f64()).unwrap_or_default());
    if !spec.label.is_empty() && truth.len() != rows {
        return Err(data_err(
            format!(
                "{} labels for {rows} rows of features ({})",
                truth.len(),
                features.describe()
            ),
            Some("the label array must hold one label per row".into()),
        ));
    }
    Ok(EvalData {
        features,
        truth,
        feature_names: vec![name],
        from_table: false,
        display,
    })
}

/// Collects the feature columns and the label column of a table, stopping at the first problem.
struct TableSink<'a> {
    spec: &'a DataSpec,
    display: &'a str,
    columns: Vec<usize>,
    names: Vec<String>,
    label: usize,
    values: Vec<f64>,
    truth: Vec<LabelCell>,
    /// Rows read when the data has no labels.
    unlabelled_rows: usize,
    error: Option<ModelError>,
}

#[derive(Debug)]
enum LabelCell {
    Num(f64),
    Text(String),
}

impl RecordSink for TableSink<'_> {
    fn labels(&mut self, labels: Option<&[String]>) {
        let Some(labels) = labels else {
            self.error = Some(ModelError::Data {
                path: self.display.to_string(),
                message: "the table has no header row; evaluation needs named columns".into(),
                help: None,
            });
            return;
        };
        let unlabelled = self.spec.label.is_empty();
        let found = labels.iter().position(|l| *l == self.spec.label);
        let Some(label) = found.or(unlabelled.then_some(usize::MAX)) else {
            self.error = Some(ModelError::Data {
                path: self.display.to_string(),
                message: format!(
                    "no label column {:?}; the columns are {}",
                    self.spec.label,
                    crate::report::clip(&labels.join(", "), 300)
                ),
                help: Some(
                    "name the column of true labels with --label (`eval.label` in mlgate.yml)"
                        .into(),
                ),
            });
            return;
        };
        self.label = label;
        match &self.spec.features {
            Some(f) => {
                for name in f {
                    match labels.iter().position(|l| l == name) {
                        Some(i) => self.columns.push(i),
                        None => {
                            self.error = Some(ModelError::Data {
                                path: self.display.to_string(),
                                message: format!("no feature column {name:?}"),
                                help: Some(format!(
                                    "the columns are {}",
                                    crate::report::clip(&labels.join(", "), 300)
                                )),
                            });
                            return;
                        }
                    }
                }
                self.names = f.clone();
            }
            None => {
                for (i, l) in labels.iter().enumerate() {
                    if i != label {
                        self.columns.push(i);
                        self.names.push(l.clone());
                    }
                }
            }
        }
    }

    fn record(&mut self, record: &Record<'_>) {
        if self.error.is_some() {
            return;
        }
        let at = |field: &str| match record.line {
            Some(l) => format!("line {l} (row {}), column {field:?}", record.row),
            None => format!("row {}, column {field:?}", record.row),
        };
        for (k, &c) in self.columns.iter().enumerate() {
            let cell = record.cells.get(c).unwrap_or(&Cell::Null);
            let v = match cell {
                Cell::Int(i) => Some(*i as f64),
                Cell::Float(x) => Some(*x),
                Cell::Bool(b) => Some(*b as u8 as f64),
                Cell::Text(t) => t.trim().parse::<f64>().ok(),
                Cell::Null => None,
            };
            match v {
                Some(v) => self.values.push(v),
                None => {
                    let shown = cell.display();
                    self.error = Some(ModelError::Data {
                        path: self.display.to_string(),
                        message: format!(
                            "{}: {} is not a number; model features must be numeric",
                            at(&self.names[k]),
                            if shown.is_empty() { "an empty cell".to_string() } else { format!("{shown:?}") }
                        ),
                        help: Some("clean or impute the evaluation data, or leave the column out with `features`".into()),
                    });
                    return;
                }
            }
        }
        if self.label == usize::MAX {
            // Data without labels: count the row.
            self.unlabelled_rows += 1;
            return;
        }
        let cell = record.cells.get(self.label).unwrap_or(&Cell::Null);
        let t = match cell {
            Cell::Int(i) => LabelCell::Num(*i as f64),
            Cell::Float(x) => LabelCell::Num(*x),
            Cell::Bool(b) => LabelCell::Num(*b as u8 as f64),
            Cell::Text(t) => match t.trim().parse::<f64>() {
                Ok(x) => LabelCell::Num(x),
                Err(_) if !t.trim().is_empty() => LabelCell::Text(t.trim().to_string()),
                Err(_) => LabelCell::Text(String::new()),
            },
            Cell::Null => LabelCell::Text(String::new()),
        };
        if matches!(&t, LabelCell::Text(s) if s.is_empty()) {
            self.error = Some(ModelError::Data {
                path: self.display.to_string(),
                message: format!("{}: the label is missing", at(&self.spec.label)),
                help: Some("every evaluation row needs its true label".into()),
            });
            return;
        }
        self.truth.push(t);
    }
}

fn read_table(spec: &DataSpec) -> Result<EvalData, ModelError> {
    let source = Source::new(&spec.path, spec.format, Dialect::default())?;
    let display = source.display.clone();
    let mut sink = TableSink {
        spec,
        display: &display,
        columns: vec![],
        names: vec![],
        label: 0,
        values: vec![],
        truth: vec![],
        unlabelled_rows: 0,
        error: None,
    };
    reader::read(&source, &mut sink)?;
    if let Some(e) = sink.error {
        return Err(e);
    }
    let rows = sink.truth.len().max(sink.unlabelled_rows);
    if rows == 0 {
        return Err(ModelError::Data {
            path: display,
            message: "no rows to evaluate on".into(),
            help: None,
        });
    }
    let truth = if sink.truth.iter().all(|t| matches!(t, LabelCell::Num(_))) {
        Truth::Numbers(
            sink.truth
                .iter()
                .map(|t| match t {
                    LabelCell::Num(x) => *x,
                    LabelCell::Text(_) => f64::NAN,
                })
                .collect(),
        )
    } else {
        Truth::Text(
            sink.truth
                .into_iter()
                .map(|t| match t {
                    LabelCell::Num(x) => crate::data::value::format_float(x),
                    LabelCell::Text(s) => s,
                })
                .collect(),
        )
    };
    let k = sink.columns.len();
    Ok(EvalData {
        features: NpyArray {
            shape: vec![rows, k],
            data: NpyData::F64(sink.values),
        },
        truth,
        feature_names: sink.names,
        from_table: true,
        display,
    })
}
