//! The `github` rendering: workflow commands (`::error file=…,line=…,col=…::message`) that GitHub Actions turns
//! into annotations. GitHub shows at most 10 errors and 10 warnings per step, so the most severe come first and a
//! notice says how many were left out.

use std::fmt::Write;

use super::escape::{escape, Ctx};
use super::{Report, Severity};

/// GitHub's per-step limit for each of errors and warnings.
const PER_STEP_LIMIT: usize = 10;

fn escape_data(s: &str) -> String {
    escape(s, Ctx::WorkflowData)
}

fn escape_property(s: &str) -> String {
    escape(s, Ctx::WorkflowProperty)
}

/// How many findings [`render_github`] annotates (the rest stay in the summary and the JSON).
pub fn annotated_count(report: &Report) -> usize {
    let count = |sev: Severity| {
        report
            .checks
            .iter()
            .flat_map(|c| &c.findings)
            .filter(|f| f.severity == sev)
            .count()
            .min(PER_STEP_LIMIT)
    };
    count(Severity::Error) + count(Severity::Warning)
}

pub fn render_github(report: &Report) -> String {
    let mut out = String::new();
    let mut shown = [0usize; 2];
    let mut left_out = 0usize;
    // Errors before warnings, each in report order.
    let mut all: Vec<(&super::Check, &super::Finding)> = report
        .checks
        .iter()
        .flat_map(|c| c.findings.iter().map(move |f| (c, f)))
        .collect();
    all.sort_by_key(|(_, f)| std::cmp::Reverse(f.severity));
    for (check, f) in all {
        let (cmd, slot) = match f.severity {
            Severity::Error => ("error", 0),
            Severity::Warning => ("warning", 1),
        };
        if shown[slot] >= PER_STEP_LIMIT {
            left_out += 1;
            continue;
        }
        shown[slot] += 1;
        let mut props = Vec::new();
        if let Some(file) = &f.file {
            props.push(format!("file={}", escape_property(file)));
            if let Some(l) = f.line {
                props.push(format!("line={l}"));
            }
            if let Some(c) = f.column {
                props.push(format!("col={c}"));
            }
        }
        props.push(format!(
            "title={}",
            escape_property(&format!("mlgate {} {}", check.id, f.code))
        ));
        let _ = writeln!(
            out,
            "::{cmd} {}::{}",
            props.join(","),
            escape_data(&f.message)
        );
    }
    let not_kept: u64 = report
        .checks
        .iter()
        .map(|c| c.total_findings().saturating_sub(c.findings.len() as u64))
        .sum();
    let hidden = left_out as u64 + not_kept;
    if hidden > 0 {
        let _ = writeln!(
            out,
            "::notice title=mlgate::{hidden} more findings are not annotated (GitHub shows 10 errors and 10 warnings per step); see the job summary or report.json"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_workflow_command_parts() {
        assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
