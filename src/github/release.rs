//! Files as the assets of one GitHub Release, crash-safe and idempotent (`mlgate publish --github`).
//!
//! The order: find the release of the tag (listing releases, paged: drafts are not found by tag), else create
//! it as a draft; list its assets (paged); compare every file with the asset of its name before writing
//! anything, so a conflict leaves the release untouched; upload what is missing (streamed, to the host of the
//! release's `upload_url`), confirming each asset's state and size; publish the draft; list the assets again
//! and return their download URLs. A re-run after a crash at any step finds what the last run left: assets
//! with the same digest are kept, assets stuck in state `starter` are deleted and uploaded again.
//!
//! A different digest under the same name is a conflict (exit 1), unless the release is a draft that this
//! very run created. A published immutable release is never written to: every file must already be there.

use std::collections::BTreeMap;
use std::path::PathBuf;

use miette::Diagnostic;
use serde::Deserialize;
use thiserror::Error;

use super::client::{ApiError, ApiResponse, Client};

/// One file to hold as an asset.
#[derive(Debug, Clone)]
pub struct ReleaseFile {
    /// The asset's name (only `A-Z a-z 0-9 . _ -`: GitHub renames other characters).
    pub name: String,
    pub path: PathBuf,
    /// Lowercase hex.
    pub sha256: String,
    pub size: u64,
}

/// What the release holds after a successful run.
#[derive(Debug, Clone)]
pub struct Synced {
    pub release_id: u64,
    pub html_url: String,
    /// Asset name → its `browser_download_url` (of the published release).
    pub urls: BTreeMap<String, String>,
    pub created: bool,
    pub uploaded: Vec<String>,
    pub kept: Vec<String>,
}

/// Why the release could not be brought to the files' state (exit 2). A conflict is not an error: see [`sync`].
#[derive(Debug, Error, Diagnostic)]
pub enum ReleaseError {
    #[error(transparent)]
    #[diagnostic(
        code(mlgate::github::api),
        help("check the token's `contents: write` permission and the repository name; a re-run picks up where this one stopped")
    )]
    Api(#[from] ApiError),

    #[error("{repo}: {what}: unexpected answer from GitHub: {message}")]
    #[diagnostic(code(mlgate::github::answer))]
    Answer {
        repo: String,
        what: String,
        message: String,
    },

    #[error("{0}")]
    #[diagnostic(code(mlgate::github::usage))]
    Usage(String),
}

/// The largest asset GitHub takes.
pub const MAX_ASSET_BYTES: u64 = 2 * 1024 * 1024 * 1024 - 1;

/// Pages read at most when listing (100 a page).
const MAX_PAGES: usize = 100;

#[derive(Debug, Clone, Deserialize)]
struct Release {
    id: u64,
    tag_name: String,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    immutable: bool,
    upload_url: String,
    #[serde(default)]
    html_url: String,
}

#[derive(Debug, Clone, Deserialize)]
struct Asset {
    id: u64,
    name: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    size: u64,
    /// `sha256:HEX`; absent or null on assets uploaded before GitHub computed digests.
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    browser_download_url: String,
}

/// What to do with one file.
#[derive(Debug, PartialEq)]
enum Step {
    Keep,
    Upload,
    /// Delete this asset (stuck in `starter`, or replaced in this run's own draft), then upload.
    Replace(u64),
    Conflict(String),
}

/// `OWNER/REPO` as GitHub allows them; the error says what was expected.
pub fn check_repo(repo: &str) -> Result<(), ReleaseError> {
    let bad = |why: &str| {
        Err(ReleaseError::Usage(format!(
            "--github {repo:?}: {why} (expected OWNER/REPO, e.g. octo-org/models)"
        )))
    };
    let Some((owner, name)) = repo.split_once('/') else {
        return bad("no `/`");
    };
    let owner_ok = !owner.is_empty()
        && owner.len() <= 39
        && !owner.starts_with('-')
        && owner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !owner_ok {
        return bad("the owner is 1 to 39 letters, digits or `-`");
    }
    let name_ok = !name.is_empty()
        && name.len() <= 100
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !name_ok {
        return bad("the repository name is 1 to 100 letters, digits, `-`, `_` or `.`");
    }
    Ok(())
}

/// A tag that is a single path segment of a download URL (`releases/download/TAG/NAME`): letters, digits,
/// `.`, `_`, `-`, `+`, `@` (GTO's `MODEL@vX.Y.Z`; a path character in URLs, RFC 3986), not starting with `.`,
/// `-` or `@`, no `..`, at most 100 characters.
pub fn check_tag(tag: &str) -> Result<(), ReleaseError> {
    let ok = !tag.is_empty()
        && tag.len() <= 100
        && !tag.starts_with(['.', '-', '@'])
        && !tag.contains("..")
        && !tag.ends_with(".lock")
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(ReleaseError::Usage(format!(
            "--tag {tag:?}: a release tag here is 1 to 100 letters, digits, `.`, `_`, `-`, `+` or `@`, not \
             starting with `.`, `-` or `@` and without `..` (it is one segment of the download URL), e.g. v1.2.0 \
             or wine@v1.2.0"
        )))
    }
}

/// An asset name GitHub keeps as given (it replaces other characters, which would break the recorded URL).
pub fn check_asset_name(name: &str) -> Result<(), ReleaseError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ReleaseError::Usage(format!(
            "{name:?}: a release asset name must be letters, digits, `.`, `_` or `-` (GitHub renames other \
             characters, and the channel's URL would then point nowhere): rename the file"
        )))
    }
}

/// Brings the release of `tag` to hold `files` and publishes it. Ok(Err(problems)): an asset differs from its
/// file, or an immutable release lacks one (exit 1); nothing was written then.
pub fn sync(
    client: &Client,
    repo: &str,
    tag: &str,
    files: &[ReleaseFile],
) -> Result<Result<Synced, Vec<String>>, ReleaseError> {
    check_repo(repo)?;
    check_tag(tag)?;
    for f in files {
        check_asset_name(&f.name)?;
        if f.size > MAX_ASSET_BYTES {
            return Err(ReleaseError::Usage(format!(
                "{}: {} bytes; a GitHub release asset must be under 2 GiB",
                f.path.display(),
                f.size
            )));
        }
    }
    let (release, created) = match find_release(client, repo, tag)? {
        Some(r) => (r, false),
        None => (create_draft(client, repo, tag)?, true),
    };
    let mut assets = list_assets(client, repo, release.id)?;
    let steps = plan(client, repo, &release, created, &assets, files)?;
    let problems: Vec<String> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Conflict(m) => Some(m.clone()),
            _ => None,
        })
        .collect();
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    let mut uploaded = Vec::new();
    let mut kept = Vec::new();
    for (f, step) in files.iter().zip(steps) {
        match step {
            Step::Keep => kept.push(f.name.clone()),
            step => {
                if let Err(m) = write(client, repo, &release, created, &mut assets, f, step)? {
                    return Ok(Err(vec![m]));
                }
                uploaded.push(f.name.clone());
            }
        }
    }
    if release.draft {
        publish_draft(client, repo, release.id)?;
    }
    let urls = confirm(client, repo, release.id, files)?;
    Ok(Ok(Synced {
        release_id: release.id,
        html_url: release.html_url.clone(),
        urls,
        created,
        uploaded,
        kept,
    }))
}

fn answer(repo: &str, what: &str, message: impl std::fmt::Display) -> ReleaseError {
    ReleaseError::Answer {
        repo: repo.to_string(),
        what: what.to_string(),
        message: message.to_string(),
    }
}

fn parse<T: serde::de::DeserializeOwned>(
    repo: &str,
    what: &str,
    res: &ApiResponse,
) -> Result<T, ReleaseError> {
    serde_json::from_str(&res.body).map_err(|e| answer(repo, what, e))
}

/// Every page of a list (`Link: rel="next"`), bounded.
fn list_all<T: serde::de::DeserializeOwned>(
    client: &Client,
    repo: &str,
    first: String,
    what: &str,
) -> Result<Vec<T>, ReleaseError> {
    let mut out = Vec::new();
    let mut next = Some(first);
    let mut pages = 0;
    while let Some(path) = next {
        pages += 1;
        if pages > MAX_PAGES {
            return Err(answer(repo, what, format!("more than {MAX_PAGES} pages")));
        }
        let res = client.get(&path)?;
        let page: Vec<T> = parse(repo, what, &res)?;
        out.extend(page);
        next = res.next_page();
    }
    Ok(out)
}

/// The release of `tag`, draft or not. Several (drafts can share a tag): the published one, else the oldest
/// draft, so re-runs keep choosing the same one.
fn find_release(client: &Client, repo: &str, tag: &str) -> Result<Option<Release>, ReleaseError> {
    let all: Vec<Release> = list_all(
        client,
        repo,
        format!("/repos/{repo}/releases?per_page=100"),
        "list releases",
    )?;
    let mut of_tag: Vec<Release> = all.into_iter().filter(|r| r.tag_name == tag).collect();
    of_tag.sort_by_key(|r| (r.draft, r.id));
    Ok(of_tag.into_iter().next())
}

fn create_draft(client: &Client, repo: &str, tag: &str) -> Result<Release, ReleaseError> {
    let body = serde_json::json!({
        "tag_name": tag,
        "name": tag,
        "body": "Bundles published by `mlgate publish`: each is a target of the release channel's signed TUF metadata.",
        "draft": true,
    });
    let res = client.post(&format!("/repos/{repo}/releases"), &body)?;
    parse(repo, "create release", &res)
}

fn list_assets(
    client: &Client,
    repo: &str,
    release: u64,
) -> Result<BTreeMap<String, Asset>, ReleaseError> {
    let all: Vec<Asset> = list_all(
        client,
        repo,
        format!("/repos/{repo}/releases/{release}/assets?per_page=100"),
        "list release assets",
    )?;
    Ok(all.into_iter().map(|a| (a.name.clone(), a)).collect())
}

/// Decides every file's step from the assets listed, writing nothing.
fn plan(
    client: &Client,
    repo: &str,
    release: &Release,
    created: bool,
    assets: &BTreeMap<String, Asset>,
    files: &[ReleaseFile],
) -> Result<Vec<Step>, ReleaseError> {
    let mut steps = Vec::new();
    for f in files {
        let step = step_for(client, repo, release, created, assets.get(&f.name), f)?;
        steps.push(step);
    }
    Ok(steps)
}

fn step_for(
    client: &Client,
    repo: &str,
    release: &Release,
    created: bool,
    asset: Option<&Asset>,
    f: &ReleaseFile,
) -> Result<Step, ReleaseError> {
    let immutable = release.immutable && !release.draft;
    let tag = &release.tag_name;
    let Some(a) = asset else {
        return Ok(if immutable {
            Step::Conflict(format!(
                "release {tag} is immutable and has no asset {}: an immutable release is never modified \
                 (publish under a new tag)",
                f.name
            ))
        } else {
            Step::Upload
        });
    };
    if a.state != "uploaded" {
        // `starter`: an upload that never finished (a 502, a crash); GitHub wants it deleted before a retry.
        return Ok(if immutable {
            Step::Conflict(format!(
                "release {tag} is immutable and its asset {} is in state {}: it cannot be repaired",
                f.name, a.state
            ))
        } else {
            Step::Replace(a.id)
        });
    }
    let (sha, size) = asset_digest(client, repo, a)?;
    if sha == f.sha256 && size == f.size {
        return Ok(Step::Keep);
    }
    if created && release.draft && !immutable {
        return Ok(Step::Replace(a.id));
    }
    let what = if immutable {
        "an immutable release is never modified"
    } else {
        "an asset is never replaced by a different file: delete it on GitHub if that is what you mean, or publish under a new tag"
    };
    Ok(Step::Conflict(format!(
        "release {tag}: asset {} has sha256:{sha} ({size} bytes), but {} has sha256:{} ({} bytes): {what}",
        f.name,
        f.path.display(),
        f.sha256,
        f.size
    )))
}

/// The asset's digest as GitHub reports it, else computed from its bytes (downloaded streaming).
fn asset_digest(client: &Client, repo: &str, a: &Asset) -> Result<(String, u64), ReleaseError> {
    if let Some(hex) = a.digest.as_deref().and_then(|d| d.strip_prefix("sha256:")) {
        return Ok((hex.to_ascii_lowercase(), a.size));
    }
    Ok(client.download_sha256(&format!("/repos/{repo}/releases/assets/{}", a.id))?)
}

/// Carries out an Upload or Replace step. Ok(Err): a conflict found on the way (after a 422).
fn write(
    client: &Client,
    repo: &str,
    release: &Release,
    created: bool,
    assets: &mut BTreeMap<String, Asset>,
    f: &ReleaseFile,
    mut step: Step,
) -> Result<Result<(), String>, ReleaseError> {
    // Bounded: a 422 `already_exists` re-lists and decides again, at most twice.
    for _ in 0..3 {
        match step {
            Step::Keep => return Ok(Ok(())),
            Step::Conflict(m) => return Ok(Err(m)),
            Step::Replace(id) => {
                client.delete(&format!("/repos/{repo}/releases/assets/{id}"))?;
                assets.remove(&f.name);
                step = Step::Upload;
            }
            Step::Upload => match upload(client, repo, release, f) {
                Ok(asset) => {
                    assets.insert(asset.name.clone(), asset);
                    return Ok(Ok(()));
                }
                Err(ReleaseError::Api(e)) if e.status() == Some(422) => {
                    // `already_exists`: another run, or an upload whose answer was lost. Look again; a 422 with
                    // no asset of the name behind it is another validation error, reported as it came.
                    *assets = list_assets(client, repo, release.id)?;
                    let Some(asset) = assets.get(&f.name) else {
                        return Err(ReleaseError::Api(e));
                    };
                    step = step_for(client, repo, release, created, Some(asset), f)?;
                }
                Err(e) => return Err(e),
            },
        }
    }
    Err(answer(
        repo,
        &format!("upload {}", f.name),
        "the asset kept changing between uploads",
    ))
}

/// One streamed upload, confirmed: the answer names the asset as uploaded, with the file's name and size.
fn upload(
    client: &Client,
    repo: &str,
    release: &Release,
    f: &ReleaseFile,
) -> Result<Asset, ReleaseError> {
    let url = client.upload_target(&release.upload_url, &f.name)?;
    let res = client.upload_file(&url, &f.path, content_type(&f.name))?;
    let what = format!("upload {}", f.name);
    let asset: Asset = parse(repo, &what, &res)?;
    // GitHub's digest of what it received, when it gives one, must be the file's.
    let digest_ok = asset
        .digest
        .as_deref()
        .is_none_or(|d| d.eq_ignore_ascii_case(&format!("sha256:{}", f.sha256)));
    if asset.state != "uploaded" || asset.size != f.size || asset.name != f.name || !digest_ok {
        return Err(answer(
            repo,
            &what,
            format!(
                "the asset is {:?} in state {:?} with {} bytes ({}), expected {:?} uploaded with {} bytes (sha256:{})",
                asset.name,
                asset.state,
                asset.size,
                asset.digest.as_deref().unwrap_or("no digest"),
                f.name,
                f.size,
                f.sha256
            ),
        ));
    }
    Ok(asset)
}

fn content_type(name: &str) -> &'static str {
    if name.ends_with(".json") || name.ends_with(".jsonl") {
        "application/json"
    } else if name.ends_with(".minisig") || name == "SHA256SUMS" {
        "text/plain"
    } else {
        "application/octet-stream"
    }
}

fn publish_draft(client: &Client, repo: &str, id: u64) -> Result<(), ReleaseError> {
    let res = client.patch(
        &format!("/repos/{repo}/releases/{id}"),
        &serde_json::json!({ "draft": false }),
    )?;
    let r: Release = parse(repo, "publish release", &res)?;
    if r.draft {
        return Err(answer(
            repo,
            "publish release",
            "the release is still a draft",
        ));
    }
    Ok(())
}

/// Lists the published release's assets again: each file is there, uploaded, of its size. Returns the
/// download URLs (a draft's differ: they are final only once the release is published).
fn confirm(
    client: &Client,
    repo: &str,
    release: u64,
    files: &[ReleaseFile],
) -> Result<BTreeMap<String, String>, ReleaseError> {
    let assets = list_assets(client, repo, release)?;
    let mut urls = BTreeMap::new();
    for f in files {
        match assets.get(&f.name) {
            Some(a) if a.state == "uploaded" && a.size == f.size => {
                urls.insert(f.name.clone(), a.browser_download_url.clone());
            }
            Some(a) => {
                return Err(answer(
                    repo,
                    "confirm assets",
                    format!(
                        "{} is in state {:?} with {} bytes, expected uploaded with {}",
                        f.name, a.state, a.size, f.size
                    ),
                ))
            }
            None => {
                return Err(answer(
                    repo,
                    "confirm assets",
                    format!("{} is missing after publishing", f.name),
                ))
            }
        }
    }
    Ok(urls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repos_tags_and_names_are_checked() {
        assert!(check_repo("octo-org/models.v2").is_ok());
        for bad in ["octo", "/x", "a/", "a b/c", "-a/b", "a/..", "a/b/c"] {
            let e = check_repo(bad).unwrap_err().to_string();
            assert!(e.contains("expected OWNER/REPO"), "{bad}: {e}");
        }
        assert!(check_tag("v1.2.0").is_ok());
        assert!(check_tag("wine-1.0.0+build.7").is_ok());
        assert!(check_tag("wine@v1.2.0").is_ok());
        assert!(check_tag("@v1").is_err());
        for bad in ["", "a/b", "..x", "-x", ".x", "a b", "v1..2", "x.lock"] {
            assert!(check_tag(bad).is_err(), "{bad}");
        }
        assert!(check_asset_name("0ab.wine-1.0.0-linux-aarch64.tar.gz").is_ok());
        for bad in ["a b", "a+b", ".hidden", "", "é"] {
            assert!(check_asset_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn content_types_follow_the_name() {
        assert_eq!(content_type("SHA256SUMS"), "text/plain");
        assert_eq!(content_type("x.tar.gz.minisig"), "text/plain");
        assert_eq!(content_type("x.intoto.jsonl"), "application/json");
        assert_eq!(content_type("x.tar.gz"), "application/octet-stream");
    }
}
