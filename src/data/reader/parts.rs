//! Partitioned datasets: a folder or a glob of files of one format, read one after the other as one table.
//!
//! The files are taken in sorted order, so every run (and every shard) sees the same sequence. Folder segments of
//! the form `key=value` (Hive-style partitions) become columns appended to each record, after the file's own
//! columns; every part must have the same partition keys and the same header as the first. Each part keeps its
//! own positions: findings name the part file and its line and row.

use std::path::{Path, PathBuf};

use super::{Format, ReadStats, Record, RecordSink, Source, TextRecord};
use crate::data::DataError;

/// One file of a partitioned dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub path: PathBuf,
    /// The name used in findings (the path as found).
    pub display: String,
    /// The Hive partition values of the file's folders, in folder order.
    pub hive: Vec<(String, String)>,
}

/// What Hive writes for a null partition value.
const HIVE_NULL: &str = "__HIVE_DEFAULT_PARTITION__";

/// Whether `path` names several files: a glob pattern or a folder.
pub fn is_partitioned(path: &Path) -> bool {
    is_pattern(path) || path.is_dir()
}

pub(super) fn is_pattern(path: &Path) -> bool {
    path.to_string_lossy().contains(['*', '?', '['])
}

/// The parts `path` (a folder or a glob) names, sorted, and their one format. A folder keeps the files whose
/// format its name tells, `.txt` aside (skipping names starting with `_` or `.`, such as Spark's `_SUCCESS`); a glob keeps every
/// file it matches. Nothing found, or files of two formats, is an error.
pub fn expand(path: &Path, format: Option<Format>) -> Result<(Vec<Part>, Format), DataError> {
    let shown = path.display().to_string();
    let (base, files) = if is_pattern(path) {
        (pattern_base(path), glob_files(path, &shown)?)
    } else {
        let mut files = vec![];
        walk(path, &mut files).map_err(|err| DataError::Io {
            path: shown.clone(),
            err,
        })?;
        files.retain(|f| is_data_file(f));
        (path.to_path_buf(), files)
    };
    let mut files = files;
    files.sort();
    let Some(first) = files.first() else {
        return Err(DataError::NoParts { pattern: shown });
    };
    let format = match format.or_else(|| Format::from_path(first)) {
        Some(f) => f,
        None => {
            return Err(DataError::Format {
                path: first.display().to_string(),
                message: "cannot tell the format from the file name".into(),
                help: Some("name the format: `format:` in mlgate.yml (or --data-format)".into()),
            })
        }
    };
    let mut parts = Vec::with_capacity(files.len());
    for f in files {
        if let Some(other) = Format::from_path(&f).filter(|g| !same_format(*g, format)) {
            return Err(DataError::Format {
                path: f.display().to_string(),
                message: format!(
                    "is {other:?} but the dataset `{shown}` is {format:?}: the parts of a dataset have one format"
                ),
                help: Some("narrow the pattern (e.g. `data/*.csv`) or move the other files".into()),
            });
        }
        let hive = hive_values(f.strip_prefix(&base).unwrap_or(&f));
        parts.push(Part {
            display: f.display().to_string(),
            path: f,
            hive,
        });
    }
    check_keys(&parts)?;
    Ok((parts, format))
}

/// A file a folder's dataset takes: its name tells a data format. `.txt`, which names CSV when given as a path,
/// is left out here: a folder's notes are not a part.
fn is_data_file(path: &Path) -> bool {
    let txt = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("txt"));
    !txt && Format::from_path(path).is_some()
}

/// CSV and TSV differ only in their delimiter: a `.txt` part of a TSV dataset is not a second format.
fn same_format(a: Format, b: Format) -> bool {
    a == b
        || matches!(
            (a, b),
            (Format::Csv, Format::Tsv) | (Format::Tsv, Format::Csv)
        )
}

/// Every part has the partition keys of the first, in the same order.
fn check_keys(parts: &[Part]) -> Result<(), DataError> {
    let keys = |p: &Part| p.hive.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    let Some(first) = parts.first() else {
        return Ok(());
    };
    let want = keys(first);
    for p in parts {
        let got = keys(p);
        if got != want {
            return Err(DataError::Format {
                path: p.display.clone(),
                message: format!(
                    "its partition folders are [{}] but {} has [{}]",
                    got.join(", "),
                    first.display,
                    want.join(", ")
                ),
                help: Some(
                    "every part of a dataset sits under the same `key=value/` folders".into(),
                ),
            });
        }
    }
    Ok(())
}

/// The folder a pattern's matches are relative to: its path before the first wildcard.
pub(super) fn pattern_base(path: &Path) -> PathBuf {
    let mut base = PathBuf::new();
    for c in path.components() {
        if c.as_os_str().to_string_lossy().contains(['*', '?', '[']) {
            break;
        }
        base.push(c);
    }
    base
}

#[cfg(feature = "full")]
fn glob_files(path: &Path, shown: &str) -> Result<Vec<PathBuf>, DataError> {
    let paths = glob::glob(&path.to_string_lossy()).map_err(|e| DataError::Format {
        path: shown.to_string(),
        message: format!("not a valid glob pattern: {}", e.msg),
        help: Some("patterns use *, ?, [abc] and ** (any folders)".into()),
    })?;
    Ok(paths
        .filter_map(Result::ok)
        .filter(|p| p.is_file())
        .collect())
}

/// The device build has no glob matching: a pattern names no file.
#[cfg(not(feature = "full"))]
fn glob_files(_path: &Path, _shown: &str) -> Result<Vec<PathBuf>, DataError> {
    Ok(vec![])
}

/// Every file under `dir`, skipping hidden and `_`-prefixed names (markers such as `_SUCCESS`, `.crc` files).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// The `key=value` folder segments of a part's path (relative to the dataset's folder), the file name excluded.
fn hive_values(rel: &Path) -> Vec<(String, String)> {
    let Some(dirs) = rel.parent() else {
        return vec![];
    };
    dirs.components()
        .filter_map(|c| {
            let s = c.as_os_str().to_string_lossy();
            let (k, v) = s.split_once('=')?;
            if k.is_empty() {
                return None;
            }
            let v = if v == HIVE_NULL { "" } else { v };
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

type ReadFn = fn(&Source, &mut dyn RecordSink) -> Result<ReadStats, DataError>;

/// Reads every part of `source` with `read` into `sink`, as one table: the first part's labels (with the
/// partition keys) go to the sink, later parts must have the same; each part is announced with
/// [`RecordSink::begin_part`] before its records.
pub(super) fn read_all(
    source: &Source,
    sink: &mut dyn RecordSink,
    read: ReadFn,
) -> Result<ReadStats, DataError> {
    let mut total = ReadStats::default();
    let mut first: Option<(String, Option<Vec<String>>)> = None;
    for (i, part) in source.parts.iter().enumerate() {
        let one = Source {
            path: part.path.clone(),
            display: part.display.clone(),
            format: source.format,
            dialect: source.dialect.clone(),
            parts: vec![],
            origin: super::super::source::Origin::Local,
            window: None,
        };
        sink.begin_part(i as u32);
        let mut ps = PartSink {
            inner: &mut *sink,
            part,
            first: &mut first,
            mismatch: None,
            text: String::new(),
            ranges: vec![],
        };
        let stats = read(&one, &mut ps)?;
        if let Some(e) = ps.mismatch {
            return Err(e);
        }
        total.bytes += stats.bytes;
        total.records += stats.records;
    }
    Ok(total)
}

/// Between a part's reader and the dataset's sink: appends the partition values, and holds the part's header
/// against the first part's.
struct PartSink<'a> {
    inner: &'a mut dyn RecordSink,
    part: &'a Part,
    /// The first part's name and labels, once known.
    first: &'a mut Option<(String, Option<Vec<String>>)>,
    mismatch: Option<DataError>,
    /// Scratch for a text record with the partition values appended.
    text: String,
    ranges: Vec<(u32, u32)>,
}

impl RecordSink for PartSink<'_> {
    fn labels(&mut self, labels: Option<&[String]>) {
        let labels = labels.map(<[String]>::to_vec);
        match &*self.first {
            None => {
                let with_keys = labels.as_ref().map(|l| {
                    let mut all = l.clone();
                    all.extend(self.part.hive.iter().map(|(k, _)| k.clone()));
                    all
                });
                *self.first = Some((self.part.display.clone(), labels));
                self.inner.labels(with_keys.as_deref());
            }
            Some((name, want)) if *want != labels => {
                let show = |l: &Option<Vec<String>>| match l {
                    Some(l) => format!("[{}]", l.join(", ")),
                    None => "no header".into(),
                };
                self.mismatch = Some(DataError::Format {
                    path: self.part.display.clone(),
                    message: format!(
                        "its header {} differs from {}'s {}",
                        show(&labels),
                        name,
                        show(want)
                    ),
                    help: Some(
                        "every part of a dataset has the same columns in the same order".into(),
                    ),
                });
            }
            Some(_) => {}
        }
    }

    fn record(&mut self, record: &Record<'_>) {
        if self.mismatch.is_some() {
            return;
        }
        if self.part.hive.is_empty() {
            return self.inner.record(record);
        }
        let mut cells = record.cells.to_vec();
        cells.extend(
            self.part.hive.iter().map(|(_, v)| {
                crate::data::value::Cell::Text(std::borrow::Cow::Borrowed(v.as_str()))
            }),
        );
        self.inner.record(&Record {
            row: record.row,
            line: record.line,
            cells: &cells,
            // The appended cells are not in the line: their columns cannot be computed from the text.
            plain: false,
        });
    }

    fn text_record(&mut self, meta: TextRecord, text: &str, ranges: &[(u32, u32)]) {
        if self.mismatch.is_some() {
            return;
        }
        if self.part.hive.is_empty() {
            return self.inner.text_record(meta, text, ranges);
        }
        self.text.clear();
        self.text.push_str(text);
        self.ranges.clear();
        self.ranges.extend_from_slice(ranges);
        for (_, v) in &self.part.hive {
            let a = self.text.len() as u32;
            self.text.push_str(v);
            self.ranges.push((a, self.text.len() as u32));
        }
        let meta = TextRecord {
            plain: false,
            ..meta
        };
        self.inner.text_record(meta, &self.text, &self.ranges);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hive_segments_become_values_and_the_null_marker_is_empty() {
        let rel = Path::new("year=2024/month=__HIVE_DEFAULT_PARTITION__/x/part-0.csv");
        assert_eq!(
            hive_values(rel),
            vec![
                ("year".to_string(), "2024".to_string()),
                ("month".to_string(), String::new())
            ]
        );
        assert!(
            hive_values(Path::new("a=b.csv")).is_empty(),
            "the file name is not a partition"
        );
    }

    #[test]
    fn a_pattern_is_relative_to_its_folder_before_the_first_wildcard() {
        assert_eq!(
            pattern_base(Path::new("data/sales/*/part-*.csv")),
            PathBuf::from("data/sales")
        );
    }

    #[test]
    fn a_folder_expands_sorted_skipping_markers_and_unknown_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for (p, text) in [
            ("day=2/b.csv", "x\n1\n"),
            ("day=1/a.csv", "x\n1\n"),
            ("day=1/_SUCCESS", ""),
            ("day=1/.a.csv.crc", ""),
            ("README", "not data"),
            ("day=2/notes.txt", "not data either"),
        ] {
            let f = d.join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, text).unwrap();
        }
        let (parts, format) = expand(d, None).unwrap();
        assert_eq!(format, Format::Csv);
        let names: Vec<_> = parts
            .iter()
            .map(|p| p.path.strip_prefix(d).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            names,
            vec![PathBuf::from("day=1/a.csv"), PathBuf::from("day=2/b.csv")]
        );
        assert_eq!(parts[1].hive, vec![("day".into(), "2".into())]);
    }

    #[test]
    fn nothing_found_names_the_pattern() {
        let dir = tempfile::tempdir().unwrap();
        let e = expand(&dir.path().join("*.csv"), None).unwrap_err();
        assert!(e.to_string().contains("*.csv"), "{e}");
        assert!(e.to_string().contains("no data file"), "{e}");
    }

    #[test]
    fn two_formats_and_uneven_partitions_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a.csv"), "x\n1\n").unwrap();
        std::fs::write(d.join("b.jsonl"), "{\"x\":1}\n").unwrap();
        let e = expand(d, None).unwrap_err().to_string();
        assert!(e.contains("b.jsonl") && e.contains("one format"), "{e}");
        std::fs::remove_file(d.join("b.jsonl")).unwrap();
        std::fs::create_dir_all(d.join("k=1")).unwrap();
        std::fs::write(d.join("k=1/c.csv"), "x\n1\n").unwrap();
        let e = expand(d, None).unwrap_err().to_string();
        assert!(e.contains("partition folders"), "{e}");
    }
}
