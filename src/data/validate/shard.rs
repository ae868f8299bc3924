//! Sharded validation: each of N shards checks its share of a dataset's records and writes what one run would
//! have remembered of them ([`ShardState`]); [`merge_shards`] replays the shards in record order and finishes as
//! one run does, so the merged checks are the unsharded ones, finding for finding.
//!
//! A shard is a worker of the parallel validator ([`parallel`](super::parallel)) at the scale of a whole job:
//! it checks cells and counts statistics, but it cannot hold its key checks against the records of other
//! shards, so it writes every key check (fingerprint, row, and what a finding would show of the record) and
//! the merge probes them in order. Positions stay exact: a record is named by its part and its index in the
//! part, rows and lines are the reader's own (every shard reads its files from their start).
//!
//! The split: a partitioned dataset with at least N parts gives each shard a contiguous run of whole part
//! files (nothing is read twice); any other dataset is split by records, in blocks of `block_rows` records
//! dealt round-robin, and every shard parses the whole file but checks only its blocks.

use serde::{Deserialize, Serialize};

use super::keyrun::{self, Entry, Repeat, Section};
use super::keys::Site;
use super::*;

/// The shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardSpec {
    pub index: u32,
    pub count: u32,
    /// Records per block when a dataset is split by records.
    pub block_rows: u64,
}

/// How a dataset was split among the shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Contiguous runs of part files.
    Parts,
    /// Blocks of records, round-robin (every shard reads the whole file).
    Records,
    /// Each shard reads its share of one file: a byte range cut at record boundaries, or a run of row groups.
    Range,
}

/// A record's place in the dataset: its part and its index among the part's records (its row in a range).
type Pos = keyrun::Pos;

/// What one shard remembers of one dataset: everything the merge needs to finish as one run would.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardState {
    pub split: Split,
    /// The header the validator was given (with Hive partition keys), `None` when the file has none.
    pub labels: Option<Vec<String>>,
    pub data_rows: u64,
    pub blank_rows: u64,
    /// Bytes read: this shard's parts, or the whole file when split by records.
    pub bytes: u64,
    stats: Vec<StatsState>,
    /// Findings of cells and rows, in record order (key findings are the merge's).
    findings: Vec<FindingState>,
    /// Each code's count in this shard and the record where it first appeared.
    codes: Vec<(String, u64, Pos)>,
    /// Exact counts per (field, constraint).
    tally: Vec<(usize, usize, u64)>,
    /// The key checks that need no memory of earlier keys (an empty primary key, foreign keys), in record order.
    ops: Vec<OpState>,
    /// Where the other key checks (unique fields, primary and unique keys, duplicate rows) are in the side file,
    /// sorted by key for the merge.
    #[serde(default)]
    pub keys: Section,
    /// Those key checks until they are written.
    #[serde(skip)]
    entries: Vec<Entry>,
    /// What this shard read of the file when split by ranges (absent otherwise, as in partials of earlier
    /// versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<reader::Window>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FindingState {
    at: Pos,
    field: usize,
    constraint: usize,
    finding: Finding,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct OpState {
    at: Pos,
    kind: KeyKind,
    #[serde(flatten)]
    site: Site,
}

/// [`FieldStats`] with its floats as bits (JSON has no NaN or infinity).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StatsState {
    nulls: u64,
    values: u64,
    numeric: u64,
    sum: (Vec<u64>, u64),
    min: Option<u64>,
    max: Option<u64>,
    distinct: Option<Vec<Fingerprint>>,
}

impl StatsState {
    fn of(st: &FieldStats) -> StatsState {
        let mut distinct: Option<Vec<Fingerprint>> =
            st.distinct.as_ref().map(|d| d.iter().copied().collect());
        // Sorted, so a shard's partial report does not depend on hash order.
        if let Some(d) = distinct.as_mut() {
            d.sort_unstable();
        }
        StatsState {
            nulls: st.nulls,
            values: st.values,
            numeric: st.numeric,
            sum: st.sum.to_bits(),
            min: st.min.map(f64::to_bits),
            max: st.max.map(f64::to_bits),
            distinct,
        }
    }

    /// The statistics, shaped as `like` (the merge's own, fresh from the schema).
    fn into_stats(self, like: &FieldStats) -> FieldStats {
        let mut st = like.fresh();
        st.nulls = self.nulls;
        st.values = self.values;
        st.numeric = self.numeric;
        st.sum = fsum::ExactSum::from_bits(&self.sum.0, self.sum.1);
        st.min = self.min.map(f64::from_bits);
        st.max = self.max.map(f64::from_bits);
        if let (Some(d), Some(more)) = (st.distinct.as_mut(), self.distinct) {
            d.extend(more);
        }
        st
    }
}

/// Which records a shard checks, and where each record it checked sits in the dataset.
struct ShardSink<'v, 's> {
    v: &'v mut Validator<'s>,
    spec: ShardSpec,
    split: Split,
    /// The dataset index of this shard's first part.
    part_offset: u32,
    part: u32,
    /// The part whose records are coming, once one was announced.
    started: Option<u32>,
    /// Records of the current part so far, checked or not.
    in_part: u64,
    /// Runs of consecutive records checked: (validator's record number, part, index in the part).
    runs: Vec<(u32, u32, u64)>,
    labels: Option<Option<Vec<String>>>,
    sites: Vec<Site>,
    too_many: bool,
}

impl ShardSink<'_, '_> {
    fn mine(&self, index: u64) -> bool {
        is_mine(self.split, self.spec, index)
    }
}

/// Whether the record at `index` (its index in its part, or its row in a range) is shard `spec`'s: every record
/// of its parts or range, or of a split by records every `count`-th block of `block_rows` records.
fn is_mine(split: Split, spec: ShardSpec, index: u64) -> bool {
    match split {
        Split::Parts | Split::Range => true,
        Split::Records => {
            (index / spec.block_rows.max(1)) % u64::from(spec.count) == u64::from(spec.index - 1)
        }
    }
}

impl RecordSink for ShardSink<'_, '_> {
    fn labels(&mut self, labels: Option<&[String]>) {
        if self.labels.is_some() {
            return;
        }
        self.labels = Some(labels.map(<[String]>::to_vec));
        self.v.labels(labels);
        // The header's findings are the merge's to make, once, from the same header.
        self.v.findings.clear();
        self.v.counts.clear();
        self.v.first_rec.clear();
        self.v.tally.clear();
    }

    fn begin_part(&mut self, index: u32) {
        self.v.enter_part(index);
        // The threaded reader announces the part again with every batch: only a new part counts from 0.
        if self.started != Some(index) {
            self.started = Some(index);
            self.part = index;
            self.in_part = 0;
        }
    }

    fn record(&mut self, record: &Record<'_>) {
        // A range starts mid-file, where the record's index is not known: its row orders the records as well.
        let index = match self.split {
            Split::Range => record.row,
            _ => self.in_part,
        };
        self.in_part += 1;
        if !self.mine(index) || self.too_many {
            return;
        }
        let rec = self.v.rec;
        if rec == u32::MAX {
            self.too_many = true;
            return;
        }
        let part = self.part + self.part_offset;
        let follows = self
            .runs
            .last()
            .is_some_and(|&(start, p, i)| p == part && i + u64::from(rec - start) == index);
        if !follows {
            self.runs.push((rec, part, index));
        }
        let before = self.v.ops.len();
        self.v.record(record);
        // The values are cast again only for a key whose shown text needs them (most rows have none such).
        let mut vals = None;
        for k in before..self.v.ops.len() {
            let kind = self.v.ops[k].kind;
            let site = match (site_of(kind), shown_by_key(kind)) {
                (keys::SiteOf::Key(_), Some(_)) => self.v.site(keys::SiteOf::Row, record, &[]),
                (keys::SiteOf::Key(of), None) => {
                    let vals = vals.get_or_insert_with(|| self.v.cast_row(record));
                    self.v.site(keys::SiteOf::Key(of), record, vals)
                }
                (of, _) => self.v.site(of, record, &[]),
            };
            self.sites.push(site);
        }
    }
}

/// The text a finding shows of a primary or unique key that is one integer field: the integer, which the key
/// check holds already, so a shard need not write it (the merge puts it back).
fn shown_by_key(kind: KeyKind) -> Option<String> {
    match kind {
        KeyKind::Pk(Key::Int(i)) | KeyKind::UniqueKey(_, Key::Int(i)) => Some(i.to_string()),
        _ => None,
    }
}

/// What the finding of a key check shows of its record.
fn site_of(kind: KeyKind) -> keys::SiteOf {
    use keys::{KeyOf, SiteOf};
    match kind {
        KeyKind::Unique(fi, _) => SiteOf::Cell(fi),
        KeyKind::PkEmpty | KeyKind::DuplicateRow(_) | KeyKind::FkRef(..) => SiteOf::Row,
        KeyKind::Pk(_) => SiteOf::Key(KeyOf::Primary),
        KeyKind::UniqueKey(k, _) => SiteOf::Key(KeyOf::Unique(k)),
        KeyKind::FkOwn(k, _) => SiteOf::Key(KeyOf::Foreign(k)),
    }
}

/// How `source` is split among `count` shards.
pub fn split_of(source: &Source, count: u32) -> Split {
    if source.parts.len() >= count as usize {
        Split::Parts
    } else {
        Split::Records
    }
}

/// The part files shard `index` of `count` reads: a contiguous run, the first parts to the first shards.
fn part_range(parts: usize, spec: ShardSpec) -> std::ops::Range<usize> {
    let n = spec.count as usize;
    let i = spec.index as usize - 1;
    (parts * i / n)..(parts * (i + 1) / n)
}

/// What a shard reads of a source, and how its records are told apart from the other shards'.
#[derive(Debug, Clone)]
pub struct Share {
    /// The source as this shard reads it: its run of part files, or its window of the file, or all of it.
    pub source: Source,
    pub split: Split,
    /// The dataset index of the share's first part (its run of part files).
    pub part_offset: u32,
    pub window: Option<reader::Window>,
}

impl Share {
    /// Whether the record at `index` (its index in its part, or its row in a range) is this shard's.
    pub fn mine(&self, spec: ShardSpec, index: u64) -> bool {
        is_mine(self.split, spec, index)
    }
}

/// The share of `source` that shard `spec` reads, by the rules validation and drift both follow: a run of
/// part files, a window of one file (byte range or row groups), or blocks of records of the whole.
pub fn share_of(source: &Source, spec: ShardSpec) -> Result<Share, DataError> {
    let window = if source.parts.is_empty() {
        reader::plan_window(source, spec.index, spec.count)?
    } else {
        None
    };
    let split = match window {
        Some(_) => Split::Range,
        None => split_of(source, spec.count),
    };
    let (mine, part_offset) = match split {
        Split::Parts => {
            let range = part_range(source.parts.len(), spec);
            let offset = range.start as u32;
            let sub = Source {
                parts: source.parts[range].to_vec(),
                ..source.clone()
            };
            (sub, offset)
        }
        Split::Records => (source.clone(), 0),
        Split::Range => (
            Source {
                window,
                ..source.clone()
            },
            0,
        ),
    };
    Ok(Share {
        source: mine,
        split,
        part_offset,
        window,
    })
}

/// Checks this shard's share of `source` and returns what the merge needs of it.
pub fn validate_shard(
    source: &Source,
    schema: Option<&Schema>,
    opts: &ValidateOptions,
    spec: ShardSpec,
) -> Result<ShardState, DataError> {
    if spec.index == 0 || spec.index > spec.count {
        return Err(DataError::Format {
            path: source.display.clone(),
            message: format!("there is no shard {}/{}", spec.index, spec.count),
            help: Some("shards are numbered from 1 to N".into()),
        });
    }
    let Share {
        source: mine,
        split,
        part_offset,
        window,
    } = share_of(source, spec)?;
    let mut v = Validator::new(&mine, schema, opts);
    v.deferred = true;
    let mut sink = ShardSink {
        v: &mut v,
        spec,
        split,
        part_offset,
        part: 0,
        started: None,
        in_part: 0,
        runs: vec![],
        labels: None,
        sites: vec![],
        too_many: false,
    };
    let stats = reader::read(&mine, &mut sink)?;
    if sink.too_many {
        return Err(DataError::Format {
            path: source.display.clone(),
            message: "a shard holds more than 4294967294 records".into(),
            help: Some("split the dataset among more shards".into()),
        });
    }
    let (runs, labels, sites) = (
        std::mem::take(&mut sink.runs),
        sink.labels.take().flatten(),
        std::mem::take(&mut sink.sites),
    );
    let pos_of = |rec: u32| pos_in(&runs, rec);
    // The figures name the file's bytes, which one run reads, not the share's.
    let bytes = match window {
        Some(_) => std::fs::metadata(&source.path).map_or(stats.bytes, |m| m.len()),
        None => stats.bytes,
    };
    let mut state = state_of(v, split, labels, bytes, &pos_of, sites);
    state.window = window;
    Ok(state)
}

/// The dataset position of the validator's record number `rec`, from the runs of consecutive records checked.
fn pos_in(runs: &[(u32, u32, u64)], rec: u32) -> Pos {
    let i = runs.partition_point(|r| r.0 <= rec).saturating_sub(1);
    match runs.get(i) {
        Some(&(start, part, index)) => (part, index + u64::from(rec - start)),
        None => (0, u64::from(rec)),
    }
}

fn state_of(
    mut v: Validator<'_>,
    split: Split,
    labels: Option<Vec<String>>,
    bytes: u64,
    pos_of: &dyn Fn(u32) -> Pos,
    sites: Vec<Site>,
) -> ShardState {
    let findings = v
        .findings
        .drain(..)
        .map(|p| FindingState {
            at: pos_of(p.rec),
            field: p.field,
            constraint: p.constraint,
            finding: p.finding,
        })
        .collect();
    let codes = v
        .counts
        .iter()
        .zip(&v.first_rec)
        .map(|((code, n), &rec)| (code.clone(), *n, pos_of(rec)))
        .collect();
    let mut tally: Vec<(usize, usize, u64)> =
        v.tally.iter().map(|(&(f, c), &n)| (f, c, n)).collect();
    tally.sort_unstable();
    let (mut ops, mut entries) = (vec![], vec![]);
    for (op, site) in v.ops.iter().zip(sites) {
        let at = pos_of(op.rec);
        match keyrun::sorted_key(&op.kind) {
            Some(key) => entries.push(Entry {
                rank: keyrun::rank(&op.kind),
                key,
                at,
                site,
            }),
            None => ops.push(OpState {
                at,
                kind: op.kind,
                site,
            }),
        }
    }
    ShardState {
        split,
        labels,
        data_rows: v.data_rows,
        blank_rows: v.blank_rows,
        bytes,
        stats: v.stats.iter().map(StatsState::of).collect(),
        findings,
        codes,
        tally,
        ops,
        keys: Section::default(),
        entries,
        window: None,
    }
}

/// Writes the key checks of every dataset's state to `out` (a shard's side file), each dataset's sorted by key
/// in a section of its own, and records in each state where its section is.
pub fn write_key_runs(
    states: &mut [&mut ShardState],
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut offset = 0;
    for st in states.iter_mut() {
        let mut entries = std::mem::take(&mut st.entries);
        st.keys = keyrun::write_section(&mut entries, out, offset)?;
        offset += st.keys.len;
    }
    Ok(())
}

/// The validation one run over `display` (with these part files) would have made, from the states of all its
/// shards in shard order.
pub fn merge_shards(
    display: &str,
    parts: &[String],
    schema: Option<&Schema>,
    opts: &ValidateOptions,
    shards: Vec<ShardState>,
    keys: &[std::path::PathBuf],
) -> Result<Validation, DataError> {
    let source = Source {
        path: display.into(),
        display: display.to_string(),
        format: reader::Format::Csv,
        dialect: reader::Dialect::default(),
        parts: parts
            .iter()
            .map(|p| reader::Part {
                path: p.into(),
                display: p.clone(),
                hive: vec![],
            })
            .collect(),
        origin: Default::default(),
        window: None,
    };
    let bad = |message: String| DataError::Format {
        path: display.to_string(),
        message,
        help: Some("merge the partial reports of one sharded check, all of them".into()),
    };
    let Some(first) = shards.first() else {
        return Err(bad("no shard to merge".into()));
    };
    if let Some(other) = shards.iter().find(|s| s.labels != first.labels) {
        return Err(bad(format!(
            "the shards read different headers ({} and {}): every part of a dataset has the same columns in the \
             same order",
            show_labels(&first.labels),
            show_labels(&other.labels)
        )));
    }
    let mut v = Validator::new(&source, schema, opts);
    v.labels(first.labels.as_deref());
    if v.schema.is_none() {
        return Err(bad("the dataset has no header and no schema".into()));
    }
    if shards.iter().any(|s| s.stats.len() != v.stats.len()) {
        return Err(bad(
            "a shard's statistics do not match the schema's fields".into()
        ));
    }
    if shards
        .iter()
        .any(|s| s.ops.iter().any(|op| !fits(&v, op.kind)))
    {
        return Err(bad(
            "a shard's key checks name keys the schema does not have".into(),
        ));
    }
    let bytes = match first.split {
        Split::Parts => shards.iter().map(|s| s.bytes).sum(),
        Split::Records | Split::Range => first.bytes,
    };
    if first.split == Split::Range {
        tiled(&shards, first.bytes).map_err(bad)?;
    }
    let mut records = 0;
    for s in &shards {
        absorb_counts(&mut v, s);
        records += s.data_rows;
    }
    if keys.len() != shards.len() {
        return Err(bad("a side file of key checks per shard is needed".into()));
    }
    let paths: Vec<&std::path::Path> = keys.iter().map(|p| p.as_path()).collect();
    let sections: Vec<&Section> = shards.iter().map(|s| &s.keys).collect();
    let global = |at: Pos, row: u64| (u64::from(at.0) << PART_SHIFT) | row;
    let repeats = keyrun::merge_runs(&paths, &sections, v.opts.max_findings, &global)
        .map_err(|message| DataError::Format {
            path: display.to_string(),
            message,
            help: Some("merge the partial reports with the side files `mlgate check --shard` wrote beside them".into()),
        })?;
    if let Some(&(rank, _)) = repeats
        .totals
        .iter()
        .find(|(rank, _)| !rank_fits(&v, *rank))
    {
        return Err(bad(format!(
            "a shard's side file has key checks ({rank:?}) the schema does not have"
        )));
    }
    replay(&mut v, &shards, &repeats.kept);
    count_the_rest(&mut v, &repeats);
    Ok(v.finish(ReadStats { bytes, records }, 0.0))
}

/// The shards' windows tile the file: each starts where the one before ended, the last ends at the file's end,
/// all read the same header. Anything else is partials of different plans (or edited ones).
fn tiled(shards: &[ShardState], size: u64) -> Result<(), String> {
    use reader::Window;
    let mut next: Option<u64> = None;
    let mut head = None;
    for (i, s) in shards.iter().enumerate() {
        let (start, end, prefix) = match s.window {
            Some(Window::Bytes {
                prefix, start, end, ..
            }) => (start, end, Some(prefix)),
            Some(Window::RowGroups { start, end, .. }) => (start, end, None),
            None => return Err(format!("shard {} has no window of the file", i + 1)),
        };
        let first_ok = match (next, prefix) {
            (Some(n), _) => start == n,
            (None, Some(p)) => start <= p,
            (None, None) => start == 0,
        };
        if !first_ok || end < start || head.get_or_insert(prefix) != &prefix {
            return Err(format!(
                "shard {} read [{start}, {end}), which does not follow the shards before it",
                i + 1
            ));
        }
        next = Some(end);
    }
    let bytes = shards.first().and_then(|s| match s.window {
        Some(reader::Window::Bytes { .. }) => Some(size),
        _ => None,
    });
    if let (Some(size), Some(end)) = (bytes, next) {
        if end != size {
            return Err(format!("the shards read the file to byte {end} of {size}"));
        }
    }
    Ok(())
}

/// Whether a key check names a unique field, unique key or foreign key the schema has: the merge indexes by them.
fn fits(v: &Validator<'_>, kind: KeyKind) -> bool {
    match kind {
        KeyKind::Unique(fi, _) => {
            v.unique_seen.get(fi).is_some_and(Option::is_some) && fi < v.column_of.len()
        }
        KeyKind::PkEmpty | KeyKind::Pk(_) => !v.keys.primary.is_empty(),
        KeyKind::UniqueKey(k, _) => k < v.uk_seen.len() && k < v.keys.unique.len(),
        KeyKind::FkRef(k, _) | KeyKind::FkOwn(k, _) => {
            k < v.fk_refs.len() && k < v.keys.foreign.len()
        }
        KeyKind::DuplicateRow(_) => v.opts.duplicate_rows,
    }
}

/// Whether a check of the side file (by its rank) is one the schema has: the merge indexes by it.
fn rank_fits(v: &Validator<'_>, rank: keyrun::Rank) -> bool {
    let i = rank.1 as usize;
    match rank.0 {
        0 => v.unique_seen.get(i).is_some_and(Option::is_some) && i < v.column_of.len(),
        1 => !v.keys.primary.is_empty(),
        2 => i < v.uk_seen.len() && i < v.keys.unique.len(),
        4 => v.opts.duplicate_rows,
        _ => false,
    }
}

fn show_labels(l: &Option<Vec<String>>) -> String {
    match l {
        Some(l) => format!("[{}]", l.join(", ")),
        None => "no header".into(),
    }
}

/// Statistics and exact counts, which do not depend on the order of the shards.
fn absorb_counts(v: &mut Validator<'_>, s: &ShardState) {
    v.data_rows += s.data_rows;
    v.blank_rows += s.blank_rows;
    for &(f, c, n) in &s.tally {
        *v.tally.entry((f, c)).or_insert(0) += n;
    }
    let fresh: Vec<FieldStats> = v.stats.iter().map(FieldStats::fresh).collect();
    for ((st, later), like) in v.stats.iter_mut().zip(&s.stats).zip(&fresh) {
        st.absorb(later.clone().into_stats(like));
    }
}

/// One shard's place in the replay.
struct Cursor<'a> {
    s: &'a ShardState,
    finding: usize,
    code: usize,
    op: usize,
}

impl Cursor<'_> {
    /// The next record this shard has anything for.
    fn next(&self) -> Option<Pos> {
        [
            self.s.findings.get(self.finding).map(|f| f.at),
            self.s.codes.get(self.code).map(|c| c.2),
            self.s.ops.get(self.op).map(|o| o.at),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// A key check of the record being replayed: one the shard wrote in its partial, or a repeat the merge of the
/// sorted runs found.
enum KeyCheck<'a> {
    Op(&'a OpState),
    Repeat(&'a Repeat),
}

/// Walks the records of all shards in dataset order: a record's cell and row findings (and the codes they bring
/// first), then its key checks in the order one run makes them: the repeats `repeats` (sorted by record) holds,
/// and the checks that need no memory of earlier keys.
fn replay(v: &mut Validator<'_>, shards: &[ShardState], repeats: &[Repeat]) {
    let mut cursors: Vec<Cursor<'_>> = shards
        .iter()
        .map(|s| Cursor {
            s,
            finding: 0,
            code: 0,
            op: 0,
        })
        .collect();
    let mut r = 0;
    let mut checks: Vec<(keyrun::Rank, KeyCheck<'_>)> = vec![];
    loop {
        let from_shards = cursors.iter().filter_map(Cursor::next).min();
        let Some(at) = from_shards
            .into_iter()
            .chain(repeats.get(r).map(|x| x.at))
            .min()
        else {
            break;
        };
        // Only the shard that read the record has anything at `at`; the others are past it.
        for cur in &mut cursors {
            while let Some(f) = cur.s.findings.get(cur.finding).filter(|f| f.at <= at) {
                if v.findings.len() < v.opts.max_findings {
                    v.findings.push(Pending {
                        finding: f.finding.clone(),
                        field: f.field,
                        constraint: f.constraint,
                        rec: 0,
                    });
                }
                cur.finding += 1;
            }
            while let Some((code, n, _)) = cur.s.codes.get(cur.code).filter(|c| c.2 <= at) {
                *v.counts.entry(code.clone()).or_insert(0) += n;
                cur.code += 1;
            }
            while let Some(op) = cur.s.ops.get(cur.op).filter(|o| o.at == at) {
                checks.push((keyrun::rank(&op.kind), KeyCheck::Op(op)));
                cur.op += 1;
            }
        }
        while let Some(rep) = repeats.get(r).filter(|x| x.at == at) {
            checks.push((rep.rank, KeyCheck::Repeat(rep)));
            r += 1;
        }
        checks.sort_by_key(|c| c.0);
        v.enter_part(at.0);
        for (_, check) in checks.drain(..) {
            match check {
                KeyCheck::Op(op) => {
                    let key_op = KeyOp {
                        rec: 0,
                        row: v.global_row(op.site.row),
                        kind: op.kind,
                    };
                    if let Some(hit) = v.probe(&key_op) {
                        v.report_at(hit, &op.site);
                    }
                }
                KeyCheck::Repeat(rep) => v.report_at(rep.hit, &rep.site),
            }
        }
    }
}

/// The repeats the merge did not keep (past the findings a report holds) still count, as in one run.
fn count_the_rest(v: &mut Validator<'_>, repeats: &keyrun::Repeats) {
    for &(rank, total) in &repeats.totals {
        let kept = repeats.kept.iter().filter(|k| k.rank == rank).count() as u64;
        let more = total.saturating_sub(kept);
        if more == 0 {
            continue;
        }
        let (code, field, constraint) = match rank.0 {
            0 => ("unique-error", rank.1 as usize, C_UNIQUE),
            1 => ("primary-key", NO_FIELD, NO_CONSTRAINT),
            2 => ("unique-error", NO_FIELD, NO_CONSTRAINT),
            _ => ("duplicate-row", NO_FIELD, NO_CONSTRAINT),
        };
        *v.counts.entry(code.to_string()).or_insert(0) += more;
        *v.tally.entry((field, constraint)).or_insert(0) += more;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(index: u32, count: u32) -> ShardSpec {
        ShardSpec {
            index,
            count,
            block_rows: 2,
        }
    }

    #[test]
    fn parts_are_dealt_in_contiguous_runs_that_cover_all() {
        for parts in [3usize, 4, 7] {
            for n in 1..=parts as u32 {
                let ranges: Vec<_> = (1..=n).map(|i| part_range(parts, spec(i, n))).collect();
                assert_eq!(ranges[0].start, 0);
                assert_eq!(ranges.last().map(|r| r.end), Some(parts));
                for w in ranges.windows(2) {
                    assert_eq!(w[0].end, w[1].start);
                    assert!(w[0].start < w[0].end);
                }
            }
        }
    }

    #[test]
    fn a_key_check_the_schema_does_not_have_is_an_error_not_a_panic() {
        let schema = Schema::parse(
            r#"{"fields": [{"name": "id", "type": "integer"}], "primaryKey": "id"}"#,
            "s.json",
        )
        .unwrap();
        let opts = ValidateOptions::new("t");
        let state = |kind| ShardState {
            split: Split::Records,
            labels: Some(vec!["id".into()]),
            data_rows: 1,
            blank_rows: 0,
            bytes: 4,
            stats: vec![StatsState::of(&FieldStats::default())],
            findings: vec![],
            codes: vec![],
            tally: vec![],
            ops: vec![OpState {
                at: (0, 0),
                kind,
                site: Site::default(),
            }],
            keys: Section::default(),
            entries: vec![],
            window: None,
        };
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("k.keys");
        std::fs::write(&keys, b"").unwrap();
        let good = state(KeyKind::Pk(Key::Int(1)));
        assert!(merge_shards(
            "d.csv",
            &[],
            Some(&schema),
            &opts,
            vec![good],
            std::slice::from_ref(&keys)
        )
        .is_ok());
        for kind in [
            KeyKind::Unique(0, Key::Int(1)),
            KeyKind::UniqueKey(3, Key::Int(1)),
            KeyKind::FkOwn(0, 7),
            KeyKind::DuplicateRow(7),
        ] {
            let e = merge_shards(
                "d.csv",
                &[],
                Some(&schema),
                &opts,
                vec![state(kind)],
                std::slice::from_ref(&keys),
            )
            .unwrap_err()
            .to_string();
            assert!(e.contains("key checks name keys"), "{e}");
        }
    }

    #[test]
    fn a_side_file_check_the_schema_does_not_have_is_an_error_not_a_panic() {
        let schema = Schema::parse(
            r#"{"fields": [{"name": "id", "type": "integer"}]}"#,
            "s.json",
        )
        .unwrap();
        let opts = ValidateOptions::new("t");
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("k.keys");
        // Field 0 is not unique, and there is no field 5: both repeat a key.
        for rank in [(0, 0), (0, 5), (2, 0), (4, 0), (9, 0)] {
            let entry = |row| Entry {
                rank,
                key: (0, 7),
                at: (0, row),
                site: Site {
                    row,
                    ..Site::default()
                },
            };
            let mut file = std::fs::File::create(&keys).unwrap();
            let section = keyrun::write_section(&mut [entry(2), entry(3)], &mut file, 0).unwrap();
            let state = ShardState {
                split: Split::Records,
                labels: Some(vec!["id".into()]),
                data_rows: 2,
                blank_rows: 0,
                bytes: 4,
                stats: vec![StatsState::of(&FieldStats::default())],
                findings: vec![],
                codes: vec![],
                tally: vec![],
                ops: vec![],
                keys: section,
                entries: vec![],
                window: None,
            };
            let e = merge_shards(
                "d.csv",
                &[],
                Some(&schema),
                &opts,
                vec![state],
                std::slice::from_ref(&keys),
            )
            .unwrap_err()
            .to_string();
            assert!(e.contains("the schema does not have"), "{rank:?}: {e}");
        }
    }

    #[test]
    fn windows_that_do_not_tile_the_file_are_refused() {
        let schema = Schema::parse(
            r#"{"fields": [{"name": "id", "type": "integer"}]}"#,
            "s.json",
        )
        .unwrap();
        let opts = ValidateOptions::new("t");
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("k.keys");
        std::fs::write(&keys, b"").unwrap();
        let state = |start, end| ShardState {
            split: Split::Range,
            labels: Some(vec!["id".into()]),
            data_rows: 0,
            blank_rows: 0,
            bytes: 100,
            stats: vec![StatsState::of(&FieldStats::default())],
            findings: vec![],
            codes: vec![],
            tally: vec![],
            ops: vec![],
            window: Some(reader::Window::Bytes {
                prefix: 3,
                start,
                end,
                lines: 0,
                rows: 0,
            }),
            keys: Section::default(),
            entries: vec![],
        };
        let merge = |shards: Vec<ShardState>| {
            let keys = vec![keys.clone(); shards.len()];
            merge_shards("d.csv", &[], Some(&schema), &opts, shards, &keys)
        };
        assert!(merge(vec![state(3, 40), state(40, 100)]).is_ok());
        for (shards, wanted) in [
            (vec![state(3, 40), state(41, 100)], "shard 2 read [41, 100)"),
            (vec![state(3, 40), state(30, 100)], "shard 2 read [30, 100)"),
            (vec![state(3, 40), state(40, 99)], "to byte 99 of 100"),
            (vec![state(9, 40), state(40, 100)], "shard 1 read [9, 40)"),
        ] {
            let e = merge(shards).unwrap_err().to_string();
            assert!(e.contains(wanted), "{e}");
        }
        let mut none = state(40, 100);
        none.window = None;
        let e = merge(vec![state(3, 40), none]).unwrap_err().to_string();
        assert!(e.contains("shard 2 has no window"), "{e}");
    }

    #[test]
    fn positions_come_from_the_runs_of_records_checked() {
        let runs = [(0, 0, 0), (3, 0, 10), (5, 2, 0)];
        let got: Vec<Pos> = [0, 2, 3, 4, 5, 9].map(|r| pos_in(&runs, r)).to_vec();
        assert_eq!(got, [(0, 0), (0, 2), (0, 10), (0, 11), (2, 0), (2, 4)]);
    }

    #[test]
    fn a_state_round_trips_through_json_with_its_fingerprints_and_bits() {
        let st = StatsState {
            nulls: 1,
            values: 2,
            numeric: 2,
            sum: (vec![f64::NAN.to_bits()], f64::INFINITY.to_bits()),
            min: Some((-0.0f64).to_bits()),
            max: None,
            distinct: Some(vec![u128::MAX, 7]),
        };
        let text = serde_json::to_string(&st).unwrap();
        let back: StatsState = serde_json::from_str(&text).unwrap();
        assert_eq!(back.distinct, st.distinct);
        assert_eq!(back.sum, st.sum);
        assert_eq!(back.min, st.min);
    }
}
