//! `mlgate.yml`: raw config in, checked [`Config`] out. Unknown keys and wrong types are errors that point at
//! file:line:col with a help line. Only parses and validates; running is `check`'s job.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use miette::{Diagnostic, NamedSource, SourceSpan};
use schemars::JsonSchema;
use serde::Deserialize;
use thiserror::Error;

use crate::data::drift::Test as DriftTest;
use crate::data::{Dialect, Format};
use crate::gate::{direction_of, Direction, GateSpec, Missing};
use crate::model::Task;

pub mod confine;
pub mod release;

/// The config format's version.
pub const CONFIG_VERSION: u32 = 1;

/// `mlgate.yml`, as written.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
#[schemars(
    title = "mlgate.yml",
    description = "Configuration of mlgate, the gatekeeper of an ML repository"
)]
pub struct RawConfig {
    /// Config format version; must be 1.
    pub version: u32,
    /// Datasets to validate, by name. Paths are relative to this file's folder.
    #[serde(default)]
    pub datasets: IndexMap<String, DatasetConfig>,
    /// Model files whose pickles (pickle, joblib, PyTorch) may import only allowed globals; paths, folders, globs.
    #[serde(default)]
    pub artifacts: Vec<String>,
    /// Models to evaluate and gate on their metrics, by name.
    #[serde(default)]
    pub models: IndexMap<String, ModelConfig>,
    /// The release pipeline `mlgate init --release` writes workflows for: models and targets, quantization,
    /// bundle contents, the channel and the secrets' names.
    #[serde(default)]
    pub release: Option<release::ReleaseConfig>,
    /// Remote locations mlgate may read data and models from (`s3://bucket/prefix`, `gs://...`, `az://...`,
    /// `https://host/path`, and DVC remotes): a URL in this file, or a DVC remote, outside them is refused. Read
    /// the config with `--config-from` in pull requests, so that a pull request cannot add to this list.
    #[serde(default)]
    pub remotes: Vec<String>,
}

/// One model, evaluated on held-out data and gated on its metrics.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ModelConfig {
    /// The model file (ONNX or TFLite). Optional when `metrics_file` gives the metrics.
    #[serde(default)]
    pub path: Option<String>,
    /// classification or regression (default: told by the model's outputs).
    #[serde(default)]
    pub task: Option<Task>,
    /// The evaluation data, needed with `path`.
    #[serde(default)]
    pub eval: Option<ModelEvalConfig>,
    /// A JSON or YAML file of metrics the training job wrote (DVC's metrics.json style; nested keys join with
    /// `.`). Its metrics are gated like evaluated ones.
    #[serde(default)]
    pub metrics_file: Option<String>,
    /// What the metrics are compared with: the model at a git ref (default), or a previous report.json.
    #[serde(default)]
    pub baseline: Option<BaselineConfig>,
    /// Gates by metric name.
    #[serde(default)]
    pub gates: IndexMap<String, GateConfig>,
    /// A drop gate fails only when the bootstrap 95% interval of the delta excludes zero.
    #[serde(default)]
    pub require_significance: bool,
    /// The paired bootstrap of the deltas (default 1000 resamples, seed 42).
    #[serde(default)]
    pub bootstrap: Option<BootstrapConfig>,
    /// Class names in the model's class order (default: from the model's metadata).
    #[serde(default)]
    pub class_names: Option<Vec<String>>,
}

/// The evaluation data of a model.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ModelEvalConfig {
    /// A table (CSV, TSV, JSON Lines, Parquet) or NumPy arrays (.npz, .npy).
    pub data: String,
    /// The label column (tables), the label array (.npz), or a .npy file of labels.
    pub label: String,
    /// Feature columns in the model's input order (default: every other column, in file order).
    #[serde(default)]
    pub features: Option<Vec<String>>,
    /// The table format, when the file name does not tell it.
    #[serde(default)]
    pub format: Option<Format>,
    /// Rows per model run (default 256).
    #[serde(default)]
    pub batch_size: Option<usize>,
}

/// A model's baseline.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct BaselineConfig {
    /// The git ref whose version of the model is re-evaluated on the same data (default `origin/$GITHUB_BASE_REF`,
    /// else `origin/main`).
    #[serde(default, rename = "ref")]
    pub reference: Option<String>,
    /// A previous report.json whose metrics for this model are the baseline (instead of a git ref).
    #[serde(default)]
    pub report: Option<String>,
}

/// The gate of one metric (MLflow's MetricThreshold).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct GateConfig {
    /// The lowest allowed value.
    #[serde(default)]
    pub min: Option<f64>,
    /// The highest allowed value.
    #[serde(default)]
    pub max: Option<f64>,
    /// The largest allowed worsening against the baseline, in the metric's units.
    #[serde(default)]
    pub max_drop: Option<f64>,
    /// The largest allowed worsening as a share of the baseline (0.01 = 1%).
    #[serde(default)]
    pub max_relative_drop: Option<f64>,
    /// higher_is_better or lower_is_better; required for custom metrics.
    #[serde(default)]
    pub direction: Option<Direction>,
    /// What a metric that cannot be computed does: fail (default), warn or skip.
    #[serde(default)]
    pub missing: Option<Missing>,
}

/// The paired bootstrap.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct BootstrapConfig {
    /// Resamples (default 1000).
    #[serde(default)]
    pub resamples: Option<usize>,
    /// The generator's seed (default 42).
    #[serde(default)]
    pub seed: Option<u64>,
}

/// A checked model entry: paths resolved against the config's folder.
#[derive(Debug, Clone)]
pub struct ModelEntry {
    pub name: String,
    pub path: Option<PathBuf>,
    /// The model path as written (relative to the config's folder), for `git show REF:./PATH`.
    pub written_path: Option<String>,
    pub task: Option<Task>,
    pub eval: Option<ModelEval>,
    pub metrics_file: Option<PathBuf>,
    pub baseline: Option<ModelBaseline>,
    pub gates: IndexMap<String, GateSpec>,
    pub resamples: usize,
    pub seed: u64,
    pub class_names: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct ModelEval {
    pub data: PathBuf,
    pub label: String,
    pub features: Option<Vec<String>>,
    pub format: Option<Format>,
    pub batch_size: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ModelBaseline {
    /// `None`: the default ref.
    Git {
        reference: Option<String>,
    },
    Report {
        path: PathBuf,
        written: String,
    },
}

/// One dataset held against its data contract.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct DatasetConfig {
    /// The data file (CSV, TSV, JSON Lines or Parquet; CSV/TSV/JSON Lines may be gzip-compressed), or a
    /// partitioned dataset: a folder or a glob (`data/*.parquet`) of files of one format, read in name order, whose
    /// Hive-style `key=value/` folders become columns.
    pub path: String,
    /// The Frictionless Table Schema (JSON or YAML) the data must pass.
    pub schema: String,
    /// The data format, when the file name does not tell it.
    #[serde(default)]
    pub format: Option<Format>,
    /// How a CSV/TSV file is laid out.
    #[serde(default)]
    pub dialect: Option<Dialect>,
    /// Also report rows that repeat an earlier row (Frictionless' opt-in `duplicate-row` check).
    #[serde(default)]
    pub duplicate_rows: bool,
    /// Check this dataset for drift against a reference (Evidently's default tests unless overridden).
    #[serde(default)]
    pub drift: Option<DriftConfig>,
}

/// Drift of a dataset against its reference.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct DriftConfig {
    /// The reference data (same columns; any format the readers read). Relative to this file's folder.
    pub reference: String,
    /// The reference's format, when its file name does not tell it.
    #[serde(default)]
    pub format: Option<Format>,
    /// The dataset drifts when at least this share of the tested columns drifted (default 0.5).
    #[serde(default)]
    pub drift_share: Option<f64>,
    /// Columns left out of the drift check (ids, timestamps, ...).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Per-column test and threshold, overriding Evidently's default choice.
    #[serde(default)]
    pub columns: IndexMap<String, DriftColumnConfig>,
}

/// The test of one column.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct DriftColumnConfig {
    /// ks, chisquare, z, wasserstein, jensenshannon, psi, kl_div or l_infinity.
    #[serde(default)]
    pub test: Option<DriftTest>,
    /// The test's threshold: a p-value for ks/chisquare/z, a distance otherwise.
    #[serde(default)]
    pub threshold: Option<f64>,
}

/// A checked drift block: paths resolved.
#[derive(Debug, Clone)]
pub struct DatasetDrift {
    pub reference: PathBuf,
    pub format: Option<Format>,
    pub drift_share: f64,
    pub exclude: Vec<String>,
    pub columns: IndexMap<String, DriftColumnConfig>,
}

/// A checked config: paths resolved against the config file's folder.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub datasets: Vec<Dataset>,
    pub artifacts: Vec<Artifacts>,
    pub models: Vec<ModelEntry>,
    /// The checked `release:` block, when there is one.
    pub release: Option<release::Release>,
    /// Every path the config names, with its key, for [`Config::confine`].
    pub paths: Vec<ConfigPath>,
    /// The repository the paths must stay in ([`confine::repo_root`]).
    pub root: PathBuf,
    /// Resolved paths outside the repository that `--allow-outside-repo` let through: their values are not
    /// shown.
    pub outside: Vec<PathBuf>,
    /// Remote locations (URL prefixes, DVC folder remotes) data may be read from: `remotes:` and
    /// `--allow-remote`.
    pub remotes: Vec<String>,
}

/// One path in the config: where it is (`datasets.train.path`), as written, and resolved.
#[derive(Debug, Clone)]
pub struct ConfigPath {
    pub key: String,
    pub written: String,
    pub resolved: PathBuf,
    /// A glob pattern: only its fixed prefix is checked here, its matches when they are found.
    pub glob: bool,
}

/// How [`Config::load_with`] treats the config's paths.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Let paths leave the repository (absolute, `..`, symbolic links): for trusted configs only.
    pub allow_outside_repo: bool,
    /// Remote locations allowed on top of the config's `remotes:` (`--allow-remote`).
    pub allow_remote: Vec<String>,
}

/// One entry of `artifacts:`.
#[derive(Debug, Clone)]
pub struct Artifacts {
    /// As written in the config.
    pub written: String,
    /// Resolved against the config's folder.
    pub path: PathBuf,
    /// A glob pattern (`*`, `?`, `[`) rather than a path.
    pub glob: bool,
}

#[derive(Debug, Clone)]
pub struct Dataset {
    pub name: String,
    pub path: PathBuf,
    pub schema: PathBuf,
    pub format: Option<Format>,
    pub dialect: Dialect,
    pub duplicate_rows: bool,
    pub drift: Option<DatasetDrift>,
}

#[derive(Debug, Error, Diagnostic)]
pub enum ConfigError {
    #[error("{path}: cannot read the config: {err}")]
    #[diagnostic(
        code(mlgate::config::io),
        help("pass the config with -c PATH; the default is ./mlgate.yml")
    )]
    Io { path: String, err: std::io::Error },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(Box<InvalidConfig>),
}

/// A config that does not parse or check, with the place in the file (boxed: it carries the file's text).
#[derive(Debug, Error, Diagnostic)]
#[error("{path}:{line}:{column}: {message}")]
#[diagnostic(code(mlgate::config::invalid))]
pub struct InvalidConfig {
    pub path: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
    #[help]
    pub help: Option<String>,
    #[source_code]
    src: NamedSource<String>,
    #[label("here")]
    span: Option<SourceSpan>,
}

const KEYS_HELP: &str =
    "mlgate.yml keys: version, datasets.NAME.{path, schema, format, dialect, duplicate_rows, drift.{reference, format, drift_share, exclude, columns}}, artifacts, remotes, models.NAME.{path, task, eval.{data, label, features, format, batch_size}, metrics_file, baseline.{ref, report}, gates.METRIC.{min, max, max_drop, max_relative_drop, direction, missing}, require_significance, bootstrap.{resamples, seed}, class_names}, release.{models[].{model, name, targets, quantize.{mode, metric, max_drop, calibration}, labels, preprocessing, selftest}, pubkey, channel.{url, branch, root, pages}, github_release, attest, health_cmd, secrets.{signing_key, channel_key, stable_channel_key}}; mlgate.schema.json describes them all";

const REMOTES_HELP: &str = "a pull request must not make the gate read any URL with the runner's cloud credentials: \
list the bucket or prefix under `remotes:` in mlgate.yml (read with --config-from in pull requests) or pass \
--allow-remote PREFIX";

/// A path as written in the config, resolved against the config's folder; a URL stays as it is.
fn resolve(base: &Path, written: &str) -> PathBuf {
    if crate::data::source::is_url(written) {
        PathBuf::from(written)
    } else {
        base.join(written)
    }
}

fn offset_of(text: &str, line: u64, column: u64) -> Option<usize> {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1) as usize)
        .map(str::len)
        .sum();
    let line_text = text.get(start..)?.lines().next().unwrap_or("");
    let col: usize = line_text
        .chars()
        .take(column.saturating_sub(1) as usize)
        .map(char::len_utf8)
        .sum();
    Some(start + col)
}

fn invalid(
    path: &str,
    text: &str,
    line: u64,
    column: u64,
    message: String,
    help: Option<String>,
) -> ConfigError {
    let span = offset_of(text, line, column).map(|o| SourceSpan::from((o, 1)));
    ConfigError::Invalid(Box::new(InvalidConfig {
        path: path.to_string(),
        line,
        column,
        message,
        help,
        src: NamedSource::new(path, text.to_string()),
        span,
    }))
}

/// Line and column of the first `needle` after the top-level key `key:` (else of the first `needle`), for
/// errors in a block whose names may also appear earlier in the file.
fn locate_after(text: &str, key: &str, needle: &str) -> (u64, u64) {
    let start = if text.starts_with(key) {
        Some(0)
    } else {
        text.find(&format!("\n{key}")).map(|i| i + 1)
    };
    match start.and_then(|s| text[s..].find(needle).map(|i| s + i)) {
        Some(pos) => locate_from(text, pos),
        None => locate(text, needle),
    }
}

/// Line and column of byte offset `pos` in `text`.
fn locate_from(text: &str, pos: usize) -> (u64, u64) {
    let before = &text[..pos];
    let line = before.matches('\n').count() as u64 + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
    (line, col)
}

/// Line and column of `needle` in `text` (the first occurrence), for errors found after parsing.
fn locate(text: &str, needle: &str) -> (u64, u64) {
    match text.find(needle) {
        Some(pos) => {
            let before = &text[..pos];
            let line = before.matches('\n').count() as u64 + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
            (line, col)
        }
        None => (1, 1),
    }
}

impl Config {
    /// Reads, checks and confines the config at `path` (paths must stay inside the repository).
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Self::load_with(path, LoadOptions::default())
    }

    pub fn load_with(path: &Path, opts: LoadOptions) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| ConfigError::Io {
            path: shown.clone(),
            err,
        })?;
        let mut config = Self::parse(&text, path)?;
        config.confine(&text, opts)?;
        Ok(config)
    }

    /// Checks that every path stays inside the repository, else names the first that leaves it, with its key
    /// and line. With `allow_outside_repo`, such paths are kept in [`Config::outside`] instead.
    pub fn confine(&mut self, text: &str, opts: LoadOptions) -> Result<(), ConfigError> {
        let base = self
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        self.root = confine::repo_root(&base);
        let shown = self.path.display().to_string();
        self.remotes.extend(opts.allow_remote.iter().cloned());
        for p in &self.paths {
            if crate::data::source::is_url(&p.written) {
                if crate::data::source::allowed(&p.written, &self.remotes) {
                    continue;
                }
                let (l, c) = locate(text, &p.written);
                return Err(invalid(
                    &shown,
                    text,
                    l,
                    c,
                    format!(
                        "`{}`: {:?} is not under an allowed remote location",
                        p.key, p.written
                    ),
                    Some(REMOTES_HELP.into()),
                ));
            }
            let written = if p.glob {
                confine::glob_prefix(&p.written)
            } else {
                p.written.as_str()
            };
            let Err(escape) = confine::check(&self.root, &base, written) else {
                continue;
            };
            if opts.allow_outside_repo {
                self.outside.push(p.resolved.clone());
                continue;
            }
            let (l, c) = locate(text, &p.written);
            return Err(invalid(
                &shown,
                text,
                l,
                c,
                format!(
                    "`{}`: {:?} {}",
                    p.key,
                    p.written,
                    escape.describe()
                ),
                Some(format!(
                    "paths in mlgate.yml must stay inside the repository ({}): a pull request must not make the gate \
                     read other files of the runner; pass --allow-outside-repo for a trusted config (values from \
                     files outside are then not shown)",
                    self.root.display()
                )),
            ));
        }
        Ok(())
    }

    /// Whether `file` is outside the repository and was let through by `--allow-outside-repo`: its values must
    /// not be shown.
    pub fn is_outside(&self, file: &Path) -> bool {
        // A URL is not a file of the runner: `remotes:` is what guards it.
        if crate::data::source::is_url(&file.to_string_lossy()) {
            return false;
        }
        self.outside.iter().any(|o| file.starts_with(o))
            || (!self.outside.is_empty() && confine::check_found(&self.root, file).is_err())
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let raw: RawConfig = serde_saphyr::from_str(text).map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((1, 1));
            let message = first_line(&e.to_string());
            invalid(&shown, text, line, column, message, Some(KEYS_HELP.into()))
        })?;
        if raw.version != CONFIG_VERSION {
            let (l, c) = locate(text, "version");
            return Err(invalid(
                &shown,
                text,
                l,
                c,
                format!("unsupported config version {}", raw.version),
                Some("this mlgate reads `version: 1`".into()),
            ));
        }
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut paths = vec![];
        let mut note = |key: String, written: &str, glob: bool| {
            paths.push(ConfigPath {
                key,
                written: written.to_string(),
                resolved: resolve(&base, written),
                glob,
            })
        };
        let mut datasets = vec![];
        for (name, d) in raw.datasets {
            note(format!("datasets.{name}.path"), &d.path, is_glob(&d.path));
            note(format!("datasets.{name}.schema"), &d.schema, false);
            if let Some(dc) = &d.drift {
                note(
                    format!("datasets.{name}.drift.reference"),
                    &dc.reference,
                    is_glob(&dc.reference),
                );
            }
            if d.path.trim().is_empty() {
                let (l, c) = locate(text, &name);
                return Err(invalid(
                    &shown,
                    text,
                    l,
                    c,
                    format!("dataset {name:?} has an empty `path`"),
                    None,
                ));
            }
            let drift = match d.drift {
                None => None,
                Some(dc) => Some(check_drift(&shown, text, &name, &base, dc)?),
            };
            datasets.push(Dataset {
                drift,
                path: resolve(&base, &d.path),
                schema: base.join(&d.schema),
                format: d.format,
                dialect: d.dialect.unwrap_or_default(),
                duplicate_rows: d.duplicate_rows,
                name,
            });
        }
        let mut artifacts = vec![];
        for (i, a) in raw.artifacts.into_iter().enumerate() {
            note(format!("artifacts[{i}]"), &a, a.contains(['*', '?', '[']));
            let (l, c) = locate(text, &a);
            if a.trim().is_empty() {
                return Err(invalid(
                    &shown,
                    text,
                    l,
                    c,
                    "an empty entry in `artifacts`".into(),
                    None,
                ));
            }
            let glob = a.contains(['*', '?', '[']);
            if glob {
                if let Err(e) = glob::Pattern::new(&a) {
                    return Err(invalid(
                        &shown,
                        text,
                        l,
                        c,
                        format!("`{a}` is not a valid glob pattern: {}", e.msg),
                        Some("patterns use *, ?, [abc] and ** (any folders)".into()),
                    ));
                }
            }
            artifacts.push(Artifacts {
                path: base.join(&a),
                written: a,
                glob,
            });
        }
        let release = match raw.release {
            None => None,
            Some(r) => {
                for (key, written) in release::paths(&r) {
                    note(key, &written, false);
                }
                let checked = release::check(r, &raw.models).map_err(|p| {
                    let (l, c) = release::position(text, &p);
                    invalid(&shown, text, l, c, p.message, Some(p.help))
                })?;
                Some(checked)
            }
        };
        let mut models = vec![];
        for (name, m) in raw.models {
            if let Some(p) = &m.path {
                note(format!("models.{name}.path"), p, false);
            }
            if let Some(e) = &m.eval {
                note(format!("models.{name}.eval.data"), &e.data, false);
            }
            if let Some(p) = &m.metrics_file {
                note(format!("models.{name}.metrics_file"), p, false);
            }
            if let Some(p) = m.baseline.as_ref().and_then(|b| b.report.as_ref()) {
                note(format!("models.{name}.baseline.report"), p, false);
            }
            models.push(check_model(&shown, text, &name, &base, m)?);
        }
        Ok(Config {
            path: path.to_path_buf(),
            datasets,
            artifacts,
            models,
            release,
            paths,
            root: base.clone(),
            outside: vec![],
            remotes: raw.remotes,
        })
    }
}

/// Whether a dataset path is a glob pattern (a partitioned dataset; confined by the part before the wildcard).
fn is_glob(path: &str) -> bool {
    path.contains(['*', '?', '['])
}

/// Checks a drift block's numbers and resolves its reference path.
fn check_drift(
    shown: &str,
    text: &str,
    name: &str,
    base: &Path,
    dc: DriftConfig,
) -> Result<DatasetDrift, ConfigError> {
    let bad = |key: &str, message: String, help: &str| {
        let (l, c) = locate(text, key);
        invalid(shown, text, l, c, message, Some(help.to_string()))
    };
    if dc.reference.trim().is_empty() {
        return Err(bad(
            "reference",
            format!("dataset {name:?}: `drift.reference` is empty"),
            "name the reference data file, e.g. `reference: data/train.csv`",
        ));
    }
    let share = dc.drift_share.unwrap_or(0.5);
    if !(share > 0.0 && share <= 1.0) {
        return Err(bad(
            "drift_share",
            format!("dataset {name:?}: `drift_share` must be in (0, 1], not {share}"),
            "the share of drifted columns at which the dataset drifts; Evidently's default is 0.5",
        ));
    }
    for (col, c) in &dc.columns {
        if let Some(t) = c.threshold {
            if !t.is_finite() || t < 0.0 {
                return Err(bad(
                    col,
                    format!("dataset {name:?}, column {col:?}: threshold must be a number ≥ 0, not {t}"),
                    "p-value tests (ks, chisquare, z) take a level such as 0.05; distances a value such as 0.1",
                ));
            }
        }
    }
    Ok(DatasetDrift {
        reference: resolve(base, &dc.reference),
        format: dc.format,
        drift_share: share,
        exclude: dc.exclude,
        columns: dc.columns,
    })
}

/// Checks a model entry: what to evaluate, its gates' metrics and numbers, its baseline.
fn check_model(
    shown: &str,
    text: &str,
    name: &str,
    base: &Path,
    m: ModelConfig,
) -> Result<ModelEntry, ConfigError> {
    let bad = |key: &str, message: String, help: &str| {
        let (l, c) = locate(text, key);
        invalid(shown, text, l, c, message, Some(help.to_string()))
    };
    let empty = |s: &Option<String>| s.as_ref().is_some_and(|p| p.trim().is_empty());
    if m.path.is_none() && m.metrics_file.is_none() || empty(&m.path) || empty(&m.metrics_file) {
        return Err(bad(
            name,
            format!("model {name:?} needs a `path` (a model file to evaluate) or a `metrics_file`"),
            "e.g. `path: models/model.onnx` with `eval: {data: data/test.csv, label: target}`",
        ));
    }
    if m.path.is_some() && m.eval.is_none() {
        return Err(bad(
            name,
            format!("model {name:?}: `eval` (the data and its label column) is needed to evaluate `path`"),
            "e.g. `eval: {data: data/test.csv, label: target}`",
        ));
    }
    let eval = match m.eval {
        None => None,
        Some(e) => {
            if e.data.trim().is_empty() || e.label.trim().is_empty() {
                return Err(bad(
                    "eval",
                    format!("model {name:?}: `eval.data` and `eval.label` must not be empty"),
                    "name the evaluation data file and its column of true labels",
                ));
            }
            if e.batch_size == Some(0) {
                return Err(bad(
                    "batch_size",
                    format!("model {name:?}: `batch_size` must be at least 1"),
                    "rows per model run; the default is 256",
                ));
            }
            Some(ModelEval {
                data: resolve(base, &e.data),
                label: e.label,
                features: e.features,
                format: e.format,
                batch_size: e.batch_size.unwrap_or(256),
            })
        }
    };
    let mut gates = IndexMap::new();
    for (metric, g) in m.gates {
        if g.direction.is_none() && direction_of(&metric).is_none() {
            let help = if m.metrics_file.is_some() {
                "a custom metric's gate needs `direction: higher_is_better` or `lower_is_better`"
            } else {
                "built-in metrics: accuracy, balanced_accuracy, {precision,recall,f1}_{macro,micro,weighted,binary}, roc_auc, log_loss, mae, mse, rmse, r2, mape, max_error, latency_p50/p95/p99, throughput, model_size, parameter_count; other metrics come from a `metrics_file` and need a `direction`"
            };
            return Err(bad(
                &metric,
                format!("model {name:?}: metric {metric:?} is not built in and its gate gives no `direction`"),
                help,
            ));
        }
        for (key, v) in [
            ("min", g.min),
            ("max", g.max),
            ("max_drop", g.max_drop),
            ("max_relative_drop", g.max_relative_drop),
        ] {
            if let Some(v) = v {
                let negative = key.starts_with("max_") && v < 0.0;
                if !v.is_finite() || negative {
                    return Err(bad(
                        &metric,
                        format!("model {name:?}, gate {metric:?}: `{key}` must be a finite number{}, not {v}", if negative { " ≥ 0" } else { "" }),
                        "max_drop is in the metric's units, max_relative_drop a share of the baseline (0.01 = 1%)",
                    ));
                }
            }
        }
        if (g.max_drop.is_some() || g.max_relative_drop.is_some()) && m.baseline.is_none() {
            return Err(bad(
                &metric,
                format!("model {name:?}, gate {metric:?}: a drop gate needs a `baseline`"),
                "add `baseline: {}` (the model at origin/main, or $GITHUB_BASE_REF) or `baseline: {report: report.json}`",
            ));
        }
        gates.insert(
            metric,
            GateSpec {
                min: g.min,
                max: g.max,
                max_drop: g.max_drop,
                max_relative_drop: g.max_relative_drop,
                missing: g.missing.unwrap_or_default(),
                direction: g.direction,
                require_significance: m.require_significance,
            },
        );
    }
    let baseline = match m.baseline {
        None => None,
        Some(b) => match (b.reference, b.report) {
            (Some(_), Some(_)) => return Err(bad(
                "baseline",
                format!("model {name:?}: `baseline` takes `ref` or `report`, not both"),
                "`ref` re-evaluates the model at a git ref; `report` reads a previous report.json",
            )),
            (r, None) => {
                if m.path.is_none() {
                    return Err(bad(
                        "baseline",
                        format!("model {name:?}: a git baseline needs the model's `path`"),
                        "with only a `metrics_file`, use `baseline: {report: previous/report.json}`",
                    ));
                }
                Some(ModelBaseline::Git { reference: r })
            }
            (None, Some(p)) => Some(ModelBaseline::Report {
                path: base.join(&p),
                written: p,
            }),
        },
    };
    let (resamples, seed) = match m.bootstrap {
        None => (1000, 42),
        Some(b) => (b.resamples.unwrap_or(1000), b.seed.unwrap_or(42)),
    };
    if resamples == 0 || resamples > 100_000 {
        return Err(bad(
            "resamples",
            format!("model {name:?}: `bootstrap.resamples` must be in 1..=100000, not {resamples}"),
            "1000 (the default) gives stable 95% intervals",
        ));
    }
    Ok(ModelEntry {
        name: name.to_string(),
        path: m.path.as_ref().map(|p| resolve(base, p)),
        written_path: m.path,
        task: m.task,
        eval,
        metrics_file: m.metrics_file.map(|p| base.join(p)),
        baseline,
        gates,
        resamples,
        seed,
        class_names: m.class_names,
    })
}

/// serde-saphyr's messages may carry the location again and a snippet; keep the first line, without location.
fn first_line(s: &str) -> String {
    let mut line = s.lines().next().unwrap_or(s).trim();
    line = line.strip_prefix("error: ").unwrap_or(line);
    // "line 6 column 5: unknown field ..." -> "unknown field ..."
    if line.starts_with("line ") {
        if let Some(i) = line.find(": ") {
            line = &line[i + 2..];
        }
    }
    match line.find(" at line ") {
        Some(i) => line[..i].to_string(),
        None => line.to_string(),
    }
}

/// The JSON Schema of `mlgate.yml`, for editors; committed as `mlgate.schema.json`.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(RawConfig);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Config::parse(text, Path::new("mlgate.yml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn resolves_paths_against_the_config_folder() {
        let c = Config::parse(
            "version: 1\ndatasets:\n  train:\n    path: data/train.csv\n    schema: s.json\n",
            Path::new("repo/mlgate.yml"),
        )
        .unwrap();
        assert_eq!(c.datasets[0].path, Path::new("repo/data/train.csv"));
        assert_eq!(c.datasets[0].schema, Path::new("repo/s.json"));
    }

    #[test]
    fn unknown_key_points_at_its_line() {
        let e = err("version: 1\ndatasets:\n  train:\n    path: a.csv\n    schema: s.json\n    delimter: ';'\n");
        assert!(e.starts_with("mlgate.yml:6:"), "{e}");
        assert!(e.contains("delimter"), "{e}");
    }

    #[test]
    fn wrong_type_points_at_its_line() {
        let e = err("version: one\n");
        assert!(e.starts_with("mlgate.yml:1:"), "{e}");
    }

    #[test]
    fn artifacts_are_paths_or_patterns() {
        let c = Config::parse(
            "version: 1\nartifacts:\n  - models/model.pt\n  - models/*.joblib\n",
            Path::new("repo/mlgate.yml"),
        )
        .unwrap();
        assert_eq!(c.artifacts[0].path, Path::new("repo/models/model.pt"));
        assert!(!c.artifacts[0].glob);
        assert!(c.artifacts[1].glob);
        let e = err("version: 1\nartifacts:\n  - models/[.pt\n");
        assert!(e.starts_with("mlgate.yml:3:"), "{e}");
        assert!(e.contains("not a valid glob pattern"), "{e}");
        let e = err("version: 1\nartifacts: models\n");
        assert!(e.starts_with("mlgate.yml:2:"), "{e}");
    }

    #[test]
    fn drift_block_parses_and_checks() {
        let c = Config::parse(
            "version: 1\ndatasets:\n  t:\n    path: cur.csv\n    schema: s.json\n    drift:\n      reference: ref.csv\n      drift_share: 0.3\n      exclude: [id]\n      columns:\n        age: {test: psi, threshold: 0.2}\n",
            Path::new("repo/mlgate.yml"),
        )
        .unwrap();
        let d = c.datasets[0].drift.as_ref().unwrap();
        assert_eq!(d.reference, Path::new("repo/ref.csv"));
        assert_eq!(d.drift_share, 0.3);
        assert_eq!(d.columns["age"].test, Some(DriftTest::Psi));
        let e = err("version: 1\ndatasets:\n  t:\n    path: a.csv\n    schema: s.json\n    drift:\n      reference: r.csv\n      drift_share: 1.5\n");
        assert!(e.starts_with("mlgate.yml:8:"), "{e}");
        let e = err("version: 1\ndatasets:\n  t:\n    path: a.csv\n    schema: s.json\n    drift:\n      reference: r.csv\n      columns:\n        x: {test: anova}\n");
        assert!(e.contains("anova"), "{e}");
    }

    #[test]
    fn models_parse_and_check() {
        let c = Config::parse(
            "version: 1\nmodels:\n  clf:\n    path: m.onnx\n    eval: {data: t.csv, label: target}\n    baseline: {}\n    require_significance: true\n    gates:\n      accuracy: {min: 0.85, max_drop: 0.02}\n",
            Path::new("repo/mlgate.yml"),
        )
        .unwrap();
        let m = &c.models[0];
        assert_eq!(m.path.as_deref(), Some(Path::new("repo/m.onnx")));
        assert_eq!(m.written_path.as_deref(), Some("m.onnx"));
        assert_eq!(m.baseline, Some(ModelBaseline::Git { reference: None }));
        assert!(m.gates["accuracy"].require_significance);
        assert_eq!(m.resamples, 1000);
        let e = err("version: 1\nmodels:\n  clf:\n    path: m.onnx\n    eval: {data: t.csv, label: target}\n    gates:\n      acuracy: {min: 0.8}\n");
        assert!(e.starts_with("mlgate.yml:7:"), "{e}");
        assert!(e.contains("acuracy"), "{e}");
        let e = err("version: 1\nmodels:\n  clf:\n    path: m.onnx\n    eval: {data: t.csv, label: target}\n    gates:\n      accuracy: {max_drop: 0.1}\n");
        assert!(e.contains("needs a `baseline`"), "{e}");
        let e = err("version: 1\nmodels:\n  clf:\n    path: m.onnx\n");
        assert!(e.contains("`eval`"), "{e}");
        let e = err("version: 1\nmodels:\n  clf:\n    path: m.onnx\n    eval: {data: t.csv, label: y, batch: 3}\n");
        assert!(e.starts_with("mlgate.yml:5:"), "{e}");
        let c = Config::parse(
            "version: 1\nmodels:\n  llm:\n    metrics_file: metrics.json\n    gates:\n      bleu: {min: 0.3, direction: higher_is_better, missing: warn}\n",
            Path::new("mlgate.yml"),
        )
        .unwrap();
        assert_eq!(c.models[0].gates["bleu"].missing, Missing::Warn);
    }

    #[test]
    fn wrong_version_is_an_error() {
        let e = err("version: 2\n");
        assert!(e.contains("unsupported config version 2"), "{e}");
    }
}
