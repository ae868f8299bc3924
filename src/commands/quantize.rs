use std::io::Write;

use crate::cli::{CalibrateArg, QuantizeArgs, QuantizeGateArgs, QuantizeMode, TaskArg};
use crate::data::Format;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::model::{DataSpec, EvalOptions, Task};
use crate::quantize::{
    self, Calibrate, Calibration, GateOptions, MetricSpec, Mode, QuantizeOptions,
};
use crate::report::Report;

/// The library's mode; `None` for auto.
pub(super) fn mode(m: QuantizeMode) -> Option<Mode> {
    match m {
        QuantizeMode::DynamicInt8 => Some(Mode::DynamicInt8),
        QuantizeMode::StaticInt8 => Some(Mode::StaticInt8),
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

/// static-int8's calibration data from the flags: `--calibration`, else `--data` when `default_to_data`; read
/// with the gate's label, features and format.
pub(super) fn calibration_options(
    g: &QuantizeGateArgs,
    default_to_data: bool,
) -> Option<Calibration> {
    let path = match (&g.calibration, &g.data) {
        (Some(c), _) => c.clone(),
        (None, Some(d)) if default_to_data => d.clone(),
        _ => return None,
    };
    Some(Calibration {
        data: DataSpec {
            path,
            label: g.label.clone().unwrap_or_default(),
            features: g.features.clone(),
            format: g.data_format.as_deref().and_then(Format::parse),
        },
        method: match g.calibrate {
            CalibrateArg::Minmax => Calibrate::MinMax,
            CalibrateArg::Percentile => Calibrate::Percentile,
        },
        batch_size: g.batch_size.max(1),
    })
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
                calibration: calibration_options(&a.gate, true),
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
                calibration_options(&a.gate, false).as_ref(),
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
