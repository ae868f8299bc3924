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
    let run = crate::check::RunOptions {
        schemas_from: a.config_from.clone(),
        compare_with,
    };
    if let (Some((index, count)), Some(dir)) = (a.shard, &a.report_dir) {
        return shard(&config, &run, (index, count, a.shard_rows), dir);
    }
    let report = crate::check::run_with(&config, &run)?;
    publish(&a, &report)?;
    super::emit(&report, a.output.format)
}

/// `check --shard I/N`: this shard's partial report, written to DIR/partial-I-of-N.json. The verdict is the
/// merge's: a shard that could run exits 0.
fn shard(
    config: &crate::config::Config,
    run: &crate::check::RunOptions,
    (index, count, block_rows): (u32, u32, u64),
    dir: &std::path::Path,
) -> Result<Exit> {
    let spec = crate::data::ShardSpec {
        index,
        count,
        block_rows,
    };
    let partial = crate::shard::run(config, run, spec)?;
    create_dir(dir)?;
    let path = partial.write(dir)?;
    println!(
        "shard {index}/{count}: wrote {} (merge every shard's partial with `mlgate merge`)",
        path.display()
    );
    Ok(Exit::Pass)
}

fn create_dir(dir: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| crate::error::Error::Write {
        path: dir.display().to_string(),
        source,
    })
}

/// The report's files in --report-dir, the Actions summary and outputs, and with a token the comment and the
/// check run. Only not being able to write the report files is an error.
fn publish(a: &CheckArgs, report: &crate::report::Report) -> Result<()> {
    let in_actions = crate::github::ActionsEnv::from_env();
    let actions = in_actions.as_ref().map(|_| ActionsContext::from_env());
    if let Some(dir) = &a.report_dir {
        create_dir(dir)?;
        write_atomic(&dir.join("report.json"), report.to_json().as_bytes())?;
        write_atomic(
            &dir.join("report.md"),
            report::render_markdown(report).as_bytes(),
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
        if let Err(e) = crate::github::write_actions_files(env, report, a.report_dir.as_deref()) {
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
        super::github_publish::print(&github::publish(report, &target, &opts));
    }
    Ok(())
}
