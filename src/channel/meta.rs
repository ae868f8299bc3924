//! The custom metadata mlgate puts on each TUF target (`targets.json` → `targets.NAME.custom.mlgate`).
//!
//! This module depends on serde alone: the device side (`mlgate pull`) reads the same types without the channel's
//! writing side. The device picks, per model and device target, the entry with the highest `sequence`: that is the
//! channel's current release. `sequence` only grows, so an explicit rollback (an older version republished with a
//! new sequence and a [`Rollback`] record) is told apart from an attacker replaying old metadata, which TUF's
//! version checks refuse anyway.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

/// The key under `custom` that holds [`TargetMeta`].
pub const CUSTOM_KEY: &str = "mlgate";

/// What a target is, as the channel approved it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetMeta {
    /// The model's name (the bundle manifest's `name`).
    pub model: String,
    /// The bundle's version (the manifest's `version`).
    pub version: String,
    /// The device target (`linux-aarch64`, ...).
    pub target: String,
    /// SHA-256 of the bundle's `manifest.json`.
    pub manifest_sha256: String,
    /// The embedded gate report's verdict (`pass`: the channel refuses anything else).
    pub verdict: String,
    /// The commit the bundle was attested at.
    pub commit: String,
    /// The channel-wide publish order: the highest sequence of a model and target is its current release.
    pub sequence: u64,
    /// When it was published (RFC 3339, UTC).
    pub published_at: String,
    /// Where the bundle can be downloaded instead of the channel's `targets/` folder (a GitHub Release asset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Set when this entry became current again through `publish --rollback-to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<Rollback>,
}

/// An explicit rollback: which version it replaced, why and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rollback {
    pub from: String,
    pub reason: String,
    pub at: String,
}

impl TargetMeta {
    /// Reads the entry from a target's `custom` object; None when the target is not mlgate's.
    pub fn from_custom<'a>(
        custom: impl IntoIterator<Item = (&'a String, &'a serde_json::Value)>,
    ) -> Option<Result<TargetMeta, String>> {
        let value = custom.into_iter().find(|(k, _)| *k == CUSTOM_KEY)?.1;
        Some(serde_json::from_value(value.clone()).map_err(|e| e.to_string()))
    }
}

/// Compares bundle versions as semantic versions (`1.2` reads as `1.2.0`); None when either is not one.
pub fn compare_versions(a: &str, b: &str) -> Option<Ordering> {
    Some(parse_version(a)?.cmp(&parse_version(b)?))
}

/// `MAJOR[.MINOR[.PATCH]][-PRE][+BUILD]`, with an optional leading `v`. Numbers compare as numbers; a
/// pre-release sorts before its release; build metadata is ignored, as semver says.
fn parse_version(v: &str) -> Option<VersionKey> {
    let v = v.strip_prefix('v').unwrap_or(v);
    let v = v.split_once('+').map_or(v, |(core, _)| core);
    let (core, pre) = match v.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (v, None),
    };
    let mut numbers: Vec<u64> = core
        .split('.')
        .map(|p| {
            if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
                p.parse().ok()
            } else {
                None
            }
        })
        .collect::<Option<_>>()?;
    if numbers.is_empty() || numbers.len() > 3 {
        return None;
    }
    numbers.resize(3, 0);
    let pre: Vec<PreIdent> = match pre {
        None => Vec::new(),
        Some("") => return None,
        Some(p) => p
            .split('.')
            .map(|id| match id.parse::<u64>() {
                Ok(n) if id.bytes().all(|b| b.is_ascii_digit()) => PreIdent::Num(n),
                _ => PreIdent::Text(id.to_string()),
            })
            .collect(),
    };
    Some(VersionKey {
        release: pre.is_empty(),
        numbers,
        pre,
    })
}

/// Field order is comparison order: numbers, then a release above its pre-releases, then the pre-release.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct VersionKey {
    numbers: Vec<u64>,
    release: bool,
    pre: Vec<PreIdent>,
}

/// Numeric identifiers sort below alphanumeric ones (semver 11.4.3): the variants' order.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum PreIdent {
    Num(u64),
    Text(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_semver() {
        use Ordering::*;
        assert_eq!(compare_versions("1.2.0", "1.10.0"), Some(Less));
        assert_eq!(compare_versions("1.2", "1.2.0"), Some(Equal));
        assert_eq!(compare_versions("v2.0.0", "1.9.9"), Some(Greater));
        assert_eq!(compare_versions("1.0.0-rc.1", "1.0.0"), Some(Less));
        assert_eq!(compare_versions("1.0.0-rc.2", "1.0.0-rc.10"), Some(Less));
        assert_eq!(compare_versions("1.0.0-alpha", "1.0.0-1"), Some(Greater));
        assert_eq!(compare_versions("1.0.0+b1", "1.0.0+b2"), Some(Equal));
        assert_eq!(compare_versions("latest", "1.0.0"), None);
        assert_eq!(compare_versions("1.2.3.4", "1.0.0"), None);
        assert_eq!(compare_versions("1.0.0-", "1.0.0"), None);
    }

    #[test]
    fn custom_metadata_round_trips() {
        let m = TargetMeta {
            model: "wine".into(),
            version: "1.2.0".into(),
            target: "linux-aarch64".into(),
            manifest_sha256: "ab".repeat(32),
            verdict: "pass".into(),
            commit: "c0ffee".into(),
            sequence: 3,
            published_at: "2026-12-06T00:00:00Z".into(),
            url: None,
            rollback: None,
        };
        let custom = std::collections::HashMap::from([(
            CUSTOM_KEY.to_string(),
            serde_json::to_value(&m).unwrap(),
        )]);
        assert_eq!(TargetMeta::from_custom(&custom), Some(Ok(m)));
        let other = std::collections::HashMap::from([("x".to_string(), serde_json::json!(1))]);
        assert_eq!(TargetMeta::from_custom(&other), None);
    }
}
