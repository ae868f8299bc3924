//! CSV and TSV, streamed line by line.
//!
//! Most lines of most files hold no quote character: such a line is one record, split at the delimiter with
//! `memchr`, with no copy and no state machine. A line with a quote character is handed to `csv-core` (the
//! parser of the `csv` crate), which reads the record to its end across quoted newlines and undoes the `""`
//! escapes. Empty lines are blank rows with their own row numbers, as Frictionless counts them; an unterminated
//! quote (which the parser reads to the end of the file) is found by following the quoting alongside.

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

/// The text read so far and not yet taken, refilled from the source in large chunks.
struct Input<R> {
    src: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    eof: bool,
}

impl<R: Read> Input<R> {
    /// Reads more: the untaken bytes move to the front, and the buffer doubles when they fill it.
    fn fill(&mut self) -> std::io::Result<()> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            let n = self.buf.len().max(1 << 16) * 2;
            self.buf.resize(n, 0);
        }
        let n = self.src.read(&mut self.buf[self.end..])?;
        if n == 0 {
            self.eof = true;
        }
        self.end += n;
        Ok(())
    }

    /// The end of the next line (the index of its `\n`, or the end of the input for a last line without one).
    fn line_end(&mut self) -> std::io::Result<Option<usize>> {
        let mut from = self.pos;
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[from..self.end]) {
                return Ok(Some(from + i));
            }
            if self.eof {
                return Ok((self.pos < self.end).then_some(self.end));
            }
            let scanned = self.end - self.pos;
            self.fill()?;
            from = self.pos + scanned;
        }
    }
}

/// A quoted record as `csv-core` writes it: the cells' text, unescaped, and where each cell ends in it.
#[derive(Default)]
struct Parsed {
    text: Vec<u8>,
    ends: Vec<usize>,
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
    let tracked = LineAdapter {
        inner: open_text(source, bytes.clone())?,
        quote: quoting.then_some(quote),
        delimiter,
        seen: seen.clone(),
        buf: Vec::new(),
        pending_cr: false,
        prev: None,
        just_closed: false,
    };
    let mut input = Input {
        src: tracked,
        buf: vec![0; 1 << 18],
        pos: 0,
        end: 0,
        eof: false,
    };
    let mut parser = csv_core::ReaderBuilder::new()
        .delimiter(delimiter)
        .quote(quote)
        .quoting(quoting)
        .build();

    let header_row = if d.header {
        d.header_row.unwrap_or(1)
    } else {
        0
    };
    let io = super::io_err(source);
    let mut row: u64 = 0;
    let mut line: u64 = 1;
    let mut labels_sent = false;
    let mut records = 0u64;
    let mut last_start_line = 1u64;
    let mut quoted = Parsed::default();
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    // Empty lines are blank records, but only when a record follows: like the `csv` crate, trailing empty lines
    // end the file without rows of their own.
    let mut empty_lines: Vec<u64> = Vec::new();
    while let Some(eol) = input.line_end().map_err(&io)? {
        let start = input.pos;
        if eol == start {
            empty_lines.push(line);
            input.pos = (eol + 1).min(input.end);
            line += 1;
            continue;
        }
        for blank_line in empty_lines.drain(..) {
            row += 1;
            if row > header_row {
                if !labels_sent {
                    sink.labels(None);
                    labels_sent = true;
                }
                sink.record(&Record {
                    row,
                    line: Some(blank_line),
                    cells: &[],
                    plain: true,
                });
            }
        }
        let start_line = line;
        last_start_line = start_line;
        records += 1;
        row += 1;
        let has_quote = !split_line(
            &input.buf[start..eol],
            delimiter,
            quoting.then_some(quote),
            &mut ranges,
        );
        let (text, plain): (&[u8], bool) = if has_quote {
            let (lines, plain) = read_quoted(&mut parser, &mut input, &mut quoted).map_err(&io)?;
            line += lines;
            ranges.clear();
            let mut from = 0usize;
            for &e in &quoted.ends {
                ranges.push((from as u32, e as u32));
                from = e;
            }
            (&quoted.text, plain)
        } else {
            input.pos = (eol + 1).min(input.end);
            line += 1;
            (&input.buf[start..eol], true)
        };
        let text = std::str::from_utf8(text).map_err(|e| {
            let before = &text[..e.valid_up_to()];
            DataError::Encoding {
                path: source.display.clone(),
                line: start_line + before.iter().filter(|&&b| b == b'\n').count() as u64,
                encoding: encoding_name(source),
            }
        })?;
        if row < header_row {
            continue;
        }
        if row == header_row {
            let labels: Vec<String> = ranges
                .iter()
                .map(|&(a, b)| text.get(a as usize..b as usize).unwrap_or("").to_string())
                .collect();
            sink.labels(Some(&labels));
            labels_sent = true;
            continue;
        }
        if !labels_sent {
            sink.labels(None);
            labels_sent = true;
        }
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

/// Splits a line at `delimiter` into cell ranges; false when the line holds the `quote` character (the ranges
/// are then meaningless: the line is a quoted record). Lines are short and cells shorter, so neither a `memchr`
/// call per cell nor a branch per byte pays: each 32-byte block becomes two bit masks (which the compiler turns
/// into vector compares), and the delimiters are taken from the mask.
fn split_line(line: &[u8], delimiter: u8, quote: Option<u8>, ranges: &mut Vec<(u32, u32)>) -> bool {
    #[inline(always)]
    fn masks(block: &[u8; 32], delimiter: u8, quote: u8) -> (u32, u32) {
        let (mut d, mut q) = (0u32, 0u32);
        for (i, &b) in block.iter().enumerate() {
            d |= u32::from(b == delimiter) << i;
            q |= u32::from(b == quote) << i;
        }
        (d, q)
    }
    ranges.clear();
    let (quoting, q) = (quote.is_some(), quote.unwrap_or(0));
    let mut from = 0usize;
    let mut take = |mut d: u32, base: usize, ranges: &mut Vec<(u32, u32)>| {
        while d != 0 {
            let i = base + d.trailing_zeros() as usize;
            ranges.push((from as u32, i as u32));
            from = i + 1;
            d &= d - 1;
        }
    };
    let mut blocks = line.chunks_exact(32);
    let mut base = 0usize;
    for block in &mut blocks {
        let block: &[u8; 32] = block.try_into().unwrap_or(&[0; 32]);
        let (d, qm) = masks(block, delimiter, q);
        if quoting && qm != 0 {
            return false;
        }
        take(d, base, ranges);
        base += 32;
    }
    let rest = blocks.remainder();
    if !rest.is_empty() {
        let mut block = [0u8; 32];
        block[..rest.len()].copy_from_slice(rest);
        // The padding is not part of the line, whatever the delimiter and quote are.
        let live = (1u32 << rest.len()) - 1;
        let (d, qm) = masks(&block, delimiter, q);
        if quoting && qm & live != 0 {
            return false;
        }
        take(d & live, base, ranges);
    }
    ranges.push((from as u32, line.len() as u32));
    true
}

/// Reads one record that holds a quote character with `csv-core`, from the start of its first line to its end,
/// across as many lines as its quoted cells span. Returns the lines it took and whether it is "plain": one line
/// whose text is its cells joined by delimiters (no quote was removed), so that cell columns can be computed.
fn read_quoted<R: Read>(
    parser: &mut csv_core::Reader,
    input: &mut Input<R>,
    out: &mut Parsed,
) -> std::io::Result<(u64, bool)> {
    use csv_core::ReadRecordResult as R;
    out.text.resize(out.text.capacity().max(1 << 10), 0);
    out.ends.resize(out.ends.capacity().max(64), 0);
    let (mut nout, mut nends) = (0usize, 0usize);
    let (mut newlines, mut raw, mut ended_by_newline) = (0u64, 0usize, false);
    loop {
        let chunk = &input.buf[input.pos..input.end];
        let (res, nin, o, e) =
            parser.read_record(chunk, &mut out.text[nout..], &mut out.ends[nends..]);
        let taken = &chunk[..nin];
        newlines += memchr::memchr_iter(b'\n', taken).count() as u64;
        if let Some(&last) = taken.last() {
            ended_by_newline = last == b'\n';
        }
        raw += nin;
        input.pos += nin;
        nout += o;
        nends += e;
        match res {
            R::InputEmpty if input.eof && chunk.is_empty() => break,
            R::InputEmpty if input.eof => {}
            R::InputEmpty => input.fill()?,
            R::OutputFull => {
                let n = out.text.len() * 2;
                out.text.resize(n, 0);
            }
            R::OutputEndsFull => {
                let n = out.ends.len() * 2;
                out.ends.resize(n, 0);
            }
            R::Record | R::End => break,
        }
    }
    out.text.truncate(nout);
    out.ends.truncate(nends);
    let fields = nends.max(1);
    let plain = newlines <= u64::from(ended_by_newline)
        && raw == nout + (fields - 1) + usize::from(ended_by_newline);
    Ok((newlines.max(1), plain))
}

fn encoding_name(source: &Source) -> String {
    source
        .dialect
        .encoding
        .clone()
        .unwrap_or_else(|| "UTF-8".into())
}

#[cfg(test)]
mod tests {
    use super::split_line;

    /// The block split against the obvious one, on lines of every length around the block size.
    #[test]
    fn split_line_finds_every_delimiter_and_any_quote() {
        let mut ranges = Vec::new();
        for len in 0..100usize {
            for seed in 0..8u64 {
                let line: Vec<u8> = (0..len as u64)
                    .map(|i| match (i * 7 + seed * 13) % 11 {
                        0 | 5 => b',',
                        9 if seed == 3 => b'"',
                        _ => b'a' + (i % 26) as u8,
                    })
                    .collect();
                let has_quote = line.contains(&b'"');
                assert_eq!(split_line(&line, b',', Some(b'"'), &mut ranges), !has_quote);
                // Without quoting a quote is text.
                assert!(split_line(&line, b',', None, &mut ranges));
                let mut want = Vec::new();
                let mut from = 0;
                for (i, &b) in line.iter().enumerate() {
                    if b == b',' {
                        want.push((from as u32, i as u32));
                        from = i + 1;
                    }
                }
                want.push((from as u32, len as u32));
                assert_eq!(ranges, want, "line {:?}", String::from_utf8_lossy(&line));
            }
        }
        // A NUL delimiter does not match the padding.
        assert!(split_line(b"a\0b", 0, None, &mut ranges));
        assert_eq!(ranges, vec![(0, 1), (2, 3)]);
    }
}
