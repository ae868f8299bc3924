//! The gatekeeper: a config in, one [`Report`] out. Runs every gate the config names.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::config::{Artifacts, Config};
use crate::data::{self, Schema, Source, ValidateOptions};
use crate::error::Result;
use crate::report::{Check, Report, Status};
use crate::sign::{self, ScanOptions};

pub fn run(config: &Config) -> Result<Report> {
    let mut checks = vec![];
    // Datasets often share a schema: read each schema file once.
    let mut schemas: HashMap<PathBuf, Schema> = HashMap::new();
    for d in &config.datasets {
        if !schemas.contains_key(&d.schema) {
            schemas.insert(d.schema.clone(), Schema::load(&d.schema)?);
        }
        let schema = &schemas[&d.schema];
        let source = Source::new(&d.path, d.format, d.dialect.clone())?;
        let mut opts = ValidateOptions::new(&d.name);
        opts.duplicate_rows = d.duplicate_rows;
        let v = data::validate(&source, Some(schema), &opts)?;
        checks.extend(v.checks);
        if let Some(dr) = &d.drift {
            checks.push(run_drift(d, dr, &source, schema)?);
        }
    }
    let base = config.path.parent().unwrap_or(Path::new(""));
    let mut seen = HashSet::new();
    let opts = ScanOptions::default();
    for a in &config.artifacts {
        if !a.glob && !a.path.exists() {
            return Err(crate::error::Error::Usage(format!(
                "{}: artifact `{}` does not exist ({}); paths in mlgate.yml are relative to its folder",
                config.path.display(),
                a.written,
                a.path.display()
            )));
        }
        let files = artifact_files(a)?;
        if files.is_empty() {
            checks.push(no_match(a));
        }
        for f in files {
            if seen.insert(f.clone()) {
                let subject = sign::display_name(f.strip_prefix(base).unwrap_or(&f));
                checks.push(sign::scan(&f, &subject, &opts)?);
            }
        }
    }
    for m in &config.models {
        checks.push(run_model(config, m)?);
    }
    Ok(Report::new(checks))
}

/// The metric gate of one model: evaluated (and its baseline re-evaluated on the same data), or read from its
/// metrics file, then every gate judged.
fn run_model(config: &Config, m: &crate::config::ModelEntry) -> Result<Check> {
    use crate::config::ModelBaseline;
    use crate::gate::baseline;
    use crate::gate::model_check::{
        metric_check, Baseline, BaselineSource, BootstrapOptions, MetricCheckInput,
    };
    use crate::model::{self, DataSpec, EvalOptions, Evaluation, Task};
    let opts = EvalOptions {
        task: m.task,
        batch_size: m.eval.as_ref().map_or(256, |e| e.batch_size),
        class_names: m.class_names.clone(),
        ..EvalOptions::default()
    };
    let spec = m.eval.as_ref().map(|e| DataSpec {
        path: e.data.clone(),
        label: e.label.clone(),
        features: e.features.clone(),
        format: e.format,
    });
    let extra = match &m.metrics_file {
        Some(p) => model::metrics_file::read(p)?,
        None => indexmap::IndexMap::new(),
    };
    let evaluation = match (&m.path, &spec) {
        (Some(path), Some(spec)) => model::evaluate_file(path, spec, &opts)?,
        _ => {
            // Metrics file only: nothing to run.
            let classification = extra.keys().any(|k| {
                crate::model::eval::quality_metric_names(Task::Classification, true)
                    .contains(&k.as_str())
            });
            Evaluation {
                model: m
                    .metrics_file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                task: m.task.unwrap_or(if classification {
                    Task::Classification
                } else {
                    Task::Regression
                }),
                rows: 0,
                scored: None,
                nan_rows: vec![],
                class_names: m.class_names.clone(),
                metrics: indexmap::IndexMap::new(),
            }
        }
    };
    let base_dir = config.path.parent().unwrap_or(Path::new(""));
    let mut missing_baseline = None;
    let baseline = match &m.baseline {
        None => None,
        Some(ModelBaseline::Report { path, written }) => {
            let (metrics, rows) = baseline::metrics_from_report(path, &m.name)?;
            Some(Baseline {
                source: BaselineSource::Report {
                    path: written.clone(),
                },
                rows,
                metrics,
                scored: None,
            })
        }
        Some(ModelBaseline::Git { reference }) => {
            let reference = reference.clone().unwrap_or_else(baseline::default_ref);
            let written = m.written_path.clone().unwrap_or_default();
            match (
                baseline::model_at_ref(base_dir, &reference, &written)?,
                &spec,
            ) {
                (Some(tmp), Some(spec)) => {
                    let base_model = model::Model::load(tmp.path()).map_err(|e| {
                        crate::model::ModelError::Baseline {
                            what: format!("{reference}:{written}"),
                            message: e.to_string(),
                            help: None,
                        }
                    })?;
                    let data = model::input::read(spec, &base_model.input.name)?;
                    let ev = model::evaluate(&base_model, &data, &opts)?;
                    Some(Baseline {
                        source: BaselineSource::Git {
                            reference,
                            path: written,
                        },
                        rows: Some(ev.rows),
                        metrics: ev.metrics.clone(),
                        scored: ev.scored.clone(),
                    })
                }
                _ => {
                    missing_baseline =
                        Some(format!("no baseline: {written} is not in {reference}"));
                    None
                }
            }
        }
    };
    let mut check = metric_check(&MetricCheckInput {
        name: &m.name,
        evaluation: &evaluation,
        extra_metrics: extra,
        baseline: baseline.as_ref(),
        gates: &m.gates,
        bootstrap: BootstrapOptions {
            resamples: m.resamples,
            seed: m.seed,
        },
        config_file: Some(config.path.display().to_string()),
    })
    .map_err(crate::error::Error::Usage)?;
    if let Some(note) = missing_baseline {
        check.summary = format!("{}; {note}", check.summary);
    }
    Ok(check)
}

/// The files an `artifacts:` entry names: a glob's matches (in name order), or a file, or a folder's files.
fn artifact_files(a: &Artifacts) -> Result<Vec<PathBuf>> {
    if !a.glob {
        return Ok(sign::collect_files(std::slice::from_ref(&a.path))?);
    }
    let pattern = a.path.to_string_lossy();
    let mut files: Vec<PathBuf> = glob::glob(&pattern)
        .map(|paths| {
            paths
                .filter_map(|p| p.ok())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    Ok(files)
}

fn no_match(a: &Artifacts) -> Check {
    let mut c = Check::new(&a.written, sign::pickle::KIND);
    c.status = Status::Warn;
    c.summary = format!("no file matches `{}`", a.written);
    c
}

/// The drift gate of one dataset: its data against its reference, typed by its schema.
fn run_drift(
    d: &crate::config::Dataset,
    dr: &crate::config::DatasetDrift,
    current: &Source,
    schema: &Schema,
) -> Result<Check> {
    use crate::data::drift::{self, ColumnOptions, DriftOptions};
    let reference = Source::new(&dr.reference, dr.format.or(d.format), d.dialect.clone())?;
    let mut opts = DriftOptions::new(&d.name);
    opts.drift_share = dr.drift_share;
    opts.exclude = dr.exclude.clone();
    for (name, c) in &dr.columns {
        opts.columns.insert(
            name.clone(),
            ColumnOptions {
                test: c.test,
                threshold: c.threshold,
            },
        );
    }
    Ok(drift::drift(&reference, current, Some(schema), &opts)?)
}
