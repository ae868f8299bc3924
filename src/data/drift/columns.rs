//! One pass over a table: per column, what drift tests need. Numeric values are kept exactly up to a limit and in
//! a [`Sketch`] beyond it; distinct values are counted up to [`MAX_DISTINCT`].
//!
//! Cells are read as pandas' `read_csv` would type them, since Evidently sees pandas columns: pandas' default
//! missing markers and NaN/±inf are nulls (Evidently drops them before testing), integers and floats are numbers,
//! `True`/`False` are booleans, anything else is text.

use std::collections::HashMap;

use xxhash_rust::xxh3::Xxh3DefaultBuilder;

use crate::data::reader::{self, Record, RecordSink, Source};
use crate::data::value::Cell;
use crate::data::DataError;

use super::sketch::Sketch;

/// Distinct values counted per column; beyond it a column counts as having "many" values.
pub const MAX_DISTINCT: usize = 100_000;

/// pandas' default `na_values`.
const NA_TEXT: &[&str] = &[
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
];

/// A value as a category: numbers by value (so `1` and `1.0` are one category, as in pandas).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Bool(bool),
    Num(OrdF64),
    Text(Box<str>),
}

/// An f64 ordered and hashed by value (never NaN here; -0 is folded into 0).
#[derive(Debug, Clone, Copy)]
pub struct OrdF64(pub f64);

impl PartialEq for OrdF64 {
    fn eq(&self, o: &Self) -> bool {
        self.0 == o.0
    }
}
impl Eq for OrdF64 {}
impl std::hash::Hash for OrdF64 {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        let x = if self.0 == 0.0 { 0.0 } else { self.0 };
        x.to_bits().hash(h);
    }
}
impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for OrdF64 {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

impl Key {
    pub fn label(&self) -> String {
        match self {
            Key::Bool(b) => if *b { "True" } else { "False" }.to_string(),
            Key::Num(x) => crate::data::value::format_float(x.0),
            Key::Text(s) => s.to_string(),
        }
    }
}

/// Numeric values of one column on one side.
#[derive(Debug, Clone)]
pub enum Numbers {
    Exact(Vec<f64>),
    Sketch(Box<Sketch>),
    /// A finished sketch: its retained values, sorted, and their weights.
    Weighted {
        values: Vec<f64>,
        weights: Vec<f64>,
        relative_error: f64,
    },
}

/// What one pass learned about one column.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// Cells that are missing, NaN or ±inf (Evidently drops them).
    pub nulls: u64,
    pub ints: u64,
    pub floats: u64,
    pub bools: u64,
    pub texts: u64,
    pub numbers: Numbers,
    /// Counts per distinct value, by kind, so that a text cell is looked up without allocating.
    pub(super) texts_seen: HashMap<Box<str>, u64, Xxh3DefaultBuilder>,
    pub(super) nums_seen: HashMap<OrdF64, u64, Xxh3DefaultBuilder>,
    pub(super) bools_seen: [u64; 2],
    /// More than [`MAX_DISTINCT`] distinct values were seen; `counts` is then incomplete.
    pub overflow: bool,
    pub sum: f64,
    pub sumsq: f64,
    pub min: f64,
    pub max: f64,
}

impl Column {
    pub(super) fn new(name: String) -> Self {
        Column {
            name,
            nulls: 0,
            ints: 0,
            floats: 0,
            bools: 0,
            texts: 0,
            numbers: Numbers::Exact(vec![]),
            texts_seen: HashMap::default(),
            nums_seen: HashMap::default(),
            bools_seen: [0; 2],
            overflow: false,
            sum: 0.0,
            sumsq: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    /// Values that are not null.
    pub fn present(&self) -> u64 {
        self.ints + self.floats + self.bools + self.texts
    }

    /// Every present value is a number.
    pub fn is_numeric(&self) -> bool {
        self.present() > 0 && self.ints + self.floats == self.present()
    }

    /// pandas would give this column an integer dtype: only integers, and no missing cell (a missing cell makes
    /// pandas use float64).
    pub fn is_integer_dtype(&self) -> bool {
        self.present() > 0 && self.ints == self.present() && self.nulls == 0
    }

    /// Distinct values seen (at most [`MAX_DISTINCT`] are tracked; see `overflow`).
    pub fn distinct(&self) -> usize {
        self.texts_seen.len()
            + self.nums_seen.len()
            + self.bools_seen.iter().filter(|c| **c > 0).count()
    }

    /// How often `key` was seen.
    pub fn count_of(&self, key: &Key) -> u64 {
        match key {
            Key::Bool(b) => self.bools_seen[usize::from(*b)],
            Key::Num(x) => self.nums_seen.get(x).copied().unwrap_or(0),
            Key::Text(t) => self.texts_seen.get(t.as_ref()).copied().unwrap_or(0),
        }
    }

    pub fn has(&self, key: &Key) -> bool {
        self.count_of(key) > 0
    }

    /// Every distinct value seen.
    pub fn keys(&self) -> impl Iterator<Item = Key> + '_ {
        let bools = [false, true]
            .into_iter()
            .filter(|b| self.bools_seen[usize::from(*b)] > 0)
            .map(Key::Bool);
        bools
            .chain(self.nums_seen.keys().map(|x| Key::Num(*x)))
            .chain(self.texts_seen.keys().map(|t| Key::Text(t.clone())))
    }

    fn room(&mut self) -> bool {
        if self.texts_seen.len() + self.nums_seen.len() < MAX_DISTINCT {
            true
        } else {
            self.overflow = true;
            false
        }
    }

    pub(super) fn count_num(&mut self, x: f64) {
        self.add_num(OrdF64(if x == 0.0 { 0.0 } else { x }), 1);
    }

    fn count_text(&mut self, s: &str) {
        self.add_text(s, 1);
    }

    /// `n` more of text `s`, under the [`MAX_DISTINCT`] rule: a value new past the limit is not kept.
    pub(super) fn add_text(&mut self, s: &str, n: u64) {
        if let Some(c) = self.texts_seen.get_mut(s) {
            *c += n;
        } else if self.room() {
            self.texts_seen.insert(s.into(), n);
        }
    }

    /// `n` more of number `x` (as [`Column::count_num`], `n` at once).
    pub(super) fn add_num(&mut self, x: OrdF64, n: u64) {
        if let Some(c) = self.nums_seen.get_mut(&x) {
            *c += n;
        } else if self.room() {
            self.nums_seen.insert(x, n);
        }
    }

    fn number(&mut self, x: f64, integral: bool, exact_limit: usize) {
        if !x.is_finite() {
            self.nulls += 1;
            return;
        }
        if integral {
            self.ints += 1;
        } else {
            self.floats += 1;
        }
        self.value(x, exact_limit);
    }

    /// A finite number already counted as an integer or float: its sums, range, and the exact values or the
    /// sketch. A sharded merge replays each shard's values through here in row order, so that the switch to the
    /// sketch, the sums and the sketch come out as one run's.
    pub(super) fn value(&mut self, x: f64, exact_limit: usize) {
        self.sum += x;
        self.sumsq += x * x;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        // Exact values are counted after the pass, from the sorted vector (a hash lookup per value is the
        // pass's largest cost); only values past the exact limit are counted as they come.
        let switched = match &mut self.numbers {
            Numbers::Exact(v) if v.len() < exact_limit => {
                v.push(x);
                return;
            }
            Numbers::Exact(v) => {
                let mut s = Sketch::default();
                for &y in v.iter() {
                    s.insert(y);
                }
                s.insert(x);
                let kept = std::mem::take(v);
                self.numbers = Numbers::Sketch(Box::new(s));
                Some(kept)
            }
            Numbers::Sketch(s) => {
                s.insert(x);
                None
            }
            Numbers::Weighted { .. } => None,
        };
        for y in switched.unwrap_or_default() {
            self.count_num(y);
        }
        self.count_num(x);
    }

    fn cell(&mut self, cell: &Cell<'_>, exact_limit: usize) {
        match cell {
            Cell::Null => self.nulls += 1,
            Cell::Int(i) => self.number(*i as f64, true, exact_limit),
            Cell::Float(f) => self.number(*f, false, exact_limit),
            Cell::Bool(b) => {
                self.bools += 1;
                self.bools_seen[usize::from(*b)] += 1;
            }
            Cell::Text(s) => self.text(s, exact_limit),
        }
    }

    fn text(&mut self, s: &str, exact_limit: usize) {
        if s.len() <= 9 && NA_TEXT.contains(&s) {
            self.nulls += 1;
            return;
        }
        let t = s.trim();
        if let Ok(i) = t.parse::<i64>() {
            return self.number(i as f64, true, exact_limit);
        }
        let first = t.as_bytes().first().copied().unwrap_or(b'x');
        if first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.' | b'i' | b'I') {
            if let Ok(f) = t.parse::<f64>() {
                return self.number(f, false, exact_limit);
            }
        }
        match s {
            "True" | "TRUE" | "true" => {
                self.bools += 1;
                self.bools_seen[1] += 1;
            }
            "False" | "FALSE" | "false" => {
                self.bools += 1;
                self.bools_seen[0] += 1;
            }
            _ => {
                self.texts += 1;
                self.count_text(s);
            }
        }
    }

    /// Sorts exact values and turns a sketch into its weighted values; call once after reading.
    pub fn finish(&mut self) {
        match &mut self.numbers {
            Numbers::Exact(v) => {
                v.sort_unstable_by(f64::total_cmp);
                // Distinct values are runs of the sorted values (-0 and 0 are adjacent and equal).
                let runs = v.chunk_by(|a, b| a == b).count();
                if runs + self.texts_seen.len() > MAX_DISTINCT {
                    self.overflow = true;
                } else {
                    for run in v.chunk_by(|a, b| a == b) {
                        let k = OrdF64(if run[0] == 0.0 { 0.0 } else { run[0] });
                        *self.nums_seen.entry(k).or_insert(0) += run.len() as u64;
                    }
                }
            }
            Numbers::Sketch(s) => {
                let relative_error = s.relative_error();
                let (values, weights) = s.weighted();
                self.numbers = Numbers::Weighted {
                    values,
                    weights,
                    relative_error,
                };
            }
            Numbers::Weighted { .. } => {}
        }
    }

    /// Sorted values and, when the sketch stood in for them, their weights (after [`Column::finish`]).
    pub fn sorted(&self) -> (&[f64], Option<&[f64]>) {
        match &self.numbers {
            Numbers::Exact(v) => (v.as_slice(), None),
            Numbers::Weighted {
                values, weights, ..
            } => (values.as_slice(), Some(weights.as_slice())),
            Numbers::Sketch(_) => (&[], None),
        }
    }

    /// The sketch's bound on the CDF error (0 for exact values).
    pub fn sketch_error(&self) -> Option<f64> {
        match &self.numbers {
            Numbers::Exact(_) => None,
            Numbers::Sketch(s) => Some(s.relative_error()),
            Numbers::Weighted { relative_error, .. } => Some(*relative_error),
        }
    }
}

/// A table's columns after one pass.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: u64,
}

impl Table {
    /// The header's names (a file without one names its columns by position as records come).
    pub(super) fn labels(&mut self, labels: Option<&[String]>) {
        if let Some(l) = labels {
            self.columns = l.iter().map(|n| Column::new(n.clone())).collect();
        }
    }

    pub(super) fn record(&mut self, record: &Record<'_>, exact_limit: usize) {
        self.rows += 1;
        if self.columns.len() < record.cells.len() {
            // No header (or a longer row): name the extra columns by position, as pandas does.
            for i in self.columns.len()..record.cells.len() {
                self.columns.push(Column::new(format!("field{}", i + 1)));
            }
        }
        for (col, cell) in self.columns.iter_mut().zip(record.cells) {
            col.cell(cell, exact_limit);
        }
        // A short row leaves the rest of its columns missing.
        for col in self.columns.iter_mut().skip(record.cells.len()) {
            col.nulls += 1;
        }
    }
}

struct Collector {
    table: Table,
    exact_limit: usize,
}

impl RecordSink for Collector {
    fn labels(&mut self, labels: Option<&[String]>) {
        self.table.labels(labels);
    }

    fn record(&mut self, record: &Record<'_>) {
        self.table.record(record, self.exact_limit);
    }
}

/// Reads `source` once and collects its columns.
pub fn collect(source: &Source, exact_limit: usize) -> Result<Table, DataError> {
    let mut c = Collector {
        table: Table::default(),
        exact_limit,
    };
    reader::read(source, &mut c)?;
    for col in &mut c.table.columns {
        col.finish();
    }
    Ok(c.table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_typed_as_pandas_does() {
        let mut c = Column::new("x".into());
        for s in ["1", "2.5", "", "NA", "inf", "abc", "True"] {
            c.text(s, 10);
        }
        assert_eq!(
            (c.ints, c.floats, c.texts, c.bools, c.nulls),
            (1, 1, 1, 1, 3)
        );
        assert!(!c.is_numeric());
    }

    #[test]
    fn switches_to_the_sketch_past_the_limit() {
        let mut c = Column::new("x".into());
        for i in 0..5 {
            c.number(i as f64, true, 3);
        }
        assert!(matches!(c.numbers, Numbers::Sketch(_)));
        c.finish();
        let (v, w) = c.sorted();
        assert_eq!(v.len(), 5);
        assert!(w.is_some());
    }
}
