use std::io::Write;

use crate::cli::InferArgs;
use crate::data::infer::{infer, InferOptions};
use crate::error::Result;
use crate::exit::Exit;
use crate::fsutil::write_atomic;

pub fn run(a: InferArgs) -> Result<Exit> {
    let source = super::source(&a.data, &a.dialect)?;
    let inferred = infer(
        &source,
        &InferOptions {
            enum_threshold: a.enum_threshold,
        },
    )?;
    let mut text = serde_json::to_string_pretty(&inferred.schema).unwrap_or_default();
    text.push('\n');
    for note in &inferred.notes {
        eprintln!("note: {note}; the data will not pass until its header is fixed");
    }
    match &a.output {
        Some(path) => {
            write_atomic(path, text.as_bytes())?;
            eprintln!("wrote {} ({} rows read)", path.display(), inferred.rows);
        }
        None => {
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
    }
    Ok(Exit::Pass)
}
