use std::io::Write;

use crate::cli::{OutputFormat, RunArgs};
use crate::edge::run::{run_bundle, RunOptions};
use crate::error::Result;
use crate::exit::Exit;
use crate::sign::PublicKey;

pub fn run(a: RunArgs) -> Result<Exit> {
    let keys = a
        .pubkey
        .iter()
        .map(|p| PublicKey::load(p))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let outcome = run_bundle(&RunOptions {
        bundle: a.bundle.clone(),
        input: a.input.clone(),
        keys,
        features: a.features.clone(),
        batch_size: a.batch_size,
    })?;
    let format = super::output_format(a.output.format);
    let mut out = anstream::stdout();
    if format == OutputFormat::Json {
        let value = serde_json::json!({
            "report": outcome.checked.report,
            "predictions": outcome.predictions,
        });
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
    } else {
        let _ = out.write_all(super::render(&outcome.checked.report, format).as_bytes());
        if a.pubkey.is_empty() {
            let _ = writeln!(
                anstream::stderr(),
                "warning: no --pubkey: the digests were checked, the signatures were not"
            );
        }
        if let Some(predictions) = &outcome.predictions {
            let _ = writeln!(out, "\nrow\tprediction\tscores");
            for p in predictions {
                let scores = p
                    .scores
                    .as_ref()
                    .map(|s| {
                        s.iter()
                            .map(|x| format!("{x:.4}"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_default();
                let shown = match &p.prediction {
                    serde_json::Value::String(s) => s.clone(),
                    v => v.to_string(),
                };
                let _ = writeln!(out, "{}\t{shown}\t{scores}", p.row);
            }
        }
    }
    let _ = out.flush();
    Ok(Exit::from(outcome.checked.report.verdict))
}
