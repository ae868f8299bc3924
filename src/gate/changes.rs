//! What a pull request changes in its own gates: `mlgate.yml` and the Table Schemas it names, against the base
//! branch. A pull request that lowers `accuracy.min` or drops a `required` passes a gate it moved itself; mlgate
//! says so first and plainly, so reviewers see it before the verdict.
//!
//! Both sides are read as data (YAML or JSON) and compared as trees: a config path reads
//! `model clf: accuracy min 0.9 -> 0.5`, a schema's fields are matched by name and read
//! `column age: required removed (was true)`.

use serde_json::Value;

use crate::report::{Check, Finding, Severity, Status};

/// The check's kind and its findings' code.
pub const KIND: &str = "gate-change";
pub const CODE: &str = "gate-changed";

/// One change, in words, with where it is in the pull request's version of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub file: String,
    pub line: Option<u64>,
    pub what: String,
}

/// YAML or JSON text as a tree; `None` when it does not parse (the gate itself reports that).
fn tree(text: &str) -> Option<Value> {
    serde_json::from_str(text)
        .ok()
        .or_else(|| serde_saphyr::from_str::<Value>(text).ok())
}

/// A value as people read it: strings bare, the rest as JSON.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Walks both trees; `path` is the keys so far. Arrays of objects that all have a `name` are matched by name.
fn diff(
    path: &mut Vec<String>,
    base: Option<&Value>,
    head: Option<&Value>,
    out: &mut Vec<(Vec<String>, String)>,
) {
    match (base, head) {
        (Some(Value::Object(b)), Some(Value::Object(h))) => {
            for (k, bv) in b {
                path.push(k.clone());
                diff(path, Some(bv), h.get(k), out);
                path.pop();
            }
            for (k, hv) in h.iter().filter(|(k, _)| !b.contains_key(*k)) {
                path.push(k.clone());
                diff(path, None, Some(hv), out);
                path.pop();
            }
        }
        (Some(Value::Array(b)), Some(Value::Array(h))) if named(b) && named(h) => {
            let name = |v: &Value| v["name"].as_str().unwrap_or_default().to_string();
            // A named element (a schema's field) added or removed is one change, not one per key.
            for bv in b {
                path.push(name(bv));
                match h.iter().find(|hv| name(hv) == name(bv)) {
                    Some(hv) => diff(path, Some(bv), Some(hv), out),
                    None => out.push((path.clone(), "removed".into())),
                }
                path.pop();
            }
            for hv in h
                .iter()
                .filter(|hv| !b.iter().any(|bv| name(bv) == name(hv)))
            {
                path.push(name(hv));
                out.push((path.clone(), format!("added: {}", show(hv))));
                path.pop();
            }
        }
        // A whole object added or removed under a key: its leaves, so that each reads on its own line.
        (Some(Value::Object(b)), None) if !b.is_empty() => {
            for (k, bv) in b {
                path.push(k.clone());
                diff(path, Some(bv), None, out);
                path.pop();
            }
        }
        (None, Some(Value::Object(h))) if !h.is_empty() => {
            for (k, hv) in h {
                path.push(k.clone());
                diff(path, None, Some(hv), out);
                path.pop();
            }
        }
        (Some(b), Some(h)) if b == h => {}
        (Some(b), Some(h)) => out.push((path.clone(), format!("{} -> {}", show(b), show(h)))),
        (Some(b), None) => out.push((path.clone(), format!("removed (was {})", show(b)))),
        (None, Some(h)) => out.push((path.clone(), format!("added: {}", show(h)))),
        (None, None) => {}
    }
}

fn named(items: &[Value]) -> bool {
    !items.is_empty() && items.iter().all(|v| v["name"].is_string())
}

/// The line in `text` where the keys of `path` appear in order (each searched after the previous one): close
/// enough to point a reviewer at the place for YAML and JSON alike.
fn line_of(text: &str, path: &[String]) -> Option<u64> {
    let mut pos = 0;
    for key in path {
        pos += text[pos..].find(key.as_str())?;
    }
    Some(text[..pos].matches('\n').count() as u64 + 1)
}

/// The changes between two versions of `mlgate.yml` (`base` is `None` when the base branch has no config).
pub fn diff_config(file: &str, base: Option<&str>, head: &str) -> Vec<Change> {
    let Some(base) = base else {
        return vec![Change {
            file: file.into(),
            line: None,
            what: format!("{file} is new on this branch"),
        }];
    };
    let head_tree = tree(head);
    let base_tree = Some(tree(base));
    if let Some(None) = base_tree {
        return vec![];
    }
    let base_tree = base_tree
        .flatten()
        .unwrap_or(Value::Object(Default::default()));
    let mut raw = vec![];
    diff(&mut vec![], Some(&base_tree), head_tree.as_ref(), &mut raw);
    raw.into_iter()
        .map(|(path, what)| Change {
            file: file.to_string(),
            line: line_of(head, &path),
            what: config_words(&path, &what),
        })
        .collect()
}

/// `models.clf.gates.accuracy.min` -> `model clf: accuracy min`; other paths are shown as they are.
fn config_words(path: &[String], what: &str) -> String {
    match path {
        [m, name, g, metric, rest @ ..] if m == "models" && g == "gates" => {
            let key = if rest.is_empty() {
                String::new()
            } else {
                format!(" {}", rest.join("."))
            };
            format!("model {name}: {metric}{key} {what}")
        }
        [d, name, rest @ ..] if d == "datasets" && !rest.is_empty() => {
            format!("dataset {name}: {} {what}", rest.join("."))
        }
        [m, name, rest @ ..] if m == "models" && !rest.is_empty() => {
            format!("model {name}: {} {what}", rest.join("."))
        }
        [] => format!("the config {what}"),
        _ => format!("{} {what}", path.join(".")),
    }
}

/// The changes between two versions of a Table Schema (`None`: absent on that side).
pub fn diff_schema(file: &str, base: Option<&str>, head: Option<&str>) -> Vec<Change> {
    match (base, head) {
        (None, None) => return vec![],
        (None, Some(_)) => {
            return vec![Change {
                file: file.into(),
                line: None,
                what: format!("schema {file} is new"),
            }]
        }
        (Some(_), None) => {
            return vec![Change {
                file: file.into(),
                line: None,
                what: format!("schema {file} was removed"),
            }]
        }
        _ => {}
    }
    let (Some(b), Some(h)) = (base.and_then(tree), head.and_then(tree)) else {
        return vec![];
    };
    let mut raw = vec![];
    diff(&mut vec![], Some(&b), Some(&h), &mut raw);
    raw.into_iter()
        .map(|(path, what)| Change {
            file: file.to_string(),
            line: head.and_then(|t| line_of(t, &path)),
            what: schema_words(file, &path, &what),
        })
        .collect()
}

/// `fields.age.constraints.required` -> `column age: required`; other schema keys are shown with the file.
fn schema_words(file: &str, path: &[String], what: &str) -> String {
    match path {
        [f, col] if f == "fields" => {
            let what = if what.starts_with("removed") {
                "removed".to_string()
            } else if what.starts_with("added") {
                "added".to_string()
            } else {
                what.to_string()
            };
            format!("column {col} {what}")
        }
        [f, col, c, rest @ ..] if f == "fields" && c == "constraints" && !rest.is_empty() => {
            format!("column {col}: {} {what}", rest.join("."))
        }
        [f, col, rest @ ..] if f == "fields" => format!("column {col}: {} {what}", rest.join(".")),
        _ => format!("{file}: {} {what}", path.join(".")),
    }
}

/// The check that tells the changes; `None` when nothing changed.
pub fn check(subject: &str, reference: &str, changes: &[Change]) -> Option<Check> {
    if changes.is_empty() {
        return None;
    }
    let mut c = Check::new(subject, KIND);
    c.status = Status::Warn;
    let first: Vec<&str> = changes.iter().take(3).map(|c| c.what.as_str()).collect();
    let more = if changes.len() > 3 {
        format!(" and {} more", changes.len() - 3)
    } else {
        String::new()
    };
    c.summary = format!(
        "this change moves its own gates against {reference}: {}{more}",
        first.join("; ")
    );
    c.figures.insert("base_ref".into(), Value::from(reference));
    for ch in changes {
        let mut f = Finding::new(CODE, Severity::Warning, ch.what.clone());
        f.file = Some(ch.file.clone());
        f.line = ch.line;
        c.findings.push(f);
    }
    c.counts.insert(CODE.into(), changes.len() as u64);
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_changes_read_plainly() {
        let base = "version: 1\nmodels:\n  clf:\n    path: m.onnx\n    gates:\n      accuracy: {min: 0.9, max_drop: 0.02}\n";
        let head = "version: 1\nmodels:\n  clf:\n    path: m.onnx\n    gates:\n      accuracy: {min: 0.5}\n      f1_macro: {min: 0.1}\n";
        let ch = diff_config("mlgate.yml", Some(base), head);
        let words: Vec<&str> = ch.iter().map(|c| c.what.as_str()).collect();
        assert_eq!(
            words,
            [
                "model clf: accuracy min 0.9 -> 0.5",
                "model clf: accuracy max_drop removed (was 0.02)",
                "model clf: f1_macro min added: 0.1",
            ]
        );
        assert_eq!(ch[0].line, Some(6));
        assert!(diff_config("mlgate.yml", Some(head), head).is_empty());
    }

    #[test]
    fn schema_fields_are_matched_by_name() {
        let base = r#"{"fields": [{"name": "age", "type": "integer", "constraints": {"required": true, "maximum": 120}}, {"name": "id", "type": "string"}]}"#;
        let head = r#"{"fields": [{"name": "id", "type": "string"}, {"name": "age", "type": "integer", "constraints": {"maximum": 200}}, {"name": "new", "type": "number"}]}"#;
        let ch = diff_schema("s.json", Some(base), Some(head));
        let words: Vec<&str> = ch.iter().map(|c| c.what.as_str()).collect();
        assert_eq!(
            words,
            [
                "column age: required removed (was true)",
                "column age: maximum 120 -> 200",
                "column new added",
            ]
        );
        assert_eq!(
            diff_schema("s.json", None, Some(head))[0].what,
            "schema s.json is new"
        );
    }

    #[test]
    fn the_check_warns_first_changes_in_its_summary() {
        let ch = diff_config("mlgate.yml", Some("version: 1\n"), "version: 2\n");
        let c = check("mlgate.yml", "origin/main", &ch).unwrap();
        assert_eq!(c.status, Status::Warn);
        assert_eq!(
            c.summary,
            "this change moves its own gates against origin/main: version 1 -> 2"
        );
        assert!(check("mlgate.yml", "origin/main", &[]).is_none());
    }
}
