//! The JUnit XML rendering (`--format junit`): one `<testcase>` per check, a `<failure>` per failing check with its
//! findings in the body, `<skipped/>` for a skipped one. The shape is what the common JUnit report actions read
//! (dorny/test-reporter's `java-junit`, mikepenz/action-junit-report, GitLab's and Jenkins' readers):
//! `testsuites > testsuite > testcase`, counts on both suite elements, `classname` and `name` on each case.
//! mlgate times no check, so every `time` is 0.

use std::fmt::Write;

use super::{Check, Report, Status};

/// Findings written into one failure's body; the counts per code stay exact.
const FINDINGS_PER_FAILURE: usize = 200;

/// Text for XML 1.0 character data or a quoted attribute: markup characters become references, and characters
/// XML 1.0 cannot hold at all (most C0 controls, lone surrogates cannot occur in a `str`, U+FFFE/U+FFFF) become
/// U+FFFD, so a hostile value cannot make the document unreadable.
pub(crate) fn xml(s: &str) -> String {
    escape_xml(s, true)
}

/// [`xml`] for character data between tags, where line breaks and tabs stay as they are.
pub(crate) fn xml_text(s: &str) -> String {
    escape_xml(s, false)
}

fn escape_xml(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' | '\n' | '\r' if !attribute => out.push(c),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            // Attribute values normalise raw tabs and newlines to spaces; as references they survive.
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

pub fn render_junit(report: &Report) -> String {
    let tests = report.checks.len();
    let failures = count(report, Status::Fail);
    let skipped = count(report, Status::Skip);
    let totals =
        format!(r#"tests="{tests}" failures="{failures}" errors="0" skipped="{skipped}" time="0""#);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, r#"<testsuites name="mlgate" {totals}>"#);
    let _ = writeln!(out, r#"  <testsuite name="mlgate" {totals}>"#);
    for c in &report.checks {
        testcase(&mut out, c);
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn count(report: &Report, status: Status) -> usize {
    report.checks.iter().filter(|c| c.status == status).count()
}

fn testcase(out: &mut String, c: &Check) {
    let _ = write!(
        out,
        r#"    <testcase classname="{}" name="{}" time="0""#,
        xml(&c.kind),
        xml(&c.id)
    );
    match c.status {
        Status::Pass if c.findings.is_empty() => out.push_str("/>\n"),
        Status::Skip => {
            let _ = writeln!(out, ">\n      <skipped message=\"{}\"/>", xml(&c.summary));
            out.push_str("    </testcase>\n");
        }
        Status::Fail => {
            let _ = writeln!(
                out,
                ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>",
                xml(&c.summary),
                xml(&failure_type(c)),
                xml_text(&findings_text(c))
            );
            out.push_str("    </testcase>\n");
        }
        // A warning passes: its findings go to the case's output, where the report actions show them.
        Status::Pass | Status::Warn => {
            let _ = writeln!(
                out,
                ">\n      <system-out>{}</system-out>",
                xml_text(&findings_text(c))
            );
            out.push_str("    </testcase>\n");
        }
    }
}

/// The codes of a check's findings, most frequent first ("constraint-error, type-error"); the kind without any.
fn failure_type(c: &Check) -> String {
    let mut codes: Vec<(&String, &u64)> = c.counts.iter().collect();
    codes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    if codes.is_empty() {
        return c.kind.clone();
    }
    codes
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line per finding, "file:line:column code: message", then what was left out.
fn findings_text(c: &Check) -> String {
    let mut s = String::new();
    if !c.summary.is_empty() {
        let _ = writeln!(s, "{}", c.summary);
    }
    for f in c.findings.iter().take(FINDINGS_PER_FAILURE) {
        let loc = f.location().map(|l| format!("{l} ")).unwrap_or_default();
        let field = f
            .field
            .as_deref()
            .map(|x| format!(" [{x}]"))
            .unwrap_or_default();
        let _ = writeln!(s, "{loc}{}{field}: {}", f.code, f.message);
    }
    let total = c.total_findings().max(c.findings.len() as u64);
    let listed = c.findings.len().min(FINDINGS_PER_FAILURE) as u64;
    if total > listed {
        let by_code: Vec<String> = c.counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let _ = writeln!(
            s,
            "… {} more not listed (by code: {})",
            total - listed,
            by_code.join(", ")
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Finding, Severity};

    #[test]
    fn xml_escapes_markup_and_drops_what_xml_cannot_hold() {
        assert_eq!(
            xml("a<b>&\"'\u{0}\u{1b}\t\n"),
            "a&lt;b&gt;&amp;&quot;&apos;\u{FFFD}\u{FFFD}&#9;&#10;"
        );
        assert_eq!(xml_text("a\tb\nc<"), "a\tb\nc&lt;");
        assert_eq!(xml("héllo"), "héllo");
    }

    #[test]
    fn statuses_map_to_cases() {
        let pass = Check::new("a", "schema");
        let mut skip = Check::new("b", "drift");
        skip.status = Status::Skip;
        skip.summary = "no reference".into();
        let mut fail = Check::new("c", "schema");
        fail.status = Status::Fail;
        fail.summary = "2 findings".into();
        let mut f = Finding::new(
            "type-error",
            Severity::Error,
            "\"x\" is not a valid integer",
        );
        f.file = Some("c.csv".into());
        f.line = Some(3);
        fail.findings = vec![f];
        fail.counts.insert("type-error".into(), 2);
        let xml = render_junit(&Report::new(vec![pass, skip, fail]));
        assert!(xml.contains(r#"<testsuites name="mlgate" tests="3" failures="1" errors="0" skipped="1" time="0">"#), "{xml}");
        assert!(
            xml.contains(r#"<testcase classname="schema" name="a/schema" time="0"/>"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<skipped message="no reference"/>"#),
            "{xml}"
        );
        let failure = "<failure message=\"2 findings\" type=\"type-error\">2 findings\nc.csv:3 type-error: \
                       \"x\" is not a valid integer\n… 1 more not listed (by code: type-error 2)\n</failure>";
        assert!(xml.contains(failure), "{xml}");
    }
}
