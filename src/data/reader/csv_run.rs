//! Runs of single-line CSV records, handed over as their raw text.
//!
//! The reading thread only finds where a run of lines ends and that each of its lines is one whole record (no
//! quoted cell goes on past its line); it checks the run's UTF-8 in one call and hands the text over with the
//! line ends. The lines are split into cells where they are used (on the validation workers), straight into the
//! cells a [`Record`](super::Record) holds: no per-line copy, no cell ranges stored and rebuilt.

use std::borrow::Cow;

use super::csv::{split_line, Split};
use crate::data::value::Cell;

/// Text read per run: large enough that the hand-over is rare, small enough for the cache.
pub(super) const RUN_BYTES: usize = 1 << 17;

/// Single-line records in one piece of text (CSV, TSV): line `i` ends at `ends[i]` (its `\n`, or the end of the
/// text), the next starts after it. An empty line is a blank record, as in [`RecordSink::record`].
///
/// [`RecordSink::record`]: super::RecordSink::record
#[derive(Debug, Clone, Copy)]
pub struct LineRun<'a> {
    /// The row and the physical line of the first record (each line is one row).
    pub row: u64,
    pub line: u64,
    pub text: &'a str,
    pub ends: &'a [u32],
    pub delimiter: u8,
    /// The quote character, when the dialect quotes.
    pub quote: Option<u8>,
}

impl<'a> LineRun<'a> {
    /// The text of line `i` (empty past the end).
    pub fn line_text(&self, i: usize) -> &'a str {
        line_of(self.text, self.ends, i)
    }
}

/// Line `i` of `text` whose lines end at `ends`.
pub(super) fn line_of<'t>(text: &'t str, ends: &[u32], i: usize) -> &'t str {
    let start = match i {
        0 => 0,
        _ => ends.get(i - 1).map_or(text.len(), |&e| e as usize + 1),
    };
    let end = ends.get(i).map_or(start, |&e| e as usize);
    text.get(start..end).unwrap_or("")
}

/// How much of `window` (the unread text from a line start, whole lines) is one run: up to the last line end,
/// or all of it at the end of the input (`at_end`), cut before the first line whose quoting is not simple (see
/// [`simple_prefix`]) and before trailing empty lines (they are rows only when a record follows). 0 when not
/// even the first line qualifies: the caller reads that one on its own.
pub(super) fn run_len(window: &[u8], at_end: bool, delimiter: u8, quote: Option<u8>) -> usize {
    let mut n = if at_end {
        window.len()
    } else {
        match memchr::memrchr(b'\n', window) {
            Some(i) => i + 1,
            None => return 0,
        }
    };
    if let Some(q) = quote {
        if memchr::memchr(q, &window[..n]).is_some() {
            n = simple_prefix(&window[..n], delimiter, q);
        }
    }
    // The last line must not be empty: "…\n\n" ends with one.
    while n > 0 && window[n - 1] == b'\n' && (n == 1 || window[n - 2] == b'\n') {
        n -= 1;
    }
    n
}

/// The length of the leading whole lines of `text` whose quoted cells are simple: a quote opens a cell (right
/// after a delimiter or a line start), the quotes inside it are doubled, the closing quote is followed by a
/// delimiter or the line end, and no line end is inside. Such a line is one record that [`split_line`] takes
/// apart; any other (a quoted newline, a quote inside an unquoted cell, text after a closing quote, an open
/// quote) is left to the reader's full parser, from the start of its line.
pub(super) fn simple_prefix(text: &[u8], delimiter: u8, quote: u8) -> usize {
    let line_start = |at: usize| memchr::memrchr(b'\n', &text[..at]).map_or(0, |i| i + 1);
    let mut from = 0usize;
    while let Some(off) = memchr::memchr(quote, &text[from..]) {
        let open = from + off;
        let at_field_start = open == 0 || text[open - 1] == delimiter || text[open - 1] == b'\n';
        if !at_field_start {
            return line_start(open);
        }
        let mut j = open + 1;
        let close = loop {
            let Some(o) = memchr::memchr(quote, &text[j..]) else {
                return line_start(open);
            };
            let q = j + o;
            match text.get(q + 1) {
                Some(&b) if b == quote => j = q + 2,
                None | Some(b'\n') => break q,
                Some(&b) if b == delimiter => break q,
                Some(_) => return line_start(open),
            }
        };
        if memchr::memchr(b'\n', &text[open..close]).is_some() {
            return line_start(open);
        }
        from = close + 1;
    }
    text.len()
}

/// The line ends of `text` (whole lines; the last may have no `\n`) into `ends`; returns how many lines are
/// empty.
pub(super) fn line_ends(text: &[u8], ends: &mut Vec<u32>) -> u64 {
    ends.clear();
    let mut start = 0usize;
    let mut empty = 0u64;
    for i in memchr::memchr_iter(b'\n', text) {
        empty += u64::from(i == start);
        ends.push(i as u32);
        start = i + 1;
    }
    if start < text.len() {
        ends.push(text.len() as u32);
    }
    empty
}

/// Splits lines into cells, keeping its buffers between lines.
#[derive(Default)]
pub(crate) struct LineSplitter {
    ranges: Vec<(u32, u32)>,
    unquoted: Vec<u8>,
    /// Where a quoted line's text goes when it has to be rebuilt (see [`LineSplitter::split`]).
    lossy: String,
    ends: Vec<usize>,
}

impl LineSplitter {
    /// One line's cells: the text they are in, their ranges in it, and whether the text is the line's (no quote
    /// was removed, so cell columns can be computed).
    pub(crate) fn split<'t>(
        &'t mut self,
        line: &'t str,
        delimiter: u8,
        quote: Option<u8>,
    ) -> (&'t str, &'t [(u32, u32)], bool) {
        let bytes = line.as_bytes();
        let plain = match split_line(
            bytes,
            delimiter,
            quote,
            &mut self.ranges,
            &mut self.unquoted,
        ) {
            Split::Plain => return (line, &self.ranges, true),
            Split::Quoted => false,
            Split::Parser => self.parse(bytes, delimiter, quote.unwrap_or(b'"')),
        };
        // The unquoted text is UTF-8: the line was, and only ASCII quotes and delimiters were taken out of it.
        // Should that ever not hold, the text is rebuilt with replacement characters rather than lost.
        let text = match std::str::from_utf8(&self.unquoted) {
            Ok(text) => text,
            Err(_) => {
                self.lossy = String::from_utf8_lossy(&self.unquoted).into_owned();
                &self.lossy
            }
        };
        (text, &self.ranges, plain)
    }

    /// The line's cells, straight into `cells`.
    pub(crate) fn cells<'t>(
        &'t mut self,
        line: &'t str,
        delimiter: u8,
        quote: Option<u8>,
        cells: &mut Vec<Cell<'t>>,
    ) -> bool {
        cells.clear();
        if line.is_empty() {
            return true;
        }
        let (text, ranges, plain) = self.split(line, delimiter, quote);
        cells.extend(ranges.iter().map(|&(a, b)| {
            Cell::Text(Cow::Borrowed(
                text.get(a as usize..b as usize).unwrap_or(""),
            ))
        }));
        plain
    }

    /// A line [`split_line`] leaves to the full parser, read by `csv-core` as one record (a run holds only lines
    /// that are whole records, see [`simple_prefix`]). Returns whether no quote was removed.
    fn parse(&mut self, line: &[u8], delimiter: u8, quote: u8) -> bool {
        use csv_core::ReadRecordResult as R;
        let mut parser = csv_core::ReaderBuilder::new()
            .delimiter(delimiter)
            .quote(quote)
            .build();
        // A record's text is never longer than its line, nor has it more cells than bytes + 1.
        self.unquoted.clear();
        self.unquoted.resize(line.len(), 0);
        self.ends.clear();
        self.ends.resize(line.len() + 1, 0);
        let (mut input, mut nout, mut nends) = (line, 0usize, 0usize);
        // The line, then the end of the input, which ends the record.
        let mut at_end = false;
        loop {
            let (res, nin, o, e) =
                parser.read_record(input, &mut self.unquoted[nout..], &mut self.ends[nends..]);
            input = &input[nin..];
            nout += o;
            nends += e;
            if !matches!(res, R::InputEmpty) || at_end {
                break;
            }
            at_end = input.is_empty();
        }
        self.unquoted.truncate(nout);
        self.ranges.clear();
        let mut from = 0usize;
        for &e in &self.ends[..nends] {
            self.ranges.push((from as u32, e as u32));
            from = e;
        }
        line.len() == nout + nends.saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(cells: &[Cell<'_>]) -> Vec<String> {
        cells.iter().map(|c| c.display()).collect()
    }

    /// What the `csv` crate (csv-core underneath) reads from `text`, record by record.
    fn csv_records(text: &[u8]) -> Vec<Vec<String>> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text);
        r.byte_records()
            .map(|rec| {
                rec.map(|rec| {
                    rec.iter()
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .collect()
                })
                .unwrap_or_default()
            })
            .collect()
    }

    /// Splits every line of a run as the reader would hand it over.
    fn run_cells(text: &str, quote: Option<u8>) -> Vec<Vec<String>> {
        let mut ends = Vec::new();
        line_ends(text.as_bytes(), &mut ends);
        let run = LineRun {
            row: 1,
            line: 1,
            text,
            ends: &ends,
            delimiter: b',',
            quote,
        };
        let mut split = LineSplitter::default();
        let mut out = Vec::new();
        for i in 0..ends.len() {
            let mut cells = Vec::new();
            split.cells(run.line_text(i), b',', quote, &mut cells);
            out.push(texts(&cells));
        }
        out
    }

    #[test]
    fn quoted_cells_with_delimiters_and_doubled_quotes_split_as_csv_core_reads_them() {
        let text = "1,\"a,b\",\"say \"\"hi\"\"\",\"\"\n2,plain,\"\"\"\"\n\"é,ü\",x,y";
        assert_eq!(run_len(text.as_bytes(), true, b',', Some(b'"')), text.len());
        assert_eq!(
            run_cells(text, Some(b'"')),
            csv_records(text.as_bytes()),
            "{text}"
        );
        assert_eq!(
            run_cells(text, Some(b'"'))[0],
            ["1", "a,b", "say \"hi\"", ""]
        );
    }

    #[test]
    fn a_quoted_newline_ends_the_run_at_its_line_start() {
        let text = b"1,a\n2,\"x\ny\",z\n3,b\n";
        // The run is the first line; the record with the quoted newline goes to the full parser.
        assert_eq!(run_len(text, false, b',', Some(b'"')), 4);
        // Without quoting the quote is text and every line is a record.
        assert_eq!(run_len(text, false, b',', None), text.len());
        // The record's first line is not a run of its own.
        assert_eq!(run_len(&text[4..], false, b',', Some(b'"')), 0);
    }

    #[test]
    fn quotes_the_simple_split_does_not_take_end_the_run() {
        for (text, want) in [
            // A quote inside an unquoted cell, text after a closing quote, an open quote.
            (&b"a,b\nc,d\"e\nf\n"[..], 4),
            (b"a,b\n\"c\"d,e\n", 4),
            (b"a,b\n\"c,d\n", 4),
            (b"\"a\"\"\n", 0),
            // A doubled quote right before the line end closes the cell.
            (b"\"a\"\"\"\n\"\"\n", 9),
        ] {
            let show = String::from_utf8_lossy(text).into_owned();
            assert_eq!(run_len(text, false, b',', Some(b'"')), want, "{show}");
        }
    }

    #[test]
    fn crlf_lines_arrive_normalised_and_a_last_line_needs_no_newline() {
        // The reader's adapter turns CRLF into LF before runs are cut: a run never holds a CR line end.
        let text = b"1,a\n2,b";
        assert_eq!(run_len(text, true, b',', Some(b'"')), text.len());
        // Not at the end of the input, the unfinished last line waits for more text.
        assert_eq!(run_len(text, false, b',', Some(b'"')), 4);
        let mut ends = Vec::new();
        assert_eq!(line_ends(text, &mut ends), 0);
        assert_eq!(ends, [3, 7]);
        assert_eq!(run_cells("1,a\n2,b", Some(b'"')), [["1", "a"], ["2", "b"]]);
    }

    #[test]
    fn empty_lines_are_records_only_before_a_record() {
        let text = b"a\n\nb\n\n\n";
        assert_eq!(run_len(text, true, b',', None), 5);
        let mut ends = Vec::new();
        assert_eq!(line_ends(&text[..5], &mut ends), 1);
        assert_eq!(ends, [1, 2, 4]);
        assert_eq!(run_len(b"\n\n", true, b',', None), 0);
        assert_eq!(run_cells("a\n\nb\n", None), [vec!["a"], vec![], vec!["b"]]);
    }

    #[test]
    fn a_byte_order_mark_is_gone_before_runs_are_cut() {
        // open_text drops a UTF-8 BOM; one left in a later line is text, as csv-core reads it.
        let text = "a,b\n\u{feff}c,d\n";
        assert_eq!(run_cells(text, Some(b'"')), csv_records(text.as_bytes()));
    }

    #[test]
    fn lines_of_a_run() {
        let run = LineRun {
            row: 2,
            line: 2,
            text: "ab\n\ncd",
            ends: &[2, 3, 6],
            delimiter: b',',
            quote: None,
        };
        let lines: Vec<&str> = (0..4).map(|i| run.line_text(i)).collect();
        assert_eq!(lines, ["ab", "", "cd", ""]);
    }

    /// The parser's fallback reads a line with a literal quote as csv-core does, and says whether it is plain.
    #[test]
    fn the_parser_fallback_reads_one_line() {
        let mut split = LineSplitter::default();
        let mut cells = Vec::new();
        let plain = split.cells("a\"b,c", b',', Some(b'"'), &mut cells);
        assert_eq!(texts(&cells), ["a\"b", "c"]);
        assert!(plain);
        let mut split = LineSplitter::default();
        let mut cells = Vec::new();
        let plain = split.cells("\"a\"b,c", b',', Some(b'"'), &mut cells);
        assert_eq!(texts(&cells), csv_records(b"\"a\"b,c")[0]);
        assert!(!plain);
    }

    /// Random lines of quotes, delimiters, newlines and text: whatever prefix `run_len` takes is lines that are
    /// whole records, split exactly as csv-core reads them, and never left to the parser.
    #[test]
    fn runs_split_as_csv_core_reads_them() {
        let alphabet = [b'a', b',', b'"', b'\n', b'b', b'"'];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let (mut long, mut total) = (0usize, 0usize);
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = 1 + (state % 24) as usize;
            let text: Vec<u8> = (0..len)
                .map(|i| alphabet[(state.rotate_right(i as u32 * 3) % 6) as usize])
                .collect();
            let n = run_len(&text, true, b',', Some(b'"'));
            let Ok(run) = std::str::from_utf8(&text[..n]) else {
                continue;
            };
            total += n;
            long += usize::from(n > 8);
            let mut ends = Vec::new();
            line_ends(run.as_bytes(), &mut ends);
            let mut split = LineSplitter::default();
            for i in 0..ends.len() {
                let line = line_of(run, &ends, i);
                let mut ranges = Vec::new();
                let mut unquoted = Vec::new();
                assert_ne!(
                    split_line(
                        line.as_bytes(),
                        b',',
                        Some(b'"'),
                        &mut ranges,
                        &mut unquoted
                    ),
                    Split::Parser,
                    "{line:?}"
                );
                if line.is_empty() {
                    continue;
                }
                let mut cells = Vec::new();
                split.cells(line, b',', Some(b'"'), &mut cells);
                assert_eq!(texts(&cells), csv_records(line.as_bytes())[0], "{line:?}");
            }
            // The rest of the input starts a line.
            assert!(n == 0 || text[n - 1] == b'\n' || n == text.len());
        }
        assert!(long > 1_000 && total > 20_000, "{long} long runs");
    }
}
