//! Cell checks: missing values, casting to the field type, then the first failing constraint; and the cells a
//! row has too many or too few of.

use super::*;
use crate::data::schema::FieldType;

impl Validator<'_> {
    #[inline(always)]
    pub(super) fn is_missing(&self, fi: usize, cell: &Cell<'_>) -> bool {
        match cell {
            Cell::Null => true,
            Cell::Text(s) if self.missing_is_empty[fi] => s.is_empty(),
            Cell::Text(s) => {
                let mv = &self.missing[fi];
                if mv.len() == 1 {
                    mv[0] == AsRef::<str>::as_ref(s)
                } else {
                    mv.iter().any(|m| m == AsRef::<str>::as_ref(s))
                }
            }
            _ => false,
        }
    }

    pub(super) fn column_number(record: &Record<'_>, ci: usize) -> Option<u64> {
        if !record.plain {
            return None;
        }
        let before: usize = record.cells[..ci]
            .iter()
            .map(|c| c.display().chars().count() + 1)
            .sum();
        Some(before as u64 + 1)
    }

    pub(super) fn cell_finding(
        &self,
        code: &str,
        record: &Record<'_>,
        fi: usize,
        ci: usize,
        value: Option<String>,
        msg: String,
    ) -> Finding {
        let mut f = self.finding(code, msg);
        f.line = record.line;
        f.column = Self::column_number(record, ci);
        f.row = Some(record.row);
        f.field = self.schema().fields.get(fi).map(|x| x.name.clone());
        f.field_number = Some(ci as u64 + 1);
        f.value = value.map(|v| clip(&v, 200));
        f
    }

    pub(super) fn row_finding(&self, code: &str, record: &Record<'_>, msg: String) -> Finding {
        let mut f = self.finding(code, msg);
        f.line = record.line;
        f.row = Some(record.row);
        f
    }

    /// `extra-cell` for every cell past the header's `width`.
    pub(super) fn extra_cells(&mut self, record: &Record<'_>, width: usize) {
        let msg = format!(
            "the row has {} cells but the header has {width}",
            record.cells.len()
        );
        for ci in width..record.cells.len() {
            let mut f = self.row_finding("extra-cell", record, msg.clone());
            f.field_number = Some(ci as u64 + 1);
            f.column = Self::column_number(record, ci);
            f.value = Some(clip(&record.cells[ci].display(), 200));
            self.push(f, NO_FIELD, NO_CONSTRAINT);
        }
    }

    /// A short row: the `required` constraint-error of every absent cell whose field is required, then
    /// `missing-cell` for every absent cell, in frictionless 5.21's order (an absent cell is null, so a required
    /// field is broken as by an empty cell; see the project cases of the conformance test).
    pub(super) fn missing_cells(&mut self, record: &Record<'_>, width: usize) {
        let have = record.cells.len();
        let msg = format!("the row has {have} cells but the header has {width}");
        for ci in have..width {
            let Some(fi) = self.field_of.get(ci).copied().flatten() else {
                continue;
            };
            let field = &self.schema().fields[fi];
            if field.constraints.required {
                let text = format!(
                    "field {:?} is required but the row has no cell for it",
                    field.name
                );
                let f = self.absent_cell_finding("constraint-error", record, ci, Some(fi), text);
                self.push(f, fi, C_REQUIRED);
            }
        }
        for ci in have..width {
            let fi = self.field_of.get(ci).copied().flatten();
            let f = self.absent_cell_finding("missing-cell", record, ci, fi, msg.clone());
            if let Some(fi) = fi {
                self.stats[fi].nulls += 1;
            }
            self.push(f, fi.unwrap_or(NO_FIELD), NO_CONSTRAINT);
        }
    }

    /// A finding about column `ci`, which the row does not have: no column number, no value.
    fn absent_cell_finding(
        &self,
        code: &str,
        record: &Record<'_>,
        ci: usize,
        fi: Option<usize>,
        msg: String,
    ) -> Finding {
        let mut f = self.row_finding(code, record, msg);
        f.field_number = Some(ci as u64 + 1);
        f.field = fi.map(|fi| self.schema().fields[fi].name.clone());
        f
    }

    /// Checks one present, non-blank cell; returns its value when it cast.
    pub(super) fn check_cell<'c>(
        &mut self,
        record: &Record<'c>,
        fi: usize,
        ci: usize,
    ) -> Option<Val<'c>> {
        let cell = &record.cells[ci];
        if self.is_missing(fi, cell) {
            self.stats[fi].nulls += 1;
            if self.schema().fields[fi].constraints.required {
                let name = self.schema().fields[fi].name.clone();
                let f = self.cell_finding(
                    "constraint-error",
                    record,
                    fi,
                    ci,
                    Some(cell.display()),
                    format!("field {name:?} is required but the cell is empty"),
                );
                self.push(f, fi, C_REQUIRED);
            }
            return None;
        }
        let cast = self.cast_cell(fi, cell);
        let field = &self.schema().fields[fi];
        let Some(val) = cast else {
            let msg = format!(
                "{:?} is not a valid {} (format {})",
                cell.display(),
                field.ftype.name(),
                field.format
            );
            let f = self.cell_finding("type-error", record, fi, ci, Some(cell.display()), msg);
            self.push(f, fi, C_TYPE);
            return None;
        };
        if let Some((constraint, msg)) = self.failed_constraint(fi, cell, &val) {
            let f = self.cell_finding(
                "constraint-error",
                record,
                fi,
                ci,
                Some(cell.display()),
                msg,
            );
            self.push(f, fi, constraint_index(constraint));
        }
        Some(val)
    }

    /// A present cell's value as the field's type, or `None` when it does not cast. Inlined, with
    /// [`Field::cast_text`](crate::data::schema::Field::cast_text), into the per-cell loop: returned through
    /// memory, the value was written in halves and read back whole, a store-forwarding stall on every cell.
    #[inline(always)]
    pub(super) fn cast_cell<'c>(&self, fi: usize, cell: &Cell<'c>) -> Option<Val<'c>> {
        let field = &self.schema().fields[fi];
        match cell {
            Cell::Text(s) => match s {
                std::borrow::Cow::Borrowed(b) => field.cast_text(b),
                std::borrow::Cow::Owned(o) => field.cast_text(o).map(Val::into_owned),
            },
            Cell::Int(i) => match field.ftype {
                FieldType::Integer => Some(Val::Int(*i)),
                FieldType::Number => Some(Val::Num(*i as f64)),
                FieldType::Year => Some(Val::Year(*i)),
                FieldType::Any => Some(Val::Int(*i)),
                _ => None,
            },
            Cell::Float(x) => match field.ftype {
                FieldType::Number | FieldType::Any => Some(Val::Num(*x)),
                FieldType::Integer if x.fract() == 0.0 && x.is_finite() => {
                    Some(Val::Int(*x as i64))
                }
                _ => None,
            },
            Cell::Bool(b) => match field.ftype {
                FieldType::Boolean | FieldType::Any => Some(Val::Bool(*b)),
                _ => None,
            },
            Cell::Null => None,
        }
    }

    /// Every field's value in `record`, as [`Validator::check_cell`] gave them: `None` where the cell is absent,
    /// missing or does not cast. Rebuilds what a key finding must show about a record a worker checked.
    pub(super) fn cast_row<'c>(&self, record: &Record<'c>) -> Vec<Option<Val<'c>>> {
        (0..self.schema().fields.len())
            .map(|fi| {
                let cell = record
                    .cells
                    .get(self.column_of.get(fi).copied().flatten()?)?;
                if self.is_missing(fi, cell) {
                    None
                } else {
                    self.cast_cell(fi, cell)
                }
            })
            .collect()
    }

    /// The first constraint the value breaks, with a message.
    pub(super) fn failed_constraint<'v>(
        &'v self,
        fi: usize,
        cell: &Cell<'_>,
        val: &Val<'_>,
    ) -> Option<(&'static str, String)> {
        use std::cmp::Ordering::{Greater, Less};
        let field = &self.schema().fields[fi];
        let c = &field.constraints;
        let shown = || cell.display();
        if c.min_length.is_some() || c.max_length.is_some() {
            if let Val::Str(s) = val {
                let n = s.chars().count();
                if let Some(m) = c.min_length.filter(|m| n < *m) {
                    return Some((
                        "minLength",
                        format!(
                            "{:?} is {n} characters long, shorter than minLength {m}",
                            shown()
                        ),
                    ));
                }
                if let Some(m) = c.max_length.filter(|m| n > *m) {
                    return Some((
                        "maxLength",
                        format!(
                            "{:?} is {n} characters long, longer than maxLength {m}",
                            shown()
                        ),
                    ));
                }
            }
        }
        let bound = |b: &'v Option<Val<'static>>| b.as_ref().map(move |b| (b, val.compare(b)));
        if let Some((b, ord)) = bound(&c.minimum) {
            if ord.is_none() || ord == Some(Less) {
                return Some((
                    "minimum",
                    format!("{} is below the minimum {}", shown(), show_val(b)),
                ));
            }
        }
        if let Some((b, ord)) = bound(&c.maximum) {
            if ord.is_none() || ord == Some(Greater) {
                return Some((
                    "maximum",
                    format!("{} is above the maximum {}", shown(), show_val(b)),
                ));
            }
        }
        if let Some((b, ord)) = bound(&c.exclusive_minimum) {
            if ord != Some(Greater) {
                return Some((
                    "exclusiveMinimum",
                    format!(
                        "{} is not above the exclusive minimum {}",
                        shown(),
                        show_val(b)
                    ),
                ));
            }
        }
        if let Some((b, ord)) = bound(&c.exclusive_maximum) {
            if ord != Some(Less) {
                return Some((
                    "exclusiveMaximum",
                    format!(
                        "{} is not below the exclusive maximum {}",
                        shown(),
                        show_val(b)
                    ),
                ));
            }
        }
        if let Some((src, re)) = &c.pattern {
            // A pattern holds on the cell's text (of any type); text cells need no copy to be matched.
            let matched = match cell {
                Cell::Text(t) => re.is_match(t),
                other => re.is_match(&other.display()),
            };
            if !matched {
                return Some((
                    "pattern",
                    format!("{:?} does not match the pattern {src:?}", shown()),
                ));
            }
        }
        if let Some(values) = &c.enum_values {
            let member = match val {
                // Strings compare as bytes; skip the general comparison.
                Val::Str(s) => values.iter().any(|e| matches!(e, Val::Str(x) if x == s)),
                v => values.iter().any(|e| v.same(e)),
            };
            if !member {
                let list: Vec<String> = values.iter().take(12).map(show_val).collect();
                let more = if values.len() > 12 { ", …" } else { "" };
                return Some((
                    "enum",
                    format!(
                        "{:?} is not one of the allowed values [{}{more}]",
                        shown(),
                        list.join(", ")
                    ),
                ));
            }
        }
        None
    }
}
