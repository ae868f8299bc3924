//! `mlgate init`: the GitHub Actions workflows (the pull-request gate and the `workflow_run` publisher) and a
//! starter `mlgate.yml` for the datasets and models found in the repository, with each dataset's schema inferred
//! as `mlgate schema infer` does. Nothing that exists is replaced without `force`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::data::infer::{infer, InferOptions};
use crate::data::{Dialect, Source};
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::model::load::OutputSpec;
use crate::model::{Model, OutputRoles, Task};
use crate::templates;

pub mod release;

/// Folders never searched for data or models: build output, VCS data, dependencies, virtual environments.
fn skipped_dir(name: &str) -> bool {
    matches!(name, "target" | ".git" | "node_modules" | "__pycache__") || name.starts_with(".venv")
}

const DATA_EXTENSIONS: &[&str] = &["csv", "tsv", "jsonl", "parquet"];
const MODEL_EXTENSIONS: &[&str] = &["onnx", "tflite"];
const PICKLE_EXTENSIONS: &[&str] = &["pkl", "pickle", "joblib", "pt", "pth"];

/// Datasets and models listed at most, so that a repository full of data still gets a readable start.
const MAX_FOUND: usize = 50;

pub const GATE_WORKFLOW: &str = ".github/workflows/mlgate.yml";
pub const COMMENT_WORKFLOW: &str = ".github/workflows/mlgate-comment.yml";
pub const CONFIG: &str = "mlgate.yml";

#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The repository's root.
    pub dir: PathBuf,
    pub force: bool,
    /// The action the workflows use, `owner/repo@ref`.
    pub action: String,
    /// The branch pushes to which are gated too.
    pub default_branch: String,
    /// Write the gate as this many shard jobs and a merge job (`check --shard I/N`, `merge`).
    pub shards: Option<u32>,
}

/// What `init` wrote, and what it noticed.
#[derive(Debug, Default)]
pub struct InitOutcome {
    /// Paths relative to the repository's root, in the order written.
    pub written: Vec<String>,
    pub notes: Vec<String>,
    /// `init --release` without a `release:` block: nothing was written, and this block (derived from the
    /// config's models) is what to add.
    pub starter: Option<String>,
}

#[derive(Debug, Serialize)]
struct DatasetEntry {
    name: String,
    path: String,
    schema: String,
    /// The columns, in file order (from the inferred schema).
    #[serde(skip)]
    columns: Vec<String>,
    /// Another dataset with the same columns, checked for drift against this one's (train against holdout).
    drift: Option<DriftEntry>,
}

#[derive(Debug, Serialize)]
struct DriftEntry {
    /// The reference's dataset name and path.
    name: String,
    path: String,
}

/// The field names of an inferred Table Schema.
fn field_names(schema: &serde_json::Value) -> Vec<String> {
    schema["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["name"].as_str().map(String::from))
        .collect()
}

/// Datasets with the same columns are one dataset seen twice (train and holdout, last month and this one): each
/// is checked for drift against the group's reference, the one named like training data, else the first.
/// Returns a note per group.
fn link_drift(datasets: &mut [DatasetEntry]) -> Vec<String> {
    let mut notes = vec![];
    let mut done = vec![false; datasets.len()];
    for i in 0..datasets.len() {
        if done[i] || datasets[i].columns.is_empty() {
            continue;
        }
        let group: Vec<usize> = (i..datasets.len())
            .filter(|&j| !done[j] && datasets[j].columns == datasets[i].columns)
            .collect();
        for &j in &group {
            done[j] = true;
        }
        if group.len() < 2 {
            continue;
        }
        let reference = group
            .iter()
            .copied()
            .find(|&j| datasets[j].name.to_ascii_lowercase().contains("train"))
            .unwrap_or(group[0]);
        let (name, path) = (
            datasets[reference].name.clone(),
            datasets[reference].path.clone(),
        );
        let others: Vec<String> = group
            .iter()
            .filter(|&&j| j != reference)
            .map(|&j| datasets[j].name.clone())
            .collect();
        for &j in group.iter().filter(|&&j| j != reference) {
            datasets[j].drift = Some(DriftEntry {
                name: name.clone(),
                path: path.clone(),
            });
        }
        let verb = if others.len() == 1 { "has" } else { "have" };
        notes.push(format!(
            "{} {verb} the same columns as {name}: checked for drift against it (a `drift:` block in mlgate.yml)",
            others.join(", ")
        ));
    }
    notes
}

#[derive(Debug, Serialize)]
struct ModelEntry {
    name: String,
    path: String,
    /// The task its outputs tell, as `mlgate eval` tells it; `None` when they do not (or it did not load).
    task: Option<&'static str>,
    /// Its outputs as read (name, type, shape, part), or why the task is not told: the YAML comment.
    why: String,
}

/// A found model loaded and its task told from its outputs by the rule `mlgate eval` applies to a run
/// ([`OutputRoles`]), on the types and shapes the graph gives them. Returns the entry and, when the task is not
/// told, a note saying why.
fn model_entry(root: &Path, name: String, path: String) -> (ModelEntry, Option<String>) {
    let model = match Model::load(&root.join(&path)) {
        Ok(m) => m,
        Err(e) => {
            // The error names the file first; the comment sits under its path already.
            let text = e.to_string();
            let display = root.join(&path).display().to_string();
            let reason = text
                .strip_prefix(&format!("{display}: "))
                .unwrap_or(&text)
                .replace('\n', " ");
            let why = format!(
                "task not told, mlgate could not load it: {}",
                shorten(&reason, MAX_REASON)
            );
            let note = format!(
                "{path}: {why}; `mlgate eval` fails on it the same way, and shows the whole error"
            );
            return (
                ModelEntry {
                    name,
                    path,
                    task: None,
                    why,
                },
                Some(note),
            );
        }
    };
    let specs = model.typed_outputs();
    let facts: Vec<_> = specs.iter().map(OutputSpec::fact).collect();
    let roles = OutputRoles::of(&facts);
    let outputs = describe_outputs(&specs, &roles);
    let (task, why, note) = match roles.task() {
        Some(Task::Classification) => (Some(Task::Classification), format!("its outputs: {outputs}"), None),
        // A single float column is a regressor's value to eval, and also what a sigmoid classifier gives.
        Some(Task::Regression) => (
            Some(Task::Regression),
            format!("its outputs: {outputs}; a sigmoid classifier gives one too: then set classification"),
            None,
        ),
        None => {
            let what = if roles.unknown > 0 {
                "a type or width the graph leaves to the data"
            } else {
                "no class labels, probabilities or one value per row for `mlgate eval` to read"
            };
            let why = format!(
                "task not told by its outputs ({outputs}: {what}); set classification or regression"
            );
            let note = format!("{path}: {why}");
            (None, why, Some(note))
        }
    };
    (
        ModelEntry {
            name,
            path,
            task: task.map(Task::as_str),
            why,
        },
        note,
    )
}

/// Characters of a load error kept in mlgate.yml's comment (tract's can be a page of debug output).
const MAX_REASON: usize = 160;

/// `text` cut to `max` characters, with `…` when cut.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// `` `label` int64 [?] (labels), `probabilities` float32 [?, 2] (probabilities) ``: each output's declared type
/// and shape and the part the task rule gives it.
fn describe_outputs(outputs: &[OutputSpec], roles: &OutputRoles) -> String {
    if outputs.is_empty() {
        return "none".into();
    }
    outputs
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let part = if roles.label == Some(i) {
                " (labels)"
            } else if roles.probabilities == Some(i) {
                " (probabilities)"
            } else if roles.value == Some(i) {
                " (one value per row)"
            } else {
                ""
            };
            format!("`{}` {}{part}", o.name, o.describe())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Files under `root` with one of `exts` (case-insensitive), as `/`-separated paths relative to `root`, sorted.
fn find_files(root: &Path, exts: &[&str]) -> Vec<String> {
    let mut found: Vec<String> = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !e.file_type().is_dir()
                || !skipped_dir(&e.file_name().to_string_lossy())
        })
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .filter(|e| {
            e.path()
                .extension()
                .map(|x| x.to_string_lossy().to_ascii_lowercase())
                .is_some_and(|x| exts.contains(&x.as_str()))
        })
        .filter_map(|e| {
            e.path().strip_prefix(root).ok().map(|p| {
                p.components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/")
            })
        })
        .collect();
    found.sort();
    found
}

/// A config key for a file: its stem with anything but letters, digits, `_` and `-` made `_`, unique among
/// `taken` (a number is added when two files share a stem).
fn unique_name(path: &str, taken: &mut BTreeSet<String>) -> String {
    let stem = Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data".into());
    let mut base: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if base.is_empty() || base.starts_with('-') {
        base.insert(0, 'd');
    }
    let mut name = base.clone();
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

fn render(name: &str, ctx: minijinja::Value) -> Result<String> {
    templates::render(name, ctx, |_| {}).map_err(|e| Error::Usage(format!("bug: {e}")))
}

/// The pull-request gate: one job, or with `--shards N` a matrix of N shard jobs and the job that merges them.
fn gate_workflow(opts: &InitOptions, version: &str) -> Result<String> {
    let (template, shards) = match opts.shards {
        Some(n) => ("workflow-shards.yml.j2", n),
        None => ("workflow-gate.yml.j2", 1),
    };
    let list: Vec<String> = (1..=shards).map(|i| i.to_string()).collect();
    render(
        template,
        minijinja::context! {
            mlgate_version => version,
            action => opts.action.clone(),
            config => CONFIG,
            default_branch => opts.default_branch.clone(),
            shards => shards,
            shard_list => format!("[{}]", list.join(", ")),
        },
    )
}

/// Writes the workflows and the starter config (and its schemas).
pub fn init(opts: &InitOptions) -> Result<InitOutcome> {
    let root = &opts.dir;
    if !root.is_dir() {
        return Err(Error::Usage(format!(
            "{}: not a folder; `mlgate init --dir DIR` takes the repository's root",
            root.display()
        )));
    }
    let mut outcome = InitOutcome::default();
    let version = format!("mlgate {}", env!("CARGO_PKG_VERSION"));

    let mut taken = BTreeSet::new();
    let mut datasets = vec![];
    let mut schemas: Vec<(String, String)> = vec![];
    let data_files = find_files(root, DATA_EXTENSIONS);
    if data_files.len() > MAX_FOUND {
        outcome.notes.push(format!(
            "{} data files found; the first {MAX_FOUND} are in mlgate.yml",
            data_files.len()
        ));
    }
    for path in data_files.into_iter().take(MAX_FOUND) {
        let source = Source::new(root.join(&path), None, Dialect::default())?;
        match infer(&source, &InferOptions::default()) {
            Ok(inferred) => {
                let name = unique_name(&path, &mut taken);
                let schema = format!("schemas/{name}.schema.json");
                let mut text = serde_json::to_string_pretty(&inferred.schema).unwrap_or_default();
                text.push('\n');
                schemas.push((schema.clone(), text));
                datasets.push(DatasetEntry {
                    name,
                    path,
                    schema,
                    columns: field_names(&inferred.schema),
                    drift: None,
                });
            }
            Err(e) => outcome.notes.push(format!(
                "{path}: left out of mlgate.yml, its schema could not be inferred: {e}"
            )),
        }
    }
    outcome.notes.extend(link_drift(&mut datasets));
    let mut model_names = BTreeSet::new();
    let mut models: Vec<ModelEntry> = vec![];
    for path in find_files(root, MODEL_EXTENSIONS)
        .into_iter()
        .take(MAX_FOUND)
    {
        let name = unique_name(&path, &mut model_names);
        let (entry, note) = model_entry(root, name, path);
        models.push(entry);
        outcome.notes.extend(note);
    }
    let artifacts: Vec<String> = find_files(root, PICKLE_EXTENSIONS)
        .into_iter()
        .take(MAX_FOUND)
        .collect();

    let gate = gate_workflow(opts, &version)?;
    let comment = render(
        "workflow-comment.yml.j2",
        minijinja::context! { mlgate_version => version.clone(), action => opts.action.clone() },
    )?;
    let config = render(
        "mlgate.yml.j2",
        minijinja::context! {
            mlgate_version => version.clone(),
            datasets => minijinja::Value::from(minijinja::value::Serde(&datasets)),
            models => minijinja::Value::from(minijinja::value::Serde(&models)),
            artifacts => artifacts,
        },
    )?;

    let mut files: Vec<(String, String)> = vec![
        (GATE_WORKFLOW.into(), gate),
        (COMMENT_WORKFLOW.into(), comment),
        (CONFIG.into(), config),
    ];
    files.extend(schemas);
    write_files(root, &files, opts.force, &mut outcome)?;
    if !models.is_empty() {
        outcome.notes.push(models_note(&models));
    }
    Ok(outcome)
}

/// What init found of models: each with its task, and why the block is commented out.
fn models_note(models: &[ModelEntry]) -> String {
    let each: Vec<String> = models
        .iter()
        .map(|m| format!("{} ({})", m.name, m.task.unwrap_or("task not told")))
        .collect();
    let (n, them) = match models.len() {
        1 => ("1 model".to_string(), "its"),
        n => (format!("{n} models"), "their"),
    };
    format!(
        "{n} found, {}: {them} `models:` block in mlgate.yml is commented out until you name the evaluation data",
        each.join(", ")
    )
}

/// `mlgate init --release`: the release, deploy and channel-refresh workflows from the `release:` block of the
/// repository's mlgate.yml.
pub fn init_release(opts: &InitOptions) -> Result<InitOutcome> {
    let root = &opts.dir;
    if !root.is_dir() {
        return Err(Error::Usage(format!(
            "{}: not a folder; `mlgate init --dir DIR` takes the repository's root",
            root.display()
        )));
    }
    let version = format!("mlgate {}", env!("CARGO_PKG_VERSION"));
    let rendered = match release::render(root, CONFIG, &version, &opts.action)? {
        release::Found::Workflows(r) => r,
        release::Found::NoBlock { starter } => {
            return Ok(InitOutcome {
                starter: Some(starter),
                ..InitOutcome::default()
            })
        }
    };
    let mut outcome = InitOutcome {
        notes: rendered.notes,
        ..InitOutcome::default()
    };
    write_files(root, &rendered.files, opts.force, &mut outcome)?;
    Ok(outcome)
}

/// Writes `files` (paths relative to `root`), refusing before writing anything when one exists and `force` is
/// not set, so that a refusal leaves the repository as it was.
fn write_files(
    root: &Path,
    files: &[(String, String)],
    force: bool,
    outcome: &mut InitOutcome,
) -> Result<()> {
    if !force {
        if let Some((existing, _)) = files.iter().find(|(p, _)| root.join(p).exists()) {
            return Err(Error::Usage(format!(
                "{} exists; mlgate init replaces nothing without --force",
                root.join(existing).display()
            )));
        }
    }
    for (rel, text) in files {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Write {
                path: parent.display().to_string(),
                source,
            })?;
        }
        write_atomic(&path, text.as_bytes())?;
        crate::fsutil::make_world_readable(&path)?;
        outcome.written.push(rel.clone());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, columns: &[&str]) -> DatasetEntry {
        DatasetEntry {
            name: name.into(),
            path: format!("data/{name}.csv"),
            schema: String::new(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            drift: None,
        }
    }

    #[test]
    fn datasets_with_the_same_columns_drift_against_the_training_one() {
        let mut d = vec![
            entry("holdout", &["a", "b"]),
            entry("other", &["a", "c"]),
            entry("train", &["a", "b"]),
            entry("current", &["a", "b"]),
            entry("alone", &["z"]),
        ];
        let notes = link_drift(&mut d);
        let drift: Vec<Option<&str>> = d
            .iter()
            .map(|e| e.drift.as_ref().map(|r| r.name.as_str()))
            .collect();
        assert_eq!(drift, [Some("train"), None, None, Some("train"), None]);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("holdout, current have the same columns as train"),
            "{notes:?}"
        );
        // Without a training set, the first of the group is the reference.
        let mut d = vec![entry("may", &["x"]), entry("june", &["x"])];
        link_drift(&mut d);
        assert_eq!(d[1].drift.as_ref().unwrap().path, "data/may.csv");
        assert!(d[0].drift.is_none());
    }

    #[test]
    fn long_reasons_are_cut() {
        assert_eq!(shorten("abcdef", 3), "abc…");
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("ééé", 2), "éé…");
    }

    #[test]
    fn the_models_note_names_each_task() {
        let m = |name: &str, task| ModelEntry {
            name: name.into(),
            path: format!("models/{name}.onnx"),
            task,
            why: String::new(),
        };
        assert_eq!(
            models_note(&[m("a", Some("regression"))]),
            "1 model found, a (regression): its `models:` block in mlgate.yml is commented out until you name \
             the evaluation data"
        );
        assert!(
            models_note(&[m("a", Some("classification")), m("b", None)]).starts_with(
                "2 models found, a (classification), b (task not told): their `models:` block"
            )
        );
    }

    #[test]
    fn names_are_keys_and_unique() {
        let mut taken = BTreeSet::new();
        assert_eq!(unique_name("a/train data.csv", &mut taken), "train_data");
        assert_eq!(unique_name("b/train data.csv", &mut taken), "train_data_2");
        assert_eq!(unique_name("-x.csv", &mut taken), "d-x");
    }
}
