// The `csv` crate's reading of a file, as `mlgate::fuzz::csv_differential` compares it: every record (the header
// too), fields as text; None when the crate refuses the input or a record is not UTF-8. Shared by the fuzz target
// and tests/fuzz_corpus.rs.
//
// Input with an empty line is left out: mlgate reads an empty line as a blank row (Frictionless counts it, and
// reports `blank-row`), the `csv` crate skips it; that difference is intended (fuzz/regressions/csv_differential/
// holds the input that showed it). So is input with an odd number of quote characters, an unterminated quoted
// field: mlgate refuses it (`unterminated quote`), the `csv` crate reads the quote to the end of the file.
pub fn csv_crate_records(data: &[u8]) -> Option<Vec<Vec<String>>> {
    let mut lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    lines.pop();
    let quotes = data.iter().filter(|&&b| b == b'"').count();
    if quotes % 2 == 1
        || lines.iter().any(|l| l.is_empty() || *l == b"\r")
        || quoting(data).0
        || quoting(data).1
    {
        return None;
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(data);
    let mut out = vec![];
    for record in reader.records() {
        out.push(record.ok()?.iter().map(String::from).collect());
    }
    Some(out)
}

/// Follows the quoting by the rule mlgate's reader uses (a quote opens a field only at its start; inside, a quote
/// closes it, and a quote right after reopens it; a quote inside an unquoted field is text), and tells whether a
/// line outside quotes is empty, whichever line end (`\n`, `\r\n` or a lone `\r`) ends it, and whether a quoted
/// field is still open at the end. Both are the intended differences: mlgate reads an empty line as a blank row
/// (the crate skips it) and refuses an unterminated quote (the crate reads to the end). A count of `\n`-split
/// lines or of quote characters does not tell either.
fn quoting(data: &[u8]) -> (bool, bool) {
    let (mut in_quotes, mut just_closed, mut prev) = (false, false, None::<u8>);
    let (mut len, mut i) = (0usize, 0usize);
    while i < data.len() {
        let b = data[i];
        if b == b'"' {
            if in_quotes {
                in_quotes = false;
                just_closed = true;
            } else {
                in_quotes = just_closed || prev.is_none_or(|p| matches!(p, b',' | b'\n' | b'\r'));
                just_closed = false;
            }
            len += 1;
        } else {
            just_closed = false;
            if !in_quotes && (b == b'\n' || b == b'\r') {
                if len == 0 {
                    return (true, in_quotes);
                }
                len = 0;
                if b == b'\r' && data.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            } else {
                len += 1;
            }
        }
        prev = Some(data[i]);
        i += 1;
    }
    (false, in_quotes)
}
