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
    Ok(Report::new(checks))
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
