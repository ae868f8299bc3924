use std::io::Write;

use crate::channel::github::GithubRelease;
use crate::channel::{ChannelError, PublishOptions, Published, RollbackOptions};
use crate::cli::ChannelPublishArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;

pub fn run(a: ChannelPublishArgs) -> Result<Exit> {
    // The release's coordinates and token are checked first: bad input is told before any key is read.
    let github = match (&a.github, &a.tag) {
        (Some(repo), Some(tag)) => Some(github_release(repo, tag, a.token.token.as_deref())?),
        _ => None,
    };
    let keys = super::channel::load_keys(&a.key)?;
    let mut out = anstream::stdout();
    if let Some(version) = &a.rollback_to {
        let (name, meta) = crate::channel::rollback(RollbackOptions {
            dir: a.channel.clone(),
            model: a.model.clone().unwrap_or_default(),
            target: a.target.clone(),
            version: version.clone(),
            reason: a.reason.clone().unwrap_or_default(),
            keys,
        })?;
        let _ = writeln!(
            out,
            "rolled back {} for {} to {} ({name}), sequence {}",
            meta.model, meta.target, meta.version, meta.sequence
        );
        return Ok(Exit::Pass);
    }
    match crate::channel::publish(PublishOptions {
        dir: a.channel.clone(),
        bundles: a.bundles.clone(),
        keys,
        github,
    })? {
        Published::Added {
            targets,
            targets_version,
        } => {
            for (name, m) in &targets {
                let _ = writeln!(
                    out,
                    "published {name}: {} {} for {} (commit {}, sequence {})",
                    m.model, m.version, m.target, m.commit, m.sequence
                );
                if let Some(url) = &m.url {
                    let _ = writeln!(out, "  hosted at {url}");
                }
            }
            let _ = writeln!(out, "targets version {targets_version}");
            Ok(Exit::Pass)
        }
        Published::Refused(refusals) => {
            let mut err = anstream::stderr();
            for r in &refusals {
                let _ = writeln!(err, "{}: not approved:", r.bundle);
                for reason in &r.reasons {
                    let _ = writeln!(err, "  - {reason}");
                }
            }
            let _ = writeln!(err, "nothing was published");
            Ok(Exit::GateFailed)
        }
        Published::ReleaseConflict { release, problems } => {
            let mut err = anstream::stderr();
            let _ = writeln!(err, "GitHub release {release}: refused:");
            for p in &problems {
                let _ = writeln!(err, "  - {p}");
            }
            let _ = writeln!(err, "nothing was uploaded and the channel was not changed");
            Ok(Exit::GateFailed)
        }
    }
}

/// The release to host the bundles on: OWNER/REPO, tag and token checked (exit 2) before anything is read.
/// The API is `$GITHUB_API_URL`; uploads go to the host GitHub's `upload_url` names, which must be the API's or
/// `$MLGATE_GITHUB_UPLOAD_URL` (default: `uploads.github.com` for github.com, the API's host on Enterprise).
fn github_release(repo: &str, tag: &str, token: Option<&str>) -> Result<GithubRelease> {
    crate::github::release::check_repo(repo).map_err(ChannelError::from)?;
    crate::github::release::check_tag(tag).map_err(ChannelError::from)?;
    let token = token.and_then(crate::github::Token::new).ok_or_else(|| {
        Error::Usage(
            "publish --github needs a token with `contents: write`: pass --token or set GITHUB_TOKEN (in a workflow: `token: ${{ github.token }}` with `permissions: contents: write`)"
                .into(),
        )
    })?;
    let api_url = crate::github::ActionsContext::from_env().api_url;
    let upload_url = std::env::var("MLGATE_GITHUB_UPLOAD_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| crate::github::client::default_upload_url(&api_url));
    let client = crate::github::Client::with_upload_url(
        &api_url,
        &upload_url,
        &token,
        crate::github::RetryPolicy::default(),
    )
    .map_err(|e| ChannelError::from(crate::github::release::ReleaseError::from(e)))?;
    Ok(GithubRelease {
        client,
        repo: repo.to_string(),
        tag: tag.to_string(),
    })
}
