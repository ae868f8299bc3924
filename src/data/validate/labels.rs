//! Header checks: labels against the schema's fields (by position, or by name under `fieldsMatch`).

use super::*;

impl Validator<'_> {
    pub(super) fn label_checks(&mut self, labels: &[String]) {
        let schema = self.schema().clone();
        let fields = &schema.fields;
        self.field_of = vec![None; labels.len()];
        self.width = Some(labels.len());
        let exact = schema.inferred || schema.fields_match == FieldsMatch::Exact;
        let label_finding = |v: &Self, code: &str, i: usize, label: &str, msg: String| {
            let mut f = v.finding(code, msg);
            f.line = v
                .source
                .dialect
                .header_row
                .or(Some(1))
                .filter(|_| v.source.format != reader::Format::Parquet);
            f.field = Some(label.to_string());
            f.field_number = Some(i as u64 + 1);
            f
        };
        if exact {
            for (i, label) in labels.iter().enumerate() {
                if i < fields.len() {
                    self.column_of[i] = Some(i);
                    self.field_of[i] = Some(i);
                }
                if i >= fields.len() {
                    let f = label_finding(
                        self,
                        "extra-label",
                        i,
                        label,
                        format!("column {} {label:?} has no field in the schema", i + 1),
                    );
                    self.push(f, NO_FIELD, NO_CONSTRAINT);
                } else if label.is_empty() {
                    let f = label_finding(
                        self,
                        "blank-label",
                        i,
                        label,
                        format!("the label of column {} is blank", i + 1),
                    );
                    self.push(f, NO_FIELD, NO_CONSTRAINT);
                } else if let Some(j) = labels[..i].iter().position(|l| l == label) {
                    let f = label_finding(
                        self,
                        "duplicate-label",
                        i,
                        label,
                        format!("label {label:?} repeats the label of column {}", j + 1),
                    );
                    self.push(f, NO_FIELD, NO_CONSTRAINT);
                } else if !schema.inferred && fields[i].name != *label {
                    let f = label_finding(
                        self,
                        "incorrect-label",
                        i,
                        label,
                        format!(
                            "label {label:?} does not match the schema's field {:?} at position {}",
                            fields[i].name,
                            i + 1
                        ),
                    );
                    self.push(f, NO_FIELD, NO_CONSTRAINT);
                }
            }
            for (i, field) in fields.iter().enumerate().skip(labels.len()) {
                let f = label_finding(
                    self,
                    "missing-label",
                    i,
                    &field.name,
                    format!("field {:?} has no column in the data", field.name),
                );
                self.push(f, NO_FIELD, NO_CONSTRAINT);
            }
        } else {
            let mut matched = 0;
            for (fi, field) in fields.iter().enumerate() {
                if let Some(ci) = labels.iter().position(|l| *l == field.name) {
                    self.column_of[fi] = Some(ci);
                    self.field_of[ci] = Some(fi);
                    matched += 1;
                } else if matches!(
                    schema.fields_match,
                    FieldsMatch::Equal | FieldsMatch::Subset
                ) {
                    let f = label_finding(
                        self,
                        "missing-label",
                        fi,
                        &field.name,
                        format!("field {:?} has no column in the data", field.name),
                    );
                    self.push(f, NO_FIELD, NO_CONSTRAINT);
                }
            }
            for (ci, label) in labels.iter().enumerate() {
                if self.field_of[ci].is_none()
                    && matches!(
                        schema.fields_match,
                        FieldsMatch::Equal | FieldsMatch::Superset
                    )
                {
                    let f = label_finding(
                        self,
                        "extra-label",
                        ci,
                        label,
                        format!("column {} {label:?} has no field in the schema", ci + 1),
                    );
                    self.push(f, NO_FIELD, NO_CONSTRAINT);
                }
            }
            if matched == 0 && schema.fields_match == FieldsMatch::Partial {
                let f = self.finding(
                    "schema-error",
                    "fieldsMatch is partial but no column matches a field of the schema".into(),
                );
                self.push(f, NO_FIELD, NO_CONSTRAINT);
            }
        }
    }
}
