//! The minijinja templates embedded in the binary (`templates/`): the pull-request comment and the workflows that
//! `mlgate init` writes.
//!
//! Delimiters are `[[ ]]` for values, `[% %]` for tags and `[# #]` for comments, so that GitHub's own `${{ }}`
//! expressions in workflow files stay literal without escaping (cargo-dist does the same). Undefined values are
//! errors (strict), so a template that names a missing value fails its test instead of printing nothing.

use minijinja::syntax::SyntaxConfig;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};

/// Every embedded template, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("comment.md.j2", include_str!("../templates/comment.md.j2")),
    (
        "workflow-gate.yml.j2",
        include_str!("../templates/workflow-gate.yml.j2"),
    ),
    (
        "workflow-shards.yml.j2",
        include_str!("../templates/workflow-shards.yml.j2"),
    ),
    (
        "workflow-comment.yml.j2",
        include_str!("../templates/workflow-comment.yml.j2"),
    ),
    ("mlgate.yml.j2", include_str!("../templates/mlgate.yml.j2")),
    (
        "release-macros.j2",
        include_str!("../templates/release-macros.j2"),
    ),
    (
        "workflow-release.yml.j2",
        include_str!("../templates/workflow-release.yml.j2"),
    ),
    (
        "workflow-deploy.yml.j2",
        include_str!("../templates/workflow-deploy.yml.j2"),
    ),
    (
        "workflow-refresh.yml.j2",
        include_str!("../templates/workflow-refresh.yml.j2"),
    ),
];

/// A template failed to render: a bug in the template or in the values given to it.
#[derive(Debug, thiserror::Error)]
#[error("template {name}: {source}")]
pub struct TemplateError {
    pub name: String,
    #[source]
    pub source: minijinja::Error,
}

fn environment() -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.set_syntax(
        SyntaxConfig::builder()
            .block_delimiters("[%", "%]")
            .variable_delimiters("[[", "]]")
            .comment_delimiters("[#", "#]")
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()?,
    );
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // No escaping by file name (minijinja would JSON-quote every value in a .yml template): templates quote what
    // needs quoting themselves, with `tojson`.
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.add_filter("yaml_str", yaml_str);
    env.add_filter("pin", pin);
    env.add_filter("sh", sh_word);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(env)
}

/// A YAML scalar for `s`: plain when it is made of path-like characters only, else a double-quoted (JSON)
/// string, which YAML reads the same.
fn yaml_str(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let special = matches!(
        s.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
    ) || s.parse::<f64>().is_ok();
    if plain && !special {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

/// One shell word for `s`: as it is when made of characters no shell treats specially, else single-quoted
/// (a `'` inside written `'\''`), so config values reach the command as written.
pub fn sh_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ',' | ':' | '=' | '+')
        });
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// `owner/repo@SHA # VERSION` from [`crate::pins`]; an action missing from the table is an error, so no
/// template can write an unpinned `uses:`.
fn pin(action: &str) -> Result<String, minijinja::Error> {
    crate::pins::pinned(action).ok_or_else(|| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("{action} is not in src/pins.rs: pin it to a commit there"),
        )
    })
}

/// Renders the embedded template `name` with `ctx`, after registering the given filters.
pub fn render(
    name: &str,
    ctx: minijinja::Value,
    setup: impl FnOnce(&mut Environment<'static>),
) -> Result<String, TemplateError> {
    let err = |source| TemplateError {
        name: name.to_string(),
        source,
    };
    let mut env = environment().map_err(err)?;
    setup(&mut env);
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_expressions_stay_literal_and_undefined_is_an_error() {
        let env = environment().unwrap();
        let out = env
            .render_str("${{ github.sha }} [[ x ]]", minijinja::context! { x => 1 })
            .unwrap();
        assert_eq!(out, "${{ github.sha }} 1");
        assert!(env
            .render_str("[[ missing ]]", minijinja::context! {})
            .is_err());
    }

    #[test]
    fn shell_words_are_quoted_unless_plain() {
        assert_eq!(sh_word("models/wine.onnx"), "models/wine.onnx");
        assert_eq!(sh_word("a b"), "'a b'");
        assert_eq!(sh_word("it's $HOME"), "'it'\\''s $HOME'");
        assert_eq!(sh_word(""), "''");
    }
}
