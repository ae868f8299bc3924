use crate::cli::MergeArgs;
use crate::error::Result;
use crate::exit::Exit;
use crate::fsutil::write_atomic;
use crate::report;

/// `mlgate merge PARTIAL...`: the report of the sharded check, written where asked, rendered, and its verdict
/// as the exit code (as `check` would have).
pub fn run(a: MergeArgs) -> Result<Exit> {
    let report = crate::shard::merge(&a.partials)?;
    if let Some(out) = &a.out {
        write_atomic(out, report.to_json().as_bytes())?;
    }
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
    }
    let in_actions = crate::github::ActionsEnv::from_env();
    // What the workflow_run stage cannot know by itself, as `check` writes it.
    if let (Some(dir), Some(_)) = (&a.report_dir, &in_actions) {
        let actions = crate::github::ActionsContext::from_env();
        if let Err(e) = crate::github::RunContext::new(&a.config, &actions).write(dir) {
            eprintln!("warning: {e}");
        }
    }
    if let Some(env) = &in_actions {
        if let Err(e) = crate::github::write_actions_files(env, &report, a.report_dir.as_deref()) {
            eprintln!("warning: {e}");
        }
    }
    super::emit(&report, a.output.format)
}
