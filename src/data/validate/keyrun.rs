//! Sorted runs of key checks: how a sharded check finds the unique fields, primary keys, unique keys and
//! duplicate rows that repeat across shards in bounded memory.
//!
//! Each shard sorts its key checks by (check, key, record) and writes them to a side file next to its partial
//! report (`partial-I-of-N.keys`), one section per dataset. The merge reads the N sections at once, one entry of
//! each in memory, and merges them (a k-way merge): equal keys of one check come out together, in record
//! order, so the first is the row one run remembered and every later one is a repeat of it. Of the repeats, the
//! merge keeps only what the report can show: the first `max_findings` in record order and the first of each
//! check (so the counts are in the order one run meets them); the rest are counted.
//!
//! An entry, little-endian: check `u8` (0 unique field, 1 primary key, 2 unique key, 4 duplicate row), the
//! field or key index `u32`, key kind `u8` (0 integer, 1 fingerprint) and value `u128`, the record's part `u32`
//! and index `u64`, its row `u64`, line and column `u64` (`u64::MAX`: none), and the text a finding shows
//! (`u32` length, UTF-8). A section's SHA-256 is in the partial report, under its digest, so a changed side
//! file is refused.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::keys::{Hit, Site};
use super::seen::Key;
use super::KeyKind;

/// A record's place in the dataset: its part and its index among the part's records (or its row).
pub(super) type Pos = (u32, u64);

/// The order of a record's key checks in one run: unique fields by field, the primary key, unique keys by key,
/// foreign keys, the duplicate row.
pub(super) type Rank = (u8, u32);

/// What the side file sorts by: the check, the key, the record.
type Order = (Rank, (u8, u128), Pos);

pub(super) fn rank(kind: &KeyKind) -> Rank {
    match *kind {
        KeyKind::Unique(fi, _) => (0, fi as u32),
        KeyKind::PkEmpty | KeyKind::Pk(_) => (1, 0),
        KeyKind::UniqueKey(k, _) => (2, k as u32),
        KeyKind::FkRef(k, _) | KeyKind::FkOwn(k, _) => (3, k as u32),
        KeyKind::DuplicateRow(_) => (4, 0),
    }
}

/// The key of a check that remembers first sightings, as the entries sort it; `None` for the other checks
/// (an empty primary key, foreign keys), which stay in the partial report.
pub(super) fn sorted_key(kind: &KeyKind) -> Option<(u8, u128)> {
    let of = |k: &Key| match *k {
        Key::Int(i) => (0u8, u128::from(i as u64)),
        Key::Fp(f) => (1u8, f),
    };
    match kind {
        KeyKind::Unique(_, k) | KeyKind::Pk(k) | KeyKind::UniqueKey(_, k) => Some(of(k)),
        KeyKind::DuplicateRow(f) => Some((1, *f)),
        KeyKind::PkEmpty | KeyKind::FkRef(..) | KeyKind::FkOwn(..) => None,
    }
}

/// One key check of a shard, as the side file holds it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Entry {
    pub(super) rank: Rank,
    pub(super) key: (u8, u128),
    pub(super) at: Pos,
    pub(super) site: Site,
}

impl Entry {
    fn order(&self) -> Order {
        (self.rank, self.key, self.at)
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.rank.0);
        out.extend_from_slice(&self.rank.1.to_le_bytes());
        out.push(self.key.0);
        out.extend_from_slice(&self.key.1.to_le_bytes());
        out.extend_from_slice(&self.at.0.to_le_bytes());
        out.extend_from_slice(&self.at.1.to_le_bytes());
        out.extend_from_slice(&self.site.row.to_le_bytes());
        for v in [self.site.line, self.site.column] {
            out.extend_from_slice(&v.unwrap_or(u64::MAX).to_le_bytes());
        }
        out.extend_from_slice(&(self.site.shown.len() as u32).to_le_bytes());
        out.extend_from_slice(self.site.shown.as_bytes());
    }
}

/// Where a dataset's entries are in a shard's side file, and their digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub offset: u64,
    pub len: u64,
    pub count: u64,
    pub sha256: String,
}

impl Default for Section {
    /// No entry (the SHA-256 of nothing).
    fn default() -> Section {
        Section {
            offset: 0,
            len: 0,
            count: 0,
            sha256: hex(&Sha256::digest([])),
        }
    }
}

/// Sorts `entries` and appends them to `out` (at byte `offset`): the section they make.
pub(super) fn write_section(
    entries: &mut [Entry],
    out: &mut dyn Write,
    offset: u64,
) -> std::io::Result<Section> {
    entries.sort_by_key(Entry::order);
    let mut h = Sha256::new();
    let mut buf = Vec::with_capacity(1 << 16);
    let mut len = 0u64;
    for e in entries.iter() {
        e.encode(&mut buf);
        if buf.len() >= 1 << 16 {
            h.update(&buf);
            out.write_all(&buf)?;
            len += buf.len() as u64;
            buf.clear();
        }
    }
    h.update(&buf);
    out.write_all(&buf)?;
    len += buf.len() as u64;
    Ok(Section {
        offset,
        len,
        count: entries.len() as u64,
        sha256: hex(&h.finalize()),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads one shard's section back, entry by entry, checking its order and, at its end, its digest.
struct Run {
    input: BufReader<Box<dyn Read>>,
    hash: Sha256,
    left: u64,
    want: String,
    shown: String,
    last: Option<Order>,
    /// The section was read to its end and its digest checked.
    done: bool,
}

impl Run {
    fn open(path: &Path, section: &Section) -> Result<Run, String> {
        let shown = path.display().to_string();
        // A shard with no such key check needs no side file (partials of a dataset without keys).
        let input: Box<dyn Read> = if section.count == 0 && section.len == 0 {
            Box::new(std::io::empty())
        } else {
            let mut file =
                std::fs::File::open(path).map_err(|e| format!("could not read {shown}: {e}"))?;
            file.seek(SeekFrom::Start(section.offset))
                .map_err(|e| format!("could not read {shown}: {e}"))?;
            Box::new(file.take(section.len))
        };
        Ok(Run {
            input: BufReader::with_capacity(1 << 16, input),
            hash: Sha256::new(),
            left: section.count,
            want: section.sha256.clone(),
            shown,
            last: None,
            done: false,
        })
    }

    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut b = [0u8; N];
        self.input
            .read_exact(&mut b)
            .map_err(|e| self.changed(&e.to_string()))?;
        self.hash.update(b);
        Ok(b)
    }

    fn changed(&self, why: &str) -> String {
        format!(
            "{}: the side file of key checks does not match its partial report ({why}): it was changed or \
             replaced after `mlgate check --shard` wrote it",
            self.shown
        )
    }

    /// The next entry, or `None` at the section's end (after its digest was checked).
    fn next(&mut self) -> Result<Option<Entry>, String> {
        if self.done {
            return Ok(None);
        }
        if self.left == 0 {
            self.done = true;
            let mut rest = [0u8; 1];
            let extra = self
                .input
                .read(&mut rest)
                .map_err(|e| self.changed(&e.to_string()))?;
            let got = hex(&std::mem::take(&mut self.hash).finalize());
            if extra != 0 || got != self.want {
                return Err(self.changed("its SHA-256 differs"));
            }
            return Ok(None);
        }
        self.left -= 1;
        let rank = (self.bytes::<1>()?[0], u32::from_le_bytes(self.bytes()?));
        let key = (self.bytes::<1>()?[0], u128::from_le_bytes(self.bytes()?));
        let at = (
            u32::from_le_bytes(self.bytes()?),
            u64::from_le_bytes(self.bytes()?),
        );
        let row = u64::from_le_bytes(self.bytes()?);
        let opt = |v: u64| (v != u64::MAX).then_some(v);
        let line = opt(u64::from_le_bytes(self.bytes()?));
        let column = opt(u64::from_le_bytes(self.bytes()?));
        let n = u32::from_le_bytes(self.bytes()?) as usize;
        let mut text = vec![0u8; n.min(1 << 20)];
        if n > text.len() {
            return Err(self.changed("a value longer than 1 MiB"));
        }
        self.input
            .read_exact(&mut text)
            .map_err(|e| self.changed(&e.to_string()))?;
        self.hash.update(&text);
        let shown =
            String::from_utf8(text).map_err(|_| self.changed("a value that is not UTF-8"))?;
        let e = Entry {
            rank,
            key,
            at,
            site: Site {
                row,
                line,
                column,
                shown,
            },
        };
        if self.last.is_some_and(|l| l > e.order()) {
            return Err(self.changed("its entries are not sorted"));
        }
        self.last = Some(e.order());
        Ok(Some(e))
    }
}

/// A repeat the merge found: where it is, and the finding's [`Hit`] with its record's [`Site`].
#[derive(Debug, Clone)]
pub(super) struct Repeat {
    pub(super) at: Pos,
    pub(super) rank: Rank,
    pub(super) hit: Hit,
    pub(super) site: Site,
}

impl Repeat {
    fn order(&self) -> (Pos, Rank) {
        (self.at, self.rank)
    }
}

impl PartialEq for Repeat {
    fn eq(&self, other: &Self) -> bool {
        self.order() == other.order()
    }
}
impl Eq for Repeat {}
impl PartialOrd for Repeat {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Repeat {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.order().cmp(&other.order())
    }
}

/// What the k-way merge found: the repeats to replay (sorted by record), and per check how many repeats it
/// found in all.
pub(super) struct Repeats {
    pub(super) kept: Vec<Repeat>,
    pub(super) totals: Vec<(Rank, u64)>,
}

/// Merges the sorted runs of every shard (`sections[i]` of the side file `paths[i]`): the repeats, of which it
/// keeps the first `keep` in record order and the first of each check. `global_row` makes a row as the keys
/// remember it (with its part).
pub(super) fn merge_runs(
    paths: &[&Path],
    sections: &[&Section],
    keep: usize,
    global_row: &dyn Fn(Pos, u64) -> u64,
) -> Result<Repeats, String> {
    let mut runs = vec![];
    for (p, s) in paths.iter().zip(sections) {
        runs.push(Run::open(p, s)?);
    }
    let mut heads: BinaryHeap<Reverse<(Order, usize)>> = BinaryHeap::new();
    let mut current: Vec<Option<Entry>> = vec![None; runs.len()];
    for (i, r) in runs.iter_mut().enumerate() {
        if let Some(e) = r.next()? {
            heads.push(Reverse((e.order(), i)));
            current[i] = Some(e);
        }
    }
    // The first `keep` repeats in record order (a max-heap, the latest on top), and the first of each check.
    let mut kept: BinaryHeap<Repeat> = BinaryHeap::new();
    let mut firsts: HashMap<Rank, Repeat> = HashMap::new();
    let mut totals: HashMap<Rank, u64> = HashMap::new();
    // The check and key of the entries coming out, and the row where it was first seen.
    let mut group: Option<(Rank, (u8, u128), u64)> = None;
    while let Some(Reverse((_, i))) = heads.pop() {
        let Some(e) = current[i].take() else { break };
        if let Some(next) = runs[i].next()? {
            heads.push(Reverse((next.order(), i)));
            current[i] = Some(next);
        }
        let first = match group {
            Some((rank, key, first)) if (rank, key) == (e.rank, e.key) => first,
            _ => {
                group = Some((e.rank, e.key, global_row(e.at, e.site.row)));
                continue;
            }
        };
        let hit = match e.rank.0 {
            0 => Hit::Unique(e.rank.1 as usize, first),
            1 => Hit::Pk(first),
            2 => Hit::UniqueKey(e.rank.1 as usize, first),
            _ => Hit::DuplicateRow(first),
        };
        let mut site = e.site;
        if e.key.0 == 0 && matches!(e.rank.0, 1 | 2) && site.shown.is_empty() {
            // A primary or unique key of one integer field shows the integer, which the entry holds (the shard
            // did not write its text).
            site.shown = (e.key.1 as u64 as i64).to_string();
        }
        let r = Repeat {
            at: e.at,
            rank: e.rank,
            hit,
            site,
        };
        *totals.entry(r.rank).or_insert(0) += 1;
        match firsts.get(&r.rank) {
            Some(f) if f.order() <= r.order() => {}
            _ => {
                firsts.insert(r.rank, r.clone());
            }
        }
        if kept.len() < keep {
            kept.push(r);
        } else if kept.peek().is_some_and(|top| r < *top) {
            kept.pop();
            kept.push(r);
        }
    }
    // Every run read to its end: its digest is checked there.
    for r in &mut runs {
        while r.next()?.is_some() {}
    }
    let mut kept = kept.into_vec();
    for f in firsts.into_values() {
        if !kept.iter().any(|k| k.order() == f.order()) {
            kept.push(f);
        }
    }
    kept.sort();
    let mut totals: Vec<(Rank, u64)> = totals.into_iter().collect();
    totals.sort_unstable();
    Ok(Repeats { kept, totals })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(rank: Rank, key: u128, at: Pos, row: u64, shown: &str) -> Entry {
        Entry {
            rank,
            key: (1, key),
            at,
            site: Site {
                row,
                line: Some(row - 1),
                column: None,
                shown: shown.into(),
            },
        }
    }

    fn write_runs(dir: &Path, runs: Vec<Vec<Entry>>) -> Vec<(std::path::PathBuf, Section)> {
        runs.into_iter()
            .enumerate()
            .map(|(i, mut entries)| {
                let path = dir.join(format!("{i}.keys"));
                let mut file = std::fs::File::create(&path).unwrap();
                file.write_all(b"head").unwrap();
                let s = write_section(&mut entries, &mut file, 4).unwrap();
                (path, s)
            })
            .collect()
    }

    fn merge(runs: &[(std::path::PathBuf, Section)], keep: usize) -> Result<Repeats, String> {
        let paths: Vec<&Path> = runs.iter().map(|r| r.0.as_path()).collect();
        let sections: Vec<&Section> = runs.iter().map(|r| &r.1).collect();
        merge_runs(&paths, &sections, keep, &|_, row| row)
    }

    #[test]
    fn repeats_across_runs_name_the_first_row_and_the_first_few_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        // Key 7 on rows 2 (shard 1), 5 and 9 (shard 2), 6 (shard 3); key 8 on rows 3 and 4; a duplicate row.
        let runs = write_runs(
            dir.path(),
            vec![
                vec![
                    entry((1, 0), 7, (0, 0), 2, "a"),
                    entry((1, 0), 8, (0, 1), 3, "b"),
                ],
                vec![
                    entry((1, 0), 7, (0, 7), 9, "c"),
                    entry((1, 0), 8, (0, 2), 4, "d"),
                    entry((1, 0), 7, (0, 3), 5, "e"),
                ],
                vec![
                    entry((1, 0), 7, (0, 4), 6, "f"),
                    entry((4, 0), 1, (0, 4), 6, ""),
                ],
            ],
        );
        let got = merge(&runs, 10).unwrap();
        let seen: Vec<(u64, String)> = got
            .kept
            .iter()
            .map(|r| match r.hit {
                Hit::Pk(first) => (first, r.site.shown.clone()),
                _ => (0, r.site.shown.clone()),
            })
            .collect();
        assert_eq!(
            seen,
            [
                (3, "d".into()),
                (2, "e".into()),
                (2, "f".into()),
                (2, "c".into())
            ]
        );
        assert_eq!(got.totals, [((1, 0), 4)]);
        // Keeping 1: the earliest repeat, which is also the first of its check.
        let got = merge(&runs, 1).unwrap();
        assert_eq!(got.kept.len(), 1);
        assert_eq!(got.kept[0].site.row, 4);
        assert_eq!(got.totals, [((1, 0), 4)]);
    }

    #[test]
    fn a_changed_or_missing_side_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let runs = write_runs(
            dir.path(),
            vec![vec![
                entry((0, 2), 7, (0, 0), 2, "a"),
                entry((0, 2), 7, (0, 1), 3, "b"),
            ]],
        );
        assert!(merge(&runs, 10).is_ok());
        let mut bytes = std::fs::read(&runs[0].0).unwrap();
        let last = bytes.len() - 1;
        bytes[last] = b'z';
        std::fs::write(&runs[0].0, &bytes).unwrap();
        let e = merge(&runs, 10).err().unwrap();
        assert!(
            e.contains("0.keys: the side file of key checks does not match"),
            "{e}"
        );
        bytes.truncate(last);
        std::fs::write(&runs[0].0, &bytes).unwrap();
        let e = merge(&runs, 10).err().unwrap();
        assert!(e.contains("does not match"), "{e}");
        std::fs::remove_file(&runs[0].0).unwrap();
        let e = merge(&runs, 10).err().unwrap();
        assert!(e.contains("could not read"), "{e}");
    }
}
