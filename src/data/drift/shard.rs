//! Sharded drift: each shard collects the columns of its share of the current data and of the reference (split
//! as validation splits a file of their kind, [`crate::data::share_of`]), and the merge makes the tables one run
//! would have collected.
//!
//! Counts and distinct values add up. Numeric values are order-sensitive (the naive sums, the switch to the
//! sketch at the exact limit, the sketch itself), so a shard ships them unsorted, in row order, with the runs
//! of records (segments) it read, and the merge replays all shards' values in dataset order through
//! [`Column::value`], the function one run's pass calls: the merged tables are one run's, value for value.
//! Only a shard whose own share of a column passes the exact limit ships its sketch instead; the merge then
//! merges sketches ([`Sketch::merge`]), and that column's statistics are within the sketch's stated bound
//! (`sketch_error`), not byte-identical to one run's.
//!
//! One difference is left: a column that only rows longer than the header have (named by position) counts the
//! short rows after its first cell as missing; a shard counts from its own first such row, so the merged count of
//! missing cells of such a column can be lower than one run's (it decides only whether integers look like
//! pandas' integer dtype; a column on one side only is a finding either way).
//!
//! The values go to a binary side file beside the partial (`partial-I-of-N.drift`, f64 little-endian), one
//! section per dataset whose SHA-256 the partial holds; counts, distinct texts and segments stay in the partial.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::data::reader::{self, Record, RecordSink, Source};
use crate::data::validate::{share_of, Section, ShardSpec, Share, Split};
use crate::data::DataError;

use super::columns::{Column, Numbers, OrdF64, Table};
use super::sketch::{Sketch, SketchMeta};

/// One side (reference or current) of one shard.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TableState {
    pub rows: u64,
    pub columns: Vec<ColumnState>,
    /// The runs of this shard's records, in dataset order: where each sits, and how many numbers each column
    /// has in it.
    pub segments: Vec<Segment>,
    /// Each column's values until they are written to the side file.
    #[serde(skip)]
    values: Vec<Vec<f64>>,
}

/// A run of consecutive records of one shard: its place in the dataset (part, and block of records or shard) and
/// the numbers each column has in it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Segment {
    pub at: (u32, u64),
    pub numbers: Vec<u64>,
}

/// One column of one shard (floats as bits: JSON has no infinity).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColumnState {
    pub name: String,
    pub nulls: u64,
    pub ints: u64,
    pub floats: u64,
    pub bools: u64,
    pub texts: u64,
    pub bools_seen: [u64; 2],
    /// Distinct texts and their counts, sorted (at most [`super::columns::MAX_DISTINCT`]).
    pub texts_seen: Vec<(String, u64)>,
    pub overflow: bool,
    /// Where the column's values are in the dataset's section of the side file, in values.
    pub offset: u64,
    pub len: u64,
    pub numbers: NumbersState,
}

/// What a shard ships of a column's numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumbersState {
    /// The values themselves, in row order (the merge replays them).
    Exact,
    /// The shard's own share passed the exact limit: its sketch (the side file holds its levels, one after the
    /// other, of these lengths), its sums and range as the pass made them, and the numbers it counted.
    Sketch {
        levels: Vec<u64>,
        count: u64,
        rank_error: u64,
        min: u64,
        max: u64,
        flip: bool,
        sum: u64,
        sumsq: u64,
        nums_seen: Vec<(u64, u64)>,
    },
}

/// Collects this shard's share of `source`.
pub fn collect_share(
    source: &Source,
    spec: ShardSpec,
    exact_limit: usize,
) -> Result<TableState, DataError> {
    let share = share_of(source, spec)?;
    let mut sink = ShareSink {
        table: Table::default(),
        share: &share,
        spec,
        exact_limit,
        labels: false,
        started: None,
        part: 0,
        in_part: 0,
        open: None,
        segments: vec![],
    };
    reader::read(&share.source, &mut sink)?;
    sink.close();
    Ok(TableState::of(sink.table, sink.segments))
}

/// The shard's records of a share into a [`Table`], noting the runs they come in.
struct ShareSink<'a> {
    table: Table,
    share: &'a Share,
    spec: ShardSpec,
    exact_limit: usize,
    labels: bool,
    /// The part whose records are coming, once one was announced.
    started: Option<u32>,
    part: u32,
    /// Records of the current part so far, this shard's or not.
    in_part: u64,
    /// The open segment: where it is, and each column's count of numbers when it opened.
    open: Option<((u32, u64), Vec<u64>)>,
    segments: Vec<Segment>,
}

fn numbers_of(table: &Table) -> Vec<u64> {
    table.columns.iter().map(|c| c.ints + c.floats).collect()
}

impl ShareSink<'_> {
    /// Where record `index` of the current part sits: shards of a file's range in shard order, part files in
    /// part order, blocks of records in their order within each part.
    fn at(&self, index: u64) -> (u32, u64) {
        let part = self.share.part_offset + self.part;
        match self.share.split {
            Split::Range => (0, u64::from(self.spec.index)),
            Split::Parts => (part, 0),
            Split::Records => (part, index / self.spec.block_rows.max(1)),
        }
    }

    fn close(&mut self) {
        if let Some((at, before)) = self.open.take() {
            let now = numbers_of(&self.table);
            let numbers = now
                .iter()
                .enumerate()
                .map(|(j, n)| n - before.get(j).copied().unwrap_or(0))
                .collect();
            self.segments.push(Segment { at, numbers });
        }
    }
}

impl RecordSink for ShareSink<'_> {
    fn labels(&mut self, labels: Option<&[String]>) {
        // Parts repeat the header: the first one names the columns.
        if !std::mem::replace(&mut self.labels, true) {
            self.table.labels(labels);
        }
    }

    fn begin_part(&mut self, index: u32) {
        // The threaded reader announces the part again with every batch: only a new part counts from 0.
        if self.started != Some(index) {
            self.started = Some(index);
            self.part = index;
            self.in_part = 0;
        }
    }

    fn record(&mut self, record: &Record<'_>) {
        let index = match self.share.split {
            Split::Range => record.row,
            _ => self.in_part,
        };
        self.in_part += 1;
        if !self.share.mine(self.spec, index) {
            return;
        }
        let at = self.at(index);
        if self.open.as_ref().map(|o| o.0) != Some(at) {
            self.close();
            self.open = Some((at, numbers_of(&self.table)));
        }
        self.table.record(record, self.exact_limit);
    }
}

impl TableState {
    /// A shard's table, before [`Column::finish`]: exact values still in row order.
    fn of(table: Table, segments: Vec<Segment>) -> TableState {
        let mut values = vec![];
        let columns = table
            .columns
            .into_iter()
            .map(|c| {
                let (state, v) = ColumnState::of(c);
                values.push(v);
                state
            })
            .collect();
        TableState {
            rows: table.rows,
            columns,
            segments,
            values,
        }
    }

    /// Writes the columns' values (f64 little-endian), `offset` values after the section's start, and notes
    /// where each column's are. Returns the values written.
    fn write_values(&mut self, out: &mut dyn Write, offset: u64) -> std::io::Result<u64> {
        let mut at = offset;
        for (col, values) in self
            .columns
            .iter_mut()
            .zip(std::mem::take(&mut self.values))
        {
            col.offset = at;
            col.len = values.len() as u64;
            for x in &values {
                out.write_all(&x.to_le_bytes())?;
            }
            at += col.len;
        }
        Ok(at - offset)
    }
}

impl ColumnState {
    fn of(mut c: Column) -> (ColumnState, Vec<f64>) {
        let mut texts_seen: Vec<(String, u64)> = c
            .texts_seen
            .iter()
            .map(|(t, n)| (t.to_string(), *n))
            .collect();
        // Sorted, so that a partial does not depend on hash order.
        texts_seen.sort_unstable();
        let (numbers, values) = match std::mem::replace(&mut c.numbers, Numbers::Exact(vec![])) {
            Numbers::Exact(v) => (NumbersState::Exact, v),
            Numbers::Sketch(s) => sketch_state(&c, &s),
            Numbers::Weighted { .. } => (NumbersState::Exact, vec![]),
        };
        let state = ColumnState {
            name: c.name,
            nulls: c.nulls,
            ints: c.ints,
            floats: c.floats,
            bools: c.bools,
            texts: c.texts,
            bools_seen: c.bools_seen,
            texts_seen,
            overflow: c.overflow,
            offset: 0,
            len: 0,
            numbers,
        };
        (state, values)
    }
}

fn sketch_state(c: &Column, s: &Sketch) -> (NumbersState, Vec<f64>) {
    let (levels, meta) = s.parts();
    let mut nums_seen: Vec<(u64, u64)> = c
        .nums_seen
        .iter()
        .map(|(k, n)| (k.0.to_bits(), *n))
        .collect();
    nums_seen.sort_unstable();
    let state = NumbersState::Sketch {
        levels: levels.iter().map(|l| l.len() as u64).collect(),
        count: meta.count,
        rank_error: meta.rank_error.to_bits(),
        min: meta.min.to_bits(),
        max: meta.max.to_bits(),
        flip: meta.flip,
        sum: c.sum.to_bits(),
        sumsq: c.sumsq.to_bits(),
        nums_seen,
    };
    (state, levels.concat())
}

/// Writes the values of both sides of a dataset's drift state as one section of a shard's side file, `offset`
/// bytes into it, and returns where the section is (its SHA-256 goes into the partial's digest).
pub fn write_section(
    sides: [&mut TableState; 2],
    out: &mut dyn Write,
    offset: u64,
) -> std::io::Result<Section> {
    let mut hashing = HashingWriter {
        out,
        hash: Sha256::new(),
        bytes: 0,
    };
    let mut count = 0;
    for side in sides {
        count += side.write_values(&mut hashing, count)?;
    }
    Ok(Section {
        offset,
        len: hashing.bytes,
        count,
        sha256: hex(&hashing.hash.finalize()),
    })
}

struct HashingWriter<'a> {
    out: &'a mut dyn Write,
    hash: Sha256,
    bytes: u64,
}

impl Write for HashingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A shard's section of its side file, checked against the SHA-256 its partial holds, then read by column.
pub struct SideFile {
    file: std::fs::File,
    shown: String,
    section: Section,
}

impl SideFile {
    pub fn open(path: &Path, section: &Section) -> Result<SideFile, String> {
        let shown = path.display().to_string();
        let mut file = std::fs::File::open(path).map_err(|e| {
            format!("could not read {shown}, the drift values of its partial report: {e}")
        })?;
        let changed = || {
            format!(
                "{shown}: its drift values do not match the SHA-256 its partial report holds: the side file was \
                 changed (or another shard's) after `mlgate check --shard` wrote it"
            )
        };
        file.seek(SeekFrom::Start(section.offset))
            .map_err(|_| changed())?;
        let mut hash = Sha256::new();
        let got = std::io::copy(
            &mut (&mut file).take(section.len),
            &mut HashWriter(&mut hash),
        )
        .map_err(|_| changed())?;
        if got != section.len || hex(&hash.finalize()) != section.sha256 {
            return Err(changed());
        }
        Ok(SideFile {
            file,
            shown,
            section: section.clone(),
        })
    }

    /// `len` values from value `at` of the section.
    fn values(&mut self, at: u64, len: u64) -> Result<Vec<f64>, String> {
        let bad = || format!("{}: its drift values end early", self.shown);
        if (at + len) * 8 > self.section.len {
            return Err(bad());
        }
        self.file
            .seek(SeekFrom::Start(self.section.offset + at * 8))
            .map_err(|_| bad())?;
        let mut bytes = vec![0u8; (len * 8) as usize];
        self.file.read_exact(&mut bytes).map_err(|_| bad())?;
        Ok(bytes
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            .collect())
    }
}

struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The table one run would have collected from all shards' states of one side (in shard order) and their side
/// files. `Err` says why the states do not fit together.
pub fn merge_tables(
    shards: &[&TableState],
    files: &mut [SideFile],
    exact_limit: usize,
) -> Result<Table, String> {
    let widest = shards
        .iter()
        .max_by_key(|s| s.columns.len())
        .ok_or("no shard to merge")?;
    let names: Vec<&str> = widest.columns.iter().map(|c| c.name.as_str()).collect();
    for s in shards {
        if s.columns.iter().zip(&names).any(|(c, n)| c.name != *n) {
            return Err("the shards read different columns".into());
        }
    }
    // Every shard's segments, in dataset order.
    let mut order: Vec<((u32, u64), usize, usize)> = vec![];
    for (i, s) in shards.iter().enumerate() {
        order.extend(s.segments.iter().enumerate().map(|(k, g)| (g.at, i, k)));
    }
    order.sort_by_key(|o| o.0);
    let mut table = Table {
        rows: shards.iter().map(|s| s.rows).sum(),
        columns: vec![],
    };
    for (j, name) in names.iter().enumerate() {
        let mut col = Column::new(name.to_string());
        add_counts(&mut col, shards, j);
        replay(&mut col, shards, files, &order, j, exact_limit)?;
        col.finish();
        table.columns.push(col);
    }
    Ok(table)
}

/// The counts and distinct values of column `j`, which do not depend on the order of the records. A text new
/// past [`super::columns::MAX_DISTINCT`] distinct values is not kept and marks the column overflowed, as in one
/// run: which texts are kept then differs from one run's (that depends on the order), but the report does not,
/// since an overflowed column is not tested as categorical and a numeric one's histogram, bins and test selection
/// use the overflow flag, not the values (only a `chisquare` or `z` test forced on it counts the values kept).
fn add_counts(col: &mut Column, shards: &[&TableState], j: usize) {
    for c in shards.iter().filter_map(|s| s.columns.get(j)) {
        col.nulls += c.nulls;
        col.ints += c.ints;
        col.floats += c.floats;
        col.bools += c.bools;
        col.texts += c.texts;
        col.bools_seen[0] += c.bools_seen[0];
        col.bools_seen[1] += c.bools_seen[1];
        col.overflow |= c.overflow;
        for (t, n) in &c.texts_seen {
            col.add_text(t, *n);
        }
    }
}

/// Column `j`'s numbers in dataset order: each segment's values through [`Column::value`], or at its first
/// segment a shard's sketch. A shard's values are read when first needed and dropped when replayed.
fn replay(
    col: &mut Column,
    shards: &[&TableState],
    files: &mut [SideFile],
    order: &[((u32, u64), usize, usize)],
    j: usize,
    exact_limit: usize,
) -> Result<(), String> {
    let mut loaded: Vec<Option<(Vec<f64>, usize)>> = vec![None; shards.len()];
    let mut absorbed = vec![false; shards.len()];
    for &(_, i, k) in order {
        let Some(c) = shards[i].columns.get(j) else {
            continue;
        };
        if let NumbersState::Sketch { .. } = c.numbers {
            if !std::mem::replace(&mut absorbed[i], true) {
                absorb_sketch(col, c, &mut files[i])?;
            }
            continue;
        }
        let n = shards[i].segments[k].numbers.get(j).copied().unwrap_or(0) as usize;
        if loaded[i].is_none() {
            loaded[i] = Some((files[i].values(c.offset, c.len)?, 0));
        }
        let Some((values, at)) = loaded[i].as_mut() else {
            continue;
        };
        let run = values
            .get(*at..*at + n)
            .ok_or("a shard's segments hold more numbers than its side file")?;
        for &x in run {
            col.value(x, exact_limit);
        }
        *at += n;
        if *at == values.len() {
            loaded[i] = Some((vec![], 0));
        }
    }
    Ok(())
}

/// A shard's sketch of column `c`: merged into the column's (which becomes a sketch if it was exact, as one
/// run's does at the limit), with its sums, range and counted numbers.
fn absorb_sketch(col: &mut Column, c: &ColumnState, file: &mut SideFile) -> Result<(), String> {
    let NumbersState::Sketch {
        levels,
        count,
        rank_error,
        min,
        max,
        flip,
        sum,
        sumsq,
        nums_seen,
    } = &c.numbers
    else {
        return Ok(());
    };
    let values = file.values(c.offset, c.len)?;
    let mut parts = vec![];
    let mut at = 0usize;
    for &n in levels {
        let level = values
            .get(at..at + n as usize)
            .ok_or("a shard's sketch holds more values than its side file")?;
        parts.push(level.to_vec());
        at += n as usize;
    }
    let meta = SketchMeta {
        count: *count,
        rank_error: f64::from_bits(*rank_error),
        min: f64::from_bits(*min),
        max: f64::from_bits(*max),
        flip: *flip,
    };
    let sketch = Sketch::from_parts(parts, meta);
    col.sum += f64::from_bits(*sum);
    col.sumsq += f64::from_bits(*sumsq);
    col.min = col.min.min(meta.min);
    col.max = col.max.max(meta.max);
    if let Numbers::Exact(v) = &mut col.numbers {
        let kept = std::mem::take(v);
        let mut s = Sketch::default();
        kept.iter().for_each(|&y| s.insert(y));
        col.numbers = Numbers::Sketch(Box::new(s));
        kept.into_iter().for_each(|y| col.count_num(y));
    }
    if let Numbers::Sketch(s) = &mut col.numbers {
        s.merge(&sketch);
    }
    for &(bits, n) in nums_seen {
        col.add_num(OrdF64(f64::from_bits(bits)), n);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(names: &[&str], values: &[f64]) -> TableState {
        let mut table = Table {
            columns: names.iter().map(|n| Column::new(n.to_string())).collect(),
            ..Table::default()
        };
        for &x in values {
            table.rows += 1;
            table.columns[0].ints += 1;
            table.columns[0].value(x, 1000);
        }
        let segment = Segment {
            at: (0, 1),
            numbers: vec![values.len() as u64],
        };
        TableState::of(table, vec![segment])
    }

    /// Writes `states` to one side file, a section each, and opens them for the merge.
    fn files(dir: &Path, states: &mut [TableState]) -> Vec<SideFile> {
        let path = dir.join("p.drift");
        let mut bytes = vec![];
        let mut sections = vec![];
        for st in states.iter_mut() {
            let mut empty = TableState::default();
            let at = bytes.len() as u64;
            sections.push(write_section([st, &mut empty], &mut bytes, at).unwrap());
        }
        std::fs::write(&path, &bytes).unwrap();
        sections
            .iter()
            .map(|s| SideFile::open(&path, s).unwrap())
            .collect()
    }

    #[test]
    fn shards_replay_to_one_columns_values() {
        let dir = tempfile::tempdir().unwrap();
        let mut states = [state(&["x"], &[3.0, 1.0]), state(&["x"], &[2.0])];
        states[1].segments[0].at = (0, 2);
        let mut f = files(dir.path(), &mut states);
        let refs: Vec<&TableState> = states.iter().collect();
        let t = merge_tables(&refs, &mut f, 1000).unwrap();
        assert_eq!(t.rows, 3);
        assert_eq!(t.columns[0].sorted().0, [1.0, 2.0, 3.0]);
        assert_eq!(t.columns[0].sum, 6.0);
    }

    #[test]
    fn states_that_do_not_fit_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let mut states = [state(&["x"], &[1.0]), state(&["y"], &[2.0])];
        let mut f = files(dir.path(), &mut states);
        let refs: Vec<&TableState> = states.iter().collect();
        let e = merge_tables(&refs, &mut f, 1000).unwrap_err();
        assert!(e.contains("different columns"), "{e}");
        // A segment that claims more numbers than the side file holds.
        let mut states = [state(&["x"], &[1.0])];
        let mut f = files(dir.path(), &mut states);
        states[0].segments[0].numbers[0] = 5;
        states[0].columns[0].len = 5;
        let refs: Vec<&TableState> = states.iter().collect();
        let e = merge_tables(&refs, &mut f, 1000).unwrap_err();
        assert!(e.contains("end early"), "{e}");
        states[0].columns[0].len = 1;
        let refs: Vec<&TableState> = states.iter().collect();
        let e = merge_tables(&refs, &mut f, 1000).unwrap_err();
        assert!(e.contains("more numbers than its side file"), "{e}");
    }

    #[test]
    fn a_side_file_that_is_short_or_changed_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = state(&["x"], &[1.0, 2.0]);
        let mut empty = TableState::default();
        let mut bytes = vec![];
        let section = write_section([&mut st, &mut empty], &mut bytes, 0).unwrap();
        let path = dir.path().join("p.drift");
        std::fs::write(&path, &bytes[..8]).unwrap();
        let e = SideFile::open(&path, &section).err().unwrap();
        assert!(e.contains("do not match the SHA-256"), "{e}");
        let e = SideFile::open(&dir.path().join("none.drift"), &section)
            .err()
            .unwrap();
        assert!(e.contains("could not read"), "{e}");
    }
}
