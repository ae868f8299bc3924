//! Where `check --shard I/N` cuts one file, so that each shard parses only its share.
//!
//! Parquet is cut between row groups (the footer says how many rows each holds). CSV, TSV and JSON Lines are cut
//! into byte ranges of about `size / N`, each moved forward to the next record boundary: for JSON Lines the byte
//! after a `\n`; for CSV the byte after the `\n` that ends a record outside quotes. Whether a `\n` is inside a
//! quoted field depends on the quoting from the file's start, so each shard scans the bytes before the end of its
//! share once, with `memchr` (no cell is parsed), following the quoting as `csv-core` does (a quote opens a field
//! at its start or right after a closing quote, `""` escapes). The scan also counts the lines and rows before the
//! cut, so findings name the line and row one run names.
//!
//! A file that cannot be cut this way is read whole by every shard, which then checks every Nth block of
//! records: gzip, UTF-16 and other encodings whose line ends are not the ASCII byte, remote text (its cut would
//! need every byte before it) and DVC-tracked data, a header row that is blank. Remote Parquet is cut by row
//! groups: a shard fetches the footer and its groups' byte ranges.

use std::io::Read;

use super::{Format, Source, Window};
use crate::data::source::Origin;
use crate::data::DataError;

/// The share of `source` that shard `index` (1-based) of `count` reads, or `None` when every shard reads it whole.
pub fn plan_window(source: &Source, index: u32, count: u32) -> Result<Option<Window>, DataError> {
    if !source.parts.is_empty() || index == 0 {
        return Ok(None);
    }
    match source.format {
        Format::Parquet => Ok(super::parquet::plan(source, index, count)),
        // Remote text is read whole: the cut needs the quoting of every byte before it.
        _ if !matches!(source.origin, Origin::Local) => Ok(None),
        Format::Csv | Format::Tsv | Format::Jsonl => text_window(source, index, count),
    }
}

/// How a text file's records end, for the scan.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// CSV quoting: the quote and delimiter bytes (`None` for JSON Lines and unquoted TSV).
    quote: Option<(u8, u8)>,
    /// CSV: the 1-based row of the header (0: none). JSON Lines' header is its first line (see [`jsonl_head`]).
    header_row: u64,
    /// JSON Lines: every `\n` ends a line; blank lines and CR are not rows of their own.
    jsonl: bool,
}

fn text_window(source: &Source, index: u32, count: u32) -> Result<Option<Window>, DataError> {
    let io = super::io_err(source);
    let mut file = std::fs::File::open(&source.path).map_err(&io)?;
    let len = file.metadata().map_err(&io)?.len();
    let mut head = [0u8; 4];
    let got = read_up_to(&mut file, &mut head).map_err(&io)?;
    let head = &head[..got];
    if len == 0 || !ascii_lines(source, head) {
        return Ok(None);
    }
    let bom = if head.starts_with(&[0xef, 0xbb, 0xbf]) {
        3
    } else {
        0
    };
    let layout = layout_of(source);
    let (i, n) = (u64::from(index - 1), u64::from(count.max(1)));
    let targets = (len * i / n, len * (i + 1) / n);
    // JSON Lines: the first line gives the labels (`prefix`), and the first shard's records start at `first`.
    let (prefix, first) = if layout.jsonl {
        match jsonl_head(&source.path, source.dialect.header).map_err(&io)? {
            Some(head) => head,
            None => return Ok(None),
        }
    } else {
        (0, 0)
    };
    let file =
        std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&source.path).map_err(&io)?);
    let Some(cuts) = Scan::new(layout, bom)
        .run(file, targets, first, len)
        .map_err(&io)?
    else {
        return Ok(None);
    };
    let end = if index == count { len } else { cuts.end };
    if layout.jsonl {
        let (start, lines) = if index == 1 {
            (first, lines_in(&source.path, first).map_err(&io)?)
        } else {
            (cuts.start.0, cuts.start.1)
        };
        return Ok(Some(Window::Bytes {
            prefix,
            start,
            end,
            lines,
            rows: 0,
        }));
    }
    let (start, lines, rows) = if index == 1 { cuts.header } else { cuts.start };
    Ok(Some(Window::Bytes {
        prefix: cuts.header.0,
        start,
        end,
        lines,
        rows,
    }))
}

fn read_up_to(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// Whether the file's line ends, quotes and delimiters are the ASCII bytes: not gzip, not UTF-16, and an
/// encoding that keeps ASCII as it is (UTF-8, latin1, windows-1252, Shift_JIS, ...).
fn ascii_lines(source: &Source, head: &[u8]) -> bool {
    if head.starts_with(&[0x1f, 0x8b])
        || head.starts_with(&[0xff, 0xfe])
        || head.starts_with(&[0xfe, 0xff])
    {
        return false;
    }
    match source.dialect.encoding.as_deref() {
        None => true,
        Some(label) => encoding_rs::Encoding::for_label(label.as_bytes())
            .is_some_and(|e| e.is_ascii_compatible() && e.output_encoding() == e),
    }
}

fn layout_of(source: &Source) -> Layout {
    let d = &source.dialect;
    if source.format == Format::Jsonl {
        return Layout {
            quote: None,
            header_row: 0,
            jsonl: true,
        };
    }
    let tsv = source.format == Format::Tsv;
    let delimiter = d.delimiter.unwrap_or(if tsv { '\t' } else { ',' });
    let quote = d.quote_char.unwrap_or('"');
    let quoting = (!tsv || d.quote_char.is_some()) && delimiter.is_ascii() && quote.is_ascii();
    Layout {
        quote: quoting.then_some((quote as u8, delimiter as u8)),
        header_row: if d.header {
            d.header_row.unwrap_or(1)
        } else {
            0
        },
        jsonl: false,
    }
}

/// The first non-blank line of a JSON Lines file: the bytes through its `\n` (the prefix every shard reads for
/// the labels), and where the first shard's records start (0 for an object, which is a record too; after it for
/// a header array). `None` when it is not a JSON object or array: every shard reads the file whole, and the
/// reader names the error.
fn jsonl_head(path: &std::path::Path, header: bool) -> std::io::Result<Option<(u64, u64)>> {
    use std::io::BufRead;
    let mut input = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut consumed = 0u64;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = input.read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        consumed += n as u64;
        let text = String::from_utf8_lossy(&buf);
        let text = text.trim_start_matches('\u{feff}');
        if text.trim().is_empty() {
            continue;
        }
        return Ok(match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(_)) => Some((consumed, 0)),
            Ok(serde_json::Value::Array(_)) if header => Some((consumed, consumed)),
            Ok(serde_json::Value::Array(_)) => Some((0, 0)),
            _ => None,
        });
    }
}

/// The `\n`s in the file's first `upto` bytes (JSON Lines' first line and the blank lines before it).
fn lines_in(path: &std::path::Path, upto: u64) -> std::io::Result<u64> {
    let mut bytes = vec![];
    std::fs::File::open(path)?
        .take(upto)
        .read_to_end(&mut bytes)?;
    Ok(memchr::memchr_iter(b'\n', &bytes).count() as u64)
}

/// The cuts a shard needs: (byte, lines before, rows before) at the header's end and at its start; its end byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cuts {
    header: (u64, u64, u64),
    start: (u64, u64, u64),
    end: u64,
}

/// The end of a line outside quotes: the byte after it, the lines and rows before that byte, whether the line
/// held a record (else it was blank), and whether a cut may fall there (a `\n` ended it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct End {
    at: u64,
    lines: u64,
    rows: u64,
    record: bool,
    cut: bool,
}

/// The scan of a text file's record boundaries from its start.
struct Scan {
    layout: Layout,
    /// Bytes before the first one to scan (a UTF-8 BOM, which the reader drops).
    skip: u64,
    lines: u64,
    rows: u64,
    /// Empty lines since the last record: rows once a record follows.
    empty: u64,
    in_quotes: bool,
    /// Where the last quoted field closed (the byte after its quote), for `""`.
    closed_at: u64,
    /// The first byte of the current line (outside quotes: of the current record).
    line_start: u64,
    /// A `\r` that ended a line, waiting to see whether a `\n` follows: its position and its [`End`] (none
    /// inside quotes).
    cr: Option<(u64, Option<End>)>,
    /// The byte before the current chunk.
    prev: Option<u8>,
    /// A record has been seen.
    content: bool,
}

impl Scan {
    fn new(layout: Layout, skip: u64) -> Scan {
        Scan {
            layout,
            skip,
            lines: 0,
            rows: 0,
            empty: 0,
            in_quotes: false,
            closed_at: u64::MAX,
            line_start: skip,
            cr: None,
            prev: None,
            content: false,
        }
    }

    /// Scans until the first cut at or after `targets.1` (or the end of the file). Cuts fall at or after
    /// `floor` (JSON Lines: where the first shard starts) and after the header. `None` when the file cannot be
    /// cut (a blank header row, a header that does not end with `\n`, no record at all).
    fn run(
        mut self,
        file: impl Read,
        targets: (u64, u64),
        floor: u64,
        len: u64,
    ) -> std::io::Result<Option<Cuts>> {
        let mut input = file;
        let mut header = (self.layout.header_row == 0).then_some((self.skip, 0, 0));
        let mut start = None;
        let mut end = None;
        let mut base = 0u64;
        let mut chunk = vec![0u8; 1 << 20];
        let mut ends = vec![];
        'read: loop {
            let n = input.read(&mut chunk)?;
            ends.clear();
            if n == 0 {
                self.flush_cr(&mut ends);
            } else {
                let from = self.skip.saturating_sub(base).min(n as u64) as usize;
                self.ends(&chunk[..n], base, from, &mut ends);
                self.prev = chunk[..n].last().copied();
                base += n as u64;
            }
            for e in &ends {
                let Some(h) = header else {
                    if !e.record || e.rows < self.layout.header_row {
                        continue;
                    }
                    if e.rows != self.layout.header_row || !e.cut {
                        return Ok(None);
                    }
                    header = Some((e.at, e.lines, e.rows));
                    continue;
                };
                if !e.cut || e.at < h.0.max(floor) {
                    continue;
                }
                if start.is_none() && e.at >= targets.0 {
                    start = Some((e.at, e.lines, e.rows));
                }
                if e.at >= targets.1 {
                    end = Some(e.at);
                    break 'read;
                }
            }
            if n == 0 {
                break;
            }
        }
        if end.is_none() && len > self.line_start && !self.in_quotes {
            // The last record, without a line end.
            self.content = true;
        }
        let Some(header) = header.filter(|_| self.content) else {
            return Ok(None);
        };
        Ok(Some(Cuts {
            header,
            start: start.unwrap_or((len, self.lines, self.rows)),
            end: end.unwrap_or(len),
        }))
    }

    /// A `\r` not followed by `\n`: its line end is known now, and no cut falls after it.
    fn flush_cr(&mut self, out: &mut Vec<End>) {
        if let Some((_, Some(e))) = self.cr.take() {
            out.push(e);
        }
    }

    /// The line ends in `bytes` (at offset `base` in the file, from index `from`), into `out`.
    fn ends(&mut self, bytes: &[u8], base: u64, from: usize, out: &mut Vec<End>) {
        let (quote, delimiter) = self.layout.quote.unwrap_or((b'\n', b'\n'));
        let hits: Box<dyn Iterator<Item = usize>> = if self.layout.jsonl {
            Box::new(memchr::memchr_iter(b'\n', &bytes[from..]).map(|i| i + from))
        } else {
            Box::new(memchr::memchr3_iter(quote, b'\n', b'\r', &bytes[from..]).map(|i| i + from))
        };
        for i in hits {
            let at = base + i as u64;
            let b = bytes[i];
            match self.cr {
                Some((cr, e)) if b == b'\n' && cr + 1 == at => {
                    // The `\n` of a CRLF: the line ended at its `\r`, and a cut may fall after the pair.
                    self.cr = None;
                    if let Some(e) = e {
                        self.line_start = at + 1;
                        out.push(End {
                            at: at + 1,
                            cut: e.record,
                            ..e
                        });
                    }
                    continue;
                }
                Some(_) => self.flush_cr(out),
                None => {}
            }
            if b == b'\n' || b == b'\r' {
                let end = self.line_end(at);
                if b == b'\r' {
                    self.cr = Some((at, end.map(|e| End { cut: false, ..e })));
                } else if let Some(e) = end {
                    out.push(e);
                }
                continue;
            }
            // `quote` (CSV with quoting only).
            let prev = if at == self.skip {
                None
            } else if i > 0 {
                Some(bytes[i - 1])
            } else {
                self.prev
            };
            if self.in_quotes {
                self.in_quotes = false;
                self.closed_at = at + 1;
            } else if self.closed_at == at
                || prev.is_none_or(|p| p == delimiter || p == b'\n' || p == b'\r')
            {
                self.in_quotes = true;
            }
        }
    }

    /// A line end at `at`: counts the line and, outside quotes, the record's row (with the blank lines' before
    /// it). `None` inside quotes.
    fn line_end(&mut self, at: u64) -> Option<End> {
        self.lines += 1;
        if self.in_quotes {
            return None;
        }
        let record = at > self.line_start;
        self.line_start = at + 1;
        if record {
            self.content = true;
            if !self.layout.jsonl {
                self.rows += self.empty + 1;
            }
            self.empty = 0;
        } else if !self.layout.jsonl {
            self.empty += 1;
        }
        Some(End {
            at: at + 1,
            lines: self.lines,
            rows: self.rows,
            record,
            // JSON Lines: any `\n` is a boundary; CSV: the end of a record.
            cut: record || self.layout.jsonl,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv_layout(header_row: u64) -> Layout {
        Layout {
            quote: Some((b'"', b',')),
            header_row,
            jsonl: false,
        }
    }

    /// Every cut of `text` with the lines and rows before it, scanned in chunks of `step` bytes.
    fn all_cuts(layout: Layout, text: &[u8], step: usize) -> Vec<(u64, u64, u64)> {
        let mut scan = Scan::new(layout, 0);
        let mut ends = vec![];
        for (k, chunk) in text.chunks(step).enumerate() {
            scan.ends(chunk, (k * step) as u64, 0, &mut ends);
            scan.prev = chunk.last().copied();
        }
        scan.flush_cr(&mut ends);
        ends.iter()
            .filter(|e| e.cut)
            .map(|e| (e.at, e.lines, e.rows))
            .collect()
    }

    /// The same cuts whatever the chunks the file is read in.
    fn cuts_in_any_chunks(layout: Layout, text: &[u8]) -> Vec<(u64, u64, u64)> {
        let whole = all_cuts(layout, text, text.len());
        for step in 1..text.len() {
            assert_eq!(all_cuts(layout, text, step), whole, "chunks of {step}");
        }
        whole
    }

    #[test]
    fn quoted_newlines_are_not_cuts_and_rows_count_records() {
        // A quoted newline, a blank line (a row once a record follows), `""` escapes around a quoted newline,
        // a quote inside an unquoted field (text), CRLF (a cut after the pair) and a lone CR (no cut).
        let text = b"a,b\n1,\"x\ny\"\n\n2,\"\"\"q\n\"\n3,b\"c\n4,5\r\n6,7\r8,9\n";
        assert_eq!(
            cuts_in_any_chunks(csv_layout(1), text),
            [
                (4, 1, 1),
                (12, 3, 2),
                (22, 6, 4),
                (28, 7, 5),
                (33, 8, 6),
                (41, 10, 8)
            ]
        );
    }

    #[test]
    fn a_quote_inside_an_unquoted_field_is_text() {
        let text = b"x,b\"c\ny,z\n";
        assert_eq!(
            cuts_in_any_chunks(csv_layout(0), text),
            [(6, 1, 1), (10, 2, 2)]
        );
    }

    #[test]
    fn json_lines_cut_after_every_newline() {
        let layout = Layout {
            quote: None,
            header_row: 0,
            jsonl: true,
        };
        let text = b"{\"a\": \"x\\n\"}\n\n{\"a\": 2}\n";
        assert_eq!(
            cuts_in_any_chunks(layout, text),
            [(13, 1, 0), (14, 2, 0), (23, 3, 0)]
        );
    }

    #[test]
    fn a_blank_header_row_or_no_record_is_not_cut() {
        let run = |text: &[u8], header_row| {
            Scan::new(csv_layout(header_row), 0)
                .run(text, (0, text.len() as u64 / 2), 0, text.len() as u64)
                .unwrap()
        };
        assert_eq!(run(b"\na,b\n1,2\n", 1), None);
        assert_eq!(run(b"\n\n", 0), None);
        assert_eq!(
            run(b"a,b\r1,2\n", 1),
            None,
            "the header ends with a lone CR"
        );
        let cuts = run(b"skip\na,b\n1,2\n3,4\n", 2).unwrap();
        assert_eq!(cuts.header, (9, 2, 2));
        assert_eq!(cuts.start, (13, 3, 3));
        assert_eq!(cuts.end, 13);
    }
}
