//! Validation of one table against one Table Schema, in one streaming pass.
//!
//! Mirrors frictionless-py 5.21's checks and positions (see the conformance test): header checks (blank,
//! duplicate, incorrect, extra and missing labels), row checks (blank row, missing and extra cells), cell checks
//! (type, then the first failing constraint), unique fields, primary, unique and self-referencing foreign keys,
//! and the opt-in duplicate-row check. Memory grows with the columns and with the keys that unique, primary-key
//! and foreign-key checks must remember: 16-byte fingerprints (8-byte integers for a key of one integer field),
//! never the rows.

mod cells;
mod fsum;
#[cfg(feature = "full")]
mod keyrun;
mod keys;
mod labels;
mod outcome;
mod parallel;
mod pattern;
mod quick;
mod seen;
#[cfg(feature = "full")]
mod shard;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use indexmap::IndexMap;
use serde_json::json;
use std::hash::{BuildHasherDefault, Hasher};

use xxhash_rust::xxh3::xxh3_128;

use super::reader::{self, ReadStats, Record, RecordSink, Source};
use super::schema::{FieldType, FieldsMatch, Schema, TOLERABLE};
use super::value::{Cell, Val};
use super::DataError;
use crate::report::{clip, Check, Finding, Severity, Status, MAX_FINDINGS_PER_CHECK};
#[cfg(feature = "full")]
pub use keyrun::Section;
use seen::{Key, SeenRows};
#[cfg(feature = "full")]
pub use shard::{
    merge_shards, share_of, validate_shard, write_key_runs, ShardSpec, ShardState, Share, Split,
};

/// Records per block when `check --shard` splits a dataset by records (the CLI's default, in both builds).
pub const DEFAULT_BLOCK_ROWS: u64 = 65_536;

/// Options of a validation run.
#[derive(Debug, Clone)]
pub struct ValidateOptions {
    /// The dataset's name in the report.
    pub subject: String,
    /// Findings kept per check (counts stay exact).
    pub max_findings: usize,
    /// Frictionless' opt-in `duplicate-row` check.
    pub duplicate_rows: bool,
    /// Threads that check cells, besides the reading thread and the one that holds the keys; 0 checks every
    /// record on the calling thread. The report is the same for any number.
    pub workers: usize,
}

impl ValidateOptions {
    pub fn new(subject: impl Into<String>) -> Self {
        ValidateOptions {
            subject: subject.into(),
            max_findings: MAX_FINDINGS_PER_CHECK,
            duplicate_rows: false,
            workers: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
                .min(MAX_WORKERS),
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
    let stats = reader::read_parallel(source, &mut v, opts.workers)?;
    let seconds = started.elapsed().as_secs_f64();
    let mut validation = v.finish(stats, seconds);
    // Data read from elsewhere than the work tree: the report says from where (and which DVC version).
    let origin = crate::data::source::figures(&source.origin);
    for c in &mut validation.checks {
        c.figures.extend(origin.iter().cloned());
    }
    Ok(validation)
}

/// Threads that check records (the reading thread and the one that remembers keys come on top): beyond a few,
/// the reading and key threads are the bottleneck.
const MAX_WORKERS: usize = 4;

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
    /// Sum, minimum and maximum are kept only for fields the table checks name.
    numeric_wanted: bool,
    nulls: u64,
    values: u64,
    numeric: u64,
    sum: fsum::ExactSum,
    min: Option<f64>,
    max: Option<f64>,
    distinct: Option<FpSet>,
    distinct_cap: usize,
}

impl FieldStats {
    /// The same statistics, with nothing counted yet.
    fn fresh(&self) -> FieldStats {
        FieldStats {
            numeric_wanted: self.numeric_wanted,
            distinct: self.distinct.as_ref().map(|_| FpSet::default()),
            distinct_cap: self.distinct_cap,
            ..FieldStats::default()
        }
    }

    /// Adds the statistics of later records.
    fn absorb(&mut self, later: FieldStats) {
        self.nulls += later.nulls;
        self.values += later.values;
        self.numeric += later.numeric;
        self.sum.absorb(&later.sum);
        self.min = match (self.min, later.min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max = match (self.max, later.max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if let (Some(d), Some(more)) = (self.distinct.as_mut(), later.distinct) {
            // Capped like a single pass: past the cap only "more than the maximum" matters.
            for fp in more {
                if d.len() >= self.distinct_cap {
                    break;
                }
                d.insert(fp);
            }
        }
    }
}

/// A foreign-key value not (yet) seen among the referenced values: fingerprint, row, line, shown value.
type PendingReference = (Fingerprint, u64, Option<u64>, String);

/// Primary key, unique keys and foreign keys (own fields, referenced fields), as field indices.
#[derive(Default, Clone)]
struct KeyFields {
    primary: std::sync::Arc<[usize]>,
    unique: std::sync::Arc<[Vec<usize>]>,
    foreign: std::sync::Arc<[(Vec<usize>, Vec<usize>)]>,
}

struct Pending {
    finding: Finding,
    field: usize,
    constraint: usize,
    /// The record's index in its batch, on a worker (0 elsewhere): where the finding goes back in.
    rec: u32,
}

/// What a record asks of the tables of keys seen so far, in the order the checks run.
#[derive(Debug, Clone, Copy)]
struct KeyOp {
    rec: u32,
    row: u64,
    kind: KeyKind,
}

#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
enum KeyKind {
    /// A value of a `unique` field.
    Unique(usize, Key),
    /// The primary key has an empty or invalid part.
    PkEmpty,
    Pk(Key),
    UniqueKey(usize, Key),
    /// Referenced values of a foreign key, then the key's own values.
    FkRef(usize, Fingerprint),
    FkOwn(usize, Fingerprint),
    DuplicateRow(Fingerprint),
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
    /// Per field: a later check reads its value (a key, a table statistic), so the row keeps it in `vals`.
    /// Other values are dropped where they are cast: copying every value into the row buffer cost two
    /// store-forwarding stalls per cell (a value written in 8-byte halves, read back 16 bytes at a time).
    kept: Vec<bool>,
    /// The fields `kept` holds, in order: the row checks visit these, not every field of every row.
    kept_fields: Vec<usize>,
    /// Per field: how its cells are checked on the quick path (see `quick.rs`).
    quick: Vec<quick::Quick>,
    stats: Vec<FieldStats>,
    unique_seen: Vec<Option<SeenRows>>,
    pk_seen: SeenRows,
    uk_seen: Vec<SeenRows>,
    /// Per field: its type is integer, so a key of this field alone is remembered as the integer.
    int_field: Vec<bool>,
    fk_refs: Vec<FpSet>,
    fk_pending: Vec<Vec<PendingReference>>,
    dup_rows: SeenRows,
    /// The schema's keys as field indices, shared so the per-row checks need no copies.
    keys: KeyFields,
    /// Scratch space for canonical key bytes.
    key_buf: Vec<u8>,
    findings: Vec<Pending>,
    counts: IndexMap<String, u64>,
    /// On a worker: the batch index of the record where each code of `counts` first appeared.
    first_rec: Vec<u32>,
    /// Exact counts per (field, constraint), to decide tolerances and severities at the end.
    tally: HashMap<(usize, usize), u64>,
    data_rows: u64,
    blank_rows: u64,
    /// A worker: key checks are recorded in `ops` for the merging thread instead of being run.
    deferred: bool,
    /// The current record's index in its batch (workers only).
    rec: u32,
    ops: Vec<KeyOp>,
    /// The part of a partitioned source being read, and its file's name for findings.
    part: u32,
    file: String,
}

/// Bits of a remembered row number that hold the row; the bits above hold the part of a partitioned source.
const PART_SHIFT: u32 = 40;

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
            kept: vec![],
            kept_fields: vec![],
            quick: vec![],
            stats: vec![],
            unique_seen: vec![],
            pk_seen: SeenRows::default(),
            int_field: vec![],
            uk_seen: vec![],
            fk_refs: vec![],
            fk_pending: vec![],
            dup_rows: SeenRows::default(),
            keys: KeyFields::default(),
            key_buf: Vec::new(),
            findings: vec![],
            counts: IndexMap::new(),
            first_rec: vec![],
            tally: HashMap::new(),
            data_rows: 0,
            blank_rows: 0,
            deferred: false,
            rec: 0,
            ops: vec![],
            part: 0,
            file: source.display.clone(),
        }
    }

    /// Switches to part `index` of a partitioned source: its findings name that part's file.
    fn enter_part(&mut self, index: u32) {
        if index != self.part || self.file == self.source.display {
            if let Some(p) = self.source.parts.get(index as usize) {
                self.part = index;
                self.file = p.display.clone();
            }
        }
    }

    /// A record's row as keys remember it: with its part, since each part counts its rows from the start.
    fn global_row(&self, row: u64) -> u64 {
        (u64::from(self.part) << PART_SHIFT) | row
    }

    /// The file and row a remembered row stands for.
    fn split_row(&self, global: u64) -> (&str, u64) {
        let part = (global >> PART_SHIFT) as usize;
        let row = global & ((1u64 << PART_SHIFT) - 1);
        match self.source.parts.get(part) {
            Some(p) => (p.display.as_str(), row),
            None => (self.source.display.as_str(), row),
        }
    }

    /// "row 7", or "row 7 of FILE" when the row is in another part than the current one.
    fn row_text(&self, global: u64) -> String {
        let (file, row) = self.split_row(global);
        if self.source.parts.is_empty() || file == self.file {
            format!("row {row}")
        } else {
            format!("row {row} of {file}")
        }
    }

    fn schema(&self) -> &Schema {
        // Set in `labels`, which readers call before any record.
        self.schema
            .as_ref()
            .or(self.given)
            .expect("labels() precedes records")
    }

    fn push(&mut self, mut finding: Finding, field: usize, constraint: usize) {
        if finding.code == "constraint-error" {
            finding.constraint = TOLERABLE.get(constraint).map(|c| c.to_string());
        }
        let entry = self.counts.entry(finding.code.clone());
        if entry.index() == self.first_rec.len() && self.deferred {
            self.first_rec.push(self.rec);
        }
        *entry.or_insert(0) += 1;
        *self.tally.entry((field, constraint)).or_insert(0) += 1;
        if self.findings.len() < self.opts.max_findings {
            self.findings.push(Pending {
                finding,
                field,
                constraint,
                rec: self.rec,
            });
        }
    }

    fn finding(&self, code: &str, message: String) -> Finding {
        let mut f = Finding::new(code, Severity::Error, message);
        f.file = Some(self.file.clone());
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
            .zip(&schema.fields)
            .map(|(cap, f)| FieldStats {
                numeric_wanted: schema.extension.fields.contains_key(&f.name),
                distinct: cap.map(|_| FpSet::default()),
                distinct_cap: cap.map(|c| c as usize + 1).unwrap_or(0),
                ..FieldStats::default()
            })
            .collect();
        self.unique_seen = schema
            .fields
            .iter()
            .map(|f| f.constraints.unique.then(SeenRows::default))
            .collect();
        self.int_field = schema
            .fields
            .iter()
            .map(|f| f.ftype == FieldType::Integer)
            .collect();
        self.uk_seen = vec![SeenRows::default(); schema.unique_keys.len()];
        self.fk_refs = vec![FpSet::default(); schema.foreign_keys.len()];
        self.fk_pending = vec![vec![]; schema.foreign_keys.len()];
        self.column_of = vec![None; n];
        self.keys = KeyFields {
            primary: schema.primary_key.clone().into(),
            unique: schema.unique_keys.clone().into(),
            foreign: schema
                .foreign_keys
                .iter()
                .map(|fk| (fk.fields.clone(), fk.reference.clone()))
                .collect(),
        };
        self.kept = (0..n).map(|fi| self.value_read_later(fi)).collect();
        self.kept_fields = (0..n).filter(|&fi| self.kept[fi]).collect();
        self.quick = schema.fields.iter().map(quick::Quick::plan).collect();
        self.schema = Some(schema);
    }

    /// Whether the row checks after the cells read field `fi`'s value: statistics of table checks, a unique
    /// field, or a field of a primary, unique or foreign key.
    fn value_read_later(&self, fi: usize) -> bool {
        let st = &self.stats[fi];
        let k = &self.keys;
        st.numeric_wanted
            || st.distinct.is_some()
            || self.unique_seen[fi].is_some()
            || k.primary.contains(&fi)
            || k.unique.iter().any(|key| key.contains(&fi))
            || k.foreign
                .iter()
                .any(|(own, reference)| own.contains(&fi) || reference.contains(&fi))
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
    fn begin_part(&mut self, index: u32) {
        self.enter_part(index);
    }

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

    /// A row of text cells goes the quick way when it breaks nothing (`quick.rs`), the general way otherwise.
    fn text_record(&mut self, meta: reader::TextRecord, text: &str, ranges: &[(u32, u32)]) {
        if !self.quick_record(meta, text, ranges) {
            let cells = reader::text_cells(text, ranges);
            self.record(&Record {
                row: meta.row,
                line: meta.line,
                cells: &cells,
                plain: meta.plain,
            });
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
            // Present cells first, then what the row has too many or too few of: frictionless reports a row's
            // cell errors before its extra or missing cells. Full rows, the common case, take only the first loop.
            let present = record.cells.len().min(width);
            for ci in 0..present {
                if let Some(fi) = self.field_of.get(ci).copied().flatten() {
                    if let Some(v) = self.check_cell(record, fi, ci) {
                        self.stats[fi].values += 1;
                        if self.kept[fi] {
                            vals[fi] = Some(v);
                        }
                    }
                }
            }
            if record.cells.len() > width {
                self.extra_cells(record, width);
            } else if record.cells.len() < width {
                self.missing_cells(record, width);
            }
        }
        self.after_cells(record, &vals);
        vals.clear();
        self.vals_spare = vals.into_iter().map(|_| None).collect();
        if self.deferred {
            self.rec += 1;
        }
    }
}
