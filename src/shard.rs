//! Sharded checks: `mlgate check --shard I/N` writes a partial report, `mlgate merge` makes from all N of them
//! the report one unsharded `check` would have made.
//!
//! A partial report is a report (the checks that shard 1 runs whole: gate changes, scans, model gates; none in
//! the other shards) plus a `shard` object: its index and count, the digest of the config, and for each dataset
//! the state of its validation ([`data::ShardState`]) with the digest of the data's file names and sizes, and of
//! its drift ([`DriftShard`]: both sides' columns, their numbers in a side file `partial-I-of-N.drift`). The key
//! checks that find repeats are in a side file, sorted by key (`partial-I-of-N.keys`), which the merge reads as
//! a stream. A digest over the checks and states (with each side file section's SHA-256) lets
//! the merge refuse a partial or side file changed after it was written.
//! Partials of another config, another N, other data, a missing or a repeated shard: refused, naming the files.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::check::{self, RunOptions, Slot};
use crate::config::Config;
use crate::data::drift::{self, shard::TableState, DriftOptions};
use crate::data::{self, Section, ShardSpec, ShardState, Source, ValidateOptions};
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

/// A dataset's drift in one shard: its share of both sides' columns, with what the merge needs to finish it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DriftShard {
    pub subject: String,
    pub sides: drift::Sides,
    /// SHA-256 of both sides' file names and sizes.
    pub data: String,
    pub schema: String,
    pub schema_name: String,
    pub hide: bool,
    pub options: DriftSpec,
    pub reference: TableState,
    pub current: TableState,
    /// Where the sides' numbers are in the side file `partial-I-of-N.drift`.
    #[serde(default)]
    pub values: Section,
}

/// [`DriftOptions`] as a partial holds them (every shard must have the same).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftSpec {
    pub drift_share: f64,
    pub exclude: Vec<String>,
    pub columns: Vec<(String, Option<drift::Test>, Option<f64>)>,
    pub exact_limit: usize,
}

impl DriftSpec {
    fn of(o: &DriftOptions) -> DriftSpec {
        DriftSpec {
            drift_share: o.drift_share,
            exclude: o.exclude.clone(),
            columns: o
                .columns
                .iter()
                .map(|(n, c)| (n.clone(), c.test, c.threshold))
                .collect(),
            exact_limit: o.exact_limit,
        }
    }

    fn options(&self, subject: &str) -> DriftOptions {
        let mut o = DriftOptions::new(subject);
        o.drift_share = self.drift_share;
        o.exclude = self.exclude.clone();
        o.exact_limit = self.exact_limit;
        for (name, test, threshold) in &self.columns {
            let c = drift::ColumnOptions {
                test: *test,
                threshold: *threshold,
            };
            o.columns.insert(name.clone(), c);
        }
        o
    }
}

impl DriftShard {
    /// Collects this shard's share of `current` and of `reference` (on two threads, as one run reads them).
    pub(crate) fn collect(
        reference: &Source,
        current: &Source,
        schema: &str,
        schema_name: String,
        opts: &DriftOptions,
        hide: bool,
        spec: ShardSpec,
    ) -> Result<DriftShard> {
        let limit = opts.exact_limit;
        let (r, c) = std::thread::scope(|s| {
            let rh = s.spawn(|| drift::shard::collect_share(reference, spec, limit));
            let c = drift::shard::collect_share(current, spec, limit);
            let r = rh.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            (r, c)
        });
        Ok(DriftShard {
            subject: opts.subject.clone(),
            sides: drift::Sides::of(reference, current),
            data: format!("{} {}", data_digest(reference), data_digest(current)),
            schema: schema.to_string(),
            schema_name,
            hide,
            options: DriftSpec::of(opts),
            reference: r?,
            current: c?,
            values: Section::default(),
        })
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
    Drift(Box<DriftShard>),
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
                _ => None,
            })
            .collect();
        crate::fsutil::write_atomic_with(&keys, |out| data::write_key_runs(&mut states, out))?;
        crate::fsutil::write_atomic_with(&drift_path(&path), |out| {
            write_drift_values(&mut self.shard.slots, out)
        })?;
        self.shard.digest = digest_of(&self.report.checks, &self.shard.slots);
        crate::fsutil::write_atomic(&path, self.to_json().as_bytes())?;
        Ok(path)
    }
}

/// The side file of key checks beside a partial report.
pub fn keys_path(partial: &Path) -> PathBuf {
    partial.with_extension("keys")
}

/// The side file of drift values beside a partial report.
pub fn drift_path(partial: &Path) -> PathBuf {
    partial.with_extension("drift")
}

/// Every dataset's drift values, a section each, noting in each state where its section is.
fn write_drift_values(
    slots: &mut [SlotState],
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut offset = 0;
    for slot in slots {
        if let SlotState::Drift(d) = slot {
            let sides = [&mut d.reference, &mut d.current];
            d.values = drift::shard::write_section(sides, out, offset)?;
            offset += d.values.len;
        }
    }
    Ok(())
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
            Slot::Drift(d) => slots.push(SlotState::Drift(d)),
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
                let rest = same_slots(others, &names, &d.subject, |o| match o {
                    SlotState::Dataset(o) => Some(*o),
                    _ => None,
                })?;
                checks.extend(merge_dataset(*d, rest, &names, &keys)?);
            }
            SlotState::Drift(d) => {
                let rest = same_slots(others, &names, &d.subject, |o| match o {
                    SlotState::Drift(o) => Some(*o),
                    _ => None,
                })?;
                let drifts: Vec<PathBuf> = owned.iter().map(|n| drift_path(Path::new(n))).collect();
                checks.push(merge_drift(*d, rest, &names, &drifts)?);
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

/// The next slot of every other shard, of the kind `take` takes, or an error naming the partial that has none.
fn same_slots<T>(
    others: &mut [std::vec::IntoIter<SlotState>],
    names: &[&str],
    subject: &str,
    take: impl Fn(SlotState) -> Option<T>,
) -> Result<Vec<T>> {
    let mut rest = vec![];
    for (i, o) in others.iter_mut().enumerate() {
        match o.next().and_then(&take) {
            Some(t) => rest.push(t),
            None => {
                return Err(Error::Usage(format!(
                    "{}: has no state of dataset `{subject}` where {} has one; the partials are of different \
                     configs",
                    names[i + 1],
                    names[0]
                )))
            }
        }
    }
    Ok(rest)
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

/// One dataset's drift check from its state in every shard (`first` from shard 1, `rest` in shard order) and the
/// shards' side files of drift values.
fn merge_drift(
    first: DriftShard,
    rest: Vec<DriftShard>,
    names: &[&str],
    files: &[PathBuf],
) -> Result<Check> {
    for (i, o) in rest.iter().enumerate() {
        let same = o.subject == first.subject
            && o.sides == first.sides
            && o.schema == first.schema
            && o.hide == first.hide
            && o.options == first.options;
        if !same || o.data != first.data {
            return Err(Error::Usage(format!(
                "{}: the drift of dataset `{}` was checked otherwise than in {} (another config, schema or data): \
                 merge the partials of one sharded check",
                names[i + 1],
                first.subject,
                names[0]
            )));
        }
    }
    let mut all = vec![first];
    all.extend(rest);
    let mut side_files = vec![];
    for (d, path) in all.iter().zip(files) {
        side_files.push(drift::shard::SideFile::open(path, &d.values).map_err(Error::Usage)?);
    }
    let first = &all[0];
    let limit = first.options.exact_limit;
    let bad = |side: &str, m: String| {
        Error::Usage(format!(
            "the {side} data of dataset `{}`'s drift: {m}; merge the partials of one sharded check",
            first.subject
        ))
    };
    let refs: Vec<&TableState> = all.iter().map(|d| &d.reference).collect();
    let r = drift::shard::merge_tables(&refs, &mut side_files, limit)
        .map_err(|m| bad("reference", m))?;
    let curs: Vec<&TableState> = all.iter().map(|d| &d.current).collect();
    let c =
        drift::shard::merge_tables(&curs, &mut side_files, limit).map_err(|m| bad("current", m))?;
    let schema = data::Schema::parse(&first.schema, &first.schema_name)?;
    let opts = first.options.options(&first.subject);
    let check = drift::judge(r, c, &first.sides, Some(&schema), &opts)?;
    Ok(check::hidden_if(first.hide, check))
}
