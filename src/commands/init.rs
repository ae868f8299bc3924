use crate::cli::InitArgs;
use crate::error::Result;
use crate::exit::Exit;
use crate::init::{init, init_release, InitOptions};

/// The action the generated workflows use, as the text after `uses:`. Pinned to a commit: `--action`, else the
/// release commit a release build was told (`MLGATE_ACTION_SHA` at build time). A development build knows no
/// release commit: it writes the version tag with zizmor's inline ignore and the reason, so the workflow says
/// how to pin it instead of hiding that it is not pinned.
fn action_ref(given: Option<&str>) -> Result<String> {
    let version = env!("CARGO_PKG_VERSION");
    if let Some(a) = given {
        let pinned = a
            .split_once('@')
            .filter(|(repo, r)| repo.contains('/') && crate::pins::is_full_sha(r));
        return match pinned {
            Some(_) => Ok(a.to_string()),
            None => Err(crate::error::Error::Usage(format!(
                "--action {a:?}: expected OWNER/REPO@COMMIT with the full 40-character commit SHA (a tag or branch can move)"
            ))),
        };
    }
    Ok(match option_env!("MLGATE_ACTION_SHA").filter(|s| crate::pins::is_full_sha(s)) {
        Some(sha) => format!("mlgate/mlgate@{sha} # v{version}"),
        None => format!(
            "mlgate/mlgate@v{version} # zizmor: ignore[unpinned-uses] a development build of mlgate knows no release commit; pin it: mlgate init --action mlgate/mlgate@COMMIT"
        ),
    })
}

pub fn run(a: InitArgs) -> Result<Exit> {
    let opts = InitOptions {
        dir: a.dir,
        force: a.force,
        action: action_ref(a.action.as_deref())?,
        default_branch: "main".into(),
        shards: a.shards,
    };
    if a.release {
        return run_release(&opts);
    }
    let outcome = init(&opts)?;
    for f in &outcome.written {
        println!("wrote {f}");
    }
    for n in &outcome.notes {
        eprintln!("note: {n}");
    }
    println!(
        "next: review mlgate.yml and the schemas, run `mlgate check`, then commit; the workflows gate every pull request"
    );
    Ok(Exit::Pass)
}

fn run_release(opts: &InitOptions) -> Result<Exit> {
    let outcome = init_release(opts)?;
    if let Some(starter) = outcome.starter {
        print!("{starter}");
        return Err(crate::error::Error::Usage(
            "mlgate.yml has no `release:` block, so nothing was written: add one (above, derived from the config's \
             models: set the targets, the channel URL and the files), then run `mlgate init --release` again"
                .into(),
        ));
    }
    for f in &outcome.written {
        println!("wrote {f}");
    }
    for n in &outcome.notes {
        eprintln!("note: {n}");
    }
    println!(
        "next: make the channel branch and the secrets (README, \"mlgate init --release\"), commit, then push a tag \
         NAME@vX.Y.Z or vX.Y.Z"
    );
    Ok(Exit::Pass)
}
