//! The gatekeeper: a config in, one [`Report`] out. Runs every gate the config names.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::config::Config;
use crate::data::{self, Schema, Source, ValidateOptions};
use crate::error::Result;
use crate::report::Report;

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
    Ok(Report::new(checks))
}

/// The drift gate of one dataset: its data against its reference, typed by its schema.
fn run_drift(
    d: &crate::config::Dataset,
    dr: &crate::config::DatasetDrift,
    current: &Source,
    schema: &Schema,
) -> Result<crate::report::Check> {
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
