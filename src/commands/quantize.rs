use std::io::Write;

use crate::cli::{QuantizeArgs, QuantizeGateArgs, QuantizeMode, TaskArg};
use crate::data::Format;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::model::{DataSpec, EvalOptions, Task};
use crate::quantize::{self, GateOptions, MetricSpec, Mode, QuantizeOptions};
use crate::report::Report;

/// The library's mode; `None` for auto.
pub(super) fn mode(m: QuantizeMode) -> Option<Mode> {
    match m {
        QuantizeMode::DynamicInt8 => Some(Mode::DynamicInt8),
        QuantizeMode::Fp16 => Some(Mode::Fp16),
        QuantizeMode::Auto => None,
    }
}

/// `--mode auto` without labels: nothing to pass.
pub(super) fn auto_needs_labels() -> Error {
    Error::Usage(
        "--mode auto keeps the smallest variant that passes the accuracy gate: pass --data and --label".into(),
    )
}

/// The gate's options from the flags; `None` without `--data`.
pub(super) fn gate_options(g: &QuantizeGateArgs) -> Option<GateOptions> {
    let data = g.data.as_ref()?;
    Some(GateOptions {
        data: DataSpec {
            path: data.clone(),
            label: g.label.clone().unwrap_or_default(),
            features: g.features.clone(),
            format: g.data_format.as_deref().and_then(Format::parse),
        },
        eval: EvalOptions {
            task: g.task.map(|t| match t {
                TaskArg::Classification => Task::Classification,
                TaskArg::Regression => Task::Regression,
            }),
            batch_size: g.batch_size.max(1),
            class_names: g.class_names.clone(),
            latency_runs: 0,
            ..EvalOptions::default()
        },
        metric: MetricSpec {
            name: g.metric.clone(),
            max_drop: g.max_drop,
        },
    })
}

pub fn run(a: QuantizeArgs) -> Result<Exit> {
    let outcome = match mode(a.mode) {
        Some(mode) => {
            let output = a
                .output
                .clone()
                .unwrap_or_else(|| mode.default_output(&a.model));
            quantize::quantize_file(&QuantizeOptions {
                model: a.model.clone(),
                mode,
                output,
                gate: gate_options(&a.gate),
                keep_failed: a.keep_failed,
            })?
        }
        None => {
            let gate = gate_options(&a.gate)
                .filter(|g| !g.data.label.is_empty())
                .ok_or_else(auto_needs_labels)?;
            quantize::quantize_auto(
                &a.model,
                a.output.as_deref(),
                &a.model,
                &gate,
                a.keep_failed,
            )?
        }
    };
    let name = match a.mode {
        QuantizeMode::Auto => "auto",
        _ => outcome.mode.as_str(),
    };
    let (written, output) = (outcome.written, outcome.output.clone());
    let exit = super::emit(&Report::new(vec![outcome.check]), a.output_format.format)?;
    let mut err = anstream::stderr();
    let _ = if written {
        writeln!(err, "wrote {}", output.display())
    } else {
        writeln!(
            err,
            "{name} failed the gate: nothing was written (--keep-failed writes it for inspection)"
        )
    };
    Ok(exit)
}
