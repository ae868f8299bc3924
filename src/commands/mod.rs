//! One module per subcommand: each parses its flags into options, calls one library function and renders.

mod check;
mod drift;
mod schema_infer;
mod validate;

use std::io::Write;

use crate::cli::{Cli, Command, DataArgs, OutputFormat, SchemaCommand};
use crate::data::{Dialect, Format, Source};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::report::{self, Report};

pub fn run(cli: Cli) -> Result<Exit> {
    match cli.command {
        Command::Check(a) => check::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Schema(SchemaCommand::Infer(a)) => schema_infer::run(a),
        Command::Drift(a) => drift::run(a),
    }
}

/// The output format when none is named: annotations inside GitHub Actions, else the human rendering.
fn output_format(chosen: Option<OutputFormat>) -> OutputFormat {
    chosen.unwrap_or_else(|| {
        if std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true") {
            OutputFormat::Github
        } else {
            OutputFormat::Human
        }
    })
}

fn render(report: &Report, format: OutputFormat) -> String {
    match format {
        OutputFormat::Human => report::render_human(report),
        OutputFormat::Json => report.to_json(),
        OutputFormat::Markdown => report::render_markdown(report),
        OutputFormat::Github => {
            // Annotations for the log's margin, then the human text for people reading the log.
            let mut s = report::render_github(report);
            s.push_str(&report::render_human(report));
            s
        }
    }
}

/// Prints a rendered report; `anstream` strips colour when NO_COLOR is set or stdout is not a terminal.
fn emit(report: &Report, format: Option<OutputFormat>) -> Result<Exit> {
    let text = render(report, output_format(format));
    let mut out = anstream::stdout();
    // A closed pipe (`mlgate check | head`) is not an error of ours.
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    Ok(Exit::from(report.verdict))
}

fn source(path: &std::path::Path, a: &DataArgs) -> Result<Source> {
    let format = a.data_format.as_deref().and_then(Format::parse);
    let dialect = Dialect {
        delimiter: a.delimiter,
        quote_char: a.quote_char,
        header: !a.no_header,
        header_row: a.header_row,
        encoding: a.encoding.clone(),
    };
    Source::new(path, format, dialect).map_err(Error::from)
}
