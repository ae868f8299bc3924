use indexmap::IndexMap;

use crate::cli::{EvalArgs, TaskArg};
use crate::data::Format;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::gate::model_check::{metric_check, BootstrapOptions, MetricCheckInput};
use crate::model::{self, DataSpec, EvalOptions, Task};
use crate::report::Report;

pub fn run(a: EvalArgs) -> Result<Exit> {
    let spec = DataSpec {
        path: a.data.clone(),
        label: a.label.clone(),
        features: a.features.clone(),
        format: a.data_format.as_deref().and_then(Format::parse),
    };
    let opts = EvalOptions {
        task: a.task.map(|t| match t {
            TaskArg::Classification => Task::Classification,
            TaskArg::Regression => Task::Regression,
        }),
        batch_size: a.batch_size.max(1),
        class_names: a.class_names.clone(),
        latency_runs: a.latency_runs,
        threads: a.threads,
        ..EvalOptions::default()
    };
    let evaluation = model::evaluate_file(&a.model, &spec, &opts)?;
    let name = a
        .model
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("model")
        .to_string();
    let gates = IndexMap::new();
    let check = metric_check(&MetricCheckInput {
        name: &name,
        evaluation: &evaluation,
        extra_metrics: IndexMap::new(),
        baseline: None,
        gates: &gates,
        bootstrap: BootstrapOptions::default(),
        config_file: None,
    })
    .map_err(Error::Usage)?;
    super::emit(&Report::new(vec![check]), a.output.format)
}
