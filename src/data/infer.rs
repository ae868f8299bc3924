//! `schema infer`: one pass over a table to write a Table Schema that the same table passes.
//!
//! Each column keeps the set of types every value so far casts to; the most specific survivor wins
//! (integer, number, boolean, date, datetime, time, then string). Ranges and enums are only written where the
//! data is sure to satisfy them (no NaN or infinity in a range; enums only for low-cardinality strings).

use std::collections::BTreeSet;

use serde_json::{json, Map, Value as Json};

use super::reader::{self, Record, RecordSink, Source};
use super::value::{self, Cell, NumberFormat};
use super::DataError;

#[derive(Debug, Clone)]
pub struct InferOptions {
    /// A string column with at most this many distinct values gets an `enum` (0 turns enums off).
    pub enum_threshold: usize,
}

impl Default for InferOptions {
    fn default() -> Self {
        InferOptions { enum_threshold: 10 }
    }
}

const INTEGER: u8 = 1;
const NUMBER: u8 = 2;
const BOOLEAN: u8 = 4;
const DATE: u8 = 8;
const DATETIME: u8 = 16;
const TIME: u8 = 32;
const ALL: u8 = INTEGER | NUMBER | BOOLEAN | DATE | DATETIME | TIME;

#[derive(Debug, Clone)]
struct Column {
    candidates: u8,
    nulls: u64,
    values: u64,
    int_min: Option<i64>,
    int_max: Option<i64>,
    num_min: Option<f64>,
    num_max: Option<f64>,
    non_finite: bool,
    distinct: Option<BTreeSet<String>>,
}

impl Column {
    fn new(track: bool) -> Self {
        Column {
            candidates: ALL,
            nulls: 0,
            values: 0,
            int_min: None,
            int_max: None,
            num_min: None,
            num_max: None,
            non_finite: false,
            distinct: track.then(BTreeSet::new),
        }
    }

    fn observe(&mut self, cell: &Cell<'_>, enum_threshold: usize) {
        let nf = NumberFormat::default();
        match cell {
            Cell::Null => {
                self.nulls += 1;
                return;
            }
            Cell::Text(s) if s.is_empty() => {
                self.nulls += 1;
                return;
            }
            Cell::Text(s) => {
                let s = s.as_ref();
                let mut c = self.candidates;
                if c & INTEGER != 0 {
                    match value::parse_integer(s, &nf) {
                        Some(i) => self.int(i),
                        None => c &= !INTEGER,
                    }
                }
                if c & NUMBER != 0 {
                    match value::parse_number(s, &nf) {
                        Some(x) => self.num(x),
                        None => c &= !NUMBER,
                    }
                }
                if c & BOOLEAN != 0
                    && !matches!(
                        s,
                        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" | "1" | "0"
                    )
                {
                    c &= !BOOLEAN;
                }
                if c & DATE != 0 && value::parse_iso_date(s).is_none() {
                    c &= !DATE;
                }
                if c & DATETIME != 0 && value::parse_datetime_with(s, "default").is_none() {
                    c &= !DATETIME;
                }
                if c & TIME != 0 && value::parse_default_time(s).is_none() {
                    c &= !TIME;
                }
                self.candidates = c;
                if let Some(d) = self.distinct.as_mut() {
                    if d.len() <= enum_threshold {
                        d.insert(s.to_string());
                    }
                }
            }
            Cell::Int(i) => {
                self.candidates &= INTEGER | NUMBER;
                self.int(*i);
                self.num(*i as f64);
                self.distinct = None;
            }
            Cell::Float(x) => {
                self.candidates &= NUMBER;
                self.num(*x);
                self.distinct = None;
            }
            Cell::Bool(_) => {
                self.candidates &= BOOLEAN;
                self.distinct = None;
            }
        }
        self.values += 1;
    }

    fn int(&mut self, i: i64) {
        self.int_min = Some(self.int_min.map_or(i, |m| m.min(i)));
        self.int_max = Some(self.int_max.map_or(i, |m| m.max(i)));
    }

    fn num(&mut self, x: f64) {
        if !x.is_finite() {
            self.non_finite = true;
            return;
        }
        self.num_min = Some(self.num_min.map_or(x, |m| m.min(x)));
        self.num_max = Some(self.num_max.map_or(x, |m| m.max(x)));
    }

    fn descriptor(&self, name: &str, rows: u64, opts: &InferOptions) -> Json {
        let mut field = Map::new();
        field.insert("name".into(), json!(name));
        let mut constraints = Map::new();
        let ftype = if self.values == 0 {
            "any"
        } else if self.candidates & INTEGER != 0 {
            if let (Some(a), Some(b)) = (self.int_min, self.int_max) {
                constraints.insert("minimum".into(), json!(a));
                constraints.insert("maximum".into(), json!(b));
            }
            "integer"
        } else if self.candidates & NUMBER != 0 {
            if let (Some(a), Some(b), false) = (self.num_min, self.num_max, self.non_finite) {
                constraints.insert("minimum".into(), json!(a));
                constraints.insert("maximum".into(), json!(b));
            }
            "number"
        } else if self.candidates & BOOLEAN != 0 {
            "boolean"
        } else if self.candidates & DATE != 0 {
            "date"
        } else if self.candidates & DATETIME != 0 {
            "datetime"
        } else if self.candidates & TIME != 0 {
            "time"
        } else {
            if let Some(d) = &self.distinct {
                // Low cardinality, and each value seen more than once on average: a category, not an identifier.
                if !d.is_empty() && d.len() <= opts.enum_threshold && (d.len() as u64) < self.values
                {
                    constraints.insert("enum".into(), json!(d.iter().collect::<Vec<_>>()));
                }
            }
            "string"
        };
        field.insert("type".into(), json!(ftype));
        if self.nulls == 0 && rows > 0 && self.values > 0 {
            constraints.insert("required".into(), json!(true));
        }
        // Keep a stable key order: required first, then the rest as inserted.
        if !constraints.is_empty() {
            let mut ordered = Map::new();
            if let Some(r) = constraints.remove("required") {
                ordered.insert("required".into(), r);
            }
            ordered.extend(constraints);
            field.insert("constraints".into(), Json::Object(ordered));
        }
        Json::Object(field)
    }
}

struct Inferrer<'o> {
    opts: &'o InferOptions,
    labels: Option<Vec<String>>,
    columns: Vec<Column>,
    rows: u64,
    notes: Vec<String>,
}

impl RecordSink for Inferrer<'_> {
    fn labels(&mut self, labels: Option<&[String]>) {
        self.labels = labels.map(<[String]>::to_vec);
    }

    fn record(&mut self, record: &Record<'_>) {
        self.rows += 1;
        let track = self.opts.enum_threshold > 0;
        while self.columns.len() < record.cells.len() {
            let mut c = Column::new(track);
            // A column that appears late was empty in every earlier row.
            c.nulls = self.rows - 1;
            self.columns.push(c);
        }
        for (i, col) in self.columns.iter_mut().enumerate() {
            match record.cells.get(i) {
                Some(cell) => col.observe(cell, self.opts.enum_threshold),
                None => col.nulls += 1,
            }
        }
    }
}

/// The inferred schema and notes on what keeps the data from passing it (blank or repeated labels).
#[derive(Debug, Clone)]
pub struct Inferred {
    pub schema: Json,
    pub rows: u64,
    pub notes: Vec<String>,
}

pub fn infer(source: &Source, opts: &InferOptions) -> Result<Inferred, DataError> {
    let mut inf = Inferrer {
        opts,
        labels: None,
        columns: vec![],
        rows: 0,
        notes: vec![],
    };
    reader::read(source, &mut inf)?;
    let width = inf
        .columns
        .len()
        .max(inf.labels.as_ref().map_or(0, Vec::len));
    let mut names: Vec<String> = Vec::with_capacity(width);
    for i in 0..width {
        let label = inf
            .labels
            .as_ref()
            .and_then(|l| l.get(i))
            .cloned()
            .unwrap_or_default();
        let mut name = if label.is_empty() {
            if inf.labels.is_some() {
                inf.notes.push(format!(
                    "column {} has a blank label; named it field{}",
                    i + 1,
                    i + 1
                ));
            }
            format!("field{}", i + 1)
        } else {
            label
        };
        if names.contains(&name) {
            let base = name.clone();
            let mut k = 2;
            while names.contains(&format!("{base}{k}")) {
                k += 1;
            }
            name = format!("{base}{k}");
            inf.notes.push(format!(
                "column {} repeats the label {base:?}; named it {name:?}",
                i + 1
            ));
        }
        names.push(name);
    }
    let fields: Vec<Json> = names
        .iter()
        .enumerate()
        .map(|(i, n)| match inf.columns.get(i) {
            Some(c) => c.descriptor(n, inf.rows, opts),
            None => json!({"name": n, "type": "any"}),
        })
        .collect();
    let schema = json!({
        "$schema": "https://datapackage.org/profiles/2.0/tableschema.json",
        "fields": fields,
        "missingValues": [""],
    });
    Ok(Inferred {
        schema,
        rows: inf.rows,
        notes: inf.notes,
    })
}
