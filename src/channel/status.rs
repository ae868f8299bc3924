//! `mlgate channel status`: what the channel holds and when each role's metadata expires.

use std::path::Path;

use serde::Serialize;

use super::keys::RoleName;
use super::meta::TargetMeta;
use super::repo::Channel;
use super::ChannelError;

#[derive(Debug, Serialize)]
pub struct ChannelStatus {
    pub name: String,
    pub dir: String,
    pub roles: Vec<RoleStatus>,
    /// Per model and device target: every version, the current one last.
    pub models: Vec<ModelStatus>,
    /// Roles that expire within the warning window (or already have).
    pub expiring: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct RoleStatus {
    pub role: &'static str,
    pub version: u64,
    pub expires: String,
    pub expired: bool,
}

#[derive(Debug, Serialize)]
pub struct ModelStatus {
    pub model: String,
    pub target: String,
    pub current: String,
    pub versions: Vec<VersionStatus>,
}

#[derive(Debug, Serialize)]
pub struct VersionStatus {
    pub version: String,
    pub file: String,
    pub sequence: u64,
    pub published_at: String,
    pub commit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback: Option<super::meta::Rollback>,
}

/// Reads the channel; `warn_within` seconds is the window in which an expiry counts as expiring.
pub fn status(dir: &Path, warn_within: i64) -> Result<ChannelStatus, ChannelError> {
    let channel = Channel::load(dir)?;
    let now = super::now();
    let limit = now
        .checked_add(jiff::SignedDuration::from_secs(warn_within))
        .map_err(|e| ChannelError::Usage(format!("--warn-within out of range: {e}")))?;
    let r = &channel.repo;
    let roles = [
        (
            RoleName::Root,
            r.root().signed.version,
            r.root().signed.expires,
        ),
        (
            RoleName::Targets,
            r.targets().signed.version,
            r.targets().signed.expires,
        ),
        (
            RoleName::Snapshot,
            r.snapshot().signed.version,
            r.snapshot().signed.expires,
        ),
        (
            RoleName::Timestamp,
            r.timestamp().signed.version,
            r.timestamp().signed.expires,
        ),
    ];
    let expiring = roles
        .iter()
        .filter(|(_, _, e)| *e <= limit)
        .map(|(role, _, e)| format!("{} expires at {e}", role.as_str()))
        .collect();
    let roles = roles
        .iter()
        .map(|(role, v, e)| RoleStatus {
            role: role.as_str(),
            version: v.get(),
            expires: e.to_string(),
            expired: *e <= now,
        })
        .collect();
    Ok(ChannelStatus {
        name: channel.config.name.clone(),
        dir: channel.dir.display().to_string(),
        roles,
        models: models(super::publish::entries(&channel)?),
        expiring,
    })
}

fn models(entries: Vec<(String, TargetMeta)>) -> Vec<ModelStatus> {
    let mut out: Vec<ModelStatus> = Vec::new();
    // `entries` is in sequence order, so each model's last version is its current one.
    for (file, m) in entries {
        let v = VersionStatus {
            version: m.version.clone(),
            file,
            sequence: m.sequence,
            published_at: m.published_at.clone(),
            commit: m.commit.clone(),
            rollback: m.rollback.clone(),
        };
        match out
            .iter_mut()
            .find(|s| s.model == m.model && s.target == m.target)
        {
            Some(s) => {
                s.current = m.version.clone();
                s.versions.push(v);
            }
            None => out.push(ModelStatus {
                model: m.model.clone(),
                target: m.target.clone(),
                current: m.version.clone(),
                versions: vec![v],
            }),
        }
    }
    out.sort_by(|a, b| (&a.model, &a.target).cmp(&(&b.model, &b.target)));
    out
}
