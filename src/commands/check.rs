use crate::cli::CheckArgs;
use crate::config::LoadOptions;
use crate::error::Result;
use crate::exit::Exit;
use crate::fsutil::write_atomic;
use crate::github::{self, ActionsContext, RunContext, Target};
use crate::report;

pub fn run(a: CheckArgs) -> Result<Exit> {
    let config = crate::check::load_config(
        &a.config,
        a.config_from.as_deref(),
        LoadOptions {
            allow_outside_repo: a.allow_outside_repo,
            allow_remote: a.allow_remote.clone(),
        },
    )?;
    let compare_with = a.gates_base.clone().or_else(|| {
        std::env::var("GITHUB_BASE_REF")
            .ok()
            .filter(|b| !b.trim().is_empty())
            .map(|_| crate::gate::baseline::default_ref())
    });
    let report = crate::check::run_with(
        &config,
        &crate::check::RunOptions {
            schemas_from: a.config_from.clone(),
            compare_with,
        },
    )?;
    let in_actions = crate::github::ActionsEnv::from_env();
    let actions = in_actions.as_ref().map(|_| ActionsContext::from_env());
    if let Some(dir) = &a.report_dir {
        std::fs::create_dir_all(dir).map_err(|source| crate::error::Error::Write {
            path: dir.display().to_string(),
            source,
        })?;
        write_atomic(&dir.join("report.json"), report.to_json().as_bytes())?;
        write_atomic(
            &dir.join("report.md"),
            report::render_markdown(&report).as_bytes(),
        )?;
        // What the workflow_run stage cannot know by itself: the pull request, its head commit, the marker.
        if let Some(actions) = &actions {
            if let Err(e) = RunContext::new(&a.config, actions).write(dir) {
                eprintln!("warning: {e}");
            }
        }
    }
    // In GitHub Actions: the job summary and step outputs. Failing to write them must not change the verdict.
    if let Some(env) = &in_actions {
        if let Err(e) = crate::github::write_actions_files(env, &report, a.report_dir.as_deref()) {
            eprintln!("warning: {e}");
        }
    }
    let token = a.token.token.as_deref().and_then(github::Token::new);
    if a.comment && !a.no_comment && (token.is_none() || actions.is_none()) {
        eprintln!(
            "warning: --comment needs a token (--token or GITHUB_TOKEN) inside GitHub Actions: nothing posted"
        );
    }
    // With a token: the comment and the check run. Their failures are warnings; the exit code is the verdict's.
    if let (Some(actions), Some(token), false) = (&actions, token, a.no_comment) {
        let config = a.config.to_string_lossy().replace('\\', "/");
        let target = Target::from_actions(&config, actions);
        let opts = github::PublishOptions {
            api_url: actions.api_url.clone(),
            token,
            policy: github::RetryPolicy::default(),
        };
        super::github_publish::print(&github::publish(&report, &target, &opts));
    }
    super::emit(&report, a.output.format)
}
