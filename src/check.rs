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
    }
    Ok(Report::new(checks))
}
