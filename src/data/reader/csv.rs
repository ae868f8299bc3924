//! CSV and TSV, streamed line by line.
//!
//! Most lines of most files hold no quote character: such a line is one record, split at the delimiter eight
//! bytes at a time, with no copy and no state machine. A line whose quoted cells are whole and end on the line
//! is split outside the quotes and its `""` escapes undone, into a copy. Any other line with a quote character
//! is handed to `csv-core` (the parser of the `csv` crate), which reads the record to its end across quoted
//! newlines. Empty lines are blank rows with their own row numbers, as Frictionless counts them; an unterminated
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
    /// A `\r` was kept (inside a quoted cell): until then the text has none, and no line needs them counted.
    kept_cr: Shared<bool>,
}

/// Sits between the file and the CSV parser. It turns `\r\n` and lone `\r` line ends outside quoted cells into
/// `\n`, so that the parser's line count is exact (csv-core leaves a CRLF's `\n` to the next record), and it
/// follows quoting to tell at the end whether a quote was left open. A `\r` inside a quoted cell is the cell's
/// text, kept as it is; for the line numbers it still ends a line (see [`line_breaks`]).
struct LineAdapter<R> {
    inner: R,
    quote: Option<u8>,
    delimiter: u8,
    seen: Rc<Seen>,
    /// A `\r` ended the previous chunk: a `\n` starting this one belongs to it.
    pending_cr: bool,
    prev: Option<u8>,
    just_closed: bool,
}

impl<R: Read> LineAdapter<R> {
    /// Rewrites the line ends outside quoted cells of `buf` in place (the text only shrinks) and follows the
    /// quoting. Most files have no `\r` at all, and then this is one `memchr`, no copy and the quick quote
    /// scan. Returns the new length.
    fn adapt(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len();
        let mut start = 0;
        if self.pending_cr && buf.first() == Some(&b'\n') {
            start = 1;
        }
        self.pending_cr = false;
        if memchr::memchr(b'\r', &buf[start..]).is_some() {
            return self.rewrite(buf, start);
        }
        if start > 0 {
            buf.copy_within(start.., 0);
        }
        self.track_quotes(&buf[..n - start]);
        n - start
    }

    /// A chunk with a `\r`, byte by byte from `start`: outside quotes a `\r\n` or lone `\r` becomes `\n`;
    /// inside a quoted cell it is the cell's text and stays (Frictionless and the `csv` crate keep it too).
    /// Follows the quoting with the rules of [`LineAdapter::track_quotes`].
    fn rewrite(&mut self, buf: &mut [u8], start: usize) -> usize {
        let n = buf.len();
        let mut in_q = self.seen.in_quotes.get();
        let (mut w, mut i) = (0usize, start);
        while i < n {
            let mut b = buf[i];
            i += 1;
            if Some(b) == self.quote {
                if in_q {
                    in_q = false;
                    self.just_closed = true;
                } else {
                    if self.just_closed
                        || self.prev.is_none_or(|p| p == self.delimiter || p == b'\n')
                    {
                        in_q = true;
                    }
                    self.just_closed = false;
                }
            } else {
                self.just_closed = false;
                if b == b'\r' && in_q {
                    self.seen.kept_cr.set(true);
                } else if b == b'\r' {
                    b = b'\n';
                    if i == n {
                        self.pending_cr = true;
                    } else if buf[i] == b'\n' {
                        i += 1;
                    }
                }
            }
            buf[w] = b;
            w += 1;
            self.prev = Some(b);
        }
        self.seen.in_quotes.set(in_q);
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
            let n = self.inner.read(out)?;
            if n == 0 {
                return Ok(0);
            }
            let w = self.adapt(&mut out[..n]);
            if w == 0 {
                // The chunk was only the `\n` of a split CRLF; read on.
                continue;
            }
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
    // csv-core drops a UTF-8 byte-order mark at the start of the first input it reads. The file's own mark is
    // gone before this (`open_text`), and the parser first sees some line in the middle of the file, where U+FEFF
    // is text: an empty line read first (skipped, nothing returned) uses up that first read.
    let _ = parser.read_record(b"\n", &mut [0u8; 1], &mut [0usize; 1]);

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
    // A shard's window: after the header (read from the file's start), the records go on at the window's start,
    // with the lines and rows that come before it.
    let resume = match source.window {
        Some(super::Window::Bytes { lines, rows, .. }) => Some((lines + 1, rows)),
        _ => None,
    };
    if let (Some((at_line, at_row)), 0) = (resume, header_row) {
        (line, row) = (at_line, at_row);
    }
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
        let split = split_line(
            &input.buf[start..eol],
            delimiter,
            quoting.then_some(quote),
            &mut ranges,
            &mut quoted.text,
        );
        let (text, plain): (&[u8], bool) = match split {
            Split::Plain | Split::QuotedInLine | Split::Quoted => {
                input.pos = (eol + 1).min(input.end);
                line += 1;
                if split != Split::Plain && seen.kept_cr.get() {
                    // A `\r` left on the line is inside a quoted cell, and no `\n` follows it there.
                    line += memchr::memchr_iter(b'\r', &input.buf[start..eol]).count() as u64;
                }
                // Quoted cells: the cells are not the line's text joined by delimiters, so no columns.
                match split {
                    Split::Plain => (&input.buf[start..eol], true),
                    Split::QuotedInLine => (&input.buf[start..eol], false),
                    _ => (&quoted.text, false),
                }
            }
            Split::Parser => {
                let (lines, plain) =
                    read_quoted(&mut parser, &mut input, &mut quoted).map_err(&io)?;
                line += lines;
                ranges.clear();
                let mut from = 0usize;
                for &e in &quoted.ends {
                    ranges.push((from as u32, e as u32));
                    from = e;
                }
                (&quoted.text, plain)
            }
        };
        let text = std::str::from_utf8(text).map_err(|e| {
            let before = &text[..e.valid_up_to()];
            DataError::Encoding {
                path: source.display.clone(),
                line: start_line + line_breaks(before),
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
            if let Some((at_line, at_row)) = resume {
                (line, row) = (at_line, at_row);
            }
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

/// How [`split_line`] took a line apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    /// No quote character: the ranges are the cells, in the line itself.
    Plain,
    /// Quoted cells, each a whole cell that starts and ends with the quote and doubles the quotes it holds,
    /// none of them with a doubled quote: the ranges are the cells, in the line itself, without their quotes.
    QuotedInLine,
    /// The same, where some cell doubles a quote: the ranges are in the `unquoted` text, which is the line
    /// followed by those cells with their doubled quotes undone.
    Quoted,
    /// A quoted cell goes on past the end of the line (a quoted newline, or an unterminated quote), or a quote
    /// stands where the simple rules above do not cover it: the line is left to `csv-core`.
    Parser,
}

/// Bytes equal to one byte value, eight at a time: `0x80` in each byte of the result where `word` holds `splat`'s
/// byte (SWAR, exact: no carry crosses a byte). A branch per byte or a `memchr` call per cell costs more on
/// short lines and cells, and the crate has no `unsafe` to call vector instructions by hand.
#[inline(always)]
fn bytes_equal(word: u64, splat: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = word ^ splat;
    !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7)
}

/// Splits a line at `delimiter` into cell ranges. A line with the `quote` character is split outside quotes, and
/// its cells are unquoted into `unquoted`, when every quoted cell is well formed; otherwise the line is for the
/// full parser (see [`Split`]).
fn split_line(
    line: &[u8],
    delimiter: u8,
    quote: Option<u8>,
    ranges: &mut Vec<(u32, u32)>,
    unquoted: &mut Vec<u8>,
) -> Split {
    const ONES: u64 = 0x0101_0101_0101_0101;
    ranges.clear();
    let dsplat = ONES * u64::from(delimiter);
    let qsplat = ONES * u64::from(quote.unwrap_or(0));
    // The quote character `split_quoted` takes when a word holds one (there is one then).
    let q = quote.unwrap_or(b'"');
    let mut from = 0usize;
    let mut base = 0usize;
    let mut words = line.chunks_exact(8);
    let mut step = |word: u64, live: u64, base: usize, ranges: &mut Vec<(u32, u32)>| -> bool {
        if quote.is_some() && bytes_equal(word, qsplat) & live != 0 {
            return false;
        }
        let mut d = bytes_equal(word, dsplat) & live;
        while d != 0 {
            let i = base + (d.trailing_zeros() / 8) as usize;
            ranges.push((from as u32, i as u32));
            from = i + 1;
            d &= d - 1;
        }
        true
    };
    for w in &mut words {
        let word = u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
        if !step(word, u64::MAX, base, ranges) {
            return split_quoted(line, from, delimiter, q, ranges, unquoted);
        }
        base += 8;
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        // The padding is not part of the line, whatever the delimiter and quote are.
        let live = u64::MAX >> (8 * (8 - rest.len()));
        if !step(tail_word(rest), live, base, ranges) {
            return split_quoted(line, from, delimiter, q, ranges, unquoted);
        }
    }
    ranges.push((from as u32, line.len() as u32));
    Split::Plain
}

/// The last bytes of a line, fewer than eight, as a word padded with zeros: shifted in byte by byte, in a
/// register (copied into an array and read back, it was a `memcpy` call per line).
#[inline(always)]
fn tail_word(rest: &[u8]) -> u64 {
    rest.iter()
        .enumerate()
        .fold(0u64, |w, (i, &b)| w | u64::from(b) << (8 * i))
}

/// The positions of the bytes `a` and `b` in `line`, in order, found eight bytes at a time with
/// [`bytes_equal`]: a quoted line has a delimiter or quote every few bytes, and a `memchr2` call per hit cost
/// more than the hits themselves.
fn positions_of_two(line: &[u8], a: u8, b: u8) -> impl Iterator<Item = usize> + '_ {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let (sa, sb) = (ONES * u64::from(a), ONES * u64::from(b));
    line.chunks(8).enumerate().flat_map(move |(k, w)| {
        let word = match <[u8; 8]>::try_from(w) {
            Ok(whole) => u64::from_le_bytes(whole),
            Err(_) => tail_word(w),
        };
        // The padding of a short last word is not part of the line, whatever `a` and `b` are.
        let live = u64::MAX >> (8 * (8 - w.len()));
        let mut hits = (bytes_equal(word, sa) | bytes_equal(word, sb)) & live;
        std::iter::from_fn(move || {
            if hits == 0 {
                return None;
            }
            let i = k * 8 + (hits.trailing_zeros() / 8) as usize;
            hits &= hits - 1;
            Some(i)
        })
    })
}

/// The quoted case of [`split_line`]: cells end at delimiters outside quotes; a cell with a quote must be
/// `"…"` with its inner quotes doubled, which is then undone (what `csv-core` does with such a cell). Cells stay
/// where they are in the line (a quoted one without its quotes); only a cell with doubled quotes is written out,
/// undone, after a copy of the line in `unquoted`, so that every range is one of that text. `ranges` holds the
/// cells before `from` already, where [`split_line`] found the first quote's cell to start: they have no quote.
fn split_quoted(
    line: &[u8],
    from: usize,
    delimiter: u8,
    quote: u8,
    ranges: &mut Vec<(u32, u32)>,
    unquoted: &mut Vec<u8>,
) -> Split {
    unquoted.clear();
    let mut in_quotes = false;
    let mut start = from;
    let mut cell_has_quote = false;
    let mut cut = |start: usize, end: usize, has_quote: bool, ranges: &mut Vec<(u32, u32)>| {
        if !has_quote {
            ranges.push((start as u32, end as u32));
            return true;
        }
        let cell = &line[start..end];
        if cell.len() < 2 || cell[0] != quote || cell[cell.len() - 1] != quote {
            return false;
        }
        let inner = &cell[1..cell.len() - 1];
        if memchr::memchr(quote, inner).is_none() {
            ranges.push((start as u32 + 1, end as u32 - 1));
            return true;
        }
        if unquoted.is_empty() {
            unquoted.extend_from_slice(line);
        }
        let from = unquoted.len();
        let mut i = 0;
        while let Some(off) = memchr::memchr(quote, &inner[i..]) {
            let at = i + off;
            if inner.get(at + 1) != Some(&quote) {
                return false;
            }
            unquoted.extend_from_slice(&inner[i..=at]);
            i = at + 2;
        }
        unquoted.extend_from_slice(&inner[i..]);
        ranges.push((from as u32, unquoted.len() as u32));
        true
    };
    let rest = line.get(from..).unwrap_or_default();
    for (i, b) in positions_of_two(rest, delimiter, quote).map(|i| (from + i, line[from + i])) {
        if b == quote {
            in_quotes = !in_quotes;
            cell_has_quote = true;
        } else if !in_quotes {
            if !cut(start, i, cell_has_quote, ranges) {
                return Split::Parser;
            }
            start = i + 1;
            cell_has_quote = false;
        }
    }
    if in_quotes || !cut(start, line.len(), cell_has_quote, ranges) {
        return Split::Parser;
    }
    if unquoted.is_empty() {
        Split::QuotedInLine
    } else {
        Split::Quoted
    }
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
    let (mut crs, mut cr_pending) = (0u64, false);
    loop {
        let chunk = &input.buf[input.pos..input.end];
        let (res, nin, o, e) =
            parser.read_record(chunk, &mut out.text[nout..], &mut out.ends[nends..]);
        let taken = &chunk[..nin];
        newlines += memchr::memchr_iter(b'\n', taken).count() as u64;
        crs += lone_crs(taken, &mut cr_pending);
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
    Ok(((newlines + crs + u64::from(cr_pending)).max(1), plain))
}

/// The lines `text` ends: its `\n`s and its lone `\r`s (a `\r` no `\n` follows). Outside quoted cells the
/// adapter has made every line end a `\n`; a `\r` inside a quoted cell stays in the cell but still counts as a
/// line end, as editors show it and as a shard's scan (`window.rs`) counts lines.
fn line_breaks(text: &[u8]) -> u64 {
    let mut pending = false;
    let crs = lone_crs(text, &mut pending);
    memchr::memchr_iter(b'\n', text).count() as u64 + crs + u64::from(pending)
}

/// The `\r`s of `text` that no `\n` follows, for text read in pieces: `pending` says that the previous piece
/// ended with a `\r` (counted here when this piece does not start with `\n`), and is set when this one does.
fn lone_crs(text: &[u8], pending: &mut bool) -> u64 {
    if text.is_empty() {
        return 0;
    }
    let mut n = u64::from(*pending && text[0] != b'\n');
    for i in memchr::memchr_iter(b'\r', text) {
        n += u64::from(text.get(i + 1).is_some_and(|&b| b != b'\n'));
    }
    *pending = text.last() == Some(&b'\r');
    n
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
    use super::{split_line, LineAdapter, Seen, Split};
    use std::io::Read;

    /// A reader that hands out at most `step` bytes a call, to split line ends across chunks.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(self.0.len()).min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// CRLF and lone CR outside quotes become LF, inside quotes they stay, however the input is cut into chunks.
    #[test]
    fn line_ends_outside_quotes_are_normalised_across_chunks() {
        let input =
            b"a,b\r\n1,2\r3,4\n\r\n\r\r\n5,\"x\r\ny\"\r\n6,\"\"\"\r\"\r7,\"p\"\"\"\r\r\n8\r";
        let want = b"a,b\n1,2\n3,4\n\n\n\n5,\"x\r\ny\"\n6,\"\"\"\r\"\n7,\"p\"\"\"\n\n8\n";
        for step in 1..=input.len() {
            let mut adapter = LineAdapter {
                inner: Trickle(input, step),
                quote: Some(b'"'),
                delimiter: b',',
                seen: Default::default(),
                pending_cr: false,
                prev: None,
                just_closed: false,
            };
            let mut got = Vec::new();
            adapter.read_to_end(&mut got).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(want),
                "step {step}"
            );
            let seen: &Seen = &adapter.seen;
            assert!(!seen.in_quotes.get(), "step {step}");
        }
    }

    /// The word split against the obvious one, on lines of every length around the word size.
    #[test]
    fn split_line_finds_every_delimiter() {
        let (mut ranges, mut text) = (Vec::new(), Vec::new());
        for len in 0..100usize {
            for seed in 0..8u64 {
                let line: Vec<u8> = (0..len as u64)
                    .map(|i| match (i * 7 + seed * 13) % 11 {
                        0 | 5 => b',',
                        9 if seed == 3 => b'"',
                        _ => b'a' + (i % 26) as u8,
                    })
                    .collect();
                // Without quoting a quote is text.
                assert_eq!(
                    split_line(&line, b',', None, &mut ranges, &mut text),
                    Split::Plain
                );
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
                if !line.contains(&b'"') {
                    assert_eq!(
                        split_line(&line, b',', Some(b'"'), &mut ranges, &mut text),
                        Split::Plain
                    );
                    assert_eq!(ranges, want);
                }
            }
        }
        // A NUL delimiter does not match the padding.
        assert_eq!(
            split_line(b"a\0b", 0, None, &mut ranges, &mut text),
            Split::Plain
        );
        assert_eq!(ranges, vec![(0, 1), (2, 3)]);
    }

    /// The word-at-a-time search against the obvious one, on lines of every length around the word size, with
    /// a NUL among the bytes searched for (it must not match the padding).
    #[test]
    fn positions_of_two_finds_every_hit_in_order() {
        for len in 0..40usize {
            for seed in 0..6u64 {
                let line: Vec<u8> = (0..len as u64)
                    .map(|i| [b',', b'"', b'a', 0, b'b'][((i * 7 + seed * 3) % 5) as usize])
                    .collect();
                for (a, b) in [(b',', b'"'), (0, b'"'), (b'x', b'y')] {
                    let want: Vec<usize> =
                        (0..len).filter(|&i| line[i] == a || line[i] == b).collect();
                    let got: Vec<usize> = super::positions_of_two(&line, a, b).collect();
                    assert_eq!(got, want, "{line:?} {a} {b}");
                }
            }
        }
    }

    fn cells(text: &[u8], ranges: &[(u32, u32)]) -> Vec<String> {
        ranges
            .iter()
            .map(|&(a, b)| String::from_utf8_lossy(&text[a as usize..b as usize]).into_owned())
            .collect()
    }

    /// What the `csv` crate (csv-core underneath) reads from one line.
    fn csv_cells(line: &[u8]) -> Vec<String> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(line);
        let mut rec = csv::ByteRecord::new();
        assert!(r.read_byte_record(&mut rec).unwrap_or(false));
        rec.iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect()
    }

    /// Every line of quotes, delimiters and text that the quoted split takes, it splits as csv-core does; the
    /// lines it leaves to the parser include every one with an open quote.
    #[test]
    fn quoted_lines_split_as_csv_core_reads_them() {
        let (mut ranges, mut text) = (Vec::new(), Vec::new());
        let alphabet = [b'a', b',', b'"', b' ', b'b'];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let (mut quoted, mut parser) = (0, 0);
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Cells of plain text, well-formed quoted text, or any bytes of the alphabet.
            let mut line: Vec<u8> = Vec::new();
            for c in 0..1 + state % 4 {
                let bits = state.rotate_right(c as u32 * 16);
                if c > 0 {
                    line.push(b',');
                }
                let len = (bits >> 2) as usize % 6;
                let pick = |i: usize| alphabet[((bits >> (4 + i % 12 * 5)) as usize + i) % 5];
                match bits % 3 {
                    0 => line.extend((0..len).map(pick).filter(|&b| b != b'"' && b != b',')),
                    1 => {
                        line.push(b'"');
                        for i in 0..len {
                            match pick(i) {
                                b'"' => line.extend_from_slice(b"\"\""),
                                b => line.push(b),
                            }
                        }
                        line.push(b'"');
                    }
                    _ => line.extend((0..len).map(pick)),
                }
            }
            if line.is_empty() {
                line.push(b'a');
            }
            let show = String::from_utf8_lossy(&line).into_owned();
            match split_line(&line, b',', Some(b'"'), &mut ranges, &mut text) {
                Split::Plain => {
                    assert!(!line.contains(&b'"'), "{show}");
                    assert_eq!(cells(&line, &ranges), csv_cells(&line), "{show}");
                }
                Split::QuotedInLine => {
                    quoted += 1;
                    assert_eq!(cells(&line, &ranges), csv_cells(&line), "{show}");
                }
                Split::Quoted => {
                    quoted += 1;
                    assert_eq!(&text[..line.len()], &line[..], "{show}");
                    assert_eq!(cells(&text, &ranges), csv_cells(&line), "{show}");
                }
                Split::Parser => {
                    parser += 1;
                    assert!(line.contains(&b'"'), "{show}");
                }
            }
        }
        assert!(
            quoted > 1_000 && parser > 1_000,
            "{quoted} quoted, {parser} to the parser"
        );
        // Well-formed quoted cells are never left to the parser.
        for line in [
            &b"1,\"a,b\",\"\"\"q\"\"\",\"\",x"[..],
            b"\"one\"",
            b"\"\"\"\"",
            b"a,\"long cell with \"\"quotes\"\" and, commas, across the eight-byte words\",z",
        ] {
            let show = String::from_utf8_lossy(line).into_owned();
            let split = split_line(line, b',', Some(b'"'), &mut ranges, &mut text);
            let got = match split {
                Split::QuotedInLine => cells(line, &ranges),
                Split::Quoted => cells(&text, &ranges),
                other => panic!("{other:?}: {show}"),
            };
            assert_eq!(got, csv_cells(line), "{show}");
        }
        // Quoted cells without doubled quotes stay in the line.
        assert_eq!(
            split_line(
                b"1,\"a,b\",\"\",x",
                b',',
                Some(b'"'),
                &mut ranges,
                &mut text
            ),
            Split::QuotedInLine
        );
        assert_eq!(ranges, vec![(0, 1), (3, 6), (9, 9), (11, 12)]);
        // An open quote goes to the parser, which reads on past the line.
        assert_eq!(
            split_line(b"a,\"b", b',', Some(b'"'), &mut ranges, &mut text),
            Split::Parser
        );
    }
}
