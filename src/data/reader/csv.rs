//! CSV and TSV, streamed with the `csv` crate.
//!
//! Two things the `csv` crate does not tell, and Frictionless needs, are recovered here: empty lines (which the
//! crate skips, but which are blank rows with their own row numbers) from gaps in the line numbers, and an
//! unterminated quote (which the crate reads to the end of the file) by following the quoting alongside.

use std::cell::Cell as Shared;
use std::io::Read;
use std::rc::Rc;

use super::{open_text, ReadStats, Record, RecordSink, Source, TextRecord};
use crate::data::DataError;

/// What the adapter saw, shared with the reading loop.
#[derive(Default)]
struct Seen {
    /// A quoted field was open when the input ended.
    in_quotes: Shared<bool>,
    /// Bytes handed to the parser (after line-end normalisation).
    emitted: Shared<u64>,
    /// The last byte handed to the parser.
    last: Shared<Option<u8>>,
}

/// Sits between the file and the CSV parser. It turns `\r\n` and lone `\r` line ends into `\n`, so that the
/// parser's line count is exact (csv-core leaves a CRLF's `\n` to the next record), and it follows quoting to
/// tell at the end whether a quote was left open.
struct LineAdapter<R> {
    inner: R,
    quote: Option<u8>,
    delimiter: u8,
    seen: Rc<Seen>,
    buf: Vec<u8>,
    /// A `\r` ended the previous chunk: a `\n` starting this one belongs to it.
    pending_cr: bool,
    prev: Option<u8>,
    just_closed: bool,
}

impl<R: Read> LineAdapter<R> {
    fn normalise(&mut self, n: usize, out: &mut [u8]) -> usize {
        let input = &self.buf[..n];
        let mut w = 0;
        let mut start = 0;
        if self.pending_cr && input.first() == Some(&b'\n') {
            start = 1;
        }
        self.pending_cr = false;
        let mut i = start;
        while let Some(off) = memchr::memchr(b'\r', &input[i..]) {
            let cr = i + off;
            out[w..w + cr - start].copy_from_slice(&input[start..cr]);
            w += cr - start;
            out[w] = b'\n';
            w += 1;
            if cr + 1 < n {
                start = if input[cr + 1] == b'\n' {
                    cr + 2
                } else {
                    cr + 1
                };
            } else {
                self.pending_cr = true;
                start = n;
            }
            i = start;
            if i >= n {
                break;
            }
        }
        if start < n {
            out[w..w + n - start].copy_from_slice(&input[start..n]);
            w += n - start;
        }
        w
    }

    fn track_quotes(&mut self, chunk: &[u8]) {
        let Some(quote) = self.quote else { return };
        let mut in_q = self.seen.in_quotes.get();
        let mut closed_at: Option<usize> = None;
        for i in memchr::memchr_iter(quote, chunk) {
            let prev = if i == 0 {
                self.prev
            } else {
                Some(chunk[i - 1])
            };
            // A quote right after a closing quote is an escaped `""`: the field is quoted again.
            let after_close = if i == 0 {
                self.just_closed
            } else {
                closed_at == Some(i)
            };
            if in_q {
                in_q = false;
                closed_at = Some(i + 1);
            } else if after_close || prev.is_none_or(|b| b == self.delimiter || b == b'\n') {
                in_q = true;
            }
        }
        if let Some(&last) = chunk.last() {
            self.just_closed = closed_at == Some(chunk.len());
            self.prev = Some(last);
        }
        self.seen.in_quotes.set(in_q);
    }
}

impl<R: Read> Read for LineAdapter<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let want = out.len().min(1 << 16);
            self.buf.resize(want, 0);
            let n = self.inner.read(&mut self.buf[..want])?;
            if n == 0 {
                return Ok(0);
            }
            let w = self.normalise(n, out);
            if w == 0 {
                // The chunk was only the `\n` of a split CRLF; read on.
                continue;
            }
            self.track_quotes(&out[..w]);
            self.seen.emitted.set(self.seen.emitted.get() + w as u64);
            self.seen.last.set(out.get(w - 1).copied());
            return Ok(w);
        }
    }
}

fn ascii(c: char, what: &str, source: &Source) -> Result<u8, DataError> {
    if c.is_ascii() {
        Ok(c as u8)
    } else {
        Err(DataError::Format {
            path: source.display.clone(),
            message: format!("the {what} {c:?} is not an ASCII character"),
            help: Some(format!("mlgate reads single-byte {what}s")),
        })
    }
}

pub fn read(source: &Source, sink: &mut dyn RecordSink) -> Result<ReadStats, DataError> {
    let tsv = source.format == super::Format::Tsv;
    let d = &source.dialect;
    let delimiter = ascii(
        d.delimiter.unwrap_or(if tsv { '\t' } else { ',' }),
        "delimiter",
        source,
    )?;
    let quote = ascii(d.quote_char.unwrap_or('"'), "quote character", source)?;
    // TSV has no quoting unless a quote character is named.
    let quoting = !tsv || d.quote_char.is_some();

    let bytes = Rc::new(Shared::new(0u64));
    let seen = Rc::new(Seen::default());
    let input = open_text(source, bytes.clone())?;
    let tracked = LineAdapter {
        inner: input,
        quote: quoting.then_some(quote),
        delimiter,
        seen: seen.clone(),
        buf: Vec::new(),
        pending_cr: false,
        prev: None,
        just_closed: false,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .quote(quote)
        .quoting(quoting)
        .buffer_capacity(1 << 16)
        .from_reader(tracked);

    let header_row = if d.header {
        d.header_row.unwrap_or(1)
    } else {
        0
    };
    let mut rec = csv::ByteRecord::new();
    let mut row: u64 = 0;
    let mut next_line: u64 = 1;
    let mut labels_sent = false;
    let mut records = 0u64;
    let mut last_start_line = 1u64;
    // Each record's cells as byte ranges in its text (reused: one allocation for the whole file).
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    loop {
        let more = rdr
            .read_byte_record(&mut rec)
            .map_err(|e| csv_error(source, e, next_line))?;
        if !more {
            break;
        }
        records += 1;
        let start_byte = rec.position().map(|p| p.byte()).unwrap_or(0);
        let end = rdr.position();
        // The parser skips empty lines silently, and reports the record's position where it started looking,
        // so count them: lines consumed, less the record's own line and the newlines inside its quoted fields.
        let consumed = end.line().saturating_sub(next_line);
        // The record's own line end, unless it is the last record and the file does not end with one.
        let at_eof = end.byte() == seen.emitted.get();
        let own_end = u64::from(!(at_eof && seen.last.get() != Some(b'\n')));
        // Only a record that consumed more lines than its own can hold newlines (the common case skips the count).
        let embedded = if consumed > own_end {
            memchr::memchr_iter(b'\n', rec.as_slice()).count() as u64
        } else {
            0
        };
        let skipped = consumed.saturating_sub(own_end + embedded);
        let start_line = next_line + skipped;
        last_start_line = start_line;
        // Each skipped empty line is a blank record to Frictionless.
        for line in next_line..start_line {
            row += 1;
            if row > header_row {
                if !labels_sent {
                    sink.labels(None);
                    labels_sent = true;
                }
                sink.record(&Record {
                    row,
                    line: Some(line),
                    cells: &[],
                    plain: true,
                });
            }
        }
        next_line = end.line();
        row += 1;
        let text = std::str::from_utf8(rec.as_slice()).map_err(|e| {
            let before = &rec.as_slice()[..e.valid_up_to()];
            let line = start_line + before.iter().filter(|&&b| b == b'\n').count() as u64;
            DataError::Encoding {
                path: source.display.clone(),
                line,
                encoding: encoding_name(source),
            }
        })?;
        if row < header_row {
            continue;
        }
        if row == header_row {
            let labels: Vec<String> = (0..rec.len())
                .map(|i| field(text, &rec, i).to_string())
                .collect();
            sink.labels(Some(&labels));
            labels_sent = true;
            continue;
        }
        if !labels_sent {
            sink.labels(None);
            labels_sent = true;
        }
        ranges.clear();
        ranges.extend((0..rec.len()).map(|i| {
            let r = rec.range(i).unwrap_or(0..0);
            (r.start as u32, r.end as u32)
        }));
        // Unquoted single-line records: the raw length equals the fields plus delimiters plus the line end.
        let raw = end.byte().saturating_sub(start_byte) as usize;
        let unescaped = text.len() + rec.len().saturating_sub(1);
        let plain = embedded == 0 && skipped == 0 && (raw == unescaped + own_end as usize);
        let meta = TextRecord {
            row,
            line: Some(start_line),
            plain,
        };
        sink.text_record(meta, text, &ranges);
    }
    if seen.in_quotes.get() {
        return Err(DataError::UnterminatedQuote {
            path: source.display.clone(),
            line: last_start_line,
        });
    }
    super::finish(source, sink, labels_sent, bytes.get(), records)
}

fn field<'t>(text: &'t str, rec: &csv::ByteRecord, i: usize) -> &'t str {
    rec.range(i).and_then(|r| text.get(r)).unwrap_or("")
}

fn encoding_name(source: &Source) -> String {
    source
        .dialect
        .encoding
        .clone()
        .unwrap_or_else(|| "UTF-8".into())
}

fn csv_error(source: &Source, e: csv::Error, line: u64) -> DataError {
    let line = e.position().map(|p| p.line()).unwrap_or(line);
    match e.into_kind() {
        csv::ErrorKind::Io(io) => DataError::Io {
            path: source.display.clone(),
            err: io,
        },
        other => DataError::Parse {
            path: source.display.clone(),
            line,
            message: format!("{other:?}"),
            help: None,
        },
    }
}
