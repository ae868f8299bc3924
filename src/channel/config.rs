//! `mlgate-channel.json`: what mlgate keeps beside the TUF metadata. It is not TUF metadata and is not signed:
//! whoever can write the channel folder can already replace it, but cannot sign for a role without its key.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ChannelError;
use crate::sign::PublicKey;
/// Kept here too: the channel's writing side and its callers name it by this path.
pub use crate::text::parse_duration;

pub const CONFIG_FILE: &str = "mlgate-channel.json";
pub const CONFIG_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    pub version: u32,
    /// The channel's name (`stable`, `beta`, ...), for people.
    pub name: String,
    /// Minisign public keys (the text of a `.pub` file): a bundle's signatures must verify with one of them.
    pub bundle_pubkeys: Vec<String>,
    /// Device targets the channel serves; empty: every target mlgate knows.
    #[serde(default)]
    pub targets: Vec<String>,
    /// How long each role's metadata stays valid once signed.
    pub lifetimes: Lifetimes,
}

/// Lifetimes as `Nd`, `Nh`, `Nm` or `Ns`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lifetimes {
    pub root: String,
    pub targets: String,
    pub snapshot: String,
    pub timestamp: String,
}

impl Default for Lifetimes {
    /// Root a year (it changes with key rotations, offline), targets a quarter (every publish re-signs it),
    /// snapshot a month, timestamp a week (a scheduled `channel refresh` re-signs it daily).
    fn default() -> Self {
        Lifetimes {
            root: "365d".into(),
            targets: "90d".into(),
            snapshot: "30d".into(),
            timestamp: "7d".into(),
        }
    }
}

impl Lifetimes {
    pub fn get(&self, role: super::keys::RoleName) -> &str {
        use super::keys::RoleName::*;
        match role {
            Root => &self.root,
            Targets => &self.targets,
            Snapshot => &self.snapshot,
            Timestamp => &self.timestamp,
        }
    }

    /// Every lifetime must parse: checked when the channel is made and when it is read.
    pub fn validate(&self) -> Result<(), String> {
        for role in super::keys::RoleName::ALL {
            parse_duration(self.get(role))
                .map_err(|e| format!("lifetime of {}: {e}", role.as_str()))?;
        }
        Ok(())
    }

    pub fn expiry(
        &self,
        role: super::keys::RoleName,
        now: jiff::Timestamp,
    ) -> Result<jiff::Timestamp, ChannelError> {
        let secs = parse_duration(self.get(role)).map_err(ChannelError::Usage)?;
        let t = now
            .checked_add(jiff::SignedDuration::from_secs(secs))
            .map_err(|e| ChannelError::Usage(format!("expiry out of range: {e}")))?;
        Ok(super::whole_seconds(t))
    }
}

impl ChannelConfig {
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(CONFIG_FILE)
    }

    pub fn load(dir: &Path) -> Result<ChannelConfig, ChannelError> {
        let path = Self::path(dir);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                ChannelError::NotAChannel {
                    path: dir.display().to_string(),
                    message: format!("no {CONFIG_FILE}"),
                }
            } else {
                ChannelError::io(&path, e)
            }
        })?;
        let cfg: ChannelConfig =
            serde_json::from_str(&text).map_err(|e| ChannelError::Malformed {
                path: path.display().to_string(),
                message: format!("line {}, column {}: {e}", e.line(), e.column()),
            })?;
        if cfg.version != CONFIG_VERSION {
            return Err(ChannelError::Malformed {
                path: path.display().to_string(),
                message: format!(
                    "version {} (this mlgate reads version {CONFIG_VERSION})",
                    cfg.version
                ),
            });
        }
        cfg.lifetimes
            .validate()
            .map_err(|message| ChannelError::Malformed {
                path: path.display().to_string(),
                message,
            })?;
        Ok(cfg)
    }

    /// The pinned bundle keys, parsed.
    pub fn bundle_keys(&self, dir: &Path) -> Result<Vec<PublicKey>, ChannelError> {
        let origin = Self::path(dir).display().to_string();
        let keys = self
            .bundle_pubkeys
            .iter()
            .map(|t| PublicKey::from_text(t, &origin))
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(ChannelError::Malformed {
                path: origin,
                message: "no bundle_pubkeys: the channel cannot verify any bundle".into(),
            });
        }
        Ok(keys)
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }
}
