use std::io::Write;

use crate::cli::BundleArgs;
use crate::edge::bundle::Signing;
use crate::edge::{build_bundle, BundleOptions, Target};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::fsutil::write_atomic;
use crate::quantize::QuantizeOptions;
use crate::sign::dsse::read_report;
use crate::sign::provenance::Provenance;
use crate::sign::AttestOptions;

pub fn run(a: BundleArgs) -> Result<Exit> {
    let target = Target::named(&a.target).map_err(Error::Usage)?;
    let name = match &a.name {
        Some(n) => n.clone(),
        None => a
            .model
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into()),
    };
    if name.is_empty() || name.contains(['/', '\\']) || a.bundle_version.contains(['/', '\\']) {
        return Err(Error::Usage(
            "--name and --bundle-version become the bundle's file name: no slashes".into(),
        ));
    }
    let report = match &a.report {
        Some(p) => {
            let r = read_report(p)?;
            if r.verdict != crate::report::Verdict::Pass {
                let mut err = anstream::stderr();
                let _ = writeln!(
                    err,
                    "{}: the gate verdict is fail; nothing was bundled",
                    p.display()
                );
                return Ok(Exit::GateFailed);
            }
            Some((p.clone(), r))
        }
        None => None,
    };
    let preprocessing = match &a.preprocessing {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| {
                Error::Usage(format!(
                    "{}: cannot read the preprocessing file: {e}",
                    p.display()
                ))
            })?;
            Some(serde_json::from_str(&text).map_err(|e| {
                Error::Usage(format!(
                    "{}: line {}, column {}: not JSON: {e}",
                    p.display(),
                    e.line(),
                    e.column()
                ))
            })?)
        }
        None => None,
    };
    let signing = match &a.key.key {
        None => None,
        Some(k) => {
            if a.report.is_none() {
                return Err(Error::Usage(
                    "a signed bundle carries an attestation that binds the gate report: pass --report out/report.json"
                        .into(),
                ));
            }
            let key = super::secret_key(Some(k))?;
            let commit = super::commit(a.commit.clone())?;
            Some(Signing {
                key,
                attest: AttestOptions {
                    paths: vec![],
                    report: a.report.clone().unwrap_or_default(),
                    repository: super::env_nonempty("GITHUB_REPOSITORY"),
                    timestamp: super::timestamp(),
                    provenance: Provenance::from_actions(super::env_nonempty, &commit),
                    commit,
                },
            })
        }
    };
    // With --quantize the bundle carries the quantized model, made in a temporary folder under the gate; a
    // variant that fails the gate is not bundled.
    let tmp_dir;
    let (model, precision, quantization) = match a.quantize {
        None => {
            if a.gate.data.is_some() {
                return Err(Error::Usage(
                    "--data, --label and the other gate options go with --quantize MODE".into(),
                ));
            }
            (a.model.clone(), None, None)
        }
        Some(m) => {
            tmp_dir = tempfile::tempdir().map_err(|e| Error::Write {
                path: std::env::temp_dir().display().to_string(),
                source: e,
            })?;
            let in_tmp = tmp_dir.path().join(
                a.model
                    .file_name()
                    .map(std::path::PathBuf::from)
                    .unwrap_or_else(|| "model.onnx".into()),
            );
            let outcome = match super::quantize::mode(m) {
                Some(mode) => crate::quantize::quantize_file(&QuantizeOptions {
                    model: a.model.clone(),
                    mode,
                    output: mode.default_output(&in_tmp),
                    gate: super::quantize::gate_options(&a.gate),
                    keep_failed: false,
                    calibration: super::quantize::calibration_options(&a.gate, true),
                })?,
                None => {
                    let gate = super::quantize::gate_options(&a.gate)
                        .filter(|g| !g.data.label.is_empty())
                        .ok_or_else(super::quantize::auto_needs_labels)?;
                    crate::quantize::quantize_auto(
                        &a.model,
                        None,
                        &in_tmp,
                        &gate,
                        super::quantize::calibration_options(&a.gate, false).as_ref(),
                        false,
                    )?
                }
            };
            if !outcome.passed {
                let mut err = anstream::stderr();
                let _ = writeln!(
                    err,
                    "{}: fail: {}; nothing was bundled",
                    outcome.check.id, outcome.check.summary
                );
                return Ok(Exit::GateFailed);
            }
            (
                outcome.output.clone(),
                Some(outcome.mode.precision().to_string()),
                Some(outcome.manifest_entry()),
            )
        }
    };
    let described = crate::edge::describe::describe(&model)?;
    // A TFLite file's own precision wins over the target's: it is packaged as it is.
    let precision = precision.or(described.precision);
    let selftest = match &a.selftest {
        None => None,
        Some(_) if !described.evaluable_by_tract => {
            return Err(Error::Usage(format!(
                "--selftest: tract cannot run {} (a quantized TFLite model), so no outputs can be computed for \
                 its self-test",
                model.display()
            )))
        }
        Some(data) => Some(crate::edge::selftest::prepare(
            &model,
            data,
            a.selftest_tolerance,
            a.selftest_rel_tolerance,
        )?),
    };
    let opts = BundleOptions {
        model: model.clone(),
        name,
        version: a.bundle_version.clone(),
        target,
        inputs: described.inputs,
        outputs: described.outputs,
        evaluable_by_tract: described.evaluable_by_tract,
        labels: a.labels.clone(),
        preprocessing,
        report,
        signing,
        precision,
        quantization,
        selftest,
    };
    let built = build_bundle(&opts)?;
    std::fs::create_dir_all(&a.out_dir).map_err(|e| Error::Write {
        path: a.out_dir.display().to_string(),
        source: e,
    })?;
    let out = a.out_dir.join(&built.file_name);
    write_atomic(&out, &built.bytes)?;
    super::make_world_readable(&out)?;
    let mut stdout = anstream::stdout();
    let _ = writeln!(
        stdout,
        "bundled {} for {} -> {} ({} bytes, {} entries: {})",
        a.model.display(),
        target.name,
        out.display(),
        built.bytes.len(),
        built.entries.len(),
        built.entries.join(", ")
    );
    Ok(Exit::Pass)
}
