//! Frictionless Table Schema (v1 and v2, JSON or YAML), read as it is, plus mlgate's one extension block
//! (`x-mlgate`: tolerances, severities and table checks that Table Schema lacks).

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use indexmap::IndexMap;
use regex::Regex;
use serde::Deserialize;
use serde_json::Value as Json;

use super::value::{self, NumberFormat, Val};
use super::DataError;
use crate::report::Severity;

/// The key of mlgate's extension block inside a Table Schema.
pub const EXTENSION_KEY: &str = "x-mlgate";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    String,
    Number,
    Integer,
    Boolean,
    Date,
    Datetime,
    Time,
    Year,
    Yearmonth,
    Duration,
    Any,
}

impl FieldType {
    pub const SUPPORTED: &'static str =
        "string, number, integer, boolean, date, datetime, time, year, yearmonth, duration, any";

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "string" => FieldType::String,
            "number" => FieldType::Number,
            "integer" => FieldType::Integer,
            "boolean" => FieldType::Boolean,
            "date" => FieldType::Date,
            "datetime" => FieldType::Datetime,
            "time" => FieldType::Time,
            "year" => FieldType::Year,
            "yearmonth" => FieldType::Yearmonth,
            "duration" => FieldType::Duration,
            "any" => FieldType::Any,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Number => "number",
            FieldType::Integer => "integer",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Time => "time",
            FieldType::Year => "year",
            FieldType::Yearmonth => "yearmonth",
            FieldType::Duration => "duration",
            FieldType::Any => "any",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Constraints {
    pub required: bool,
    pub unique: bool,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub minimum: Option<Val<'static>>,
    pub maximum: Option<Val<'static>>,
    pub exclusive_minimum: Option<Val<'static>>,
    pub exclusive_maximum: Option<Val<'static>>,
    pub pattern: Option<(String, Regex)>,
    pub enum_values: Option<Vec<Val<'static>>>,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub ftype: FieldType,
    pub format: String,
    pub number: NumberFormat,
    pub true_values: Vec<String>,
    pub false_values: Vec<String>,
    /// Field-level `missingValues` (Table Schema v2); `None` means the schema's.
    pub missing_values: Option<Vec<String>>,
    pub constraints: Constraints,
}

impl Field {
    /// A field that accepts anything: used when no schema is given, so that only structure is checked.
    pub fn any(name: String) -> Self {
        Field {
            name,
            ftype: FieldType::Any,
            format: "default".into(),
            number: NumberFormat::default(),
            true_values: default_true(),
            false_values: default_false(),
            missing_values: None,
            constraints: Constraints::default(),
        }
    }

    /// Casts a text value of this field (also used for constraint values written as strings).
    #[inline(always)]
    pub fn cast_text<'a>(&self, s: &'a str) -> Option<Val<'a>> {
        let fmt = self.format.as_str();
        match self.ftype {
            FieldType::String | FieldType::Any => Some(Val::Str(Cow::Borrowed(s))),
            FieldType::Number => value::parse_number(s, &self.number).map(Val::Num),
            FieldType::Integer => value::parse_integer(s, &self.number).map(Val::Int),
            FieldType::Boolean => {
                if self.true_values.iter().any(|t| t == s) {
                    Some(Val::Bool(true))
                } else if self.false_values.iter().any(|t| t == s) {
                    Some(Val::Bool(false))
                } else {
                    None
                }
            }
            FieldType::Date => value::parse_date_with(s, fmt).map(Val::Date),
            FieldType::Datetime => value::parse_datetime_with(s, fmt).map(Val::DateTime),
            FieldType::Time => value::parse_time_with(s, fmt).map(Val::Time),
            FieldType::Year => value::parse_year(s).map(Val::Year),
            FieldType::Yearmonth => value::parse_yearmonth(s).map(Val::YearMonth),
            FieldType::Duration => value::parse_duration(s).map(|(m, x)| Val::Duration(m, x)),
        }
    }

    /// Casts a JSON scalar written in the schema (a constraint bound or an enum member).
    fn cast_json(&self, v: &Json) -> Option<Val<'static>> {
        match (v, self.ftype) {
            (Json::String(s), _) => self.cast_text(s).map(Val::into_owned),
            (Json::Number(n), FieldType::Integer) => n.as_i64().map(Val::Int),
            (Json::Number(n), FieldType::Year) => n.as_i64().map(Val::Year),
            (Json::Number(n), FieldType::Number | FieldType::Any) => n.as_f64().map(Val::Num),
            (Json::Bool(b), FieldType::Boolean) => Some(Val::Bool(*b)),
            _ => None,
        }
    }
}

fn default_true() -> Vec<String> {
    ["true", "True", "TRUE", "1"].map(String::from).to_vec()
}

fn default_false() -> Vec<String> {
    ["false", "False", "FALSE", "0"].map(String::from).to_vec()
}

/// How the table's columns are matched to the schema's fields (Table Schema v2 `fieldsMatch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldsMatch {
    /// By position, with the labels checked against the names (v1 behaviour and the v2 default).
    Exact,
    /// By name; the same set of names, any order.
    Equal,
    /// By name; the data may have more columns than the schema.
    Subset,
    /// By name; the schema may have more fields than the data.
    Superset,
    /// By name; at least one field must match.
    Partial,
}

/// A self-referencing foreign key: the values of `fields` must appear among the values of `reference`.
#[derive(Debug, Clone)]
pub struct ForeignKey {
    pub fields: Vec<usize>,
    pub reference: Vec<usize>,
}

/// A numeric range; either end may be open.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Range {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Range {
    pub fn contains(&self, x: f64) -> bool {
        self.min.is_none_or(|m| x >= m) && self.max.is_none_or(|m| x <= m)
    }

    pub fn describe(&self) -> String {
        match (self.min, self.max) {
            (Some(a), Some(b)) => format!("between {a} and {b}"),
            (Some(a), None) => format!("at least {a}"),
            (None, Some(b)) => format!("at most {b}"),
            (None, None) => "any value".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeverityName {
    Fail,
    Warn,
}

impl From<SeverityName> for Severity {
    fn from(s: SeverityName) -> Self {
        match s {
            SeverityName::Fail => Severity::Error,
            SeverityName::Warn => Severity::Warning,
        }
    }
}

/// Tolerance and severity of one constraint of one field.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConstraintExt {
    /// The share of cells that must satisfy the constraint (Great Expectations' `mostly`).
    pub mostly: Option<f64>,
    pub severity: Option<SeverityName>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldExt {
    pub severity: Option<SeverityName>,
    #[serde(default)]
    pub constraints: HashMap<String, ConstraintExt>,
    pub max_null_fraction: Option<f64>,
    pub min: Option<Range>,
    pub max: Option<Range>,
    pub mean: Option<Range>,
    pub max_distinct: Option<u64>,
}

/// The `x-mlgate` block. Everything is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    pub severity: Option<SeverityName>,
    pub rows: Option<Range>,
    #[serde(default)]
    pub fields: IndexMap<String, FieldExt>,
}

/// Constraint names a tolerance may be given for: Table Schema's, plus `type` for type errors.
pub const TOLERABLE: &[&str] = &[
    "type",
    "required",
    "unique",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "pattern",
    "enum",
];

#[derive(Debug, Clone)]
pub struct Schema {
    /// Where the schema came from, for messages.
    pub source: String,
    pub fields: Vec<Field>,
    pub missing_values: Vec<String>,
    pub primary_key: Vec<usize>,
    pub unique_keys: Vec<Vec<usize>>,
    pub foreign_keys: Vec<ForeignKey>,
    pub fields_match: FieldsMatch,
    pub extension: Extension,
    /// True when the schema was made from the header because none was given: labels are then not compared to
    /// names, only checked for blanks and duplicates.
    pub inferred: bool,
}

impl Schema {
    /// A structure-only schema, one `any` field per label (blank and repeated labels get made-up names).
    pub fn from_labels(labels: &[String]) -> Self {
        let fields = labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                Field::any(if l.is_empty() {
                    format!("field{}", i + 1)
                } else {
                    l.clone()
                })
            })
            .collect();
        Schema {
            source: "(no schema)".into(),
            fields,
            missing_values: vec![String::new()],
            primary_key: vec![],
            unique_keys: vec![],
            foreign_keys: vec![],
            fields_match: FieldsMatch::Exact,
            extension: Extension::default(),
            inferred: true,
        }
    }

    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// Reads a schema file: JSON, or YAML when the name ends in `.yml`/`.yaml`.
    pub fn load(path: &Path) -> Result<Schema, DataError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| DataError::Io {
            path: shown.clone(),
            err,
        })?;
        Self::parse(&text, &shown)
    }

    pub fn parse(text: &str, source: &str) -> Result<Schema, DataError> {
        let yaml = source.ends_with(".yml") || source.ends_with(".yaml");
        let json: Json = if yaml {
            serde_saphyr::from_str(text).map_err(|e| {
                let line = e.location().map(|l| l.line());
                DataError::schema(source, line, format!("not valid YAML: {e}"), None)
            })?
        } else {
            serde_json::from_str(text).map_err(|e| {
                DataError::schema(
                    source,
                    Some(e.line() as u64),
                    format!("not valid JSON: {}", strip_location(&e.to_string())),
                    None,
                )
            })?
        };
        Parser { text, source }.schema(&json)
    }
}

/// serde_json appends " at line N column M"; the line is already in front of the message.
fn strip_location(s: &str) -> &str {
    s.find(" at line ").map_or(s, |i| &s[..i])
}

struct Parser<'a> {
    text: &'a str,
    source: &'a str,
}

impl Parser<'_> {
    /// The line of the first place in the schema text where `needle` stands, to point errors at it.
    fn line_of(&self, needle: &str) -> Option<u64> {
        let pos = self.text.find(needle)?;
        Some(self.text[..pos].matches('\n').count() as u64 + 1)
    }

    fn err(&self, near: &str, message: String, help: Option<String>) -> DataError {
        DataError::schema(self.source, self.line_of(near), message, help)
    }

    fn schema(&self, json: &Json) -> Result<Schema, DataError> {
        let obj = json.as_object().ok_or_else(|| {
            self.err(
                "",
                "a Table Schema must be an object with a `fields` list".into(),
                None,
            )
        })?;
        let raw_fields = obj.get("fields").and_then(Json::as_array).ok_or_else(|| {
            self.err(
                "fields",
                "not a valid Table Schema: `fields` must be a list of field descriptors".into(),
                Some("see https://datapackage.org/standard/table-schema/".into()),
            )
        })?;
        let missing_values = match obj.get("missingValues") {
            None => vec![String::new()],
            Some(v) => self.missing_values(v)?,
        };
        let mut fields = Vec::with_capacity(raw_fields.len());
        for (i, f) in raw_fields.iter().enumerate() {
            fields.push(self.field(i, f)?);
        }
        let mut seen = HashMap::new();
        for (i, f) in fields.iter().enumerate() {
            if let Some(j) = seen.insert(f.name.clone(), i) {
                return Err(self.err(
                    &format!("\"{}\"", f.name),
                    format!("fields {} and {} are both named {:?}", j + 1, i + 1, f.name),
                    Some("field names must be unique".into()),
                ));
            }
        }
        let names = |v: &Json, what: &str| -> Result<Vec<usize>, DataError> {
            let list: Vec<&str> = match v {
                Json::String(s) => vec![s.as_str()],
                Json::Array(a) => a
                    .iter()
                    .map(|x| {
                        x.as_str().ok_or_else(|| {
                            self.err(what, format!("`{what}` must list field names"), None)
                        })
                    })
                    .collect::<Result<_, _>>()?,
                _ => {
                    return Err(self.err(
                        what,
                        format!("`{what}` must be a field name or a list of names"),
                        None,
                    ))
                }
            };
            list.iter()
                .map(|n| {
                    fields.iter().position(|f| f.name == *n).ok_or_else(|| {
                        self.err(
                            what,
                            format!("`{what}` names {n:?}, which is not a field of this schema"),
                            None,
                        )
                    })
                })
                .collect()
        };
        let primary_key = match obj.get("primaryKey") {
            Some(v) => names(v, "primaryKey")?,
            None => vec![],
        };
        let mut unique_keys = vec![];
        if let Some(Json::Array(keys)) = obj.get("uniqueKeys") {
            for k in keys {
                unique_keys.push(names(k, "uniqueKeys")?);
            }
        }
        let mut foreign_keys = vec![];
        if let Some(fks) = obj.get("foreignKeys") {
            let list = fks.as_array().ok_or_else(|| {
                self.err("foreignKeys", "`foreignKeys` must be a list".into(), None)
            })?;
            for fk in list {
                let own = names(fk.get("fields").unwrap_or(&Json::Null), "foreignKeys")?;
                let reference = fk.get("reference").ok_or_else(|| {
                    self.err(
                        "foreignKeys",
                        "a foreign key needs a `reference`".into(),
                        None,
                    )
                })?;
                let resource = reference
                    .get("resource")
                    .and_then(Json::as_str)
                    .unwrap_or("");
                if !resource.is_empty() {
                    return Err(self.err(
                        "resource",
                        format!("foreign key to resource {resource:?}: only self-references (resource \"\") are supported"),
                        Some("validate the referenced table on its own, or drop this foreign key".into()),
                    ));
                }
                let refs = names(
                    reference.get("fields").unwrap_or(&Json::Null),
                    "foreignKeys",
                )?;
                if refs.len() != own.len() {
                    return Err(self.err(
                        "foreignKeys",
                        "a foreign key's `fields` and `reference.fields` differ in length".into(),
                        None,
                    ));
                }
                foreign_keys.push(ForeignKey {
                    fields: own,
                    reference: refs,
                });
            }
        }
        let fields_match = match obj.get("fieldsMatch").and_then(Json::as_str) {
            None | Some("exact") => FieldsMatch::Exact,
            Some("equal") => FieldsMatch::Equal,
            Some("subset") => FieldsMatch::Subset,
            Some("superset") => FieldsMatch::Superset,
            Some("partial") => FieldsMatch::Partial,
            Some(other) => {
                return Err(self.err(
                    "fieldsMatch",
                    format!("unknown fieldsMatch {other:?}"),
                    Some("expected one of exact, equal, subset, superset, partial".into()),
                ))
            }
        };
        let extension = match obj.get(EXTENSION_KEY) {
            None => Extension::default(),
            Some(v) => self.extension(v, &fields)?,
        };
        Ok(Schema {
            source: self.source.to_string(),
            fields,
            missing_values,
            primary_key,
            unique_keys,
            foreign_keys,
            fields_match,
            extension,
            inferred: false,
        })
    }

    fn missing_values(&self, v: &Json) -> Result<Vec<String>, DataError> {
        let list = v.as_array().ok_or_else(|| {
            self.err(
                "missingValues",
                "`missingValues` must be a list".into(),
                None,
            )
        })?;
        list.iter()
            .map(|x| match x {
                Json::String(s) => Ok(s.clone()),
                // Table Schema v2 allows {"value": "-99", "label": "refused"}.
                Json::Object(o) => o
                    .get("value")
                    .and_then(Json::as_str)
                    .map(String::from)
                    .ok_or_else(|| {
                        self.err(
                            "missingValues",
                            "a `missingValues` object needs a string `value`".into(),
                            None,
                        )
                    }),
                _ => Err(self.err(
                    "missingValues",
                    "`missingValues` entries must be strings".into(),
                    None,
                )),
            })
            .collect()
    }

    fn field(&self, i: usize, f: &Json) -> Result<Field, DataError> {
        let o = f
            .as_object()
            .ok_or_else(|| self.err("fields", format!("field {} is not an object", i + 1), None))?;
        let name = o
            .get("name")
            .and_then(Json::as_str)
            .ok_or_else(|| self.err("fields", format!("field {} has no `name`", i + 1), None))?
            .to_string();
        let near = format!("\"{name}\"");
        let type_name = match o.get("type") {
            None => "any",
            Some(Json::String(t)) => t.as_str(),
            Some(_) => {
                return Err(self.err(
                    &near,
                    format!("field {name:?}: `type` must be a string"),
                    None,
                ))
            }
        };
        let ftype = FieldType::parse(type_name).ok_or_else(|| {
            self.err(
                &format!("\"{type_name}\""),
                format!("field {name:?}: unsupported type {type_name:?}"),
                Some(format!("supported types: {}", FieldType::SUPPORTED)),
            )
        })?;
        let format = o
            .get("format")
            .and_then(Json::as_str)
            .unwrap_or("default")
            .to_string();
        let strs = |key: &str| -> Option<Vec<String>> {
            o.get(key)?.as_array().map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
        };
        let mut number = NumberFormat::default();
        if let Some(c) = o
            .get("decimalChar")
            .and_then(Json::as_str)
            .and_then(|s| s.chars().next())
        {
            number.decimal_char = c;
        }
        number.group_char = o
            .get("groupChar")
            .and_then(Json::as_str)
            .and_then(|s| s.chars().next());
        if let Some(b) = o.get("bareNumber").and_then(Json::as_bool) {
            number.bare_number = b;
        }
        let missing_values = match o.get("missingValues") {
            Some(v) => Some(self.missing_values(v)?),
            None => None,
        };
        let mut field = Field {
            name: name.clone(),
            ftype,
            format,
            number,
            true_values: strs("trueValues").unwrap_or_else(default_true),
            false_values: strs("falseValues").unwrap_or_else(default_false),
            missing_values,
            constraints: Constraints::default(),
        };
        if let Some(c) = o.get("constraints") {
            field.constraints = self.constraints(&field, c)?;
        }
        // Table Schema v2 `categories` on string and integer fields constrain like an enum.
        if let Some(Json::Array(cats)) = o.get("categories") {
            let vals: Vec<Json> = cats
                .iter()
                .map(|c| c.get("value").cloned().unwrap_or_else(|| c.clone()))
                .collect();
            field.constraints.enum_values = Some(self.enum_values(&field, &vals)?);
        }
        Ok(field)
    }

    fn bound(&self, field: &Field, key: &str, v: &Json) -> Result<Val<'static>, DataError> {
        field.cast_json(v).ok_or_else(|| {
            self.err(
                key,
                format!(
                    "field {:?}: constraint `{key}` = {v} is not a valid {}",
                    field.name,
                    field.ftype.name()
                ),
                None,
            )
        })
    }

    fn enum_values(&self, field: &Field, vals: &[Json]) -> Result<Vec<Val<'static>>, DataError> {
        vals.iter().map(|v| self.bound(field, "enum", v)).collect()
    }

    fn constraints(&self, field: &Field, c: &Json) -> Result<Constraints, DataError> {
        let o = c.as_object().ok_or_else(|| {
            self.err(
                "constraints",
                format!("field {:?}: `constraints` must be an object", field.name),
                None,
            )
        })?;
        let mut out = Constraints::default();
        let length = |key: &str| -> Result<Option<usize>, DataError> {
            match o.get(key) {
                None => Ok(None),
                Some(v) => v.as_u64().map(|n| Some(n as usize)).ok_or_else(|| {
                    self.err(
                        key,
                        format!(
                            "field {:?}: `{key}` must be a non-negative integer",
                            field.name
                        ),
                        None,
                    )
                }),
            }
        };
        out.required = o.get("required").and_then(Json::as_bool).unwrap_or(false);
        out.unique = o.get("unique").and_then(Json::as_bool).unwrap_or(false);
        out.min_length = length("minLength")?;
        out.max_length = length("maxLength")?;
        for (key, slot) in [
            ("minimum", &mut out.minimum),
            ("maximum", &mut out.maximum),
            ("exclusiveMinimum", &mut out.exclusive_minimum),
            ("exclusiveMaximum", &mut out.exclusive_maximum),
        ] {
            if let Some(v) = o.get(key) {
                *slot = Some(self.bound(field, key, v)?);
            }
        }
        if let Some(p) = o.get("pattern") {
            let p = p.as_str().ok_or_else(|| {
                self.err(
                    "pattern",
                    format!("field {:?}: `pattern` must be a string", field.name),
                    None,
                )
            })?;
            // Table Schema patterns (XML Schema regular expressions) match the whole value.
            let re = Regex::new(&format!("^(?:{p})$")).map_err(|e| {
                self.err(
                    "pattern",
                    format!(
                        "field {:?}: pattern {p:?} is not a valid regular expression: {e}",
                        field.name
                    ),
                    Some(
                        "patterns use XML Schema / Rust regex syntax and match the whole value"
                            .into(),
                    ),
                )
            })?;
            out.pattern = Some((p.to_string(), re));
        }
        if let Some(e) = o.get("enum") {
            let vals = e.as_array().ok_or_else(|| {
                self.err(
                    "enum",
                    format!("field {:?}: `enum` must be a list", field.name),
                    None,
                )
            })?;
            out.enum_values = Some(self.enum_values(field, vals)?);
        }
        Ok(out)
    }

    fn extension(&self, v: &Json, fields: &[Field]) -> Result<Extension, DataError> {
        let ext: Extension = serde_json::from_value(v.clone()).map_err(|e| {
            self.err(
                EXTENSION_KEY,
                format!("`{EXTENSION_KEY}` block: {e}"),
                Some("keys: severity, rows, fields.NAME.{severity, constraints, max_null_fraction, min, max, mean, max_distinct}; see README".into()),
            )
        })?;
        for (name, fe) in &ext.fields {
            if !fields.iter().any(|f| &f.name == name) {
                return Err(self.err(
                    &format!("\"{name}\""),
                    format!("`{EXTENSION_KEY}.fields` names {name:?}, which is not a field of this schema"),
                    None,
                ));
            }
            for (c, ce) in &fe.constraints {
                if !TOLERABLE.contains(&c.as_str()) {
                    return Err(self.err(
                        &format!("\"{c}\""),
                        format!("`{EXTENSION_KEY}.fields.{name}.constraints` names unknown constraint {c:?}"),
                        Some(format!("expected one of {}", TOLERABLE.join(", "))),
                    ));
                }
                if let Some(m) = ce.mostly {
                    if !(0.0..=1.0).contains(&m) {
                        return Err(self.err(
                            "mostly",
                            format!("`mostly` must be between 0 and 1, got {m}"),
                            None,
                        ));
                    }
                }
            }
            if let Some(f) = fe.max_null_fraction {
                if !(0.0..=1.0).contains(&f) {
                    return Err(self.err(
                        "max_null_fraction",
                        format!("`max_null_fraction` must be between 0 and 1, got {f}"),
                        None,
                    ));
                }
            }
        }
        Ok(ext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_v1_schema_with_keys_and_constraints() {
        let s = Schema::parse(
            r#"{"fields": [{"name": "id", "type": "integer", "constraints": {"required": true, "minimum": "1"}},
                          {"name": "c", "type": "string", "constraints": {"enum": ["a", "b"], "pattern": "[ab]"}}],
                "primaryKey": "id", "missingValues": ["", "NA"]}"#,
            "s.json",
        )
        .unwrap();
        assert_eq!(s.primary_key, vec![0]);
        assert_eq!(s.missing_values, vec!["", "NA"]);
        assert_eq!(s.fields[0].constraints.minimum, Some(Val::Int(1)));
        assert!(s.fields[1]
            .constraints
            .pattern
            .as_ref()
            .unwrap()
            .1
            .is_match("a"));
        assert!(!s.fields[1]
            .constraints
            .pattern
            .as_ref()
            .unwrap()
            .1
            .is_match("ab"));
    }

    #[test]
    fn reads_yaml_and_v2_missing_values() {
        let s = Schema::parse(
            "fields:\n  - name: x\n    type: number\nmissingValues:\n  - value: '-99'\n    label: refused\n",
            "s.yaml",
        )
        .unwrap();
        assert_eq!(s.missing_values, vec!["-99"]);
    }

    #[test]
    fn unknown_type_points_at_its_line() {
        let e = Schema::parse(
            "{\n\"fields\": [\n {\"name\": \"p\", \"type\": \"geopoint\"}\n]}",
            "s.json",
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("s.json:3"), "{msg}");
        assert!(msg.contains("unsupported type \"geopoint\""), "{msg}");
    }

    #[test]
    fn bad_pattern_is_an_error() {
        let e = Schema::parse(
            r#"{"fields": [{"name": "p", "constraints": {"pattern": "a("}}]}"#,
            "s.json",
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("not a valid regular expression"),
            "{e}"
        );
    }

    #[test]
    fn extension_typos_are_errors() {
        let e = Schema::parse(
            r#"{"fields": [{"name": "p"}], "x-mlgate": {"fields": {"p": {"max_nul_fraction": 0.1}}}}"#,
            "s.json",
        )
        .unwrap_err();
        assert!(e.to_string().contains("max_nul_fraction"), "{e}");
    }
}
