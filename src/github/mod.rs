//! GitHub integration. Today: what a run inside GitHub Actions writes without any token — the job summary and
//! the step outputs. (The sticky comment and the check run, which need a token, come with their issue.)
//! This module renders a [`Report`] it is given; it never decides a verdict.

mod actions;

pub use actions::{summary_markdown, write_actions_files, ActionsEnv, SUMMARY_LIMIT};
