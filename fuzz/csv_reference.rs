// The `csv` crate's reading of a file, as `mlgate::fuzz::csv_differential` compares it: every record (the header
// too), fields as text; None when the crate refuses the input or a record is not UTF-8. Shared by the fuzz target
// and tests/fuzz_corpus.rs.
pub fn csv_crate_records(data: &[u8]) -> Option<Vec<Vec<String>>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(data);
    let mut out = vec![];
    for record in reader.records() {
        out.push(record.ok()?.iter().map(String::from).collect());
    }
    Some(out)
}
