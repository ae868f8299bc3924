//! Sharded checks: `mlgate check --shard I/N` writes a partial report, `mlgate merge` makes from all N of them
//! the report one unsharded `check` would have made.
//!
//! A partial report is a report (the checks that shard 1 runs whole: gate changes, drift, scans, model gates;
//! none in the other shards) plus a `shard` object: its index and count, the digest of the config, and for each
//! dataset the state of its validation ([`data::ShardState`]) with the digest of the data's file names and
//! sizes. The key checks that find repeats are in a side file, sorted by key (`partial-I-of-N.keys`), which the
//! merge reads as a stream. A digest over the checks and states (with each side file section's SHA-256) lets
//! the merge refuse a partial or side file changed after it was written.
//! Partials of another config, another N, other data, a missing or a repeated shard: refused, naming the files.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::check::{self, RunOptions, Slot};
use crate::config::Config;
use crate::data::{self, ShardSpec, ShardState, Source, ValidateOptions};
use crate::error::{Error, Result};
use crate::report::{Check, Report};

/// A dataset's share of a sharded check, with what the merge needs to finish it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatasetShard {
    pub subject: String,
    /// The dataset as findings name it, and its part files (empty for one file).
    pub display: String,
    pub parts: Vec<String>,
    /// The schema's text and the name its errors use: the merge parses it, and every shard must have the same.
    pub schema: String,
    pub schema_name: String,
    pub duplicate_rows: bool,
    pub max_findings: usize,
    /// The dataset is outside the repository: its values are not shown.
    pub hide: bool,
    /// SHA-256 of the data's file names and sizes.
    pub data: String,
    /// Where the data was read from, as one run's figures name it (an object store's URL, a DVC version).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origin: Vec<(String, serde_json::Value)>,
    pub state: ShardState,
}

impl DatasetShard {
    fn new(d: check::DatasetPart) -> DatasetShard {
        DatasetShard {
            subject: d.opts.subject.clone(),
            display: d.source.display.clone(),
            parts: d.source.parts.iter().map(|p| p.display.clone()).collect(),
            schema: d.schema_text,
            schema_name: d.schema_name,
            duplicate_rows: d.opts.duplicate_rows,
            max_findings: d.opts.max_findings,
            hide: d.hide,
            data: data_digest(&d.source),
            origin: data::source::figures(&d.source.origin),
            state: d.state,
        }
    }
}

/// The names and sizes of a dataset's files: cheap to take in every shard, and different when the shards did
/// not read the same data.
fn data_digest(source: &Source) -> String {
    let mut h = Sha256::new();
    let files: Vec<(&Path, &str)> = if source.parts.is_empty() {
        vec![(source.path.as_path(), source.display.as_str())]
    } else {
        source
            .parts
            .iter()
            .map(|p| (p.path.as_path(), p.display.as_str()))
            .collect()
    };
    for (path, name) in files {
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        h.update(name.as_bytes());
        h.update([0]);
        h.update(size.to_le_bytes());
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One place of the report in a partial: a check of shard 1's `checks` (the next one), or a dataset's state.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotState {
    Check,
    Dataset(Box<DatasetShard>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardInfo {
    pub index: u32,
    pub count: u32,
    /// Records per block when a file is split by records.
    pub block_rows: u64,
    /// SHA-256 of the config file.
    pub config: String,
    pub slots: Vec<SlotState>,
    /// SHA-256 of the checks and the slots as written.
    pub digest: String,
}

/// What `check --shard I/N` writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Partial {
    #[serde(flatten)]
    pub report: Report,
    pub shard: ShardInfo,
}

impl Partial {
    /// Compact: a partial holds a key check per row and key, and indentation would double its size.
    pub fn to_json(&self) -> String {
        // Plain data with string keys: serialising cannot fail.
        let mut s = serde_json::to_string(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The file name a shard writes its partial to.
    pub fn file_name(index: u32, count: u32) -> String {
        format!("partial-{index}-of-{count}.json")
    }

    /// Writes the partial to `dir`: first its side file of key checks (`partial-I-of-N.keys`, sorted by key, see
    /// [`data::write_key_runs`]), then the report, whose digest covers the side file's. Both are written to a
    /// temporary file, then renamed. Returns the report's path.
    pub fn write(mut self, dir: &Path) -> Result<PathBuf> {
        let path = dir.join(Self::file_name(self.shard.index, self.shard.count));
        let keys = keys_path(&path);
        let mut states: Vec<&mut ShardState> = self
            .shard
            .slots
            .iter_mut()
            .filter_map(|s| match s {
                SlotState::Dataset(d) => Some(&mut d.state),
                SlotState::Check => None,
            })
            .collect();
        crate::fsutil::write_atomic_with(&keys, |out| data::write_key_runs(&mut states, out))?;
        self.shard.digest = digest_of(&self.report.checks, &self.shard.slots);
        crate::fsutil::write_atomic(&path, self.to_json().as_bytes())?;
        Ok(path)
    }
}

/// The side file of key checks beside a partial report.
pub fn keys_path(partial: &Path) -> PathBuf {
    partial.with_extension("keys")
}

fn digest_of(checks: &[Check], slots: &[SlotState]) -> String {
    let bytes = serde_json::to_vec(&(checks, slots)).unwrap_or_default();
    hex(&Sha256::digest(&bytes))
}

/// Runs shard `spec.index` of `spec.count` of every gate of `config`.
pub fn run(config: &Config, run: &RunOptions, spec: ShardSpec) -> Result<Partial> {
    if spec.index == 0 || spec.index > spec.count {
        return Err(Error::Usage(format!(
            "--shard {}/{}: the shard is a number from 1 to {}",
            spec.index, spec.count, spec.count
        )));
    }
    let mut checks = vec![];
    let mut slots = vec![];
    for slot in check::run_slots(config, run, Some(spec))? {
        match slot {
            Slot::Check(c) => {
                checks.push(c);
                slots.push(SlotState::Check);
            }
            Slot::Dataset(d) => slots.push(SlotState::Dataset(Box::new(DatasetShard::new(d)))),
        }
    }
    let config_digest = std::fs::read(&config.path)
        .map(|b| hex(&Sha256::digest(&b)))
        .unwrap_or_default();
    let digest = digest_of(&checks, &slots);
    Ok(Partial {
        report: Report::new(checks),
        shard: ShardInfo {
            index: spec.index,
            count: spec.count,
            block_rows: spec.block_rows,
            config: config_digest,
            slots,
            digest,
        },
    })
}

/// Reads one partial report, refusing one that is not a partial or was changed after it was written.
pub fn read_partial(path: &Path) -> Result<Partial> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("could not read {shown}: {e}")))?;
    let partial: Partial = serde_json::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "{shown}: not a partial report of `mlgate check --shard I/N` ({e})"
        ))
    })?;
    if digest_of(&partial.report.checks, &partial.shard.slots) != partial.shard.digest {
        return Err(Error::Usage(format!(
            "{shown}: its checks or shard state do not match its digest: the partial report was changed after \
             `mlgate check --shard` wrote it"
        )));
    }
    Ok(partial)
}

/// The report one unsharded `check` would have made, from the partial reports of all its shards.
pub fn merge(paths: &[PathBuf]) -> Result<Report> {
    let mut partials = vec![];
    for p in paths {
        partials.push((p.display().to_string(), read_partial(p)?));
    }
    check_set(&mut partials)?;
    let owned: Vec<String> = partials.iter().map(|(n, _)| n.clone()).collect();
    let names: Vec<&str> = owned.iter().map(String::as_str).collect();
    let keys: Vec<PathBuf> = owned.iter().map(|n| keys_path(Path::new(n))).collect();
    let mut per_shard: Vec<std::vec::IntoIter<SlotState>> = partials
        .iter_mut()
        .map(|(_, p)| std::mem::take(&mut p.shard.slots).into_iter())
        .collect();
    let mut fixed = std::mem::take(&mut partials[0].1.report.checks).into_iter();
    let mut checks = vec![];
    let Some((first, others)) = per_shard.split_first_mut() else {
        return Err(Error::Usage(
            "merge needs at least one partial report".into(),
        ));
    };
    for slot in first.by_ref() {
        match slot {
            SlotState::Check => checks.extend(fixed.next()),
            SlotState::Dataset(d) => {
                let mut rest = vec![];
                for (i, o) in others.iter_mut().enumerate() {
                    match o.next() {
                        Some(SlotState::Dataset(other)) => rest.push(*other),
                        _ => {
                            return Err(Error::Usage(format!(
                                "{}: has no state of dataset `{}` where {} has one; the partials are of \
                                 different configs",
                                names[i + 1],
                                d.subject,
                                names[0]
                            )))
                        }
                    }
                }
                checks.extend(merge_dataset(*d, rest, &names, &keys)?);
            }
        }
    }
    if let Some(i) = others.iter_mut().position(|o| o.next().is_some()) {
        return Err(Error::Usage(format!(
            "{}: has more datasets than {}; the partials are of different configs",
            names[i + 1],
            names[0]
        )));
    }
    Ok(Report::new(checks))
}

/// All N shards of one run, each once, of one config: sorted by index, or an error naming the files.
fn check_set(partials: &mut [(String, Partial)]) -> Result<()> {
    let Some((name0, p0)) = partials.first() else {
        return Err(Error::Usage(
            "merge needs at least one partial report".into(),
        ));
    };
    let (count, rows, config) = (p0.shard.count, p0.shard.block_rows, p0.shard.config.clone());
    let name0 = name0.clone();
    for (name, p) in partials.iter() {
        let s = &p.shard;
        if s.count != count || s.block_rows != rows {
            return Err(Error::Usage(format!(
                "{name} is shard {}/{} (--shard-rows {}) but {name0} is of {count} shards (--shard-rows {rows}): \
                 merge the partials of one sharded check",
                s.index, s.count, s.block_rows
            )));
        }
        if s.config != config {
            return Err(Error::Usage(format!(
                "{name} and {name0} were checked with different configs: merge the partials of one sharded check"
            )));
        }
    }
    partials.sort_by_key(|(_, p)| p.shard.index);
    for w in partials.windows(2) {
        if w[0].1.shard.index == w[1].1.shard.index {
            return Err(Error::Usage(format!(
                "{} and {} are both shard {}/{count}",
                w[0].0, w[1].0, w[0].1.shard.index
            )));
        }
    }
    let have: Vec<u32> = partials.iter().map(|(_, p)| p.shard.index).collect();
    let missing: Vec<String> = (1..=count)
        .filter(|i| !have.contains(i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() || have.len() != count as usize {
        return Err(Error::Usage(format!(
            "missing shard {} of the {count} (given: {}): merge needs the partial report of every shard",
            missing.join(", "),
            partials
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(())
}

/// One dataset's checks from its state in every shard (`first` from shard 1, `rest` in shard order).
fn merge_dataset(
    first: DatasetShard,
    rest: Vec<DatasetShard>,
    names: &[&str],
    keys: &[PathBuf],
) -> Result<Vec<Check>> {
    for (i, o) in rest.iter().enumerate() {
        let same = o.subject == first.subject
            && o.display == first.display
            && o.parts == first.parts
            && o.schema == first.schema
            && o.duplicate_rows == first.duplicate_rows
            && o.max_findings == first.max_findings
            && o.hide == first.hide
            && o.origin == first.origin;
        if !same {
            return Err(Error::Usage(format!(
                "{}: dataset `{}` was checked otherwise than in {} (another config or schema): merge the partials \
                 of one sharded check",
                names[i + 1],
                first.subject,
                names[0]
            )));
        }
        if o.data != first.data || o.state.split != first.state.split {
            return Err(Error::Usage(format!(
                "{}: dataset `{}` is not the data {} read (file names or sizes differ): every shard must check \
                 the same commit",
                names[i + 1],
                first.subject,
                names[0]
            )));
        }
    }
    let schema = data::Schema::parse(&first.schema, &first.schema_name)?;
    let mut opts = ValidateOptions::new(&first.subject);
    opts.duplicate_rows = first.duplicate_rows;
    opts.max_findings = first.max_findings;
    let mut states = vec![first.state];
    states.extend(rest.into_iter().map(|d| d.state));
    let v = data::merge_shards(
        &first.display,
        &first.parts,
        Some(&schema),
        &opts,
        states,
        keys,
    )?;
    // As one run's validation: data read from elsewhere than the work tree says from where.
    Ok(v.checks
        .into_iter()
        .map(|mut c| {
            c.figures.extend(first.origin.iter().cloned());
            check::hidden_if(first.hide, c)
        })
        .collect())
}
