//! The one escaping function for text that comes from a report (or anything else a pull request can write) and
//! goes into markdown, HTML or a GitHub workflow command.
//!
//! A report read by the privileged `workflow_run` stage was written by the pull request's own code, so every
//! string in it is hostile until escaped: it must not close our `<details>`, add headings, links, images or
//! tracking pixels, ping people with `@mentions`, cross-reference issues, or inject workflow commands.
//!
//! How each context is made safe, and why:
//! - [`Ctx::Markdown`] and [`Ctx::Html`]: HTML-significant characters, link brackets, backticks, backslashes and
//!   table pipes become numeric character references. References decode both in markdown text and inside HTML
//!   blocks (where backslash escapes do not work), and a `&#124;` does not split a GFM table cell. Mentions,
//!   issue references and bare URLs are broken with a zero-width space, because GitHub finds them in the rendered
//!   text, after references are decoded. Line breaks become spaces (a new line could start a heading or a block).
//! - [`Ctx::Code`] and [`Ctx::TableCode`]: a whole code span, fenced by more backticks than the text holds.
//!   Nothing inside a code span is decoded, so it holds no character references (GitHub would show `&gt;`
//!   literally); nothing inside it links or mentions either. In a table a pipe still splits the cell, so it is
//!   written `\|`, which GFM removes again inside tables.
//! - [`Ctx::WorkflowData`] and [`Ctx::WorkflowProperty`]: GitHub's own escaping for workflow commands (`%`, CR,
//!   LF, and in properties `:` and `,`), so a value cannot end its command and start another.
//!
//! Emphasis characters (`*`, `_`, `~`) are left alone: they can change how text looks, never what it does.

/// Where the escaped text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    /// Markdown inline text, a table cell included.
    Markdown,
    /// HTML text or a quoted attribute value (also inside an HTML block of a markdown document).
    Html,
    /// A code span outside a table: the result includes its backticks.
    Code,
    /// A code span inside a GFM table cell: the result includes its backticks.
    TableCode,
    /// The message of a workflow command (`::error ...::MESSAGE`).
    WorkflowData,
    /// A property value of a workflow command (`file=VALUE`).
    WorkflowProperty,
}

/// Zero-width space: breaks a mention, reference or URL without changing what people read.
const ZWSP: char = '\u{200B}';

/// Escapes `s` for the context `ctx`. See the module's documentation for what each context guards against.
pub fn escape(s: &str, ctx: Ctx) -> String {
    match ctx {
        Ctx::Markdown => text(s, false),
        Ctx::Html => text(s, true),
        Ctx::Code => code_span(s, false),
        Ctx::TableCode => code_span(s, true),
        Ctx::WorkflowData => workflow(s, false),
        Ctx::WorkflowProperty => workflow(s, true),
    }
}

/// Characters that could reorder what is displayed (Trojan Source) or are invisible controls.
fn is_hidden_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

fn text(s: &str, attribute_safe: bool) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("&#124;"),
            '[' => out.push_str("&#91;"),
            ']' => out.push_str("&#93;"),
            '`' => out.push_str("&#96;"),
            '\\' => out.push_str("&#92;"),
            '"' if attribute_safe => out.push_str("&quot;"),
            '\'' if attribute_safe => out.push_str("&#39;"),
            // `@user`, `@org/team`, `user@example.com`: no mention, no mail link.
            '@' => {
                out.push('@');
                out.push(ZWSP);
            }
            // `#12`, `owner/repo#12`: no cross-reference (it would notify the referenced issue).
            '#' if next.is_some_and(|n| n.is_ascii_alphanumeric()) => {
                out.push('#');
                out.push(ZWSP);
            }
            // `https://…`: GitHub links bare URLs.
            ':' if next == Some('/') => {
                out.push(':');
                out.push(ZWSP);
            }
            // `www.example.com` too.
            '.' if ends_with_www(&chars[..i]) => {
                out.push(ZWSP);
                out.push('.');
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if is_hidden_control(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn ends_with_www(before: &[char]) -> bool {
    before.len() >= 3
        && before[before.len() - 3..]
            .iter()
            .all(|c| c.eq_ignore_ascii_case(&'w'))
}

fn code_span(s: &str, in_table: bool) -> String {
    let body: String = s
        .chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if is_hidden_control(c) => '\u{FFFD}',
            c => c,
        })
        .collect();
    let body = if in_table {
        body.replace('|', "\\|")
    } else {
        body
    };
    let longest_run = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    // A span that starts or ends with a backtick needs a space inside the fence (CommonMark strips one).
    let pad = if body.starts_with('`') || body.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{body}{pad}{fence}")
}

fn workflow(s: &str, property: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' if property => out.push_str("%3A"),
            ',' if property => out.push_str("%2C"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_text_cannot_make_markup() {
        let s = "</details>\n# Pass [click](https://evil.example) ![x](http://t/p.png) @octocat #12 | `x` \\";
        let e = escape(s, Ctx::Markdown);
        for bad in [
            "</details>",
            "\n",
            "[click]",
            "](",
            "@octocat",
            " #12",
            "|",
            "`",
            "https://",
            "\\",
        ] {
            assert!(!e.contains(bad), "{bad:?} survived in {e:?}");
        }
        assert_eq!(escape("a < b & c", Ctx::Markdown), "a &lt; b &amp; c");
    }

    #[test]
    fn bare_urls_and_www_are_broken() {
        assert!(!escape("see www.evil.example", Ctx::Markdown).contains("www."));
        assert!(!escape("ftp://x", Ctx::Markdown).contains("://"));
        assert_eq!(escape("ratio 0.5: ok", Ctx::Markdown), "ratio 0.5: ok");
    }

    #[test]
    fn html_also_escapes_quotes() {
        assert_eq!(escape(r#"a"b'c"#, Ctx::Html), "a&quot;b&#39;c");
        assert_eq!(escape(r#"a"b"#, Ctx::Markdown), r#"a"b"#);
    }

    #[test]
    fn code_spans_hold_no_entities_and_fence_backticks() {
        assert_eq!(escape("> 3", Ctx::Code), "`> 3`");
        assert_eq!(escape("a`b", Ctx::Code), "``a`b``");
        assert_eq!(escape("`x", Ctx::Code), "`` `x ``");
        assert_eq!(escape("a|b", Ctx::TableCode), "`a\\|b`");
        assert_eq!(escape("a|b\nc", Ctx::Code), "`a|b c`");
    }

    #[test]
    fn workflow_commands_cannot_be_ended_early() {
        assert_eq!(
            escape("50%\n::error::x", Ctx::WorkflowData),
            "50%25%0A::error::x"
        );
        assert_eq!(escape("a:b,c", Ctx::WorkflowProperty), "a%3Ab%2Cc");
    }

    #[test]
    fn hidden_controls_are_replaced() {
        assert_eq!(
            escape("a\u{202E}b\u{1b}c", Ctx::Markdown),
            "a\u{FFFD}b\u{FFFD}c"
        );
    }
}
