//! The quick way through a clean row of text cells.
//!
//! Most rows of most tables break nothing. For those, [`Validator::record`]'s general path is mostly overhead:
//! every cell built into a [`Cell`], matched on its kind, cast into a [`Val`] that is moved around, then held
//! against every constraint the schema could have through [`Val::compare`]. Here each field gets a [`Quick`]
//! plan when the schema is installed: the same checks in forms cheap to test (integer bounds as `i64`, number
//! bounds as `f64`, allowed strings as strings), which only say whether a cell passes. A row whose every cell
//! passes is counted here, exactly as the general path would count it; any other row (a cell that fails or
//! a missing required cell, a row of the wrong width, a blank row) goes the general way,
//! which makes its findings. So the report does not depend on which way a row went: a quick plan may be
//! stricter than the general checks, never looser.

use std::borrow::Cow;

use super::pattern::WholeMatch;
use super::*;
use crate::data::reader::{text_cells, TextRecord};
use crate::data::schema::Field;
use crate::data::value::{parse_integer, parse_number};

/// How one field's present cells are checked on the quick path.
#[derive(Debug, Clone)]
pub(super) enum Quick {
    /// No quick form (bounds on text, exclusive bounds, a pattern on a non-text type, ...): the cell is cast
    /// and held against its constraints as the general path does it.
    Full,
    /// The cast is the only check.
    Cast,
    /// A string: a length in characters, a pattern, the allowed strings.
    Text {
        min_chars: usize,
        max_chars: usize,
        pattern: Option<WholeMatch>,
        members: Option<Members>,
    },
    /// A boolean: its true words, then its false words (as the cast tries them).
    Bool(Members, Members),
    /// An integer within bounds (inclusive).
    Int { lo: i64, hi: i64 },
    /// A number within bounds (inclusive; `None` is open).
    Num { lo: Option<f64>, hi: Option<f64> },
}

impl Quick {
    /// The plan for `field`: the checks of `Validator::check_cell` on a present cell of this field.
    pub(super) fn plan(field: &Field) -> Quick {
        let c = &field.constraints;
        let exclusive = c.exclusive_minimum.is_some() || c.exclusive_maximum.is_some();
        let ranged = exclusive || c.minimum.is_some() || c.maximum.is_some();
        match field.ftype {
            FieldType::String | FieldType::Any => {
                if ranged {
                    return Quick::Full;
                }
                let members = match &c.enum_values {
                    None => None,
                    Some(values) => {
                        let strings: Option<Vec<String>> = values
                            .iter()
                            .map(|v| match v {
                                Val::Str(s) => Some(s.to_string()),
                                _ => None,
                            })
                            .collect();
                        match strings {
                            Some(s) => Some(Members::new(s)),
                            None => return Quick::Full,
                        }
                    }
                };
                Quick::Text {
                    min_chars: c.min_length.unwrap_or(0),
                    max_chars: c.max_length.unwrap_or(usize::MAX),
                    pattern: c.pattern.as_ref().map(|(_, re)| WholeMatch::new(re)),
                    members,
                }
            }
            // Lengths hold on strings only: the general path skips them for other types, and so does this.
            FieldType::Integer => {
                if exclusive || c.pattern.is_some() || c.enum_values.is_some() {
                    return Quick::Full;
                }
                let bound = |b: &Option<Val<'static>>, open: i64| match b {
                    None => Some(open),
                    Some(Val::Int(x)) => Some(*x),
                    Some(_) => None,
                };
                match (bound(&c.minimum, i64::MIN), bound(&c.maximum, i64::MAX)) {
                    (Some(lo), Some(hi)) => Quick::Int { lo, hi },
                    _ => Quick::Full,
                }
            }
            FieldType::Number => {
                if exclusive || c.pattern.is_some() || c.enum_values.is_some() {
                    return Quick::Full;
                }
                // `Val::compare` holds a number against an integer bound as `f64`, as here.
                let bound = |b: &Option<Val<'static>>| match b {
                    None => Some(None),
                    Some(Val::Num(x)) => Some(Some(*x)),
                    Some(Val::Int(x)) => Some(Some(*x as f64)),
                    Some(_) => None,
                };
                match (bound(&c.minimum), bound(&c.maximum)) {
                    (Some(lo), Some(hi)) => Quick::Num { lo, hi },
                    _ => Quick::Full,
                }
            }
            _ if ranged || c.pattern.is_some() || c.enum_values.is_some() => Quick::Full,
            FieldType::Boolean => Quick::Bool(
                Members::new(field.true_values.clone()),
                Members::new(field.false_values.clone()),
            ),
            _ => Quick::Cast,
        }
    }
}

/// The strings an `enum` allows. Those of up to 7 bytes are also kept packed in a word with their length, so
/// that a short cell (codes, flags, country names) is looked up with integer compares, not a `memcmp` call per
/// member.
#[derive(Debug, Clone)]
pub(super) struct Members {
    short: Vec<u64>,
    long: Vec<String>,
}

impl Members {
    fn new(strings: Vec<String>) -> Members {
        let short = strings.iter().filter_map(|s| Self::pack(s)).collect();
        let long = strings.into_iter().filter(|s| s.len() > 7).collect();
        Members { short, long }
    }

    /// A string of up to 7 bytes as one word: its bytes, and its length in the top byte.
    #[inline(always)]
    fn pack(s: &str) -> Option<u64> {
        let b = s.as_bytes();
        if b.len() > 7 {
            return None;
        }
        // Shifted in byte by byte: the word is built in a register. Copied into a stack array and read back, it
        // was a `memcpy` call and a store-forwarding stall (the bytes written narrow, the word read wide) on every
        // cell, 8% of the quick path's time.
        let mut word = (b.len() as u64) << 56;
        for (i, &byte) in b.iter().enumerate() {
            word |= u64::from(byte) << (8 * i);
        }
        Some(word)
    }

    #[inline(always)]
    fn contains(&self, s: &str) -> bool {
        match Self::pack(s) {
            Some(w) => self.short.contains(&w),
            None => self.long.iter().any(|x| x == s),
        }
    }
}

/// What the quick path found in one cell.
enum Verdict<'c> {
    Missing,
    Value(Val<'c>),
    /// The cell breaks something, or cannot be told quickly: the row goes the general way.
    General,
}

impl Validator<'_> {
    #[inline(always)]
    fn quick_cell<'c>(&self, fi: usize, s: &'c str) -> Verdict<'c> {
        let field = &self.schema().fields[fi];
        if self.is_missing(fi, &Cell::Text(Cow::Borrowed(s))) {
            return if field.constraints.required {
                Verdict::General
            } else {
                Verdict::Missing
            };
        }
        match &self.quick[fi] {
            Quick::Full => {
                let Some(val) = field.cast_text(s) else {
                    return Verdict::General;
                };
                match self.failed_constraint(fi, &Cell::Text(Cow::Borrowed(s)), &val) {
                    None => Verdict::Value(val),
                    Some(_) => Verdict::General,
                }
            }
            Quick::Cast => match field.cast_text(s) {
                Some(v) => Verdict::Value(v),
                None => Verdict::General,
            },
            Quick::Text {
                min_chars,
                max_chars,
                pattern,
                members,
            } => {
                if *min_chars > 0 || *max_chars < usize::MAX {
                    let n = s.chars().count();
                    if n < *min_chars || n > *max_chars {
                        return Verdict::General;
                    }
                }
                if pattern.as_ref().is_some_and(|re| !re.is_match(s))
                    || members.as_ref().is_some_and(|m| !m.contains(s))
                {
                    return Verdict::General;
                }
                Verdict::Value(Val::Str(Cow::Borrowed(s)))
            }
            Quick::Bool(yes, no) => {
                if yes.contains(s) {
                    Verdict::Value(Val::Bool(true))
                } else if no.contains(s) {
                    Verdict::Value(Val::Bool(false))
                } else {
                    Verdict::General
                }
            }
            Quick::Int { lo, hi } => match parse_integer(s, &field.number) {
                Some(x) if *lo <= x && x <= *hi => Verdict::Value(Val::Int(x)),
                _ => Verdict::General,
            },
            Quick::Num { lo, hi } => match parse_number(s, &field.number) {
                Some(x) if lo.is_none_or(|l| x >= l) && hi.is_none_or(|h| x <= h) => {
                    Verdict::Value(Val::Num(x))
                }
                _ => Verdict::General,
            },
        }
    }

    /// Takes a text record the quick way when every cell passes; false when the record must go the general
    /// way (nothing has been counted then).
    pub(super) fn quick_record(
        &mut self,
        meta: TextRecord,
        text: &str,
        ranges: &[(u32, u32)],
    ) -> bool {
        let Some(width) = self.width else {
            return false;
        };
        // Missing cells are remembered in a bit mask until the row is known to pass.
        if self.schema.is_none() || ranges.len() != width || width > 64 || self.opts.duplicate_rows
        {
            return false;
        }
        // Only kept fields' values are read after the cells (`Validator::kept`), each at its field's index: the
        // buffer reaches the last of them, not every field (it is filled and emptied on every row).
        let reach = self.kept_fields.last().map_or(0, |&fi| fi + 1);
        let mut vals: Vec<Option<Val<'_>>> = std::mem::take(&mut self.vals_spare);
        vals.resize(reach, None);
        let (mut missing, mut present) = (0u64, false);
        let mut clean = true;
        for (ci, &(a, b)) in ranges.iter().enumerate() {
            let Some(s) = text.get(a as usize..b as usize) else {
                clean = false;
                break;
            };
            let Some(fi) = self.field_of.get(ci).copied().flatten() else {
                present |= !s.is_empty();
                continue;
            };
            match self.quick_cell(fi, s) {
                Verdict::Missing => missing |= 1 << ci,
                Verdict::Value(v) => {
                    present = true;
                    if self.kept[fi] {
                        vals[fi] = Some(v);
                    }
                }
                Verdict::General => {
                    clean = false;
                    break;
                }
            }
        }
        // A row with no present cell may be blank: the general path tells.
        if clean && present {
            self.count_clean_row(meta, text, ranges, missing, &vals);
        }
        vals.clear();
        self.vals_spare = vals.into_iter().map(|_| None).collect();
        clean && present
    }

    /// What the general path counts for a row that breaks nothing: its cells' values and nulls, then the row
    /// checks (statistics, keys).
    fn count_clean_row(
        &mut self,
        meta: TextRecord,
        text: &str,
        ranges: &[(u32, u32)],
        missing: u64,
        vals: &[Option<Val<'_>>],
    ) {
        self.data_rows += 1;
        for ci in 0..ranges.len() {
            if let Some(fi) = self.field_of.get(ci).copied().flatten() {
                if missing & (1 << ci) != 0 {
                    self.stats[fi].nulls += 1;
                } else {
                    self.stats[fi].values += 1;
                }
            }
        }
        // The key checks need the row's number only; its cells are built for a key finding alone.
        let bare = Record {
            row: meta.row,
            line: meta.line,
            cells: &[],
            plain: meta.plain,
        };
        self.key_ops(&bare, vals);
        if !self.deferred {
            let ops = std::mem::take(&mut self.ops);
            for op in &ops {
                if let Some(hit) = self.probe(op) {
                    let cells = text_cells(text, ranges);
                    let record = Record {
                        cells: &cells,
                        ..bare
                    };
                    self.report(hit, &record, vals);
                }
            }
            self.ops = ops;
            self.ops.clear();
        } else {
            self.rec += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::reader::{Format, Source};
    use crate::data::Dialect;

    /// A schema with a field of every quick plan, and fields that have none; keys, a table statistic and
    /// field-level missing values.
    const SCHEMA: &str = r#"{
        "fields": [
            {"name": "id", "type": "integer", "constraints": {"required": true, "unique": true}},
            {"name": "age", "type": "integer", "constraints": {"minimum": 18, "maximum": 90}},
            {"name": "score", "type": "number", "constraints": {"minimum": 0, "maximum": 1.5}},
            {"name": "low", "type": "number", "constraints": {"exclusiveMinimum": 0}},
            {"name": "code", "type": "string", "constraints": {"pattern": "[a-c]{2}[0-9]", "minLength": 3}},
            {"name": "tag", "type": "string", "constraints": {"enum": ["x", "y", "zz"], "maxLength": 1},
             "missingValues": ["", "NA"]},
            {"name": "word", "type": "string", "constraints": {"minimum": "b"}},
            {"name": "ok", "type": "boolean"},
            {"name": "day", "type": "date", "constraints": {"required": true}},
            {"name": "n", "type": "integer", "constraints": {"enum": [1, 2]}}
        ],
        "uniqueKeys": [["code", "tag"]],
        "x-mlgate": {"fields": {"score": {"mean": {"min": 0}}}}
    }"#;

    /// Cells for column `ci`: valid, invalid, missing and odd values in turn.
    fn cell(ci: usize, r: u64) -> String {
        let pick = |options: &[&str]| options[(r % options.len() as u64) as usize].to_string();
        match ci {
            0 => (r % 997).to_string(),
            1 => pick(&["30", "17", "90", "x", "", "18", "91"]),
            2 => pick(&["0.5", "1.5", "1.6", "-0", "nan", "", "1e0", "abc"]),
            3 => pick(&["1", "0", "-1", ""]),
            4 => pick(&["ab1", "cc9", "zz1", "ab", "", "ab12"]),
            5 => pick(&["x", "y", "zz", "NA", "", "q"]),
            6 => pick(&["c", "a", ""]),
            7 => pick(&["true", "0", "yes", ""]),
            8 => pick(&["2024-02-29", "2023-02-29", "", "2024-01-01"]),
            9 => pick(&["1", "2", "3", ""]),
            _ => pick(&["extra", ""]),
        }
    }

    /// Validates the rows on one thread, as text records (the quick path where they pass) or as built cells
    /// (the general path only); the report as JSON, timings aside.
    fn report(
        path: &std::path::Path,
        labels: &[String],
        rows: &[Vec<String>],
        quick: bool,
    ) -> (String, usize) {
        let schema = Schema::parse(SCHEMA, "schema.json").unwrap();
        let source = Source::new(path, Some(Format::Csv), Dialect::default()).unwrap();
        let mut quick_rows = 0;
        let opts = ValidateOptions::new("t");
        let mut v = Validator::new(&source, Some(&schema), &opts);
        v.labels(Some(labels));
        for (i, row) in rows.iter().enumerate() {
            let text = row.concat();
            let mut ranges = vec![];
            let mut at = 0u32;
            for c in row {
                ranges.push((at, at + c.len() as u32));
                at += c.len() as u32;
            }
            let meta = TextRecord {
                row: i as u64 + 2,
                line: Some(i as u64 + 2),
                plain: false,
            };
            if quick && v.quick_record(meta, &text, &ranges) {
                quick_rows += 1;
            } else if quick {
                v.text_record(meta, &text, &ranges);
            } else {
                let cells = text_cells(&text, &ranges);
                v.record(&Record {
                    row: meta.row,
                    line: meta.line,
                    cells: &cells,
                    plain: meta.plain,
                });
            }
        }
        let stats = ReadStats {
            bytes: 0,
            records: rows.len() as u64,
        };
        let checks = v.finish(stats, 0.0).checks;
        (serde_json::to_string_pretty(&checks).unwrap(), quick_rows)
    }

    /// Rows of valid, invalid, missing and blank cells, of the header's width and not, with and without a
    /// column the schema does not have: the same report either way, and some rows did go the quick way.
    #[test]
    fn the_quick_path_reports_what_the_general_path_reports() {
        let names = [
            "id", "age", "score", "low", "code", "tag", "word", "ok", "day", "n",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, "").unwrap();
        for extra_column in [false, true] {
            let mut labels: Vec<String> = names.iter().map(|s| s.to_string()).collect();
            if extra_column {
                labels.push("more".into());
            }
            let mut rows = vec![];
            for _ in 0..3000 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Most cells valid (the first option), so that many rows pass; now and then a short, long or
                // blank row.
                let width = match state % 50 {
                    0 => labels.len() - 1,
                    1 => labels.len() + 1,
                    _ => labels.len(),
                };
                let row: Vec<String> = (0..width)
                    .map(|ci| {
                        let r = state.rotate_left(ci as u32 * 6);
                        if state % 53 == 7 {
                            String::new()
                        } else if ci == 0 || r.is_multiple_of(9) {
                            cell(ci, r >> 8)
                        } else {
                            cell(ci, 0)
                        }
                    })
                    .collect();
                rows.push(row);
            }
            let (general, none) = report(&path, &labels, &rows, false);
            let (quick, taken) = report(&path, &labels, &rows, true);
            if let Some((g, q)) = general.lines().zip(quick.lines()).find(|(g, q)| g != q) {
                panic!("the reports differ: general {g:?}, quick {q:?}");
            }
            assert_eq!(general, quick);
            assert_eq!(none, 0);
            assert!(
                taken > 300 && taken < rows.len() - 300,
                "{taken} of {} rows went the quick way",
                rows.len()
            );
            for code in [
                "constraint-error",
                "type-error",
                "unique-error",
                "blank-row",
            ] {
                assert!(general.contains(code), "{code}");
            }
        }
    }

    /// Short and long members, and cells that share a prefix or differ only in length.
    #[test]
    fn members_are_found_by_packed_word_or_by_text() {
        let m = Members::new(
            ["", "a", "ab", "abcdefg", "abcdefgh", "long member"]
                .map(String::from)
                .to_vec(),
        );
        for yes in ["", "a", "ab", "abcdefg", "abcdefgh", "long member"] {
            assert!(m.contains(yes), "{yes:?}");
        }
        for no in [
            "b",
            "a\0",
            "abc",
            "abcdef",
            "abcdefgx",
            "abcdefghi",
            "long",
            "é",
        ] {
            assert!(!m.contains(no), "{no:?}");
        }
    }

    /// The plans the schema above gets: quick forms where the general checks have one, none elsewhere.
    #[test]
    fn plans_follow_the_constraints() {
        let schema = Schema::parse(SCHEMA, "schema.json").unwrap();
        let plans: Vec<String> = schema
            .fields
            .iter()
            .map(|f| match Quick::plan(f) {
                Quick::Full => "full".to_string(),
                Quick::Cast => "cast".to_string(),
                Quick::Text { .. } => "text".to_string(),
                Quick::Bool(..) => "bool".to_string(),
                Quick::Int { lo, hi } => format!("int {lo}..={hi}"),
                Quick::Num { lo, hi } => format!("num {lo:?}..={hi:?}"),
            })
            .collect();
        assert_eq!(
            plans,
            [
                format!("int {}..={}", i64::MIN, i64::MAX),
                "int 18..=90".into(),
                "num Some(0.0)..=Some(1.5)".into(),
                "full".into(),
                "text".into(),
                "text".into(),
                "full".into(),
                "bool".into(),
                "cast".into(),
                "full".into(),
            ]
        );
    }
}
