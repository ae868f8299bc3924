//! `state.json`: what the device runs and what it learnt (known-bad digests), written atomically.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::DeviceError;

pub const STATE_FILE: &str = "state.json";

/// One installed release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    pub model: String,
    pub version: String,
    pub target: String,
    /// SHA-256 of the bundle archive, as TUF states it.
    pub sha256: String,
    /// The folder under `releases/`.
    pub dir: String,
    /// The channel's publish order of this entry.
    pub sequence: u64,
    pub installed_at: String,
}

/// A bundle digest that failed its health check (or was rolled back by hand): never installed again. A newer
/// version has another digest, so it is tried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bad {
    pub sha256: String,
    pub version: String,
    pub reason: String,
    pub at: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct State {
    pub version: u32,
    pub installed: Option<Release>,
    pub previous: Option<Release>,
    /// Failed pulls since the last success.
    pub attempts: u32,
    /// The installed release's health check has not passed yet (it runs again at the next pull).
    pub pending_health: bool,
    pub known_bad: Vec<Bad>,
    pub last_success: Option<String>,
    pub last_attempt: Option<String>,
    /// Release folders in install order (oldest first), for keeping the last N.
    pub releases: Vec<String>,
}

impl State {
    /// The state in `dir`, or an empty one when there is none yet.
    pub fn load(dir: &Path) -> Result<State, DeviceError> {
        let path = dir.join(STATE_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(State {
                    version: 1,
                    ..State::default()
                })
            }
            Err(e) => return Err(DeviceError::io(&path, e)),
        };
        let state: State = serde_json::from_slice(&bytes).map_err(|e| DeviceError::State {
            path: path.display().to_string(),
            message: format!("not a device state file: {e}"),
        })?;
        if state.version != 1 {
            return Err(DeviceError::State {
                path: path.display().to_string(),
                message: format!("state version {} is not supported (1 is)", state.version),
            });
        }
        Ok(state)
    }

    /// Writes the state through a temporary file and a rename, then syncs the folder.
    pub fn save(&self, dir: &Path) -> Result<(), DeviceError> {
        let path = dir.join(STATE_FILE);
        let mut bytes = serde_json::to_vec_pretty(self).map_err(|e| DeviceError::io(&path, e))?;
        bytes.push(b'\n');
        crate::fsutil::write_atomic(&path, &bytes).map_err(|e| DeviceError::io(&path, e))?;
        super::layout::sync_dir(dir);
        Ok(())
    }

    pub fn is_bad(&self, sha256: &str) -> Option<&Bad> {
        self.known_bad.iter().find(|b| b.sha256 == sha256)
    }

    pub fn mark_bad(&mut self, release: &Release, reason: &str) {
        if self.is_bad(&release.sha256).is_none() {
            self.known_bad.push(Bad {
                sha256: release.sha256.clone(),
                version: release.version.clone(),
                reason: reason.to_string(),
                at: super::now(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_state_is_empty_and_a_saved_one_reads_back() {
        let d = tempfile::tempdir().unwrap();
        let mut s = State::load(d.path()).unwrap();
        assert_eq!(s.installed, None);
        s.attempts = 2;
        s.last_success = Some("2026-12-06T00:00:00Z".into());
        s.save(d.path()).unwrap();
        assert_eq!(State::load(d.path()).unwrap(), s);
    }

    #[test]
    fn a_bad_state_file_is_a_clear_error() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(STATE_FILE), "{\"version\": 1, \"x\": 2}").unwrap();
        let e = State::load(d.path()).unwrap_err().to_string();
        assert!(
            e.contains("state.json: not a device state file: unknown field `x`"),
            "{e}"
        );
        std::fs::write(d.path().join(STATE_FILE), "{\"version\": 7}").unwrap();
        let e = State::load(d.path()).unwrap_err().to_string();
        assert!(e.contains("state version 7 is not supported"), "{e}");
    }
}
