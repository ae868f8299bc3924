//! Findings grouped by pattern: one line for "proline: 10 values above the maximum 1800 in rows 41-50 (e.g.
//! 407000, 345000)" instead of ten near-identical ones. Human and markdown renderings show the groups; the JSON
//! report, the collapsed details and the annotations keep every finding.
//!
//! Everything here is plain, unescaped text: the renderers escape each part for where it goes.

use super::escape::{escape, Ctx};
use super::{clip, Check, Finding, Severity};

/// Example values a group shows.
const EXAMPLES: usize = 3;
/// Row ranges a group lists before it says "…".
const RANGES: usize = 8;
/// Characters of one example value.
const EXAMPLE_CHARS: usize = 40;

/// Findings of one check that share a file, a field, a code and the constraint they break. The file is part of the
/// key because rows are counted per file: a partitioned dataset's parts each number their rows from 2.
#[derive(Debug)]
pub struct Group<'a> {
    pub file: Option<&'a str>,
    pub field: Option<&'a str>,
    pub code: &'a str,
    pub constraint: Option<&'a str>,
    pub findings: Vec<&'a Finding>,
}

/// The findings grouped by (file, field, code, constraint): files in the order the report first names them, then
/// each file's groups in the order of their first row (groups without rows last, in report order).
pub fn group(findings: &[Finding]) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = vec![];
    let mut files: Vec<Option<&str>> = vec![];
    for f in findings {
        let file = f.file.as_deref();
        if !files.contains(&file) {
            files.push(file);
        }
        let key = (
            file,
            f.field.as_deref(),
            f.code.as_str(),
            f.constraint.as_deref(),
        );
        match groups
            .iter_mut()
            .find(|g| (g.file, g.field, g.code, g.constraint) == key)
        {
            Some(g) => g.findings.push(f),
            None => groups.push(Group {
                file: key.0,
                field: key.1,
                code: key.2,
                constraint: key.3,
                findings: vec![f],
            }),
        }
    }
    // Stable: groups with the same file and first row (or none) keep the report's order.
    groups.sort_by_key(|g| {
        let file = files.iter().position(|f| *f == g.file);
        (file, g.first_row().unwrap_or(u64::MAX))
    });
    groups
}

impl Group<'_> {
    pub fn count(&self) -> usize {
        self.findings.len()
    }

    /// The worst severity in the group.
    pub fn severity(&self) -> Severity {
        self.findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Warning)
    }

    fn first_row(&self) -> Option<u64> {
        self.findings.iter().filter_map(|f| f.row).min()
    }

    /// The rows as compressed ranges, "41-50, 63, 70-72" (at most [`RANGES`], then "…"); empty without rows.
    pub fn rows(&self) -> String {
        let mut rows: Vec<u64> = self.findings.iter().filter_map(|f| f.row).collect();
        rows.sort_unstable();
        rows.dedup();
        let mut ranges: Vec<(u64, u64)> = vec![];
        for r in rows {
            match ranges.last_mut() {
                Some((_, end)) if *end + 1 == r => *end = r,
                _ => ranges.push((r, r)),
            }
        }
        let mut parts: Vec<String> = ranges
            .iter()
            .take(RANGES)
            .map(|&(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect();
        if ranges.len() > RANGES {
            parts.push("…".into());
        }
        parts.join(", ")
    }

    /// "in rows 41-50", "in row 7", or empty.
    pub fn rows_phrase(&self) -> String {
        let rows = self.rows();
        if rows.is_empty() {
            String::new()
        } else if rows.contains([',', '-', '…']) {
            format!("in rows {rows}")
        } else {
            format!("in row {rows}")
        }
    }

    /// Up to [`EXAMPLES`] distinct, non-empty values, clipped; none for a single finding (its message shows it).
    pub fn examples(&self) -> Vec<String> {
        if self.count() == 1 {
            return vec![];
        }
        let mut out: Vec<String> = vec![];
        for v in self.findings.iter().filter_map(|f| f.value.as_deref()) {
            let v = clip(v, EXAMPLE_CHARS);
            if !v.trim().is_empty() && !out.contains(&v) {
                out.push(v);
                if out.len() == EXAMPLES {
                    break;
                }
            }
        }
        out
    }

    /// What the group's findings say, with their number: "10 values above the maximum 1800". A single finding
    /// is its own message.
    pub fn phrase(&self) -> String {
        let n = self.count();
        if n == 1 {
            return self.findings[0].message.clone();
        }
        if self.constraint == Some("required") {
            return format!("{n} empty cells, but the field is required");
        }
        match self.common_tail() {
            Some(tail) => {
                if let Some(rest) = tail.strip_prefix("is not ") {
                    format!("{n} values that are not {rest}")
                } else if let Some(rest) = tail.strip_prefix("is ") {
                    format!("{n} values {rest}")
                } else if let Some(rest) = tail.strip_prefix("does not ") {
                    format!("{n} values that do not {rest}")
                } else {
                    format!("{n} × {tail}")
                }
            }
            None if self
                .findings
                .iter()
                .all(|f| f.message == self.findings[0].message) =>
            {
                format!("{n} × {}", self.findings[0].message)
            }
            // Messages that differ beyond the value (positions, lengths, names): say what the first one says.
            None => {
                let what = match self.constraint {
                    Some(c) => format!("values breaking {c}"),
                    None => "findings".to_string(),
                };
                format!("{n} {what}; the first: {}", self.findings[0].message)
            }
        }
    }

    /// The message with the finding's own value taken off its front, when every finding of the group says the
    /// same thing about its value ("is above the maximum 1800").
    fn common_tail(&self) -> Option<&str> {
        let mut common: Option<&str> = None;
        for f in &self.findings {
            let tail = value_tail(f)?;
            match common {
                None => common = Some(tail),
                Some(c) if c == tail => {}
                Some(_) => return None,
            }
        }
        common
    }

    /// The whole line as plain text: "proline: 10 values above the maximum 1800 in rows 41-50 (e.g. 407000,
    /// 345000)".
    pub fn sentence(&self) -> String {
        let mut s = String::new();
        if let Some(field) = self.field {
            s.push_str(field);
            s.push_str(": ");
        }
        s.push_str(&self.phrase());
        let rows = self.rows_phrase();
        if !rows.is_empty() {
            s.push(' ');
            s.push_str(&rows);
        }
        let examples = self.examples();
        if !examples.is_empty() {
            s.push_str(&format!(" (e.g. {})", examples.join(", ")));
        }
        s
    }
}

/// Groups listed per check in markdown; the details below them keep every finding.
const LISTED_GROUPS: usize = 20;

/// A check's findings as a markdown list of groups, every string from the report escaped. `link` gives the URL of
/// a finding's place where the caller knows one (the comment links the first finding of a group to its line).
pub fn render_groups_markdown(check: &Check, link: &dyn Fn(&Finding) -> Option<String>) -> String {
    let mut out = String::new();
    let groups = group(&check.findings);
    for g in groups.iter().take(LISTED_GROUPS) {
        let icon = match g.severity() {
            Severity::Error => "❌",
            Severity::Warning => "⚠️",
        };
        let mut line = format!("- {icon} {}", escape(g.code, Ctx::Code));
        if let Some(field) = g.field {
            line.push_str(&format!(" {}:", escape(field, Ctx::Code)));
        }
        line.push(' ');
        line.push_str(&escape(&clip(&g.phrase(), 300), Ctx::Markdown));
        let rows = g.rows_phrase();
        if !rows.is_empty() {
            line.push(' ');
            line.push_str(&rows);
        }
        let examples: Vec<String> = g.examples().iter().map(|v| escape(v, Ctx::Code)).collect();
        if !examples.is_empty() {
            line.push_str(&format!(" (e.g. {})", examples.join(", ")));
        }
        let first = g.findings[0];
        if let (Some(loc), Some(url)) = (first.location(), link(first)) {
            line.push_str(&format!(" · [{}]({url})", escape(&loc, Ctx::Code)));
        }
        out.push_str(&line);
        out.push('\n');
    }
    let kept = check.findings.len();
    let total = check.total_findings() as usize;
    if groups.len() > LISTED_GROUPS {
        out.push_str(&format!(
            "- … {} more groups; every finding is in the details below.\n",
            groups.len() - LISTED_GROUPS
        ));
    }
    if total > kept {
        out.push_str(&format!(
            "- These groups cover the first {kept} of {total} findings.\n"
        ));
    }
    out
}

/// A message that starts with the finding's value (as is, or quoted as Rust's `{:?}` writes it), without it.
fn value_tail(f: &Finding) -> Option<&str> {
    let value = f.value.as_deref().filter(|v| !v.is_empty())?;
    let quoted = format!("{value:?}");
    let rest = f
        .message
        .strip_prefix(quoted.as_str())
        .or_else(|| f.message.strip_prefix(value))?;
    let rest = rest.strip_prefix(' ')?;
    (!rest.is_empty()).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(row: u64, field: &str, constraint: &str, value: &str, message: &str) -> Finding {
        let mut f = Finding::new("constraint-error", Severity::Error, message);
        f.row = Some(row);
        f.field = Some(field.into());
        f.constraint = Some(constraint.into());
        f.value = Some(value.into());
        f
    }

    fn above(row: u64, v: &str) -> Finding {
        finding(
            row,
            "proline",
            "maximum",
            v,
            &format!("{v} is above the maximum 1800"),
        )
    }

    #[test]
    fn the_issue_example_reads_as_one_line() {
        let findings: Vec<Finding> = [407000, 345000, 564000, 625000]
            .iter()
            .enumerate()
            .map(|(i, v)| above(41 + i as u64, &v.to_string()))
            .collect();
        let groups = group(&findings);
        assert_eq!(groups.len(), 1);
        assert_eq!(
            groups[0].sentence(),
            "proline: 4 values above the maximum 1800 in rows 41-44 (e.g. 407000, 345000, 564000)"
        );
    }

    #[test]
    fn parts_of_a_dataset_group_apart_in_the_order_the_report_names_them() {
        let in_part = |file: &str, row| {
            let mut f = above(row, "2000");
            f.file = Some(file.into());
            f
        };
        let findings = vec![
            in_part("sales/region=asia/part-0.csv", 3),
            in_part("sales/region=us/part-0.csv", 2),
            in_part("sales/region=asia/part-0.csv", 2),
            in_part("sales/region=us/part-0.csv", 4),
        ];
        let groups = group(&findings);
        let seen: Vec<(Option<&str>, String)> = groups.iter().map(|g| (g.file, g.rows())).collect();
        assert_eq!(
            seen,
            [
                (Some("sales/region=asia/part-0.csv"), "2-3".to_string()),
                (Some("sales/region=us/part-0.csv"), "2, 4".to_string()),
            ]
        );
    }

    #[test]
    fn rows_compress_into_ranges_and_stop_after_a_few() {
        let rows = [41, 42, 43, 63, 70, 71, 72];
        let findings: Vec<Finding> = rows.iter().map(|&r| above(r, "2000")).collect();
        assert_eq!(group(&findings)[0].rows(), "41-43, 63, 70-72");
        let many: Vec<Finding> = (0..20).map(|r| above(r * 2, "2000")).collect();
        assert_eq!(
            group(&many)[0].rows(),
            "0, 2, 4, 6, 8, 10, 12, 14, …",
            "at most eight ranges"
        );
        // Repeated values are one example.
        assert!(group(&many)[0].examples() == vec!["2000".to_string()]);
    }

    #[test]
    fn groups_split_by_field_code_and_constraint_and_follow_the_first_row() {
        let findings = vec![
            above(41, "407000"),
            finding(
                16,
                "cultivar",
                "enum",
                "nebbiolo",
                "\"nebbiolo\" is not one of the allowed values [\"barolo\"]",
            ),
            finding(
                24,
                "cultivar",
                "enum",
                "nebbiolo",
                "\"nebbiolo\" is not one of the allowed values [\"barolo\"]",
            ),
            finding(50, "proline", "minimum", "1", "1 is below the minimum 10"),
        ];
        let sentences: Vec<String> = group(&findings).iter().map(Group::sentence).collect();
        assert_eq!(
            sentences,
            [
                "cultivar: 2 values that are not one of the allowed values [\"barolo\"] in rows 16, 24 (e.g. nebbiolo)",
                "proline: 407000 is above the maximum 1800 in row 41",
                "proline: 1 is below the minimum 10 in row 50",
            ]
        );
    }

    #[test]
    fn required_type_and_mixed_messages_have_a_phrase() {
        let required = |r| {
            finding(
                r,
                "alcohol",
                "required",
                "",
                "field \"alcohol\" is required but the cell is empty",
            )
        };
        let findings = [required(2), required(3), required(5)];
        let g = group(&findings);
        assert_eq!(
            g[0].sentence(),
            "alcohol: 3 empty cells, but the field is required in rows 2-3, 5"
        );
        let short = |r, v: &str| {
            finding(
                r,
                "name",
                "minLength",
                v,
                &format!(
                    "{v:?} is {} characters long, shorter than minLength 5",
                    v.len()
                ),
            )
        };
        let findings = [short(2, "ab"), short(3, "abc")];
        let g = group(&findings);
        assert_eq!(
            g[0].sentence(),
            "name: 2 values breaking minLength; the first: \"ab\" is 2 characters long, shorter than minLength 5 in rows 2-3 (e.g. ab, abc)"
        );
        let mut a = Finding::new(
            "extra-cell",
            Severity::Error,
            "the row has 4 cells but the header has 3",
        );
        a.row = Some(7);
        let mut b = a.clone();
        b.row = Some(9);
        assert_eq!(
            group(&[a, b])[0].sentence(),
            "2 × the row has 4 cells but the header has 3 in rows 7, 9"
        );
    }

    #[test]
    fn findings_without_rows_come_last_and_values_are_clipped() {
        let mut table = Finding::new("field-max", Severity::Error, "the maximum is 9");
        table.field = Some("x".into());
        let long = "9".repeat(100);
        let findings = vec![table, above(3, &long), above(4, "2")];
        let groups = group(&findings);
        assert_eq!(groups[0].code, "constraint-error");
        assert_eq!(groups[0].examples()[0].chars().count(), EXAMPLE_CHARS);
        assert_eq!(groups[1].sentence(), "x: the maximum is 9");
        assert_eq!(groups[1].severity(), Severity::Error);
    }

    #[test]
    fn markdown_groups_escape_fields_values_and_messages() {
        let evil = "</details>`@octocat [x](https://evil.example) |";
        let mut check = Check::new("d", "schema");
        check.findings = vec![
            finding(
                2,
                evil,
                "maximum",
                evil,
                &format!("{evil} is above the maximum 1"),
            ),
            finding(
                3,
                evil,
                "maximum",
                evil,
                &format!("{evil} is above the maximum 1"),
            ),
        ];
        check.counts.insert("constraint-error".into(), 2);
        let md = render_groups_markdown(&check, &|_| None);
        // The field and the values only inside code spans (nothing in them is markup); the phrase is text.
        assert_eq!(
            md,
            "- ❌ `constraint-error` ``</details>`@octocat [x](https://evil.example) |``: 2 values above the \
             maximum 1 in rows 2-3 (e.g. ``</details>`@octocat [x](https://evil.ex…``)\n"
        );
        assert_eq!(md.lines().count(), 1, "{md}");
    }
}
