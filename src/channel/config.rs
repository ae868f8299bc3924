//! `mlgate-channel.json`: what mlgate keeps beside the TUF metadata. It is not TUF metadata and is not signed:
//! whoever can write the channel folder can already replace it, but cannot sign for a role without its key.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ChannelError;
use crate::sign::PublicKey;

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

/// `30d`, `12h`, `90m`, `45s` as seconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 7d, 12h, 30m or 45s"))?;
    let mult = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => {
            return Err(format!(
                "{text:?} is not a duration like 7d, 12h, 30m or 45s"
            ))
        }
    };
    if n <= 0 {
        return Err(format!("{text:?}: a duration must be positive"));
    }
    n.checked_mul(mult)
        .filter(|s| *s <= 100 * 365 * 86_400)
        .ok_or_else(|| format!("{text:?}: longer than 100 years"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert_eq!(parse_duration("12h"), Ok(43_200));
        assert_eq!(parse_duration("90m"), Ok(5_400));
        assert_eq!(parse_duration("45s"), Ok(45));
        assert!(parse_duration("7").unwrap_err().contains("not a duration"));
        assert!(parse_duration("0d").unwrap_err().contains("positive"));
        assert!(parse_duration("d").is_err());
        assert!(parse_duration("99999999d")
            .unwrap_err()
            .contains("100 years"));
    }
}
