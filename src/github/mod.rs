//! GitHub integration. Without a token: what a run inside GitHub Actions writes — the job summary and the step
//! outputs. With a token: the sticky pull-request comment and the check run, through the REST API (octocrab),
//! in the same job or from a `workflow_run` stage (`mlgate github publish`).
//! This module renders a [`Report`](crate::report::Report) it is given; it never decides a verdict.

mod actions;
pub mod check_run;
pub mod client;
pub mod comment;
pub mod comment_body;
pub mod context;
pub mod publish;
pub mod release;

pub use actions::{summary_markdown, write_actions_files, ActionsEnv, SUMMARY_LIMIT};
pub use client::{Client, RetryPolicy, Token};
pub use context::{ActionsContext, RunContext, CONTEXT_FILE};
pub use publish::{publish, PublishOptions, Published, Target};
