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
}

/// One dataset held against its data contract.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct DatasetConfig {
    /// The data file (CSV, TSV, JSON Lines or Parquet; CSV/TSV/JSON Lines may be gzip-compressed).
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
    "mlgate.yml keys: version, datasets.NAME.{path, schema, format, dialect, duplicate_rows, drift.{reference, format, drift_share, exclude, columns}}, artifacts; mlgate.schema.json describes them all";

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
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| ConfigError::Io {
            path: shown.clone(),
            err,
        })?;
        Self::parse(&text, path)
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
        let mut datasets = vec![];
        for (name, d) in raw.datasets {
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
                path: base.join(&d.path),
                schema: base.join(&d.schema),
                format: d.format,
                dialect: d.dialect.unwrap_or_default(),
                duplicate_rows: d.duplicate_rows,
                name,
            });
        }
        let mut artifacts = vec![];
        for a in raw.artifacts {
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
        Ok(Config {
            path: path.to_path_buf(),
            datasets,
            artifacts,
        })
    }
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
        reference: base.join(&dc.reference),
        format: dc.format,
        drift_share: share,
        exclude: dc.exclude,
        columns: dc.columns,
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
    fn wrong_version_is_an_error() {
        let e = err("version: 2\n");
        assert!(e.contains("unsupported config version 2"), "{e}");
    }
}
