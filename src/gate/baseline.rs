//! Baselines: the model as it is at the base ref (`git show REF:./PATH`, so a shallow clone works once that ref
//! is fetched), or the metrics of a previous report.json.

use std::io::Write;
use std::path::Path;

use indexmap::IndexMap;
use serde_json::Value;

use crate::model::ModelError;

/// `origin/$GITHUB_BASE_REF` in a pull request's workflow, else `origin/main`.
pub fn default_ref() -> String {
    default_ref_for(std::env::var("GITHUB_BASE_REF").ok().as_deref())
}

/// The default ref for a given `$GITHUB_BASE_REF` (empty outside pull-request workflows).
pub fn default_ref_for(base_ref: Option<&str>) -> String {
    match base_ref.map(str::trim) {
        Some(b) if !b.is_empty() => format!("origin/{b}"),
        _ => "origin/main".into(),
    }
}

/// The model file at `reference`, written to a temporary file with the same extension. `dir` is the folder
/// `path` is relative to. `Ok(None)` when the ref exists but does not have the file (a new model).
pub fn model_at_ref(
    dir: &Path,
    reference: &str,
    path: &str,
) -> Result<Option<tempfile::NamedTempFile>, ModelError> {
    let what = format!("{reference}:{path}");
    let bytes = match super::git::file_at_ref(dir, reference, path) {
        Ok(Some(b)) => b,
        Ok(None) => return Ok(None),
        Err(e) => {
            let mut help = e.help(reference);
            if !matches!(e, super::git::GitError::NoGit(_)) {
                help.push_str("; or set `baseline.ref` in mlgate.yml");
            }
            return Err(ModelError::Baseline {
                what,
                message: e.to_string(),
                help: Some(help),
            });
        }
    };
    let ext = Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| format!(".{e}"))
        .unwrap_or_default();
    let io = |e: std::io::Error| ModelError::Baseline {
        what: what.clone(),
        message: format!("cannot write the baseline model to a temporary file: {e}"),
        help: None,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix("mlgate-baseline-")
        .suffix(&ext)
        .tempfile()
        .map_err(io)?;
    tmp.write_all(&bytes).map_err(io)?;
    tmp.flush().map_err(io)?;
    Ok(Some(tmp))
}

/// Metric values by name; `None` where a metric was missing.
pub type Metrics = IndexMap<String, Option<f64>>;

/// The metrics and row count of model `name` in a previous report.json.
pub fn metrics_from_report(
    path: &Path,
    name: &str,
) -> Result<(Metrics, Option<usize>), ModelError> {
    let what = path.display().to_string();
    let report = crate::sign::dsse::read_report(path).map_err(|e| ModelError::Baseline {
        what: what.clone(),
        message: e.to_string(),
        help: Some(
            "pass the report.json that `mlgate check --report-dir DIR` wrote on the base branch"
                .into(),
        ),
    })?;
    let check = report
        .checks
        .iter()
        .find(|c| c.kind == super::model_check::KIND && c.subject == name)
        .ok_or_else(|| ModelError::Baseline {
            what: what.clone(),
            message: format!("the report has no metric check for model {name:?}"),
            help: Some(
                "the baseline report must come from a config with the same model name".into(),
            ),
        })?;
    let mut out = IndexMap::new();
    if let Some(Value::Array(rows)) = check.figures.get("metrics") {
        for r in rows {
            if let Some(n) = r.get("name").and_then(Value::as_str) {
                out.insert(n.to_string(), r.get("value").and_then(Value::as_f64));
            }
        }
    }
    let rows = check
        .figures
        .get("rows")
        .and_then(Value::as_u64)
        .map(|r| r as usize);
    Ok((out, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_ref_follows_the_pull_request_base() {
        assert_eq!(default_ref_for(Some("release/2.0")), "origin/release/2.0");
        assert_eq!(default_ref_for(Some("")), "origin/main");
        assert_eq!(default_ref_for(None), "origin/main");
        assert_eq!(
            super::super::git::GitError::NoRef("origin/dev".into())
                .help("origin/dev")
                .split('`')
                .nth(1),
            Some("git fetch --depth=1 origin dev")
        );
    }
}
