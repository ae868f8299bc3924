//! JSON Lines: one JSON object (keyed by column) or array per line.
//!
//! Keyed rows take their labels from the first object's keys, and the header is a virtual row 1, so a record's
//! row is its line + 1, as Frictionless counts. A key missing from a later object is a null cell.

use std::borrow::Cow;
use std::cell::Cell as Shared;
use std::io::BufRead;
use std::rc::Rc;

use serde_json::Value as Json;

use super::{io_err, open_text, ReadStats, Record, RecordSink, Source};
use crate::data::value::Cell;
use crate::data::DataError;

fn to_cell(v: &Json) -> Cell<'_> {
    match v {
        Json::Null => Cell::Null,
        Json::Bool(b) => Cell::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Cell::Int(i),
            None => Cell::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Cell::Text(Cow::Borrowed(s)),
        other => Cell::Text(Cow::Owned(other.to_string())),
    }
}

/// The labels a first line gives, and whether the rows are keyed objects: an object's keys, or a header array.
fn labels_of(value: &Json, header: bool) -> Option<(Vec<String>, bool)> {
    match value {
        Json::Object(map) => Some((map.keys().cloned().collect(), true)),
        Json::Array(items) if header => Some((
            items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(String::from)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect(),
            false,
        )),
        _ => None,
    }
}

pub fn read(source: &Source, sink: &mut dyn RecordSink) -> Result<ReadStats, DataError> {
    let bytes = Rc::new(Shared::new(0u64));
    let mut input = std::io::BufReader::new(open_text(source, bytes.clone())?);
    let mut buf = Vec::new();
    let mut line = 0u64;
    let mut labels: Option<Vec<String>> = None;
    let mut keyed = false;
    let mut records = 0u64;
    let mut labels_sent = false;
    // A shard's window: its first line (`prefix` bytes with the blank lines before it) gives the labels only;
    // then the lines go on at the window's start, numbered as in the whole file.
    let (prefix, resume) = match source.window {
        Some(super::Window::Bytes { prefix, lines, .. }) => (prefix, Some(lines)),
        _ => (0, None),
    };
    let mut consumed = 0u64;
    if let (0, Some(at)) = (prefix, resume) {
        line = at;
    }
    loop {
        buf.clear();
        let n = input.read_until(b'\n', &mut buf).map_err(io_err(source))?;
        if n == 0 {
            break;
        }
        line += 1;
        let in_prefix = consumed < prefix;
        consumed += n as u64;
        if in_prefix && consumed >= prefix {
            if let Some(at) = resume {
                // The labels come from this line, which the window may read again as a record.
                let text = String::from_utf8_lossy(&buf);
                if let Ok(value) = serde_json::from_str::<Json>(&text) {
                    if let Some((l, k)) = labels_of(&value, source.dialect.header) {
                        sink.labels(Some(&l));
                        labels_sent = true;
                        labels = Some(l);
                        keyed = k;
                    }
                }
                line = at;
            }
            continue;
        }
        if in_prefix {
            continue;
        }
        let text = std::str::from_utf8(&buf).map_err(|_| DataError::Encoding {
            path: source.display.clone(),
            line,
            encoding: source
                .dialect
                .encoding
                .clone()
                .unwrap_or_else(|| "UTF-8".into()),
        })?;
        if text.trim().is_empty() {
            continue;
        }
        let value: Json = serde_json::from_str(text).map_err(|e| DataError::Parse {
            path: source.display.clone(),
            line,
            message: format!("not a JSON value: {e}"),
            help: Some("each line of a JSON Lines file must be one JSON object or array".into()),
        })?;
        records += 1;
        match &value {
            Json::Object(map) => {
                if labels.is_none() {
                    keyed = true;
                    let l: Vec<String> = map.keys().cloned().collect();
                    sink.labels(Some(&l));
                    labels_sent = true;
                    labels = Some(l);
                }
                let ls = labels.as_deref().unwrap_or(&[]);
                let cells: Vec<Cell<'_>> = ls
                    .iter()
                    .map(|k| map.get(k).map(to_cell).unwrap_or(Cell::Null))
                    .collect();
                let row = if keyed { line + 1 } else { line };
                sink.record(&Record {
                    row,
                    line: Some(line),
                    cells: &cells,
                    plain: false,
                });
            }
            Json::Array(items) => {
                if labels.is_none() && source.dialect.header {
                    let l: Vec<String> = items
                        .iter()
                        .map(|v| {
                            v.as_str()
                                .map(String::from)
                                .unwrap_or_else(|| v.to_string())
                        })
                        .collect();
                    sink.labels(Some(&l));
                    labels_sent = true;
                    labels = Some(l);
                    continue;
                }
                if !labels_sent {
                    sink.labels(None);
                    labels_sent = true;
                }
                let cells: Vec<Cell<'_>> = items.iter().map(to_cell).collect();
                sink.record(&Record {
                    row: line,
                    line: Some(line),
                    cells: &cells,
                    plain: false,
                });
            }
            _ => {
                return Err(DataError::Parse {
                    path: source.display.clone(),
                    line,
                    message: "expected a JSON object or array".into(),
                    help: Some(
                        "each line of a JSON Lines file must be one JSON object or array".into(),
                    ),
                })
            }
        }
    }
    super::finish(source, sink, labels_sent, bytes.get(), records)
}
