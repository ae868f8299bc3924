//! Validation of one table against one Table Schema, in one streaming pass.
//!
//! Mirrors frictionless-py 5.21's checks and positions (see the conformance test): header checks (blank,
//! duplicate, incorrect, extra and missing labels), row checks (blank row, missing and extra cells), cell checks
//! (type, then the first failing constraint), unique fields, primary, unique and self-referencing foreign keys,
//! and the opt-in duplicate-row check. Memory grows with the columns and with the keys that unique, primary-key
//! and foreign-key checks must remember: 16-byte fingerprints, never the rows.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use indexmap::IndexMap;
use serde_json::json;
use std::hash::{BuildHasherDefault, Hasher};

use xxhash_rust::xxh3::xxh3_128;

use super::reader::{self, ReadStats, Record, RecordSink, Source};
use super::schema::{FieldsMatch, Schema, TOLERABLE};
use super::value::{Cell, Val};
use super::DataError;
use crate::report::{clip, Check, Finding, Severity, Status, MAX_FINDINGS_PER_CHECK};

/// Options of a validation run.
#[derive(Debug, Clone)]
pub struct ValidateOptions {
    /// The dataset's name in the report.
    pub subject: String,
    /// Findings kept per check (counts stay exact).
    pub max_findings: usize,
    /// Frictionless' opt-in `duplicate-row` check.
    pub duplicate_rows: bool,
}

impl ValidateOptions {
    pub fn new(subject: impl Into<String>) -> Self {
        ValidateOptions {
            subject: subject.into(),
            max_findings: MAX_FINDINGS_PER_CHECK,
            duplicate_rows: false,
        }
    }
}

/// The outcome: the `schema` check, and the `table` check when the schema's extension block asks for one.
#[derive(Debug, Clone)]
pub struct Validation {
    pub checks: Vec<Check>,
    pub rows: u64,
    pub bytes: u64,
    pub seconds: f64,
}

/// Validates `source` against `schema` (structure only when `schema` is `None`).
pub fn validate(
    source: &Source,
    schema: Option<&Schema>,
    opts: &ValidateOptions,
) -> Result<Validation, DataError> {
    let started = Instant::now();
    let mut v = Validator::new(source, schema, opts);
    let stats = reader::read(source, &mut v)?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(v.finish(stats, seconds))
}

// Indices into TOLERABLE, the constraint a finding is about (for tolerances and severities).
const C_TYPE: usize = 0;
const C_REQUIRED: usize = 1;
const C_UNIQUE: usize = 2;
const NO_CONSTRAINT: usize = usize::MAX;
const NO_FIELD: usize = usize::MAX;

fn constraint_index(name: &str) -> usize {
    TOLERABLE
        .iter()
        .position(|c| *c == name)
        .unwrap_or(NO_CONSTRAINT)
}

type Fingerprint = u128;

/// Fingerprints are already uniform 128-bit hashes: hashing them again (SipHash) would only cost time.
#[derive(Default, Clone, Copy)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(b);
        }
    }
    fn write_u128(&mut self, x: u128) {
        self.0 = (x as u64) ^ ((x >> 64) as u64);
    }
}

type FpMap<V> = HashMap<Fingerprint, V, BuildHasherDefault<PassThrough>>;
type FpSet = HashSet<Fingerprint, BuildHasherDefault<PassThrough>>;

/// Streaming statistics of one field, for table checks.
#[derive(Debug, Default, Clone)]
struct FieldStats {
    nulls: u64,
    values: u64,
    numeric: u64,
    sum: f64,
    min: Option<f64>,
    max: Option<f64>,
    distinct: Option<FpSet>,
    distinct_cap: usize,
}

/// A foreign-key value not (yet) seen among the referenced values: fingerprint, row, line, shown value.
type PendingReference = (Fingerprint, u64, Option<u64>, String);

struct Pending {
    finding: Finding,
    field: usize,
    constraint: usize,
}

struct Validator<'s> {
    source: &'s Source,
    given: Option<&'s Schema>,
    schema: Option<Schema>,
    opts: &'s ValidateOptions,
    /// Field index -> column index.
    column_of: Vec<Option<usize>>,
    /// Column index -> field index.
    field_of: Vec<Option<usize>>,
    /// Cells a row should have: the header's width, or the schema's when there is no header.
    width: Option<usize>,
    missing: Vec<Vec<String>>,
    /// Per field: its only missing value is "" (the default), so a text cell is missing exactly when empty.
    missing_is_empty: Vec<bool>,
    /// Every field's missing values are [""]: a row with any non-empty cell is not blank.
    all_missing_empty: bool,
    /// The per-row value buffer, kept between rows for its allocation.
    vals_spare: Vec<Option<Val<'static>>>,
    stats: Vec<FieldStats>,
    unique_seen: Vec<Option<FpMap<u64>>>,
    pk_seen: FpMap<u64>,
    uk_seen: Vec<FpMap<u64>>,
    fk_refs: Vec<FpSet>,
    fk_pending: Vec<Vec<PendingReference>>,
    dup_rows: FpMap<u64>,
    /// Scratch space for canonical key bytes.
    key_buf: Vec<u8>,
    findings: Vec<Pending>,
    counts: IndexMap<String, u64>,
    /// Exact counts per (field, constraint), to decide tolerances and severities at the end.
    tally: HashMap<(usize, usize), u64>,
    data_rows: u64,
    blank_rows: u64,
}

impl<'s> Validator<'s> {
    fn new(source: &'s Source, given: Option<&'s Schema>, opts: &'s ValidateOptions) -> Self {
        Validator {
            source,
            given,
            schema: None,
            opts,
            column_of: vec![],
            field_of: vec![],
            width: None,
            missing: vec![],
            missing_is_empty: vec![],
            all_missing_empty: true,
            vals_spare: vec![],
            stats: vec![],
            unique_seen: vec![],
            pk_seen: FpMap::default(),
            uk_seen: vec![],
            fk_refs: vec![],
            fk_pending: vec![],
            dup_rows: FpMap::default(),
            key_buf: Vec::new(),
            findings: vec![],
            counts: IndexMap::new(),
            tally: HashMap::new(),
            data_rows: 0,
            blank_rows: 0,
        }
    }

    fn schema(&self) -> &Schema {
        // Set in `labels`, which readers call before any record.
        self.schema
            .as_ref()
            .or(self.given)
            .expect("labels() precedes records")
    }

    fn push(&mut self, finding: Finding, field: usize, constraint: usize) {
        *self.counts.entry(finding.code.clone()).or_insert(0) += 1;
        *self.tally.entry((field, constraint)).or_insert(0) += 1;
        if self.findings.len() < self.opts.max_findings {
            self.findings.push(Pending {
                finding,
                field,
                constraint,
            });
        }
    }

    fn finding(&self, code: &str, message: String) -> Finding {
        let mut f = Finding::new(code, Severity::Error, message);
        f.file = Some(self.source.display.clone());
        f
    }

    fn install(&mut self, schema: Schema) {
        let n = schema.fields.len();
        self.missing = schema
            .fields
            .iter()
            .map(|f| {
                f.missing_values
                    .clone()
                    .unwrap_or_else(|| schema.missing_values.clone())
            })
            .collect();
        self.missing_is_empty = self
            .missing
            .iter()
            .map(|m| m.len() == 1 && m[0].is_empty())
            .collect();
        self.all_missing_empty = self.missing_is_empty.iter().all(|&e| e);
        let caps: Vec<Option<u64>> = schema
            .fields
            .iter()
            .map(|f| {
                schema
                    .extension
                    .fields
                    .get(&f.name)
                    .and_then(|e| e.max_distinct)
            })
            .collect();
        self.stats = caps
            .iter()
            .map(|cap| FieldStats {
                distinct: cap.map(|_| FpSet::default()),
                distinct_cap: cap.map(|c| c as usize + 1).unwrap_or(0),
                ..FieldStats::default()
            })
            .collect();
        self.unique_seen = schema
            .fields
            .iter()
            .map(|f| f.constraints.unique.then(FpMap::default))
            .collect();
        self.uk_seen = vec![FpMap::default(); schema.unique_keys.len()];
        self.fk_refs = vec![FpSet::default(); schema.foreign_keys.len()];
        self.fk_pending = vec![vec![]; schema.foreign_keys.len()];
        self.column_of = vec![None; n];
        self.schema = Some(schema);
    }

    fn label_checks(&mut self, labels: &[String]) {
        let schema = self.schema().clone();
        let fields = &schema.fields;
        self.field_of = vec![None; labels.len()];
        self.width = Some(labels.len());
        let exact = schema.inferred || schema.fields_match == FieldsMatch::Exact;
        let label_finding = |v: &Self, code: &str, i: usize, label: &str, msg: String| {
            let mut f = v.finding(code, msg);
            f.line = v
                .source
                .dialect
                .header_row
                .or(Some(1))
                .filter(|_| v.source.format != reader::Format::Parquet);
            f.field = Some(label.to_string());
            f.field_number = Some(i as u64 + 1);
            f
        };
        if exact {
            for (i, label) in labels.iter().enumerate() {
                if i < fields.len() {
                    self.column_of[i] = Some(i);
                    self.field_of[i] = Some(i);
                }
                if i >= fields.len() {
                    let f = label_finding(
                        self,
                        "extra-label",
                        i,
                        label,
                        format!("column {} {label:?} has no field in the schema", i + 1),
                    );
                    self.push(f, NO_FIELD, NO_CONSTRAINT);
                } else if label.is_empty() {
                    let f = label_finding(
                        self,
                        "blank-label",
                        i,
                        label,
                        format!("the label of column {} is blank", i + 1),
                    );
                    self.push(f, NO_FIELD, NO_CONSTRAINT);
                } else if let Some(j) = labels[..i].iter().position(|l| l == label) {
                    let f = label_finding(
                        self,
                        "duplicate-label",
                        i,
                        label,
                        format!("label {label:?} repeats the label of column {}", j + 1),
                    );
                    self.push(f, NO_FIELD, NO_CONSTRAINT);
                } else if !schema.inferred && fields[i].name != *label {
                    let f = label_finding(
                        self,
                        "incorrect-label",
                        i,
                        label,
                        format!(
                            "label {label:?} does not match the schema's field {:?} at position {}",
                            fields[i].name,
                            i + 1
                        ),
                    );
                    self.push(f, NO_FIELD, NO_CONSTRAINT);
                }
            }
            for (i, field) in fields.iter().enumerate().skip(labels.len()) {
                let f = label_finding(
                    self,
                    "missing-label",
                    i,
                    &field.name,
                    format!("field {:?} has no column in the data", field.name),
                );
                self.push(f, NO_FIELD, NO_CONSTRAINT);
            }
        } else {
            let mut matched = 0;
            for (fi, field) in fields.iter().enumerate() {
                if let Some(ci) = labels.iter().position(|l| *l == field.name) {
                    self.column_of[fi] = Some(ci);
                    self.field_of[ci] = Some(fi);
                    matched += 1;
                } else if matches!(
                    schema.fields_match,
                    FieldsMatch::Equal | FieldsMatch::Subset
                ) {
                    let f = label_finding(
                        self,
                        "missing-label",
                        fi,
                        &field.name,
                        format!("field {:?} has no column in the data", field.name),
                    );
                    self.push(f, NO_FIELD, NO_CONSTRAINT);
                }
            }
            for (ci, label) in labels.iter().enumerate() {
                if self.field_of[ci].is_none()
                    && matches!(
                        schema.fields_match,
                        FieldsMatch::Equal | FieldsMatch::Superset
                    )
                {
                    let f = label_finding(
                        self,
                        "extra-label",
                        ci,
                        label,
                        format!("column {} {label:?} has no field in the schema", ci + 1),
                    );
                    self.push(f, NO_FIELD, NO_CONSTRAINT);
                }
            }
            if matched == 0 && schema.fields_match == FieldsMatch::Partial {
                let f = self.finding(
                    "schema-error",
                    "fieldsMatch is partial but no column matches a field of the schema".into(),
                );
                self.push(f, NO_FIELD, NO_CONSTRAINT);
            }
        }
    }

    #[inline]
    fn is_missing(&self, fi: usize, cell: &Cell<'_>) -> bool {
        match cell {
            Cell::Null => true,
            Cell::Text(s) if self.missing_is_empty[fi] => s.is_empty(),
            Cell::Text(s) => {
                let mv = &self.missing[fi];
                if mv.len() == 1 {
                    mv[0] == s.as_ref()
                } else {
                    mv.iter().any(|m| m == s.as_ref())
                }
            }
            _ => false,
        }
    }

    fn column_number(record: &Record<'_>, ci: usize) -> Option<u64> {
        if !record.plain {
            return None;
        }
        let before: usize = record.cells[..ci]
            .iter()
            .map(|c| c.display().chars().count() + 1)
            .sum();
        Some(before as u64 + 1)
    }

    fn cell_finding(
        &self,
        code: &str,
        record: &Record<'_>,
        fi: usize,
        ci: usize,
        value: Option<String>,
        msg: String,
    ) -> Finding {
        let mut f = self.finding(code, msg);
        f.line = record.line;
        f.column = Self::column_number(record, ci);
        f.row = Some(record.row);
        f.field = self.schema().fields.get(fi).map(|x| x.name.clone());
        f.field_number = Some(ci as u64 + 1);
        f.value = value.map(|v| clip(&v, 200));
        f
    }

    fn row_finding(&self, code: &str, record: &Record<'_>, msg: String) -> Finding {
        let mut f = self.finding(code, msg);
        f.line = record.line;
        f.row = Some(record.row);
        f
    }

    /// Checks one present, non-blank cell; returns its value when it cast.
    fn check_cell<'c>(&mut self, record: &Record<'c>, fi: usize, ci: usize) -> Option<Val<'c>> {
        let cell = &record.cells[ci];
        if self.is_missing(fi, cell) {
            self.stats[fi].nulls += 1;
            if self.schema().fields[fi].constraints.required {
                let name = self.schema().fields[fi].name.clone();
                let f = self.cell_finding(
                    "constraint-error",
                    record,
                    fi,
                    ci,
                    Some(cell.display()),
                    format!("field {name:?} is required but the cell is empty"),
                );
                self.push(f, fi, C_REQUIRED);
            }
            return None;
        }
        let field = &self.schema().fields[fi];
        let cast: Option<Val<'c>> = match cell {
            Cell::Text(s) => match s {
                std::borrow::Cow::Borrowed(b) => field.cast_text(b),
                std::borrow::Cow::Owned(o) => field.cast_text(o).map(Val::into_owned),
            },
            Cell::Int(i) => match field.ftype {
                super::schema::FieldType::Integer => Some(Val::Int(*i)),
                super::schema::FieldType::Number => Some(Val::Num(*i as f64)),
                super::schema::FieldType::Year => Some(Val::Year(*i)),
                super::schema::FieldType::Any => Some(Val::Int(*i)),
                _ => None,
            },
            Cell::Float(x) => match field.ftype {
                super::schema::FieldType::Number | super::schema::FieldType::Any => {
                    Some(Val::Num(*x))
                }
                super::schema::FieldType::Integer if x.fract() == 0.0 && x.is_finite() => {
                    Some(Val::Int(*x as i64))
                }
                _ => None,
            },
            Cell::Bool(b) => match field.ftype {
                super::schema::FieldType::Boolean | super::schema::FieldType::Any => {
                    Some(Val::Bool(*b))
                }
                _ => None,
            },
            Cell::Null => None,
        };
        let Some(val) = cast else {
            let msg = format!(
                "{:?} is not a valid {} (format {})",
                cell.display(),
                field.ftype.name(),
                field.format
            );
            let f = self.cell_finding("type-error", record, fi, ci, Some(cell.display()), msg);
            self.push(f, fi, C_TYPE);
            return None;
        };
        if let Some((constraint, msg)) = self.failed_constraint(fi, cell, &val) {
            let f = self.cell_finding(
                "constraint-error",
                record,
                fi,
                ci,
                Some(cell.display()),
                msg,
            );
            self.push(f, fi, constraint_index(constraint));
        }
        Some(val)
    }

    /// The first constraint the value breaks, with a message.
    fn failed_constraint<'v>(
        &'v self,
        fi: usize,
        cell: &Cell<'_>,
        val: &Val<'_>,
    ) -> Option<(&'static str, String)> {
        use std::cmp::Ordering::{Greater, Less};
        let field = &self.schema().fields[fi];
        let c = &field.constraints;
        let shown = || cell.display();
        if c.min_length.is_some() || c.max_length.is_some() {
            if let Val::Str(s) = val {
                let n = s.chars().count();
                if let Some(m) = c.min_length.filter(|m| n < *m) {
                    return Some((
                        "minLength",
                        format!(
                            "{:?} is {n} characters long, shorter than minLength {m}",
                            shown()
                        ),
                    ));
                }
                if let Some(m) = c.max_length.filter(|m| n > *m) {
                    return Some((
                        "maxLength",
                        format!(
                            "{:?} is {n} characters long, longer than maxLength {m}",
                            shown()
                        ),
                    ));
                }
            }
        }
        let bound = |b: &'v Option<Val<'static>>| b.as_ref().map(move |b| (b, val.compare(b)));
        if let Some((b, ord)) = bound(&c.minimum) {
            if ord.is_none() || ord == Some(Less) {
                return Some((
                    "minimum",
                    format!("{} is below the minimum {}", shown(), show_val(b)),
                ));
            }
        }
        if let Some((b, ord)) = bound(&c.maximum) {
            if ord.is_none() || ord == Some(Greater) {
                return Some((
                    "maximum",
                    format!("{} is above the maximum {}", shown(), show_val(b)),
                ));
            }
        }
        if let Some((b, ord)) = bound(&c.exclusive_minimum) {
            if ord != Some(Greater) {
                return Some((
                    "exclusiveMinimum",
                    format!(
                        "{} is not above the exclusive minimum {}",
                        shown(),
                        show_val(b)
                    ),
                ));
            }
        }
        if let Some((b, ord)) = bound(&c.exclusive_maximum) {
            if ord != Some(Less) {
                return Some((
                    "exclusiveMaximum",
                    format!(
                        "{} is not below the exclusive maximum {}",
                        shown(),
                        show_val(b)
                    ),
                ));
            }
        }
        if let Some((src, re)) = &c.pattern {
            let text = shown();
            if !re.is_match(&text) {
                return Some((
                    "pattern",
                    format!("{text:?} does not match the pattern {src:?}"),
                ));
            }
        }
        if let Some(values) = &c.enum_values {
            let member = match val {
                // Strings compare as bytes; skip the general comparison.
                Val::Str(s) => values.iter().any(|e| matches!(e, Val::Str(x) if x == s)),
                v => values.iter().any(|e| v.same(e)),
            };
            if !member {
                let list: Vec<String> = values.iter().take(12).map(show_val).collect();
                let more = if values.len() > 12 { ", …" } else { "" };
                return Some((
                    "enum",
                    format!(
                        "{:?} is not one of the allowed values [{}{more}]",
                        shown(),
                        list.join(", ")
                    ),
                ));
            }
        }
        None
    }

    fn fingerprint<'a>(buf: &mut Vec<u8>, vals: impl Iterator<Item = &'a Val<'a>>) -> Fingerprint {
        buf.clear();
        for v in vals {
            v.canonical_bytes(buf);
            buf.push(0xff);
        }
        xxh3_128(buf)
    }

    fn key_text(&self, fields: &[usize], vals: &[Option<Val<'_>>]) -> (String, String) {
        let names: Vec<&str> = fields
            .iter()
            .map(|&i| self.schema().fields[i].name.as_str())
            .collect();
        let values: Vec<String> = fields
            .iter()
            .map(|&i| vals[i].as_ref().map(show_val).unwrap_or_default())
            .collect();
        (names.join(", "), values.join(", "))
    }

    fn finish(mut self, stats: ReadStats, seconds: f64) -> Validation {
        // Foreign keys whose value never appeared among the referenced values.
        for k in 0..self.fk_pending.len() {
            let pending = std::mem::take(&mut self.fk_pending[k]);
            let (fields, reference) = {
                let fk = &self.schema().foreign_keys[k];
                (fk.fields.clone(), fk.reference.clone())
            };
            let own: Vec<&str> = fields
                .iter()
                .map(|&i| self.schema().fields[i].name.as_str())
                .collect();
            let refs: Vec<&str> = reference
                .iter()
                .map(|&i| self.schema().fields[i].name.as_str())
                .collect();
            let (own, refs) = (own.join(", "), refs.join(", "));
            for (fp, row, line, value) in pending {
                if !self.fk_refs[k].contains(&fp) {
                    let mut f = self.finding(
                        "foreign-key",
                        format!("{own} = {value:?} is not among the values of {refs}"),
                    );
                    f.row = Some(row);
                    f.line = line;
                    f.value = Some(value);
                    self.push(f, NO_FIELD, NO_CONSTRAINT);
                }
            }
        }
        let schema = self.schema().clone();
        let ext = &schema.extension;
        let default_sev: Severity = ext.severity.map(Into::into).unwrap_or(Severity::Error);
        let field_ext = |fi: usize| schema.fields.get(fi).and_then(|f| ext.fields.get(&f.name));
        // Severity per (field, constraint), with `mostly` tolerances decided on exact counts.
        let mut tolerated: Vec<String> = vec![];
        let mut severity_of: HashMap<(usize, usize), Severity> = HashMap::new();
        for (&(fi, ci), &n) in &self.tally {
            let fe = field_ext(fi);
            let ce = fe
                .zip(TOLERABLE.get(ci))
                .and_then(|(fe, name)| fe.constraints.get(*name));
            let mut sev = ce
                .and_then(|c| c.severity)
                .or(fe.and_then(|f| f.severity))
                .map(Into::into)
                .unwrap_or(default_sev);
            if let Some(mostly) = ce.and_then(|c| c.mostly) {
                let st = &self.stats[fi];
                let denominator = if ci == C_REQUIRED {
                    self.data_rows
                } else {
                    st.values + n
                };
                let pass_share = if denominator == 0 {
                    1.0
                } else {
                    1.0 - n as f64 / denominator as f64
                };
                if pass_share >= mostly {
                    sev = Severity::Warning;
                    tolerated.push(format!(
                        "{} {}: {:.2}% pass, mostly {}",
                        schema.fields[fi].name,
                        TOLERABLE[ci],
                        pass_share * 100.0,
                        mostly
                    ));
                }
            }
            severity_of.insert((fi, ci), sev);
        }
        tolerated.sort();
        let mut errors = 0u64;
        let mut warnings = 0u64;
        for (key, &n) in &self.tally {
            match severity_of.get(key).copied().unwrap_or(default_sev) {
                Severity::Error => errors += n,
                Severity::Warning => warnings += n,
            }
        }
        let findings: Vec<Finding> = self
            .findings
            .drain(..)
            .map(|p| {
                let mut f = p.finding;
                f.severity = severity_of
                    .get(&(p.field, p.constraint))
                    .copied()
                    .unwrap_or(default_sev);
                f
            })
            .collect();
        let status = if errors > 0 {
            Status::Fail
        } else if warnings > 0 {
            Status::Warn
        } else {
            Status::Pass
        };
        let total = errors + warnings;
        let fields_n = schema.fields.len();
        let summary = if total == 0 {
            format!("{} rows × {} fields: valid", self.data_rows, fields_n)
        } else {
            let by_code: Vec<String> = self
                .counts
                .iter()
                .map(|(c, n)| format!("{c} {n}"))
                .collect();
            format!(
                "{} finding{} in {} rows ({}){}",
                total,
                if total == 1 { "" } else { "s" },
                self.data_rows,
                by_code.join(", "),
                if warnings > 0 && errors > 0 {
                    format!("; {warnings} tolerated or warn-only")
                } else {
                    String::new()
                }
            )
        };
        let mut figures = IndexMap::new();
        figures.insert("rows".to_string(), json!(self.data_rows));
        figures.insert("fields".to_string(), json!(fields_n));
        figures.insert("bytes".to_string(), json!(stats.bytes));
        figures.insert("errors".to_string(), json!(errors));
        figures.insert("warnings".to_string(), json!(warnings));
        if !tolerated.is_empty() {
            figures.insert("tolerated".to_string(), json!(tolerated));
        }
        let truncated = total as usize > findings.len();
        let mut counts = std::collections::BTreeMap::new();
        for (c, n) in &self.counts {
            counts.insert(c.clone(), *n);
        }
        let mut checks = vec![Check {
            id: format!("{}/schema", self.opts.subject),
            kind: "schema".into(),
            subject: self.opts.subject.clone(),
            status,
            summary,
            figures,
            counts,
            findings,
            truncated,
        }];
        if let Some(table) = self.table_check(&schema, default_sev) {
            checks.push(table);
        }
        Validation {
            checks,
            rows: self.data_rows,
            bytes: stats.bytes,
            seconds,
        }
    }

    /// The checks of the extension block that look at the whole table.
    fn table_check(&self, schema: &Schema, default_sev: Severity) -> Option<Check> {
        let ext = &schema.extension;
        let wants_fields = ext.fields.values().any(|f| {
            f.max_null_fraction.is_some()
                || f.min.is_some()
                || f.max.is_some()
                || f.mean.is_some()
                || f.max_distinct.is_some()
        });
        if ext.rows.is_none() && !wants_fields {
            return None;
        }
        let mut findings = vec![];
        let file = Some(self.source.display.clone());
        let mut add = |code: &str,
                       sev: Severity,
                       field: Option<(&str, usize)>,
                       value: String,
                       msg: String| {
            let mut f = Finding::new(code, sev, msg);
            f.file = file.clone();
            if let Some((name, i)) = field {
                f.field = Some(name.to_string());
                f.field_number = self
                    .column_of
                    .get(i)
                    .copied()
                    .flatten()
                    .map(|c| c as u64 + 1);
            }
            f.value = Some(value);
            findings.push(f);
        };
        if let Some(r) = ext.rows {
            let n = self.data_rows as f64;
            if !r.contains(n) {
                add(
                    "row-count",
                    default_sev,
                    None,
                    self.data_rows.to_string(),
                    format!(
                        "the table has {} rows; expected {}",
                        self.data_rows,
                        r.describe()
                    ),
                );
            }
        }
        let mut per_field = serde_json::Map::new();
        for (name, fe) in &ext.fields {
            let Some(fi) = schema.field_index(name) else {
                continue;
            };
            let st = &self.stats[fi];
            let sev = fe.severity.map(Into::into).unwrap_or(default_sev);
            let rows = self.data_rows.max(1) as f64;
            let null_fraction = st.nulls as f64 / rows;
            let mean = (st.numeric > 0).then(|| st.sum / st.numeric as f64);
            let distinct = st.distinct.as_ref().map(|d| d.len());
            per_field.insert(
                name.clone(),
                json!({"nulls": st.nulls, "null_fraction": null_fraction, "min": st.min, "max": st.max, "mean": mean, "distinct": distinct}),
            );
            let at = Some((name.as_str(), fi));
            if let Some(maxf) = fe.max_null_fraction {
                if null_fraction > maxf {
                    add(
                        "null-fraction",
                        sev,
                        at,
                        format!("{null_fraction:.4}"),
                        format!(
                        "{name:?} has {} empty cells in {} rows ({:.2}%); at most {:.2}% allowed",
                        st.nulls, self.data_rows, null_fraction * 100.0, maxf * 100.0
                    ),
                    );
                }
            }
            for (code, what, range, got) in [
                ("field-min", "minimum", fe.min, st.min),
                ("field-max", "maximum", fe.max, st.max),
                ("field-mean", "mean", fe.mean, mean),
            ] {
                let Some(range) = range else { continue };
                match got {
                    Some(x) if range.contains(x) => {}
                    Some(x) => add(
                        code,
                        sev,
                        at,
                        format!("{x}"),
                        format!(
                            "the {what} of {name:?} is {x}; expected {}",
                            range.describe()
                        ),
                    ),
                    None => add(
                        code,
                        sev,
                        at,
                        String::new(),
                        format!("{name:?} has no numeric values, so its {what} cannot be checked"),
                    ),
                }
            }
            if let (Some(maxd), Some(d)) = (fe.max_distinct, distinct) {
                if d as u64 > maxd {
                    add(
                        "distinct-count",
                        sev,
                        at,
                        format!("> {maxd}"),
                        format!("{name:?} has more than {maxd} distinct values"),
                    );
                }
            }
        }
        let errors = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        let status = if errors > 0 {
            Status::Fail
        } else if !findings.is_empty() {
            Status::Warn
        } else {
            Status::Pass
        };
        let mut counts = std::collections::BTreeMap::new();
        for f in &findings {
            *counts.entry(f.code.clone()).or_insert(0u64) += 1;
        }
        let summary = if findings.is_empty() {
            "table checks hold".to_string()
        } else {
            let msgs: Vec<&str> = findings
                .iter()
                .take(3)
                .map(|f| f.message.as_str())
                .collect();
            msgs.join("; ")
        };
        let mut figures = IndexMap::new();
        figures.insert("rows".into(), json!(self.data_rows));
        figures.insert("fields".into(), serde_json::Value::Object(per_field));
        Some(Check {
            id: format!("{}/table", self.opts.subject),
            kind: "table".into(),
            subject: self.opts.subject.clone(),
            status,
            summary,
            figures,
            counts,
            findings,
            truncated: false,
        })
    }
}

fn show_val(v: &Val<'_>) -> String {
    match v {
        Val::Str(s) => format!("{s:?}"),
        Val::Num(x) => super::value::format_float(*x),
        Val::Int(i) | Val::Year(i) => i.to_string(),
        Val::Bool(b) => b.to_string(),
        Val::Date(d) => chrono::DateTime::from_timestamp(d * 86_400, 0)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        Val::DateTime(us) => chrono::DateTime::from_timestamp_micros(*us)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
            .unwrap_or_default(),
        Val::Time(us) => format!(
            "{:02}:{:02}:{:02}",
            us / 3_600_000_000,
            us / 60_000_000 % 60,
            us / 1_000_000 % 60
        ),
        Val::YearMonth(m) => format!("{}-{:02}", m / 12, m % 12 + 1),
        Val::Duration(m, s) => format!("P{m}MT{s}S"),
    }
}

impl RecordSink for Validator<'_> {
    fn labels(&mut self, labels: Option<&[String]>) {
        match (self.given, labels) {
            (Some(s), Some(l)) => {
                self.install(s.clone());
                self.label_checks(l);
            }
            (None, Some(l)) => {
                self.install(Schema::from_labels(l));
                self.label_checks(l);
            }
            (Some(s), None) => {
                self.install(s.clone());
                let n = s.fields.len();
                self.column_of = (0..n).map(Some).collect();
                self.field_of = (0..n).map(Some).collect();
                self.width = Some(n);
            }
            // No header and no schema: the width comes from the first record.
            (None, None) => {}
        }
    }

    fn record(&mut self, record: &Record<'_>) {
        if self.schema.is_none() && self.given.is_none() {
            let names: Vec<String> = (1..=record.cells.len())
                .map(|i| format!("field{i}"))
                .collect();
            self.install(Schema::from_labels(&names));
            let n = names.len();
            self.column_of = (0..n).map(Some).collect();
            self.field_of = (0..n).map(Some).collect();
            self.width = Some(n);
        }
        self.data_rows += 1;
        let width = self.width.unwrap_or(record.cells.len());
        let nfields = self.schema().fields.len();
        // A blank row: every cell empty. Frictionless reports only `blank-row` (and its null primary key).
        let surely_not_blank = self.all_missing_empty
            && record
                .cells
                .iter()
                .any(|c| !matches!(c, Cell::Null) && !matches!(c, Cell::Text(t) if t.is_empty()));
        let blank = !surely_not_blank
            && record.cells.iter().enumerate().all(|(ci, c)| {
                match self.field_of.get(ci).copied().flatten() {
                    Some(fi) => self.is_missing(fi, c),
                    None => matches!(c, Cell::Null) || matches!(c, Cell::Text(s) if s.is_empty()),
                }
            });
        // `vals_spare` is empty: reuse its allocation (Val<'static> coerces to this row's lifetime).
        let mut vals: Vec<Option<Val<'_>>> = std::mem::take(&mut self.vals_spare);
        vals.resize(nfields, None);
        if blank {
            self.blank_rows += 1;
            let f = self.row_finding("blank-row", record, "the row is blank".into());
            self.push(f, NO_FIELD, NO_CONSTRAINT);
            for st in &mut self.stats {
                st.nulls += 1;
            }
        } else {
            for ci in 0..record.cells.len().max(width) {
                if ci >= width {
                    let cell = &record.cells[ci];
                    let mut f = self.row_finding(
                        "extra-cell",
                        record,
                        format!(
                            "the row has {} cells but the header has {width}",
                            record.cells.len()
                        ),
                    );
                    f.field_number = Some(ci as u64 + 1);
                    f.column = Self::column_number(record, ci);
                    f.value = Some(clip(&cell.display(), 200));
                    self.push(f, NO_FIELD, NO_CONSTRAINT);
                    continue;
                }
                let fi = self.field_of.get(ci).copied().flatten();
                if ci >= record.cells.len() {
                    let mut f = self.row_finding(
                        "missing-cell",
                        record,
                        format!(
                            "the row has {} cells but the header has {width}",
                            record.cells.len()
                        ),
                    );
                    f.field_number = Some(ci as u64 + 1);
                    if let Some(fi) = fi {
                        f.field = Some(self.schema().fields[fi].name.clone());
                        self.stats[fi].nulls += 1;
                    }
                    self.push(f, fi.unwrap_or(NO_FIELD), NO_CONSTRAINT);
                    continue;
                }
                let Some(fi) = fi else { continue };
                if let Some(v) = self.check_cell(record, fi, ci) {
                    vals[fi] = Some(v);
                }
            }
        }
        self.after_cells(record, &vals);
        vals.clear();
        self.vals_spare = vals.into_iter().map(|_| None).collect();
    }
}

impl Validator<'_> {
    /// Row-level checks on the cast values: statistics, unique fields, keys, duplicate rows.
    fn after_cells(&mut self, record: &Record<'_>, vals: &[Option<Val<'_>>]) {
        for (fi, v) in vals.iter().enumerate() {
            let Some(v) = v else { continue };
            let st = &mut self.stats[fi];
            st.values += 1;
            if let Some(x) = v.as_f64() {
                st.numeric += 1;
                st.sum += x;
                st.min = Some(st.min.map_or(x, |m| m.min(x)));
                st.max = Some(st.max.map_or(x, |m| m.max(x)));
            }
            let needs_fp = st.distinct.is_some() || self.unique_seen[fi].is_some();
            if !needs_fp {
                continue;
            }
            let fp = Self::fingerprint(&mut self.key_buf, std::iter::once(v));
            let st = &mut self.stats[fi];
            if let Some(d) = st.distinct.as_mut() {
                if d.len() < st.distinct_cap {
                    d.insert(fp);
                }
            }
            if let Some(seen) = self.unique_seen[fi].as_mut() {
                if let Some(&first) = seen.get(&fp) {
                    let ci = self.column_of[fi].unwrap_or(fi);
                    let shown = record.cells.get(ci).map(Cell::display).unwrap_or_default();
                    let name = self.schema().fields[fi].name.clone();
                    let f = self.cell_finding(
                        "unique-error",
                        record,
                        fi,
                        ci,
                        Some(shown.clone()),
                        format!("{shown:?} in unique field {name:?} repeats row {first}"),
                    );
                    self.push(f, fi, C_UNIQUE);
                } else {
                    seen.insert(fp, record.row);
                }
            }
        }
        let pk = self.schema().primary_key.clone();
        if !pk.is_empty() {
            let (names, shown) = self.key_text(&pk, vals);
            if pk.iter().any(|&i| vals[i].is_none()) {
                let f = self.row_finding(
                    "primary-key",
                    record,
                    format!("the primary key ({names}) is empty or not valid"),
                );
                self.push(f, NO_FIELD, NO_CONSTRAINT);
            } else {
                let fp = Self::fingerprint(
                    &mut self.key_buf,
                    pk.iter().filter_map(|&i| vals[i].as_ref()),
                );
                if let Some(&first) = self.pk_seen.get(&fp) {
                    let mut f = self.row_finding(
                        "primary-key",
                        record,
                        format!("the primary key ({names}) = ({shown}) repeats row {first}"),
                    );
                    f.value = Some(shown);
                    self.push(f, NO_FIELD, NO_CONSTRAINT);
                } else {
                    self.pk_seen.insert(fp, record.row);
                }
            }
        }
        for k in 0..self.uk_seen.len() {
            let key = self.schema().unique_keys[k].clone();
            if key.iter().any(|&i| vals[i].is_none()) {
                continue;
            }
            let fp = Self::fingerprint(
                &mut self.key_buf,
                key.iter().filter_map(|&i| vals[i].as_ref()),
            );
            if let Some(&first) = self.uk_seen[k].get(&fp) {
                let (names, shown) = self.key_text(&key, vals);
                let mut f = self.row_finding(
                    "unique-error",
                    record,
                    format!("the unique key ({names}) = ({shown}) repeats row {first}"),
                );
                f.value = Some(shown);
                self.push(f, NO_FIELD, NO_CONSTRAINT);
            } else {
                self.uk_seen[k].insert(fp, record.row);
            }
        }
        for k in 0..self.fk_refs.len() {
            let (own, reference) = {
                let fk = &self.schema().foreign_keys[k];
                (fk.fields.clone(), fk.reference.clone())
            };
            if reference.iter().all(|&i| vals[i].is_some()) {
                let fp = Self::fingerprint(
                    &mut self.key_buf,
                    reference.iter().filter_map(|&i| vals[i].as_ref()),
                );
                self.fk_refs[k].insert(fp);
            }
            if own.iter().all(|&i| vals[i].is_some()) {
                let fp = Self::fingerprint(
                    &mut self.key_buf,
                    own.iter().filter_map(|&i| vals[i].as_ref()),
                );
                if !self.fk_refs[k].contains(&fp) {
                    let (_, shown) = self.key_text(&own, vals);
                    self.fk_pending[k].push((fp, record.row, record.line, shown));
                }
            }
        }
        if self.opts.duplicate_rows && !record.cells.is_empty() {
            self.key_buf.clear();
            for c in record.cells {
                self.key_buf.extend_from_slice(c.display().as_bytes());
                self.key_buf.push(0x1f);
            }
            let fp = xxh3_128(&self.key_buf);
            if let Some(&first) = self.dup_rows.get(&fp) {
                let f = self.row_finding(
                    "duplicate-row",
                    record,
                    format!("the row repeats row {first}"),
                );
                self.push(f, NO_FIELD, NO_CONSTRAINT);
            } else {
                self.dup_rows.insert(fp, record.row);
            }
        }
    }
}
