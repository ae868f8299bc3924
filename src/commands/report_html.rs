//! `mlgate report REPORT.json --html -o FILE`: exit 0 when written, 2 when the report cannot be read or the file
//! cannot be written (the report's own verdict does not change the exit code: this only renders it).

use crate::cli::ReportArgs;
use crate::error::Result;
use crate::exit::Exit;

pub fn run(a: ReportArgs) -> Result<Exit> {
    let report = crate::sign::dsse::read_report(&a.report)?;
    let html = crate::report::render_html(&report);
    crate::fsutil::write_atomic(&a.output, html.as_bytes())?;
    eprintln!(
        "mlgate: wrote {} ({} verdict)",
        a.output.display(),
        match report.verdict {
            crate::report::Verdict::Pass => "pass",
            crate::report::Verdict::Fail => "fail",
        }
    );
    Ok(Exit::Pass)
}
