use std::io::Write;

use crate::cli::{OutputFormat, RunArgs};
use crate::edge::run::{run_bundle, RunOptions};
use crate::edge::{Expect, Target};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::sign::PublicKey;

/// Printed on stderr, whatever the format, when no key was pinned: the digests prove the bundle is intact, not who
/// made it, and anyone can make a bundle whose digests match.
const INTEGRITY_ONLY: &str = "\
warning: INTEGRITY ONLY: no --pubkey was given, so the bundle's digests were checked but not its signatures.
         Anyone can build a bundle whose digests match: this does not show who made it.
         Pin the publisher's key with --pubkey; --require-signature (or MLGATE_REQUIRE_SIGNATURE=1) refuses
         unsigned runs.";

pub fn run(a: RunArgs) -> Result<Exit> {
    let keys = a
        .pubkey
        .iter()
        .map(|p| PublicKey::load(p))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let target = Target::expected(
        a.target.as_deref(),
        Target::this_machine(),
        &Target::machine_name(),
    )
    .map_err(Error::Usage)?;
    let outcome = run_bundle(&RunOptions {
        bundle: a.bundle.clone(),
        input: a.input.clone(),
        selftest: a.selftest,
        keys,
        require_signature: a.require_signature,
        expect: Expect {
            target: Some(target),
            model: a.model.clone(),
            min_version: a.min_version.clone(),
        },
        features: a.features.clone(),
        batch_size: a.batch_size,
    })?;
    if a.pubkey.is_empty() && !a.require_signature {
        let _ = writeln!(anstream::stderr(), "{INTEGRITY_ONLY}");
    }
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
