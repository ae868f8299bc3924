use crate::cli::ValidateArgs;
use crate::data::{self, Schema, ValidateOptions};
use crate::error::Result;
use crate::exit::Exit;
use crate::report::Report;

pub fn run(a: ValidateArgs) -> Result<Exit> {
    let schema = a.schema.as_deref().map(Schema::load).transpose()?;
    let source = super::source(&a.data, &a.dialect)?;
    let subject = source
        .naming_path()
        .file_stem()
        .and_then(|s| s.to_str())
        .map(|s| {
            s.trim_end_matches(".csv")
                .trim_end_matches(".tsv")
                .trim_end_matches(".jsonl")
                .to_string()
        })
        .unwrap_or_else(|| "data".into());
    let mut opts = ValidateOptions::new(subject);
    opts.duplicate_rows = a.duplicate_rows;
    let v = data::validate(&source, schema.as_ref(), &opts)?;
    super::emit(&Report::new(v.checks), a.output.format)
}
