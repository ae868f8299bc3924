//! The sticky pull-request comment: one per config and job, found by its hidden marker AND by its author being
//! the token's own user, so a comment someone else wrote (or quoted) with the same marker is never edited.
//!
//! Who "self" is: `GET /user` names the user of a personal token. The Actions `GITHUB_TOKEN` is an app
//! installation token, for which `GET /user` answers 403 ("Resource not accessible by integration"); its
//! comments are written by `github-actions[bot]`, which is then taken as self.

use serde_json::{json, Value};

use super::client::{ApiError, Client};

/// The author of comments made with the Actions `GITHUB_TOKEN`.
pub const ACTIONS_BOT: &str = "github-actions[bot]";

/// Comments per page: GitHub's maximum.
const PER_PAGE: u32 = 100;

/// Pages read at most (10,000 comments) so that a runaway `Link` chain cannot loop forever.
const MAX_PAGES: u32 = 100;

/// The hidden marker that identifies mlgate's comment for `config` and `job`. `--` and `>` are replaced so that
/// the marker cannot end the HTML comment early.
pub fn marker(config: &str, job: &str) -> String {
    let clean = |s: &str| s.replace("--", "-").replace('>', "_");
    format!("<!-- mlgate:{}:{} -->", clean(config), clean(job))
}

/// The login of the token's user, or [`ACTIONS_BOT`] when the token is an installation token.
pub fn own_login(gh: &Client) -> Result<String, ApiError> {
    match gh.get("/user") {
        Ok(r) => Ok(r.json()["login"]
            .as_str()
            .unwrap_or(ACTIONS_BOT)
            .to_string()),
        Err(e) if matches!(e.status(), Some(401 | 403 | 404)) => Ok(ACTIONS_BOT.to_string()),
        Err(e) => Err(e),
    }
}

/// The id of the first comment on the issue or pull request that carries `marker` and is by `login`.
pub fn find(
    gh: &Client,
    repo: &str,
    number: u64,
    marker: &str,
    login: &str,
) -> Result<Option<u64>, ApiError> {
    let mut path = format!("/repos/{repo}/issues/{number}/comments?per_page={PER_PAGE}");
    for _ in 0..MAX_PAGES {
        let page = gh.get(&path)?;
        let comments = page.json();
        for c in comments.as_array().into_iter().flatten() {
            let mine = c["user"]["login"].as_str() == Some(login);
            let marked = c["body"].as_str().is_some_and(|b| b.contains(marker));
            if mine && marked {
                return Ok(c["id"].as_u64());
            }
        }
        match page.next_page() {
            Some(next) => path = next,
            None => break,
        }
    }
    Ok(None)
}

/// What happened to the comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    Created { id: u64, url: String },
    Updated { id: u64, url: String },
}

fn id_url(v: &Value) -> (u64, String) {
    (
        v["id"].as_u64().unwrap_or(0),
        v["html_url"].as_str().unwrap_or("").to_string(),
    )
}

/// Creates the comment, or updates mlgate's own earlier one in place.
pub fn upsert(
    gh: &Client,
    repo: &str,
    number: u64,
    marker: &str,
    body: &str,
) -> Result<Posted, ApiError> {
    let login = own_login(gh)?;
    let payload = json!({ "body": body });
    match find(gh, repo, number, marker, &login)? {
        Some(id) => {
            let r = gh.patch(&format!("/repos/{repo}/issues/comments/{id}"), &payload)?;
            let (id, url) = id_url(&r.json());
            Ok(Posted::Updated { id, url })
        }
        None => {
            let r = gh.post(&format!("/repos/{repo}/issues/{number}/comments"), &payload)?;
            let (id, url) = id_url(&r.json());
            Ok(Posted::Created { id, url })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_cannot_close_the_html_comment() {
        assert_eq!(
            marker("mlgate.yml", "gate"),
            "<!-- mlgate:mlgate.yml:gate -->"
        );
        assert_eq!(marker("a-->b", "j>"), "<!-- mlgate:a-_b:j_ -->");
    }
}
