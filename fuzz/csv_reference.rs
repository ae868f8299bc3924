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
    if quotes % 2 == 1 || lines.iter().any(|l| l.is_empty() || *l == b"\r") {
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
