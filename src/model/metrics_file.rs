//! Metrics a training job wrote (DVC's `metrics.json` style): a JSON or YAML mapping of names to numbers.
//! Nested mappings join their keys with `.` (`{"test": {"acc": 0.9}}` gives `test.acc`); `null` is a missing
//! metric; other values (text, lists) are not metrics and are left out.

use std::path::Path;

use indexmap::IndexMap;
use serde_json::Value;

use super::error::ModelError;

pub fn read(path: &Path) -> Result<IndexMap<String, Option<f64>>, ModelError> {
    let display = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|err| ModelError::Io {
        path: display.clone(),
        err,
    })?;
    let bad = |message: String| {
        ModelError::MetricsFile {
        path: display.clone(),
        message,
        help: Some("a metrics file is a JSON or YAML mapping of metric names to numbers, e.g. {\"accuracy\": 0.93}".into()),
    }
    };
    let value: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(json_err) => {
            let is_json = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("json"));
            if is_json {
                return Err(bad(format!("not valid JSON: {json_err}")));
            }
            serde_saphyr::from_str(&text)
                .map_err(|e| bad(format!("not valid JSON or YAML: {e}")))?
        }
    };
    let Value::Object(map) = value else {
        return Err(bad("the file is not a mapping of metric names".into()));
    };
    let mut out = IndexMap::new();
    flatten("", &map, &mut out);
    Ok(out)
}

fn flatten(
    prefix: &str,
    map: &serde_json::Map<String, Value>,
    out: &mut IndexMap<String, Option<f64>>,
) {
    for (k, v) in map {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Number(n) => {
                out.insert(key, n.as_f64());
            }
            Value::Null => {
                out.insert(key, None);
            }
            Value::Object(m) => flatten(&key, m, out),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_json_and_yaml() {
        let dir = tempfile::tempdir().unwrap();
        let j = dir.path().join("metrics.json");
        std::fs::write(
            &j,
            r#"{"accuracy": 0.9, "test": {"bleu": 31.5, "note": "x"}, "auc": null}"#,
        )
        .unwrap();
        let m = read(&j).unwrap();
        assert_eq!(m["accuracy"], Some(0.9));
        assert_eq!(m["test.bleu"], Some(31.5));
        assert_eq!(m["auc"], None);
        assert!(!m.contains_key("test.note"));
        let y = dir.path().join("metrics.yaml");
        std::fs::write(&y, "accuracy: 0.8\nnested:\n  f1: 0.7\n").unwrap();
        let m = read(&y).unwrap();
        assert_eq!(m["nested.f1"], Some(0.7));
        std::fs::write(&j, "[1, 2]").unwrap();
        assert!(read(&j).unwrap_err().to_string().contains("not a mapping"));
        std::fs::write(&j, "{oops").unwrap();
        assert!(read(&j).unwrap_err().to_string().contains("not valid JSON"));
    }
}
