//! A report as a hostile pull request could write it (the `workflow_run` stage renders the artifact the PR's own
//! code wrote): markup in every string field. Every rendering (the comment, the markdown summary, the github
//! annotations) is an insta snapshot, and each is checked for what the hostile text tries to do: close our
//! `<details>`, add headings, links, images, tracking pixels, live `@mentions` and issue references, or inject
//! workflow commands. Review changes with `INSTA_UPDATE=always cargo test --test hostile_report`.

use mlgate::github::comment_body::{render_comment, Links};
use mlgate::report::{
    render_github, render_html, render_junit, render_markdown, Check, Finding, Report, Severity,
    Status,
};
use serde_json::json;

/// Everything a hostile string can try in markdown, HTML and workflow commands.
const H: &str = "</details></code><img src=https://evil.example/p.png> @octocat @org/team #1 o/r#2 \
                 [phish](https://evil.example) ![t](https://evil.example/t.png) www.evil.example | `tick` \\ \
                 <!-- x --> &amp;\n## Fake heading\n::error::forged %0A\u{202E}txt";

fn h(tag: &str) -> String {
    format!("{tag}{H}")
}

fn hostile_report() -> Report {
    let mut schema = Check::new(&h("subject"), "schema");
    schema.id = h("id");
    schema.status = Status::Fail;
    schema.summary = h("summary");
    let mut f = Finding::new(h("code"), Severity::Error, h("message"));
    f.file = Some(h("file"));
    f.line = Some(3);
    f.field = Some(h("field"));
    f.value = Some(h("value"));
    schema.findings.push(f);
    schema.counts.insert(h("count"), 1);
    schema.truncated = true;
    schema.counts.insert("more".into(), 200);

    let mut drift = Check::new(&h("dsubject"), "drift");
    drift.id = h("did");
    drift.status = Status::Fail;
    drift.figures.insert(
        "columns".into(),
        json!([{"column": h("col"), "type": h("type"), "test": h("test"), "statistic": h("stat"),
                "p_value": 0.01, "threshold": 0.05, "drifted": true, "method": "exact",
                "histogram": {"bins": [h("bin")], "reference": [1], "current": [2]}}]),
    );
    drift
        .figures
        .insert("drifted_share".into(), json!(h("share")));
    drift.figures.insert("drift_share".into(), json!(0.5));

    let mut metric = Check::new(&h("msubject"), "metric");
    metric.id = h("mid");
    metric.status = Status::Fail;
    metric.figures.insert(
        "metrics".into(),
        json!([{"name": h("metric"), "value": h("v"), "baseline": 0.5, "delta": 0.1, "relative_delta": 0.2,
                "interval": [h("lo"), 0.2], "gate": h("gate"), "direction": "higher_is_better", "status": "fail"}]),
    );
    metric.figures.insert(
        "baseline".into(),
        json!({"source": "git", "ref": h("ref"), "path": h("path"), "rows": 3}),
    );
    metric.figures.insert(
        "confusion_matrix".into(),
        json!({"labels": [h("label"), 7], "matrix": [[1, h("cell")], [0, 1]]}),
    );

    let mut quant = Check::new(&h("qsubject"), "quantization");
    quant.id = h("qid");
    quant.figures.insert("metric".into(), json!(h("qmetric")));
    quant.figures.insert(
        "variants".into(),
        json!([{"variant": h("variant"), "size": 10, "size_ratio": 0.3, "metric": 0.9, "drop": 0.01,
                "argmax_agreement": 0.99, "max_abs_diff": 0.001}]),
    );

    let mut change = Check::new(&h("csubject"), "gate-change");
    change.status = Status::Warn;
    change.figures.insert("base_ref".into(), json!(h("base")));
    change
        .findings
        .push(Finding::new("gate-changed", Severity::Warning, h("change")));
    Report::new(vec![change, schema, drift, metric, quant])
}

fn links() -> Links {
    Links {
        server_url: "https://github.com".into(),
        repository: "octo-org/ml-repo".into(),
        // As a forged artifact would have them: neither is used in a URL.
        head_sha: Some(h("sha")),
        path_prefix: String::new(),
        run_id: Some(h("run")),
    }
}

/// Splits markdown into its code spans and the rest, as CommonMark does: a run of N backticks opens a span that
/// the next run of exactly N backticks closes.
fn split_code_spans(md: &str) -> (Vec<String>, String) {
    let b = md.as_bytes();
    let run_at = |i: usize| b[i..].iter().take_while(|&&c| c == b'`').count();
    let (mut spans, mut rest, mut i) = (vec![], String::new(), 0);
    while i < b.len() {
        if b[i] != b'`' {
            let next = md[i..].find('`').map_or(md.len(), |j| i + j);
            rest.push_str(&md[i..next]);
            i = next;
            continue;
        }
        let n = run_at(i);
        let mut j = i + n;
        let close = loop {
            match md[j..].find('`') {
                None => break None,
                Some(k) => {
                    let m = run_at(j + k);
                    if m == n {
                        break Some(j + k);
                    }
                    j += k + m;
                }
            }
        };
        match close {
            Some(c) => {
                spans.push(md[i + n..c].to_string());
                rest.push(' ');
                i = c + n;
            }
            None => {
                rest.push_str(&md[i..i + n]);
                i += n;
            }
        }
    }
    (spans, rest)
}

/// Takes out the Mermaid charts after checking each: every line inside is one of our statements, quotes pair up on
/// each line, and no label holds what Mermaid or markdown would act on (directives, HTML, URLs, fences).
fn without_mermaid(md: &str) -> String {
    let mut rest = String::new();
    let mut lines = md.lines();
    while let Some(line) = lines.next() {
        if line != "```mermaid" {
            rest.push_str(line);
            rest.push('\n');
            continue;
        }
        assert_eq!(lines.next(), Some("xychart-beta"));
        for inner in lines.by_ref() {
            if inner == "```" {
                break;
            }
            let statement = [
                "    title \"",
                "    x-axis [",
                "    y-axis \"",
                "    bar [",
                "    line [",
            ];
            assert!(
                statement.iter().any(|s| inner.starts_with(s)),
                "not our statement: {inner:?}"
            );
            assert_eq!(inner.matches('"').count() % 2, 0, "{inner:?}");
            // The y axis's range arrow is ours; nothing else may look like markup.
            let text = inner.replace(" --> ", " ");
            for bad in ["%", "<", ">", "`", "{", "}", "'", "#", "@", "://", "&"] {
                assert!(!text.contains(bad), "{bad:?} in the chart line {inner:?}");
            }
        }
    }
    rest
}

/// What must never appear in a markdown rendering of the hostile report, outside code spans (where nothing is
/// markup); and code spans never hold character references (GitHub would show them literally).
fn assert_inert_markdown(md: &str, our_details: usize) {
    let md = without_mermaid(md);
    let (spans, md) = split_code_spans(&md);
    let md = md.as_str();
    for span in &spans {
        assert!(
            !span.contains("&lt;") && !span.contains("&#"),
            "entity in code span {span:?}"
        );
        assert!(
            !span.contains('\n'),
            "a code span cannot span lines: {span:?}"
        );
    }
    for bad in [
        "<img",
        "</code><img",
        "@octocat",
        "@org/team",
        " #1 ",
        "o/r#2",
        "](https://evil",
        "](http",
        "https://evil",
        "www.evil",
        "<!-- x",
        "\n## Fake",
        "\u{202E}",
    ] {
        assert!(!md.contains(bad), "{bad:?} survived in:\n{md}");
    }
    assert_eq!(
        md.matches("</details>").count(),
        our_details,
        "only our own details close:\n{md}"
    );
}

#[test]
fn the_comment_is_inert() {
    let md = render_comment(
        &hostile_report(),
        "<!-- mlgate:mlgate.yml:gate -->",
        &links(),
    )
    .unwrap();
    let ours = md.matches("<details").count();
    assert_inert_markdown(&md, ours);
    assert!(
        !md.contains("actions/runs/"),
        "a forged run id makes no link"
    );
    assert!(!md.contains("/blob/"), "a forged head sha makes no link");
    insta::assert_snapshot!(md);
}

#[test]
fn the_markdown_summary_is_inert() {
    let md = render_markdown(&hostile_report());
    let ours = md.matches("<details").count();
    assert_inert_markdown(&md, ours);
    insta::assert_snapshot!(md);
}

#[test]
fn annotations_cannot_inject_workflow_commands() {
    let text = render_github(&hostile_report());
    for line in text.lines() {
        assert!(
            line.starts_with("::error ")
                || line.starts_with("::warning ")
                || line.starts_with("::notice "),
            "a line that is not our own command: {line:?}"
        );
    }
    // One error, one warning and the notice of findings not kept: no line of the hostile text became its own.
    assert_eq!(text.lines().count(), 3, "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn the_html_report_is_inert() {
    let html = render_html(&hostile_report());
    // Our own markup only: the hostile text's tags, comments and quotes arrive as references.
    for bad in ["<img", "</code><img", "<!-- x", "\u{202E}"] {
        assert!(!html.contains(bad), "{bad:?} survived in:\n{html}");
    }
    assert!(html.contains("&lt;/details&gt;&lt;/code&gt;&lt;img"));
    assert!(!html.contains("<details></code>"));
    assert_eq!(
        html.matches("<details>").count(),
        html.matches("</details>").count()
    );
}

#[test]
fn the_junit_xml_is_inert() {
    let xml = render_junit(&hostile_report());
    assert!(!xml.contains("<img"), "{xml}");
    assert!(!xml.contains("</details>"), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 5);
}
