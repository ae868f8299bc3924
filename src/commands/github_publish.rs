use crate::cli::PublishArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::github::{self, ActionsContext, Published, RunContext, Target};

/// Notes and warnings go to stderr: stdout stays the report's.
pub(super) fn print(p: &Published) {
    for n in &p.notes {
        eprintln!("mlgate: {n}");
    }
    for w in &p.warnings {
        eprintln!("warning: {w}");
    }
}

/// Exit 0 whatever the API answered (the gate's own run has the verdict's exit code); 2 when the report or the
/// token is missing.
pub fn run(a: PublishArgs) -> Result<Exit> {
    let token = a
        .token
        .token
        .as_deref()
        .and_then(github::Token::new)
        .ok_or_else(|| {
            Error::Usage(
                "github publish needs a token: pass --token or set GITHUB_TOKEN (in a workflow: `token: ${{ github.token }}`)"
                    .into(),
            )
        })?;
    let report = crate::sign::dsse::read_report(&a.report_dir.join("report.json"))?;
    let saved = RunContext::read(&a.report_dir)?;
    let actions = ActionsContext::from_env();
    let target = match Target::for_publish(&saved, &actions) {
        Ok(t) => t,
        Err(why) => {
            eprintln!("warning: {why}");
            return Ok(Exit::Pass);
        }
    };
    let opts = github::PublishOptions {
        api_url: actions.api_url.clone(),
        token,
        policy: github::RetryPolicy::default(),
    };
    print(&github::publish(&report, &target, &opts));
    Ok(Exit::Pass)
}
