use crate::cli::CheckArgs;
use crate::config::Config;
use crate::error::Result;
use crate::exit::Exit;
use crate::fsutil::write_atomic;
use crate::report;

pub fn run(a: CheckArgs) -> Result<Exit> {
    let config = Config::load(&a.config)?;
    let report = crate::check::run(&config)?;
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
    // In GitHub Actions: the job summary and step outputs. Failing to write them must not change the verdict.
    if let Some(env) = crate::github::ActionsEnv::from_env() {
        if let Err(e) = crate::github::write_actions_files(&env, &report, a.report_dir.as_deref()) {
            eprintln!("warning: {e}");
        }
    }
    super::emit(&report, a.output.format)
}
