//! The gatekeeper: a config in, one [`Report`] out. Runs every gate the config names.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::config::{Artifacts, Config};
use crate::data::{self, Schema, Source, ValidateOptions};
use crate::error::Result;
use crate::report::{Check, Report, Status};
use crate::sign::{self, ScanOptions};

/// Reads the config at `path`, or as it is at git ref `from` (`--config-from`), and confines its paths.
pub fn load_config(
    path: &Path,
    from: Option<&str>,
    opts: crate::config::LoadOptions,
) -> Result<Config> {
    let Some(reference) = from else {
        return Ok(Config::load_with(path, opts)?);
    };
    let dir = path.parent().unwrap_or(Path::new(""));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = text_at_ref(dir, reference, &name, "there is no config there")?;
    let mut config = Config::parse(&text, path)?;
    config.confine(&text, opts)?;
    Ok(config)
}

/// How [`run_with`] reads its gates.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Read the schemas at this git ref (`--config-from`): the config was read there too, so a pull request
    /// cannot move its own goalposts.
    pub schemas_from: Option<String>,
    /// Compare the config and its schemas with this git ref and report what changed, first.
    pub compare_with: Option<String>,
}

pub fn run(config: &Config) -> Result<Report> {
    run_with(config, &RunOptions::default())
}

pub fn run_with(config: &Config, run: &RunOptions) -> Result<Report> {
    let checks = run_slots(config, run, None)?
        .into_iter()
        .filter_map(|s| match s {
            Slot::Check(c) => Some(c),
            Slot::Dataset(_) | Slot::Drift(_) => None,
        })
        .collect();
    Ok(Report::new(checks))
}

/// One place in a report: a finished check, or (in a shard) a dataset's share of its validation, which
/// [`crate::shard`] merges with the other shards' into the checks one run makes.
// A report holds a few slots: their size does not matter, boxing one variant only moves the warning.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Slot {
    Check(Check),
    Dataset(DatasetPart),
    Drift(Box<crate::shard::DriftShard>),
}

/// A dataset's share of a sharded check and what its merge needs: the source, the options, the schema's text
/// and name (every shard must have read the same), whether its values are hidden.
pub(crate) struct DatasetPart {
    pub source: Source,
    pub opts: ValidateOptions,
    pub schema_text: String,
    pub schema_name: String,
    pub hide: bool,
    pub state: data::ShardState,
}

/// Every gate of the config, in report order. With `shard`, datasets are validated in part (a
/// [`Slot::Dataset`] each), drift collects its share of both sides (a [`Slot::Drift`]), and every other gate
/// runs in shard 1 only: model gates evaluate the whole eval set, and the scan and the gate comparison are cheap.
pub(crate) fn run_slots(
    config: &Config,
    run: &RunOptions,
    shard: Option<data::ShardSpec>,
) -> Result<Vec<Slot>> {
    // The config (and .dvc/config) may come from a pull request: remote data only from the allowed locations.
    crate::data::source::restrict_remotes(Some(config.remotes.clone()));
    let whole = shard.is_none_or(|s| s.index == 1);
    let mut checks = vec![];
    if let (Some(reference), true) = (&run.compare_with, whole) {
        checks.extend(gate_changes(config, reference).map(Slot::Check));
    }
    // Datasets often share a schema: read each schema file once.
    let mut schemas: HashMap<PathBuf, (Schema, String)> = HashMap::new();
    for d in &config.datasets {
        if !schemas.contains_key(&d.schema) {
            let (text, shown) = match &run.schemas_from {
                Some(reference) => schema_text_at_ref(config, &d.schema, reference)?,
                None => schema_text(&d.schema)?,
            };
            let schema = Schema::parse(&text, &shown)?;
            schemas.insert(d.schema.clone(), (schema, text));
        }
        let (schema, schema_text) = &schemas[&d.schema];
        checks.extend(dataset_slots(config, d, schema, schema_text, shard)?);
    }
    if !whole {
        return Ok(checks);
    }
    checks.extend(artifact_slots(config)?);
    for m in &config.models {
        checks.push(Slot::Check(run_model(config, m)?));
    }
    Ok(checks)
}

/// One dataset's gates: its validation (whole, or this shard's part) and its drift gate (the same).
fn dataset_slots(
    config: &Config,
    d: &crate::config::Dataset,
    schema: &Schema,
    schema_text: &str,
    shard: Option<data::ShardSpec>,
) -> Result<Vec<Slot>> {
    let mut checks = vec![];
    let source = Source::new(&d.path, d.format, d.dialect.clone())?;
    confine_parts(config, &source)?;
    let mut opts = ValidateOptions::new(&d.name);
    opts.duplicate_rows = d.duplicate_rows;
    let hide = config.is_outside(&d.path) || config.is_outside(&d.schema);
    match shard {
        None => {
            let v = data::validate(&source, Some(schema), &opts)?;
            checks.extend(
                v.checks
                    .into_iter()
                    .map(|c| Slot::Check(hidden_if(hide, c))),
            );
        }
        Some(spec) => {
            let state = data::validate_shard(&source, Some(schema), &opts, spec)?;
            checks.push(Slot::Dataset(DatasetPart {
                source: source.clone(),
                opts: opts.clone(),
                schema_text: schema_text.to_string(),
                schema_name: d.schema.display().to_string(),
                hide,
                state,
            }));
        }
    }
    if let Some(dr) = &d.drift {
        let hide = hide || config.is_outside(&dr.reference);
        let (reference, opts) = drift_inputs(config, d, dr)?;
        checks.push(match shard {
            None => Slot::Check(hidden_if(
                hide,
                crate::data::drift::drift(&reference, &source, Some(schema), &opts)?,
            )),
            Some(spec) => Slot::Drift(Box::new(crate::shard::DriftShard::collect(
                &reference,
                &source,
                schema_text,
                d.schema.display().to_string(),
                &opts,
                hide,
                spec,
            )?)),
        });
    }
    Ok(checks)
}

/// The pickle scan of every artifact file the config names, once each, in config order.
fn artifact_slots(config: &Config) -> Result<Vec<Slot>> {
    let mut checks = vec![];
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
            checks.push(Slot::Check(no_match(a)));
        }
        for f in files {
            if !config.is_outside(&f)
                && crate::config::confine::check_found(&config.root, &f).is_err()
            {
                return Err(crate::error::Error::Usage(format!(
                    "{}: artifact `{}` matches {}, which is a symbolic link out of the repository ({}); pass \
                     --allow-outside-repo for a trusted config",
                    config.path.display(),
                    a.written,
                    f.display(),
                    config.root.display()
                )));
            }
            if seen.insert(f.clone()) {
                let subject = sign::display_name(f.strip_prefix(base).unwrap_or(&f));
                checks.push(Slot::Check(sign::scan(&f, &subject, &opts)?));
            }
        }
    }
    Ok(checks)
}

/// A schema file's text and the name its errors use.
fn schema_text(path: &Path) -> Result<(String, String)> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|err| crate::data::DataError::Io {
        path: shown.clone(),
        err,
    })?;
    Ok((text, shown))
}

/// `file` relative to the config's folder, as `git show REF:./PATH` wants it.
fn relative_to_config(config: &Config, file: &Path) -> String {
    let base = config.path.parent().unwrap_or(Path::new(""));
    file.strip_prefix(base)
        .unwrap_or(file)
        .to_string_lossy()
        .replace('\\', "/")
}

fn config_dir(config: &Config) -> &Path {
    config.path.parent().unwrap_or(Path::new(""))
}

/// The text of `rel` (relative to `dir`) at git ref `reference`; `missing` says what it means that it is absent.
fn text_at_ref(dir: &Path, reference: &str, rel: &str, missing: &str) -> Result<String> {
    let shown = format!("{reference}:{rel}");
    let usage = |m: String| crate::error::Error::Usage(format!("{shown}: {m}"));
    let bytes = crate::gate::git::file_at_ref(dir, reference, rel)
        .map_err(|e| usage(format!("{e}; {}", e.help(reference))))?
        .ok_or_else(|| usage(missing.to_string()))?;
    String::from_utf8(bytes).map_err(|_| usage("not UTF-8 text".into()))
}

/// The schema's text as it is at `reference` (`--config-from`), and the name its errors use.
fn schema_text_at_ref(config: &Config, file: &Path, reference: &str) -> Result<(String, String)> {
    let rel = relative_to_config(config, file);
    let text = text_at_ref(
        config_dir(config),
        reference,
        &rel,
        "the schema is not there (--config-from reads the config and its schemas there)",
    )?;
    Ok((text, format!("{reference}:{rel}")))
}

/// What this change does to its own gates against `reference`: the config and every schema it names. A base
/// that cannot be read is said too (a warning), never skipped silently.
fn gate_changes(config: &Config, reference: &str) -> Option<Check> {
    use crate::gate::{changes, git};
    let subject = config.path.display().to_string();
    let dir = config_dir(config);
    let read_head = |p: &Path| std::fs::read_to_string(p).ok();
    let read_base =
        |rel: &str| -> std::result::Result<Option<String>, git::GitError> {
            Ok(git::file_at_ref(dir, reference, rel)?
                .map(|b| String::from_utf8_lossy(&b).into_owned()))
        };
    let config_name = relative_to_config(config, &config.path);
    let outcome = (|| {
        let mut all = vec![];
        if let Some(head) = read_head(&config.path) {
            all.extend(changes::diff_config(
                &config_name,
                read_base(&config_name)?.as_deref(),
                &head,
            ));
        }
        let mut seen = HashSet::new();
        for d in &config.datasets {
            if seen.insert(&d.schema) {
                let rel = relative_to_config(config, &d.schema);
                all.extend(changes::diff_schema(
                    &rel,
                    read_base(&rel)?.as_deref(),
                    read_head(&d.schema).as_deref(),
                ));
            }
        }
        Ok::<_, git::GitError>(all)
    })();
    match outcome {
        Ok(all) => changes::check(&subject, reference, &all),
        Err(e) => {
            let mut c = Check::new(&subject, changes::KIND);
            c.status = Status::Warn;
            c.summary = format!(
                "could not compare the gates with {reference}: {e}; {}",
                e.help(reference)
            );
            Some(c)
        }
    }
}

/// A check on a file outside the repository (let through by `--allow-outside-repo`) keeps its verdict and
/// counts, but shows none of the file's values: no finding values, no value in a message, no drift histograms.
pub(crate) fn hidden_if(hide: bool, mut check: Check) -> Check {
    if !hide {
        return check;
    }
    const HIDDEN: &str = "(hidden: the file is outside the repository)";
    for f in &mut check.findings {
        if let Some(v) = f.value.take().filter(|v| !v.is_empty()) {
            f.message = f.message.replace(&v, HIDDEN);
        }
    }
    if let Some(cols) = check
        .figures
        .get_mut("columns")
        .and_then(serde_json::Value::as_array_mut)
    {
        for c in cols {
            if let Some(obj) = c.as_object_mut() {
                obj.remove("histogram");
            }
        }
    }
    check.figures.shift_remove("fields");
    check
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

/// The files of a partitioned dataset stay in the repository too: a match that is a symbolic link out of it is
/// refused (unless `--allow-outside-repo` let the dataset's path out).
fn confine_parts(config: &Config, source: &Source) -> Result<()> {
    if config.is_outside(&source.path) {
        return Ok(());
    }
    for p in &source.parts {
        if crate::config::confine::check_found(&config.root, &p.path).is_err() {
            return Err(crate::error::Error::Usage(format!(
                "{}: dataset `{}` has the part {}, which leads out of the repository ({}); pass \
                 --allow-outside-repo for a trusted config",
                config.path.display(),
                source.display,
                p.display,
                config.root.display()
            )));
        }
    }
    Ok(())
}

/// What the drift gate of one dataset compares its data with, and how: the reference and the options.
fn drift_inputs(
    config: &Config,
    d: &crate::config::Dataset,
    dr: &crate::config::DatasetDrift,
) -> Result<(Source, crate::data::drift::DriftOptions)> {
    use crate::data::drift::{ColumnOptions, DriftOptions};
    let reference = Source::new(&dr.reference, dr.format.or(d.format), d.dialect.clone())?;
    confine_parts(config, &reference)?;
    let mut opts = DriftOptions::new(&d.name);
    opts.drift_share = dr.drift_share;
    opts.exclude = dr.exclude.clone();
    opts.exact_limit = exact_limit();
    for (name, c) in &dr.columns {
        opts.columns.insert(
            name.clone(),
            ColumnOptions {
                test: c.test,
                threshold: c.threshold,
            },
        );
    }
    Ok((reference, opts))
}

/// Numeric values kept exactly per column and side. `MLGATE_DRIFT_EXACT_LIMIT` sets it: a knob for tests (a
/// sharded merge past the limit needs millions of rows otherwise), not documented for users.
fn exact_limit() -> usize {
    std::env::var("MLGATE_DRIFT_EXACT_LIMIT")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(crate::data::drift::EXACT_LIMIT)
}
