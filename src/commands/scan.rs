use crate::cli::ScanArgs;
use crate::error::Result;
use crate::exit::Exit;
use crate::report::Report;
use crate::sign::{collect_files, display_name, scan, ScanOptions};

pub fn run(a: ScanArgs) -> Result<Exit> {
    let opts = ScanOptions { allow: a.allow };
    let mut checks = vec![];
    for f in &collect_files(&a.files)? {
        checks.push(scan(f, &display_name(f), &opts)?);
    }
    super::emit(&Report::new(checks), a.output.format)
}
