use std::io::Write;

use crate::cli::{QuantizeArgs, QuantizeGateArgs, QuantizeMode, TaskArg};
use crate::data::Format;
use crate::error::Result;
use crate::exit::Exit;
use crate::model::{DataSpec, EvalOptions, Task};
use crate::quantize::{self, GateOptions, MetricSpec, Mode, QuantizeOptions};
use crate::report::Report;

pub(super) fn mode(m: QuantizeMode) -> Mode {
    match m {
        QuantizeMode::DynamicInt8 => Mode::DynamicInt8,
        QuantizeMode::Fp16 => Mode::Fp16,
    }
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
    let mode = mode(a.mode);
    let output = a
        .output
        .clone()
        .unwrap_or_else(|| mode.default_output(&a.model));
    let opts = QuantizeOptions {
        model: a.model.clone(),
        mode,
        output,
        gate: gate_options(&a.gate),
        keep_failed: a.keep_failed,
    };
    let outcome = quantize::quantize_file(&opts)?;
    let exit = super::emit(&Report::new(vec![outcome.check]), a.output_format.format)?;
    let mut err = anstream::stderr();
    let _ = if outcome.written {
        writeln!(err, "wrote {}", opts.output.display())
    } else {
        writeln!(
            err,
            "{} failed the gate: nothing was written (--keep-failed writes it for inspection)",
            mode.as_str()
        )
    };
    Ok(exit)
}
