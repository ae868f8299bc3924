//! Table readers. Each streams its file once and hands every record to a [`RecordSink`]; none keeps rows.
//!
//! Positions follow Frictionless: `row` is the record's number in the source with the header as row 1 (rows
//! skipped before the header count too); `line` is the physical line where the record starts (CSV, JSON Lines).

mod csv;
mod jsonl;
#[cfg(feature = "full")]
mod parquet;
#[cfg(not(feature = "full"))]
#[path = "parquet_off.rs"]
mod parquet;
mod parts;
mod pipeline;
#[cfg(feature = "full")]
mod window;

#[cfg(feature = "full")]
pub use window::plan_window;

pub use parts::Part;

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::value::Cell;
use super::DataError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Tsv,
    Jsonl,
    Parquet,
}

impl Format {
    /// Guesses the format from the file name (a `.gz` suffix is looked through).
    pub fn from_path(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        let ext = name.rsplit_once('.')?.1;
        Some(match ext {
            "csv" | "txt" => Format::Csv,
            "tsv" | "tab" => Format::Tsv,
            "jsonl" | "ndjson" => Format::Jsonl,
            "parquet" | "pq" => Format::Parquet,
            _ => return None,
        })
    }

    pub fn parse(s: &str) -> Option<Format> {
        Some(match s {
            "csv" => Format::Csv,
            "tsv" => Format::Tsv,
            "jsonl" | "ndjson" => Format::Jsonl,
            "parquet" => Format::Parquet,
            _ => return None,
        })
    }
}

/// How a delimited or line-based file is laid out (Frictionless' CSV dialect, the parts mlgate reads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Dialect {
    /// Field delimiter; `,` for CSV and tab for TSV when not given.
    #[serde(default)]
    pub delimiter: Option<char>,
    /// Quote character, `"` when not given.
    #[serde(default)]
    pub quote_char: Option<char>,
    /// Whether the file has a header row (default true).
    #[serde(default = "yes")]
    pub header: bool,
    /// The 1-based row that holds the header, when rows come before it (default 1).
    #[serde(default)]
    pub header_row: Option<u64>,
    /// Text encoding (any WHATWG label: `utf-8`, `latin1`, `windows-1252`, `utf-16le`, ...). Default UTF-8, with
    /// or without a byte-order mark.
    #[serde(default)]
    pub encoding: Option<String>,
}

fn yes() -> bool {
    true
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect {
            delimiter: None,
            quote_char: None,
            header: true,
            header_row: None,
            encoding: None,
        }
    }
}

/// A table to read: the file, its format and dialect.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    /// The name used in findings and messages (as the user wrote it).
    pub display: String,
    pub format: Format,
    pub dialect: Dialect,
    /// The files of a partitioned dataset (a folder or a glob), in reading order; empty for one file.
    pub parts: Vec<Part>,
    /// Where the bytes are: the local file, an object store, a DVC remote.
    pub origin: super::source::Origin,
    /// The share of the file a shard of `check --shard` reads (`None`: all of it).
    pub window: Option<Window>,
}

/// The share of one file that one shard of `check --shard I/N` reads ([`plan_window`] finds it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// CSV, TSV, JSON Lines: bytes `[0, prefix)` for the header only (their records are not handed over),
    /// then `[start, end)`, cut at record boundaries. `lines` line ends and `rows` rows come before `start`,
    /// so the records keep the lines and rows one reading of the whole file gives them.
    Bytes {
        prefix: u64,
        start: u64,
        end: u64,
        lines: u64,
        rows: u64,
    },
    /// Parquet: row groups `[start, end)`, after `rows` rows (the footer's counts of the groups before).
    RowGroups { start: u64, end: u64, rows: u64 },
}

impl Source {
    /// A source whose format is given or guessed from the name. A folder or a glob pattern is a partitioned
    /// dataset: its files are found here, and their format is the one given or guessed from the first.
    pub fn new(
        path: impl Into<PathBuf>,
        format: Option<Format>,
        dialect: Dialect,
    ) -> Result<Source, DataError> {
        let path = path.into();
        let display = path.display().to_string();
        let url = super::source::is_url(&display);
        // In a URL `?` starts a query (refused later, with its own message), so only `*` and `[` mark a glob.
        if url && display.contains(['*', '[']) {
            return Err(DataError::Remote {
                url: display,
                message: "a glob of objects is not read: object-store prefixes are not listed".into(),
                help: Some(
                    "name one object, or check the partitioned dataset from a local copy (a folder or a glob)".into(),
                ),
            });
        }
        if !url && parts::is_partitioned(&path) {
            let (parts, format) = parts::expand(&path, format)?;
            return Ok(Source {
                path,
                display,
                format,
                dialect,
                parts,
                // Partitioned datasets are local folders or globs: object-store prefixes are not listed.
                origin: super::source::Origin::Local,
                window: None,
            });
        }
        let format = match format.or_else(|| Format::from_path(&path)) {
            Some(f) => f,
            None => {
                return Err(DataError::Format {
                    path: display,
                    message: "cannot tell the format from the file name".into(),
                    help: Some("name the format: --data-format csv|tsv|jsonl|parquet (or `format:` in mlgate.yml)".into()),
                })
            }
        };
        let origin = super::source::resolve(&path)?;
        Ok(Source {
            path,
            display,
            format,
            dialect,
            parts: vec![],
            origin,
            window: None,
        })
    }
}

impl Source {
    /// The path that names the dataset in a report: a glob's folder before its first wildcard (`events` for
    /// `events/day-*.jsonl`), else the path itself.
    pub fn naming_path(&self) -> PathBuf {
        if parts::is_pattern(&self.path) {
            parts::pattern_base(&self.path)
        } else {
            self.path.clone()
        }
    }
}

/// One record as a reader hands it over.
#[derive(Debug)]
pub struct Record<'a> {
    pub row: u64,
    pub line: Option<u64>,
    pub cells: &'a [Cell<'a>],
    /// True when the record is one physical line with no quoting, so cell columns can be computed from the cells.
    pub plain: bool,
}

/// What readers feed. `labels` comes once, before any record (`None` when the file has no header).
pub trait RecordSink {
    fn labels(&mut self, labels: Option<&[String]>);
    fn record(&mut self, record: &Record<'_>);

    /// The records that follow come from part `index` of a partitioned source (its file names them).
    fn begin_part(&mut self, _index: u32) {}

    /// A record whose cells are all text: the record's text and each cell's byte range in it. Readers of text
    /// formats call this; a sink that stores text (the pipeline's batcher) takes it in one copy, the others get
    /// [`RecordSink::record`] with the cells built here.
    fn text_record(&mut self, meta: TextRecord, text: &str, ranges: &[(u32, u32)]) {
        let cells = text_cells(text, ranges);
        self.record(&Record {
            row: meta.row,
            line: meta.line,
            cells: &cells,
            plain: meta.plain,
        });
    }
}

/// The cells of a text record: each range of `text`, borrowed.
pub(crate) fn text_cells<'t>(text: &'t str, ranges: &[(u32, u32)]) -> Vec<Cell<'t>> {
    ranges.iter().map(|&r| text_cell(text, r)).collect()
}

/// One text cell: the range `a..b` of `text`, borrowed (empty if the range is not one of `text`).
#[inline]
pub(crate) fn text_cell(text: &str, (a, b): (u32, u32)) -> Cell<'_> {
    Cell::Text(std::borrow::Cow::Borrowed(
        text.get(a as usize..b as usize).unwrap_or(""),
    ))
}

/// The positions of a [`RecordSink::text_record`], as in [`Record`].
#[derive(Debug, Clone, Copy)]
pub struct TextRecord {
    pub row: u64,
    pub line: Option<u64>,
    pub plain: bool,
}

/// Reads the whole table into `sink`.
pub fn read(source: &Source, sink: &mut dyn RecordSink) -> Result<ReadStats, DataError> {
    let _bar = progress(source);
    match source.format {
        Format::Csv | Format::Tsv => pipeline::threaded(source, sink, csv_parts),
        Format::Jsonl => pipeline::threaded(source, sink, jsonl_parts),
        Format::Parquet => parquet_parts(source, sink),
    }
}

/// Each format's reader, looping over the parts of a partitioned source (a plain file is read as it is).
fn csv_parts(source: &Source, sink: &mut dyn RecordSink) -> Result<ReadStats, DataError> {
    in_parts(source, sink, csv::read)
}

fn jsonl_parts(source: &Source, sink: &mut dyn RecordSink) -> Result<ReadStats, DataError> {
    in_parts(source, sink, jsonl::read)
}

fn parquet_parts(source: &Source, sink: &mut dyn RecordSink) -> Result<ReadStats, DataError> {
    in_parts(source, sink, parquet::read)
}

fn in_parts(
    source: &Source,
    sink: &mut dyn RecordSink,
    read: fn(&Source, &mut dyn RecordSink) -> Result<ReadStats, DataError>,
) -> Result<ReadStats, DataError> {
    if source.parts.is_empty() {
        read(source, sink)
    } else {
        parts::read_all(source, sink, read)
    }
}

pub(crate) use pipeline::{Batch, BatchWorker, ParallelSink};

/// Reads the whole table into `sink`, with the per-record part of its work on `workers` threads where the format
/// is read on a thread of its own (CSV, TSV, JSON Lines); Parquet is read and consumed on this thread.
pub(crate) fn read_parallel<S: ParallelSink>(
    source: &Source,
    sink: &mut S,
    workers: usize,
) -> Result<ReadStats, DataError> {
    let _bar = progress(source);
    match source.format {
        Format::Csv | Format::Tsv => pipeline::parallel(source, sink, csv_parts, workers),
        Format::Jsonl => pipeline::parallel(source, sink, jsonl_parts, workers),
        Format::Parquet => parquet_parts(source, sink),
    }
}

/// A progress bar over the source's bytes on disk (shown on a terminal only, after a few seconds); the readers
/// report what they read through [`crate::progress::advance`].
fn progress(source: &Source) -> crate::progress::Task {
    if !crate::progress::enabled() {
        return crate::progress::Task::bytes("", None);
    }
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let total = if source.parts.is_empty() {
        size(&source.path)
    } else {
        source.parts.iter().map(|p| size(&p.path)).sum()
    };
    crate::progress::Task::bytes(&source.display, Some(total))
}

/// What a read measured.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadStats {
    pub bytes: u64,
    pub records: u64,
}

/// The common end of a text reader: an input with no record at all is an error, and a sink that never got labels
/// (no header) is told so before the read is reported.
pub(crate) fn finish(
    source: &Source,
    sink: &mut dyn RecordSink,
    labels_sent: bool,
    bytes: u64,
    records: u64,
) -> Result<ReadStats, DataError> {
    // A shard's share of a file may hold no record; whether the file does is the planner's to tell.
    if records == 0 && source.window.is_none() {
        return Err(DataError::Empty {
            path: source.display.clone(),
        });
    }
    if !labels_sent {
        sink.labels(None);
    }
    Ok(ReadStats { bytes, records })
}

pub(crate) fn io_err(source: &Source) -> impl Fn(std::io::Error) -> DataError + '_ {
    move |e| DataError::Io {
        path: source.display.clone(),
        err: e,
    }
}

/// Counts the bytes that pass through, for the report's figures.
pub(crate) struct Counting<R> {
    pub inner: R,
    pub count: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        crate::progress::advance(n as u64);
        Ok(n)
    }
}

/// The bytes of a local file's window: the header's `[0, prefix)`, then `[start, end)`.
fn window_bytes(
    source: &Source,
    prefix: u64,
    start: u64,
    end: u64,
) -> Result<Box<dyn Read + Send>, DataError> {
    use std::io::{Seek, SeekFrom};
    let head = std::fs::File::open(&source.path).map_err(io_err(source))?;
    let mut body = std::fs::File::open(&source.path).map_err(io_err(source))?;
    body.seek(SeekFrom::Start(start)).map_err(io_err(source))?;
    Ok(Box::new(
        head.take(prefix)
            .chain(body.take(end.saturating_sub(start))),
    ))
}

/// Opens a text source: gzip is recognised by its magic bytes, and the text is decoded to UTF-8 (a UTF-8 BOM is
/// dropped; invalid UTF-8 passes through so that the reader can say on which line it is).
pub(crate) fn open_text(
    source: &Source,
    counter: std::rc::Rc<std::cell::Cell<u64>>,
) -> Result<Box<dyn Read>, DataError> {
    let file = match source.window {
        Some(Window::Bytes {
            prefix, start, end, ..
        }) => window_bytes(source, prefix, start, end)?,
        _ => super::source::open(source)?,
    };
    let mut raw = BufReader::with_capacity(
        1 << 16,
        Counting {
            inner: file,
            count: counter,
        },
    );
    let gz = {
        use std::io::BufRead;
        let head = raw.fill_buf().map_err(io_err(source))?;
        head.starts_with(&[0x1f, 0x8b])
    };
    let plain: Box<dyn Read> = if gz {
        Box::new(flate2::read::MultiGzDecoder::new(raw))
    } else {
        Box::new(raw)
    };
    let encoding =
        match source.dialect.encoding.as_deref() {
            None => None,
            Some(label) => match encoding_rs::Encoding::for_label(label.as_bytes()) {
                Some(e) if e == encoding_rs::UTF_8 => None,
                Some(e) => Some(e),
                None => return Err(DataError::Format {
                    path: source.display.clone(),
                    message: format!("unknown encoding {label:?}"),
                    help: Some(
                        "use a WHATWG encoding label such as utf-8, latin1, windows-1252, utf-16le"
                            .into(),
                    ),
                }),
            },
        };
    let mut buffered = BufReader::with_capacity(1 << 16, plain);
    if encoding.is_none() {
        // UTF-8, the common case, needs no decoding layer (and its copy of every byte): only a UTF-8 BOM is
        // dropped. A UTF-16 BOM still goes through the decoder, which sniffs it.
        use std::io::BufRead;
        let head = buffered.fill_buf().map_err(io_err(source))?;
        let utf16 = head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]);
        if head.starts_with(&[0xef, 0xbb, 0xbf]) {
            buffered.consume(3);
        }
        if !utf16 {
            return Ok(Box::new(buffered));
        }
    }
    let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(encoding)
        .bom_sniffing(encoding.is_none())
        .strip_bom(true)
        .utf8_passthru(true)
        .build(buffered);
    Ok(Box::new(BufReader::with_capacity(1 << 16, decoded)))
}
