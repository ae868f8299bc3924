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

pub fn read(source: &Source, sink: &mut dyn RecordSink) -> Result<ReadStats, DataError> {
    let bytes = Rc::new(Shared::new(0u64));
    let mut input = std::io::BufReader::new(open_text(source, bytes.clone())?);
    let mut buf = Vec::new();
    let mut line = 0u64;
    let mut labels: Option<Vec<String>> = None;
    let mut keyed = false;
    let mut records = 0u64;
    let mut labels_sent = false;
    loop {
        buf.clear();
        let n = input.read_until(b'\n', &mut buf).map_err(io_err(source))?;
        if n == 0 {
            break;
        }
        line += 1;
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
